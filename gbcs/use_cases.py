"""The GBCS use cases hansim builds: each one's message code and content, laid out as the
DCC's RTDS 4.5.0 vector for it (``shared/gbcs/gbcs-parser/test/rtds/RTDS-4.5.0``).

Content only: :mod:`gbcs.messages` wraps it (grouping header, signature, MAC). The table
:data:`USE_CASES` names, per message, the SRV, the GBCS message code, who signs or MACs it
and the RTDS vector it follows; the tests hold each built message to that vector's
structure as gbcs-parser reads it, and docs/reference/gbcs.md is written from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from gbcs import asn1, dlms, gbz
from gbcs.dlms import Access, AttributeRef


class MessageCode(IntEnum):
    """GBCS message codes (GBCS table 13.3.5) of the use cases below."""

    CCS01 = 0x0001
    CCS02 = 0x0002
    CCS03 = 0x0003  # restore the CHF device log onto a replacement Comms Hub (8.12.1)
    CS03A1 = 0x000D
    CS03B = 0x000E  # method B join: a meter with another device, non-critical (8.7.2)
    CS04AC = 0x000F  # method A or C unjoin (8.8.1, 8.8.2)
    CS04B = 0x0010  # method B unjoin: a meter forgets a Type 2 device (8.8.2)
    CS03A2 = 0x00AB  # method A join, the target not a meter (e.g. the GPF)
    CS06 = 0x0012
    CS14 = 0x0018
    ECS70 = 0x0062
    GCS28 = 0x007F
    CS06_ALERT = 0x00CA  # future-dated firmware activation alert (8F66 / 8F67)
    FDRA_ESME = 0x00CE  # firmware distribution receipt alert, DLMS devices (8F72 / 8F1C)
    CCS08 = 0x0128  # firmware transfer alert from the Comms Hub (8F8A / 8F89)
    CS02B_SUPPLIER_BY_TRANSCOS = 0x0107  # update security credentials on a change of supplier
    CS02B_SUPPLIER_BY_SUPPLIER = 0x0102  # ... by the supplier (6.15.1) or on handover (6.21)
    CS02B_NO_BY_NO = 0x0103  # ... the network operator's, by itself or on handover (6.21)
    CS02B_ALERT = 0x00CB  # future-dated update security credentials alert (8F66 / 8F67)
    CS07 = 0x0013  # read device join details (8.9 on a meter or other device)
    CS08 = 0x0129
    CS02D = 0x000B  # update device certificates on device (6.15.2)
    CS02G = 0x0126  # update security credentials: the load controller's, by the supplier (6.15.1)
    CS02G_ALERT = 0x0124  # its future-dated alert (8F66 / 8F67; RTDS CS02g)
    ECS52 = 0x0059  # read ESME / Comms Hub firmware version (11.2)
    GCS38 = 0x0084  # read GSME firmware version (11.2)
    FDRA_GSME = 0x00CF  # firmware distribution receipt alert, the GSME (8F72 / 8F1C)
    CCS06 = 0x010F  # read CHF device log and check HAN communications (8.9 on the CHF)
    GCS59 = 0x008C  # restore the GPF device log onto a replacement GPF (8.12.2)
    GCA = 0x1000  # generic critical alert
    GNCA = 0x1001  # generic non-critical alert


# -- CHF device log (CCS01, CCS02): DLMS class 104 ZigBee Network Control ---------------------
ZIGBEE_NETWORK_CONTROL = 0x0068
DEVICE_LOG = bytes.fromhex("00001E0300FF")  # 0-0:30.3.0.255 Device Log (CHF)
#: GBCS DeviceType, in device log entries and the ASN.1 use cases alike (an IHD is a
#: Type 2 device); gbcs-parser and Silicon Labs' GBCS device log number them the same.
DEVICE_TYPES = {"GSME": 0, "ESME": 1, "CHF": 2, "GPF": 3, "HCALCS": 4, "PPMID": 5,
                "IHD": 6, "Type 2": 6}


def ccs01_command(counter: int, device: bytes, device_type: str, install_code: bytes,
                  join_timeout_s: int) -> bytes:
    """Add the device to the CHF device log, set the join timeout, enable joining."""
    specs = [AttributeRef(Access.ACTION, ZIGBEE_NETWORK_CONTROL, DEVICE_LOG, 1),
             AttributeRef(Access.SET, ZIGBEE_NETWORK_CONTROL, DEVICE_LOG, 3),
             AttributeRef(Access.SET, ZIGBEE_NETWORK_CONTROL, DEVICE_LOG, 2)]
    entry = dlms.structure(dlms.octet_string(device), dlms.enum(DEVICE_TYPES[device_type]),
                           dlms.octet_string(install_code), dlms.enum(0))
    return dlms.access_request(counter, specs, [entry, dlms.long_unsigned(join_timeout_s),
                                                dlms.boolean(True)])


def ccs02_command(counter: int, device: bytes) -> bytes:
    """Remove the device from the CHF device log."""
    spec = AttributeRef(Access.ACTION, ZIGBEE_NETWORK_CONTROL, DEVICE_LOG, 2)
    return dlms.access_request(counter, [spec], [dlms.octet_string(device)])


def device_log_response(counter: int, kinds: list[Access], result: int = 0) -> bytes:
    """The CHF's answer to CCS01 / CCS02: one result per request specification."""
    return dlms.access_response(counter, [(k, result, dlms.NULL) for k in kinds])


