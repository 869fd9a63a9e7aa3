"""Any hand-edited scenario is either read or refused with a located error, never a traceback.

Hypothesis replaces one field of a valid scenario (anywhere in the tree) by an arbitrary
YAML value, or deletes it; the loader must return a Scenario or raise InputFileError.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.replay import report
from sim.replay.scenario import load_scenario
from sim.replay.story import replay
from sim.yamlfile import InputFileError

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "replay" / "wrong-code-then-right.yaml"
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.dates().map(str), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), value=VALUES, delete=st.booleans())
def test_a_mutated_scenario_is_read_or_refused_with_a_location(tmp_path_factory, data, value, delete) -> None:
    tree = yaml.safe_load(BASE.read_text())
    tree["expect"].update(not_commissioned=["ESME"], code_requests=1)  # every key somewhere
    tree.update(coverage={"available": True, "likelihood": "High"}, rules={"visit_lead_wd": 10},
                comms_hub={"chf": "00-DB-12-34-56-78-90-A2", "gpf": "00-DB-12-34-56-78-90-A3"})
    tree["timeline"].append({"date": dt.date(2024, 6, 3), "event": "reply_lost"})
    paths = [p for p in _paths(tree) if p]
    path = data.draw(st.sampled_from(paths))
    parent = tree
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    file = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    file.write_text(yaml.safe_dump(tree))
    try:
        load_scenario(file)
    except InputFileError as err:
        assert str(err).startswith(str(file))


PARTIES = [{"name": n, "id": f"90-B3-D5-1F-30-0{i}-00-00", "fuels": ["electricity", "gas"]}
           for i, n in enumerate(("a", "b", "c"), 1)]
EVENT = st.one_of(
    st.builds(lambda wd, to: {"wd": wd, "event": "cos", "to": to}, st.integers(1, 120), st.sampled_from("bc")),
    st.builds(lambda wd, v: {"wd": wd, "event": "code", "value": v}, st.integers(1, 120),
              st.sampled_from(["right", "wrong"])),
    st.builds(lambda wd: {"wd": wd, "event": "reply_lost"}, st.integers(1, 120)),
    st.builds(lambda wd: {"wd": wd, "event": "visit"}, st.integers(1, 120)),
)


@settings(max_examples=60, deadline=None)
@given(events=st.lists(EVENT, max_size=5), wan=st.none() | st.integers(0, 120),
       policy=st.sampled_from(["none", "email-5wd", "email-10wd", "ssi-5wd", "smi-codes"]),
       record=st.sampled_from(["right", "wrong"]), seed=st.integers(0, 50))
def test_any_valid_story_replays_without_a_crash(tmp_path_factory, events, wan, policy, record, seed) -> None:
    """Random timelines the loader accepts replay to the end: every site reaches a state,
    every DUIS exchange is recorded, and the expectation check runs."""
    timeline = [{"wd": 0, "event": "install", "by": "a", "wan": wan == 0}]
    if wan:
        timeline.append({"wd": wan, "event": "wan"})
    tree = {"title": "fuzz", "start": dt.date(2024, 1, 8), "seed": seed,
            "devices": [{"name": "E", "id": "00-DB-12-34-56-78-90-A0", "type": "ESME",
                         "install_code": "generate", "installer_record": record},
                        {"name": "G", "id": "00-DB-12-34-56-78-90-A1", "type": "GSME", "install_code": "generate"}],
            "parties": PARTIES, "policy": {"name": policy}, "timeline": timeline + events,
            "expect": {"replacement": False}}
    file = tmp_path_factory.mktemp("story") / "s.yaml"
    file.write_text(yaml.safe_dump(tree))
    try:
        scenario = load_scenario(file)
    except InputFileError:
        return  # e.g. a code before any CoS, a visit before the WAN: refused, located
    result = replay(scenario)
    assert report.checks(result)
    assert all(r.documents for r in result.requests)
