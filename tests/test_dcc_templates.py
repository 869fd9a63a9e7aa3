"""Every DCC test template, accepted or refused with the precise reason our model gives.

Two tables: each template alone against the fresh default site (Comms Hub delivered,
nothing pre-notified), and against the same site once its ESME is commissioned. The
XSD validates every response and alert the DCC writes back.
"""

import pytest

from duis_support import assert_valid, commissioned_site, templates, xsd
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises

A0, A1, A2 = (f"00-DB-12-34-56-78-90-{x}" for x in ("A0", "A1", "A2"))

FRESH = {
    "11.1_": ("E19", f"device {A0} is not in the SMI"),
    "12.1_": ("I0", "North: covered (High)"),
    "12.2_": ("I99", ""),  # DUIS: I99 for a non-device request whose response has no data
    "8.14.1_": ("I99", ""),
    "8.14.2_": ("I99", ""),
    "8.2_": ("I0", f"CHF {A2} Pending"),
    "8.4_": ("E19", f"device {A0} is not in the SMI"),
    "CCS01_": ("E19", f"device {A0} is not in the SMI"),
    "CCS02_": ("E19", f"device {A0} is not in the SMI"),
    "CCS06_": ("E5", f"CHF {A2} is Pending: the DCC delivers only through a Commissioned Comms Hub"),
    "CS02b": ("E19", f"target {A0} is not in the SMI"),
    "CS03B": ("E19", f"target {A1} is not in the SMI"),
    "CS06_": ("E19", f"target {A0} is not in the SMI"),
    "ECS70": ("E19", f"target {A0} is not in the SMI"),
}

COMMISSIONED = {
    "11.1_": ("I0", ""),
    "12.1_": ("I0", "North: covered (High)"),
    "12.2_": ("E120201", f"ESME {A0} is already in the SMI (Commissioned)"),
    "8.14.1_": ("E5", f"CHF {A2} is Commissioned; ch install wan needs"),
    "8.14.2_": ("E5", f"CHF {A2} is Commissioned; ch install no wan needs Pending"),
    "8.2_": ("I0", f"CHF {A2} Commissioned"),
    "8.4_": ("E5", f"ESME {A0} is Commissioned; delete needs Pending"),
    "CCS01_": ("I0", "HAN join: joined with the live log key"),
    "CCS02_": ("I0", ""),
    "CCS06_": ("I0", f"device log: {A0}"),
    "CS02b": ("I0", "meter now trusts"),
    "CS03B": ("E19", f"target {A1} is not in the SMI"),
    "CS06_": ("I0", "pre-command returned for the supplier to sign"),
    "ECS70": ("E5", f"ESME {A0} is Commissioned; commission needs"),
}


def _template_names() -> list[str]:
    return sorted(p.name for p in templates().iterdir())


def _expected(table: dict, name: str) -> tuple[str, str]:
    (key,) = [k for k in table if name.startswith(k)]
    return table[key]


def test_tables_cover_every_template() -> None:
    for name in _template_names():
        _expected(FRESH, name)
        _expected(COMMISSIONED, name)


@pytest.mark.parametrize("name", _template_names() if templates().exists() else [])
def test_template_on_fresh_site(name: str) -> None:
    outcome = Dcc(default_premises(), xsd()).submit((templates() / name).read_bytes())
    code, reason = _expected(FRESH, name)
    assert (outcome.code, outcome.reason[: len(reason)]) == (code, reason)
    assert_valid(outcome)


@pytest.mark.parametrize("name", _template_names() if templates().exists() else [])
def test_template_on_commissioned_site(name: str) -> None:
    outcome = commissioned_site().submit((templates() / name).read_bytes())
    code, reason = _expected(COMMISSIONED, name)
    assert (outcome.code, outcome.reason[: len(reason)]) == (code, reason)
    assert_valid(outcome)
