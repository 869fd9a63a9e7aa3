"""The Comms Hub's trust centre (CHF side of the HAN): answers scans, associates, hands out the
network key under the install-code key, and decides whether a device joined.

Sans-IO and clock-free like the joiner. Which link keys a device may use comes from a
:class:`KeyAuthority` (the CHF device log satisfies it), so this module needs nothing from
``devices/``. Each decision is recorded in :attr:`TrustCentre.decisions`; the caller turns a
join into the device log's 0x8F49 alert (``DeviceLog.joined``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import numpy as np
import zigpy.types as zt
from scapy.layers.dot15d4 import Dot15d4Cmd, Dot15d4CmdAssocReq
from scapy.packet import Packet

from han import frames, zcl, zdo
from han.eui import to_device_id
from han.node import Delivered, Drop, HanNode, known
from han.security import KeyId

#: Stochastic address range of ZigBee PRO (0x0001-0xFFF7).
_FIRST_SHORT, _LAST_SHORT = 0x0001, 0xFFF7


class KeyAuthority(Protocol):
    """Who may join with which link key now: ``devices.device_log.DeviceLog`` fits structurally."""

    def acceptable_keys(self, device_id: str, now: float) -> list[tuple[Any, bytes]]: ...

    def refusal_reason(self, device_id: str, now: float) -> str: ...


class Reason(str, Enum):
    """Why a device did not join, as the trust centre records it."""

    WRONG_LINK_KEY = "wrong link key"
    NO_ASSOCIATION = "no association request received"


@dataclass(frozen=True)
class JoinDecision:
    """``joined`` with the key source, or refused with a reason; the link key stays out of repr."""

    device_id: str
    time: float
    joined: bool
    reason: str
    key_source: Any = None
    link_key: bytes | None = field(default=None, repr=False)


@dataclass
class _Joining:
    short: int
    key_source: Any = None
    link_key: bytes | None = None
    response_pending: bytes | None = None
    key_sent: bool = False
    joined: bool = False
    rx_on_when_idle: bool = True  # False: a sleepy device; its frames wait here until it polls
    held: list[bytes] = field(default_factory=list)


class TrustCentre(HanNode):
    """The CHF's radio as PAN coordinator and trust centre of one HAN."""

    def __init__(self, eui: zt.EUI64, authority: KeyAuthority, network_key: bytes,
                 rng: np.random.Generator, *, pan_id: int, nwk_frame_counter: int = 0,
                 extended_pan_id: int | None = None, first_short: int | None = None) -> None:
        super().__init__(eui, rng, nwk_frame_counter=nwk_frame_counter)
        self.authority = authority
        self.short = frames.COORDINATOR_SHORT
        self.pan_id = pan_id
        self.extended_pan_id = self.eui_int if extended_pan_id is None else extended_pan_id
        self._first_short = first_short  # an address a real coordinator already chose
        self.network_key = bytes(network_key)
        self.permit_until = float("-inf")  # the caller opens permit-join while a window is open
        self.decisions: list[JoinDecision] = []
        self.readings: dict[str, dict[int, Any]] = {}
        self._rng = rng
        self._devices: dict[int, _Joining] = {}

    def __repr__(self) -> str:
        return f"TrustCentre({self.eui}, pan=0x{self.pan_id:04X}, devices={len(self._devices)})"

    def outcome(self, device_id: str, now: float, since: int = 0) -> JoinDecision:
        """The last decision on ``device_id`` (from ``decisions[since]`` on: this join's), or why
        it has not joined (when none was taken)."""
        for decision in reversed(self.decisions[since:]):
            if decision.device_id == device_id:
                return decision
        return JoinDecision(device_id, now, False, self._why_not(device_id, now))

    # -- frames in, frames out ------------------------------------------------------------
    def handle(self, packet: Packet, now: float) -> list[bytes]:
        if packet.fcf_frametype == frames.MacType.COMMAND:
            command = packet[Dot15d4Cmd].cmd_id
            if command == frames.MacCommand.BEACON_REQUEST:
                permit = now < self.permit_until
                frame = frames.beacon(self.mac_seq.next(), self.address()[0], self.extended_pan_id,
                                      permit_joining=permit)
                return [self.labelled(frame, f"beacon (joining {'permitted' if permit else 'not permitted'})")]
            if command == frames.MacCommand.ASSOCIATION_REQUEST:
                return self._on_association_request(packet, now)
            if command == frames.MacCommand.DATA_REQUEST:
                return self._on_data_request(packet)
            raise Drop(f"unhandled MAC command 0x{command:02X}")
        if packet.fcf_frametype == frames.MacType.DATA:
            return self._on_data(packet, now)
        raise Drop("unexpected MAC frame")

    def _on_association_request(self, packet: Packet, now: float) -> list[bytes]:
        device = int(packet[Dot15d4Cmd].src_addr)
        if packet.fcf_srcaddrmode != 3 or packet[Dot15d4Cmd].dest_panid != self.pan_id:
            raise Drop("association request not from an EUI-64 to this PAN")
        device_id = to_device_id(device)
        entry = self._devices.get(device) or _Joining(self._new_short())
        self._devices[device] = entry
        keys = self.authority.acceptable_keys(device_id, now) if now < self.permit_until else []
        if keys:
            entry.key_source, entry.link_key = keys[0]
            status = frames.AssociationStatus.SUCCESS
        else:
            entry.key_source, entry.link_key = None, None
            self.decisions.append(JoinDecision(device_id, now, False, self._why_not(device_id, now)))
            status = frames.AssociationStatus.PAN_ACCESS_DENIED
        entry.key_sent = entry.joined = False  # a new association is a new join, on this network too
        entry.rx_on_when_idle = bool(packet[Dot15d4CmdAssocReq].receiver_on_when_idle)
        entry.held.clear()
        short = entry.short if keys else frames.BROADCAST_SHORT
        entry.response_pending = self.labelled(
            frames.association_response(self.mac_seq.next(), self.address()[0], device, self.eui_int,
                                        short, status),
            f"association response ({status.name.lower().replace('_', ' ')}, 0x{short:04X})")
        return []

    def holds_frame_for(self, packet: Packet) -> bool:
        """Frame Pending in the ack to a data request when a frame waits for that device."""
        if packet.fcf_frametype != frames.MacType.COMMAND:
            return False
        if packet[Dot15d4Cmd].cmd_id != frames.MacCommand.DATA_REQUEST:
            return False
        entry = self._devices.get(int(packet[Dot15d4Cmd].src_addr))
        return entry is not None and (entry.response_pending is not None or bool(entry.held))

    def _on_data_request(self, packet: Packet) -> list[bytes]:
        device = int(packet[Dot15d4Cmd].src_addr)
        entry = self._devices.get(device)
        if entry is None:
            return []
        if entry.response_pending is None:
            # Nothing pending but what a sleepy device's frames wait for: one per poll.
            return [entry.held.pop(0)] if entry.held else []
        out, entry.response_pending = [entry.response_pending], None
        if entry.link_key is not None and not entry.joined:
            out += self._to_device(entry, self._transport_key(device, entry))
        return out

    @staticmethod
    def _to_device(entry: _Joining, frame: bytes) -> list[bytes]:
        """Send now to a device whose receiver is on; hold for a sleepy one until it polls."""
        if entry.rx_on_when_idle:
            return [frame]
        entry.held.append(frame)
        return []

    def _transport_key(self, device: int, entry: _Joining) -> bytes:
        """Network key to the new device: APS-secured (key-transport key), NWK-unsecured."""
        command = frames.transport_key_command(known(self.network_key, "network key"), self.network_key_seq, device,
                                               self.eui_int)
        aps = self.aps_secure(frames.aps_command_header(self.aps_counter.next()), command,
                              KeyId.KEY_TRANSPORT, known(entry.link_key, "link key"))
        entry.key_sent = True
        pan_id, short = self.address()
        frame = frames.mac_data(self.mac_seq.next(), pan_id, entry.short, short,
                                self.nwk_frame(entry.short, aps, secured=False))
        return self.labelled(frame, "APS Transport Key: network key (APS-secured, key-transport key)")

    def _on_data(self, packet: Packet, now: float) -> list[bytes]:
        source = self._device_by_short(packet)
        entry = self._devices[source]
        delivered = self.open_data(packet, entry.link_key)
        if delivered.source_eui is not None and delivered.source_eui != source:
            raise Drop("NWK source EUI-64 does not match the associated device")
        if delivered.profile == frames.PROFILE_ZDO and delivered.cluster == zdo.DEVICE_ANNCE:
            return self._on_device_annce(source, entry, delivered, now)
        if delivered.profile == frames.PROFILE_SMART_ENERGY and delivered.cluster == zcl.METERING:
            self._on_read_response(source, delivered)
            return []
        raise Drop(f"no handler for profile 0x{delivered.profile:04X} cluster 0x{delivered.cluster:04X}")

    def _on_device_annce(self, source: int, entry: _Joining, delivered: Delivered,
                         now: float) -> list[bytes]:
        _, nwk, ieee, _ = zdo.parse_device_annce(delivered.payload)
        if int.from_bytes(bytes(ieee), "little") != source or nwk != entry.short:
            raise Drop("Device_annce addresses do not match the association")
        if entry.joined:
            return []
        if not entry.key_sent:
            raise Drop("Device_annce from a device that was never sent the network key")
        entry.joined = True
        device_id = to_device_id(source)
        self.decisions.append(JoinDecision(device_id, now, True, "joined", entry.key_source,
                                           entry.link_key))
        read = zcl.read_attributes(self.zcl_tsn.next())
        frame = self.send_data(entry.short, frames.PROFILE_SMART_ENERGY, zcl.METERING,
                               frames.SE_ENDPOINT, read, link_key=entry.link_key)
        return self._to_device(entry, self.labelled(frame, "ZCL Read Attributes, Metering (NWK + APS link key)"))

    def _on_read_response(self, source: int, delivered: Delivered) -> None:
        if delivered.aps_key_id != KeyId.LINK:
            raise Drop("Smart Energy response without APS link-key security")
        header, body = zcl.parse(delivered.payload)
        if header.command_id != zcl.foundation.GeneralCommand.Read_Attributes_rsp:
            raise Drop(f"ZCL command 0x{header.command_id:02X} not expected by the CHF")
        self.readings[to_device_id(source)] = {
            int(r.attrid): int(r.value.value) for r in body.status_records if r.status == 0
        }

    # -- helpers --------------------------------------------------------------------------
    def _device_by_short(self, packet: Packet) -> int:
        src = packet.payload.getfieldval("src_addr")
        for device, entry in self._devices.items():
            if entry.short == src:
                return device
        raise Drop("data frame from an unknown short address")

    def _new_short(self) -> int:
        used = {e.short for e in self._devices.values()}
        if self._first_short is not None and self._first_short not in used:
            return self._first_short
        while True:
            short = int(self._rng.integers(_FIRST_SHORT, _LAST_SHORT + 1))
            if short not in used:
                return short

    def _why_not(self, device_id: str, now: float) -> str:
        entry = next((e for d, e in self._devices.items() if to_device_id(d) == device_id), None)
        if entry is not None and entry.key_sent and not entry.joined:
            return Reason.WRONG_LINK_KEY.value
        reason = self.authority.refusal_reason(device_id, now)
        return Reason.NO_ASSOCIATION.value if reason == "join allowed" else reason
