"""The GBCS side of the DCC model's traffic: for each device response and device alert,
the GBCS message DUIS carries as ``GBCSPayload`` (base64), built with :mod:`gbcs`.

Who builds what (GBCS 4.3): the CHF MACs its CCS01/CCS02 responses and the 0x8F12 alert
for the DCC's Access Control Broker; a meter signs its responses to critical commands
(ECS70, GCS28, CS03A1 / CS03A2, CS06) and its firmware receipt alert (0x8F72 / 0x8F1C) for the
supplier; the CHF signs its firmware transfer alert (CCS08 0x8F8A / 0x8F89) for the ACB;
other alerts (0x8F48, 0x8F49, 0x8F43, 0x8F69) go to the supplier as generic non-critical
alerts, MACed; the meter signs its CS02b response to 6.23 for the DCC's TransCoS party.
A command held until its execution time (11.3, 6.23) is answered "Command Accepted" and,
when it runs, by the signed future-dated alert 0x8F66 / 0x8F67 with its outcome (CS06:
0x00CA, CS02b: 0x00CB); a cancellation is answered "Command Accepted" too. Commands the
ACB sends for a user (CCS01/CCS02, CS08, non-critical CS04AC) are answered to the ACB with
the user as supplementary remote party; so is CCS06 (8.9 on the CHF: the device log with
each device's link figures as the CHF measured them). A GSME speaks GBZ: its 11.2 answer
is GCS38, its alerts GBZ alerts (0x00CF firmware receipt, generic ones). The device signs
its CS02d response to 6.15.2. 8.7.2 on a meter is CS03B (supplier to meter, MACed both
ways); on any other device, CS03A2 sent by the ACB for the user and signed by the device
(RTDS 8.7.2 vectors). SRVs whose GBCS hansim does not build answer without a payload.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from cryptography import x509

from devices.alerts import Alert, AlertCode
from devices.han_join import PanIdentity
from gbcs import asn1, dlms
from gbcs import use_cases as uc
from gbcs.grouping import Cra, GroupingHeader
from gbcs.keystore import Use, eui_bytes, shared
from gbcs.messages import ACB, Envelopes
from gbcs.use_cases import ActivationResult
from sim.duis.bodies import (
    RequestHandoverOfDCCControlledDevice,
    UpdateHANDeviceLog,
    UpdateSecurityCredentialsCoS,
    UpdateSecurityCredentialsKRP,
)
from sim.duis.request import ServiceRequest

if TYPE_CHECKING:
    from sim.dcc.frontdoor import Dcc
    from sim.dcc.premises import Premises

#: The device responses signed by the device (responses to critical commands).
SIGNED_RESPONSES = {"8.1.1", "8.7.1", "8.8.1", "11.3"}


def envelopes() -> Envelopes:
    return Envelopes(shared())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _moment(dcc: Dcc, at: float) -> dt.datetime:
    return dcc.start + dt.timedelta(seconds=at)


def firmware_version(version: int) -> bytes:
    return version.to_bytes(4)


def _device_time(dcc: Dcc) -> bytes:
    """The grouping header's Date Time: GBCS puts the device's time in its response to a
    command that may be future-dated (CS06, CS02b; as the RTDS responses)."""
    return dlms.date_time(_moment(dcc, dcc.now))


def device_response(dcc: Dcc, request: ServiceRequest,
                    activation: tuple[ActivationResult, int] | None = None) -> str | None:
    """The device's GBCS response to a request it carried out (None: not built).

    ``activation`` is the 11.3 outcome: the result and the version the device now runs."""
    rid = request.request_id
    device, user, counter = eui_bytes(rid.target), eui_bytes(rid.originator), rid.counter
    e = envelopes()
    dated, signed = b"", True
    match request.srv:
        case "8.12.1":
            return _for_acb(dcc, request, uc.MessageCode.CCS03,
                            lambda n: uc.device_log_response(n, uc.CCS03_ACCESS), False)
        case "8.11":
            body = request.body
            adding = isinstance(body, UpdateHANDeviceLog) and body.request_type == "Add"
            code = uc.MessageCode.CCS01 if adding else uc.MessageCode.CCS02
            kinds = uc.CCS01_ACCESS if adding else uc.CCS02_ACCESS
            return _for_acb(dcc, request, code, lambda n: uc.device_log_response(n, kinds), False)
        case "11.2" if (version := running_version(dcc, rid.target)) is not None:
            running = firmware_version(version)
            match _device_type(dcc, rid.target):
                case "ESME" | "CHF":
                    code, content = uc.MessageCode.ECS52, uc.ecs52_response(counter, running)
                case "GSME":
                    code, content = uc.MessageCode.GCS38, uc.gcs38_response(running)
                case _:
                    return _for_acb(dcc, request, uc.MessageCode.CS08,
                                    lambda _: uc.cs08_response(running), False)
            signed = False
        case "8.8.2" if not _is_meter(dcc, rid.target):
            return _for_acb(dcc, request, uc.MessageCode.CS04AC,
                            lambda _: uc.response_code(0), True)
        case "8.8.2":
            code, content, signed = uc.MessageCode.CS04B, uc.response_code(0), False
        case "8.9" if rid.target.upper() == dcc.premises.hub.chf_id:
            devices = active_devices(dcc)
            return _for_acb(dcc, request, uc.MessageCode.CCS06,
                            lambda n: uc.ccs06_response(n, devices), False)
        case "8.9":
            joined = sorted(other for meter, other in dcc.joins if meter == rid.target.upper())
            typed = [(eui_bytes(d), _device_type(dcc, d)) for d in joined]
            if any(kind is None for _, kind in typed):
                return None  # a device the SMI does not type cannot be listed
            code, signed = uc.MessageCode.CS07, False
            content = uc.cs07_response([(eui, cast(str, kind)) for eui, kind in typed])
        case "8.1.1":
            now = _moment(dcc, dcc.now)
            record = dcc.smi.get(rid.target)
            kind = record.device_type if record else None
            if kind == "GSME":
                code, content = uc.MessageCode.GCS28, uc.gcs28_response(now)
            else:
                code, content = uc.MessageCode.ECS70, uc.ecs70_response(counter, now)
        case "8.7.1" | "8.7.2":
            critical = request.srv == "8.7.1"
            code = uc.join_use_case(_device_type(dcc, rid.target) or "", critical)
            if not critical and code == uc.MessageCode.CS03A2:  # the ACB sends it for the user
                return _for_acb(dcc, request, code, lambda _: uc.response_code(0), True)
            content, signed = uc.response_code(0), critical
        case "8.8.1":
            code, content = uc.MessageCode.CS04AC, uc.response_code(0)
        case "11.3" if activation is not None:
            result, version = activation
            code, content = uc.MessageCode.CS06, uc.cs06_outcome(result, firmware_version(version))
            dated = _device_time(dcc)
        case _:
            return None
    header = GroupingHeader(Cra.RESPONSE, counter, device, user, code, date_time=dated)
    return _b64(e.reply(header, content, signed=signed))


def _for_acb(dcc: Dcc, request: ServiceRequest, code: uc.MessageCode,
             content: Callable[[int], bytes], signed: bool) -> str:
    """The device's response to a command the DCC's Access Control Broker sent for the
    user (GBCS 4.3.1: the header names the user and its counter as supplementary remote
    party); ``content`` gets the ACB's counter, which the response echoes."""
    rid = request.request_id
    dcc.acb_counter += 1
    header = GroupingHeader(Cra.RESPONSE, dcc.acb_counter, eui_bytes(rid.target), ACB, code,
                            eui_bytes(rid.originator), rid.counter)
    return _b64(envelopes().reply(header, content(dcc.acb_counter), signed=signed))


