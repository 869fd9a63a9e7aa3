"""Site files: the default site is the templates' site; bad files name file, line, field."""

from pathlib import Path

import pytest

from sim.dcc.site_file import DEFAULT_SITE, SiteFileError, default_premises, load_site

GOOD = """\
start: 2024-03-01T08:00:00Z
premises: {post_code: AB1 2CD, address: "1 High St", csp_region: South}
comms_hub: {chf: 00-DB-00-00-00-00-00-02, gpf: 00-DB-00-00-00-00-00-03}
wan: {connected: false, arrives: 2024-04-01T00:00:00Z}
devices:
  - {id: 00-DB-00-00-00-00-00-01, type: ESME, install_code: generate}
users:
  90-B3-D5-1F-30-05-00-00: [ImportSupplier]
suppliers: {electricity: 90-B3-D5-1F-30-05-00-00}
seed: 7
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def test_default_site_matches_the_templates() -> None:
    premises = default_premises()
    assert (premises.hub.chf_id, premises.hub.gpf_id) == (
        "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A3")
    assert {d.device_id: d.device_type for d in premises.devices.values()} == {
        "00-DB-12-34-56-78-90-A0": "ESME", "00-DB-12-34-56-78-90-A1": "GSME"}
    assert premises.devices["00-DB-12-34-56-78-90-A0"].install_code.duis() == (
        "30313233343536373839414243444546")
    assert DEFAULT_SITE.is_file()


def test_good_site(tmp_path: Path) -> None:
    premises = load_site(write(tmp_path, GOOD))
    assert not premises.hub.wan_connected
    assert premises.wan_arrives == 31 * 86400 - 8 * 3600
    again = load_site(write(tmp_path, GOOD))  # "generate" is seeded: same code again
    device = "00-DB-00-00-00-00-00-01"
    assert premises.devices[device].install_code == again.devices[device].install_code
    assert "install_code" not in repr(premises.devices[device])


@pytest.mark.parametrize(("change", "expected"), [
    (("type: ESME", "type: TOASTER"), ":6: devices[0].type: 'TOASTER' is not one of ESME"),
    (("install_code: generate", "install_code: 83FED3407A939723A5C639B26916D505C3B6"),
     ":6: devices[0].install_code: install code CRC mismatch: its last 2 bytes are not the CRC-16 of the "
     "bytes before them (a digit mistyped?)"),
    (("csp_region: South", "csp_region: Mars"), ":2: premises.csp_region: 'Mars' is not one of"),
    (("[ImportSupplier]", "[Landlord]"),
     ":8: users.90-B3-D5-1F-30-05-00-00[0]: 'Landlord' is not one of ImportSupplier"),
    (("install_code: generate", "install_code: 30313233343536373839414243444546"),
     ":6: devices[0].install_code: quote the install code"),
    (("seed: 7", "seed: 7\nseed: 8"), ":11: seed: duplicate key"),
    (("seed: 7", "colour: red"), ":10: colour: unknown key"),
    (("connected: false", "connected: maybe"), ":4: wan.connected: 'maybe' is not true or false"),
    (("{id: 00-DB", "{id: 00:DB"), ":6: devices[0].id: '00:DB-00-00-00-00-00-01' is not an ID"),
    (("devices:", "devices: [\n"), ": not valid YAML"),
    (("gpf: 00-DB-00-00-00-00-00-03", "gpf: 00-DB-00-00-00-00-00-02"),  # issue 19: was accepted
     ":3: comms_hub.gpf: 00-DB-00-00-00-00-00-02 is the CHF's ID too"),
    (("gpf: 00-DB-00-00-00-00-00-03}", "gpf: 00-DB-00-00-00-00-00-03, replacement: {chf: 00-DB-00-00-00-00-00-12}}"),
     ":3: comms_hub.replacement.gpf: missing"),
    (("gpf: 00-DB-00-00-00-00-00-03}", "gpf: 00-DB-00-00-00-00-00-03, replacement: {chf: 00-DB-00-00-00-00-00-02, "
                                        "gpf: 00-DB-00-00-00-00-00-13}}"),
     ":3: comms_hub.replacement.chf: 00-DB-00-00-00-00-00-02 appears twice"),
    (("gpf: 00-DB-00-00-00-00-00-03}", "gpf: 00-DB-00-00-00-00-00-03, replacement: {chf: 00-DB-00-00-00-00-00-12, "
                                        "gpf: 00-DB-00-00-00-00-00-01}}"),
     ":3: comms_hub.replacement.gpf: 00-DB-00-00-00-00-00-01 appears twice"),
    (("gpf: 00-DB-00-00-00-00-00-03}", "gpf: 00-DB-00-00-00-00-00-03, replacement: {chf: 00-DB-00-00-00-00-00-12, "
                                        "gpf: 00-DB-00-00-00-00-00-13, firmware: 1}}"),
     ":3: comms_hub.replacement.firmware: unknown key"),
    (("suppliers: {electricity: 90-B3-D5-1F-30-05-00-00}", "suppliers: {}"),  # was a StopIteration (yaml-site fuzz)
     ":9: suppliers: needs a supplier: electricity or gas"),
])
def test_bad_site_says_where_and_why(tmp_path: Path, change, expected) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    assert str(err.value).startswith(str(path))
    assert expected in str(err.value)
    assert "83FED3407A939723A5C639B26916D505" not in str(err.value)


def test_replacement_hub_is_pending_in_the_smi(tmp_path: Path) -> None:
    from sim.dcc.frontdoor import Dcc
    text = GOOD.replace("gpf: 00-DB-00-00-00-00-00-03}", "gpf: 00-DB-00-00-00-00-00-03, "
                        "replacement: {chf: 00-db-00-00-00-00-00-12, gpf: 00-DB-00-00-00-00-00-13}}")
    premises = load_site(write(tmp_path, text))
    assert premises.replacement is not None
    assert (premises.replacement.chf_id, premises.replacement.gpf_id) == (
        "00-DB-00-00-00-00-00-12", "00-DB-00-00-00-00-00-13")
    dcc = Dcc(premises)
    assert [dcc.smi.status(d) for d in ("00-DB-00-00-00-00-00-12", "00-DB-00-00-00-00-00-13")] == [
        "Pending", "Pending"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match="cannot read"):
        load_site(tmp_path / "none.yaml")
