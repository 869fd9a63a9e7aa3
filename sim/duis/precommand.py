"""Critical commands as GBCS: the DCC's pre-command (variant 4) and the supplier's
signature (variant 5).

For a critical SRV the DCC returns a GBCS pre-command: the General Signing APDU of the
command (originator the supplier, counter the RequestID's, no signature field, as the
RTDS ``*_PRECOMMAND`` vectors), built by :mod:`gbcs.use_cases`. The supplier signs it with
its Digital Signing key (hansim's :func:`sign`, or gbcs-parser's ``signGroupingHeader``
as DCC Boxed's client does) and sends it back as variant 5. The device obeys it only when
it is the pre-command the DCC issued and the signature verifies with the key of the
device's current supplier.

Supplier keys come from the GBCS key store (:mod:`gbcs.keystore`): the DCC Boxed / RTDS
test keys where it holds the user's ``<eui>-ds.key`` (90-B3-D5-1F-30-01-00-00 is the DCC
Boxed test supplier), else hansim's test PKI.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from gbcs import ecdsa
from gbcs import use_cases as uc
from gbcs.encoding import GbcsError
from gbcs.grouping import Cra, GroupingHeader, SignedMessage
from gbcs.keystore import eui_bytes, shared
from gbcs.messages import Envelopes
from sim.duis import bodies as b
from sim.duis.request import ServiceRequest
from sim.duis.response import PreCommand

#: The GBCS version hansim's pre-commands follow (the RTDS 4.5.0 vectors' GBCS).
GBCS_VERSION = "4.0"
SIGNED_VARIANT = 5


class PreCommandError(ValueError):
    """A signed pre-command that cannot be trusted or read, with the reason."""


def supplier_test_key(user_id: str) -> ec.EllipticCurvePrivateKey:
    """A supplier's Digital Signing private key (DCC Boxed test key or hansim test PKI)."""
    key = shared().private(user_id, "ds")
    assert key is not None  # DS keys always resolve
    return key