def active_devices(dcc: Dcc) -> list[uc.ActiveDevice]:
    """The CHF's device log as CCS06 reads it: each device with what the CHF measured of
    its link (nothing, under the key-level join model, which exchanges no frames)."""
    out = []
    for entry in dcc.premises.hub.device_log.live.values():
        link = entry.link
        heard = None if link.last_heard is None else _moment(dcc, link.last_heard)
        out.append(uc.ActiveDevice(
            eui_bytes(entry.device_id), entry.joined, link.heard > 0, link.smart_energy,
            link.rssi, link.lqi, heard, link.hops if link.heard else 0,
            link.transmission_failures, link.transmission_successes))
    return out


def gpf_log_restore_response(dcc: Dcc, request: ServiceRequest,
                             entries: list[tuple[str, str]]) -> str:
    """The new GPF's GCS59 response to the ACB (no supplementary remote party, as RTDS
    8.12.2): each restored entry, joined (response code 0)."""
    dcc.acb_counter += 1
    header = GroupingHeader(Cra.RESPONSE, dcc.acb_counter, eui_bytes(request.request_id.target),
                            ACB, uc.MessageCode.GCS59)
    content = uc.gcs59_response([(eui_bytes(d), kind if kind in uc.DEVICE_TYPES else "Type 2", 0)
                                 for d, kind in entries])
    return _b64(envelopes().reply(header, content, signed=False))


