"""Pinned outcomes, timeline and expectations that contradict each other are refused up
front: one line with file, line and field, exit 1, nothing written (sim/replay/consistency.py).
Each case changes one thing in a file that is itself accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.replay.scenario import load_scenario

BASE = """\
title: contradictions
start: 2024-01-08
devices:
  - {name: ESME, id: 00-DB-12-34-56-78-90-A0, type: ESME, install_code: generate}
  - {name: GSME, id: 00-DB-12-34-56-78-90-A1, type: GSME, install_code: generate}
parties:
  - {name: a, id: 90-B3-D5-1F-30-01-00-00, fuels: [electricity, gas]}
  - {name: b, id: 90-B3-D5-1F-30-02-00-00, fuels: [electricity, gas]}
  - {name: c, id: 90-B3-D5-1F-30-03-00-00, fuels: [electricity, gas]}
policy: {name: email-10wd, reply_probability: 1.0, reply_wd: 3}
timeline:
  - {wd: 0, event: install, by: a}
  - {wd: 5, event: cos, to: b}
  - {wd: 30, event: wan}
expect:
  commissioned: {ESME: 30, GSME: 30}
  code_requests: 2
"""
POLICY = "policy: {name: email-10wd, reply_probability: 1.0, reply_wd: 3}"
COS = "  - {wd: 5, event: cos, to: b}\n"
WAN = "  - {wd: 30, event: wan}\n"
INSTALL = "  - {wd: 0, event: install, by: a}\n"
EXPECT = "  commissioned: {ESME: 30, GSME: 30}\n  code_requests: 2\n"


def _policy(text: str) -> tuple[str, str]:
    return POLICY, f"policy: {{name: email-10wd, {text}}}"


CONTRADICTIONS = [
    # pins in the policy against each other
    (*_policy("reply_probability: 0.0, reply_wd: 3"), ":10: policy.reply_wd: a reply delay pinned for a reply "
                                                      "that never comes"),
    (*_policy("reply_probability: 1.0, reply_wd: 70"), ":10: policy.reply_wd: the reply, pinned 70 working days "
                                                       "after the request, comes after the requester gives up (60)"),
    (*_policy("reply_probability: 1.0, p_escalated: 0.0, escalation_wd: 3"),
     ":10: policy.escalation_wd: an escalation's answer delay pinned while no escalation is answered"),
    (*_policy("reply_probability: 0.0, p_escalated: 1.0, escalation_wd: 15, give_up_wd: 20"),
     ":10: policy.escalation_wd: the escalation at the SLA's end (10) is answered 15 working days later, after "
     "the requester gives up (20)"),
    (*_policy("reply_probability: 0.0, p_escalated: 1.0, give_up_wd: 10"),
     ":10: policy.p_escalated: an escalation pinned to be answered, but the requester gives up (10) before"),
    # a reply pinned where nobody is asked
    (COS + WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}\n  code_requests: 2\n",
     WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}\n",
     ":10: policy.reply_probability: pins an install-code request's outcome, but the timeline has no change "
     "of supplier"),
    # the timeline against the pins
    (COS, COS + "  - {wd: 9, event: reply_lost}\n",
     ":14: timeline[2].wd: the installer's reply, pinned (reply_probability 1, reply_wd 3) after the change "
     "of supplier on WD 5, has arrived on WD 8: there is no reply left to lose on WD 9"),
    (POLICY + "\n", "policy: {name: none}\n" + "", ":17: expect.code_requests: policy none has no install-code "
                                                   "process"),
    (POLICY + "\ntimeline:\n" + INSTALL + COS, "policy: {name: smi-codes}\ntimeline:\n" + INSTALL + COS
     + "  - {wd: 6, event: reply_lost}\n", ":14: timeline[2].event: reply_lost under policy smi-codes"),
    (COS, "  - {wd: 5, event: cos, to: a}\n", ":13: timeline[1].to: a already supplies electricity, gas here"),
    ((POLICY, COS), ("policy: {name: email-10wd, reply_probability: 1.0}",
                     COS + "  - {date: 2024-04-12, time: '10:00', event: reply_lost}\n"),  # WD 67 (Easter)
     ":14: timeline[2].date: the request made at the change of supplier on WD 5 is settled by WD 65 (give_up_wd "
     "60): no reply is left to lose on WD 67"),
    # expectations the timeline cannot give
    (INSTALL, "  - {wd: 0, event: install, by: a, devices: [ESME]}\n",
     ":16: expect.commissioned.GSME: GSME is never installed: no install event fits it"),
    (INSTALL + COS + WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}",
     "  - {wd: 0, event: install, by: a, devices: [ESME], wan: true}\n"
     "  - {wd: 20, event: install, by: a, devices: [GSME]}\n" + COS + "expect:\n  commissioned: {ESME: 30, GSME: 10}",
     ":16: expect.commissioned.GSME: GSME Commissioned by WD 10, but it is installed only on WD 20"),
    (INSTALL + COS + WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}",
     "  - {wd: 0, event: install, by: a, devices: [GSME]}\n" + COS + WAN + "expect:\n  commissioned: {GSME: 30}",
     ":16: expect.commissioned.GSME: no ESME is ever installed here"),
    (INSTALL + COS + WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}",
     "  - {wd: 0, event: install, by: a, devices: [GSME]}\n" + COS + WAN
     + "  - {wd: 40, event: install, by: a, devices: [ESME]}\nexpect:\n  commissioned: {ESME: 50, GSME: 35}",
     ":17: expect.commissioned.GSME: GSME Commissioned by WD 35, but the first ESME is installed only on WD 40"),
    ("type: ESME, install_code: generate}", "type: ESME, install_code: generate, installer_record: wrong}",
     ":16: expect.commissioned.ESME: ESME's installer recorded a wrong install code and no `code` event"),
    (EXPECT, EXPECT + "  code_holders: {ESME: [a, b, c]}\n",
     ":18: expect.code_holders.ESME: c can never hold ESME's install code here"),
    (COS, "", ":16: expect.code_requests: no change of supplier in the timeline"),
    (COS + WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}\n  code_requests: 2\n",
     WAN + "expect:\n  replacement: true\n", ":15: expect.replacement: no change of supplier and no visit event"),
    (WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}\n", "expect:\n  joins: 2\n",
     ":15: expect.joins: the SM WAN never arrives"),
    (WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}\n", "expect:\n  alerts: [8F49]\n",
     ":15: expect.alerts: the SM WAN never arrives"),
    (COS + WAN + "expect:\n  commissioned: {ESME: 30, GSME: 30}\n  code_requests: 2\n",
     WAN + "expect:\n  refusals: [E4]\n", ":15: expect.refusals[0]: E4 (not the registered supplier) needs a "
                                           "supplier that lost the meter"),
]
#: Near misses the checks must let through: each is a story that can happen.
ACCEPTED = [
    (COS, COS + "  - {wd: 8, event: reply_lost}\n"),  # lost the moment it lands (09:00 on WD 8)
    ((POLICY, COS), ("policy: {name: email-10wd, reply_probability: 1.0}", COS + "  - {wd: 65, event: reply_lost}\n")),
    (*_policy("reply_probability: 1.0, reply_wd: 60"),),  # the last day before giving up
    (*_policy("reply_probability: 0.0, p_escalated: 1.0, escalation_wd: 10, give_up_wd: 20"),),
    ((COS, "type: ESME, install_code: generate}"),
     (COS + "  - {wd: 20, event: code}\n", "type: ESME, install_code: generate, installer_record: wrong}")),
    (EXPECT, EXPECT + "  code_holders: {ESME: [a, b]}\n"),
    (COS, COS + "  - {wd: 6, event: cos, to: a, fuels: [gas]}\n"),  # gas back to its installer
]


def _apply(old: str | tuple[str, ...], new: str | tuple[str, ...]) -> str:
    """BASE with ``old`` replaced by ``new`` (or each of several pairs)."""
    text = BASE
    for before, after in zip(*((old, new) if isinstance(old, tuple) else ((old,), (new,)))):
        assert before in text, before
        text = text.replace(before, after, 1)
    return text


@pytest.mark.parametrize("old, new, message", CONTRADICTIONS)
def test_a_contradiction_is_one_located_error_and_nothing_is_written(tmp_path: Path, old, new, message) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(_apply(old, new))
    out_dir = tmp_path / "out"
    out = CliRunner().invoke(main, ["replay", str(path), "--out", str(out_dir)])
    assert out.exit_code == 1 and f"{path}{message}" in out.output, out.output
    assert out.output.count("\n") == 1 and "Traceback" not in out.output and not out_dir.exists()


@pytest.mark.parametrize("old, new", [(BASE, BASE), *ACCEPTED])
def test_a_story_that_can_happen_is_accepted(tmp_path: Path, old, new) -> None:
    path = tmp_path / "story.yaml"
    path.write_text(_apply(old, new))
    load_scenario(path)
