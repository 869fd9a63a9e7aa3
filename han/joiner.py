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
from han.node import Drop, HanNode
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
    """

    scan_duration: float = (2**3 + 1) * A_BASE_SUPERFRAME_DURATION * SYMBOL
    response_wait: float = 32 * A_BASE_SUPERFRAME_DURATION * SYMBOL
    key_wait: float = 5.0
    attempts: int = 4
    backoff: float = 1.0
    broadcast_retries: int = 2
    passive_ack_timeout: float = 0.5


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
                 timing: JoinTiming = JoinTiming(), reading: zcl.MeterReading = zcl.MeterReading(0)) -> None:
        super().__init__(eui, rng)
        self._link_key = bytes(link_key)
        self.timing = timing
        self.reading = reading
        self.state = JoinState.IDLE
        self.deadline: float | None = None
        self.attempt = 0
        self.failures: list[str] = []  # why each attempt failed, in order (no secrets)
        self._beacon: tuple[int, int] | None = None  # (PAN id, extended PAN id)
        self.extended_pan_id: int | None = None
        self._announce: bytes | None = None  # the Device_annce NWK frame, until the CHF is heard
        self._rebroadcasts_left = 0

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
            return [self.labelled(frames.association_request(self.mac_seq.next(), self.pan_id, self.eui_int),
                                  "association request")]
        if self.state is JoinState.ASSOCIATING:
            self._enter(JoinState.POLLING, now + self.timing.response_wait)
            return [self.labelled(frames.data_request(self.mac_seq.next(), self.pan_id, self.eui_int),
                                  "data request (poll)")]
        if self.state is JoinState.POLLING:
            return self._fail("no association response", now)
        if self.state is JoinState.AWAITING_KEY:
            return self._fail("no usable Transport Key", now)
        if self.state is JoinState.BACKING_OFF:
            return self.start(now)
        if self.state is JoinState.JOINED and self._announce is not None:
            return self._rebroadcast(now)
        return []

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
        self._enter(JoinState.AWAITING_KEY, now + self.timing.key_wait)
        return []

    def _on_transport_key(self, packet: Packet, now: float) -> list[bytes]:
        delivered = self.open_data(packet, self._link_key)
        if delivered.aps_frametype != 1 or delivered.aps_key_id != KeyId.KEY_TRANSPORT:
            raise Drop("expected an APS Transport Key under the key-transport key")
        command = frames.parse_transport_key(delivered.payload)
        if int(command.dest_addr) != self.eui_int:
            raise Drop("Transport Key for another device")
        self.network_key = bytes(command.key)
        self.network_key_seq = command.key_seqnum
        annce = zdo.device_annce(self.zdo_tsn.next(), self.short, self.eui)
        frame = self.send_data(frames.NWK_BROADCAST_RX_ON, frames.PROFILE_ZDO, zdo.DEVICE_ANNCE,
                               frames.ZDO_ENDPOINT, annce)
        self._announce = frames.mac_payload(frame)
        self._rebroadcasts_left = self.timing.broadcast_retries
        return self._rebroadcast(now, first=frame)

    def _rebroadcast(self, now: float, first: bytes | None = None) -> list[bytes]:
        """Send (or send again) the Device_annce: the same NWK frame in a new MAC frame."""
        if first is None:
            self._rebroadcasts_left -= 1
            first = frames.mac_data(self.mac_seq.next(), self.pan_id, frames.BROADCAST_SHORT,
                                    self.short, self._announce)
        deadline = None
        if self._rebroadcasts_left > 0:
            deadline = now + self.timing.passive_ack_timeout
        self._enter(JoinState.JOINED, deadline)
        return [self.labelled(first, "Device_annce (NWK-secured, network key)")]

    def _on_zcl(self, packet: Packet) -> list[bytes]:
        delivered = self.open_data(packet, self._link_key)
        self._announce, self.deadline = None, None  # the CHF heard us: no more rebroadcasts
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
