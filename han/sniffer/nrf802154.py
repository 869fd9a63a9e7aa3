"""The nRF Sniffer for 802.15.4 (Nordic nRF52840 firmware) over its serial shell.

The firmware is a line shell: the host sends ``sleep``, ``channel N`` and ``receive``
(each ended by CR LF, echoed back), then the sniffer prints one line per frame::

    received: <PSDU hex, FCS included> power: <RSSI dBm> lqi: <LQI> time: <us>

The time is the sniffer's microsecond timer: 64 bits in current firmware, 32 bits (and
wrapping every 71.6 minutes) in old firmware; both are kept whole, wraps unwrapped.
Frames go to a pcap as Nordic's own Wireshark capture tool writes them: link type 283
(IEEE 802.15.4 TAP) with the channel, RSSI and LQI of each frame, and the frame without
its FCS (the radio may overwrite those two bytes), announced by the TAP FCS-type TLV.
Capture times follow the host clock at the first frame unless the caller gives a start
time. The pcap goes to a stream the caller owns (``sim.output.growing_file``: moved into
place when the capture ends, however it ends, so a sniffer pulled out mid-run still
leaves every frame received before that). Lines that do not parse, numbers out of their
field's range and a line that never ends are dropped, not trusted. Each frame is also
parsed with scapy's Dot15d4 (ZigBee) layers for a one-line summary.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import serial
from scapy.config import conf
from scapy.layers import zigbee  # noqa: F401  (registers the ZigBee NWK/APS layers)
from scapy.layers.dot15d4 import Dot15d4FCS
from scapy.packet import Packet, Raw
from scapy.utils import PcapWriter

from han.pcap import LINKTYPE_IEEE802_15_4_TAP, tap_header

conf.dot15d4_protocol = "zigbee"  # type: ignore[assignment]  # scapy annotates the default, None

CHANNELS = range(11, 27)
TIMER_WRAP = 1 << 32  # old firmware's microsecond timer wraps at 32 bits
TIMER_LIMIT = 1 << 64  # current firmware's timer is 64 bits
FCS_LENGTH = 2
MAX_LINE = 1024  # a received: line is at most ~340 bytes (127-byte PSDU in hex + fields)
# Digits bounded by each field's range: RSSI and LQI are bytes, the timer 64 bits; a
# longer number is line noise, and the line is dropped.
_LINE = re.compile(
    rb"received:\s+([0-9a-fA-F]{6,254})\s+power:\s+(-?\d{1,3})\s+lqi:\s+(\d{1,3})"
    rb"\s+time:\s+(-?\d{1,20})(?!\d)")


class SnifferGone(Exception):
    """The sniffer's serial port went away (unplugged, or its PTY closed)."""


@dataclass(frozen=True)
class SniffedFrame:
    psdu: bytes  # the MAC frame with its 2-byte FCS
    rssi: int
    lqi: int
    timer_us: int  # raw sniffer timestamp (64-bit, or 32-bit from old firmware)


def parse_line(line: bytes) -> SniffedFrame | None:
    """A ``received:`` line as a frame; anything else (echo, prompt, noise) is None."""
    match = _LINE.search(line)
    if match is None or len(match.group(1)) % 2 or int(match.group(3)) > 255 \
            or not -128 <= int(match.group(2)) <= 127 \
            or not 0 <= int(match.group(4)) < TIMER_LIMIT:
        return None
    psdu = bytes.fromhex(match.group(1).decode())
    if not 5 <= len(psdu) <= 127:  # at least frame control, sequence number, FCS (an ack); aMaxPHYPacketSize
        return None
    return SniffedFrame(psdu, int(match.group(2)), int(match.group(3)), int(match.group(4)))


class TimerUnwrapper:
    """Turns an old firmware's wrapping 32-bit microsecond timer into a monotonic count
    (a 64-bit timer never goes back, so it passes through unchanged)."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._base = 0

    def __call__(self, timer_us: int) -> int:
        if self._last is not None and timer_us < self._last - TIMER_WRAP // 2:
            self._base += TIMER_WRAP
        self._last = timer_us
        return self._base + timer_us


class NrfSniffer:
    """One nRF 802.15.4 sniffer on ``port`` (a device path or a pyserial URL)."""

    def __init__(self, port: str, *, read_timeout: float = 0.2) -> None:
        try:
            self.serial = serial.serial_for_url(port, baudrate=115200, timeout=read_timeout)
        except (serial.SerialException, OSError, ValueError) as err:
            raise SnifferGone(f"cannot open sniffer port {port}: {err}") from None
        self.port = port
        self._buffer = bytearray()

    def start(self, channel: int) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"channel {channel} is not a 2.4 GHz channel (11-26)")
        for command in (b"", b"sleep", b"channel %d" % channel, b"receive"):
            self._write(command + b"\r\n")

    def stop(self) -> None:
        with contextlib.suppress(SnifferGone):
            self._write(b"sleep\r\n")
        self.serial.close()

    def _write(self, data: bytes) -> None:
        try:
            self.serial.write(data)
        except (serial.SerialException, OSError) as err:
            raise SnifferGone(f"sniffer on {self.port} went away: {err}") from None

    def frames(self, keep_going: Callable[[], bool] = lambda: True) -> Iterator[SniffedFrame]:
        """Frames as the sniffer reports them, until ``keep_going()`` is false."""
        while keep_going():
            try:
                chunk = self.serial.read(512)
            except (serial.SerialException, OSError) as err:
                raise SnifferGone(f"sniffer on {self.port} went away: {err}") from None
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE and b"\n" not in self._buffer:
                del self._buffer[:]  # noise without line ends: never let it grow
            while (end := self._buffer.find(b"\n")) >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                frame = parse_line(line)
                if frame is not None:
                    yield frame


def summary(packet: Dot15d4FCS) -> str:
    """scapy's one-line summary, or what is known when a malformed frame defeats it."""
    try:
        return packet.summary()
    except Exception:  # noqa: BLE001 - scapy's dissectors raise struct.error and others on junk
        return f"undecodable 802.15.4 frame ({len(bytes(packet.original or b''))} bytes)"


