"""hansim's GBCS codec against the DCC's RTDS 4.5.0 vectors, read by SmartDCC's gbcs-parser.

Built with the vector's own parameters (IDs, counters, times, the DCC Boxed test keys),
each message hansim builds must equal the vector byte for byte where nothing random is
in it (MACs are deterministic), and otherwise (ECDSA signatures by device keys the RTDS
does not publish) have the vector's structure, with every MAC and signature "valid"
in gbcs-parser's own reading.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gbcs import dlms
from gbcs import use_cases as uc
from gbcs.grouping import Cra, GroupingHeader
from gbcs.keystore import KeyStore
from gbcs.messages import ACB, Envelopes
from tests.gbcs_support import all_valid, checks, layout, parse_all, rtds, rtds_keystore, structure

SUPPLIER = bytes.fromhex("90B3D51F30010000")
CHF = bytes.fromhex("00DB1234567890A2")
ESME = bytes.fromhex("00DB1234567890A0")
GSME = bytes.fromhex("00DB1234567890A1")
GPF = bytes.fromhex("00DB1234567890A3")
HCALCS = bytes.fromhex("00DB1234567890A4")
NON_METER = bytes.fromhex("00DB1234567890A5")  # the RTDS CS03A2 target
TRANSCOS = bytes.fromhex("90B3D51F30000004")  # the DCC's TransCoS party (RTDS)
T0 = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
HASH = bytes.fromhex("AA758690730934FF0685AA758690730934FF0685657788990011223344556677")
FUTURE = dt.datetime(2030, 1, 15, 9, 0, tzinfo=dt.UTC)
C = uc.MessageCode


def header(cra: Cra, counter: int, originator: bytes, recipient: bytes, code: C,
           for_supplier: int | None = None) -> GroupingHeader:
    party = SUPPLIER if for_supplier is not None else None
    return GroupingHeader(cra, counter, originator, recipient, code, party, for_supplier)


def dated(h: GroupingHeader) -> GroupingHeader:
    """A response to a command that may be future-dated carries the device's date-time."""
    return dataclasses.replace(h, date_time=dlms.date_time(T0))


