"""Small population runs shared by the population tests (kept small: the suite stays fast)."""

from __future__ import annotations

from functools import cache

from sim.lifecycle import SampledCommissioning, SiteRules
from sim.policies import make_policy
from sim.population.model import Replication
from sim.population.params import PopulationParams, WanArrival
from sim.population.runner import Task, replication_seeds, run_tasks

#: Short WAN delays so that short runs see many meters through.
FAST_WAN = WanArrival(reactive_fraction=0.6, target_days=30, reactive_on_target=0.8,
                      reactive_tail_days=20, proactive_min_days=30, proactive_mean_days=60)


def small(cos_hazard: float = 0.1, sites: int = 3000, **changes: object) -> PopulationParams:
    """Certain one-attempt joins, fast WAN: only WAN, CoS and the policy hold meters up."""
    return PopulationParams(sites=sites, years=2.0, historic_years=1.0, wan=FAST_WAN,
                            rules=SiteRules(cos_hazard=cos_hazard),
                            commissioning=SampledCommissioning(p_join=1.0), **changes)


@cache
def replications(params: PopulationParams, policy: str, reps: int = 4, seed: int = 11,
                 **policy_params: object) -> tuple[Replication, ...]:
    tasks = [Task(params, make_policy(policy, **policy_params), s) for s in replication_seeds(seed, reps)]
    return tuple(run_tasks(tasks, workers=1, progress=False))


def local_cluster():
    """A one-worker Dask cluster in this process. Its scheduler's HTTP server takes a free
    port: two test workers each starting one would otherwise both ask for 8787."""
    import distributed

    return distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
