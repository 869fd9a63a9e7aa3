"""The nRF 802.15.4 sniffer adapter against a fake sniffer on a PTY that speaks the
firmware's serial shell; the pcap is checked by scapy and by Wireshark's tshark."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import tty
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.dot15d4 import Dot15d4Data, Dot15d4FCS
from scapy.layers.zigbee import ZigbeeNWK
from scapy.utils import rdpcap

from han.sniffer.nrf802154 import (CaptureResult, NrfSniffer, TimerUnwrapper, capture,
                                   parse_line)
from sim.output import growing_file


def capture_to(port: str, channel: int, out: Path, **options) -> CaptureResult:
    """As ``hansim dongle sniff`` does: the sniffer first, then the pcap file."""
    sniffer = NrfSniffer(port)
    with growing_file(out) as stream:
        return capture(sniffer, channel, stream, **options)


def zigbee_frame(seq: int) -> bytes:
    """A ZigBee NWK data frame from the coordinator, FCS computed by scapy."""
    pkt = (Dot15d4FCS(fcf_frametype=1, fcf_panidcompress=1, fcf_destaddrmode=2,
                      fcf_srcaddrmode=2, seqnum=seq)
           / Dot15d4Data(dest_panid=0x1A62, dest_addr=0xFFFF, src_addr=0x0000)
           / ZigbeeNWK(frametype=0, discover_route=0, radius=30, seqnum=seq,
                       destination=0xFFFC, source=0x0000))
    return bytes(pkt)


class FakeNrfSniffer(threading.Thread):
    """The firmware side of a PTY: echoes commands; after ``receive`` prints frames,
    then either keeps quiet or disappears (closes the PTY)."""

    def __init__(self, frames: list[bytes], *, disappear: bool, start_us: int = 0,
                 step_us: int = 1000, timer_bits: int = 32) -> None:
        super().__init__(daemon=True)
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.frames = frames
        self.disappear = disappear
        self.start_us = start_us
        self.step_us, self.timer_bits = step_us, timer_bits
        self.commands: list[bytes] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self._serve()
        except OSError:  # the PTY was closed under us: the test is over
            pass

    def _serve(self) -> None:
        buffer = b""
        while not self.stop.is_set():
            buffer += os.read(self.master, 256)
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                os.write(self.master, line + b"\r\n")  # the shell echoes
                if line:
                    self.commands.append(line)
                if line == b"receive":
                    self._emit()
                    if self.disappear:
                        time.sleep(0.3)  # the host reads what was sent, then: unplugged
                        os.close(self.master)
                        return

    def _emit(self) -> None:
        for i, psdu in enumerate(self.frames):
            timer = (self.start_us + self.step_us * i) % (1 << self.timer_bits)
            os.write(self.master, b"received: %s power: -42 lqi: 200 time: %d\r\n"
                     % (psdu.hex().encode(), timer))

    def close(self) -> None:
        self.stop.set()
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


FRAMES = [zigbee_frame(i) for i in range(5)]


def tap_frames(path: Path) -> list[bytes]:
    """The MAC frames of a TAP pcap (link type 283), each after its TAP header."""
    assert int.from_bytes(path.read_bytes()[20:24], "little") == 283  # the pcap's link type
    return [bytes(p)[int.from_bytes(bytes(p)[2:4], "little"):] for p in rdpcap(str(path))]


def test_capture_writes_every_frame_and_tshark_reads_them(tmp_path: Path) -> None:
    fake = FakeNrfSniffer(FRAMES, disappear=False, start_us=(1 << 32) - 2500)
    fake.start()
    out = tmp_path / "han.pcap"
    try:
        result = capture_to(fake.path, 15, out, count=len(FRAMES), seconds=10)
    finally:
        fake.close()
    assert result == CaptureResult(frames=5, gone=None)
    assert fake.commands[:3] == [b"sleep", b"channel 15", b"receive"]
    packets = rdpcap(str(out))
    assert tap_frames(out) == [psdu[:-2] for psdu in FRAMES]  # without the FCS, as Nordic's tool
    # the 32-bit sniffer timer wrapped between frames 2 and 3: times still increase by 1 ms
    times = [float(p.time) for p in packets]
    assert all(abs((b - a) - 0.001) < 1e-6 for a, b in zip(times, times[1:]))
    assert [f for f in os.listdir(tmp_path)] == ["han.pcap"]  # no temporary file left


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_decodes_the_pcap_with_good_fcs(tmp_path: Path) -> None:
    fake = FakeNrfSniffer(FRAMES, disappear=False)
    fake.start()
    out = tmp_path / "han.pcap"
    try:
        capture_to(fake.path, 15, out, count=len(FRAMES), seconds=10)
    finally:
        fake.close()
    proc = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "wpan.dst_pan", "-e", "zbee_nwk.src",
         "-e", "wpan-tap.ch_num", "-e", "wpan-tap.rss", "-e", "wpan-tap.lqi",
         "-e", "wpan-tap.fcs_type"],
        capture_output=True, text=True, check=True, env={**os.environ, "HOME": str(tmp_path)})
    rows = [line.split("\t") for line in proc.stdout.strip().splitlines()]
    assert len(rows) == 5
    for dst_pan, nwk_src, channel, rss, lqi, fcs_type in rows:
        assert (dst_pan, nwk_src, channel, lqi) == ("0x1a62", "0x0000", "15", "200")
        assert float(rss) == -42.0 and fcs_type == "0"  # no FCS: the radio may overwrite it


def test_sniffer_that_disappears_leaves_everything_captured(tmp_path: Path) -> None:
    fake = FakeNrfSniffer(FRAMES[:3], disappear=True)
    fake.start()
    out = tmp_path / "partial.pcap"
    try:
        result = capture_to(fake.path, 20, out, seconds=10)
    finally:
        fake.close()
    assert result.frames == 3
    assert result.gone is not None and "went away" in result.gone
    assert tap_frames(out) == [psdu[:-2] for psdu in FRAMES[:3]]


def test_missing_port_is_one_clear_error_and_no_file(tmp_path: Path) -> None:
    from han.sniffer.nrf802154 import SnifferGone
    with pytest.raises(SnifferGone, match="cannot open sniffer port /dev/nonexistent"):
        capture_to("/dev/nonexistent", 11, tmp_path / "x.pcap", count=1)
    assert list(tmp_path.iterdir()) == []


def test_parse_line_reads_the_firmware_format() -> None:
    frame = parse_line(b"received: 4188010000ffff00001234 power: -61 lqi: 172 time: 4294967290\r")
    assert frame is not None
    assert frame.psdu == bytes.fromhex("4188010000ffff00001234")
    assert (frame.rssi, frame.lqi, frame.timer_us) == (-61, 172, 4294967290)
    assert parse_line(b"channel 15") is None
    assert parse_line(b"received: 123 power: 1 lqi: 1 time: 1") is None  # odd hex


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_serial_lines_never_crash_the_parser(line: bytes) -> None:
    frame = parse_line(line)
    assert frame is None or 5 <= len(frame.psdu) <= 127


def test_timer_unwrapper_counts_wraps() -> None:
    unwrap = TimerUnwrapper()
    assert [unwrap(t) for t in ((1 << 32) - 5, 3, 100)] == [(1 << 32) - 5, (1 << 32) + 3,
                                                            (1 << 32) + 100]


def test_same_frames_same_pcap_bytes(tmp_path: Path) -> None:
    def one(name: str) -> bytes:
        fake = FakeNrfSniffer(FRAMES, disappear=False, start_us=123456)
        fake.start()
        try:
            capture_to(fake.path, 15, tmp_path / name, count=len(FRAMES), start_time=1.7e9)
        finally:
            fake.close()
        return (tmp_path / name).read_bytes()

    assert one("a.pcap") == one("b.pcap")


def test_64_bit_timer_keeps_long_gaps_and_times_follow_the_host_clock(tmp_path: Path) -> None:
    """A 4,500 s gap on the 64-bit timer stays 4,500 s (not 4,500 s mod 2^32 us), and
    without --start-time the first frame is stamped with the host clock, not 1970."""
    fake = FakeNrfSniffer(FRAMES[:2], disappear=False, start_us=(1 << 40) + 7,
                          step_us=4_500_000_000, timer_bits=64)
    fake.start()
    out = tmp_path / "gap.pcap"
    before = time.time()
    try:
        capture_to(fake.path, 15, out, count=2, seconds=10)
    finally:
        fake.close()
    first, second = (float(p.time) for p in rdpcap(str(out)))
    assert abs((second - first) - 4500.0) < 1e-6
    assert before - 1 <= first <= time.time() + 1


def test_a_frame_time_beyond_classic_pcap_is_dropped_and_the_capture_goes_on(tmp_path: Path) -> None:
    """Issue 19's long fuzz pass: a 64-bit timer of 10^17 us put a frame after 2106 and
    scapy raised struct.error; capture() now drops it as it drops a malformed line."""
    import io

    from han.sniffer.nrf802154 import PcapFile, TimeOutOfRange, parse_line
    pcap = PcapFile(io.BytesIO(), 15, 1.7e9)
    good, bad = (parse_line(b"received: %s power: -61 lqi: 172 time: %d" % (FRAMES[0].hex().encode(), t))
                 for t in (1000, 10**17))
    pcap.add(good)
    with pytest.raises(TimeOutOfRange):
        pcap.add(bad)
    pcap.add(good)
    assert pcap.count == 2