CCS01_ACCESS = [Access.ACTION, Access.SET, Access.SET]
CCS02_ACCESS = [Access.ACTION]
CCS03_ACCESS = [Access.ACTION]
RESTORE_PAN = 5  # method 5 of ZigBee Network Control
#: Action results a CHF gives CCS03 (DLMS action-result, as gbcs-parser reads them).
ACTION_SUCCESS, ACTION_HARDWARE_FAULT = 0, 1


def ccs03_command(counter: int, extended_pan_id: bytes,
                  entries: list[tuple[bytes, bytes]]) -> bytes:
    """Restore PAN on a replacement CHF: the network's Extended PAN ID and the old CHF's
    device log as its last CS14 backup carried it, (device, 16-byte key field) per entry."""
    spec = AttributeRef(Access.ACTION, ZIGBEE_NETWORK_CONTROL, DEVICE_LOG, RESTORE_PAN)
    log = [dlms.structure(dlms.octet_string(eui), dlms.octet_string(key)) for eui, key in entries]
    return dlms.access_request(counter, [spec], [dlms.structure(
        dlms.octet_string(extended_pan_id), dlms.array(log))])


@dataclass(frozen=True)
class ActiveDevice:
    """One entry of the CHF's active devices (DLMS class 104 ZigBee Network Control,
    attribute 4 ``active_devices``): what the CHF knows of a device's HAN link."""

    device: bytes
    authorised: bool  # on the PAN with its link key (joined)
    reporting: bool  # heard on the PAN
    sep_transmitting: bool  # exchanging Smart Energy (ZCL) messages
    rssi: tuple[int, int, int]  # max, average, min (dBm)
    lqi: tuple[int, int, int]  # max, average, min
    last_heard: dt.datetime | None  # None: never
    hops: int
    transmission_failures: int
    transmission_successes: int
    application_version: int = 0
    stack_version: int = 0

    def status(self) -> bytes:
        """The status bit-string (8 bits, bit 0 first): authorised on PAN, actively
        reporting, unauthorised but has reported, authorised after swap-out, SEP
        transmitting (the RTDS CCS06 vector's C8 is bits 0, 1 and 4)."""
        bits = (self.authorised, self.reporting and self.authorised,
                self.reporting and not self.authorised, False, self.sep_transmitting)
        value = sum(0x80 >> n for n, on in enumerate(bits) if on)
        return bytes([0x04, 8, value])

    def to_dlms(self) -> bytes:
        def byte(n: int) -> bytes:  # counters and versions are DLMS unsigned: they saturate
            return dlms.unsigned(min(max(n, 0), 0xFF))
        return dlms.structure(
            dlms.octet_string(self.device), self.status(),
            *(dlms.integer(max(-128, min(127, v))) for v in self.rssi),
            *(byte(v) for v in self.lqi),
            dlms.octet_string(dlms.date_time(self.last_heard, weekday=True)),
            byte(self.hops), byte(self.transmission_failures),
            byte(self.transmission_successes), byte(self.application_version),
            byte(self.stack_version))


ACTIVE_DEVICES = AttributeRef(Access.GET, ZIGBEE_NETWORK_CONTROL, DEVICE_LOG, 4)


def ccs06_command(counter: int) -> bytes:
    """Read the CHF device log with each device's HAN link figures (RTDS CCS06)."""
    return dlms.access_request(counter, [ACTIVE_DEVICES], [dlms.NULL])


def ccs06_response(counter: int, devices: list[ActiveDevice]) -> bytes:
    return dlms.access_response(counter, [(Access.GET, 0, dlms.array(
        [d.to_dlms() for d in devices]))])