def built(envelopes: Envelopes) -> dict[str, bytes]:
    """Every use case hansim builds, with the parameters of its RTDS vector (keyed by it)."""
    e = envelopes
    ecs70 = uc.ecs70_command(1000, dt.datetime(2014, 12, 31, 23, 59, 10, tzinfo=dt.UTC),
                             dt.datetime(2015, 1, 1, 0, 0, 10, tzinfo=dt.UTC))
    gcs28 = uc.gcs28_command(dt.datetime(2014, 12, 31, 23, 30, tzinfo=dt.UTC),
                             dt.datetime(2015, 1, 1, 0, 30, tzinfo=dt.UTC))
    ecs70_pre = e.pre_command(header(Cra.COMMAND, 1000, SUPPLIER, ESME, C.ECS70), ecs70)
    gcs28_pre = e.pre_command(header(Cra.COMMAND, 1000, SUPPLIER, GSME, C.GCS28), gcs28)
    cs06 = {
        "IMMEDIATE": (1000, None), "FUTURE_DATED": (1001, FUTURE), "CANCELLATION": (1002, uc.CANCEL),
    }
    restored = [(ESME, bytes.fromhex("83FED3407A939723A5C639B26916D506")),
                (GSME, bytes.fromhex("83FED3407A939723A5C639B26916D505"))]
    gpf_log = [(bytes.fromhex("0011223344556677"), "PPMID"), (bytes.fromhex("8899AABBCCDDEEFF"), "Type 2")]
    out = {
        "8.11_CCS01/CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1302, ACB, CHF, C.CCS01, 1002),
            uc.ccs01_command(1302, ESME, "ESME", b"0123456789ABCDEF", 90)),
        "8.11_CCS01/CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1302, CHF, ACB, C.CCS01, 1002),
            uc.device_log_response(1302, uc.CCS01_ACCESS), signed=False),
        "8.11_CCS02/CCS02_8.11_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1302, ACB, CHF, C.CCS02, 1002), uc.ccs02_command(1302, ESME)),
        "8.11_CCS02/CCS02_8.11_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1302, CHF, ACB, C.CCS02, 1002),
            uc.device_log_response(1302, uc.CCS02_ACCESS), signed=False),
        "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1302, ACB, CHF, C.CCS03, 1002),
            uc.ccs03_command(1302, bytes.fromhex("0000000000000140"), restored)),
        "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1302, CHF, ACB, C.CCS03, 1002),
            uc.device_log_response(1302, uc.CCS03_ACCESS), signed=False),
        "8.12.1_CCS03/CCS03_8.12.1_ERROR_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1303, CHF, ACB, C.CCS03, 1003),
            uc.device_log_response(1303, uc.CCS03_ACCESS, uc.ACTION_HARDWARE_FAULT), signed=False),
        "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1300, ACB, GPF, C.GCS59), uc.gcs59_command(gpf_log)),
        "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1300, GPF, ACB, C.GCS59),
            uc.gcs59_response([(eui, kind, 0) for eui, kind in gpf_log]), signed=False),
        "NA_CS14/CS14_NA_8F12_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 4000, CHF, ACB, C.CS14),
            uc.cs14_device_log_changed(4000, T0, bytes.fromhex("0001020304050607"), restored),
            signed=False),
        "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX": ecs70_pre,
        "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_COMMAND_GBCS.HEX":
            e.critical_command(e.sign(ecs70_pre)),
        "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, ESME, SUPPLIER, C.ECS70), uc.ecs70_response(1000, T0),
            signed=True),
        "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX": gcs28_pre,
        "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_COMMAND_GBCS.HEX":
            e.critical_command(e.sign(gcs28_pre)),
        "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, GSME, SUPPLIER, C.GCS28),
            uc.gcs28_response(dt.datetime(2014, 12, 31, 23, 30, tzinfo=dt.UTC)), signed=True),
        "8.7.1_CS03A1/CS03A1_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX": e.pre_command(
            header(Cra.COMMAND, 1000, SUPPLIER, ESME, uc.join_use_case("ESME")),
            uc.join_command("ESME", bytes.fromhex("00DB12345678909A"), "HCALCS")),
        "8.7.1_CS03A2Critical/CS03A2Critical_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX": e.pre_command(
            header(Cra.COMMAND, 1000, SUPPLIER, NON_METER, uc.join_use_case("HCALCS")),
            uc.join_command("HCALCS", bytes.fromhex("00DB123456789093"), "ESME")),
        "8.7.1_CS03A2Critical/CS03A2Critical_8.7.1_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, NON_METER, SUPPLIER, C.CS03A2), uc.response_code(0),
            signed=True),
        "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1001, SUPPLIER, GSME, uc.join_use_case("GSME", critical=False)),
            uc.join_command("GSME", bytes.fromhex("00DB12345678909C"), "GPF", critical=False)),
        "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1001, GSME, SUPPLIER, C.CS03B), uc.response_code(0), signed=False),
        "8.7.2_CS03A2NonCritical/CS03A2NonCritical_8.7.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1300, HCALCS, ACB, uc.join_use_case("HCALCS", critical=False),
                   1000), uc.response_code(0), signed=True),
        "8.7.1_CS03A1/CS03A1_8.7.1_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, ESME, SUPPLIER, C.CS03A1), uc.response_code(0), signed=True),
        "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            dated(header(Cra.RESPONSE, 1000, ESME, SUPPLIER, C.CS06)),
            uc.cs06_outcome(uc.ActivationResult.SUCCESS, bytes.fromhex("0123ABCE")), signed=True),
        "11.3_CS06/CS06_11.3_IMMEDIATE_ERROR_RESPONSE_GBCS.HEX": e.reply(
            dated(header(Cra.RESPONSE, 1005, ESME, SUPPLIER, C.CS06)),
            uc.cs06_outcome(uc.ActivationResult.NO_IMAGE_HELD, bytes.fromhex("0123ABCF")),
            signed=True),
        "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            dated(header(Cra.RESPONSE, 1001, ESME, SUPPLIER, C.CS06)), uc.COMMAND_ACCEPTED,
            signed=True),
        "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            dated(header(Cra.RESPONSE, 1002, ESME, SUPPLIER, C.CS06)), uc.COMMAND_ACCEPTED,
            signed=True),
        "11.3_CS06/CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 2000, ESME, SUPPLIER, C.CS06_ALERT),
            uc.cs06_future_dated_alert(FUTURE, 1001, uc.cs06_outcome(
                uc.ActivationResult.SUCCESS, bytes.fromhex("0123ABCF"))), signed=True),
        "11.3_CS06/CS06_11.3_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 2001, ESME, SUPPLIER, C.CS06_ALERT),
            uc.cs06_future_dated_alert(FUTURE, 1004, uc.cs06_outcome(
                uc.ActivationResult.HASH_MISMATCH, bytes.fromhex("0123ABCF"))), signed=True),
        "11.2_CS08/CS08_11.2_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1300, ACB, HCALCS, C.CS08, 1000), uc.CS08_COMMAND),
        "11.2_CS08/CS08_11.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1300, HCALCS, ACB, C.CS08, 1000),
            uc.cs08_response(bytes.fromhex("0123ABCD")), signed=False),
        "8.9_CS07/CS07_8.9_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1001, GSME, SUPPLIER, C.CS07), uc.cs07_response(
                [(bytes.fromhex("0102030405060708"), "GPF"), (bytes.fromhex("00DB123456789099"), "GPF"),
                 (bytes.fromhex("00DB123456789097"), "PPMID")]), signed=False),
        "11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, ESME, SUPPLIER, C.ECS52),
            uc.ecs52_response(1000, bytes.fromhex("0123ABCD")), signed=False),
        "8.8.2_CS04ACNonCritical/CS04ACNonCritical_8.8.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1300, HCALCS, ACB, C.CS04AC, 1000), uc.response_code(0),
            signed=True),
        "8.8.2_CS04B/CS04B_8.8.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, GSME, SUPPLIER, C.CS04B), uc.response_code(0), signed=False),
        "NA_CCS08/CCS08_NA_NA_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 4000, CHF, ACB, C.CCS08),
            uc.ccs08_firmware_transfer_alert(T0, HCALCS, bytes.fromhex("0123ABCD"),
                                             uc.TransferResult.SUCCESS), signed=True),
        "NA_FDRA-DLMS/FDRA-DLMS_NA_8F72_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 2000, ESME, SUPPLIER, C.FDRA_ESME),
            uc.firmware_receipt_alert(2000, True, T0, bytes([1]) * 32), signed=True),
        "NA_GNCA-DLMS/GNCA-DLMS_NA_810E_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 2000, ESME, SUPPLIER, C.GNCA), uc.generic_alert(2000, 0x810E, T0),
            signed=False),
        "NA_GNCA-ZigBee/GNCA-ZigBee_NA_810E_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 3000, GSME, SUPPLIER, C.GNCA),
            uc.generic_alert(3000, 0x810E, T0, gas=True), signed=False),
        "NA_FDRA-ZigBee/FDRA-ZigBee_NA_8F72_ALERT_GBCS.HEX": e.reply(
            header(Cra.ALERT, 3000, GSME, SUPPLIER, C.FDRA_GSME),
            uc.firmware_receipt_alert(3000, True, T0, bytes([0xA1]) * 32, gas=True), signed=True),
        "11.2_GCS38/GCS38_11.2_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1000, SUPPLIER, GSME, C.GCS38), uc.gcs38_command()),
        "11.2_GCS38/GCS38_11.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, GSME, SUPPLIER, C.GCS38),
            uc.gcs38_response(bytes.fromhex("0123ABCD")), signed=False),
        "6.15.2_CS02d/CS02d_6.15.2_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1000, ESME, SUPPLIER, C.CS02D), uc.response_code(0), signed=True),
        "8.9_CCS06/CCS06_8.9_SUCCESS_COMMAND_GBCS.HEX": e.command(
            header(Cra.COMMAND, 1300, ACB, CHF, C.CCS06, 1000), uc.ccs06_command(1300)),
        "8.9_CCS06/CCS06_8.9_SUCCESS_RESPONSE_GBCS.HEX": e.reply(
            header(Cra.RESPONSE, 1300, CHF, ACB, C.CCS06, 1000), uc.ccs06_response(1300, [
                uc.ActiveDevice(ESME, True, True, True, (-35, -50, -100), (2, 39, 247),
                                dt.datetime(2014, 12, 31, 23, 50, tzinfo=dt.UTC), 1, 0, 100, 1, 1),
                uc.ActiveDevice(GSME, True, True, True, (-34, -54, -77), (1, 96, 205),
                                dt.datetime(2014, 12, 31, 23, 40, tzinfo=dt.UTC), 1, 0, 100, 1, 1)]),
            signed=False),
    }
    old, new = SUPPLIER, bytes.fromhex("90B3D51F30030000")
    replaced = [uc.Replacement("ds", old, bytes.fromhex("44899792D196F4B8"), new,
                               bytes.fromhex("4A8103ADAC183A89")),
                uc.Replacement("ka", old, bytes.fromhex("405B8C62687D8F70"), new,
                               bytes.fromhex("483972547DCD7835")),
                uc.Replacement("pp-ka", old, bytes.fromhex("41FB49221588C570"), new,
                               bytes.fromhex("43049452FE1FCE0A"))]
    acb_ds, acb_ka = (ACB, bytes.fromhex("42693535D3DDE101")), (ACB, bytes.fromhex("4A9CE02C39AB910B"))
    no = bytes.fromhex("90B3D51F30020000")
    for folder, code, mode, role, counter, cells in (
            ("6.21_CS02bSupplierBySupplierHandover/CS02bSupplierBySupplierHandover",
             C.CS02B_SUPPLIER_BY_SUPPLIER, uc.SUPPLIER_BY_SUPPLIER, uc.SUPPLIER_ROLE, 1300,
             [("ds", acb_ds, SUPPLIER, "44899792D196F4B8"), ("ka", acb_ka, SUPPLIER, "405B8C62687D8F70"),
              ("pp-ka", acb_ka, SUPPLIER, "41FB49221588C570")]),
            ("6.21_CS02bNOByNOHandover/CS02bNOByNOHandover", C.CS02B_NO_BY_NO, uc.NO_BY_NO,
             uc.NETWORK_OPERATOR_ROLE, 1301,
             [("ds", acb_ds, no, "48CF97FA9F827FB5"), ("ka", acb_ka, no, "4BC9D38D1CB49F2A")])):
        handed = [uc.Replacement(use, *held, new_id, bytes.fromhex(key_id), role=role)
                  for use, held, new_id, key_id in cells]
        top_up = 0 if role == uc.SUPPLIER_ROLE else None
        out[f"{folder}_6.21_SUCCESS_RESPONSE_GBCS.HEX"] = e.reply(
            dated(header(Cra.RESPONSE, counter, GPF, ACB, code)),
            uc.cs02b_response(uc.cs02b_outcome(counter, handed, 0, top_up, mode, role)), signed=True)
    cos = "6.23_CS02bSupplierByTransCoS/CS02bSupplierByTransCoS_6.23_"
    out[f"{cos}IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"] = e.reply(
        dated(header(Cra.RESPONSE, 6001, ESME, TRANSCOS, C.CS02B_SUPPLIER_BY_TRANSCOS)),
        uc.cs02b_response(uc.cs02b_outcome(6001, replaced, 0, 0)), signed=True)
    out[f"{cos}FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX"] = e.reply(
        dated(header(Cra.RESPONSE, 6002, ESME, TRANSCOS, C.CS02B_SUPPLIER_BY_TRANSCOS)),
        uc.cs02b_response(None), signed=True)
    out[f"{cos}8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX"] = e.reply(
        header(Cra.ALERT, 2001, ESME, TRANSCOS, C.CS02B_ALERT),
        uc.cs02b_future_dated_alert(True, dt.datetime(2030, 1, 2, tzinfo=dt.UTC),
                                    uc.cs02b_outcome(6002, replaced, 0, 0)), signed=True)
    for kind, (counter, when) in cs06.items():
        out[f"11.3_CS06/CS06_11.3_{kind}_SUCCESS_PRECOMMAND_GBCS.HEX"] = e.pre_command(
            header(Cra.COMMAND, counter, SUPPLIER, ESME, C.CS06), uc.cs06_command(HASH, counter, when))
    return out


