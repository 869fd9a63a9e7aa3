"""DUIS responses and alerts as the DCC sends them: one ``sr:Response`` document each.

Three bodies: a ``ResponseMessage`` (the answer to a request: acknowledgement, a
pre-command, an inventory or a WAN matrix), a ``DeviceAlertMessage`` (a device's GBCS
alert, e.g. 0x8F49) and a ``DCCAlertMessage`` (the DCC's own, e.g. N24
UpdateHANDeviceLogResult).

A device's response and a device alert carry the device's GBCS message as
``GBCSPayload`` (base64, built by :mod:`sim.dcc.gbcs_link`); the alert's ResponseID
names the device that raised it (originator).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sim.duis.bodies import RequestWANMatrix
from sim.duis.codec import BOOL, Body, xml
from sim.duis.request import NotDUIS, RequestID
from sim.duis.xmlio import SCHEMA_VERSION, Document, sr, sub, text, to_bytes


@dataclass(frozen=True)
class InventoryDevice(Body):
    """One ``Device`` of a DSPInventory (8.2): what the SMI says about a device."""

    TAG = "Device"
    device_id: str = xml("DeviceID")
    device_type: str = xml("DeviceType")
    status: str | None = xml("DeviceStatus")
    manufacturer: str = xml("DeviceManufacturer")
    model: str = xml("DeviceModel")
    smets_chts_version: str | None = xml("SMETSCHTSVersion")
    firmware_version: str | None = xml("DeviceFirmwareVersion")
    date_commissioned: str | None = xml("DateCommissioned")
    import_mpxn: str | None = xml("ImportMPxN")
    secondary_import_mpan: str | None = xml("SecondaryImportMPAN")
    export_mpan: str | None = xml("ExportMPAN")
    esme_variant: str | None = xml("ESMEVariant")
    csp_region: str | None = xml("CSPRegion")


@dataclass(frozen=True)
class WANMatrixRow(Body):
    """One ``DSPWANMatrixResponse`` of 12.1: coverage in one CSP region."""

    TAG = "DSPWANMatrixResponse"
    csp_region: str = xml("CSPRegion")
    response_code: str = xml("CSPRegionResponseCode", default="I0")
    coverage_available: bool = xml("CoverageAvailability", BOOL, False)
    anticipated_coverage_date: str | None = xml("AnticipatedCoverageDate")
    wan_technology: str = xml("WANTechnology")
    connectivity_likelihood: str = xml("ConnectivityLikelihood")


@dataclass(frozen=True)
class PreCommand:
    """A critical command for the supplier to sign (returned for command variant 4)."""

    gbcs_version: str
    gbcs_payload: str  # base64


@dataclass(frozen=True)
class ResponseMessage:
    """The answer to one request; ``payload`` holds what the SRV returns, if anything."""

    service_reference: str
    service_reference_variant: str
    pre_command: PreCommand | None = None
    inventory: tuple[InventoryDevice, ...] = ()
    wan_matrix: tuple[RequestWANMatrix, tuple[WANMatrixRow, ...]] | None = None
    gbcs_payload: str | None = None  # base64: the device's GBCS response
    #: 11.1: devices the DCC did not send the image to because they are not Commissioned
    not_commissioned: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceAlertMessage:
    """A device's alert: GBCS alert code (e.g. 8F49) and the GBCS alert, base64."""

    alert_code: str
    gbcs_payload: str = ""


@dataclass(frozen=True)
class DCCAlertMessage:
    """A DCC alert; hansim raises N24 UpdateHANDeviceLogResult about an 8.11 request."""

    code: str
    update_han_device_log_request_id: RequestID