def cs14_device_log_changed(counter: int, when: dt.datetime, extended_pan_id: bytes,
                            log: list[tuple[bytes, bytes]]) -> bytes:
    """0x8F12 CHF Device Log Changed: the CHF's backup of its device log after the change,
    the HAN's Extended PAN ID and (device, link key) per entry, what CCS03 gives a
    replacement CHF back (the RTDS CS14 vector carries CCS03's own test keys)."""
    entries = [dlms.structure(dlms.octet_string(eui), dlms.octet_string(key)) for eui, key in log]
    return dlms.data_notification(counter, 0x8F12, when, dlms.structure(
        dlms.octet_string(dlms.date_time(when)), dlms.octet_string(extended_pan_id),
        dlms.array(entries)))


def generic_alert(counter: int, code: int, when: dt.datetime, gas: bool = False) -> bytes:
    """A device alert with no use-case content (GCA / GNCA): alert code and time stamp, as
    a DLMS data notification or, from a GSME (``gas``), a GBZ alert (RTDS GNCA-ZigBee)."""
    return gbz.alert(code, when) if gas else dlms.data_notification(counter, code, when)


# -- ECS70 / GCS28: set the meter's clock (8.1.1 commissioning) --------------------------------
CLOCK = bytes.fromhex("0000010000FF")  # 0-0:1.0.0.255
CLOCK_CLASS = 0x0008
ECS70_ACCESS = [Access.SET, Access.ACTION, Access.ACTION, Access.GET, Access.GET]


def ecs70_command(counter: int, valid_from: dt.datetime, valid_to: dt.datetime) -> bytes:
    """Synchronise the ESME clock to the time within the validity window (RTDS ECS70)."""
    specs = [AttributeRef(kind, CLOCK_CLASS, CLOCK, member) for kind, member in
             zip(ECS70_ACCESS, (9, 5, 4, 2, 4))]
    window = dlms.structure(dlms.octet_string(dlms.date_time(None)),
                            dlms.octet_string(dlms.date_time(valid_from)),
                            dlms.octet_string(dlms.date_time(valid_to)))
    return dlms.access_request(counter, specs,
                               [dlms.enum(5), window, dlms.integer(0), dlms.NULL, dlms.NULL])


def ecs70_response(counter: int, clock: dt.datetime) -> bytes:
    results = [(Access.SET, 0, dlms.NULL), (Access.ACTION, 0, dlms.NULL),
               (Access.ACTION, 0, dlms.NULL),
               (Access.GET, 0, dlms.octet_string(dlms.date_time(clock))),
               (Access.GET, 0, dlms.unsigned(0))]
    return dlms.access_response(counter, results)


def gcs28_command(valid_from: dt.datetime, valid_to: dt.datetime) -> bytes:
    return asn1.sequence(asn1.generalized_time(valid_from), asn1.generalized_time(valid_to))


def gcs28_response(clock: dt.datetime) -> bytes:
    return asn1.sequence(asn1.generalized_time(clock), asn1.integer(0))  # 0: reliable


# -- CS03A1 / CS03A2 / CS03B: joins (8.7.1, 8.7.2) -------------------------------------------
#: Devices GBCS calls meters: they initiate a method A join (CS03A1) or, non-critically, a
#: method B join (CS03B); any other target of 8.7.1 or 8.7.2 is the method A responder
#: (CS03A2), as in the RTDS vectors.
METERS = ("ESME", "GSME")
#: Join Method and Role of each use case (gbcs-parser's names: Method A Initiator, Method A
#: Responder, Method B).
JOIN_ROLES = {MessageCode.CS03A1: 0, MessageCode.CS03A2: 1, MessageCode.CS03B: 2}


def join_use_case(target_type: str, critical: bool = True) -> MessageCode:
    """8.7.1 (``critical``) or 8.7.2's use case for a target of this device type."""
    if target_type not in METERS:
        return MessageCode.CS03A2
    return MessageCode.CS03A1 if critical else MessageCode.CS03B


def join_command(target_type: str, other: bytes, other_type: str, critical: bool = True) -> bytes:
    """Join the target with ``other`` in the role :func:`join_use_case` gives it."""
    return asn1.sequence(asn1.integer(JOIN_ROLES[join_use_case(target_type, critical)]),
                         asn1.octet_string(other), asn1.integer(DEVICE_TYPES[other_type]))


def cs04ac_command(other: bytes) -> bytes:
    """Unjoin ``other`` from the meter: its entity ID alone (GBCS CS04AC)."""
    return asn1.octet_string(other)


