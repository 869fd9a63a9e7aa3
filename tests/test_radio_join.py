"""SRV 8.11 through a stick: the DCC model's HAN join behind ``han.radio.HanRadio``,
driven by UNMODIFIED zigpy-znp against the virtual Z-Stack stick, in real time.

Independent sides: zigpy-znp (what it sends the stick, the ``device_joined`` it fires,
the ``connection_lost`` when the port goes), the DUIS XSD validating the alerts, the
DCC's own 8.11 templates.
"""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("zigpy_znp")

from devices.alerts import AlertCode  # noqa: E402
from devices.device_log import DeviceLog  # noqa: E402
from _radio_support import (CHF, ESME, OTHER_CODE, TEMPLATE_CODE, WINDOW, Stick,  # noqa: E402
                            ccs01)
from duis_support import assert_valid, template, xsd  # noqa: E402

from han.radio import RadioError, RadioLost, RadioSpec  # noqa: E402
from sim.dcc.frontdoor import Dcc  # noqa: E402
from sim.dcc.site_file import default_premises  # noqa: E402
from sim.radio_join import RadioJoin  # noqa: E402

@pytest.fixture(autouse=True)
def _quiet_zigpy():
    logging.getLogger("zigpy").setLevel(logging.WARNING)


def alert_names(outcome) -> list[str]:
    return [name for name, _ in outcome.documents if name.startswith("alert_")]


def test_8_11_add_through_the_dcc_joins_with_0x8f49() -> None:
    assert b"<sr:JoinTimePeriod>90<" in template("CCS01_")
    with Stick(TEMPLATE_CODE) as stick:
        dcc = Dcc(default_premises(), xsd(), han_join=stick.join)
        for prefix in ("12.2_", "8.14.1_"):
            assert dcc.submit(template(prefix)).accepted
        outcome = dcc.submit(ccs01())
    assert outcome.accepted, outcome.reason
    assert "alert_8F49" in alert_names(outcome), outcome.reason
    assert "joined through radio" in outcome.reason
    assert_valid(outcome)  # the 0x8F49 DeviceAlertMessage validates against the XSD
    [seen] = stick.emulator.outcomes
    assert seen.joined  # the stick's meter agrees: zigpy-znp gave it the right key
    assert dcc.premises.hub.device_log.live[ESME].joined


def test_8_11_on_an_ezsp_stick_through_bellows() -> None:
    """The same join through bellows on the virtual EmberZNet stick: bellows returns from
    the permit once the window is open, and the CHF still waits the window out."""
    with Stick(TEMPLATE_CODE, library="ezsp") as stick:
        log = DeviceLog(CHF)
        log.add(ESME, TEMPLATE_CODE, WINDOW, now=0.0)
        result = stick.join.join(log, ESME, TEMPLATE_CODE, 0.0)
    assert result.joined, result.reason
    assert [a.code for a in result.alerts] == [AlertCode.JOINING_SUCCEEDED]
    [seen] = stick.emulator.outcomes
    assert seen.joined and log.live[ESME].joined


def test_wrong_install_code_no_join_and_0x8f48_when_window_closes() -> None:
    with Stick(OTHER_CODE) as stick:  # the meter holds another code than 8.11 sends
        log = DeviceLog(CHF)
        log.add(ESME, TEMPLATE_CODE, WINDOW, now=1000.0)
        result = stick.join.join(log, ESME, TEMPLATE_CODE, 1000.0)
    assert not result.joined
    assert [(a.code, a.time) for a in result.alerts] == [(AlertCode.JOINING_FAILED, 1000.0 + WINDOW)]
    assert [o.joined for o in stick.emulator.outcomes] == [False]
    assert not log.live[ESME].joined


def test_ccs02_makes_the_meter_leave_the_stick() -> None:
    with Stick(TEMPLATE_CODE, kind="tcp") as stick:
        log = DeviceLog(CHF)
        log.add(ESME, TEMPLATE_CODE, WINDOW, now=0.0)
        assert stick.join.join(log, ESME, TEMPLATE_CODE, 0.0).joined
        log.remove(ESME, 5.0)
        stick.join.removed(ESME, 5.0)
        from han.eui import to_eui64
        assert to_eui64(ESME) not in stick.emulator.joined()


def test_stick_pulled_mid_window_is_one_line() -> None:
    with Stick(OTHER_CODE) as stick:
        log = DeviceLog(CHF)
        log.add(ESME, TEMPLATE_CODE, 5, now=0.0)
        stick.bridge.loop.call_later(0.5, lambda: stick.bridge.loop.create_task(stick.stick.close()))
        with pytest.raises(RadioLost) as lost:
            stick.join.join(log, ESME, TEMPLATE_CODE, 0.0)
    assert "\n" not in str(lost.value) and "disconnected" in str(lost.value)


def test_bad_radio_spec_is_one_clear_error() -> None:
    with pytest.raises(RadioError, match="KIND:PATH"):
        RadioSpec.parse("zigate:/dev/ttyUSB0")


@pytest.mark.parametrize(("held", "alert"), [(TEMPLATE_CODE, AlertCode.JOINING_SUCCEEDED),
                                             (OTHER_CODE, AlertCode.JOINING_FAILED)])
def test_simulated_air_behind_the_same_radio_interface(held, alert) -> None:
    """``air``: frame-level joins on the simulated air, through the same RadioJoin,
    agree with the key-level model on the outcome."""
    from devices.han_join import KeyLevelJoin
    from sim.radio_join import open_radio

    outcomes = []
    for model in ("air", "keys"):
        log = DeviceLog(CHF)
        log.add(ESME, TEMPLATE_CODE, WINDOW, now=50.0)
        if model == "air":
            with open_radio("air", CHF, {ESME: held}) as join:
                result = join.join(log, ESME, held, 50.0)
            [(_, report)] = join.radio.joiner.reports
            assert report.joined is (alert is AlertCode.JOINING_SUCCEEDED)
            assert "association request" in [f.label for f in report.frames]
        else:
            result = KeyLevelJoin(join_seconds=1).join(log, ESME, held, 50.0)
        outcomes.append((result.joined, [a.code for a in result.alerts]))
    assert outcomes[0] == outcomes[1] == (alert is AlertCode.JOINING_SUCCEEDED, [alert])


class _RefusingRadio:
    """A radio whose library refuses the permit (as a stick with a full key table does)."""

    async def start(self, listener) -> None:
        pass

    async def permit(self, device_id: str, link_key: bytes, seconds: int) -> None:
        raise RuntimeError("APP_CNF BDBAddInstallCode: status Failure")

    async def stop(self) -> None:
        pass


def test_a_refused_permit_is_one_line_not_a_silent_wait() -> None:
    log = DeviceLog(CHF)
    log.add(ESME, TEMPLATE_CODE, 60, now=0.0)
    with RadioJoin(_RefusingRadio()) as join:
        with pytest.raises(RadioError, match=f"permitting {ESME} failed: APP_CNF"):
            join.join(log, ESME, TEMPLATE_CODE, 0.0)
