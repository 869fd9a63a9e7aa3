"""What each service request does once the front door has let it in.

One function per SRV, registered in ``SERVICES``. Device-delivered requests get an
acknowledgement (I99) and then the device's response (I0); DCC-only requests one I0
response. Alerts follow in the order they are raised, each its own DUIS document.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from devices.alerts import Alert, AlertCode
from devices.commshub import CommsHub
from devices.device_log import DeviceLogError
from devices.firmware import ActivationError
from devices.firmware_transfer import transfer
from devices.han_join import HanLeave
from devices.meter import HanDevice
from gbcs.use_cases import ActivationResult, CertificateUpdate
from sim.dcc import gbcs_link
from sim.dcc import outcome as oc
from sim.dcc.outcome import Outcome, Refused
from sim.dcc.smi import SmiRecord, SmiRefusal
from sim.duis import bodies as b
from sim.duis.precommand import (
    DUIS_CANCEL,
    PreCommandError,
    open_signed,
    pre_command,
    supplier_test_key,
)
from sim.duis.request import ServiceRequest
from sim.duis.response import DCCAlertMessage, DeviceAlertMessage, InventoryDevice

if TYPE_CHECKING:
    from sim.dcc.frontdoor import Dcc

CRITICAL_VARIANTS = {5, 6, 7}  # signed pre-commands; 4 asks for one
Service = Callable[["Dcc", ServiceRequest, Outcome], None]
SERVICES: dict[str, Service] = {}
B = TypeVar("B", bound=b.Body)


#: Checks the DCC makes before it acknowledges a device request (an E code then comes
#: back at once, not in the device's response).
CHECKS: dict[str, Service] = {}


def service(*srvs: str, table: dict[str, Service] = SERVICES) -> Callable[[Service], Service]:
    def register(fn: Service) -> Service:
        for srv in srvs:
            table[srv] = fn
        return fn
    return register


def before_ack(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    check = CHECKS.get(request.srv)
    if check is not None:
        check(dcc, request, outcome)


def carry_out(dcc: Dcc, request: ServiceRequest, rule: dict, outcome: Outcome) -> None:
    """Run a request the front door accepted: pre-command, delivery, then its service."""
    target = request.request_id.target
    if rule.get("event") and rule["to"] == "device":
        smi_check(dcc, rule["event"], target)
    if request.command_variant == 4:
        before_ack(dcc, request, outcome)
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
        before_ack(dcc, request, outcome)
        outcome.documents.append(("ack", dcc.response(request, oc.ACKNOWLEDGED)))
        if is_cancellation(request.body):
            cancelled = dcc.cancel(request)
            outcome.reason = (f"cancelled {len(cancelled)} future-dated SRV {request.srv} "
                              f"command(s): {', '.join(map(str, cancelled))}" if cancelled
                              else f"no future-dated SRV {request.srv} command was pending")
            # the device accepts a cancelling command as it does a future-dated one (RTDS
            # CS06 CANCELLATION response: signed "Command Accepted" with its date-time)
            outcome.documents.append(("response", dcc.response(
                request, oc.SUCCESS, gbcs_payload=gbcs_link.future_dated_response(dcc, request))))
            return
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


def is_cancellation(body: object) -> bool:
    """A request whose ExecutionDateTime is DUIS's cancel value (the DCC's CANCELLATION
    templates for 6.15.1, 6.23, 11.3 and the tariff SRVs): cancel, do not schedule."""
    when = getattr(body, "execution_date_time", None)
    return isinstance(when, str) and execution_moment(when) == DUIS_CANCEL


def execution_moment(value: str) -> dt.datetime:
    """An ExecutionDateTime as an aware datetime (UTC when it names no zone)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Refused(oc.INVALID_REQUEST, f"ExecutionDateTime {value!r} is not an xs:dateTime") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


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
    rows = dcc.premises.coverage.lookup(body)  # the premises whose rows match (Dcc.concerned)
    if rows is None:
        raise Refused(oc.code("12.1", "not_covered"), "premises not in the SM WAN coverage database")
    outcome.payload = {"wan_matrix": (body, tuple(r.row() for r in rows))}
    outcome.reason = ", ".join(
        f"{r.csp_region}: {'covered' if r.available else 'not covered'} ({r.likelihood})"
        for r in rows)