def cs07_response(joined: list[tuple[bytes, str]]) -> bytes:
    """The devices the target is joined to, each with its GBCS device type (RTDS CS07)."""
    entries = [asn1.sequence(asn1.octet_string(eui), asn1.integer(DEVICE_TYPES[kind]))
               for eui, kind in joined]
    return asn1.sequence(asn1.integer(0), asn1.sequence(*entries))


# -- GCS59: restore the GPF device log (8.12.2) ---------------------------------------------
def _log_entry(eui: bytes, kind: str) -> bytes:
    return asn1.sequence(asn1.octet_string(eui), asn1.integer(DEVICE_TYPES[kind]))


def gcs59_command(entries: list[tuple[bytes, str]]) -> bytes:
    """The old GPF's device log (device, GBCS device type) for the replacement GPF."""
    return asn1.sequence(asn1.sequence(*(_log_entry(eui, kind) for eui, kind in entries)))


def gcs59_response(outcomes: list[tuple[bytes, str, int]]) -> bytes:
    """The replacement GPF's outcome per restored entry: the entry and its join response
    code (0 success, 4 device log full, ...; gbcs-parser's table)."""
    return asn1.sequence(asn1.sequence(*(
        asn1.sequence(_log_entry(eui, kind), asn1.integer(code)) for eui, kind, code in outcomes)))


def response_code(code: int = 0) -> bytes:
    """A bare ASN.1 response code (CS03A1, CS03A2, CS03B, CS04AC): 0 success."""
    return asn1.integer(code)


# -- CS06 (11.3) and CS08 (11.2): firmware -----------------------------------------------------
class ActivationResult(IntEnum):
    SUCCESS = 0
    NO_IMAGE_HELD = 1
    HASH_MISMATCH = 2
    ACTIVATION_FAILURE = 3


#: Execution date-time of a CS06 cancellation (RTDS: 9999-12-31 23:59:59Z).
CANCEL = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


def cs06_command(image_hash: bytes, counter: int, execute_at: dt.datetime | None = None) -> bytes:
    """Activate the image with this hash now, at ``execute_at``, or cancel (:data:`CANCEL`)."""
    items = [asn1.octet_string(image_hash), asn1.integer(counter)]
    if execute_at is not None:
        items.append(asn1.generalized_time(execute_at))
    return asn1.sequence(*items)


def cs06_outcome(result: ActivationResult, firmware_version: bytes) -> bytes:
    return asn1.sequence(asn1.integer(result), asn1.octet_string(firmware_version))


#: GBCS alert codes of a future-dated command's outcome (gbcs-parser: "Future-date HAN
#: Interface Command [not] Successfully Actioned"; the DUIS MMC schema: success, failure).
ACTIONED, NOT_ACTIONED = 0x8F66, 0x8F67


def cs06_succeeded(outcome: bytes) -> bool:
    """Whether a CS06 outcome (:func:`cs06_outcome`) says the image now runs."""
    return asn1.items(outcome)[0] == asn1.integer(ActivationResult.SUCCESS)


def cs06_future_dated_alert(executed_at: dt.datetime, counter: int, outcome: bytes) -> bytes:
    """0x8F66 / 0x8F67 when a future-dated activation runs: the command's counter and the
    outcome (:func:`cs06_outcome`) an immediate activation would have answered."""
    code = ACTIONED if cs06_succeeded(outcome) else NOT_ACTIONED
    return asn1.sequence(asn1.integer(code), asn1.generalized_time(executed_at),
                         asn1.integer(counter), outcome)


COMMAND_ACCEPTED = asn1.NULL  # the response to a future-dated (or cancelling) command
CS08_COMMAND = asn1.NULL


def cs08_response(firmware_version: bytes) -> bytes:
    return asn1.sequence(asn1.octet_string(firmware_version), asn1.integer(0))


def ecs52_response(counter: int, firmware_version: bytes) -> bytes:
    """The ESME's (or CHF's) answer to ECS52: a DLMS get of 0-0:0.2.1.255 (class 1, Data)."""
    return dlms.access_response(counter, [(Access.GET, 0, dlms.octet_string(firmware_version))])


def firmware_receipt_alert(counter: int, verified: bool, when: dt.datetime,
                           image_hash: bytes, gas: bool = False) -> bytes:
    """0x8F72 (verification successful) or 0x8F1C (failed) with the hash the device
    calculated over the manufacturer image: a DLMS data notification (RTDS FDRA-DLMS,
    message code 0x00CE) or, from a GSME (``gas``), a GBZ alert with one component
    (RTDS FDRA-ZigBee, 0x00CF)."""
    code = 0x8F72 if verified else 0x8F1C
    if gas:
        return gbz.alert(code, when, dlms.octet_string(image_hash), components=1)
    return dlms.data_notification(counter, code, when, dlms.octet_string(image_hash))


