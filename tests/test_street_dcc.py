"""A street runs on one DCC, as a real one is served: one SMI holding every premises'
devices, one RequestID counter per user rising across the premises, one clock, one SSI;
each premises keeps its own Comms Hub and HAN. The street's DUIS files stay valid
against the V5.4 XSD, and the same seeds give the same bits."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from duis_support import schema_path, xsd

from sim.duis import bodies as b
from sim.duis import schema as duis_schema
from sim.duis.request import RequestID, ServiceRequest
from sim.duis.xmlio import parse
from sim.replay import report
from sim.replay.scenario import bundled, load_street
from sim.replay.story import Replay, replay_street

SUPPLIER = "90-B3-D5-1F-30-01-00-00"


def _premises(n: int) -> str:
    return f"""\
  - name: No. {n}
    comms_hub: {{chf: 00-DB-12-34-56-78-0{n}-A2, gpf: 00-DB-12-34-56-78-0{n}-A3}}
    devices:
      - {{name: ESME, id: 00-DB-12-34-56-78-0{n}-A0, type: ESME, install_code: generate}}
      - {{name: GSME, id: 00-DB-12-34-56-78-0{n}-A1, type: GSME, install_code: generate}}
    timeline: [{{wd: 0, event: install, by: a}}, {{wd: 30, event: wan}}]
    expect: {{commissioned: {{ESME: 30, GSME: 30}}, joins: 2}}
"""


# One supplier installs at two premises the same morning; the SM WAN reaches both at once.
STREET = """\
title: one supplier, two premises, one DCC
start: 2024-01-08
seed: 5
parties:
  - {name: a, id: 90-B3-D5-1F-30-01-00-00, fuels: [electricity, gas]}
premises:
""" + _premises(2) + _premises(4)


@cache
def _street(folder: Path) -> list[Replay]:
    path = folder / "street.yaml"
    path.write_text(STREET)
    return replay_street(load_street(path), schema_path())


def _run(tmp_path_factory) -> list[Replay]:
    return _street(tmp_path_factory.getbasetemp())


def _requests(replay: Replay) -> list[tuple[float, RequestID, int]]:
    """(DCC time, RequestID, command variant) of every request the premises sent."""
    found = []
    for request in replay.requests:
        for name, data in request.documents:
            if name.startswith("request"):
                sent = ServiceRequest.from_document(parse(data))
                found.append((request.time, sent.request_id, sent.command_variant))
    return found


def test_one_dcc_one_inventory_for_the_whole_street(tmp_path_factory) -> None:
    results = _run(tmp_path_factory)
    dcc = results[0].dcc
    assert all(r.dcc is dcc for r in results) and len(dcc.estate) == 2
    for n, result in zip((2, 4), results):
        assert all(c.ok for c in report.checks(result)), report.checks(result)
        for suffix in ("A0", "A1", "A2", "A3"):  # ESME, GSME, CHF, GPF: all in the one SMI
            assert dcc.smi.status(f"00-DB-12-34-56-78-0{n}-{suffix}") == "Commissioned"
    highest = max(rid.counter for r in results for _, rid, _ in _requests(r) if rid.originator == SUPPLIER)
    assert dcc.counters[SUPPLIER] == highest  # the one DCC's record of the user's counter
    # 8.2 by MPxN reads that premises' devices only, from the one inventory
    for n, result in zip((2, 4), results):
        read = ServiceRequest(RequestID(SUPPLIER, dcc.estate[0].dcc_id, dcc.counters[SUPPLIER] + 1), 8, "8.2", "8.2",
                              b.ReadInventory(mpxn=result.premises.mpxn))
        outcome = dcc.submit(read.to_xml())
        assert outcome.code == "I0", outcome.reason
        assert {d.split()[1][-5:] for d in outcome.reason.split(", ")} == {f"0{n}-A{i}" for i in range(4)}


def test_a_supplier_at_two_premises_has_one_rising_counter(tmp_path_factory) -> None:
    """The same supplier's requests at both premises, in the order the one DCC took them:
    counters strictly rise across the premises (a signed CV5 returns under its CV4's
    RequestID, as DUIS has it), none used twice."""
    results = _run(tmp_path_factory)
    sent = sorted((t, rid.counter, variant, n) for n, r in enumerate(results) for t, rid, variant in _requests(r)
                  if rid.originator == SUPPLIER)
    assert {n for *_, n in sent} == {0, 1}
    assert [t for t, *_ in sent] == sorted({t for t, *_ in sent})  # one DCC clock: no two at once
    counters = [c for _, c, variant, _ in sent if variant != 5]
    assert counters == sorted(set(counters))  # strictly rising, across premises
    for (_, before, _, _), (_, counter, variant, _) in zip(sent, sent[1:]):
        assert counter > before or variant == 5 and counter == before
    first_at_second = min(c for _, c, _, n in sent if n == 1)
    assert any(c < first_at_second for _, c, _, n in sent if n == 0)  # continued, not restarted


def test_each_premises_keeps_its_own_han(tmp_path_factory) -> None:
    results = _run(tmp_path_factory)
    pans = [{r.report.pan_id for r in result.joins.records if r.report} for result in results]
    keys = [{r.report.network_key for r in result.joins.records if r.report} for result in results]
    assert all(len(p) == 1 for p in pans + keys) and pans[0] != pans[1] and keys[0] != keys[1]


def test_the_street_files_are_valid_duis_and_deterministic(tmp_path_factory, tmp_path: Path) -> None:
    results = _run(tmp_path_factory)
    made = report.street_files(results, [report.checks(r) for r in results])
    documents = {k: v for k, v in made.items() if "/duis/" in k}
    assert {k.split("/")[0] for k in documents} == {"no-2", "no-4"}
    schema = xsd()
    for name, data in documents.items():
        assert duis_schema.check_bytes(schema, data) == [], name
    path = tmp_path / "street.yaml"
    path.write_text(STREET)
    again = replay_street(load_street(path), schema_path())
    for first, second in zip(results, again):
        assert [d for r in first.requests for d in r.documents] == [d for r in second.requests for d in r.documents]


def test_the_bundled_street_holds_under_another_seed() -> None:
    """Every premises of the bundled street meets its expectations on the one DCC under
    another seed (codes, keys, PANs and frame timings change, never the story)."""
    [street] = [p for p in bundled() if load_street(p)[0].premises is not None]
    results = replay_street(load_street(street, seed=7))
    assert len({id(r.dcc) for r in results}) == 1
    failed = [f"{r.scenario.premises}: {c}" for r in results for c in report.checks(r) if not c.ok]
    assert not failed
