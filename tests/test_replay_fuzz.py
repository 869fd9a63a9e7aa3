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

from sim.replay.scenario import load_scenario
from sim.yamlfile import InputFileError

BASE = Path(__file__).resolve().parents[1] / "scenarios" / "wrong-code-then-right.yaml"
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