def firmware_receipt_use_case(gas: bool) -> MessageCode:
    return MessageCode.FDRA_GSME if gas else MessageCode.FDRA_ESME


# GCS38: the GSME's firmware version is its Metering cluster's CurrentMeterID attribute
# (ZSE 0x0206), an octet string (RTDS GCS38 vectors).
METERING_CLUSTER = 0x0702
CURRENT_METER_ID = 0x0206


def gcs38_command() -> bytes:
    """Read the GSME's firmware version: one ZCL Read Attributes (RTDS GCS38)."""
    return gbz.payload(gbz.component(METERING_CLUSTER, gbz.read_attributes(0, [CURRENT_METER_ID])))


def gcs38_response(firmware_version: bytes) -> bytes:
    """The GSME's answer to GCS38: the Read Attributes Response with its version."""
    frame = gbz.read_attributes_response(0, {CURRENT_METER_ID: gbz.octet_string(firmware_version)})
    return gbz.payload(gbz.component(METERING_CLUSTER, frame))


class TransferResult(IntEnum):
    """CCS08 response codes; DUIS FirmwareTransferAlert/TransferResponseCode names them
    FileTransferSuccess, FirmwareImageDiscarded, HardwareVersionMismatch, FileTransferFailure."""

    SUCCESS = 0
    IMAGE_DISCARDED = 1
    HARDWARE_VERSION_MISMATCH = 2
    FILE_TRANSFER_FAILURE = 3


def ccs08_firmware_transfer_alert(when: dt.datetime, device: bytes, firmware_version: bytes,
                                  result: TransferResult) -> bytes:
    """0x8F8A (transferred) / 0x8F89 (not): the Comms Hub's outcome of sending an 11.1
    image over the HAN to ``device`` (RTDS NA_CCS08)."""
    code = 0x8F8A if result == TransferResult.SUCCESS else 0x8F89
    return asn1.sequence(asn1.integer(code), asn1.generalized_time(when),
                         asn1.octet_string(device), asn1.octet_string(firmware_version),
                         asn1.integer(result))


# -- CS02b (6.23): the meter's trust anchors replaced on a change of supplier ---------------
#: X.509 keyUsage as a DER BIT STRING: digitalSignature, keyAgreement.
DIGITAL_SIGNATURE_USAGE = bytes.fromhex("03020780")
KEY_AGREEMENT_USAGE = bytes.fromhex("03020308")
SUPPLIER_ROLE, NETWORK_OPERATOR_ROLE, LOAD_CONTROLLER_ROLE = 2, 3, 8  # GBCS RemotePartyRole
#: Credentials replacement modes (GBCS CS02b), as gbcs-parser names them, and CS02g's
#: (the RTDS CS02g vectors' 11).
SUPPLIER_BY_SUPPLIER, NO_BY_NO, SUPPLIER_BY_TRANSCOS = 2, 3, 7
LOAD_CONTROLLER_BY_SUPPLIER = 11


@dataclass(frozen=True)
class Replacement:
    """One trust anchor cell the meter replaced: whose certificate (subject unique ID and
    subject key ID) it held, and whose it holds now."""

    usage: str  # "ds", "ka" or "pp-ka" (prepayment top-up key agreement)
    existing_id: bytes
    existing_key_id: bytes
    replacing_id: bytes
    replacing_key_id: bytes
    role: int = SUPPLIER_ROLE

    def to_der(self) -> bytes:
        return asn1.sequence(_cell(self.role, self.usage), asn1.enumerated_success(),
                             *map(asn1.octet_string, (self.existing_id, self.existing_key_id,
                                                      self.replacing_id, self.replacing_key_id)))


def cs02b_outcome(counter: int, replacements: list[Replacement], floor_seq: int,
                  top_up_floor_seq: int | None, mode: int = SUPPLIER_BY_TRANSCOS,
                  role: int = SUPPLIER_ROLE) -> bytes:
    """What the device did on CS02b (``mode``, for the party in ``role``): the command's
    counter, its sequence number floors and one outcome per replaced certificate."""
    change = [asn1.integer(role), asn1.integer(floor_seq)]
    if top_up_floor_seq is not None:
        change.append(asn1.sequence(asn1.sequence(asn1.integer(0), asn1.integer(top_up_floor_seq))))
    return asn1.sequence(asn1.integer(counter), asn1.integer(mode),
                         asn1.sequence(asn1.sequence(*change)),
                         asn1.sequence(*(r.to_der() for r in replacements)))