@service("12.2")
def prenotify(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.DevicePrenotification)
    known = dcc.smi.get(body.device_id)
    if known is not None:
        raise Refused(oc.code("12.2", "already_known"),
                      f"{known.device_type} {known.device_id} is already in the SMI ({known.status})")
    record = SmiRecord(body.device_id.upper(), body.device_type, body.manufacturer,
                       body.model, body.firmware_version, smets_chts_version=body.smets_chts_version,
                       esme_variant=body.esme_variant, prenotified_by=request.request_id.originator)
    smi_apply(dcc, outcome, "prenotify", record)


@service("8.14.1", "8.14.2")
def install_comms_hub(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    with_wan = request.srv == "8.14.1"
    if with_wan and not dcc.premises.hub.wan_connected:
        raise Refused(oc.code("8.14.1", "no_wan"),
                      "8.14.1 says the Comms Hub is on the SM WAN, but it is not: send 8.14.2")
    comms_hub_event(dcc, request, outcome, "ch_install_wan" if with_wan else "ch_install_no_wan")


@service("8.14.3", "8.14.4")
def return_comms_hub(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """Fault or no-fault return to the CSP: the CHF and its GPF are Withdrawn."""
    comms_hub_event(dcc, request, outcome, "ch_return")


def comms_hub_event(dcc: Dcc, request: ServiceRequest, outcome: Outcome, event: str) -> None:
    """An 8.14 status update: both halves of the Comms Hub (CHF, GPF) or neither. Installing
    the premises' replacement hub swaps it in; returning names the hub it replaced."""
    body = request.body
    if not isinstance(body, (b.CHFInstallSuccessSMWAN, b.CHFInstallSuccessNoSMWAN,
                             b.CHFFaultReturn, b.CHFNoFaultReturn)):
        raise Refused(oc.INVALID_REQUEST, f"SRV {request.srv} carries no CHF {body.TAG}")
    premises = dcc.premises
    named = body.device_id.upper()
    installing = event != "ch_return"
    hub = premises.hub
    if named != hub.chf_id:
        candidate = premises.replacement if installing else premises.replaced.get(named)
        if candidate is None or candidate.chf_id != named:
            raise Refused(oc.code(request.srv, "not_this_premises"),
                          f"CHF {body.device_id} is not at this premises")
        hub = candidate
    for device_id in (hub.chf_id, hub.gpf_id):
        smi_check(dcc, event, device_id)
    for device_id in (hub.chf_id, hub.gpf_id):
        smi_apply(dcc, outcome, event, device_id)
    if hub is premises.replacement:
        old = premises.install_replacement()
        outcome.reason = (f"Comms Hub {hub.chf_id} installed in place of {old.chf_id}: its HAN "
                          "devices rejoin once 8.12.1 restores the device log")


def restore_source(dcc: Dcc, request: ServiceRequest) -> CommsHub:
    """The replaced Comms Hub whose device log an 8.12.1 (CHF) or 8.12.2 (GPF) restores:
    one this premises took out of service, not the one in service (codes: hansim's
    reading of the E0812xx family, L)."""
    body, premises = request.body, dcc.premises
    if isinstance(body, b.RestoreHANDeviceLog):
        old_id, in_service = body.old_chf_id.upper(), premises.hub.chf_id
        old = premises.replaced.get(old_id)
    elif isinstance(body, b.RestoreGPFDeviceLog):
        old_id, in_service = body.old_gpf_id.upper(), premises.hub.gpf_id
        old = premises.replaced_by_gpf(old_id)
    else:
        raise Refused(oc.INVALID_REQUEST, f"SRV {request.srv} carries no restore body {body.TAG}")
    if old_id == in_service:
        raise Refused(oc.code(request.srv, "old_in_service"),
                      f"{old_id} is the Comms Hub in service here: there is no replaced log")
    if old is None:
        raise Refused(oc.code(request.srv, "no_backup"),
                      f"the DCC holds no device log of {old_id}: no Comms Hub replaced here")
    return old


@service("8.12.1", "8.12.2", table=CHECKS)
def check_restore(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    restore_source(dcc, request)


@service("8.12.1")
def restore_han_device_log(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """CCS03: the DCC sends the old CHF's device log (its CS14 backup) to the new CHF, which
    forms the old HAN; each device still holding its link key rejoins (0x8F12 follows)."""
    old = restore_source(dcc, request)
    log = dcc.premises.hub.device_log
    alerts = log.restore(old.device_log, dcc.now)
    rejoined, left_out = [], []
    for device_id in log.live:
        device = dcc.premises.devices.get(device_id)
        if device is not None and device.present and log.rejoin(
                device_id, bytes(device.install_code.link_key())):
            device.joined = True
            rejoined.append(device_id)
        else:
            left_out.append(device_id)
    send_alerts(dcc, request, outcome, alerts)
    outcome.reason = (f"device log of {old.chf_id} restored: {len(log.live)} entries; rejoined "
                      f"{', '.join(rejoined) or 'none'}"
                      + (f"; not rejoined {', '.join(left_out)}" if left_out else ""))


@service("8.12.2")
def restore_gpf_device_log(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """GCS59: the devices joined to the old GPF are joined to the new one; the new GPF is
    Commissioned with a Commissioned gas meter, as 8.1.1 of the GSME does (L)."""
    old = restore_source(dcc, request)
    new_gpf = dcc.premises.hub.gpf_id
    def moved(device_id: str) -> str:
        return new_gpf if device_id == old.gpf_id else device_id
    restored = sorted({other for pair in dcc.joins if old.gpf_id in pair
                       for other in pair if other != old.gpf_id})
    dcc.joins = {(moved(target), moved(other)) for target, other in dcc.joins}
    entries = [(device_id, record.device_type if (record := dcc.smi.get(device_id)) else "Type 2")
               for device_id in restored]
    outcome.payload["gbcs_payload"] = gbcs_link.gpf_log_restore_response(dcc, request, entries)
    if any(r.device_type == "GSME" and r.status == "Commissioned" for r in dcc.smi.records.values()
           if r.device_id in dcc.premises.devices):
        smi_apply(dcc, outcome, "gsme_commissioned", new_gpf)
    outcome.reason = (f"GPF device log of {old.gpf_id} restored: "
                      f"{', '.join(restored) or 'no devices joined to it'}")


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
                raise Refused(oc.code("8.11", "no_install_code"), "8.11 Add needs JoinTimePeriod and InstallCode")
            alerts = hub.device_log.add(device_id, body.install_code, body.join_time_period, dcc.now)
        else:
            alerts = hub.device_log.remove(device_id, dcc.now)
    except DeviceLogError as err:
        raise Refused(oc.code("8.11", "device_log_refused"), f"CHF refused: {err}") from None
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
        if isinstance(han := dcc.han(), HanLeave):
            han.removed(device_id, dcc.now)
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
    result = dcc.han().join(log, device_id, device.install_code, dcc.now)
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
    target = request.request_id.target.upper()
    outcome.reason = f"{other} joined to {target}"
    if other in (hub.chf_id, hub.gpf_id):  # the Comms Hub's own functions are always on its HAN
        dcc.joins.add((target, other))
        return
    device = dcc.premises.devices.get(other)
    if device is None and dcc.smi.get(other) is None:
        raise Refused(oc.UNKNOWN_DEVICE, f"device {other} is not in the SMI")
    if device is None or not device.joined:
        raise Refused(oc.CANNOT_COMMUNICATE, f"device {other} has not joined the HAN")
    record = dcc.smi.get(other)
    if record is not None and record.device_type in ("PPMID", "HCALCS"):
        smi_apply(dcc, outcome, "joined_to_meter", record)
    dcc.joins.add((target, other))


def unjoin_pair(request: ServiceRequest) -> tuple[str, str]:
    """(target, device to unjoin from it) of an 8.8.x request."""
    body = request.body
    if not isinstance(body, (b.UnjoinServiceCritical, b.UnjoinServiceNonCritical)):
        raise Refused(oc.INVALID_REQUEST, f"SRV {request.srv} carries no unjoin service {body.TAG}")
    return request.request_id.target.upper(), body.other_device_id.upper()


@service("8.8.1", "8.8.2", table=CHECKS)
def check_unjoin(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """The DCC refuses to unjoin a device it does not know, or one that is not joined to
    the target (as far as its joins and unjoins tell; the code is hansim's reading, L)."""
    target, other = unjoin_pair(request)
    if other not in dcc.premises.devices and dcc.smi.get(other) is None \
            and other not in (dcc.premises.hub.chf_id, dcc.premises.hub.gpf_id):
        raise Refused(oc.UNKNOWN_DEVICE, f"device {other} is not in the SMI")
    if (target, other) not in dcc.joins:
        raise Refused(oc.code(request.srv, "not_joined"), f"{other} is not joined to {target}")


@service("8.8.1", "8.8.2")
def unjoin_service(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """The target forgets a device it was joined to (CS04AC / CS04B)."""
    target, other = unjoin_pair(request)
    dcc.joins.discard((target, other))
    outcome.reason = f"{other} unjoined from {target}"


@service("6.23")
def change_of_supplier_credentials(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """The meter now trusts the key in the gaining supplier's Digital Signing certificate;
    its CS02b response names the certificates it replaced."""
    certificates, key = _replacement_certificates(
        request.srv, body_of(request, b.UpdateSecurityCredentialsCoS))
    cert = certificates["ds"]
    holder = dcc.premises.holder(request.request_id.target)
    if holder is None:  # deliver() has refused such a target already
        raise Refused(oc.UNKNOWN_DEVICE, f"{request.request_id.target} is not at this premises")
    losing = next((user for user in dcc.premises.users
                   if holder.supplier_key is not None
                   and supplier_test_key(user).public_key() == holder.supplier_key), None)
    holder.supplier_key = key
    outcome.payload["gbcs_payload"] = gbcs_link.cos_response(dcc, request, losing, certificates)
    outcome.reason = f"meter now trusts {cert.subject.rfc4514_string()}"


@service("6.21")
def handover_of_dcc_controlled_device(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """The device now trusts the requesting party's Digital Signing certificate in place of
    the DCC's (CS02b handover): its critical commands are checked with that key."""
    body = body_of(request, b.RequestHandoverOfDCCControlledDevice)
    certificates, key = _replacement_certificates(request.srv, body)
    cert = certificates["ds"]
    holder = dcc.premises.holder(request.request_id.target)
    assert holder is not None  # the front door found the target in the SMI and on the HAN
    holder.supplier_key = key
    outcome.payload["gbcs_payload"] = gbcs_link.handover_response(dcc, request, certificates)
    outcome.reason = f"{body.remote_party_role} credentials now {cert.subject.rfc4514_string()}"


@service("6.15.1")
def update_own_credentials(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """CS02b supplier by supplier (the device verified it with the supplier's current
    key): the device now trusts the new Digital Signing certificate; its signed response
    names the certificates it replaced."""
    body = body_of(request, b.UpdateSecurityCredentialsKRP)
    certificates, key = _replacement_certificates(request.srv, body)
    holder = dcc.premises.holder(request.request_id.target)
    assert holder is not None  # the front door found the target in the SMI and on the HAN
    if body.remote_party_role == "LoadController":  # CS02g: the ESME's load controller cells
        assert isinstance(holder, HanDevice)  # the pre-command went to an ESME only
        held = dict(holder.load_controller)
        holder.load_controller = {use: gbcs_link.identity(cert) for use, cert in certificates.items()}
        outcome.payload["gbcs_payload"] = gbcs_link.own_credentials_response(
            dcc, request, certificates, held)
        outcome.reason = (f"LoadController credentials now "
                          f"{certificates['ds'].subject.rfc4514_string()}")
        return
    holder.supplier_key = key
    outcome.payload["gbcs_payload"] = gbcs_link.own_credentials_response(dcc, request, certificates)
    outcome.reason = (f"{body.remote_party_role} credentials now "
                      f"{certificates['ds'].subject.rfc4514_string()}")


@service("6.15.2")
def update_device_certificate(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """CS02d: the device takes the certificate issued for it if it names the device and
    certifies the key pair it holds; its signed response says so, or why not."""
    body = body_of(request, b.UpdateSecurityCredentialsDevice)
    cert = _certificate(request.srv, "DeviceCertificate", body.device_certificate)
    result, why = gbcs_link.device_certificate_result(request.request_id.target, cert)
    outcome.payload["gbcs_payload"] = gbcs_link.certificate_update_response(dcc, request, result)
    if result != CertificateUpdate.SUCCESS:  # the device's own answer (CS02d), not a DCC error
        outcome.reason = f"device response: {result.name.lower().replace('_', ' ')}: {why}"
        return
    outcome.reason = f"device certificate {cert.subject.rfc4514_string() or cert.serial_number} taken"


def _replacement_certificates(
    srv: str, body: b.UpdateSecurityCredentialsCoS | b.RequestHandoverOfDCCControlledDevice
    | b.UpdateSecurityCredentialsKRP,
) -> tuple[dict[str, x509.Certificate], ec.EllipticCurvePublicKey]:
    """The replacement certificates a CS02b request carries, by use (ds, ka, pp-ka), and
    the key of the Digital Signing one, which the device will trust."""
    given = {"ds": ("DigitalSigningCertificate", body.signing_certificate),
             "ka": ("KeyAgreementCertificate", body.key_agreement_certificate),
             "pp-ka": ("KeyAgreementTopUpCertificate", body.top_up_certificate)}
    certificates = {use: _certificate(srv, field, der) for use, (field, der) in given.items()
                    if der is not None}
    key = certificates["ds"].public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(oc.code(srv, "bad_certificate"), "DigitalSigningCertificate does not hold an EC key")
    return certificates, key


def _certificate(srv: str, field: str, der: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode(der))
    except ValueError as err:
        raise Refused(oc.code(srv, "bad_certificate"), f"{field}: {err}") from None


@service("11.2")
def read_firmware_version(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """What the device runs: its firmware slots where modelled, else what the SMI holds."""
    target = request.request_id.target.upper()
    version = gbcs_link.running_version(dcc, target)
    outcome.reason = f"{target} runs firmware {'unknown' if version is None else f'{version:08X}'}"


@service("8.2")
def read_inventory(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    body = body_of(request, b.ReadInventory)
    if body.device_id is not None:
        records = [dcc.smi.get(body.device_id)]
    else:  # by UPRN or MPxN: that premises' devices (the SMI holds the whole street's)
        records = [r for r in dcc.smi.records.values()
                   if len(dcc.estate) == 1 or dcc.premises_of(r.device_id) is dcc.premises]
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
        raise Refused(oc.code("8.4", "unsupported_update"),
                      "hansim models 8.4 status updates and DeleteDevice only")
    smi_apply(dcc, outcome, event, body.device_id.upper())


@service("8.9")
def read_device_log(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """CCS06: the CHF's device log; CS07: the devices a meter is joined to (8.7.x, 8.8.x)."""
    target = request.request_id.target.upper()
    if target == dcc.premises.hub.chf_id:
        outcome.reason = "device log: " + (", ".join(dcc.premises.hub.device_log.live) or "empty")
        return
    joined = sorted(other for meter, other in dcc.joins if meter == target)
    outcome.reason = f"{target} joined to: " + (", ".join(joined) or "none")


@service("11.1")
def update_firmware(dcc: Dcc, request: ServiceRequest, outcome: Outcome) -> None:
    """Distribute the image to each listed device that models firmware (0x8F72 / 0x8F1C)."""
    user = request.request_id.originator
    body = body_of(request, b.UpdateFirmware)
    try:  # xs:base64Binary (whitespace allowed): what the schema checks before any rule
        image = base64.b64decode("".join(body.image.split()), validate=True)
    except ValueError:
        raise Refused(oc.INVALID_REQUEST, "FirmwareImage is not base64") from None
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