def _time(value: str, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PreCommandError(f"{field} {value!r} is not an xs:dateTime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


#: DUIS's ExecutionDateTime for "cancel the pending future-dated command" (the DCC's
#: CANCELLATION templates); GBCS carries it as :data:`gbcs.use_cases.CANCEL`.
DUIS_CANCEL = dt.datetime(3000, 12, 31, tzinfo=dt.UTC)


def _execute_at(body: b.ActivateFirmware | b.UpdateSecurityCredentialsKRP) -> dt.datetime | None:
    """A command's execution date-time: none (now), the cancel value, or the future moment."""
    if not body.execution_date_time:
        return None
    moment = _time(body.execution_date_time, "ExecutionDateTime")
    return uc.CANCEL if moment == DUIS_CANCEL else moment


def command(request: ServiceRequest, device_type: Callable[[str], str]) -> tuple[uc.MessageCode, bytes]:
    """The GBCS use case and content of a critical request (``device_type`` names a device)."""
    counter = request.request_id.counter
    body = request.body
    target_type = device_type(request.request_id.target)
    match body:
        case b.CommissionDeviceSynchroniseClock():
            start = _time(body.current_date_time, "CurrentDateTime")
            end = start + dt.timedelta(seconds=body.tolerance_period)
            if target_type == "GSME":
                return uc.MessageCode.GCS28, uc.gcs28_command(start, end)
            return uc.MessageCode.ECS70, uc.ecs70_command(counter, start, end)
        case b.JoinServiceCritical():
            other = body.other_device_id
            return (uc.join_use_case(target_type),
                    uc.join_command(target_type, eui_bytes(other), device_type(other)))
        case b.UnjoinServiceCritical():
            return uc.MessageCode.CS04AC, uc.cs04ac_command(eui_bytes(body.other_device_id))
        case b.ActivateFirmware():
            try:
                image_hash = bytes.fromhex(body.firmware_hash)
            except ValueError:
                raise PreCommandError("FirmwareHash is not hexBinary") from None
            return uc.MessageCode.CS06, uc.cs06_command(image_hash, counter, _execute_at(body))
        case b.UpdateSecurityCredentialsKRP():
            if body.remote_party_role == "LoadController" and target_type != "ESME":
                raise PreCommandError("CS02g (RemotePartyRole LoadController) goes to an ESME, "
                                      f"not a {target_type}")
            return _cs02b(body, counter)
        case b.UpdateSecurityCredentialsDevice():
            return uc.MessageCode.CS02D, uc.cs02d_command(_der(body.device_certificate,
                                                                "DeviceCertificate"))
    raise PreCommandError(f"hansim builds no GBCS pre-command for SRV {request.srv}")


#: 6.15.1's RemotePartyRole -> (GBCS role, CS02b message code); LoadController is CS02g.
_KRP_ROLES = {"Supplier": (uc.SUPPLIER_ROLE, uc.MessageCode.CS02B_SUPPLIER_BY_SUPPLIER),
              "NetworkOperator": (uc.NETWORK_OPERATOR_ROLE, uc.MessageCode.CS02B_NO_BY_NO)}


def _cs02b(body: b.UpdateSecurityCredentialsKRP, counter: int) -> tuple[uc.MessageCode, bytes]:
    given = (("ds", body.signing_certificate, "DigitalSigningCertificate"),
             ("ka", body.key_agreement_certificate, "KeyAgreementCertificate"),
             ("pp-ka", body.top_up_certificate, "KeyAgreementTopUpCertificate"))
    replacements = [(use, _der(value, field)) for use, value, field in given if value]
    path = [_der(value, "CertificationPathCertificates/Certificate") for value in body.path_certificates]
    if body.remote_party_role == "LoadController":
        return uc.MessageCode.CS02G, uc.cs02g_command(counter, replacements, path,
                                                      body.floor_seq_number,
                                                      body.time_based_cpv_checks, _execute_at(body))
    if body.remote_party_role not in _KRP_ROLES:
        raise PreCommandError(f"hansim builds no CS02b for RemotePartyRole {body.remote_party_role}")
    role, code = _KRP_ROLES[body.remote_party_role]
    return code, uc.cs02b_command(counter, role, replacements, path, body.floor_seq_number,
                                  body.prepayment_floor_seq_number, body.time_based_cpv_checks,
                                  _execute_at(body))


def _der(value: str, field: str) -> bytes:
    """A base64 certificate of the request, as the DER GBCS carries."""
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise PreCommandError(f"{field} is not base64") from None


def pre_command(request: ServiceRequest, device_type: Callable[[str], str]) -> PreCommand:
    """The pre-command the DCC returns for a critical request (variant 4)."""
    code, content = command(request, device_type)
    rid = request.request_id
    header = GroupingHeader(Cra.COMMAND, rid.counter, eui_bytes(rid.originator),
                            eui_bytes(rid.target), code)
    payload = Envelopes(shared()).pre_command(header, content)
    return PreCommand(GBCS_VERSION, base64.b64encode(payload).decode())


def sign(pre: PreCommand, key: ec.EllipticCurvePrivateKey) -> str:
    """The supplier's step: the pre-command with its ECDSA signature, base64."""
    unsigned = SignedMessage.from_bytes(base64.b64decode(pre.gbcs_payload))
    signed = dataclasses.replace(unsigned, signature=ecdsa.sign(key, unsigned.signed_data()))
    return base64.b64encode(signed.to_bytes()).decode()


def signed_request(original: ServiceRequest, pre: PreCommand,
                   key: ec.EllipticCurvePrivateKey) -> ServiceRequest:
    """The variant-5 request that carries the signed pre-command back to the DCC."""
    return dataclasses.replace(
        original, command_variant=SIGNED_VARIANT, body=b.SignedPreCommand(sign(pre, key))
    )


def open_signed(gbcs_payload: str, issued: str,
                supplier_key: ec.EllipticCurvePublicKey | None) -> SignedMessage:
    """The device's step: the signed command must be the issued pre-command, signed by
    the supplier whose key the device holds."""
    try:
        signed = SignedMessage.from_bytes(base64.b64decode(gbcs_payload, validate=True))
    except (binascii.Error, ValueError) as err:
        reason = err if isinstance(err, GbcsError) else "GBCSPayload is not base64"
        raise PreCommandError(str(reason)) from None
    if not signed.signature:
        raise PreCommandError("GBCSPayload carries no supplier signature")
    unsigned = dataclasses.replace(signed, signature=None).to_bytes()
    if unsigned != base64.b64decode(issued):
        raise PreCommandError("GBCSPayload is not the pre-command this DCC issued")
    if supplier_key is None:
        raise PreCommandError("the device holds no supplier key to check the signature with")
    if not ecdsa.verify(supplier_key, signed.signed_data(), signed.signature):
        raise PreCommandError("supplier signature does not verify with the key the device holds")
    return signed
