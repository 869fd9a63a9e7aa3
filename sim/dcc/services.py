"""What each service request does once the front door has let it in.

One function per SRV, registered in ``SERVICES``. Device-delivered requests get an
acknowledgement (I99) and then the device's response (I0); DCC-only requests one I0
response. Alerts follow in the order they are raised, each its own DUIS document.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from devices.alerts import Alert, AlertCode
from devices.device_log import DeviceLogError
from devices.firmware import ActivationError
from devices.firmware_transfer import transfer
from devices.han_join import HanLeave
from devices.meter import HanDevice
from gbcs.use_cases import ActivationResult
from sim.dcc import gbcs_link
from sim.dcc import outcome as oc
from sim.dcc.outcome import Outcome, Refused
from sim.dcc.smi import SmiRecord, SmiRefusal
from sim.duis import bodies as b
from sim.duis.precommand import PreCommandError, open_signed, pre_command, supplier_test_key
from sim.duis.request import ServiceRequest
from sim.duis.response import DCCAlertMessage, DeviceAlertMessage, InventoryDevice

if TYPE_CHECKING:
    from sim.dcc.frontdoor import Dcc

CRITICAL_VARIANTS = {5, 6, 7}  # signed pre-commands; 4 asks for one
Service = Callable[["Dcc", ServiceRequest, Outcome], None]
SERVICES: dict[str, Service] = {}
B = TypeVar("B", bound=b.Body)


def service(*srvs: str) -> Callable[[Service], Service]:
    def register(fn: Service) -> Service:
        for srv in srvs:
            SERVICES[srv] = fn
        return fn
    return register


def carry_out(dcc: Dcc, request: ServiceRequest, rule: dict, outcome: Outcome) -> None:
    """Run a request the front door accepted: pre-command, delivery, then its service."""
    target = request.request_id.target
    if rule.get("event") and rule["to"] == "device":
        smi_check(dcc, rule["event"], target)
    if request.command_variant == 4:
        try:
            pre = pre_command(request, lambda device_id: device_type(dcc, device_id))
        except PreCommandError as err:
            raise Refused(oc.INVALID_REQUEST, str(err)) from None
        dcc.pre_commands[str(request.request_id)] = (pre.gbcs_payload, request.body)
        outcome.reason = "pre-command returned for the supplier to sign"
        outcome.documents.append(("response", dcc.response(request, oc.SUCCESS, pre_command=pre)))
        return
    if rule["to"] == "device":
        deliver(dcc, target)
        if request.command_variant in CRITICAL_VARIANTS:
            # The device obeys the command it verified: the service sees the original body.
            request = dataclasses.replace(request, body=check_signed(dcc, request))
        outcome.documents.append(("ack", dcc.response(request, oc.ACKNOWLEDGED)))
        at = dcc.execution_time(request.body)
        if at is not None:  # future-dated: the device accepts it now and runs it then
            dcc.schedule(at, request)
            outcome.reason = f"future-dated: the device runs it at {dcc.timestamp(at)}"
            outcome.documents.append(("response", dcc.response(
                request, oc.SUCCESS, gbcs_payload=gbcs_link.future_dated_response(dcc, request))))
            return
    SERVICES[request.srv](dcc, request, outcome)
    if outcome.code == oc.SUCCESS:  # a service that found a warning keeps it (e.g. W110101)
        outcome.code = rule.get("answer", oc.SUCCESS)
    if rule["to"] == "device" and "gbcs_payload" not in outcome.payload:
        outcome.payload["gbcs_payload"] = gbcs_link.device_response(dcc, request)
    outcome.documents.insert(
        len(outcome.documents) - outcome.alert_count(),
        ("response", dcc.response(request, outcome.code, **outcome.payload)),
    )


def run_future_dated(dcc: Dcc, request: ServiceRequest) -> str:
    """A future-dated command's time has come: the device runs it and raises 0x8F66
    (actioned) or 0x8F67 (not) with its outcome; documents go to ``dcc.outbox``."""
    target = request.request_id.target.upper()
    outcome = Outcome(request, oc.SUCCESS, "")
    refused = False
    try:
        SERVICES[request.srv](dcc, request, outcome)
        result = outcome.reason or "done"
    except Refused as refusal:
        refused, result = True, f"failed: {refusal.reason}"
    alert = gbcs_link.future_dated_alert(dcc, request, outcome.payload.get("gbcs_payload"), refused)
    send_alerts(dcc, request, outcome, [alert])
    dcc.outbox.extend(outcome.documents)
    return (f"future-dated SRV {request.srv} {request.request_id} ran on {target}: {result}; "
            f"alert {alert.code.hex}")


# -- checks shared by services ----------------------------------------------------------
def body_of(request: ServiceRequest, kind: type[B]) -> B:
    """The request's body as the element its SRV carries (read by tag, so a mismatch is the
    sender's error, answered as one)."""
    body = request.body
    if not isinstance(body, kind):
        raise Refused(oc.INVALID_REQUEST,
                      f"SRV {request.srv} carries {kind.TAG}, not {body.TAG}")
    return body


