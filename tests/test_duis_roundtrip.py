"""Parse -> write -> parse keeps everything hansim models, and what we write is valid DUIS.

Checked against the DCC's own templates and, with hypothesis, against generated 8.11
requests and responses; the DUIS XSD validates every document we write.
"""

import base64
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duis_support import templates, xsd
from han.installcode import InstallCode
from sim.duis import schema as duis_schema
from sim.duis.bodies import RequestWANMatrix, UpdateHANDeviceLog
from sim.duis.request import RequestID, ServiceRequest
from sim.duis.response import (
    DCCAlertMessage, DeviceAlertMessage, InventoryDevice, PreCommand, ResponseMessage,
    ServiceResponse, WANMatrixRow,
)
from sim.duis.xmlio import parse

EUIS = st.lists(st.integers(0, 255), min_size=8, max_size=8).map(
    lambda b: "-".join(f"{x:02X}" for x in b))
REQUEST_IDS = st.builds(RequestID, EUIS, EUIS, st.integers(0, 2**63))
MPXN = st.text(string.digits, min_size=13, max_size=13)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_every_template_round_trips_and_stays_valid() -> None:
    for path in sorted(templates().iterdir()):
        request = ServiceRequest.from_document(parse(path.read_bytes()))
        written = request.to_xml()
        assert duis_schema.check_bytes(xsd(), written) == [], path.name
        assert ServiceRequest.from_document(parse(written)) == request, path.name
        assert request.to_xml() == written  # deterministic


@SLOW
@given(
    rid=REQUEST_IDS,
    add=st.booleans(),
    period=st.integers(1, 3600),
    code=st.sampled_from([6, 8, 12, 16]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    mpxn=st.none() | MPXN,
)
def test_8_11_round_trip(rid, add, period, code, mpxn) -> None:
    body = UpdateHANDeviceLog(
        rid.target, "Add" if add else "Remove",
        period if add else None, InstallCode(code) if add else None,
        mpxn if add else None,
    )
    request = ServiceRequest(rid, 1, "8.11", "8.11", body)
    written = request.to_xml()
    assert duis_schema.check_bytes(xsd(), written) == []
    assert ServiceRequest.from_document(parse(written)) == request


STATUS = st.sampled_from(["Pending", "Whitelisted", "Commissioned", None])
DEVICES = st.builds(
    InventoryDevice, EUIS, st.sampled_from(["ESME", "GSME", "CHF", "GPF", "IHD"]), STATUS,
    st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=8),
    st.text(string.hexdigits, min_size=1, max_size=8),
)
ROWS = st.builds(
    WANMatrixRow, st.sampled_from(["North", "Central", "South"]), st.just("I0"), st.booleans(),
    st.none() | st.dates().map(lambda d: d.isoformat()).filter(lambda d: len(d) == 10),
    st.sampled_from(["Cellular", "Long Range Radio"]), st.sampled_from(["High", "Medium", "Low"]),
)
BODIES = st.one_of(
    st.builds(ResponseMessage, st.just("8.2"), st.just("8.2"), st.none(),
              st.lists(DEVICES, min_size=1, max_size=17).map(tuple)),
    st.builds(ResponseMessage, st.just("12.1"), st.just("12.1"), st.none(), st.just(()),
              st.tuples(st.just(RequestWANMatrix(post_code="M22 0RR", address_identifier="1")),
                        st.lists(ROWS, min_size=1, max_size=3).map(tuple))),
    st.builds(ResponseMessage, st.just("8.1"), st.just("8.1.1"),
              st.builds(PreCommand, st.just("hansim/1"),
                        st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()))),
    st.builds(DeviceAlertMessage, st.sampled_from(["8F12", "8F48", "8F49", "8F69"])),
    st.builds(DCCAlertMessage, st.just("N24"), REQUEST_IDS),
)


@SLOW
@given(body=BODIES, rid=st.none() | REQUEST_IDS, code=st.sampled_from(["I0", "I99", "E5", "E20"]))
def test_responses_and_alerts_round_trip(body, rid, code) -> None:
    response = ServiceResponse(code, "2024-01-08T09:00:00Z", body, rid)
    written = response.to_xml()
    assert duis_schema.check_bytes(xsd(), written) == []
    assert ServiceResponse.from_document(parse(written)) == response
