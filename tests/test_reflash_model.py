"""The MP155 study model: Comms Hubs conserved across several suppliers and CSPs, Work
Orders timed in working days, re-flash timed around known releases, no CH re-flashed twice
unless allowed, the SMI's CHF and GPF told every re-flash, old-firmware installs counted."""

import datetime as dt

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reflash_support import study

from sim.mp155.model import InventoryLink, StockRun, device_id, gpf_id
from sim.mp155.scenario import STRATEGIES
from sim.yamlfile import InputFileError

DAY = 86400.0


def assert_conserved(run: StockRun) -> None:
    places = run.census()
    everyone = sorted(ch for chs in places.values() for ch in chs)
    assert everyone == list(range(len(run.line_of))), "a CH was lost or counted twice"
    for line in run.all_lines():
        for version, queue in line.stock.items():
            assert all(run.line_of[ch] is line and run.version_of[ch] == version for ch in queue)


@settings(max_examples=8, deadline=None)
@given(strategy=st.sampled_from(STRATEGIES), seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 300),
       shipping=st.integers(0, 4), lines=st.integers(1, 3), rate=st.floats(5, 400),
       failure=st.floats(0, 0.5), days=st.integers(5, 90), lead=st.integers(0, 15),
       before_release=st.booleans(), repeat=st.booleans())
def test_comms_hubs_are_conserved_with_several_suppliers_and_csps(
        strategy, seed, batch, shipping, lines, rate, failure, days, lead, before_release, repeat) -> None:
    csp = {"lines": lines, "chs_per_line_per_day": rate, "failure_probability": failure}
    run = StockRun(study(strategies=[strategy], seed=seed, days=days, reflash__batch_size=batch,
                         reflash__shipping_wd=shipping, ordering__lead_time_wd=lead,
                         csps={"North": csp, "Central": csp, "South": csp},
                         reflash__min_stock_age_days=30, reflash__reflash_before_release=before_release,
                         reflash__allow_repeat=repeat), strategy)
    assert len(run.s.suppliers) == 3 and len(run.csps) == 3
    for step in range(1, 7):
        run.env.run(until=days * DAY * step / 6)
        assert_conserved(run)
    for snap in run.snapshots:
        assert (snap["stock"] + snap["shipping"] + snap["at_csp"] + snap["installed"] + snap["written_off"]
                + snap["reflash_failed"]) == snap["delivered"], snap


class RecordingLink(InventoryLink):
    """The real SMI link, also keeping every pre-notification for the tests to read."""

    def __init__(self, link: InventoryLink) -> None:
        super().__init__(link.inventory, link.calendar, link.manufacturers)
        self.updates: list[tuple[int, str, int, float]] = []

    def ch_prenotification(self, ch: int, model: str, firmware_version: int, time: float) -> None:
        super().ch_prenotification(ch, model, firmware_version, time)
        self.updates.append((ch, model, firmware_version, time))


@pytest.fixture(scope="module")
def reflash_run() -> StockRun:
    run = StockRun(study(days=250), "reflash")
    run.smi = RecordingLink(run.smi)
    return run.run()


def test_reflashes_reach_every_region_and_some_fail(reflash_run) -> None:
    assert {wo.line.region for wo in reflash_run.completed_work_orders} == {"North", "Central", "South"}
    assert {wo.line.supplier for wo in reflash_run.completed_work_orders} >= {"Large supplier", "Medium supplier"}
    assert 0 < len(reflash_run.scrapped) < 0.1 * sum(len(wo.chs) for wo in reflash_run.completed_work_orders)


def test_prenotification_updates_the_chf_and_the_gpf_in_the_smi(reflash_run) -> None:
    inventory = reflash_run.smi.inventory
    assert reflash_run.smi.updates
    for ch, _model, version, _time in reflash_run.smi.updates:
        for device, kind in ((device_id(ch), "CHF"), (gpf_id(ch), "GPF")):
            record = inventory.get(device)
            assert record.status == "Pending" and record.device_type == kind
            assert int(record.firmware_version, 16) >= version
    for ch in reflash_run.scrapped:
        assert inventory.get(gpf_id(ch)) is None or reflash_run.reflash_count[ch] > 1