def _cell(role: int, usage: str) -> bytes:
    """A trust anchor cell: role, key usage and, for the top-up key, its cell usage."""
    items = [asn1.integer(role), DIGITAL_SIGNATURE_USAGE if usage == "ds" else KEY_AGREEMENT_USAGE]
    if usage == "pp-ka":
        items.append(asn1.integer(1))  # cell usage: prepayment top-up
    return asn1.sequence(*items)


def cs02b_command(counter: int, role: int, replacements: list[tuple[str, bytes]],
                  path: list[bytes], floor_seq: int, top_up_floor_seq: int | None,
                  time_based_cpv_checks: bool, execute_at: dt.datetime | None = None) -> bytes:
    """CS02b by the party itself (supplier by supplier, NO by NO; 6.15.1): authorised by
    its own Digital Signing trust anchor and the command's counter, the replacing
    certificates (DER, by use: ds, ka, pp-ka) for its cells and the certification path;
    future-dated, or cancelling (:data:`CANCEL`), with ``execute_at``."""
    mode = SUPPLIER_BY_SUPPLIER if role == SUPPLIER_ROLE else NO_BY_NO
    floors = [asn1.implicit(4, asn1.integer(floor_seq))]
    if top_up_floor_seq is not None:
        floors.append(asn1.implicit(5, asn1.sequence(
            asn1.sequence(asn1.integer(0), asn1.integer(top_up_floor_seq)))))
    return _credentials_command(mode, role, role, counter, floors, replacements, path,
                                time_based_cpv_checks, execute_at)


def cs02g_command(counter: int, replacements: list[tuple[str, bytes]], path: list[bytes],
                  floor_seq: int, time_based_cpv_checks: bool,
                  execute_at: dt.datetime | None = None) -> bytes:
    """CS02g: the supplier replaces the load controller's certificates (6.15.1, role
    LoadController), authorised by the supplier's own Digital Signing trust anchor; the
    floor is the load controller's, as [6] role and number (RTDS CS02g pre-command)."""
    floors = [asn1.implicit(6, asn1.sequence(asn1.sequence(
        asn1.integer(LOAD_CONTROLLER_ROLE), asn1.integer(floor_seq))))]
    return _credentials_command(LOAD_CONTROLLER_BY_SUPPLIER, SUPPLIER_ROLE, LOAD_CONTROLLER_ROLE,
                                counter, floors, replacements, path, time_based_cpv_checks,
                                execute_at)


def _credentials_command(mode: int, authoriser: int, role: int, counter: int,
                         floors: list[bytes], replacements: list[tuple[str, bytes]],
                         path: list[bytes], time_based_cpv_checks: bool,
                         execute_at: dt.datetime | None) -> bytes:
    """The Update Security Credentials command: control (mode, [1] time-based CPV checks,
    [2] the authorising DS cell, [3] counter, the floors), the replacing certificates with
    the cells (``role``) they go to, the certification path and, if future-dated or
    cancelling, the execution date-time (RTDS 6.15.1 FUTURE_DATED / CANCELLATION)."""
    control = [asn1.integer(mode)]
    if not time_based_cpv_checks:  # [1] 1 "disapply"; DER omits the default (apply)
        control.append(asn1.implicit(1, asn1.integer(1)))
    control += [asn1.implicit(2, _cell(authoriser, "ds")), asn1.implicit(3, asn1.integer(counter)),
                *floors]
    return asn1.sequence(
        asn1.sequence(*control),
        asn1.sequence(*(asn1.sequence(cert, _cell(role, use)) for use, cert in replacements)),
        asn1.sequence(*path),
        *([asn1.generalized_time(execute_at)] if execute_at is not None else []))


class CertificateUpdate(IntEnum):
    """CS02d response codes (gbcs-parser's names)."""

    SUCCESS = 0
    INVALID_CERTIFICATE = 1
    WRONG_DEVICE_IDENTITY = 2
    INVALID_KEY_USAGE = 3
    NO_CORRESPONDING_KEY_PAIR = 4
    WRONG_PUBLIC_KEY = 5
    CERTIFICATE_STORAGE_FAILED = 6
    PRIVATE_KEY_CHANGE_FAILED = 7


def cs02d_command(certificate: bytes) -> bytes:
    """CS02d: the device's new certificate (DER) is the whole content."""
    return certificate