def answers_as_sniffer(port: str, timeout: float = 1.0) -> bool:
    """True when ``port`` echoes the sniffer shell's ``sleep`` command back (a probe)."""
    try:
        sniffer = NrfSniffer(port, read_timeout=0.05)
    except SnifferGone:
        return False
    try:
        sniffer._write(b"\r\nsleep\r\n")
        deadline = time.monotonic() + timeout
        heard = b""
        while time.monotonic() < deadline and b"sleep" not in heard:
            heard += sniffer.serial.read(64)
        return b"sleep" in heard
    except (SnifferGone, serial.SerialException, OSError):
        return False
    finally:
        with contextlib.suppress(serial.SerialException, OSError):
            sniffer.serial.close()


class TimeOutOfRange(ValueError):
    """A frame whose timer puts it where a classic pcap cannot (a garbled time on the line)."""


class PcapFile:
    """A TAP pcap (link type 283) on ``stream``, each frame flushed as it arrives.

    ``start_time`` is the pcap time of the sniffer timer's zero; None anchors the first
    frame at the host clock when it arrives (as Nordic's tool does).
    """

    def __init__(self, stream: BinaryIO, channel: int, start_time: float | None = None) -> None:
        self.channel = channel
        self.start_time = start_time
        self.count = 0
        self._writer = PcapWriter(stream, linktype=LINKTYPE_IEEE802_15_4_TAP, sync=True)
        self._unwrap = TimerUnwrapper()

    def add(self, frame: SniffedFrame) -> Packet:
        micros = self._unwrap(frame.timer_us)
        if self.start_time is None:
            self.start_time = time.time() - micros / 1e6
        stamp = round(self.start_time * 1e6) + micros
        if not 0 <= stamp // 10**6 < 2**32:
            raise TimeOutOfRange(f"frame at {stamp // 10**6} s: a classic pcap holds 0 to 2^32-1 s")
        tap = tap_header(self.channel, fcs=False, rssi=float(frame.rssi), lqi=frame.lqi)
        if not self._writer.header_present:
            self._writer.write_header(None)
        self._writer.write_packet(tap + frame.psdu[:-FCS_LENGTH], sec=stamp // 10**6,
                                  usec=stamp % 10**6)
        self.count += 1
        try:
            return Dot15d4FCS(frame.psdu)
        except Exception:  # noqa: BLE001 - scapy's dissectors raise struct.error and others on junk
            return Raw(frame.psdu)  # written above as received all the same

    def close(self) -> None:
        """Write the header even when no frame came; the stream stays the caller's."""
        if not self._writer.header_present:
            self._writer.write_header(None)
        self._writer.flush()


@dataclass(frozen=True)
class CaptureResult:
    frames: int
    gone: str | None  # why the sniffer stopped early, if it did


def capture(sniffer: NrfSniffer, channel: int, out: BinaryIO, *, count: int | None = None,
            seconds: float | None = None, start_time: float | None = None,
            on_frame: Callable[[SniffedFrame, Packet], None] | None = None,
            ) -> CaptureResult:
    """Sniff ``channel`` into the pcap stream ``out`` until ``count`` frames, ``seconds``,
    Ctrl-C or the sniffer disappears; the pcap holds every frame received either way.
    The sniffer is opened by the caller, before the file, so a missing port writes none."""
    pcap = PcapFile(out, channel, start_time)
    deadline = None if seconds is None else time.monotonic() + seconds
    gone = None

    def keep_going() -> bool:
        if count is not None and pcap.count >= count:
            return False
        return deadline is None or time.monotonic() < deadline

    try:
        sniffer.start(channel)
        for frame in sniffer.frames(keep_going):
            try:
                packet = pcap.add(frame)
            except TimeOutOfRange:
                continue  # dropped, as a malformed line is
            if on_frame is not None:
                on_frame(frame, packet)
    except SnifferGone as err:
        gone = str(err)
    except BaseException:
        pcap.close()  # Ctrl-C: keep what was captured
        sniffer.stop()
        raise
    pcap.close()
    if gone is None:
        sniffer.stop()
    else:
        with contextlib.suppress(serial.SerialException, OSError):
            sniffer.serial.close()
    return CaptureResult(pcap.count, gone)
