"""The SRV-specific response codes (``sim/dcc/srv_codes.yaml``) against the DCC's V5.4 XSD,
the one independent source of them that is reachable, and against their reference table.

The XSD lists the codes without text, so what it can hold is structure: each code is one
of its ResponseCodes, of the family named after the SRV it answers, and, where the XSD
splits a family into a ``0x`` and a ``2x`` group (the SRVs with two variants of different
bodies: 8.7, 8.8, 8.12), of its variant's group. Which member of a family stands for which
outcome is defined only in the DUIS text, which is not reachable (docs/reference/duis.md
says what was searched); that part stays hansim's reading.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from duis_support import xsd

from sim.dcc.outcome import SRV_CODES

DUIS_DOC = Path(__file__).parents[1] / "docs" / "reference" / "duis.md"


def _xsd_families() -> dict[str, set[str]]:
    """SRV-specific codes of the XSD by family (the SRV's four digits): {'0812': {'02', ...}}."""
    families: dict[str, set[str]] = defaultdict(set)
    for code in xsd().types["ResponseCode"].enumeration:
        if re.fullmatch(r"[EW]\d{6}", code):
            families[code[1:5]].add(code[5:])
    return families


def _family(srv: str) -> str:
    major, minor = srv.split(".")[:2]
    return f"{int(major):02d}{int(minor):02d}"


def test_every_code_is_the_xsds_and_of_its_srvs_family() -> None:
    enumeration = set(xsd().types["ResponseCode"].enumeration)
    for srv, codes in SRV_CODES.items():
        for outcome, code in codes.items():
            assert code in enumeration, (srv, outcome, code)
            assert re.fullmatch(r"[EW]\d{6}", code) and code[1:5] == _family(srv), (srv, outcome, code)


def test_a_two_variant_family_keeps_its_second_group_for_the_second_variant() -> None:
    """E0808 is 01 (8.8.1) and 21, 22 (8.8.2) in the XSD, as are E0807 and E0812: a code of
    the first variant is below 20, one of the second variant 21 or above."""
    split = {family: members for family, members in _xsd_families().items()
             if any(m < "20" for m in members) and any(m >= "21" for m in members)}
    assert set(split) == {"0807", "0808", "0812"}  # V5.4; a new schema gets a look, not a pass
    checked = 0
    for srv, codes in SRV_CODES.items():
        parts = srv.split(".")
        if _family(srv) not in split or len(parts) != 3:
            continue
        for outcome, code in codes.items():
            second = int(code[5:]) >= 21
            assert second == (parts[2] == "2"), (srv, outcome, code)
            checked += 1
    assert checked >= 5  # 8.8.1, 8.8.2, 8.12.1 (two), 8.12.2 (two)


def test_the_reference_table_is_the_file() -> None:
    """docs/reference/duis.md lists exactly the codes hansim answers, SRV by SRV."""
    text = DUIS_DOC.read_text()
    section = text[text.index("SRV-specific codes (`sim/dcc/srv_codes.yaml`"):]
    rows = re.findall(r"^\| (\d+\.\d+(?:\.\d+)?) \| [^|]+ \| ([EW]\d{6}) \|$", section, re.M)
    documented = sorted(rows)
    answered = sorted((srv, code) for srv, codes in SRV_CODES.items() for code in codes.values())
    answered.append(("11.1", "W110101"))  # sim.dcc.outcome.UPDATE_FIRMWARE_WARNING
    assert documented == sorted(answered)


def _candidates(srv: str, code: str, families: dict[str, set[str]]) -> set[str]:
    """The XSD's codes hansim could have chosen for this SRV's outcome: same letter, same
    family, same variant group (0x / 2x) where the family is split."""
    members = families[_family(srv)]
    split = any(m < "20" for m in members) and any(m >= "21" for m in members)
    parts = srv.split(".")
    if split and len(parts) == 3:
        members = {m for m in members if (m >= "21") == (parts[2] == "2")}
    enumeration = set(xsd().types["ResponseCode"].enumeration)
    return {f"{code[0]}{_family(srv)}{m}" for m in members} & enumeration


def test_where_the_schema_leaves_one_choice() -> None:
    """W110101 is 11.1's only warning (its body, DSPUpdateFirmwareWarning, lists the devices
    not Commissioned) and E080801 8.8.1's only code: the XSD fixes those members. Every
    other row chooses among several, which only the DUIS text could settle."""
    families = _xsd_families()
    assert _candidates("11.1", "W110101", families) == {"W110101"}
    assert _candidates("8.8.1", "E080801", families) == {"E080801"}
    assert "NotCommissionedDeviceIDList" in [e.local_name for e in
                                             xsd().types["DSPUpdateFirmwareWarning"].content.iter_elements()]
    chosen = {(srv, code) for srv, codes in SRV_CODES.items() for code in codes.values()}
    several = {(srv, code) for srv, code in chosen if len(_candidates(srv, code, families)) > 1}
    assert several == chosen - {("8.8.1", "E080801")}