#: Vectors with nothing random in them: hansim must rebuild them bit for bit.
EXACT = {
    "8.11_CCS01/CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX", "8.11_CCS01/CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX",
    "8.11_CCS02/CCS02_8.11_SUCCESS_COMMAND_GBCS.HEX", "8.11_CCS02/CCS02_8.11_SUCCESS_RESPONSE_GBCS.HEX",
    "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_COMMAND_GBCS.HEX", "8.12.1_CCS03/CCS03_8.12.1_SUCCESS_RESPONSE_GBCS.HEX",
    "8.12.1_CCS03/CCS03_8.12.1_ERROR_RESPONSE_GBCS.HEX",
    "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_COMMAND_GBCS.HEX", "8.12.2_GCS59/GCS59_8.12.2_SUCCESS_RESPONSE_GBCS.HEX",
    "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX",
    "8.1.1_GCS28Commission/GCS28Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX",
    "8.7.1_CS03A1/CS03A1_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX",
    "8.7.1_CS03A2Critical/CS03A2Critical_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX",
    "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_COMMAND_GBCS.HEX", "8.7.2_CS03B/CS03B_8.7.2_SUCCESS_RESPONSE_GBCS.HEX",
    "NA_CS14/CS14_NA_8F12_ALERT_GBCS.HEX",
    "11.3_CS06/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX",
    "11.3_CS06/CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND_GBCS.HEX",
    "11.3_CS06/CS06_11.3_CANCELLATION_SUCCESS_PRECOMMAND_GBCS.HEX",
    "11.2_CS08/CS08_11.2_SUCCESS_COMMAND_GBCS.HEX", "11.2_CS08/CS08_11.2_SUCCESS_RESPONSE_GBCS.HEX",
    "8.8.2_CS04B/CS04B_8.8.2_SUCCESS_RESPONSE_GBCS.HEX",
    "11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX", "8.9_CS07/CS07_8.9_SUCCESS_RESPONSE_GBCS.HEX",
    "NA_GNCA-DLMS/GNCA-DLMS_NA_810E_ALERT_GBCS.HEX", "NA_GNCA-ZigBee/GNCA-ZigBee_NA_810E_ALERT_GBCS.HEX",
    "11.2_GCS38/GCS38_11.2_SUCCESS_COMMAND_GBCS.HEX", "11.2_GCS38/GCS38_11.2_SUCCESS_RESPONSE_GBCS.HEX",
    "8.9_CCS06/CCS06_8.9_SUCCESS_COMMAND_GBCS.HEX", "8.9_CCS06/CCS06_8.9_SUCCESS_RESPONSE_GBCS.HEX",
}


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> tuple[dict[str, bytes], dict[str, dict], dict[str, dict]]:
    """hansim's messages, gbcs-parser's reading of them (RTDS keys + the certificates
    hansim used) and of the RTDS vectors."""
    keys = KeyStore([rtds_keystore()])
    ours = built(Envelopes(keys))
    folder = tmp_path_factory.mktemp("keystore")
    keys.write(folder)
    parsed = parse_all(ours, [folder, rtds_keystore()])
    reference = parse_all({name: rtds(name) for name in ours})
    return ours, parsed, reference


