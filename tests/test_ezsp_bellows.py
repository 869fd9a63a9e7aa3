"""The virtual EmberZNet stick driven by UNMODIFIED bellows (ZHA's EZSP radio library).

The independent side is bellows and zigpy: bellows' ASH and EZSP v13 code talks to the
stick through a serial device (a pseudo-terminal, as a USB stick appears; over
``socket://`` bellows waits 2 s per connection for zigbeed's reset, and herdsman's
Ember test covers TCP), zigpy's ControllerApplication forms the network, takes the
meter's install-code link key (zigpy's own install code -> key conversion), permits,
interviews over ZDO, parses the ZCL replies and reports, and takes and restores its
backup.

One thing a zigpy host cannot do with a GB meter, and the test says so rather than hiding
it: zigpy hands a device ZCL frames only under the Home Automation or ZLL profiles
(``zigpy.device.Device._parse_packet_header``; zigpy issues 1709, 1810, which
``han.zigpy_radio.accept_smart_energy`` works around for hansim's own radio), and bellows
passes the profile of each frame up as the NCP received it. A Smart Energy meter answers requests to its SE
endpoint (profile 0x0109) under 0x0109, so zigpy's own interview of Basic times out.
ZigBee 3.0 hosts talk to any endpoint under the common profile 0x0104, and the meter
answers under the profile it was asked with; the reads below do that.
"""

from __future__ import annotations

import asyncio

import pytest
import zigpy.util
import zigpy.zdo.types as zdo_t
from zigpy.zcl import foundation

bellows_app = pytest.importorskip("bellows.zigbee.application")

from han.ezsp.emulator import EzspEmulator  # noqa: E402
from han.znp.meters import EmulatedMeter  # noqa: E402
from han.znp.serve import VirtualStick  # noqa: E402

SPEC_CODE = "83FED3407A939723A5C639B26916D505C3B5"  # ZigBee spec vector, code + CRC
ESME = EmulatedMeter.parse(f"00-DB-12-34-56-78-90-A0={SPEC_CODE}")
LINK_KEY = zigpy.util.convert_install_code(bytes.fromhex(SPEC_CODE))
COMMON_PROFILE = 0x0104  # ZigBee 3.0's common profile
SE_PROFILE = 0x0109
METERING = 0x0702


def config(path: str) -> dict:
    return {"device": {"path": path}, "database_path": None, "ota": {"enabled": False},
            "network": {"channel": 15}, "backup_enabled": False,
            "topology_scan_enabled": False}


class Events:
    """zigpy listener events: joins, and every message bellows hands up."""

    def __init__(self) -> None:
        self.joined = asyncio.Event()
        self.messages: list[tuple[int, int, bytes]] = []

    def device_joined(self, device) -> None:
        self.joined.set()

    def handle_message(self, device, profile, cluster, src_ep, dst_ep, message) -> None:
        self.messages.append((profile, cluster, bytes(message)))

    def device_initialized(self, device) -> None: ...

    def device_left(self, device) -> None: ...

    def device_removed(self, device) -> None: ...


async def zcl(device, cluster: int, command: foundation.GeneralCommand, *args):
    """A global ZCL command to the meter's endpoint 1, reply parsed by zigpy."""
    tsn = device.application.get_sequence()
    schema = foundation.GENERAL_COMMANDS[command].schema
    frame = foundation.ZCLHeader.general(tsn, command).serialize() + schema(*args).serialize()
    return await device.request(COMMON_PROFILE, cluster, 1, 1, tsn, frame)


async def learn_again(device) -> zdo_t.NodeDescriptor:
    """zigpy's own interview steps for a device added by hand (no zigpy database here):
    the node descriptor and endpoint 1's simple descriptor. Without them zigpy drops the
    replies of an endpoint it does not know and waits out its 28 s extended timeout."""
    descriptor = await device.get_node_descriptor()
    await device.add_endpoint(1).initialize()
    return descriptor


def reporting(attrid: int, datatype: int, seconds: int) -> foundation.AttributeReportingConfig:
    record = foundation.AttributeReportingConfig()
    record.direction, record.attrid, record.datatype = 0, attrid, datatype
    record.min_interval, record.max_interval, record.reportable_change = seconds, seconds, 0
    return record


