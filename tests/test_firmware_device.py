"""Device firmware slots (SRV 11.1 deliver, 11.3 activate) and the model catalogue."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from _firmware_support import key, signed, template_image

from devices.alerts import AlertCode
from devices.firmware import ActivationError, DeviceFirmware
from firmware.catalogue import Catalogue, CatalogueError, UpgradePathError, WrongModelError
from firmware.image import parse

CATALOGUE = Catalogue.load()
CH = "00-DB-12-34-56-78-90-A2"


def hub(running: int = 0x00020000, hardware: int = 0x0105) -> DeviceFirmware:
    return DeviceFirmware(CH, CATALOGUE.model("NHW-CH-SB"), hardware, running,
                          CATALOGUE)


def test_deliver_then_activate_changes_the_running_version() -> None:
    device = hub()
    data = signed(version=0x00020100)
    alerts = device.deliver(data, 10.0, key().public_key())
    assert [a.code for a in alerts] == [AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL]
    assert alerts[0].detail["firmware_version"] == "00020100"
    alerts = device.activate(parse(data).hash, now=20.0)
    assert [a.code for a in alerts] == [AlertCode.ACTIVE_FIRMWARE_VERSION_CHANGED]
    assert device.running == 0x00020100 and device.pending is None
    assert alerts[0].detail == {"firmware_version": "00020100", "previous_version": "00020000"}


@pytest.mark.parametrize(("data", "reason"), [
    (lambda: signed(n=1), "does not verify"),
    (lambda: signed()[:-1], "truncated"),
    (lambda: signed(manufacturer_code=0x7A02, image_type=0x0200, version=0x04000000), "image is for"),
    (lambda: signed(hardware_versions=(0x0110, 0x01FF)), "hardware"),
    (lambda: signed(version=0x00010200), "not an allowed path"),   # downgrade
    (lambda: signed(version=0x00099999), "not in the catalogue"),
])
def test_failed_verification_raises_8f1c_and_the_image_can_never_run(data, reason) -> None:
    device = hub()
    image = data()
    alerts = device.deliver(image, 1.0, key().public_key())
    assert [a.code for a in alerts] == [AlertCode.FIRMWARE_VERIFICATION_FAILED]
    assert reason in alerts[0].detail["reason"]
    assert device.pending is None
    with pytest.raises(ActivationError, match="no verified firmware image is pending"):
        device.activate(parse(signed(n=1)).hash, now=2.0)
    assert device.running == 0x00020000


def test_a_refused_delivery_discards_an_earlier_verified_image() -> None:
    device = hub()
    good = signed()
    device.deliver(good, 1.0, key().public_key())
    device.deliver(signed(n=1), 2.0, key().public_key())
    with pytest.raises(ActivationError):
        device.activate(parse(good).hash, now=3.0)


def test_wrong_hash_is_refused_and_changes_nothing() -> None:
    device = hub()
    device.deliver(signed(), 1.0, key().public_key())
    with pytest.raises(ActivationError, match="does not match"):
        device.activate(bytes(32), now=2.0)
    with pytest.raises(ActivationError, match="32"):
        device.activate(bytes(31), now=2.0)
    assert device.running == 0x00020000 and device.pending is not None


def test_the_dcc_template_image_verifies_with_the_supplier_the_device_trusts() -> None:
    """GBCS: the supplier signs the image; the DCC's 11.1 template is signed by the DCC
    Boxed test supplier, so an ESME of that supplier takes it and one of another refuses."""
    model = CATALOGUE.model_for(0x121D, 0x0000)
    assert model.model == "GFI-ESME"
    esme = DeviceFirmware("00-DB-12-34-56-78-90-A0", model, 0x1111, 0xACDCACDB, CATALOGUE)
    alerts = esme.deliver(template_image(), 0.0, key().public_key())
    assert alerts[0].code == AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL, alerts[0].detail
    other = DeviceFirmware("00-DB-12-34-56-78-90-A0", model, 0x1111, 0xACDCACDB, CATALOGUE)
    alerts = other.deliver(template_image(), 0.0, key(1).public_key())
    assert alerts[0].code == AlertCode.FIRMWARE_VERIFICATION_FAILED
    assert "another supplier" in alerts[0].detail["reason"] and other.pending is None


def test_catalogue_latest_production_and_paths() -> None:
    model = CATALOGUE.model("SRH-CH-DB")
    assert str(model.latest_production()) == "04000000"
    assert model.latest_production(dt.date(2021, 6, 1)).version == 0x03010000
    with pytest.raises(CatalogueError, match="no production"):
        model.latest_production(dt.date(2019, 1, 1))
    with pytest.raises(UpgradePathError):
        model.check_upgrade(0x04000000, 0x03000000)
    with pytest.raises(WrongModelError):
        CATALOGUE.model_for(0xFFFF, 0)


@pytest.mark.parametrize(("text", "reason"), [
    ("manufacturers: []\nmodels: [{model: X, manufacturer: 1}]", "not listed"),
    ("models: []", "malformed"),
    ("[: bad", "cannot read"),
    ("manufacturers: [{name: A, code: 1}]\nmodels:\n - {model: X, manufacturer: 1, device_type: CHF,"
     " image_type: 1, hardware_versions: [1, 2], versions: [], upgrades: [[1, 2]]}", "unknown version"),
    # hostile files go through the one bounded YAML loader (issue 19), not a bare safe_load
    ("models: " + "[" * 10_000 + "]" * 10_000, "nested more than"),
    ("a: &x [*x]\nmodels: *x", "recursive alias"),
    ("models: [\x07]", "control character"),
])
def test_bad_catalogue_files_name_the_reason(tmp_path, text, reason) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    with pytest.raises(CatalogueError, match=reason) as err:
        Catalogue.load(path)
    assert str(path) in str(err.value)


def test_upgrade_hops_follow_the_catalogue_graph() -> None:
    model = CATALOGUE.model("NHW-CH-SB")
    assert model.upgrade_hops(0x00020100, 0x00020100) == 0
    assert model.upgrade_hops(0x00010200, 0x00020100) == 1
    assert model.upgrade_hops(0x00010000, 0x00020100) == 2
    assert model.upgrade_hops(0x00020100, 0x00010000) is None


GOOD = {v: signed(version=v, payload=bytes([v & 0xFF]) * 64) for v in (0x00010200, 0x00020000, 0x00020100)}
BAD = [signed(n=1), signed()[:-3], signed(hardware_versions=(0x0300, 0x03FF))]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("good"), st.sampled_from(sorted(GOOD))),
    st.tuples(st.just("bad"), st.integers(0, len(BAD) - 1)),
    st.tuples(st.just("activate"), st.sampled_from(sorted(GOOD))),
    st.tuples(st.just("activate"), st.just(None)),
), max_size=12))
def test_only_verified_images_ever_run(steps) -> None:
    device = hub(running=0x00010000)
    allowed = {0x00010000}
    for kind, arg in steps:
        if kind == "good":
            ok = device.deliver(GOOD[arg], 0.0, key().public_key())[0].code == AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL
            if ok:
                allowed.add(arg)
        elif kind == "bad":
            assert device.deliver(BAD[arg], 0.0, key().public_key())[0].code == AlertCode.FIRMWARE_VERIFICATION_FAILED
        else:
            target = parse(GOOD[arg]).hash if arg else bytes(32)
            try:
                device.activate(target, 0.0)
            except ActivationError:
                pass
        assert device.running in allowed
