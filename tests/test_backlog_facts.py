"""The seeds' facts with default parameters, Little's law from the output files, the SLA
as a deadline, and replay and population agreeing through the one lifecycle."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.population.stats import confidence
from _population_support import replications, small

ORDER = ["none", "email-10wd", "email-5wd", "ssi-5wd", "smi-codes"]


@pytest.fixture(scope="module")
def defaults(tmp_path_factory) -> Path:
    """Every regime, default parameters, at a size CI affords (GB figures scaled from it)."""
    out = tmp_path_factory.mktemp("facts")
    args = ["backlog", "--sites", "5000", "--years", "5", "--replications", "10", "--quiet", "--out", str(out)]
    for name in ORDER:
        args += ["--policy", name]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def test_the_backlog_grows_under_no_process(defaults: Path) -> None:
    """Seeds: "until a solution is implemented the number of affected Devices will continue to grow"."""
    years = json.loads((defaults / "summary.json").read_text())["policies"]["none"]["by_year"]
    assert [y["year"] for y in years] == [1, 2, 3, 4, 5]
    ends = [y["backlog_end"]["mean"] for y in years]
    assert all(b > a for a, b in zip(ends, ends[1:])), ends
    assert years[-1]["backlog_end"]["lo"] > years[0]["backlog_end"]["hi"]


def test_about_three_percent_of_gains_are_uncommissioned(defaults: Path) -> None:
    """Proposer: "around 3% of smart meters gained from another Supplier are in a non-commissioned state"."""
    year1 = json.loads((defaults / "summary.json").read_text())["policies"]["none"]["by_year"][0]
    share = year1["uncommissioned_gain_share"]
    assert 0.01 <= share["lo"] <= share["mean"] <= share["hi"] <= 0.06, share


def test_regimes_ordered_by_consumer_days_without_smart_service(defaults: Path) -> None:
    """none > email-10wd > email-5wd > ssi-5wd > smi-codes, each adjacent paired difference
    (b minus a, per replication under common random numbers) clear of zero. email-5wd to
    ssi-5wd is the SSI's open incident: a code the installer adds after the requester
    stopped waiting still commissions the meter (docs/reference/backlog.md)."""
    summary = json.loads((defaults / "summary.json").read_text())
    means = [summary["policies"][name]["consumer_days_without_smart_service"]["mean"] for name in ORDER]
    assert means == sorted(means, reverse=True), dict(zip(ORDER, means))
    pairs = {(d["a"], d["b"]): d["consumer_days_without_smart_service"] for d in summary["paired_differences"]}
    for a, b in zip(ORDER, ORDER[1:]):
        assert pairs[(a, b)]["hi"] < 0, (a, b, pairs[(a, b)])


def test_littles_law_from_the_output_files(defaults: Path) -> None:
    """Mean backlog read off backlog.csv (daily) = arrivals x mean days in backlog from summary.json."""
    summary = json.loads((defaults / "summary.json").read_text())
    gb = summary["gb_factor"]
    with (defaults / "backlog.csv").open() as f:
        rows = list(csv.DictReader(f))
    for label, figures in summary["policies"].items():
        days = figures["days"]
        daily = np.zeros(days + 1)
        for row in rows:
            if row["policy"] == label:
                daily[int(row["day"])] += float(row["mean"])
        mean_backlog = np.trapezoid(daily, dx=1.0) / days * gb
        little = figures["littles_law"]
        product = little["arrivals_per_day"]["mean"] * little["mean_days_in_backlog"]["mean"]
        assert abs(mean_backlog - product) < 0.01 * product, (label, mean_backlog, product)


def test_five_and_ten_day_slas_differ_when_replies_are_capacity_bound() -> None:
    """Same reply-time distribution; the deadline decides when the requester escalates."""
    tight = {"market.large.reply_per_wd": 1.0, "market.small.reply_per_wd": 0.2}
    params = small(cos_hazard=1.0, sites=4000)
    from sim.population.params import with_overrides

    bound = with_overrides(params, tight)
    five = replications(bound, "email-5wd")
    ten = replications(bound, "email-10wd")
    bound_diff = [a.site_days[:, -1].sum() - b.site_days[:, -1].sum() for a, b in zip(five, ten)]
    _, lo, hi = confidence(np.array(bound_diff))
    assert hi < 0, (lo, hi)  # queued replies breach sooner, escalate sooner: fewer meter-days
    free_diff = [a.site_days[:, -1].sum() - b.site_days[:, -1].sum()
                 for a, b in zip(replications(params, "email-5wd"), replications(params, "email-10wd"))]
    # the capacity bound widens the gap: paired over the same replication seeds, clear of zero
    _, _, widening_hi = confidence(np.array(bound_diff) - np.array(free_diff))
    assert widening_hi < 0, (bound_diff, free_diff)


STORY = """\
title: one ESME, a change of supplier before WAN, the code by email
start: 2024-01-08
seed: 5
devices:
  - {name: ESME, id: 00-DB-12-34-56-78-90-A0, type: ESME, install_code: generate}
