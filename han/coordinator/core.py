"""One coordinator, whichever serial protocol a host speaks to it: sans-IO.

:class:`Coordinator` holds what a ZigBee coordinator is apart from its host protocol:
the meters that may join, the permit windows and the install-code keys given for them,
the joins (decided by a :class:`~han.znp.meters.MeterJoiner`, key level or frame by
frame on the simulated air), the meters' answers to ZDO and ZCL, their bindings and
attribute reports, the network maps and the energy scan. Time is what the front end says
it is (:meth:`Coordinator.advance`).

Where the chip keeps its network (Z-Stack NV items, EmberZNet tokens) is the front end's
business: the core reads and writes it through a :class:`NetworkStore`, and tells the
host what happened through a :class:`HostLink`, so a backup either host takes carries
the same network, frame counter and install-code link keys.
"""

from __future__ import annotations

import functools
import heapq
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import zigpy.types as zt
import zigpy.zdo.types as zdo_t

from han.znp.meters import EmulatedMeter, JoinOutcome, MeterJoiner, NetworkParameters, key_level_join
from han.znp.responder import HanNode, ReportConfig, answer_zcl, answer_zdo, attribute_report

LOGGER = logging.getLogger(__name__)

COORDINATOR_NWK = 0x0000
ZDO_ENDPOINT = 0
PERMIT_MAX = 0xFE  # ZigBee 3.0: a permit of 0xFF means 254 s
GLOBAL_TC_LINK_KEY = b"ZigBeeAlliance09"
WIFI_CHANNELS = {1: 12, 6: 17, 11: 22}  # Wi-Fi channel -> the ZigBee channel under its centre
LINK_LQI = 255  # the meters sit next to the stick on the simulated air
NWK_FRAMES_PER_JOIN = 4  # frames the coordinator secures while a meter joins
MAX_INSTALL_KEYS = 64  # install-code keys held for joiners at once (a TC's transient keys)


class NetworkStore(Protocol):
    """The network as the chip keeps it across resets (the front end's NV or tokens)."""

    def network(self) -> NetworkParameters | None:
        """The formed network, or None before forming."""

    def coordinator_ieee(self) -> zt.EUI64: ...

    def children(self) -> dict[zt.EUI64, int]:
        """EUI-64 -> short address of every device that joined through the coordinator."""

    def add_child(self, ieee: zt.EUI64, nwk: int) -> bool:
        """Record a joined device; False when the chip's table is full."""

    def remove_child(self, ieee: zt.EUI64) -> None:
        """The device leaves the coordinator's tables, its link key with it."""

    def key_table(self) -> dict[zt.EUI64, bytes]:
        """The key table: partner EUI-64 -> link key (what a host's backup restores)."""

    def keep_link_key(self, ieee: zt.EUI64, key: bytes) -> None:
        """Keep the device's install-code link key where the chip's backups read it."""

    def count_secured(self, frames: int) -> None:
        """The coordinator sent ``frames`` NWK-secured frames: its frame counter moves on."""

    def move_channel(self, channel: int) -> None:
        """The whole network moves to ``channel`` (the update id goes up)."""


class HostLink(Protocol):
    """What the host hears from the air, in the front end's own frames."""

    def device_joined(self, meter: EmulatedMeter, nwk: int) -> None: ...

    def device_left(self, node: HanNode) -> None: ...

    def zcl_received(self, node: HanNode, cluster: int, src_endpoint: int, dst_endpoint: int,
                     payload: bytes) -> None: ...


@dataclass
class MeterState:
    """What a meter keeps across the stick's resets: its binding table and reporting."""

    bindings: list = field(default_factory=list)
    reporting: dict[tuple[int, int], ReportConfig] = field(default_factory=dict)
    generation: int = 0  # increments when reporting changes, so stale report timers stop


Timer = tuple[float, int, Callable[[], None], object]


