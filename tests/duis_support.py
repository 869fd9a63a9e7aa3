"""Shared test helpers for the DUIS/DCC tests: the real XSD and the DCC's templates.

Both come from shared/duis beside the project (never copied into it); tests that need
them skip when it is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from han.installcode import InstallCode
from sim.dcc.frontdoor import Dcc
from sim.dcc.outcome import Outcome
from sim.dcc.premises import Premises
from sim.dcc.site_file import default_premises
from sim.duis import schema as duis_schema
from sim.duis.bodies import (
    CommissionDeviceSynchroniseClock,
    DevicePrenotification,
    JoinServiceCritical,
    UpdateHANDeviceLog,
)
from sim.duis.precommand import signed_request, supplier_test_key
from sim.duis.request import RequestID, ServiceRequest

WORKTREE_SHARED = Path("/work/shared/duis")
#: SmartDCC's ``@smartdcc/duis-templates`` (the DCC's RTDS request templates), from npm.
RTDS = Path(__file__).parent / "js" / "dccboxed" / "node_modules" / "@smartdcc" / "duis-templates" / "templates"
SUPPLIER = "90-B3-D5-1F-30-01-00-00"
ESME, GSME, CHF, GPF = ("00-DB-12-34-56-78-90-" + x for x in ("A0", "A1", "A2", "A3"))


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
    text = DEFAULT_SITE.read_text().replace("wan: {connected: true}",
                                            "wan: {connected: false, arrives: 2024-01-08T09:03:30Z}")
    if f"\n  {gaining}:" not in text:  # a DCC Boxed test supplier is a user of the site already
        text = text.replace("users:\n", f"users:\n  {gaining}: [ImportSupplier]\n")
    site.write_text(text + f"supplier_changes: [{{at: 2024-01-08T09:02:30Z, fuel: electricity, to: {gaining}}}]\n")
    return site


def rtds(prefix: str, target: str | None = None, other: str | None = None, counter: int = 0) -> bytes:
    """The RTDS template whose name starts with ``prefix``, with this site's IDs."""
    if not RTDS.exists():
        pytest.skip("SmartDCC's duis-templates package is not installed: run .ci/install")
    (path,) = [p for p in RTDS.iterdir() if p.name.startswith(prefix)]
    data = path.read_bytes()
    if target or counter:
        def rid(m: re.Match) -> bytes:
            return b"%s:%s:%d" % (m[1], (target or m[2].decode()).encode(), counter or int(m[3]))
        data = re.sub(rb"(?<=<sr:RequestID>)([^:<]+):([^:<]+):(\d+)", rid, data)
    if other:
        data = re.sub(rb"(?<=<sr:OtherDeviceID>)[^<]+", other.encode(), data)
    return data


def submit(dcc: Dcc, data: bytes) -> Outcome:
    """Submit, sign the pre-command of a critical request as the supplier does, check the XSD."""
    outcome = dcc.submit(data)
    if outcome.pre_command is not None:
        outcome = submit_signed(dcc, outcome)
    assert_valid(outcome)
    return outcome


def dual_fuel_site(premises: Premises | None = None) -> Dcc:
    """The default site (or ``premises``) with its ESME (the DCC's own templates) and GSME
    commissioned, the GSME joined to the GPF."""
    premises = premises or default_premises()
    dcc = Dcc(premises, xsd())
    assert all(o.accepted for o in commissioning_story(dcc))
    code = premises.devices[GSME].install_code
    steps = [(premises.dcc_id, 8, "12.2", DevicePrenotification(GSME, "AB01", "0A0B", "GSME")),
             (CHF, 1, "8.11", UpdateHANDeviceLog(GSME, "Add", 120, InstallCode(code.code))),
             (GSME, 4, "8.7.1", JoinServiceCritical(GPF)),
             (GSME, 4, "8.1.1", CommissionDeviceSynchroniseClock("2024-01-08T09:05:00Z", 60))]
    for counter, (target, cv, srv, body) in enumerate(steps, start=900):
        request = ServiceRequest(RequestID(SUPPLIER, target, counter), cv, srv.rsplit(".", 1)[0]
                                 if srv.count(".") == 2 else srv, srv, body)
        assert submit(dcc, request.to_xml()).accepted, srv
    assert dcc.smi.status(GPF) == "Commissioned"
    return dcc