def smi_check(dcc: Dcc, event: str, device_id: str) -> None:
    try:
        dcc.smi.check(event, device_id)
    except SmiRefusal as refusal:
        raise Refused(oc.DEVICE_STATUS, str(refusal)) from None


def smi_apply(dcc: Dcc, outcome: Outcome, event: str, record: SmiRecord | str) -> None:
    try:
        change = dcc.smi.apply(event, record, dcc.date())
    except SmiRefusal as refusal:
        raise Refused(oc.DEVICE_STATUS, str(refusal)) from None
    if change is not None:
        outcome.changes.append(change)


def deliver(dcc: Dcc, target: str) -> None:
    """Reach ``target`` through the Comms Hub: SM WAN up, CHF commissioned, device on the HAN."""
    premises = dcc.premises
    hub = premises.hub
    if not hub.wan_connected:
        raise Refused(oc.CANNOT_COMMUNICATE,
                      f"no SM WAN at the premises: the DCC cannot reach Comms Hub {hub.chf_id}")
    chf_status = dcc.smi.status(hub.chf_id)
    if chf_status != "Commissioned":
        raise Refused(oc.DEVICE_STATUS,
                      f"CHF {hub.chf_id} is {chf_status}: the DCC delivers only through a "
                      "Commissioned Comms Hub")
    holder = premises.holder(target)
    if holder is None or (isinstance(holder, HanDevice) and not holder.joined):  # absent, or never joined
        record = dcc.smi.get(target)
        kind = record.device_type if record else "device"
        raise Refused(oc.CANNOT_COMMUNICATE, f"{kind} {target.upper()} has not joined the HAN")


def device_type(dcc: Dcc, device_id: str) -> str:
    record = dcc.smi.get(device_id.upper())
    if record is None:
        raise PreCommandError(f"device {device_id} is not in the SMI")
    return record.device_type


def check_signed(dcc: Dcc, request: ServiceRequest) -> b.Body:
    """Variant 5: the pre-command this DCC issued, signed by the key the device trusts.

    Returns the body of the request the pre-command was issued for.
    """
    if not isinstance(request.body, b.SignedPreCommand):
        raise Refused(oc.INVALID_REQUEST, "command variant 5 carries a SignedPreCommand")
    rid = str(request.request_id)
    issued = dcc.pre_commands.get(rid)
    if issued is None:
        raise Refused(oc.INVALID_REQUEST, f"no outstanding pre-command for RequestID {rid}")
    key = dcc.premises.supplier_key(request.request_id.target)
    try:
        open_signed(request.body.gbcs_payload, issued[0], key)
    except PreCommandError as err:
        raise Refused(oc.INVALID_REQUEST, f"device refused the command: {err}") from None
    del dcc.pre_commands[rid]
    return issued[1]


def send_alerts(dcc: Dcc, request: ServiceRequest, outcome: Outcome, alerts: list[Alert]) -> None:
    for alert in alerts:
        user = request.request_id.originator
        payload = gbcs_link.alert_payload(dcc, alert, user)
        outcome.documents.append((
            f"alert_{alert.code.hex}",
            dcc.alert(alert.raised_by, user, DeviceAlertMessage(alert.code.hex, payload), alert.time),
        ))


