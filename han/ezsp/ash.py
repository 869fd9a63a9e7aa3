"""ASH, the NCP's side (Silicon Labs UG101): frames, acknowledgements, resets, retries.

The host sends RST, the NCP answers RSTACK; DATA frames carry the EZSP frames, numbered
modulo 8, each acknowledged by the other side's ackNum (in an ACK, a NAK or a DATA
frame). The NCP keeps up to :data:`TX_WINDOW` DATA frames unacknowledged, sends each
again with the reTx flag when no acknowledgement comes within its ACK timeout or a NAK
asks for it, and gives up with an ERROR frame after :data:`ACK_TIMEOUTS` tries, until
the host resets it. Frames are built and read with bellows' own ASH frame classes
(CRC-CCITT, byte stuffing, data randomisation), so bellows and the NCP agree on every
byte; sans-IO, with time from the caller.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import bellows.types as bt
from bellows.ash import (
    AckFrame,
    AshProtocol,
    DataFrame,
    ErrorFrame,
    NakFrame,
    ParsingError,
    Reserved,
    RStackFrame,
    RstFrame,
    parse_frame,
)

LOGGER = logging.getLogger(__name__)

ASH_VERSION = 2
TX_WINDOW = 3  # the NCP's DATA frames in flight (UG101 allows up to 7)
T_RX_ACK = 1.6  # seconds the NCP waits for an acknowledgement at first (UG101 initial value)
T_RX_ACK_MAX = 3.2
ACK_TIMEOUTS = 4  # tries of one DATA frame before the NCP enters the FAILED state
MAX_FRAME_BYTES = 2 * (1 + 220 + 2)  # a stuffed DATA frame: control, EZSP frame, CRC
MAX_QUEUED = 64  # EZSP frames (callbacks) waiting for window space; more are dropped
_FLAG = bytes([Reserved.FLAG])


@dataclass
class _Sent:
    number: int
    payload: bytes
    deadline: float
    tries: int = 1


class AshNcp:
    """One NCP's ASH layer: ``receive`` bytes, ``take_output`` bytes, ``advance`` time.

    ``on_reset`` runs when the host resets the NCP (the NCP reboots: the caller drops
    what it held in RAM); ``on_frame`` gets each EZSP frame, in order and once.
    """

    def __init__(self, on_frame: Callable[[bytes], None], on_reset: Callable[[], None]) -> None:
        self.on_frame = on_frame
        self.on_reset = on_reset
        self.now = 0.0
        self.dropped = 0  # EZSP frames lost because the host did not take them
        self._tx = bytearray()
        self._rx = bytearray()
        self._discarding = False
        self._restart()

    def _restart(self) -> None:
        self._rx_seq = 0  # the host frame number the NCP expects next
        self._tx_seq = 0  # the number of the NCP's next new DATA frame
        self._unacked: deque[_Sent] = deque()
        self._queue: deque[bytes] = deque()
        self._rejecting = False
        self._failed = False

    # -- the line --------------------------------------------------------------------
    def new_line(self) -> None:
        """A new host on the line: half a frame or unsent bytes of the last one are gone."""
        self._rx.clear()
        self._discarding = False
        self._tx.clear()

    def take_output(self) -> bytes:
        out, self._tx = bytes(self._tx), bytearray()
        return out

    def receive(self, data: bytes, now: float) -> None:
        """Bytes from the host: every complete frame is handled at once."""
        self.advance(now)
        for byte in data:
            if byte == Reserved.FLAG:
                frame, self._rx = bytes(self._rx), bytearray()
                if self._discarding:
                    self._discarding = False
                elif frame:
                    self._frame(frame)
            elif byte == Reserved.CANCEL:
                self._rx.clear()  # everything since the last flag is void
                self._discarding = False
            elif byte == Reserved.SUBSTITUTE:
                self._rx.clear()  # a line error: the frame in progress is bad
                self._discarding = True
            elif byte in (Reserved.XON, Reserved.XOFF):
                continue  # software flow control is the line's business
            elif not self._discarding:
                self._rx.append(byte)
                if len(self._rx) > MAX_FRAME_BYTES:
                    self._rx.clear()  # too long to be a frame: wait for the next flag
                    self._discarding = True
                    self._reject()

    def _frame(self, stuffed: bytes) -> None:
        try:
            raw = AshProtocol._unstuff_bytes(stuffed)
            frame = parse_frame(raw)
        except (ParsingError, ValueError, IndexError):
            LOGGER.debug("bad ASH frame %s", stuffed.hex())
            if stuffed and stuffed[0] & DataFrame.MASK == DataFrame.MASK_VALUE:
                self._reject()  # a DATA frame with a bad CRC or length: NAK it
            return
        if isinstance(frame, RstFrame):
            self._reset()
        elif self._failed:
            return  # after ERROR the NCP listens only for RST
        elif isinstance(frame, DataFrame):
            self._acknowledged(frame.ack_num)
            self._data(frame)
        elif isinstance(frame, AckFrame):
            self._acknowledged(frame.ack_num)
        elif isinstance(frame, NakFrame):
            self._acknowledged(frame.ack_num)
            self._resend_all()
        self._pump()

    def _reset(self) -> None:
        self._restart()
        self._write(RStackFrame(version=ASH_VERSION, reset_code=bt.NcpResetCode.RESET_SOFTWARE))
        self.on_reset()

    def _data(self, frame: DataFrame) -> None:
        if frame.frm_num == self._rx_seq:
            self._rx_seq = (self._rx_seq + 1) % 8
            self._rejecting = False
            self._write(AckFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))
            if frame.ezsp_frame:
                self.on_frame(frame.ezsp_frame)
        elif frame.re_tx:
            self._write(AckFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))  # a duplicate
        else:
            self._reject()  # out of sequence: ask for the frame the NCP expects

    def _reject(self) -> None:
        if not self._rejecting and not self._failed:
            self._write(NakFrame(res=0, ncp_ready=0, ack_num=self._rx_seq))
            self._rejecting = True

    def _acknowledged(self, ack_num: int) -> None:
        """Frames before ``ack_num`` (modulo 8) reached the host."""
        if not self._unacked:
            return
        outstanding = [sent.number for sent in self._unacked]
        if ack_num != self._tx_seq and ack_num not in outstanding:
            return  # acknowledges nothing in flight (a stale or bogus ackNum)
        while self._unacked and self._unacked[0].number != ack_num:
            self._unacked.popleft()

    def _resend_all(self) -> None:
        for sent in self._unacked:
            self._resend(sent)

    def _resend(self, sent: _Sent) -> None:
        sent.tries += 1
        sent.deadline = self.now + min(T_RX_ACK * 2 ** (sent.tries - 1), T_RX_ACK_MAX)
        self._write(DataFrame(frm_num=sent.number, re_tx=True, ack_num=self._rx_seq,
                              ezsp_frame=sent.payload))

    # -- the NCP's own frames ------------------------------------------------------------
    def send(self, ezsp_frame: bytes) -> None:
        """Queue an EZSP frame (a response or a callback) for the host."""
        if self._failed:
            return
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(ezsp_frame)
        self._pump()

    def _pump(self) -> None:
        while self._queue and len(self._unacked) < TX_WINDOW and not self._failed:
            sent = _Sent(self._tx_seq, self._queue.popleft(), self.now + T_RX_ACK)
            self._tx_seq = (self._tx_seq + 1) % 8
            self._unacked.append(sent)
            self._write(DataFrame(frm_num=sent.number, re_tx=False, ack_num=self._rx_seq,
                                  ezsp_frame=sent.payload))

    def advance(self, now: float) -> None:
        self.now = max(self.now, now)
        for sent in list(self._unacked):
            if sent.deadline > self.now or self._failed:
                continue
            if sent.tries >= ACK_TIMEOUTS:
                self._fail()
                return
            self._resend(sent)

    def next_deadline(self) -> float | None:
        if self._failed or not self._unacked:
            return None
        return min(sent.deadline for sent in self._unacked)

    def _fail(self) -> None:
        """The host stopped acknowledging: ERROR, and nothing more until it resets us."""
        self._failed = True
        self._unacked.clear()
        self._queue.clear()
        self._write(ErrorFrame(version=ASH_VERSION,
                               reset_code=bt.NcpResetCode.ERROR_EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT))

    def _write(self, frame) -> None:
        raw = frame.to_bytes()
        self._tx += bytes(AshProtocol._stuff_bytes(raw)) + _FLAG