def test_every_use_case_in_the_table_is_built(messages):
    ours, _, _ = messages
    assert {u.rtds for u in uc.USE_CASES} <= set(ours)


@pytest.mark.parametrize("vector", sorted(EXACT))
def test_bit_for_bit_as_the_rtds_vector(messages, vector):
    ours, _, _ = messages
    assert ours[vector].hex().upper() == rtds(vector).hex().upper()


def test_every_message_parses_with_its_macs_and_signatures_valid(messages):
    ours, parsed, _ = messages
    failures = {k: r.get("error") or checks(r["message"]) for k, r in parsed.items()
                if not r["ok"] or not all_valid(r["message"])}
    assert not failures
    verified = sum(1 for r in parsed.values() if checks(r["message"]))
    pre_commands = sum(1 for k in ours if "PRECOMMAND" in k)
    assert verified == len(ours) - pre_commands  # everything but a pre-command carries a check


def test_same_structure_as_the_rtds_vector(messages):
    _, parsed, reference = messages
    for vector, result in parsed.items():
        assert reference[vector]["ok"], vector
        assert structure(result["message"]) == structure(reference[vector]["message"]), vector
        assert layout(result["message"]) == layout(reference[vector]["message"]), vector


def test_deterministic():
    a = built(Envelopes(KeyStore([rtds_keystore()])))
    b = built(Envelopes(KeyStore([rtds_keystore()])))
    assert a == b