@dataclass(frozen=True)
class ServiceResponse:
    """One DUIS Response document."""

    response_code: str
    date_time: str
    body: ResponseMessage | DeviceAlertMessage | DCCAlertMessage
    request_id: RequestID | None = None
    response_id: RequestID | None = None

    def to_xml(self) -> bytes:
        root = ET.Element(sr("Response"), {"schemaVersion": SCHEMA_VERSION})
        header = sub(root, "Header")
        if self.request_id is not None:
            sub(header, "RequestID", str(self.request_id))
        if self.response_id is not None:
            sub(header, "ResponseID", str(self.response_id))
        sub(header, "ResponseCode", self.response_code)
        sub(header, "ResponseDateTime", self.date_time)
        body = sub(root, "Body")
        match self.body:
            case ResponseMessage() as msg:
                _write_message(sub(body, "ResponseMessage"), msg)
            case DeviceAlertMessage(alert_code=code, gbcs_payload=payload):
                alert = sub(body, "DeviceAlertMessage")
                sub(alert, "AlertCode", code)
                sub(alert, "GBCSPayload", payload)
            case DCCAlertMessage(code=code, update_han_device_log_request_id=rid):
                alert = sub(body, "DCCAlertMessage")
                sub(alert, "DCCAlertCode", code)
                result = sub(sub(alert, "DCCAlert"), "UpdateHANDeviceLogResult")
                sub(result, "UpdateHANDeviceLogServiceRequestID", str(rid))
        return to_bytes(root)

    @classmethod
    def from_document(cls, doc: Document) -> ServiceResponse:
        root = doc.root
        header, body = root.find(sr("Header")), root.find(sr("Body"))
        if root.tag != sr("Response") or header is None or body is None or not len(body):
            raise NotDUIS("not a DUIS Response")
        rid, resp_id = text(header, "RequestID"), text(header, "ResponseID")
        child = body[0]
        parsed: ResponseMessage | DeviceAlertMessage | DCCAlertMessage
        if child.tag == sr("ResponseMessage"):
            parsed = _read_message(child)
        elif child.tag == sr("DeviceAlertMessage"):
            parsed = DeviceAlertMessage(text(child, "AlertCode") or "",
                                        text(child, "GBCSPayload") or "")
        else:
            parsed = DCCAlertMessage(
                text(child, "DCCAlertCode") or "",
                RequestID.parse(
                    text(child, "DCCAlert/UpdateHANDeviceLogResult/"
                         "UpdateHANDeviceLogServiceRequestID") or ""
                ),
            )
        return cls(
            text(header, "ResponseCode") or "",
            text(header, "ResponseDateTime") or "",
            parsed,
            RequestID.parse(rid) if rid else None,
            RequestID.parse(resp_id) if resp_id else None,
        )


def _write_message(elem: ET.Element, msg: ResponseMessage) -> None:
    sub(elem, "ServiceReference", msg.service_reference)
    sub(elem, "ServiceReferenceVariant", msg.service_reference_variant)
    if msg.inventory:
        inventory = sub(elem, "DSPInventory")
        for device in msg.inventory:
            device.to_element(inventory)
    if msg.wan_matrix is not None:
        matrix = sub(elem, "DSPWANMatrix")
        request, rows = msg.wan_matrix
        request.to_element(matrix).tag = sr("Request")
        for row in rows:
            row.to_element(matrix)
    if msg.not_commissioned:
        warning = sub(elem, "DSPUpdateFirmwareWarning")
        sub(warning, "NotCommissionedDeviceIDList", ",".join(msg.not_commissioned))
    if msg.gbcs_payload is not None:
        sub(elem, "GBCSPayload", msg.gbcs_payload)
    if msg.pre_command is not None:
        pre = sub(elem, "PreCommand")
        sub(pre, "GBCSVersion", msg.pre_command.gbcs_version)
        sub(pre, "GBCSPayload", msg.pre_command.gbcs_payload)


def _read_message(elem: ET.Element) -> ResponseMessage:
    pre = elem.find(sr("PreCommand"))
    matrix = elem.find(sr("DSPWANMatrix"))
    wan = None
    if matrix is not None:
        rows = tuple(WANMatrixRow.from_element(e) for e in matrix.findall(sr("DSPWANMatrixResponse")))
        request = matrix.find(sr("Request"))
        if request is None:
            raise NotDUIS("DSPWANMatrix has no Request")
        wan = (RequestWANMatrix.from_element(request), rows)
    return ResponseMessage(
        text(elem, "ServiceReference") or "",
        text(elem, "ServiceReferenceVariant") or "",
        PreCommand(text(pre, "GBCSVersion") or "", text(pre, "GBCSPayload") or "")
        if pre is not None else None,
        tuple(InventoryDevice.from_element(e) for e in elem.findall(f"{sr('DSPInventory')}/{sr('Device')}")),
        wan,
        text(elem, "GBCSPayload"),
        tuple(filter(None, (text(elem, "DSPUpdateFirmwareWarning/NotCommissionedDeviceIDList")
                            or "").split(","))),
    )
