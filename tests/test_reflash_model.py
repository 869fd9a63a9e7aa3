"""The MP155 re-flash model: Comms Hubs conserved, Work Orders timed in working days,
the SMI told every re-flash, installs newest first, costs at the scenario's prices."""

import copy
import datetime as dt

import holidays
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.mp155.costs import cost_rows
from sim.mp155.model import InventoryLink, StockRun, device_id
from sim.mp155.scenario import BUNDLED, STRATEGIES, Scenario
from sim.yamlfile import InputFileError, load_yaml

BASE = yaml.safe_load(BUNDLED.read_text())


def scenario(**changes) -> Scenario:
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = data
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        target[last] = value
    return Scenario.from_document(load_yaml("test.yaml", yaml.safe_dump(data)), base=BUNDLED.parent)


def assert_conserved(run: StockRun) -> None:
    places = run.census()
    everyone = sorted(ch for chs in places.values() for ch in chs)
    assert everyone == list(range(len(run.model_of))), "a CH was lost or counted twice"
    for model, buckets in run.stock.items():
        for version, queue in buckets.items():
            assert all(run.model_of[ch] == model and run.version_of[ch] == version for ch in queue)


@settings(max_examples=25, deadline=None)
@given(strategy=st.sampled_from(STRATEGIES), seed=st.integers(0, 2**32 - 1),
       batch=st.integers(1, 400), shipping=st.integers(0, 4), turnaround=st.integers(0, 12),
       per_wd=st.floats(0, 250), days=st.integers(5, 160), lead=st.integers(0, 15))
def test_comms_hubs_are_conserved(strategy, seed, batch, shipping, turnaround, per_wd, days, lead) -> None:
    run = StockRun(scenario(strategies=[strategy], seed=seed, days=days, reflash__batch_size=batch,
                            reflash__shipping_wd=shipping, reflash__csp_turnaround_wd=turnaround,
                            installs__per_working_day=per_wd, ordering__lead_time_wd=lead,
                            reflash__min_stock_age_days=30), strategy)
    for step in range(1, 9):
        run.env.run(until=days * 86400.0 * step / 8)
        assert_conserved(run)
    for snap in run.snapshots:
        assert (snap["stock"] + snap["shipping"] + snap["at_csp"] + snap["installed"]
                + snap["written_off"]) == snap["delivered"]


class RecordingLink(InventoryLink):
    """The real SMI link, also keeping every pre-notification for the tests to read."""

    def __init__(self, link: InventoryLink) -> None:
        super().__init__(link.inventory, link.calendar, link.manufacturers)
        self.updates: list[tuple[str, str, int, float]] = []

    def ch_prenotification(self, device_id: str, model: str, firmware_version: int,
                           time: float) -> None:
        super().ch_prenotification(device_id, model, firmware_version, time)
        self.updates.append((device_id, model, firmware_version, time))


@pytest.fixture(scope="module")
def reflash_run() -> StockRun:
    run = StockRun(scenario(days=400), "reflash")
    run.smi = RecordingLink(run.smi)
    return run.run()


def test_reflashed_chs_are_pending_in_the_smi_with_their_new_firmware(reflash_run) -> None:
    inventory = reflash_run.smi.inventory
    assert inventory.records
    for device, _model, version, _time in reflash_run.smi.updates:
        record = inventory.get(device)
        assert record.status == "Pending" and record.device_type == "CHF"
        assert int(record.firmware_version, 16) >= version


def _working_days_later(start: dt.date, n: int) -> dt.date:
    """Independent of sim.calendar: step day by day with the holidays package."""
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(start.year, start.year + 3))
    day = start
    while n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in bank:
            n -= 1
    return day