def extended_pan_id(dcc: Dcc, chf_id: str) -> bytes:
    """The Extended PAN ID of the CHF's HAN: the one its join model's PAN carries or, with
    no PAN modelled, the CHF's own EUI-64 (what a trust centre given none takes, ZigBee
    apsUseExtendedPANID 0)."""
    held = dcc.han_join.extended_pan_id(chf_id) if isinstance(dcc.han_join, PanIdentity) else None
    return held if held is not None else eui_bytes(chf_id)


def _device_type(dcc: Dcc, device: str) -> str | None:
    hub = dcc.premises.hub
    if device.upper() in (hub.chf_id, hub.gpf_id):
        return "CHF" if device.upper() == hub.chf_id else "GPF"
    record = dcc.smi.get(device)
    return record.device_type if record is not None else None


def _is_meter(dcc: Dcc, device: str) -> bool:
    return _device_type(dcc, device) in uc.METERS


def running_version(dcc: Dcc, device: str) -> int | None:
    """The firmware version the device runs: its firmware slots where modelled, else the
    SMI's (None: unknown)."""
    firmware = dcc.premises.firmware(device.upper())
    if firmware is not None:
        return firmware.running
    record = dcc.smi.get(device.upper())
    try:
        return int(record.firmware_version, 16) if record and record.firmware_version else None
    except ValueError:
        return None


def future_dated_response(dcc: Dcc, request: ServiceRequest) -> str | None:
    """The device's "Command Accepted" to a command it holds until its execution time
    (CS06 to the supplier, CS02b to the DCC's TransCoS party; None: not built)."""
    rid = request.request_id
    match request.srv:
        case "11.3":
            recipient, code = eui_bytes(rid.originator), uc.MessageCode.CS06
            content = uc.COMMAND_ACCEPTED
        case "6.23":
            recipient, code = TRANSCOS, uc.MessageCode.CS02B_SUPPLIER_BY_TRANSCOS
            content = uc.cs02b_response(None)
        case "6.15.1" if isinstance(request.body, UpdateSecurityCredentialsKRP):
            recipient, code = eui_bytes(rid.originator), _own_credentials_use_case(request.body)
            content = uc.cs02b_response(None)
        case _:
            return None
    header = GroupingHeader(Cra.RESPONSE, rid.counter, eui_bytes(rid.target), recipient, code,
                            date_time=_device_time(dcc))
    return _b64(envelopes().reply(header, content, signed=True))


def future_dated_alert(dcc: Dcc, request: ServiceRequest, response: str | None,
                       refused: bool) -> Alert:
    """0x8F66 / 0x8F67 when a held command ran: actioned unless the DCC model refused it or
    the device's own outcome (``response``, what it would have answered at once) is not
    success. The GBCS alert carries that outcome (see :func:`alert_payload`)."""
    actioned = not refused
    if actioned and response and request.srv == "11.3":
        outcome = envelopes().open(base64.b64decode(response)).message.content
        actioned = uc.cs06_succeeded(outcome)
    code = AlertCode.FUTURE_DATED_ACTIONED if actioned else AlertCode.FUTURE_DATED_NOT_ACTIONED
    target = request.request_id.target.upper()
    return Alert(code, target, dcc.now, target,
                 {"srv": request.srv, "counter": str(request.request_id.counter),
                  "response": response or ""})


