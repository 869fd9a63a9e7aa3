"""Shared test helpers for the DUIS/DCC tests: the real XSD and the DCC's templates.

Both come from shared/duis beside the project (never copied into it); tests that need
them skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.dcc.frontdoor import Dcc
from sim.dcc.outcome import Outcome
from sim.dcc.site_file import default_premises
from sim.duis import schema as duis_schema
from sim.duis.precommand import signed_request, supplier_test_key

WORKTREE_SHARED = Path("/work/shared/duis")


def schema_path() -> Path:
    """The XSD: where hansim looks (``../shared/duis``, $HANSIM_DUIS_XSD), else the shared
    folder of a worktree checkout (``/work/shared``); skip when there is none."""
    for explicit in (None, WORKTREE_SHARED):
        try:
            return duis_schema.locate(explicit)
        except duis_schema.SchemaNotFound as err:
            reason = str(err)
    pytest.skip(reason, allow_module_level=True)


def xsd():
    """The DUIS V5.4 schema (loaded once per process), or skip."""
    return duis_schema.load(schema_path())


def templates() -> Path:
    return schema_path().parent / "templates"


def template(prefix: str) -> bytes:
    """The DCC test template whose file name starts with ``prefix``."""
    (found,) = [p for p in templates().iterdir() if p.name.startswith(prefix)]
    return found.read_bytes()


def assert_valid(outcome: Outcome) -> None:
    """Every document the DCC produced validates against the XSD."""
    for name, document in outcome.documents:
        problems = duis_schema.check_bytes(xsd(), document.to_xml())
        assert not problems, (name, problems)


def submit_signed(dcc: Dcc, outcome: Outcome) -> Outcome:
    """The supplier's step after a variant-4 request: sign and resubmit as variant 5."""
    key = supplier_test_key(outcome.request.request_id.originator)
    signed = signed_request(outcome.request, outcome.pre_command, key)
    return dcc.submit(signed.to_xml())


def commissioning_story(dcc: Dcc, install: str = "8.14.1") -> list[Outcome]:
    """12.2, 8.14.x, 8.11 Add, 8.1.1 v4 then v5, from the DCC's own templates."""
    outcomes = []
    for prefix in ("12.2_", install + "_", "CCS01_", "ECS70"):
        outcome = dcc.submit(template(prefix))
        outcomes.append(outcome)
        dcc.advance(60)
        if not outcome.accepted:
            return outcomes
    outcomes.append(submit_signed(dcc, outcomes[-1]))
    return outcomes


def commissioned_site() -> Dcc:
    dcc = Dcc(default_premises(), xsd())
    assert all(o.accepted for o in commissioning_story(dcc))
    return dcc


DEFAULT_SITE = Path(__file__).parents[1] / "sim" / "dcc" / "default_site.yaml"


def cos_site(folder: Path, gaining: str) -> Path:
    """The default site left without WAN; electricity moves to ``gaining`` at 09:02:30,
    the SM WAN arrives at 09:03:30 (a site file in ``folder``)."""
    site = folder / "site.yaml"
    site.write_text(
        DEFAULT_SITE.read_text().replace("wan: {connected: true}",
                                         "wan: {connected: false, arrives: 2024-01-08T09:03:30Z}")
        .replace("users:\n", f"users:\n  {gaining}: [ImportSupplier]\n")
        + f"supplier_changes: [{{at: 2024-01-08T09:02:30Z, fuel: electricity, to: {gaining}}}]\n")
    return site
