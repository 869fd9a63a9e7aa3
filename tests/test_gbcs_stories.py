"""Every GBCS payload ``hansim duis run`` writes in a story, read by SmartDCC's gbcs-parser
with the DCC Boxed / RTDS test keys plus the run's own ``keystore/`` folder: 100% must
parse, every MAC and signature must be "valid", and each message must have the shape of
the RTDS vector of its use case."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from duis_support import schema_path, templates

from gbcs import use_cases as uc
from sim.cli import main
from tests.gbcs_support import (
    all_valid,
    checks,
    parse_all,
    payloads_in,
    rtds,
    rtds_keystore,
    shape,
    message_code,
)

#: (message code, kind) -> the RTDS vector hansim's message must look like.
VECTORS = {}
for use_case in uc.USE_CASES:
    VECTORS.setdefault((use_case.code, use_case.kind), use_case.rtds)


def kind_of(message: dict) -> str:
    cra = message["Grouping Header"]["children"]["CRA Flag"]["notes"].lower()
    if cra == "command" and "MAC Header" not in message:
        return "signed pre-command" if "Signature" in message else "pre-command"
    return cra


def run_story(out: Path, *requests: Path, site: Path | None = None) -> dict[str, bytes]:
    argv = ["duis", "run", *map(str, requests), "--out", str(out), "--schema", str(schema_path())]
    if site is not None:
        argv += ["--site", str(site)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    return payloads_in(out)


def check_story(out: Path, payloads: dict[str, bytes]) -> set[tuple[int, str]]:
    """The parser's verdict on every payload; returns the (code, kind) pairs seen."""
    assert payloads and all(payloads.values()), "a GBCSPayload is empty"
    parsed = parse_all(payloads, [out / "keystore", rtds_keystore()])
    seen = set()
    references = {}
    for name, result in parsed.items():
        assert result["ok"], (name, result.get("error"))
        message = result["message"]
        assert all_valid(message), (name, checks(message))
        kind = kind_of(message)
        assert checks(message) or kind == "pre-command", name  # something was verified
        code = message_code(message)
        vector = VECTORS[(code, "pre-command" if kind == "signed pre-command" else kind)]
        references.setdefault(vector, rtds(vector))
        seen.add((code, kind))
    reference = parse_all(references)
    for name, result in parsed.items():
        message = result["message"]
        kind = kind_of(message)
        vector = VECTORS[(message_code(message), "pre-command" if kind == "signed pre-command" else kind)]
        sections = ("Grouping Header", "Payload") if kind == "signed pre-command" else None
        assert shape(message, sections) == shape(reference[vector]["message"], sections), (name, vector)
    return seen


def template(prefix: str) -> Path:
    return next(p for p in templates().iterdir() if p.name.startswith(prefix))


def test_commissioning_story(tmp_path: Path) -> None:
    out = tmp_path / "out"
    payloads = run_story(out, template("12.2_"), template("8.14.1_"), template("CCS01_"),
                         template("ECS70"))
    seen = check_story(out, payloads)
    c = uc.MessageCode
    assert {(c.CCS01, "response"), (c.CS14, "alert"), (c.GNCA, "alert"), (c.ECS70, "pre-command"),
            (c.ECS70, "signed pre-command"), (c.ECS70, "response")} <= seen


def test_the_dcc_template_pre_command_is_the_rtds_vector(tmp_path: Path) -> None:
    """8.1.1 on the DCC's ECS70 template returns the RTDS ECS70 pre-command, bit for bit."""
    payloads = run_story(tmp_path / "out", template("12.2_"), template("8.14.1_"),
                         template("CCS01_"), template("ECS70"))
    pre = [v for k, v in payloads.items() if "8.1.1_response" in k][0]
    assert pre == rtds("8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX")