def _future_dated_payload(alert: Alert, counter: int, when: dt.datetime,
                          user: bytes) -> bytes | None:
    """The CS06 (0x00CA), CS02b (0x00CB) or CS02g (0x0124) future-dated alert, from the
    outcome the device reached, to whom the response went (the user, or TransCoS for
    6.23); None where hansim has no outcome to carry (a generic alert goes instead)."""
    detail = alert.detail
    if not detail.get("response"):
        return None
    response = envelopes().open(base64.b64decode(detail["response"])).message
    content = response.content
    raiser = eui_bytes(alert.raised_by)
    actioned = alert.code == AlertCode.FUTURE_DATED_ACTIONED
    if detail["srv"] == "11.3":
        header = GroupingHeader(Cra.ALERT, counter, raiser, user, uc.MessageCode.CS06_ALERT)
        body = uc.cs06_future_dated_alert(when, int(detail["counter"]), content)
    elif detail["srv"] in ("6.23", "6.15.1"):
        code = (uc.MessageCode.CS02G_ALERT if response.header.message_code == uc.MessageCode.CS02G
                else uc.MessageCode.CS02B_ALERT)
        header = GroupingHeader(Cra.ALERT, counter, raiser, response.header.recipient, code)
        body = uc.cs02b_future_dated_alert(actioned, when, asn1.items(content)[1])
    else:
        return None
    return envelopes().reply(header, body, signed=True)


def alert_payload(dcc: Dcc, alert: Alert, to_user: str) -> str:
    """The GBCS alert behind a DUIS DeviceAlertMessage."""
    dcc.acb_counter += 1
    counter, when = dcc.acb_counter, _moment(dcc, alert.time)
    raiser, user = eui_bytes(alert.raised_by), eui_bytes(to_user)
    e = envelopes()
    if alert.code == AlertCode.DEVICE_LOG_CHANGED:
        hub = dcc.premises.hub
        log = [(eui_bytes(d), entry.link_key) for d, entry in hub.device_log.live.items()]
        header = GroupingHeader(Cra.ALERT, counter, raiser, ACB, uc.MessageCode.CS14)
        content = uc.cs14_device_log_changed(counter, when, extended_pan_id(dcc, hub.device_log.pan_of), log)
        return _b64(e.reply(header, content, signed=False))
    gas = _device_type(dcc, alert.raised_by) == "GSME"  # a GSME speaks GBZ, not DLMS
    if alert.code in (AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL,
                      AlertCode.FIRMWARE_VERIFICATION_FAILED):
        image_hash = bytes.fromhex(alert.detail["firmware_hash"])
        verified = alert.code == AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL
        header = GroupingHeader(Cra.ALERT, counter, raiser, user, uc.firmware_receipt_use_case(gas))
        return _b64(e.reply(header, uc.firmware_receipt_alert(counter, verified, when, image_hash,
                                                              gas), signed=True))
    if alert.code in (AlertCode.FIRMWARE_TRANSFER_SUCCEEDED, AlertCode.FIRMWARE_TRANSFER_FAILED):
        assert alert.subject is not None  # firmware_transfer.transfer names the device
        content = uc.ccs08_firmware_transfer_alert(
            when, eui_bytes(alert.subject), bytes.fromhex(alert.detail["firmware_version"]),
            uc.TransferResult[alert.detail["transfer_result"]])
        header = GroupingHeader(Cra.ALERT, counter, raiser, ACB, uc.MessageCode.CCS08)
        return _b64(e.reply(header, content, signed=True))
    if alert.code in (AlertCode.FUTURE_DATED_ACTIONED, AlertCode.FUTURE_DATED_NOT_ACTIONED):
        built = _future_dated_payload(alert, counter, when, user)
        if built is not None:
            return _b64(built)
    header = GroupingHeader(Cra.ALERT, counter, raiser, user, uc.MessageCode.GNCA)
    return _b64(e.reply(header, uc.generic_alert(counter, alert.code, when, gas), signed=False))



def keystore_files(premises: Premises) -> dict[str, bytes]:
    """``keystore/<eui>-ds.pem`` and ``-ka.pem`` of every party of the premises (the ACB,
    the users, the Comms Hub and its devices): what gbcs-parser's key store needs, beside
    the organisations' RTDS keys, to verify every payload of a run. An organisation on
    hansim's test PKI (a user the RTDS key store does not hold) also gets its derived
    ``-ka.key``: a device's MAC with it can be checked only with one side's private key."""
    organisations = {ACB, *(eui_bytes(u) for u in premises.users)}
    parties = {*organisations, eui_bytes(premises.hub.chf_id), eui_bytes(premises.hub.gpf_id),
               *(eui_bytes(d) for d in premises.devices)}
    keys = shared()
    files = {f"keystore/{eui.hex()}-{use}.pem": keys.certificate(eui, use)
             for eui in sorted(parties) for use in ("ds", "ka")}
    for eui in sorted(organisations):
        if (derived := keys.test_pki_key(eui, "ka")) is not None:
            files[f"keystore/{eui.hex()}-ka.key"] = derived
    return files


