"""The DCC model's commissioning story with the frame-level join behind its HanJoin interface:
the DUIS outcome is the one the key-level model gives, and the join is on air."""

from duis_support import assert_valid, commissioning_story, xsd

from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.duis.response import DeviceAlertMessage
from sim.han_time.frame_join import FrameLevelJoin


def test_srv_8_11_through_the_dcc_joins_frame_by_frame() -> None:
    frame_level = FrameLevelJoin(seed=3)
    dcc = Dcc(default_premises(), xsd(), han_join=frame_level)
    outcomes = commissioning_story(dcc)
    assert [o.code for o in outcomes] == ["I99", "I99", "I0", "I0", "I0"]
    for outcome in outcomes:
        assert_valid(outcome)  # DUIS XSD V5.4
    add = outcomes[2]
    device_alerts = [doc.body.alert_code for _, doc in add.documents if isinstance(doc.body, DeviceAlertMessage)]
    assert device_alerts == ["8F12", "8F49"]
    (report,) = frame_level.reports
    assert report.joined and any("Device_annce" in f.label for f in report.frames)
    assert dcc.premises.devices[report.alerts[0].subject].commissioned