# -- the services -------------------------------------------------------------------------
@service("12.1")
def request_wan_matrix(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.RequestWANMatrix)
    rows = dcc.premises.coverage.lookup(body)
    if rows is None:
        raise Refused(oc.INVALID_REQUEST, "premises not in the SM WAN coverage database")
    outcome.payload = {"wan_matrix": (body, tuple(r.row() for r in rows))}
    outcome.reason = ", ".join(
        f"{r.csp_region}: {'covered' if r.available else 'not covered'} ({r.likelihood})"
        for r in rows)


@service("12.2")
def prenotify(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.DevicePrenotification)
    record = SmiRecord(body.device_id.upper(), body.device_type, body.manufacturer,
                       body.model, body.firmware_version, smets_chts_version=body.smets_chts_version,
                       esme_variant=body.esme_variant)
    smi_apply(dcc, outcome, "prenotify", record)


@service("8.14.1", "8.14.2")
def install_comms_hub(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    with_wan = request.srv == "8.14.1"
    if with_wan and not dcc.premises.hub.wan_connected:
        raise Refused(oc.CANNOT_COMMUNICATE,
                      "8.14.1 says the Comms Hub is on the SM WAN, but it is not: send 8.14.2")
    comms_hub_event(dcc, request, outcome, "ch_install_wan" if with_wan else "ch_install_no_wan")


@service("8.14.3", "8.14.4")
def return_comms_hub(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """Fault or no-fault return to the CSP: the CHF and its GPF are Withdrawn."""
    comms_hub_event(dcc, request, outcome, "ch_return")


def comms_hub_event(dcc: Dcc, request: ServiceRequest, outcome: Outcome, event: str) -> None:
    """An 8.14 status update: both halves of the Comms Hub (CHF, GPF) or neither."""
    hub = dcc.premises.hub
    body = request.body
    if not isinstance(body, (b.CHFInstallSuccessSMWAN, b.CHFInstallSuccessNoSMWAN,
                             b.CHFFaultReturn, b.CHFNoFaultReturn)):
        raise Refused(oc.INVALID_REQUEST, f"SRV {request.srv} carries no CHF {body.TAG}")
    if body.device_id.upper() != hub.chf_id:
        raise Refused(oc.UNKNOWN_DEVICE, f"CHF {body.device_id} is not at this premises")
    for device_id in (hub.chf_id, hub.gpf_id):
        smi_check(dcc, event, device_id)
    for device_id in (hub.chf_id, hub.gpf_id):
        smi_apply(dcc, outcome, event, device_id)


@service("8.11")
def update_han_device_log(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.UpdateHANDeviceLog)
    hub = dcc.premises.hub
    device_id = body.device_id.upper()
    adding = body.request_type == "Add"
    event = "han_log_add" if adding else "han_log_remove"
    smi_check(dcc, event, device_id)
    try:
        if adding:
            if body.install_code is None or body.join_time_period is None:
                raise Refused(oc.INVALID_REQUEST, "8.11 Add needs JoinTimePeriod and InstallCode")
            alerts = hub.device_log.add(device_id, body.install_code, body.join_time_period, dcc.now)
        else:
            alerts = hub.device_log.remove(device_id, dcc.now)
    except DeviceLogError as err:
        raise Refused(oc.INVALID_REQUEST, f"CHF refused: {err}") from None
    smi_apply(dcc, outcome, event, device_id)
    record = dcc.smi.get(device_id)
    if adding and record is not None:  # the MPxNs the supplier gave, for 8.2
        record.mpxn = body.import_mpxn or record.mpxn
        record.secondary_import_mpan = body.secondary_import_mpan or record.secondary_import_mpan
        record.export_mpan = body.export_mpan or record.export_mpan
    send_alerts(dcc, request, outcome, alerts)
    outcome.documents.append(("alert_N24", dcc.alert(
        dcc.premises.dcc_id, request.request_id.originator,
        DCCAlertMessage("N24", request.request_id))))
    device = dcc.premises.devices.get(device_id)
    if not adding:
        if isinstance(dcc.han_join, HanLeave):
            dcc.han_join.removed(device_id, dcc.now)
        if device is not None:
            device.joined = False
        return
    outcome.reason, alerts = attempt_join(dcc, device, device_id)
    send_alerts(dcc, request, outcome, alerts)


def attempt_join(dcc: Dcc, device: HanDevice | None, device_id: str) -> tuple[str, list[Alert]]:
    """The device's join attempt through the HanJoin interface, once 8.11 Add opened the window."""
    log = dcc.premises.hub.device_log
    window = log.live[device_id].window
    assert window is not None  # DeviceLog.add has just opened it
    if device is None or not device.present:
        alerts = [a for a in log.expire(window.closes) if a.subject == device_id]
        return f"{device_id} is not on site: no join attempt", alerts
    result = dcc.han_join.join(log, device_id, device.install_code, dcc.now)
    device.joined = device.joined or result.joined
    return f"HAN join: {result.reason} after {result.duration_s:.0f} s", result.alerts


@service("8.1.1")
def commission(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    target = request.request_id.target.upper()
    smi_apply(dcc, outcome, "commission", target)
    device = dcc.premises.devices.get(target)
    if device is not None:
        device.commissioned = True
    record = dcc.smi.get(target)
    if record is not None and record.device_type == "GSME":  # its GPF with it (smi_transitions.yaml)
        smi_apply(dcc, outcome, "gsme_commissioned", dcc.premises.hub.gpf_id)
    send_alerts(dcc, request, outcome,
                [Alert(AlertCode.DEVICE_COMMISSIONED, target, dcc.now, target)])


@service("8.7.1", "8.7.2")
def join_service(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = request.body
    if not isinstance(body, (b.JoinServiceCritical, b.JoinServiceNonCritical)):
        raise Refused(oc.INVALID_REQUEST, f"SRV {request.srv} carries no join service {body.TAG}")
    other = body.other_device_id.upper()
    hub = dcc.premises.hub
    if other in (hub.chf_id, hub.gpf_id):
        return  # the Comms Hub's own functions are always on its HAN
    device = dcc.premises.devices.get(other)
    if device is None and dcc.smi.get(other) is None:
        raise Refused(oc.UNKNOWN_DEVICE, f"device {other} is not in the SMI")
    if device is None or not device.joined:
        raise Refused(oc.CANNOT_COMMUNICATE, f"device {other} has not joined the HAN")
    record = dcc.smi.get(other)
    if record is not None and record.device_type in ("PPMID", "HCALCS"):
        smi_apply(dcc, outcome, "joined_to_meter", record)


@service("6.23")
def change_of_supplier_credentials(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """The meter now trusts the key in the gaining supplier's Digital Signing certificate;
    its CS02b response names the certificates it replaced."""
    body = body_of(request, b.UpdateSecurityCredentialsCoS)
    given = {"ds": ("DigitalSigningCertificate", body.signing_certificate),
             "ka": ("KeyAgreementCertificate", body.key_agreement_certificate),
             "pp-ka": ("KeyAgreementTopUpCertificate", body.top_up_certificate)}
    certificates = {}
    for use, (field, der) in given.items():
        if der is None:
            continue
        try:
            certificates[use] = x509.load_der_x509_certificate(base64.b64decode(der))
        except ValueError as err:
            raise Refused(oc.INVALID_REQUEST, f"{field}: {err}") from None
    cert = certificates["ds"]
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(oc.INVALID_REQUEST, "DigitalSigningCertificate does not hold an EC key")
    holder = dcc.premises.holder(request.request_id.target)
    if holder is None:  # deliver() has refused such a target already
        raise Refused(oc.UNKNOWN_DEVICE, f"{request.request_id.target} is not at this premises")
    losing = next((user for user in dcc.premises.users
                   if holder.supplier_key is not None
                   and supplier_test_key(user).public_key() == holder.supplier_key), None)
    holder.supplier_key = key
    outcome.payload["gbcs_payload"] = gbcs_link.cos_response(dcc, request, losing, certificates)
    outcome.reason = f"meter now trusts {cert.subject.rfc4514_string()}"


@service("8.2")
def read_inventory(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.ReadInventory)
    if body.device_id is not None:
        records = [dcc.smi.get(body.device_id)]
    else:  # by UPRN or MPxN: the premises' devices
        records = list(dcc.smi.records.values())
    found = [r for r in records if r is not None][:17]
    outcome.payload = {"inventory": tuple(inventory_entry(r) for r in found)}
    outcome.reason = ", ".join(f"{r.device_type} {r.device_id} {r.status or 'no status'}" for r in found)


def inventory_entry(record: SmiRecord) -> InventoryDevice:
    return InventoryDevice(
        record.device_id, record.device_type, record.status, record.manufacturer,
        record.model, record.smets_chts_version, record.firmware_version,
        record.date_commissioned, record.mpxn, record.secondary_import_mpan,
        record.export_mpan, record.esme_variant,
    )


@service("8.3")
def decommission(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    smi_apply(dcc, outcome, "decommission", body_of(request, b.DecommissionDevice).device_id.upper())


@service("8.4")
def update_inventory(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.UpdateInventory)
    status = body.status_ch or body.status_except_ch
    event = "delete" if body.delete else f"set_{status}" if status else None
    if event is None:
        raise Refused(oc.INVALID_REQUEST, "hansim models 8.4 status updates and DeleteDevice only")
    smi_apply(dcc, outcome, event, body.device_id.upper())


@service("8.9")
def read_device_log(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    live = dcc.premises.hub.device_log.live
    outcome.reason = "device log: " + (", ".join(live) or "empty")


@service("11.1")
def update_firmware(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """Distribute the image to each listed device that models firmware (0x8F72 / 0x8F1C)."""
    user = request.request_id.originator
    body = body_of(request, b.UpdateFirmware)
    devices = [d.strip().upper() for d in body.device_ids.split(",") if d.strip()]
    for device_id in devices:
        record = dcc.smi.get(device_id)
        if record is None:
            raise Refused(oc.UNKNOWN_DEVICE, f"device {device_id} is not in the SMI")
        if user not in dcc.premises.registered_suppliers(record.device_type):
            raise Refused(oc.NOT_DEVICE_SUPPLIER,
                          f"{user} is not the registered supplier of {record.device_type} {device_id}")
    if not dcc.premises.hub.wan_connected:
        raise Refused(oc.CANNOT_COMMUNICATE, "no SM WAN at the premises: the image cannot be "
                                             "distributed to the Comms Hub")
    not_commissioned = tuple(d for d in devices if dcc.smi.status(d) != "Commissioned")
    if not_commissioned:  # DUIS: listed in the response, the image goes to the others only
        outcome.code = oc.UPDATE_FIRMWARE_WARNING
        outcome.payload["not_commissioned"] = not_commissioned
    image = base64.b64decode(body.image)
    reached = [(d, fw) for d in devices
               if d not in not_commissioned and (fw := dcc.premises.firmware(d)) is not None]
    hub = dcc.premises.hub
    for device_id, firmware in reached:
        key = dcc.premises.supplier_key(device_id)
        holder = dcc.premises.holder(device_id)
        if holder is hub:  # the Comms Hub's own image: no HAN transfer
            alerts = firmware.deliver(image, dcc.now, key)
        else:
            alerts = transfer(hub.chf_id, device_id, firmware, isinstance(holder, HanDevice) and holder.joined,
                              image, dcc.now, key)
        send_alerts(dcc, request, outcome, alerts)
    outcome.reason = (f"image delivered to {', '.join(d for d, _ in reached)}" if reached
                      else "no listed device models firmware: image accepted, not delivered")
    if not_commissioned:
        outcome.reason += f"; not Commissioned, not sent: {', '.join(not_commissioned)}"


@service("11.3")
def activate_firmware(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """Run the pending image named by its hash (0x8F43); the SMI learns the new version."""
    target = request.request_id.target.upper()
    firmware = dcc.premises.firmware(target)
    if firmware is None:
        outcome.reason = f"{target} models no firmware: signed activation delivered, no change"
        return
    try:
        alerts = firmware.activate(bytes.fromhex(body_of(request, b.ActivateFirmware).firmware_hash),
                                   dcc.now)
    except ActivationError as err:  # the device's own answer (CS06), not a DCC error
        outcome.payload["gbcs_payload"] = gbcs_link.device_response(
            dcc, request, (err.result, firmware.running))
        outcome.reason = f"device response: {err.result.name.lower().replace('_', ' ')}: {err}"
        return
    outcome.payload["gbcs_payload"] = gbcs_link.device_response(
        dcc, request, (ActivationResult.SUCCESS, firmware.running))
    version = alerts[0].detail["firmware_version"]
    record = dcc.smi.get(target)
    if record is not None:
        record.firmware_version = version
    outcome.reason = f"{target} now runs firmware {version}"
    send_alerts(dcc, request, outcome, alerts)