@dataclass
class Air:
    """The meters' side of the simulated air: each joined meter remembers the network
    (extended PAN ID and network key) it joined and its short address there, so a stick
    restored from a backup of that network reaches it as a real one would."""

    memory: dict[zt.EUI64, tuple[zt.EUI64, bytes | None, int]] = field(default_factory=dict)

    def on_network(self, network: NetworkParameters | None) -> dict[zt.EUI64, int]:
        if network is None:
            return {}
        return {ieee: nwk for ieee, (epid, key, nwk) in self.memory.items()
                if epid == network.extended_pan_id and key == network.network_key}


def home_address(network: NetworkParameters, ieee: zt.EUI64) -> int:
    """The short address the coordinator first offers ``ieee`` on ``network``: drawn from
    the extended PAN ID and the EUI-64, so a stick restored from a backup that holds only
    the meter's link key (bellows and herdsman restore no address for a router) finds the
    meter where it is, as a real coordinator's route discovery would."""
    return random.Random(f"{network.extended_pan_id}:{ieee}").randint(0x0001, 0xFFF7)


class Coordinator:
    """The coordinator's network behaviour, its meters and its clock."""

    def __init__(self, store: NetworkStore, host: HostLink, *,
                 meters: tuple[EmulatedMeter, ...] = (), joiner: MeterJoiner = key_level_join,
                 rng: random.Random, join_delay: float = 0.5,
                 on_outcome: Callable[[JoinOutcome], None] | None = None,
                 air: Air | None = None) -> None:
        self.store = store
        self.host = host
        self.meters = {meter.ieee: meter for meter in meters}
        self.joiner = joiner
        self.join_delay = join_delay
        self.on_outcome = on_outcome
        self.outcomes: list[JoinOutcome] = []
        self.rng = rng
        self.now = 0.0
        self._meter_state: dict[zt.EUI64, MeterState] = {}
        self._timers: list[Timer] = []
        self._timer_seq = 0
        self._window = 0  # increments with each permit window, so stale timers do nothing
        self._permit_until: float | None = None
        self.air = air if air is not None else Air()
        self.reset()

    def reset(self) -> None:
        """The chip restarts: what it held in RAM goes, its store and the meters stay."""
        self.close_window(report=True)
        self.install_keys: dict[zt.EUI64, bytes] = {}
        self.join_uses_install_code = False
        self.started = False
        self.endpoints: dict[int, zdo_t.SimpleDescriptor] = {}
        self._permit_until = None
        self._tried: set[zt.EUI64] = set()
        self._refusals: dict[zt.EUI64, str] = {}
        self._keys_this_window: set[zt.EUI64] = set()  # given since the last window closed

    # -- time -----------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Run everything due up to ``now`` (seconds, any origin, never decreasing)."""
        while self._timers and self._timers[0][0] <= now:
            when, _, action, _ = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            action()
        self.now = max(self.now, now)

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def at(self, when: float, action: Callable[[], None], tag: object = None) -> None:
        """Run ``action`` at ``when``; ``tag`` names a group :meth:`cancel` drops at once."""
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, action, tag))

    def cancel(self, tag: object) -> None:
        """Drop every pending timer tagged ``tag``: superseded timers do not pile up,
        however fast a host re-opens windows or reconfigures reports."""
        kept = [timer for timer in self._timers if timer[3] != tag]
        if len(kept) != len(self._timers):
            heapq.heapify(kept)
            self._timers = kept

    # -- install codes and permit windows -----------------------------------------------
    def add_install_key(self, ieee: zt.EUI64, key: bytes) -> bool:
        """The link key derived from a joiner's install code; False when the table is full."""
        if ieee not in self.install_keys and len(self.install_keys) >= MAX_INSTALL_KEYS:
            return False
        self.install_keys[ieee] = key
        self._keys_this_window.add(ieee)
        return True

    @property
    def permitting(self) -> bool:
        """Whether a permit-join window is open now."""
        return self._permit_until is not None

    def open_window(self, duration: int) -> None:
        """Permit joining for ``duration`` seconds (0 closes); the meters try in turn."""
        if not self.started:
            return
        if duration == 0:
            self.close_window(report=True)
            return
        duration = min(duration, PERMIT_MAX)
        self.close_window(report=False)
        self.cancel("window")
        self._window += 1
        window = self._window
        self._permit_until = self.now + duration

        def in_this_window(action: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                if window == self._window:  # not closed or re-opened since
                    action()
            return run

        self.at(self._permit_until, in_this_window(lambda: self.close_window(report=True)),
                "window")
        joined = self.members()
        waiting = [m for m in self.meters.values() if m.ieee not in joined]
        for index, meter in enumerate(waiting, start=1):
            self.at(self.now + self.join_delay * index,
                    in_this_window(functools.partial(self._attempt, meter)), "window")

    def close_window(self, report: bool) -> None:
        """End the permit window; a key given for a meter that did not join is a failure."""
        if self._permit_until is None:
            return
        self._permit_until = None
        self._window += 1
        if not report:
            return
        joined = self.members()
        for ieee in sorted(self._keys_this_window | self._tried, key=str):
            if ieee in joined:
                continue
            reason = self._refusals.get(ieee, "no device with this EUI-64 tried to join")
            self._report(JoinOutcome(ieee, False, self.now,
                                     f"permit window closed without a join ({reason})"))
        self._tried.clear()
        self._refusals.clear()
        self._keys_this_window.clear()

    def _attempt(self, meter: EmulatedMeter) -> None:
        network = self.store.network()
        if network is None or meter.ieee in self.members():
            return
        self._tried.add(meter.ieee)
        key = self.install_keys.get(meter.ieee)
        if key is None and not self.join_uses_install_code:
            key = GLOBAL_TC_LINK_KEY  # a ZigBee 3.0 TC also lets devices join with it
        nwk = self._allocate_nwk(network, meter.ieee)
        decision = self.joiner(replace(network, next_short=nwk), meter, key)
        if not decision.joined:
            LOGGER.info("meter %s refused: %s", meter.ieee, decision.reason)
            self._refusals[meter.ieee] = decision.reason
            return
        if not self.store.add_child(meter.ieee, nwk):
            self._refusals[meter.ieee] = "the coordinator's address table is full"
            return
        if key is not None and key != GLOBAL_TC_LINK_KEY:
            self.store.keep_link_key(meter.ieee, key)
        self.air.memory[meter.ieee] = (network.extended_pan_id, network.network_key, nwk)
        self.store.count_secured(NWK_FRAMES_PER_JOIN)
        self._report(JoinOutcome(meter.ieee, True, self.now, decision.reason, nwk))
        self.host.device_joined(meter, nwk)

    def _report(self, outcome: JoinOutcome) -> None:
        self.outcomes.append(outcome)
        LOGGER.info("%s", outcome.describe())
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def members(self) -> dict[zt.EUI64, int]:
        """Devices on the network: in the coordinator's tables, meters whose install-code
        link key is in its key table (restored from a backup: the meter joined this
        network and stays on it), or meters that joined this network through another
        stick holding the same network."""
        network = self.store.network()
        return {**self._keyed(network), **self.air.on_network(network),
                **self.store.children()}

    def _keyed(self, network: NetworkParameters | None) -> dict[zt.EUI64, int]:
        if network is None:
            return {}
        keys = self.store.key_table()
        return {ieee: home_address(network, ieee) for ieee, meter in self.meters.items()
                if keys.get(ieee) == meter.link_key}

    def _allocate_nwk(self, network: NetworkParameters, ieee: zt.EUI64) -> int:
        used = {nwk for other, nwk in self.members().items() if other != ieee}
        nwk = home_address(network, ieee)
        if nwk not in used:
            return nwk
        while True:
            nwk = self.rng.randint(0x0001, 0xFFF7)
            if nwk not in used:
                return nwk

    def forget(self, ieee: zt.EUI64) -> bool:
        """The device leaves the coordinator's tables (removed, or told to leave)."""
        if ieee not in self.members():
            return False
        self.store.remove_child(ieee)
        self.air.memory.pop(ieee, None)
        state = self._meter_state.pop(ieee, None)
        if state is not None:
            state.generation += 1  # its report timers stop
        return True

    def restore_child(self, ieee: zt.EUI64, nwk: int) -> bool:
        """A host puts back a meter it knows joined (a restore, a route recovery), at a
        short address a router can hold (not the coordinator's, nor a broadcast)."""
        if ieee not in self.meters or not 0x0001 <= nwk <= 0xFFF7:
            return False
        return ieee in self.store.children() or self.store.add_child(ieee, nwk)

    # -- the nodes a host talks to --------------------------------------------------------
    def joined(self) -> dict[zt.EUI64, int]:
        """Meters on the network now, with their short addresses."""
        return {ieee: node.nwk for ieee, node in self.joined_nodes().items()}

    def joined_nodes(self) -> dict[zt.EUI64, HanNode]:
        nodes = {}
        network = self.store.network()
        for ieee, nwk in self.members().items():
            meter = self.meters.get(ieee)
            if meter is None:
                continue
            state = self._meter_state.setdefault(meter.ieee, MeterState())
            neighbors = [] if network is None else [_neighbor(
                network.extended_pan_id, self.store.coordinator_ieee(), COORDINATOR_NWK,
                zdo_t.Neighbor.DeviceType.Coordinator, zdo_t.Neighbor.Relationship.Parent)]
            nodes[meter.ieee] = HanNode(
                nwk=nwk, ieee=meter.ieee, node_descriptor=meter.node_descriptor(),
                endpoints={d.endpoint: d for d in meter.simple_descriptors()},
                attributes=meter.attributes(), neighbors=neighbors,
                routes=[_route(COORDINATOR_NWK, COORDINATOR_NWK)],
                bindings=state.bindings, reporting=state.reporting)
        return nodes

    def coordinator_node(self) -> HanNode:
        children = list(self.joined_nodes().values())
        network = self.store.network()
        neighbors = [] if network is None else [_neighbor(
            network.extended_pan_id, child.ieee, child.nwk, zdo_t.Neighbor.DeviceType.Router,
            zdo_t.Neighbor.Relationship.Child) for child in children]
        return HanNode(nwk=COORDINATOR_NWK, ieee=self.store.coordinator_ieee(),
                       node_descriptor=coordinator_descriptor(), endpoints=self.endpoints,
                       neighbors=neighbors,
                       routes=[_route(child.nwk, child.nwk) for child in children],
                       energy_scan=self.energy_scan, change_channel=self.store.move_channel)

    def node(self, *, nwk: int | None = None, ieee: zt.EUI64 | None = None) -> HanNode | None:
        """The coordinator or a joined meter, by short address or EUI-64."""
        for node in (self.coordinator_node(), *self.joined_nodes().values()):
            if (nwk is not None and node.nwk == nwk) or (ieee is not None and node.ieee == ieee):
                return node
        return None

    # -- frames a host sends over the air ------------------------------------------------
    def zdo(self, node: HanNode, cluster: int, data: bytes) -> tuple[int, bytes] | None:
        """A ZDO request (TSN first) to ``node``: its response cluster and payload, or None."""
        if node.nwk != COORDINATOR_NWK:
            self.store.count_secured(1)
        reply = answer_zdo(node, cluster, data)
        if reply is not None and reply[0] == zdo_t.ZDOCmd.Mgmt_Leave_rsp:
            self.forget(node.ieee)
            LOGGER.info("meter %s left the network", node.ieee)
            self.host.device_left(node)
        return reply

    def zcl(self, node: HanNode, cluster: int, dst_endpoint: int, src_endpoint: int,
            data: bytes) -> None:
        """A ZCL frame to a meter's endpoint; its reply comes back through the host link."""
        if node.nwk == COORDINATOR_NWK or dst_endpoint not in node.endpoints:
            return
        self.store.count_secured(1)
        reporting = dict(node.reporting)
        payload = answer_zcl(node, cluster, data)
        if payload is not None:
            self.host.zcl_received(node, cluster, dst_endpoint, src_endpoint, payload)
        if node.reporting != reporting:
            self._schedule_reports(node)

    # -- reports, radio ----------------------------------------------------------------
    def _schedule_reports(self, node: HanNode) -> None:
        """(Re)start the meter's reports: each configured attribute at its maximum
        interval, to each coordinator endpoint the cluster is bound to."""
        state = self._meter_state.get(node.ieee)
        if state is None:
            return
        state.generation += 1
        generation = state.generation
        self.cancel(("reports", node.ieee))
        periods: dict[int, int] = {}
        for (cluster, _), config in state.reporting.items():
            period = max(config.maximum, config.minimum, 1) if config.maximum else 0
            if period:
                periods[cluster] = min(periods.get(cluster, period), period)
        for cluster, period in periods.items():
            def send(cluster=cluster, period=period) -> None:
                current = self.joined_nodes().get(node.ieee)
                if current is None or state.generation != generation:
                    return
                self._report_to_bindings(current, cluster)
                self.at(self.now + period, send, ("reports", node.ieee))
            self.at(self.now + period, send, ("reports", node.ieee))

    def _report_to_bindings(self, node: HanNode, cluster: int) -> None:
        configs = [config for (c_id, _), config in node.reporting.items() if c_id == cluster]
        for binding in node.bindings:
            address = binding.DstAddress
            if int(binding.ClusterId) != cluster or address.addrmode != 0x03 \
                    or address.ieee != self.store.coordinator_ieee():
                continue
            self.store.count_secured(1)
            payload = attribute_report(node, cluster, self.rng.getrandbits(8), configs)
            self.host.zcl_received(node, cluster, int(binding.SrcEndpoint),
                                   int(address.endpoint), payload)

    def energy_scan(self, channels: list[int]) -> list[int]:
        """Energy per channel (0-255) as the stick's radio measures it: the network's own
        channel and channels under the common Wi-Fi channels are busier; deterministic
        by the coordinator's EUI-64."""
        network = self.store.network()
        busy = set(WIFI_CHANNELS.values())
        values = []
        for channel in channels:
            rng = random.Random(f"{self.store.coordinator_ieee()}:{channel}")
            level = rng.randint(10, 60)
            if channel in busy or any(abs(channel - b) == 1 for b in busy):
                level += 80 if channel in busy else 40
            if network is not None and channel == network.channel:
                level += 30
            values.append(min(level, 255))
        return values


def _neighbor(ext_pan_id: zt.EUI64, ieee: zt.EUI64, nwk: int, device_type,
              relationship) -> zdo_t.Neighbor:
    return zdo_t.Neighbor(
        extended_pan_id=zt.ExtendedPanId(ext_pan_id), ieee=ieee, nwk=zt.NWK(nwk),
        device_type=device_type, rx_on_when_idle=zdo_t.Neighbor.RxOnWhenIdle.On,
        relationship=relationship, reserved1=0, permit_joining=zdo_t.Neighbor.PermitJoins.Unknown,
        reserved2=0, depth=0 if nwk == COORDINATOR_NWK else 1, lqi=LINK_LQI)


def _route(destination: int, next_hop: int) -> zdo_t.Route:
    return zdo_t.Route(DstNWK=zt.NWK(destination), RouteStatus=zdo_t.RouteStatus.Active,
                       MemoryConstrained=0, ManyToOne=0, RouteRecordRequired=0, Reserved=0,
                       NextHop=zt.NWK(next_hop))


def coordinator_descriptor() -> zdo_t.NodeDescriptor:
    flags = zdo_t.NodeDescriptor.MACCapabilityFlags
    return zdo_t.NodeDescriptor(
        logical_type=zdo_t.LogicalType.Coordinator, complex_descriptor_available=0,
        user_descriptor_available=0, reserved=0, aps_flags=0,
        frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
        mac_capability_flags=(flags.AlternatePanCoordinator | flags.FullFunctionDevice
                              | flags.MainsPowered | flags.RxOnWhenIdle),
        manufacturer_code=0x0000, maximum_buffer_size=80, maximum_incoming_transfer_size=160,
        server_mask=0x2C41, maximum_outgoing_transfer_size=160,
        descriptor_capability_field=zdo_t.NodeDescriptor.DescriptorCapability.NONE)
