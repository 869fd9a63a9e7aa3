"""Malformed frames reaching the meter's radio or the CHF are dropped and counted with a reason,
never raised: random bytes, truncations, flipped MICs, bad lengths, unknown commands."""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.dot15d4 import Dot15d4FCS

from han import frames
from han.eui import to_eui64
from han.joiner import Joiner, JoinState
from han.trust_centre import TrustCentre
from han_support import CHF, ESME, code, join, whitelisted

SECRET = code(41)
GOOD = [f.raw for f in join(SECRET, seed=2).frames]
_fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _with_fcs(body: bytes) -> bytes:
    return body + Dot15d4FCS().compute_fcs(body)


def _nodes(state: JoinState) -> tuple[TrustCentre, Joiner]:
    """A fresh copy of a CHF and a meter driven sans-IO (no air, no clock) up to ``state``."""
    return copy.deepcopy(_driven(state))


@cache
def _driven(state: JoinState) -> tuple[TrustCentre, Joiner]:
    rng = np.random.default_rng(1)
    tc = TrustCentre(to_eui64(CHF), whitelisted(SECRET), bytes(16), rng, pan_id=0x1A2B)
    tc.permit_until = 300.0
    meter = Joiner(to_eui64(ESME), bytes(SECRET.link_key()), rng)
    pending = meter.start(0.0)
    while meter.state is not state:
        for raw in pending:
            for reply in tc.receive(raw, meter.deadline or 0.0).frames:
                meter_out = meter.receive(reply, meter.deadline or 0.0).frames
                pending = meter_out
                if meter.state is state:
                    return tc, meter
        pending = meter.on_timer(meter.deadline)
    return tc, meter


def _feed_all(raw: bytes) -> list[int]:
    """Feed ``raw`` to a CHF and to a meter in every state; return how many drops each counted."""
    counted = []
    for state in (JoinState.SCANNING, JoinState.POLLING, JoinState.AWAITING_KEY, JoinState.JOINED):
        tc, meter = _nodes(state)
        for node in (tc, meter):
            before = sum(node.drops.values())
            out = node.receive(raw, 1.0)
            assert out.ack is None or len(out.ack) == 5
            counted.append(sum(node.drops.values()) - before)
    return counted


@_fuzz
@given(st.binary(max_size=127))
def test_random_bytes_never_crash(raw: bytes) -> None:
    assert all(n in (0, 1) for n in _feed_all(raw))


@_fuzz
@given(frame=st.sampled_from(GOOD), data=st.data())
def test_truncated_frames_are_dropped_and_counted(frame: bytes, data: st.DataObject) -> None:
    cut = frame[: data.draw(st.integers(0, len(frame) - 1))]
    refit = data.draw(st.booleans())  # with a recomputed FCS the NWK/APS layers see short data
    raw = _with_fcs(cut[:-2]) if refit and len(cut) >= 5 else cut
    assert all(n == 1 for n in _feed_all(raw))


@_fuzz
@given(frame=st.sampled_from(GOOD), data=st.data())
def test_mutated_frames_with_valid_fcs_never_crash(frame: bytes, data: st.DataObject) -> None:
    body = bytearray(frame[:-2])
    for _ in range(data.draw(st.integers(1, 4))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    assert all(n in (0, 1) for n in _feed_all(_with_fcs(bytes(body))))


@pytest.mark.parametrize("state, label", [(JoinState.AWAITING_KEY, "Transport Key"),
                                          (JoinState.JOINED, "ZCL Read Attributes,")])
def test_wrong_mic_is_counted_as_such(state: JoinState, label: str) -> None:
    report = join(SECRET, seed=2)
    (frame,) = [f.raw for f in report.frames if label in f.label and not f.retry]
    tc, meter = _nodes(state)
    meter.network_key = report.network_key
    meter.short, meter.pan_id = Dot15d4FCS(frame).dest_addr, Dot15d4FCS(frame).dest_panid
    body = bytearray(frame[:-2])
    body[-1] ^= 0x01  # last MIC byte
    meter.receive(_with_fcs(bytes(body)), 1.0)
    assert meter.drops == {"MIC check failed": 1}


def test_unknown_mac_command_and_bad_fcs_are_named() -> None:
    unknown = bytearray(frames.beacon_request(1)[:-2])
    unknown[-1] = 0x0A  # no such MAC command
    tc, _ = _nodes(JoinState.SCANNING)
    tc.receive(_with_fcs(bytes(unknown)), 1.0)
    tc.receive(frames.beacon_request(2)[:-1] + b"\x00", 1.0)
    tc.receive(b"\x03", 1.0)
    assert tc.drops == {"unhandled MAC command 0x0A": 1, "bad FCS": 1,
                        "MAC frame truncated (shorter than FCF, sequence number and FCS)": 1}


def test_frames_for_another_pan_are_not_taken() -> None:
    tc, meter = _nodes(JoinState.JOINED)
    foreign = frames.mac_data(9, tc.pan_id ^ 0x0101, meter.short, 0x0000, b"\x08\x00")
    meter.receive(foreign, 1.0)
    assert meter.drops == {"not addressed to this node": 1}
