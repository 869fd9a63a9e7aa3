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
time. The pcap is written to a temporary file and moved into place when the capture
ends, however it ends: a sniffer pulled out mid-run still leaves every frame received
before that in the pcap. Each frame is also parsed with scapy's Dot15d4 (ZigBee) layers
for a one-line summary.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import serial
from scapy.config import conf
from scapy.layers.dot15d4 import Dot15d4FCS
from scapy.layers import zigbee  # noqa: F401  (registers the ZigBee NWK/APS layers)
from scapy.utils import PcapWriter

from han.pcap import LINKTYPE_IEEE802_15_4_TAP, tap_header

conf.dot15d4_protocol = "zigbee"

CHANNELS = range(11, 27)
TIMER_WRAP = 1 << 32  # old firmware's microsecond timer wraps at 32 bits
TIMER_LIMIT = 1 << 64  # current firmware's timer is 64 bits
FCS_LENGTH = 2
_LINE = re.compile(
    rb"received:\s+([0-9a-fA-F]+)\s+power:\s+(-?\d+)\s+lqi:\s+(\d+)\s+time:\s+(-?\d+)")


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
    if match is None or len(match.group(1)) % 2:
        return None
    psdu = bytes.fromhex(match.group(1).decode())
    if not 3 <= len(psdu) <= 127:  # at least frame control + FCS; aMaxPHYPacketSize
        return None
    timer, lqi = int(match.group(4)), int(match.group(3))
    if not 0 <= timer < TIMER_LIMIT or lqi > 255:
        return None
    return SniffedFrame(psdu, int(match.group(2)), lqi, timer)


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
            while (end := self._buffer.find(b"\n")) >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                frame = parse_line(line)
                if frame is not None:
                    yield frame


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


class PcapFile:
    """A TAP pcap (link type 283) written beside its final name, moved there on close.

    ``start_time`` is the pcap time of the sniffer timer's zero; None anchors the first
    frame at the host clock when it arrives (as Nordic's tool does).
    """

    def __init__(self, path: Path, channel: int, start_time: float | None = None) -> None:
        self.path = Path(path)
        self.channel = channel
        self.start_time = start_time
        self.count = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent or ".")
        os.close(fd)
        self._tmp = Path(tmp)
        self._writer = PcapWriter(str(self._tmp), linktype=LINKTYPE_IEEE802_15_4_TAP,
                                  sync=True)
        self._writer.write_header(None)
        self._unwrap = TimerUnwrapper()

    def add(self, frame: SniffedFrame) -> Dot15d4FCS:
        micros = self._unwrap(frame.timer_us)
        if self.start_time is None:
            self.start_time = time.time() - micros / 1e6
        stamp = round(self.start_time * 1e6) + micros
        tap = tap_header(self.channel, fcs=False, rssi=float(frame.rssi), lqi=frame.lqi)
        self._writer.write_packet(tap + frame.psdu[:-FCS_LENGTH], sec=stamp // 10**6,
                                  usec=stamp % 10**6)
        self.count += 1
        return Dot15d4FCS(frame.psdu)

    def close(self) -> None:
        """Everything written so far becomes the file at ``path`` (even with no frames)."""
        self._writer.close()
        os.replace(self._tmp, self.path)


@dataclass(frozen=True)
class CaptureResult:
    frames: int
    gone: str | None  # why the sniffer stopped early, if it did


def capture(port: str, channel: int, out: Path, *, count: int | None = None,
            seconds: float | None = None, start_time: float | None = None,
            on_frame: Callable[[SniffedFrame, Dot15d4FCS], None] | None = None,
            ) -> CaptureResult:
    """Sniff ``channel`` into ``out`` until ``count`` frames, ``seconds``, Ctrl-C or the
    sniffer disappears; the pcap holds every frame received either way."""
    sniffer = NrfSniffer(port)
    try:
        pcap = PcapFile(out, channel, start_time)
    except OSError:
        sniffer.serial.close()
        raise
    deadline = None if seconds is None else time.monotonic() + seconds
    gone = None

    def keep_going() -> bool:
        if count is not None and pcap.count >= count:
            return False
        return deadline is None or time.monotonic() < deadline

    try:
        sniffer.start(channel)
        for frame in sniffer.frames(keep_going):
            packet = pcap.add(frame)
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