parties:
  - {name: installer, id: 90-B3-D5-1F-30-01-00-00, fuels: [electricity, gas]}
  - {name: gaining, id: 90-B3-D5-1F-30-05-00-00, fuels: [electricity, gas]}
policy: {name: email-10wd, reply_probability: 1.0}
timeline:
  - {wd: 0, event: install, by: installer}
  - {wd: 5, event: cos, to: gaining}
  - {wd: 30, event: wan}
expect: {replacement: false}
"""


def test_replay_and_population_agree_through_the_one_lifecycle(tmp_path: Path) -> None:
    """The scripted story replayed (DUIS, frame-level join) and told to the population's
    lifecycle (sampled join) pass through the same states on the same working days."""
    import datetime as dt

    from sim.calendar import WorkingDayCalendar
    from sim.lifecycle import INF, Event, Lifecycle, Meter, SampledCommissioning
    from sim.replay.scenario import MORNING, load_scenario
    from sim.replay.story import party_market, replay
    from sim.worktime import Draws, WorkClock
    from test_population_lifecycle import Log

    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    scenario = load_scenario(path)
    replayed = replay(scenario)
    told = [(s.state, replayed.wd(s.start)) for s in sorted(replayed.spans, key=lambda s: s.start)]

    calendar = WorkingDayCalendar(scenario.start, years=4)
    clock = WorkClock(calendar)
    at = {wd: (calendar.add_working_days(scenario.start, wd) - scenario.start).days * 86400.0 + MORNING
          for wd in (0, 5, 30)}
    log = Log()
    lifecycle = Lifecycle(scenario.policy, SampledCommissioning(p_join=1.0, attempt_seconds=60.0), scenario.rules,
                          clock, Draws(np.random.default_rng(0)), log, party_market(scenario))
    meter = Meter(1, at[0], INF, INF, 0, draws=Draws(np.random.default_rng(scenario.seed)))
    due = lifecycle.install(meter, at[0])
    for wd, step in ((5, lambda t: lifecycle.switch(meter, t, 1)), (30, lambda t: lifecycle.inject(meter, Event.WAN, t))):
        while due <= at[wd]:
            due = lifecycle.advance(meter, due)
        due = step(at[wd])
    while due < INF:
        due = lifecycle.advance(meter, due)
    sampled = [(state.name, replayed.wd(entered)) for state, entered, _ in log.states] + [
        ("COMMISSIONED", replayed.wd(log.finished[0]))]
    assert [s for s, _ in told] == [s for s, _ in sampled] == [
        "WAITING_FOR_WAN", "ORPHANED", "WAITING_FOR_WAN", "COMMISSIONING", "COMMISSIONED"]
    assert told == sampled, (told, sampled)



def test_the_calibrated_defaults_meet_the_seeds_targets(defaults: Path) -> None:
    """The bundled calibration targets (BEIS ~500,000 +- 50,000, ~3% +- 0.5 pp, at most 45%,
    growth under none), read from the default run's summary.json; MP281's figure is the one
    the defaults are documented not to reach (docs/reference/studies.md)."""
    from sim.population.calibration import load_targets

    policies = json.loads((defaults / "summary.json").read_text())["policies"]
    read = {
        "backlog_at_epoch": lambda p: p["backlog_start"]["mean"],
        "uncommissioned_gain_share_y1": lambda p: p["by_year"][0]["uncommissioned_gain_share"]["mean"],
        "backlog_growth": lambda p: p["by_year"][-1]["backlog_end"]["mean"] / p["backlog_start"]["mean"] - 1,
    }
    checked = [t.name for t in load_targets() if t.figure in read]
    assert len(checked) == 4
    for t in load_targets():
        if t.figure in read:
            assert t.met(read[t.figure](policies[t.policy])), (t.name, read[t.figure](policies[t.policy]))
