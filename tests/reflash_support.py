"""Build MP155 studies for the tests: the bundled study with some fields changed."""

from __future__ import annotations

import copy

import yaml

from sim.mp155.scenario import BUNDLED, Scenario
from sim.yamlfile import load_yaml

BASE = yaml.safe_load(BUNDLED.read_text())


def study_data(**changes) -> dict:
    """The bundled study as data, with ``a__b__0__c=value`` set (``0``: a list index)."""
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = data
        *path, last = [int(p) if p.isdigit() else p for p in dotted.split("__")]
        for key in path:
            target = target[key]
        target[last] = value
    return data


def study(**changes) -> Scenario:
    return Scenario.from_document(load_yaml("test.yaml", yaml.safe_dump(study_data(**changes))),
                                  base=BUNDLED.parent)