async def join_read_bind_report(app) -> dict:
    events = Events()
    app.add_listener(events)
    await app.permit_with_link_key(ESME.ieee, LINK_KEY, 5)
    await asyncio.wait_for(events.joined.wait(), timeout=10)
    meter = app.get_device(ieee=ESME.ieee)
    for _ in range(50):  # zigpy's interview: node descriptor, endpoints, descriptors
        if 1 in meter.endpoints and meter.endpoints[1].profile_id is not None:
            break
        await asyncio.sleep(0.1)
    reports = []
    meter.endpoints[1].smartenergy_metering.on_event(
        "attribute_report", lambda event: reports.append((event.attribute_id, event.value)))
    basic = await zcl(meter, 0x0000, foundation.GeneralCommand.Read_Attributes, [4, 5])
    metering = await zcl(meter, METERING, foundation.GeneralCommand.Read_Attributes,
                         [0x0000, 0x0302])
    bound = await meter.zdo.Bind_req(meter.ieee, 1, METERING, zdo_t.MultiAddress(
        addrmode=3, ieee=app.state.node_info.ieee, endpoint=1))
    configured = await zcl(meter, METERING, foundation.GeneralCommand.Configure_Reporting,
                           [reporting(0x0000, 0x25, 1)])
    for _ in range(40):
        if reports:
            break
        await asyncio.sleep(0.1)
    return {"meter": meter, "events": events, "basic": basic, "metering": metering,
            "bound": bound, "configured": configured, "reports": reports,
            "backup": await app.backups.create_backup(load_devices=True)}


def values(response) -> dict[int, object]:
    return {record.attrid: record.value.value for record in response.status_records
            if record.status == foundation.Status.SUCCESS}


def test_bellows_forms_joins_reads_binds_reports_backs_up_and_restores() -> None:
    async def run():
        stick = EzspEmulator(meters=(ESME,), seed=7, join_delay=0.1)
        async with VirtualStick(stick) as line:
            path = await line.open_pty()
            app = await bellows_app.ControllerApplication.new(config(path), auto_form=True)
            try:
                first = await join_read_bind_report(app)
            finally:
                await app.shutdown()
            app = await bellows_app.ControllerApplication.new(config(path), auto_form=False)
            try:  # the same stick again: it resumes its network from its tokens
                resumed = app.state.network_info
            finally:
                await app.shutdown()
        # Another stick (empty tokens, nothing shared with the first) restored from
        # bellows' backup, beside the same meter: it knows the meter by its key table
        fresh = EzspEmulator(meters=(ESME,), seed=11)
        async with VirtualStick(fresh) as line:
            path = await line.open_pty()
            app = bellows_app.ControllerApplication(config(path))
            try:
                await app.connect()
                await app.backups.restore_backup(first["backup"])
            finally:
                await app.shutdown()
            app = await bellows_app.ControllerApplication.new(config(path), auto_form=False)
            try:
                restored = app.state.network_info
                meter = app.add_device(ESME.ieee, first["meter"].nwk)
                again = await learn_again(meter)
                basic = await zcl(meter, 0x0000, foundation.GeneralCommand.Read_Attributes,
                                  [4, 5])
            finally:
                await app.shutdown()
        return stick, first, resumed, restored, again, basic

    stick, first, resumed, restored, again, basic = asyncio.run(run())
    backup = first["backup"].network_info
    assert backup.channel == 15 and backup.source.startswith("bellows@")
    [outcome] = stick.outcomes
    assert outcome.joined and outcome.nwk == first["meter"].nwk
    endpoint = first["meter"].endpoints[1]
    assert endpoint.profile_id == SE_PROFILE and sorted(endpoint.in_clusters) == [0x0000, METERING]
    assert values(first["basic"]) == {4: "hansim", 5: "ESME"}
    assert values(first["metering"]) == {0x0000: 0, 0x0302: 1000}
    assert first["bound"][0] == zdo_t.Status.SUCCESS
    assert [r.status for r in first["configured"].status_records] == [foundation.Status.SUCCESS]
    assert first["reports"] and first["reports"][0][0] == 0x0000  # CurrentSummationDelivered
    # zigpy's own interview reads Basic under the endpoint's Smart Energy profile: the
    # meter answers under it, bellows hands the reply up, zigpy leaves it unparsed.
    se_replies = [foundation.ZCLHeader.deserialize(message)[0].command_id
                  for profile, cluster, message in first["events"].messages
                  if profile == SE_PROFILE and cluster == 0x0000]
    assert foundation.GeneralCommand.Read_Attributes_rsp in se_replies
    # bellows' backup: the stick's network key, a frame counter that counted, the meter
    assert backup.network_key.key == zigpy.types.KeyData(stick.tokens.network_key)
    assert backup.network_key.tx_counter > 0
    assert backup.nwk_addresses[ESME.ieee] == first["meter"].nwk
    for network in (resumed, restored):
        assert (network.pan_id, network.extended_pan_id, network.channel) == \
            (backup.pan_id, backup.extended_pan_id, backup.channel)
        assert network.network_key.key == backup.network_key.key
        assert network.network_key.tx_counter >= backup.network_key.tx_counter
    assert restored.metadata["ezsp"]["stack_version"] == 13
    assert again.is_router  # the meter answers ZDO
    assert values(basic) == {4: "hansim", 5: "ESME"}  # without joining again