def test_work_orders_come_back_after_shipping_turnaround_and_shipping(reflash_run) -> None:
    s = reflash_run.s
    assert reflash_run.completed_work_orders
    for wo in reflash_run.completed_work_orders:
        raised = s.start + dt.timedelta(days=int(wo.raised // 86400))
        expected = _working_days_later(raised, 2 * s.shipping_wd + s.csp_turnaround_wd)
        assert s.start + dt.timedelta(days=int(wo.returned // 86400)) == expected
        assert len(wo.chs) == s.batch_size


BASE_VERSIONS = {
    m.model: [(v.version, v.released) for v in m.versions]
    for m in scenario().catalogue.models.values()
}


def test_every_reflash_is_prenotified_to_the_smi_with_the_latest_production(reflash_run) -> None:
    smi = reflash_run.smi
    assert len(smi.updates) == reflash_run.counters.reflashed > 0
    for device, model, version, time in smi.updates:
        on = reflash_run.s.start + dt.timedelta(days=int(time // 86400))
        released = [v for v in BASE_VERSIONS[model] if v[1] <= on]
        assert version == max(released, key=lambda v: v[1])[0]
    for buckets in reflash_run.stock.values():
        for version, queue in buckets.items():
            for ch in queue:
                record = smi.inventory.get(device_id(ch))
                if record is not None:  # the SMI holds the version the CH in stock runs
                    assert int(record.firmware_version, 16) == version


@pytest.mark.parametrize(("strategy", "expected"), [("hold", 0x00020000), ("ota", 0x00010000)])
def test_installs_take_newest_firmware_first_except_under_ota(strategy, expected) -> None:
    run = StockRun(scenario(), strategy)
    before = {v: len(q) for v, q in run.stock["NHW-CH-SB"].items()}
    run._install("NHW-CH-SB", 10)
    after = {v: len(q) for v, q in run.stock["NHW-CH-SB"].items()}
    assert {v: before[v] - after[v] for v in before if before[v] != after[v]} == {expected: 10}


def test_costs_use_the_scenario_prices(reflash_run) -> None:
    rows = cost_rows(reflash_run)
    assert [r["price_gbp_per_ch"] for r in rows] == [12, 18, 25, 30]
    assert all(r["direct_cost_gbp"] == r["price_gbp_per_ch"] * reflash_run.counters.reflashed for r in rows)
    writeoff = StockRun(scenario(days=120), "writeoff").run()
    (row,) = cost_rows(writeoff)
    n = writeoff.counters.written_off
    assert row["direct_cost_gbp"] == round(n["single"] * 30.87 + n["dual"] * 58.75, 2)
    assert n["single"] > 0 and n["dual"] > 0


def test_same_seed_same_run_and_strategies_share_demand() -> None:
    a = StockRun(scenario(days=90), "hold").run()
    b = StockRun(scenario(days=90), "hold").run()
    c = StockRun(scenario(days=90), "writeoff").run()
    assert a.snapshots == b.snapshots and a.mix == b.mix
    demand = lambda r: r.counters.installs + r.counters.shortfalls  # noqa: E731
    assert demand(a) == demand(c)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"initial_stock": [{"model": "NHW-CH-SB", "version": 0x99, "count": 1, "age_days": [0, 1]}]},
     r"test.yaml:\d+: initial_stock\[0\].version: .*not in the catalogue"),
    ({"installs__share": {"NOPE": 1.0}}, r"installs.share.NOPE: model 'NOPE' is not in the catalogue"),
    ({"installs__share": {"GFI-ESME": 1.0}}, r"installs.share.GFI-ESME: .*not a Comms Hub"),
    ({"strategies": ["magic"]}, r"test.yaml:\d+: strategies: \['magic'\]"),
    ({"reflash__batch_size": 0}, r"reflash.batch_size: need >= 1"),
    ({"reflash__batch_size": "many"}, r"reflash.batch_size: malformed value 'many'"),
    ({"ota__failure_probability": 2}, r"ota.failure_probability: must be within"),
])
def test_bad_scenarios_name_file_line_and_field(changes, reason) -> None:
    with pytest.raises(InputFileError, match=reason):
        scenario(**changes)


def test_missing_field_non_mapping_and_line_numbers(tmp_path) -> None:
    data = copy.deepcopy(BASE)
    del data["reflash"]["shipping_wd"]
    with pytest.raises(InputFileError, match=r"x.yaml:\d+: reflash: missing field 'shipping_wd'"):
        Scenario.from_document(load_yaml("x.yaml", yaml.safe_dump(data)), BUNDLED.parent)
    path = tmp_path / "s.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(InputFileError, match="not a mapping"):
        Scenario.load(path)
    text = BUNDLED.read_text().replace("batch_size: 500", "batch_size: -5")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "batch_size: -5" in row)
    with pytest.raises(InputFileError, match=rf"bad.yaml:{line}: reflash.batch_size"):
        Scenario.from_document(load_yaml("bad.yaml", text), BUNDLED.parent)


def test_holding_piles_up_old_firmware_and_reflash_clears_it() -> None:
    """MP155's claim in the bundled scenario: with newest-first installs, superseded CHs
    stay in stock; re-flashing in full batches leaves fewer than one batch per model."""
    hold = StockRun(scenario(days=365), "hold").run()
    reflash = StockRun(scenario(days=365), "reflash").run()
    assert hold.snapshots[-1]["stock_superseded"] > 3000
    assert hold.snapshots[-1]["mean_stock_age_days"] > 3 * reflash.snapshots[-1]["mean_stock_age_days"]
    assert reflash.snapshots[-1]["stock_superseded"] < reflash.s.batch_size * len(reflash.models)
    assert reflash.counters.reflashed % reflash.s.batch_size == 0