def cs02b_response(outcome: bytes | None) -> bytes:
    """The meter's answer to CS02b: accepted and, when it ran at once, the outcome (RTDS
    6.23_CS02bSupplierByTransCoS ``IMMEDIATE`` / ``FUTURE_DATED`` responses)."""
    return asn1.sequence(asn1.NULL, *([outcome] if outcome is not None else []))


def cs02b_future_dated_alert(actioned: bool, executed_at: dt.datetime, outcome: bytes) -> bytes:
    """0x8F66 / 0x8F67 when a future-dated CS02b ran, with its outcome (:func:`cs02b_outcome`;
    the outcome is mandatory, so one that replaced nothing lists no replacements)."""
    return asn1.sequence(asn1.integer(ACTIONED if actioned else NOT_ACTIONED),
                         asn1.generalized_time(executed_at), outcome)


# -- the table -------------------------------------------------------------------------------
@dataclass(frozen=True)
class UseCase:
    """One message hansim builds and the RTDS vector it follows."""

    name: str
    srv: str
    code: MessageCode
    kind: str  # command / pre-command / response / alert
    protection: str  # how it is protected: "ACB MAC", "supplier signature + ACB MAC", ...
    rtds: str  # the vector file under RTDS-4.5.0/


USE_CASES = (
    UseCase("CCS01", "8.11", MessageCode.CCS01, "command", "ACB MAC",
            "8.11_CCS01/CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("CCS01", "8.11", MessageCode.CCS01, "response", "CHF MAC",
            "8.11_CCS01/CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CCS02", "8.11", MessageCode.CCS02, "command", "ACB MAC",
            "8.11_CCS02/CCS02_8.11_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("CCS02", "8.11", MessageCode.CCS02, "response", "CHF MAC",
            "8.11_CCS02/CCS02_8.11_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS14 0x8F12", "8.11", MessageCode.CS14, "alert", "CHF MAC",
            "NA_CS14/CS14_NA_8F12_ALERT_GBCS.HEX"),
    UseCase("CCS03", "8.12.1", MessageCode.CCS03, "command", "ACB MAC",
            "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("CCS03", "8.12.1", MessageCode.CCS03, "response", "CHF MAC",
            "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CCS03 hardware fault", "8.12.1", MessageCode.CCS03, "response", "CHF MAC",
            "8.12.1_CCS03/CCS03_8.12.1_ERROR_RESPONSE_GBCS.HEX"),
    UseCase("GCS59", "8.12.2", MessageCode.GCS59, "command", "ACB MAC",
            "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("GCS59", "8.12.2", MessageCode.GCS59, "response", "GPF MAC",
            "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("ECS70", "8.1.1", MessageCode.ECS70, "pre-command", "none (the supplier signs it)",
            "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("ECS70", "8.1.1", MessageCode.ECS70, "command", "supplier signature + ACB MAC",
            "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("ECS70", "8.1.1", MessageCode.ECS70, "response", "ESME signature",
            "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("GCS28", "8.1.1", MessageCode.GCS28, "pre-command", "none (the supplier signs it)",
            "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("GCS28", "8.1.1", MessageCode.GCS28, "command", "supplier signature + ACB MAC",
            "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("GCS28", "8.1.1", MessageCode.GCS28, "response", "GSME signature",
            "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS03A1", "8.7.1", MessageCode.CS03A1, "pre-command", "none (the supplier signs it)",
            "8.7.1_CS03A1/CS03A1_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("CS03A1", "8.7.1", MessageCode.CS03A1, "response", "ESME signature",
            "8.7.1_CS03A1/CS03A1_8.7.1_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS03A2", "8.7.1", MessageCode.CS03A2, "pre-command", "none (the supplier signs it)",
            "8.7.1_CS03A2Critical/CS03A2Critical_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("CS03A2", "8.7.1", MessageCode.CS03A2, "response", "device signature",
            "8.7.1_CS03A2Critical/CS03A2Critical_8.7.1_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS03B", "8.7.2", MessageCode.CS03B, "command", "supplier MAC",
            "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("CS03B", "8.7.2", MessageCode.CS03B, "response", "meter MAC",
            "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS03A2 non-critical", "8.7.2", MessageCode.CS03A2, "response", "device signature",
            "8.7.2_CS03A2NonCritical/CS03A2NonCritical_8.7.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS06 immediate", "11.3", MessageCode.CS06, "pre-command", "none (the supplier signs it)",
            "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("CS06 immediate", "11.3", MessageCode.CS06, "response", "device signature",
            "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS06 hash mismatch", "11.3", MessageCode.CS06, "response", "device signature",
            "11.3_CS06/CS06_11.3_IMMEDIATE_ERROR_RESPONSE_GBCS.HEX"),
    UseCase("CS06 future-dated", "11.3", MessageCode.CS06, "pre-command",
            "none (the supplier signs it)",
            "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("CS06 future-dated", "11.3", MessageCode.CS06, "response", "device signature",
            "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS06 0x8F66", "11.3", MessageCode.CS06_ALERT, "alert", "device signature",
            "11.3_CS06/CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"),
    UseCase("CS06 0x8F67", "11.3", MessageCode.CS06_ALERT, "alert", "device signature",
            "11.3_CS06/CS06_11.3_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX"),
    UseCase("CS06 cancellation", "11.3", MessageCode.CS06, "pre-command",
            "none (the supplier signs it)",
            "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_PRECOMMAND_GBCS.HEX"),
    UseCase("CS06 cancellation", "11.3", MessageCode.CS06, "response", "device signature",
            "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS08", "11.2", MessageCode.CS08, "command", "ACB MAC",
            "11.2_CS08/CS08_11.2_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("CS08", "11.2", MessageCode.CS08, "response", "device MAC",
            "11.2_CS08/CS08_11.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS07", "8.9", MessageCode.CS07, "response", "device MAC",
            "8.9_CS07/CS07_8.9_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("ECS52", "11.2", MessageCode.ECS52, "response", "device MAC",
            "11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS04AC non-critical", "8.8.2", MessageCode.CS04AC, "response", "device signature",
            "8.8.2_CS04ACNonCritical/CS04ACNonCritical_8.8.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS04B", "8.8.2", MessageCode.CS04B, "response", "meter MAC",
            "8.8.2_CS04B/CS04B_8.8.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS02b", "6.23", MessageCode.CS02B_SUPPLIER_BY_TRANSCOS, "response", "meter signature",
            "6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS02b handover", "6.21", MessageCode.CS02B_SUPPLIER_BY_SUPPLIER, "response",
            "device signature",
            "6.21_CS02bSupplierBySupplierHandover/CS02bSupplierBySupplierHandover_6.21_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS02b NO handover", "6.21", MessageCode.CS02B_NO_BY_NO, "response", "device signature",
            "6.21_CS02bNOByNOHandover/CS02bNOByNOHandover_6.21_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS02b future-dated", "6.23", MessageCode.CS02B_SUPPLIER_BY_TRANSCOS, "response",
            "meter signature",
            "6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS02b 0x8F66", "6.23", MessageCode.CS02B_ALERT, "alert", "meter signature",
            "6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"),
    UseCase("CCS08 0x8F8A", "11.1", MessageCode.CCS08, "alert", "CHF signature",
            "NA_CCS08/CCS08_NA_NA_ALERT_GBCS.HEX"),
    UseCase("FDRA 0x8F72", "11.1", MessageCode.FDRA_ESME, "alert", "device signature",
            "NA_FDRA-DLMS/FDRA-DLMS_NA_8F72_ALERT_GBCS.HEX"),
    UseCase("GNCA", "-", MessageCode.GNCA, "alert", "device MAC",
            "NA_GNCA-DLMS/GNCA-DLMS_NA_810E_ALERT_GBCS.HEX"),
    UseCase("GNCA (GSME)", "-", MessageCode.GNCA, "alert", "GSME MAC",
            "NA_GNCA-ZigBee/GNCA-ZigBee_NA_810E_ALERT_GBCS.HEX"),
    UseCase("FDRA 0x8F72 (GSME)", "11.1", MessageCode.FDRA_GSME, "alert", "GSME signature",
            "NA_FDRA-ZigBee/FDRA-ZigBee_NA_8F72_ALERT_GBCS.HEX"),
    UseCase("GCS38", "11.2", MessageCode.GCS38, "command", "ACB MAC",
            "11.2_GCS38/GCS38_11.2_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("GCS38", "11.2", MessageCode.GCS38, "response", "GSME MAC",
            "11.2_GCS38/GCS38_11.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CS02d", "6.15.2", MessageCode.CS02D, "response", "device signature",
            "6.15.2_CS02d/CS02d_6.15.2_SUCCESS_RESPONSE_GBCS.HEX"),
    UseCase("CCS06", "8.9", MessageCode.CCS06, "command", "ACB MAC",
            "8.9_CCS06/CCS06_8.9_SUCCESS_COMMAND_GBCS.HEX"),
    UseCase("CCS06", "8.9", MessageCode.CCS06, "response", "CHF MAC",
            "8.9_CCS06/CCS06_8.9_SUCCESS_RESPONSE_GBCS.HEX"),
)
