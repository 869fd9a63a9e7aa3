"""The joining meter's radio (ESME, GSME or IHD): scan, associate, take the network key, announce.

Sans-IO: :meth:`Joiner.start`, :meth:`Joiner.receive` and :meth:`Joiner.on_timer` return
the frames to send; :attr:`Joiner.deadline` says when the caller must call
:meth:`on_timer` next. The joiner only ever learns the network key by decrypting the
Transport Key with the key-transport key of its *own* install code: with any other code
the MIC fails, it never announces itself, and it retries the whole join until it gives up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import zigpy.types as zt
from scapy.layers.dot15d4 import Dot15d4Beacon, Dot15d4CmdAssocResp
from scapy.layers.zigbee import ZigBeeBeacon
from scapy.packet import Packet

from han import frames, zcl, zdo
from han.node import Drop, HanNode, known
from han.security import KeyId

SYMBOL = 16e-6  # seconds per symbol at 2.4 GHz (O-QPSK, 62.5 ksymbol/s)
A_BASE_SUPERFRAME_DURATION = 960  # symbols


@dataclass(frozen=True)
class JoinTiming:
    """Joiner timeouts and retries (seconds). Defaults are the IEEE 802.15.4 / ZigBee PRO / BDB values.

    - ``scan_duration``: active scan of one channel, ScanDuration 3:
      (2**3 + 1) * aBaseSuperframeDuration symbols = 138 ms (Z-Stack's default exponent).
    - ``response_wait``: macResponseWaitTime = 32 * aBaseSuperframeDuration symbols = 492 ms,
      the wait between association request and the data request that fetches the answer,
      and again for the answer itself.
    - ``key_wait``: how long the joiner waits for the Transport Key after association:
      the BDB's bdbcTCLinkKeyExchangeTimeout, 5 s (apsSecurityTimeOutPeriod in stacks).
    - ``attempts``: 1 + bdbcRecSameNetworkRetryAttempts (3) whole joins.
    - ``backoff``: seconds before retry k (1-based) is ``backoff * 2**(k-1)``: 1, 2, 4 s.
    - ``broadcast_retries`` / ``passive_ack_timeout``: nwkMaxBroadcastRetries (2) and
      nwkPassiveAckTimeout (0.5 s): the Device_annce broadcast is sent again until the CHF is
      heard (standing in for the passive acknowledgement of a relayed broadcast).
    - ``poll_period`` / ``fast_polls``: a sleepy device (receiver off when idle) polls its
      parent this often while it waits for the Transport Key and, after joining, this many
      times for the CHF's first frames (assumed, L: stacks fast-poll at 0.1-1 s while joining).
    """

    scan_duration: float = (2**3 + 1) * A_BASE_SUPERFRAME_DURATION * SYMBOL
    response_wait: float = 32 * A_BASE_SUPERFRAME_DURATION * SYMBOL
    key_wait: float = 5.0
    attempts: int = 4
    backoff: float = 1.0
    broadcast_retries: int = 2
    passive_ack_timeout: float = 0.5
    poll_period: float = 0.5
    fast_polls: int = 20


class JoinState(Enum):
    IDLE = "idle"
    SCANNING = "scanning"
    ASSOCIATING = "associating"
    POLLING = "polling"
    AWAITING_KEY = "awaiting key"
    JOINED = "joined"
    BACKING_OFF = "backing off"
    GAVE_UP = "gave up"


class Joiner(HanNode):
    """A meter's radio trying to join the CHF's HAN with the link key of the code it holds."""

    def __init__(self, eui: zt.EUI64, link_key: bytes, rng: np.random.Generator, *,
                 timing: JoinTiming = JoinTiming(), reading: zcl.MeterReading = zcl.MeterReading(0),
                 sleepy: bool = False) -> None:
        super().__init__(eui, rng)
        self._link_key = bytes(link_key)
        self.timing = timing
        self.reading = reading
        self.sleepy = sleepy  # a battery device (GSME): receiver off when idle, it polls its parent
        self.extended_pan_id: int | None = None
        self.failures: list[str] = []  # why each attempt failed, in order (no secrets)
        self._beacon: tuple[int, int] | None = None
        self._announce: bytes | None = None
        self.new_join()

    def new_join(self, link_key: bytes | None = None, *, timing: JoinTiming | None = None,
                 reading: zcl.MeterReading | None = None) -> None:
        """Forget the last join (a leave, or a new 8.11 window), optionally with the code's
        link key, timing and reading it has now; keep what a radio keeps in non-volatile
        memory across joins: its frame counters and sequence numbers."""
        self._link_key = bytes(link_key) if link_key is not None else self._link_key
        self.timing = timing if timing is not None else self.timing
        self.reading = reading if reading is not None else self.reading
        self.state = JoinState.IDLE
        self.deadline = None
        self.attempt = 0
        self.failures = []  # why each attempt failed, in order (no secrets)
        self.network_key = None
        self._beacon = None  # (PAN id, extended PAN id) of the beacon that permits joining
        self._key_deadline = 0.0
        self._announce = None  # the Device_annce NWK frame, until the CHF is heard
        self._rebroadcasts_left = 0
        self._polls_left = 0

    def __repr__(self) -> str:
        return f"Joiner({self.eui}, state={self.state.value}, attempt={self.attempt})"

    # -- the caller's events --------------------------------------------------------------
    def start(self, now: float) -> list[bytes]:
        """Begin a join attempt: an active scan (beacon request)."""
        self.attempt += 1
        self.short = None
        self.pan_id = None
        self._beacon = None
        self._enter(JoinState.SCANNING, now + self.timing.scan_duration)
        return [self.labelled(frames.beacon_request(self.mac_seq.next()), "beacon request")]

    def on_timer(self, now: float) -> list[bytes]:
        if self.deadline is None or now < self.deadline:
            return []
        if self.state is JoinState.SCANNING:
            if self._beacon is None:
                return self._fail("no beacon permitting joining", now)
            self.pan_id, self.extended_pan_id = self._beacon
            self._enter(JoinState.ASSOCIATING, now + self.timing.response_wait)
            request = frames.association_request(self.mac_seq.next(), self.pan_id, self.eui_int,
                                                 sleepy=self.sleepy)
            return [self.labelled(request, "association request" + (" (sleepy)" if self.sleepy else ""))]
        if self.state is JoinState.ASSOCIATING:
            self._enter(JoinState.POLLING, now + self.timing.response_wait)
            return [self._data_request()]
        if self.state is JoinState.POLLING:
            return self._fail("no association response", now)
        if self.state is JoinState.AWAITING_KEY:
            if not self.sleepy or now >= self._key_deadline:
                return self._fail("no usable Transport Key", now)
            self.deadline = min(now + self.timing.poll_period, self._key_deadline)
            return [self._data_request()]
        if self.state is JoinState.BACKING_OFF:
            return self.start(now)
        if self.state is JoinState.JOINED:
            if self._announce is not None and self._rebroadcasts_left > 0:
                return self._rebroadcast(now)
            return self._fast_poll(now)
        return []

    def _data_request(self) -> bytes:
        return self.labelled(frames.data_request(self.mac_seq.next(), known(self.pan_id, "PAN ID"),
                                                 self.eui_int),
                             "data request (poll)")

    def _next_poll(self, now: float) -> float | None:
        return now + self.timing.poll_period if self.sleepy and self._polls_left > 0 else None

    def _fast_poll(self, now: float) -> list[bytes]:
        """A sleepy device just joined polls for the CHF's first frames; a mains one never needs to."""
        if not self.sleepy or self._polls_left <= 0:
            self.deadline = None
            return []
        self._polls_left -= 1
        self.deadline = self._next_poll(now)
        return [self._data_request()]

    def handle(self, packet: Packet, now: float) -> list[bytes]:
        if self.state is JoinState.SCANNING and packet.haslayer(Dot15d4Beacon):
            self._on_beacon(packet)
            return []
        if self.state is JoinState.POLLING and packet.haslayer(Dot15d4CmdAssocResp):
            return self._on_association_response(packet[Dot15d4CmdAssocResp], now)
        if self.state is JoinState.AWAITING_KEY and packet.fcf_frametype == frames.MacType.DATA:
            return self._on_transport_key(packet, now)
        if self.state is JoinState.JOINED and packet.fcf_frametype == frames.MacType.DATA:
            return self._on_zcl(packet)
        raise Drop(f"unexpected frame while {self.state.value}")

    # -- steps ----------------------------------------------------------------------------
    def _on_beacon(self, packet: Packet) -> None:
        beacon, payload = packet[Dot15d4Beacon], packet.getlayer(ZigBeeBeacon)
        if payload is None or payload.stack_profile != 2:
            raise Drop("beacon without a ZigBee PRO payload")
        if beacon.sf_assocpermit and beacon.sf_pancoord and self._beacon is None:
            self._beacon = (beacon.src_panid, int(payload.extended_pan_id))

    def _on_association_response(self, response: Packet, now: float) -> list[bytes]:
        if response.association_status != frames.AssociationStatus.SUCCESS:
            status = frames.AssociationStatus(response.association_status).name.lower()
            return self._fail(f"association refused ({status.replace('_', ' ')})", now)
        self.short = response.short_address
        self._key_deadline = now + self.timing.key_wait
        if not self.sleepy:  # the receiver is on: the Transport Key just arrives
            self._enter(JoinState.AWAITING_KEY, self._key_deadline)
            return []
        self._enter(JoinState.AWAITING_KEY, min(now + self.timing.poll_period, self._key_deadline))
        return [self._data_request()]

    def _on_transport_key(self, packet: Packet, now: float) -> list[bytes]:
        delivered = self.open_data(packet, self._link_key)
        if delivered.aps_frametype != 1 or delivered.aps_key_id != KeyId.KEY_TRANSPORT:
            raise Drop("expected an APS Transport Key under the key-transport key")
        command = frames.parse_transport_key(delivered.payload)
        if int(command.dest_addr) != self.eui_int:
            raise Drop("Transport Key for another device")
        self.network_key = bytes(command.key)
        self.network_key_seq = command.key_seqnum
        annce = zdo.device_annce(self.zdo_tsn.next(), known(self.short, "short address"), self.eui,
                                 zdo.SLEEPY_CAPABILITY if self.sleepy else zdo.ESME_CAPABILITY)
        frame = self.send_data(frames.NWK_BROADCAST_RX_ON, frames.PROFILE_ZDO, zdo.DEVICE_ANNCE,
                               frames.ZDO_ENDPOINT, annce)
        self._announce = frames.mac_payload(frame)
        # An end device hands its broadcast to its parent once; only a router relays it again.
        self._rebroadcasts_left = 0 if self.sleepy else self.timing.broadcast_retries
        self._polls_left = self.timing.fast_polls
        return self._rebroadcast(now, first=frame)

    def _rebroadcast(self, now: float, first: bytes | None = None) -> list[bytes]:
        """Send (or send again) the Device_annce: the same NWK frame in a new MAC frame."""
        if first is None:
            self._rebroadcasts_left -= 1
            pan_id, short = self.address()
            first = frames.mac_data(self.mac_seq.next(), pan_id, frames.BROADCAST_SHORT,
                                    short, known(self._announce, "Device_annce"))
        deadline: float | None
        if self._rebroadcasts_left > 0:
            deadline = now + self.timing.passive_ack_timeout
        else:
            deadline = self._next_poll(now)
        self._enter(JoinState.JOINED, deadline)
        return [self.labelled(first, "Device_annce (NWK-secured, network key)")]

    def _on_zcl(self, packet: Packet) -> list[bytes]:
        delivered = self.open_data(packet, self._link_key)
        # The CHF heard us: no more rebroadcasts, and a sleepy device has what it polled for.
        self._announce, self.deadline, self._polls_left = None, None, 0
        if delivered.profile != frames.PROFILE_SMART_ENERGY or delivered.cluster != zcl.METERING:
            raise Drop("data frame for a cluster this meter does not serve")
        if delivered.aps_key_id != KeyId.LINK:
            raise Drop("Smart Energy command without APS link-key security")
        header, command = zcl.parse(delivered.payload)
        if header.command_id != zcl.foundation.GeneralCommand.Read_Attributes:
            raise Drop(f"ZCL command 0x{header.command_id:02X} not served")
        reply = self.reading.respond(header.tsn, list(command.attribute_ids))
        frame = self.send_data(delivered.nwk_source, frames.PROFILE_SMART_ENERGY, zcl.METERING,
                               frames.SE_ENDPOINT, reply, link_key=self._link_key)
        return [self.labelled(frame, "ZCL Read Attributes Response, Metering (NWK + APS link key)")]

    def _fail(self, reason: str, now: float) -> list[bytes]:
        self.failures.append(reason)
        if self.attempt >= self.timing.attempts:
            self._enter(JoinState.GAVE_UP, None)
        else:
            self._enter(JoinState.BACKING_OFF, now + self.timing.backoff * 2 ** (self.attempt - 1))
        return []

    def _enter(self, state: JoinState, deadline: float | None) -> None:
        self.state = state
        self.deadline = deadline