def _working_days_later(start: dt.date, n: int) -> dt.date:
    """Independent of sim.calendar: step day by day with the holidays package."""
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(start.year, start.year + 3))
    day = start
    while n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in bank:
            n -= 1
    return day


def test_work_orders_ship_to_the_csp_queue_and_back_in_working_days(reflash_run) -> None:
    s = reflash_run.s
    on = lambda t: s.start + dt.timedelta(days=int(t // DAY))  # noqa: E731
    assert reflash_run.completed_work_orders
    for wo in reflash_run.completed_work_orders:
        assert on(wo.at_csp) == _working_days_later(on(wo.raised), s.shipping_wd)
        assert on(wo.returned) == _working_days_later(on(wo.reflashed), s.shipping_wd)
        csp = s.csps[wo.line.region]
        # a batch needs at least ceil(batch / lines) CH-times on the CSP's lines
        least = -(-s.batch_size // csp.lines) * DAY / csp.chs_per_line_per_day
        assert wo.reflashed - wo.at_csp >= least - 1e-6


def test_every_reflash_installs_the_latest_production_of_its_day(reflash_run) -> None:
    catalogue = reflash_run.s.catalogue
    for _ch, model, version, time in reflash_run.smi.updates:
        on = reflash_run.s.start + dt.timedelta(days=int(time // DAY))
        released = [v for v in catalogue.model(model).versions if v.released <= on]
        assert version == max(released, key=lambda v: v.released).version
    for line in reflash_run.all_lines():
        for version, queue in line.stock.items():
            for ch in queue:
                record = reflash_run.smi.inventory.get(device_id(ch))
                if record is not None:  # the SMI holds the version the CH in stock runs
                    assert int(record.firmware_version, 16) == version


def _days_to_next_release(run: StockRun, model: str, time: float) -> int | None:
    on = run.s.start + dt.timedelta(days=int(time // DAY))
    ahead = [(v.released - on).days for v in run.s.catalogue.model(model).versions if v.released > on]
    return min(ahead) if ahead else None


@pytest.mark.parametrize("before_release", [False, True])
def test_no_work_order_just_before_a_known_release_unless_asked(before_release) -> None:
    run = StockRun(study(days=150, reflash__reflash_before_release=before_release), "reflash").run()
    window = min(run.s.release_notice_days, run.s.hold_before_release_days)
    close = [wo for wo in [*run.completed_work_orders, *run.work_orders.values()]
             if (d := _days_to_next_release(run, wo.line.model, wo.raised)) is not None and d <= window]
    assert bool(close) == before_release


@pytest.mark.parametrize("allow", [False, True])
def test_no_hub_is_reflashed_twice_unless_the_study_allows_it(allow) -> None:
    run = StockRun(study(days=120, reflash__reflash_before_release=True, reflash__allow_repeat=allow),
                   "reflash").run()
    assert max(run.reflash_count) == (2 if allow else 1)


@pytest.mark.parametrize(("strategy", "expected"), [("hold", 0x00020000), ("ota", 0x00010000)])
def test_installs_take_newest_firmware_first_except_under_ota(strategy, expected) -> None:
    run = StockRun(study(), strategy)
    line = next(x for x in run.lines["Large supplier"] if x.model == "NHW-CH-SB" and x.region == "Central")
    before = {v: len(q) for v, q in line.stock.items()}
    run._install(line, 10, run.s.suppliers[0])
    after = {v: len(q) for v, q in line.stock.items()}
    assert {v: before[v] - after[v] for v in before if before[v] != after[v]} == {expected: 10}
    assert line.counters.installed_old == (10 if strategy == "ota" else 0)  # 0x00020000 is latest on day 0


@pytest.mark.parametrize(("share", "hub_days"), [(0.0, 7), (1.0, 107)])
def test_old_firmware_waits_for_the_wan_before_its_upgrade(share, hub_days) -> None:
    s = study(days=60, old_firmware__wan_wait_days=[100, 100], ota__delay_days=7,
              **{f"suppliers__{i}__install_and_leave_share": share for i in range(3)})
    run = StockRun(s, "ota").run()
    for line in run.all_lines():
        assert line.counters.old_hub_days == pytest.approx(line.counters.installed_old * hub_days)
    assert sum(x.counters.installed_old for x in run.all_lines()) > 1000


def test_same_seed_same_run_and_strategies_share_demand() -> None:
    a = StockRun(study(days=60), "hold").run()
    b = StockRun(study(days=60), "hold").run()
    c = StockRun(study(days=60), "writeoff").run()
    assert a.snapshots == b.snapshots and a.mix == b.mix
    assert StockRun(study(days=60, seed=7), "hold").run().snapshots != a.snapshots
    demand = lambda r: [x.counters.installs + x.counters.shortfalls for x in r.all_lines()]  # noqa: E731
    assert demand(a) == demand(c)


CSP = {"lines": 1, "chs_per_line_per_day": 100, "failure_probability": 0.01}


@pytest.mark.parametrize(("changes", "reason"), [
    ({"suppliers": []}, r"test.yaml:\d+: suppliers: no suppliers"),
    ({"suppliers__0__initial_stock__0__version": 0x99}, r"suppliers\[0\].initial_stock\[0\].version: .*not in the catalogue"),
    ({"suppliers__1__models": {"NOPE": 1.0}}, r"suppliers\[1\].models.NOPE: model 'NOPE' is not in the catalogue"),
    ({"suppliers__0__regions": {"Mars": 1.0}}, r"suppliers\[0\].regions.Mars: no CSP 'Mars'"),
    ({"csps": {"East": CSP}}, r"csps.East: unknown CSP region"),
    ({"csps": {}}, r"csps: no CSPs"),
    ({"csps__North__lines": 0}, r"csps.North.lines: 0 is out of range"),
    ({"csps__South__chs_per_line_per_day": -5}, r"csps.South.chs_per_line_per_day: -5.0 is out of range"),
    ({"csps__Central__failure_probability": 1.5}, r"csps.Central.failure_probability: 1.5 is out of range"),
    ({"reflash__price_points_gbp": [12, -1]}, r"reflash.price_points_gbp\[1\]: £-1.0 is out of range"),
    ({"reflash__price_points_gbp": [12, 5000]}, r"reflash.price_points_gbp\[1\]: £5000.0 is out of range"),
    ({"reflash__price_points_gbp": [30, 12]}, r"reflash.price_points_gbp: price points must rise"),
    ({"reflash__volume_price__fixed_gbp": -1}, r"reflash.volume_price.fixed_gbp: £-1.0 is out of range"),
    ({"old_firmware__install_failure_probability": 2}, r"old_firmware.install_failure_probability: 2.0 is not a probability"),
    ({"ota__failure_probability": -0.1}, r"ota.failure_probability: -0.1 is not a probability"),
    ({"strategies": ["magic"]}, r"test.yaml:\d+: strategies: \['magic'\]"),
    ({"reflash__batch_size": "many"}, r"reflash.batch_size: malformed value 'many'"),
    ({"reflash__allow_repeat": "yes"}, r"reflash.allow_repeat: malformed value 'yes'"),
    ({"seed": float("-inf")}, r"seed: malformed value -inf"),  # was an OverflowError (yaml-reflash fuzz)
    ({"days": float("inf")}, r"days: malformed value inf"),
    ({"catalogue": True}, r"catalogue: True is not a file name"),  # was a TypeError (yaml-reflash fuzz)
    ({"suppliers__0__initial_stock__0__age_days": {0: 1}}, r"age_days: malformed value \{0: 1\}"),  # a KeyError
])
def test_bad_studies_name_file_line_and_field(changes, reason) -> None:
    with pytest.raises(InputFileError, match=reason):
        study(**changes)


def test_holding_piles_up_old_firmware_and_reflash_clears_most_of_it() -> None:
    """MP155's claim in the bundled study: with newest-first installs, superseded CHs stay
    in stock; re-flashing in full batches leaves less, younger stock."""
    hold = StockRun(study(days=250), "hold").run()
    reflash = StockRun(study(days=250), "reflash").run()
    last = lambda r, key: sum(s[key] for s in r.snapshots[-3:])  # noqa: E731  (3 suppliers' last day)
    assert last(hold, "stock_superseded") > 3 * last(reflash, "stock_superseded")
    assert hold.snapshots[-3]["mean_stock_age_days"] > 2 * reflash.snapshots[-3]["mean_stock_age_days"]
