"""The Python API tutorial runs as written: every ```python block of
docs/tutorial/python-api.md, in order, in one namespace, in a fresh folder. The results
agree with what the CLI writes for the same inputs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim import api
from sim.cli import main

TUTORIAL = Path(__file__).parents[1] / "docs" / "tutorial" / "python-api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_the_tutorial_code_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = BLOCK.findall(TUTORIAL.read_text())
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for n, code in enumerate(blocks, 1):
        exec(compile(code, f"{TUTORIAL.name} block {n}", "exec"), namespace)  # noqa: S102  (our own docs)
    assert {"backlog.svg", "time_to_commission.png", "timeline.png", "costs.png"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "backlog-out" / "report.html").is_file() and (tmp_path / "replay-out" / "report.html").is_file()
    assert namespace["story"].ok and len(namespace["steady"]) == 3


def test_api_backlog_is_the_cli_backlog(tmp_path: Path) -> None:
    args = dict(sites=400, years=1.0, replications=2, seed=5)
    result = api.backlog(["none", "ssi-5wd"], params={"rules.cos_hazard": 0.3}, **args)
    run = CliRunner().invoke(main, ["backlog", "--policy", "none", "--policy", "ssi-5wd", "--sites", "400",
                                    "--years", "1", "--replications", "2", "--seed", "5", "--workers", "1",
                                    "--set", "rules.cos_hazard=0.3", "--quiet", "--out", str(tmp_path / "cli")])
    assert run.exit_code == 0, run.output
    assert json.loads((tmp_path / "cli" / "summary.json").read_text()) == json.loads(json.dumps(result.summary))
    result.write(tmp_path / "api")
    for name in ("backlog.csv", "time_to_commission.csv", "summary.json", "backlog.png"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    daily = result.backlog
    assert (daily["mean_gb"] == daily["mean"] * result.params.gb_factor).all()


def test_api_bad_input_is_one_clear_error() -> None:
    from sim.policies import ParameterError

    with pytest.raises(ParameterError, match="wan.nonsense"):
        api.backlog(sites=100, years=0.5, replications=1, params={"wan.nonsense": 1})
    with pytest.raises(ParameterError, match="nope"):
        api.backlog("nope", sites=100, years=0.5, replications=1)
    with pytest.raises(FileNotFoundError, match="no bundled scenario"):
        api.replay("no-such-scenario")


def test_without_pandas_runs_and_plots_work_and_tables_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    study = api.reflash(strategies=["hold", "reflash"], days=30)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if the analysis extra were not installed
    with pytest.raises(ImportError, match=r"pip install 'hansim\[analysis\]'"):
        study.costs
    assert set(study.plots()) == {"costs", "breakeven", "demand", "stock_age", "firmware_mix", "csp_queue"}
