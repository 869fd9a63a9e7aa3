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
    """Joiner timeouts and retries (seconds). Defaults are the IEEE 802.15.4 / ZigBee PRO / BDB values
    as public stacks implement them (docs/reference/han-join.md cites each).

    - ``scan_duration``: active scan of one channel, ScanDuration 3:
      (2**3 + 1) * aBaseSuperframeDuration symbols = 138 ms (Z-Stack's default exponent).
    - ``response_wait``: macResponseWaitTime = 32 * aBaseSuperframeDuration symbols = 492 ms,
      the wait between association request and the data request that fetches the answer,
      and again for the answer itself.
    - ``key_wait``: how long the joiner waits for the Transport Key after association:
      the BDB's bdbcTCLinkKeyExchangeTimeout, 5 s (NXP's BDB reference options; the timer
      NXP's network steering starts for it).
    - ``attempts``: 1 + bdbcRecSameNetworkRetryAttempts (3) whole joins: BDB 8.3 allows
      trying the same network "again", recommending 3 times in succession and at most
      bdbcMaxSameNetworkRetryAttempts (10) (NXP's network steering makes 3 in all).
    - ``backoff``: seconds before retry k (1-based) is ``backoff * 2**(k-1)``; 0: at once,
      as NXP's network steering joins the same network again as soon as a join fails.
    - ``broadcast_retries`` / ``passive_ack_timeout``: nwkMaxBroadcastRetries (2) and
      nwkPassiveAckTimeout (0.5 s): the Device_annce broadcast is sent again until the CHF is
      heard (standing in for the passive acknowledgement of a relayed broadcast).
    - ``poll_period`` / ``fast_polls``: a sleepy device (receiver off when idle) polls its
      parent this often while it waits for the Transport Key and, after joining, this many
      times for the CHF's first frames (assumed, L: stacks fast-poll at 0.1-1 s while joining).
    - ``steering_backoff`` / ``steering_backoff_max``: after a failed network steering (all
      ``attempts``), the device starts steering again after this back-off, doubled each time
      up to the maximum, for as long as the join window is open. BDB leaves this retry to the
      application; the defaults are Nordic's nRF Connect SDK (zigbee_app_utils: 2^n s, 1 s
      doubling to REJOIN_INTERVAL_MAX_S, 15 min). Espressif's esp-zigbee-sdk examples retry
      after a fixed 1 s; what a SMETS2 meter's firmware does is not public (range: a fixed
      1 s .. 1 s doubling to 15 min).
    - ``channel_sets``: the channels of the active scan, BDB's primary set
      (bdbcPrimaryChannelSet: 11, 15, 20, 25) first, then the secondary set (the other
      2.4 GHz channels) only if the primary set found no network permitting joining; each
      channel gets one beacon request and ``scan_duration``. Empty: no channel scan (the
      joiner is on its coordinator's one channel, as a key-level or stick join assumes).
    """

    scan_duration: float = (2**3 + 1) * A_BASE_SUPERFRAME_DURATION * SYMBOL
    response_wait: float = 32 * A_BASE_SUPERFRAME_DURATION * SYMBOL
    key_wait: float = 5.0
    attempts: int = 4
    backoff: float = 0.0
    broadcast_retries: int = 2
    passive_ack_timeout: float = 0.5
    poll_period: float = 0.5
    fast_polls: int = 20
    steering_backoff: float = 1.0
    steering_backoff_max: float = 900.0
    channel_sets: tuple[tuple[int, ...], ...] = ()


#: BDB's bdbcPrimaryChannelSet (0x02108800) and the rest of the 2.4 GHz band as the secondary set.
PRIMARY_CHANNELS = (11, 15, 20, 25)
SECONDARY_CHANNELS = tuple(c for c in range(11, 27) if c not in PRIMARY_CHANNELS)
BDB_SCAN = (PRIMARY_CHANNELS, SECONDARY_CHANNELS)


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
        self._beacon: tuple[int, int, int | None] | None = None
        self._announce: bytes | None = None
        self._scan: list[int] = []  # channels of the current channel set still to scan
        self._sets_left: list[tuple[int, ...]] = []
        self.steerings = 0  # network steerings started for this join (each up to ``attempts`` attempts)
        self.attempts_made = 0  # attempts over every steering of this join
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
        self.steerings = self.attempts_made = 0
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
        """Begin a join attempt: an active scan (a beacon request on each channel scanned)."""
        if self.attempt == 0 or self.attempt >= self.timing.attempts:
            self.steerings += 1
            self.attempt = 0
        self.attempt += 1
        self.attempts_made += 1
        self.short = None
        self.pan_id = None
        self._beacon = None
        self._sets_left = list(self.timing.channel_sets)
        self._scan = list(self._sets_left.pop(0)) if self._sets_left else []
        return self._scan_next(now)

    def restart_steering(self, now: float) -> list[bytes]:
        """Network steering again after a failed one (the window is still open): a new round
        of ``attempts`` attempts; frame counters, failures so far and counts carry on."""
        return self.start(now)

    def steering_backoff(self) -> float:
        """Seconds to wait before the next network steering, doubling after each failed one."""
        return min(self.timing.steering_backoff * 2 ** (self.steerings - 1), self.timing.steering_backoff_max)

    def _scan_next(self, now: float) -> list[bytes]:
        """Tune to the next channel to scan (if scanning channels) and send a beacon request."""
        if self._scan:
            self.channel = self._scan.pop(0)
        self._enter(JoinState.SCANNING, now + self.timing.scan_duration)
        label = "beacon request" + (f" (channel {self.channel})" if self.timing.channel_sets else "")
        return [self.labelled(frames.beacon_request(self.mac_seq.next()), label)]

    def on_timer(self, now: float) -> list[bytes]:
        if self.deadline is None or now < self.deadline:
            return []
        if self.state is JoinState.SCANNING:
            if self._scan:  # the channel set's next channel (an active scan covers the whole set)
                return self._scan_next(now)
            if self._beacon is None and self._sets_left:  # nothing on the primary set: the secondary
                self._scan = list(self._sets_left.pop(0))
                return self._scan_next(now)
            if self._beacon is None:
                return self._fail("no beacon permitting joining", now)
            self.pan_id, self.extended_pan_id, channel = self._beacon
            if channel is not None:
                self.channel = channel  # back to the network's channel, found in the scan
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
            self._beacon = (beacon.src_panid, int(payload.extended_pan_id), self.channel)

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
        if self.timing.channel_sets:
            self._scan, self._sets_left = [], []
        if self.attempt >= self.timing.attempts:
            self._enter(JoinState.GAVE_UP, None)
        else:
            self._enter(JoinState.BACKING_OFF, now + self.timing.backoff * 2 ** (self.attempt - 1))
        return []

    def _enter(self, state: JoinState, deadline: float | None) -> None:
        self.state = state
        self.deadline = deadline
