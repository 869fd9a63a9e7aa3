"""What a HAN node's MAC/NWK/APS layers keep between frames: addresses, sequence numbers,
security frame counters, duplicate and replay filters, and the tally of dropped frames.

The joiner (meter radio) and the trust centre (CHF) are both built on :class:`HanNode`;
they differ only in what they do with a delivered frame.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import zigpy.types as zt
from scapy.layers.dot15d4 import Dot15d4Data
from scapy.layers.zigbee import ZigbeeAppDataPayload, ZigbeeNWK
from scapy.packet import Packet

from han import frames
from han.eui import to_int
from han.keys import key_transport_key
from han.security import AuxHeader, IncomingCounters, KeyId, SecurityError, parse_aux, secure, unsecure


@dataclass
class Output:
    """What a node does with one received frame: a MAC ack (sent by the radio at once) and replies."""

    ack: bytes | None = None
    frames: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Delivered:
    """An APS frame that passed every check, decrypted, with who sent it and how it was secured."""

    nwk_source: int
    source_eui: int | None
    aps_frametype: int
    profile: int
    cluster: int
    payload: bytes
    nwk_key_id: KeyId | None
    aps_key_id: KeyId | None


class Drop(Exception):
    """Raised inside a node to drop the current frame; the message is the counted reason."""


T = TypeVar("T")


def known(value: T | None, what: str) -> T:
    """What a node has learnt (its PAN ID, short address, network key) before it sends with it;
    sending without it is a bug in the caller, not a frame to drop."""
    if value is None:
        raise RuntimeError(f"HAN node sends before it has its {what}")
    return value


class _Sequence:
    """An 8-bit sequence number that starts anywhere (as after a power cycle) and wraps."""

    def __init__(self, start: int) -> None:
        self._value = start & 0xFF

    def next(self) -> int:
        value = self._value
        self._value = (value + 1) & 0xFF
        return value


class HanNode:
    """Per-node layer state; ``rng`` sets where its sequence numbers start."""

    def __init__(self, eui: zt.EUI64, rng: np.random.Generator, *, nwk_frame_counter: int = 0) -> None:
        self.eui = eui
        self.eui_int = to_int(eui)
        self.short: int | None = None
        self.pan_id: int | None = None
        self.mac_seq, self.nwk_seq, self.aps_counter, self.zdo_tsn, self.zcl_tsn = (
            _Sequence(int(s)) for s in rng.integers(0, 256, size=5)
        )
        self.network_key: bytes | None = None
        #: When the node next acts by itself (a retry, a poll); None: only frames wake it.
        self.deadline: float | None = None
        self.network_key_seq = 0
        self.nwk_frame_counter = nwk_frame_counter
        self.aps_frame_counters: dict[bytes, int] = {}
        self.incoming = IncomingCounters()
        self.drops: Counter[str] = Counter()
        self._last_mac_seq: dict[int, int] = {}
        self._broadcasts_seen: set[tuple[int, int]] = set()
        self.labels: dict[bytes, str] = {}  # what each frame this node sent is, for timelines

    def labelled(self, raw: bytes, label: str) -> bytes:
        """Remember what ``raw`` is (e.g. "Device_annce") so a timeline can name it without keys."""
        self.labels[raw] = label
        return raw

    # -- receiving ------------------------------------------------------------------------
    def receive(self, raw: bytes, now: float) -> Output:
        """Parse, filter and hand the frame to :meth:`handle`; malformed frames are counted, never raised."""
        out = Output()
        try:
            packet = frames.parse(raw)
            if not self._addressed_to_me(packet):
                raise Drop("not addressed to this node")
            # The MAC acks what it received intact, whatever the layers above make of it.
            out.ack = frames.ack(packet.seqnum, self.holds_frame_for(packet)) if packet.fcf_ackreq else None
            if self._duplicate(packet):
                raise Drop("duplicate MAC frame")
            out.frames = self.handle(packet, now)
        except (frames.FrameError, SecurityError, Drop) as err:
            self.drops[str(err)] += 1
        except Exception as err:  # a payload library refusing bytes: still a drop, never a crash
            self.drops[f"malformed payload ({type(err).__name__})"] += 1
        return out

    def handle(self, packet: Packet, now: float) -> list[bytes]:
        raise NotImplementedError

    def holds_frame_for(self, packet: Packet) -> bool:
        """Whether the ack to ``packet`` sets Frame Pending: only a parent holding frames does."""
        return False

    def _addressed_to_me(self, packet: Packet) -> bool:
        if packet.fcf_frametype in (frames.MacType.BEACON, frames.MacType.ACK):
            return packet.fcf_frametype == frames.MacType.BEACON
        mode = packet.fcf_destaddrmode
        dst = packet.payload.getfieldval("dest_addr") if mode else None
        pan = packet.payload.getfieldval("dest_panid") if mode else None
        if pan not in (None, frames.BROADCAST_PAN, self.pan_id) and self.pan_id is not None:
            return False  # another PAN's frame
        if mode == 2:
            return dst == frames.BROADCAST_SHORT or (self.short is not None and dst == self.short)
        if mode == 3:
            return dst == self.eui_int
        return False

    def _duplicate(self, packet: Packet) -> bool:
        layer = packet.payload
        src = layer.getfieldval("src_addr") if packet.fcf_srcaddrmode and "src_addr" in layer.fields else None
        if src is None or packet.fcf_ackreq == 0:
            return False
        duplicate = self._last_mac_seq.get(src) == packet.seqnum
        self._last_mac_seq[src] = packet.seqnum
        return duplicate

    def open_data(self, packet: Packet, link_key: bytes | None) -> Delivered:
        """Strip NWK and APS security from a MAC data frame; :class:`Drop` / SecurityError if it fails."""
        if packet.fcf_frametype != frames.MacType.DATA or Dot15d4Data not in packet:
            raise Drop("unexpected MAC frame")
        nwk = packet.getlayer(ZigbeeNWK)
        if nwk is None or nwk.frametype != 0:
            raise Drop("not a NWK data frame")
        header, rest = frames.split_header(nwk)
        if nwk.destination >= 0xFFF8:  # broadcast transaction table: each broadcast once
            if (nwk.source, nwk.seqnum) in self._broadcasts_seen:
                raise Drop("duplicate NWK broadcast")
            self._broadcasts_seen.add((nwk.source, nwk.seqnum))
        nwk_key_id = None
        if nwk.flags.security:
            if self.network_key is None:
                raise Drop("NWK-secured frame before the network key is known")
            aux, sealed = parse_aux(rest)
            if aux.key_id != KeyId.NETWORK:
                raise Drop("NWK frame secured with a key other than the network key")
            self.incoming.check(aux)
            rest = unsecure(header, aux, sealed, self.network_key)
            self.incoming.accept(aux)
            nwk_key_id = aux.key_id
        aps = ZigbeeAppDataPayload(rest)
        if aps.aps_frametype not in (0, 1):
            raise Drop(f"unsupported APS frame type {aps.aps_frametype}")
        aps_header, aps_rest = frames.split_header(aps) if aps.payload else (rest, b"")
        aps_key_id = None
        if aps.frame_control.security:
            aux, sealed = parse_aux(aps_rest)
            key = self._aps_key(aux.key_id, link_key)
            self.incoming.check(aux)
            aps_rest = unsecure(aps_header, aux, sealed, key)
            self.incoming.accept(aux)
            aps_key_id = aux.key_id
        return Delivered(
            nwk_source=nwk.source,
            source_eui=int(nwk.ext_src) if nwk.flags.extended_src else None,
            aps_frametype=aps.aps_frametype,
            profile=aps.profile if aps.aps_frametype == 0 else -1,
            cluster=aps.cluster if aps.aps_frametype == 0 else -1,
            payload=aps_rest,
            nwk_key_id=nwk_key_id,
            aps_key_id=aps_key_id,
        )

    @staticmethod
    def _aps_key(key_id: KeyId, link_key: bytes | None) -> bytes:
        if link_key is None:
            raise Drop("APS-secured frame from a device without a link key")
        if key_id == KeyId.LINK:
            return link_key
        if key_id == KeyId.KEY_TRANSPORT:
            return key_transport_key(link_key)
        raise Drop(f"APS frame secured with unsupported key id {int(key_id)}")

    # -- sending --------------------------------------------------------------------------
    def on_timer(self, now: float) -> list[bytes]:
        """What the node sends when its ``deadline`` comes; a node with timers overrides this."""
        return []

    def address(self) -> tuple[int, int]:
        """(PAN ID, short address), which every frame it sends carries."""
        return known(self.pan_id, "PAN ID"), known(self.short, "short address")

    def aps_secure(self, header: bytes, payload: bytes, key_id: KeyId, link_key: bytes) -> bytes:
        """APS header + aux + ciphertext under the link key (or a key derived from it)."""
        key = link_key if key_id == KeyId.LINK else key_transport_key(link_key)
        counter = self.aps_frame_counters.get(link_key, 0)
        self.aps_frame_counters[link_key] = counter + 1
        return secure(header, AuxHeader(key_id, counter, self.eui_int), key, payload)

    def nwk_frame(self, dst: int, aps_frame: bytes, *, secured: bool) -> bytes:
        """NWK header (+ network-key security) around an APS frame."""
        header = frames.nwk_header(dst, known(self.short, "short address"), self.nwk_seq.next(), secured=secured,
                                   source_eui=self.eui_int)
        if not secured:
            return header + aps_frame
        aux = AuxHeader(KeyId.NETWORK, self.nwk_frame_counter, self.eui_int, self.network_key_seq)
        self.nwk_frame_counter += 1
        return secure(header, aux, known(self.network_key, "network key"), aps_frame)

    def send_data(self, dst: int, profile: int, cluster: int, endpoint: int, payload: bytes, *,
                  link_key: bytes | None = None) -> bytes:
        """A NWK-secured data frame, APS-secured with ``link_key`` when given; broadcast if ``dst`` >= 0xFFF8."""
        broadcast = dst >= 0xFFF8
        aps_header = frames.aps_data_header(self.aps_counter.next(), profile, cluster, endpoint,
                                            endpoint, secured=link_key is not None,
                                            broadcast=broadcast)
        aps_frame = (self.aps_secure(aps_header, payload, KeyId.LINK, link_key)
                     if link_key is not None else aps_header + payload)
        mac_dst = frames.BROADCAST_SHORT if broadcast else dst
        pan_id, short = self.address()
        return frames.mac_data(self.mac_seq.next(), pan_id, mac_dst, short,
                               self.nwk_frame(dst, aps_frame, secured=True))
