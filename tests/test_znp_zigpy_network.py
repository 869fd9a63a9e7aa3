"""The virtual Z-Stack stick through unmodified zigpy-znp, past the join: network maps,
energy scan, channel change, Bind + Configure Reporting with reports arriving, and a
backup that keeps the frame counter and the install-code link key.

The independent side is zigpy (its ZDO/ZCL request and response parsing, its backup
format) and zigpy's own install-code -> link-key conversion.
"""

from __future__ import annotations

import asyncio

import pytest
import zigpy.application
import zigpy.util
import zigpy.zdo.types as zdo_t
from zigpy.zcl import foundation

pytest.importorskip("zigpy_znp")

import zigpy_znp.zigbee.application as znp_app  # noqa: E402
from test_ezsp_bellows import learn_again, values, zcl  # noqa: E402
from test_znp_virtual_stick import SPEC_CODE, Events, app_config  # noqa: E402

from han.znp.emulator import ZStackEmulator  # noqa: E402
from han.znp.meters import EmulatedMeter  # noqa: E402
from han.znp.serve import VirtualStick  # noqa: E402

ESME = EmulatedMeter.parse(f"00-DB-12-34-56-78-90-A0={SPEC_CODE}")
LINK_KEY = zigpy.util.convert_install_code(bytes.fromhex(SPEC_CODE))


async def joined_session(check, **emulator_options) -> object:
    """Form with zigpy-znp, let ESME join with its install code, return ``check(app)``."""
    emulator = ZStackEmulator(meters=(ESME,), join_delay=0.1,
                              **{"seed": 7, **emulator_options})
    async with VirtualStick(emulator) as stick:
        app = await znp_app.ControllerApplication.new(app_config(await stick.open_tcp()),
                                                      auto_form=True)
        events = Events()
        app.add_listener(events)
        try:
            await app.permit_with_link_key(ESME.ieee, LINK_KEY, 1)
            await asyncio.wait_for(events.initialized.wait(), timeout=10)
            return await check(app)
        finally:
            await app.shutdown()


def test_network_maps_energy_scan_and_channel_change(monkeypatch) -> None:
    monkeypatch.setattr(zigpy.application, "CHANNEL_CHANGE_BROADCAST_DELAY_S", 0.01)

    async def check(app):
        meter = app.get_device(ieee=ESME.ieee)
        meter_lqi = await meter.zdo.Mgmt_Lqi_req(0)
        coordinator_lqi = await app._device.zdo.Mgmt_Lqi_req(0)
        routes = await app._device.zdo.Mgmt_Rtg_req(0)
        energy = await app.energy_scan(zigpy.types.Channels.ALL_CHANNELS, 2, 1)
        await app.move_network_to_channel(20)
        return meter_lqi, coordinator_lqi, routes, energy, app.state.network_info, meter.nwk

    meter_lqi, coordinator_lqi, routes, energy, network, nwk = asyncio.run(joined_session(check))
    status, neighbors = meter_lqi
    assert status == zdo_t.Status.SUCCESS
    [parent] = neighbors.NeighborTableList
    assert parent.nwk == 0x0000 and parent.relationship == zdo_t.Neighbor.Relationship.Parent
    assert parent.extended_pan_id == network.extended_pan_id
    [child] = coordinator_lqi[1].NeighborTableList
    assert child.ieee == ESME.ieee and child.relationship == zdo_t.Neighbor.Relationship.Child
    [route] = routes[1].RoutingTableList
    assert route.DstNWK == nwk and route.RouteStatus == zdo_t.RouteStatus.Active
    assert sorted(energy) == list(range(11, 27))
    assert len(set(energy.values())) > 4 and all(0 <= v <= 255 for v in energy.values())
    assert energy[17] > energy[26]  # under Wi-Fi channel 6 vs the quiet top channel
    assert network.channel == 20 and network.nwk_update_id == 1


def test_bind_configure_reporting_and_reports_arrive() -> None:
    async def check(app):
        metering = app.get_device(ieee=ESME.ieee).endpoints[1].smartenergy_metering
        reports = []
        metering.on_event("attribute_report",
                          lambda event: reports.append((event.attribute_id, event.value)))
        bound = await metering.bind()
        configured = await metering.configure_reporting("current_summ_delivered", 1, 1, 0)
        discovered = await metering.discover_attributes(0, 20)
        key_establishment = 0x0800 in app.get_device(ieee=ESME.ieee).endpoints[1].in_clusters
        for _ in range(40):
            if reports:
                break
            await asyncio.sleep(0.1)
        return bound, configured, discovered, key_establishment, reports

    bound, configured, discovered, key_establishment, reports = \
        asyncio.run(joined_session(check))
    assert bound[0] == zdo_t.Status.SUCCESS
    assert [int(status) for status in configured.values()] == [0]  # SUCCESS
    complete, records = discovered
    assert complete and 0x0000 in {record.attrid for record in records}
    assert not key_establishment  # not advertised: the meter would not do CBKE
    assert reports and reports[0][0] == 0x0000  # CurrentSummationDelivered


def test_backup_keeps_frame_counter_and_install_code_key() -> None:
    async def check(app):
        return await app.backups.create_backup(load_devices=True)

    backup = asyncio.run(joined_session(check))
    network = backup.network_info
    assert network.network_key.tx_counter > 0
    [key] = [k for k in network.key_table if k.partner_ieee == ESME.ieee]
    assert key.key == LINK_KEY


def test_restore_onto_a_new_stick_keeps_frame_counter_and_install_code_key() -> None:
    """zigpy-znp's backup of one stick, restored onto another (empty) stick, comes back
    with the meter's install-code key and a frame counter not below the backup's."""
    async def check(app):
        return await app.backups.create_backup(load_devices=True)

    backup = asyncio.run(joined_session(check))

    async def restore():
        # Another stick: the same meter beside it, nothing shared with the first stick
        async with VirtualStick(ZStackEmulator(meters=(ESME,), seed=21)) as stick:
            config = app_config(await stick.open_tcp())
            app = await znp_app.ControllerApplication.new(config, auto_form=True)
            try:
                await app.backups.restore_backup(backup)
            finally:
                await app.shutdown()
            app = await znp_app.ControllerApplication.new(config, auto_form=False)
            try:  # no rejoin: the meter answers at once at its old address
                meter = app.add_device(ESME.ieee, backup.network_info.nwk_addresses[ESME.ieee])
                await learn_again(meter)
                basic = await zcl(meter, 0x0000, foundation.GeneralCommand.Read_Attributes,
                                  [4, 5])
                return await app.backups.create_backup(load_devices=True), basic
            finally:
                await app.shutdown()

    restored, basic = asyncio.run(restore())
    assert values(basic) == {4: "hansim", 5: "ESME"}
    again = restored.network_info
    before = backup.network_info
    assert (again.pan_id, again.extended_pan_id, again.channel) == \
        (before.pan_id, before.extended_pan_id, before.channel)
    assert again.network_key.key == before.network_key.key
    assert again.network_key.tx_counter >= before.network_key.tx_counter > 0
    [key] = [k for k in again.key_table if k.partner_ieee == ESME.ieee]
    assert key.key == LINK_KEY