#: The DCC's TransCoS party, which sends CS02b on a change of supplier (RTDS 6.23).
TRANSCOS = bytes.fromhex("90B3D51F30000004")
_UNIQUE_ID = x509.ObjectIdentifier("2.5.4.45")  # x500UniqueIdentifier: 00 + the EUI-64


def identity(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """(subject unique ID, subject key ID) of an SMKI certificate, as a trust anchor cell
    records it."""
    unique = cert.subject.get_attributes_for_oid(_UNIQUE_ID)
    raw = unique[0].value if unique else b""
    eui = raw[-8:] if isinstance(raw, bytes) and len(raw) >= 8 else bytes(8)
    try:
        key_id = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        key_id = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest[:8]
    return eui, key_id


def _pem_identity(pem: bytes) -> tuple[bytes, bytes]:
    return identity(x509.load_pem_x509_certificate(pem))


def cos_response(dcc: Dcc, request: ServiceRequest, losing: str | None,
                 new_certificates: dict[str, x509.Certificate]) -> str:
    """The meter's signed CS02b response to 6.23: which certificates it replaced. The
    losing supplier's come from the key store (None: a key hansim cannot name)."""
    body = request.body
    assert isinstance(body, UpdateSecurityCredentialsCoS)  # change_of_supplier_credentials read it
    rid = request.request_id
    header = GroupingHeader(Cra.RESPONSE, rid.counter, eui_bytes(rid.target), TRANSCOS,
                            uc.MessageCode.CS02B_SUPPLIER_BY_TRANSCOS, date_time=_device_time(dcc))
    replaced = _replacements(losing, new_certificates, uc.SUPPLIER_ROLE)
    content = uc.cs02b_response(uc.cs02b_outcome(rid.counter, replaced, body.floor_seq_number,
                                                 body.prepayment_floor_seq_number))
    return _b64(envelopes().reply(header, content, signed=True))


def handover_response(dcc: Dcc, request: ServiceRequest,
                      new_certificates: dict[str, x509.Certificate]) -> str:
    """The device's signed CS02b response to 6.21: the DCC's Access Control Broker sent the
    command with its own credentials, which the device now replaces by the party's (RTDS
    6.21 vectors: supplier by supplier, or network operator by network operator)."""
    body = request.body
    assert isinstance(body, RequestHandoverOfDCCControlledDevice)  # the 6.21 service read it
    operator = body.remote_party_role != "Supplier"
    role = uc.NETWORK_OPERATOR_ROLE if operator else uc.SUPPLIER_ROLE
    code = uc.MessageCode.CS02B_NO_BY_NO if operator else uc.MessageCode.CS02B_SUPPLIER_BY_SUPPLIER
    dcc.acb_counter += 1
    header = GroupingHeader(Cra.RESPONSE, dcc.acb_counter, eui_bytes(request.request_id.target),
                            ACB, code, date_time=_device_time(dcc))
    outcome = uc.cs02b_outcome(dcc.acb_counter, _replacements(ACB, new_certificates, role),
                               body.floor_seq_number or 0, body.prepayment_floor_seq_number,
                               uc.NO_BY_NO if operator else uc.SUPPLIER_BY_SUPPLIER, role)
    return _b64(envelopes().reply(header, uc.cs02b_response(outcome), signed=True))


def own_credentials_response(dcc: Dcc, request: ServiceRequest,
                             new_certificates: dict[str, x509.Certificate],
                             load_controller: dict[str, tuple[bytes, bytes]] | None = None) -> str:
    """The device's signed response to 6.15.1: CS02b supplier by supplier (the supplier's
    certificates it held, from the key store, replaced by the request's) or, for the
    LoadController role, CS02g (the load controller certificates it held, by use in
    ``load_controller``, zero IDs for a cell it had none in; RTDS CS02g response)."""
    body = request.body
    assert isinstance(body, UpdateSecurityCredentialsKRP)  # the 6.15.1 service read it
    rid = request.request_id
    code = _own_credentials_use_case(body)
    if load_controller is not None:
        mode, role, top_up = uc.LOAD_CONTROLLER_BY_SUPPLIER, uc.LOAD_CONTROLLER_ROLE, None
        replaced = [uc.Replacement(use, *load_controller.get(use, (bytes(8), bytes(8))),
                                   *identity(cert), role=role)
                    for use, cert in new_certificates.items()]
    else:
        mode, role = uc.SUPPLIER_BY_SUPPLIER, uc.SUPPLIER_ROLE
        top_up = body.prepayment_floor_seq_number
        replaced = _replacements(rid.originator, new_certificates, role)
    header = GroupingHeader(Cra.RESPONSE, rid.counter, eui_bytes(rid.target),
                            eui_bytes(rid.originator), code, date_time=_device_time(dcc))
    outcome = uc.cs02b_outcome(rid.counter, replaced, body.floor_seq_number, top_up, mode, role)
    return _b64(envelopes().reply(header, uc.cs02b_response(outcome), signed=True))


def _own_credentials_use_case(body: UpdateSecurityCredentialsKRP) -> uc.MessageCode:
    """6.15.1's GBCS use case: CS02g for the load controller, else CS02b supplier by
    supplier (the only other role hansim's devices carry out)."""
    if body.remote_party_role == "LoadController":
        return uc.MessageCode.CS02G
    return uc.MessageCode.CS02B_SUPPLIER_BY_SUPPLIER


def device_certificate_result(device: str, cert: x509.Certificate,
                              ) -> tuple[uc.CertificateUpdate, str]:
    """What the device makes of the certificate CS02d gives it (GBCS CS02d): it must be for
    one use (Digital Signing or Key Agreement), name the device in its hardwareModuleName,
    and certify the key pair the device holds for that use. hansim's devices generate no
    new pair (CS02c), so that is the key they use, or the key of the device's certificate
    in the key store folders (an RTDS device's, whose private half is not published and
    for which the device signs with hansim's test PKI: the DCC's 6.15.2 template sends it)."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return uc.CertificateUpdate.INVALID_KEY_USAGE, "the certificate has no key usage"
    uses = [use for use, on in (("ds", usage.digital_signature), ("ka", usage.key_agreement)) if on]
    if len(uses) != 1:
        return (uc.CertificateUpdate.INVALID_KEY_USAGE,
                "the certificate is for neither or both of Digital Signing and Key Agreement")
    named = _hardware_module(cert)
    if named != eui_bytes(device):
        return (uc.CertificateUpdate.WRONG_DEVICE_IDENTITY,
                f"the certificate names {named.hex().upper() if named else 'no device'}")
    use = cast(Use, uses[0])
    held: list[object] = [shared().public(device, use)]
    if (published := shared().published(device, use)) is not None:
        held.append(x509.load_pem_x509_certificate(published).public_key())
    if cert.public_key() not in held:
        return (uc.CertificateUpdate.WRONG_PUBLIC_KEY,
                f"the certificate's key is not the device's {uses[0].upper()} key")
    return uc.CertificateUpdate.SUCCESS, ""


_HARDWARE_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")


def _hardware_module(cert: x509.Certificate) -> bytes | None:
    """The device ID a device certificate names: the serial number of its
    hardwareModuleName (RFC 4108) subject alternative name, the EUI-64."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id == _HARDWARE_MODULE_NAME:
            return asn1.hardware_serial(other.value)
    return None


def certificate_update_response(dcc: Dcc, request: ServiceRequest,
                                result: uc.CertificateUpdate) -> str:
    """The device's signed CS02d response to 6.15.2: its response code (RTDS CS02d)."""
    rid = request.request_id
    header = GroupingHeader(Cra.RESPONSE, rid.counter, eui_bytes(rid.target),
                            eui_bytes(rid.originator), uc.MessageCode.CS02D)
    return _b64(envelopes().reply(header, uc.response_code(result), signed=True))


def _replacements(existing: str | bytes | None, new_certificates: dict[str, x509.Certificate],
                  role: int) -> list[uc.Replacement]:
    """One replaced trust anchor per new certificate: ``existing``'s certificate of that use
    from the key store, or zeros if unknown. The ACB holds no top-up key: the device's
    top-up cell held its key agreement certificate (RTDS 6.21)."""
    replaced = []
    for use, cert in new_certificates.items():
        if existing is not None:
            top_up_from_acb = use == "pp-ka" and eui_bytes(existing) == ACB
            held = cast(Use, "ka" if top_up_from_acb else use)
            old = _pem_identity(shared().certificate(existing, held))
        else:
            old = (bytes(8), bytes(8))
        replaced.append(uc.Replacement(use, *old, *identity(cert), role=role))
    return replaced
