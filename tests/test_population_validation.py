"""The population model against queueing theory and against its own limiting cases."""

import numpy as np

from sim.calendar import DAY
from sim.lifecycle import State
from sim.population.stats import confidence
from _population_support import FAST_WAN, replications, small, steady


def test_littles_law_infinite_server_no_cos() -> None:
    """M/G/inf: mean backlog = arrival rate x mean time to commission (formula, not the run)."""
    params = small()
    reps = replications(params, "email-10wd")
    rate_per_day = params.sites / params.days
    mean_sojourn_days = FAST_WAN.mean_days() + params.commissioning.attempt_seconds / DAY
    expected = rate_per_day * mean_sojourn_days
    mean, lo, hi = confidence(steady(reps))
    assert lo <= expected <= hi, (expected, mean, lo, hi)
    assert hi - lo < 0.1 * expected  # the interval is tight enough to mean something


def test_littles_law_with_changes_of_supplier_and_email() -> None:
    """L = lambda W with W measured on the cohort: every route to commissioning counted once."""
    params = small(cos_hazard=1.0)
    reps = replications(params, "email-10wd")
    assert all(np.isfinite(r.ttc_days).all() for r in reps)  # nobody censored in the cohort
    w = np.array([r.ttc_days.mean() for r in reps])
    expected = params.sites / params.days * w
    mean, lo, hi = confidence(steady(reps) - expected)
    assert lo <= 0 <= hi, (mean, lo, hi)
    assert sum(r.replaced for r in reps) > 0  # some failed requests went to replacement


def test_zero_day_sla_with_certain_replies_matches_the_no_cos_baseline() -> None:
    baseline = replications(small(cos_hazard=0.0), "email-10wd")
    instant = replications(small(cos_hazard=1.0), "email-10wd", sla_wd=0, reply_probability=1.0,
                           p_identify_installer=1.0)
    assert sum(r.events for r in instant) > sum(r.events for r in baseline)  # CoS did happen
    _, lo, hi = confidence(steady(baseline))
    mean = steady(instant).mean()
    assert lo <= mean <= hi
    assert sum(r.replaced for r in instant) == 0
    assert np.allclose([np.median(r.ttc_days) for r in instant],
                       [np.median(r.ttc_days) for r in baseline], atol=0.05)


def test_five_day_sla_orphans_fewer_sites_than_ten_day() -> None:
    params = small(cos_hazard=1.0)
    five = steady(replications(params, "email-5wd"), State.ORPHANED)
    ten = steady(replications(params, "email-10wd"), State.ORPHANED)
    _, _, five_hi = confidence(five)
    _, ten_lo, _ = confidence(ten)
    assert five_hi < ten_lo, (five.mean(), ten.mean())


def test_no_process_replaces_every_orphaned_site_and_smi_codes_none() -> None:
    params = small(cos_hazard=1.0)
    none = replications(params, "none")
    smi = replications(params, "smi-codes")
    assert all(r.replaced > 0 for r in none)
    assert all(r.replaced == 0 for r in smi)
    assert steady(smi, State.STRANDED).max() == 0


def test_a_reply_capacity_below_demand_strands_sites() -> None:
    """Capacity far below the request rate pushes replies past the SLA: more replacements."""
    params = small(cos_hazard=1.0)
    # GB-scale demand here is about 40 requests a working day (gb_factor x modelled rate).
    free = replications(params, "email-10wd", reps=4)
    tight = replications(params, "email-10wd", reps=4, capacity_per_wd=5.0)
    assert sum(r.replaced for r in tight) > 2 * sum(r.replaced for r in free)
    assert steady(tight, State.STRANDED).mean() > steady(free, State.STRANDED).mean()
