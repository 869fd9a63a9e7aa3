"""``hansim backlog`` and ``hansim sweep``: outputs, determinism, workers, Dask, bad input."""

import csv
import json
from pathlib import Path

import pytest
from _population_support import local_cluster
from click.testing import CliRunner

from sim.cli import main

SMALL = ["--sites", "1500", "--years", "1.5", "--replications", "2", "--quiet",
         "--set", "historic_years=1"]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_backlog_writes_every_output_for_each_policy(tmp_path: Path) -> None:
    result = run("backlog", *SMALL, "--policy", "none", "--policy", "smi-codes", "--workers", "1",
                 "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert set(files(tmp_path)) == {"backlog.csv", "time_to_commission.csv", "summary.json",
                                    "backlog.png", "time_to_commission.png", "report.html"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["policies"]) == {"none", "smi-codes"}
    none = summary["policies"]["none"]
    assert none["replacements"]["mean"] > 0
    assert [set(y) for y in none["by_year"]] == [{"year", "uncommissioned_gain_share", "backlog_end",
                                                  "replacements"}] * 2
    assert all(set(y[k]) == {"mean", "lo", "hi"} for y in none["by_year"] for k in y if k != "year")
    assert [(d["a"], d["b"]) for d in summary["paired_differences"]] == [("none", "smi-codes")]
    assert set(none["costs_gbp"]) == set(summary["cost_sources"])
    assert summary["policies"]["smi-codes"]["costs_gbp"]["build"]["mean"] == 250_000
    with (tmp_path / "backlog.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["state"] for r in rows} == {"waiting_for_wan", "orphaned", "waiting_for_code",
                                          "awaiting_visit", "stranded", "commissioning"}
    assert all(float(r["lo95"]) <= float(r["mean"]) <= float(r["hi95"]) for r in rows)
    assert (tmp_path / "backlog.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_default_policy_is_email_10wd_and_same_seed_same_bytes_on_two_workers(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert run("backlog", *SMALL, "--workers", "1", "--out", str(one)).exit_code == 0
    assert run("backlog", *SMALL, "--workers", "2", "--out", str(two)).exit_code == 0
    assert files(one) == files(two)
    assert list(json.loads((one / "summary.json").read_text())["policies"]) == ["email-10wd"]
    other = tmp_path / "other"
    assert run("backlog", *SMALL, "--workers", "1", "--seed", "2", "--out", str(other)).exit_code == 0
    assert files(other)["backlog.csv"] != files(one)["backlog.csv"]


def test_join_loss_calibrates_the_sampled_join_from_frame_level_joins(tmp_path: Path) -> None:
    result = run("backlog", *SMALL, "--workers", "1", "--join-loss", "0", "--calibration-joins", "3",
                 "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    commissioning = json.loads((tmp_path / "summary.json").read_text())["params"]["commissioning"]
    assert commissioning["p_join"] == 1.0  # no radio loss: every frame-level join succeeded
    assert 600 < commissioning["attempt_seconds"] < 605  # DCC round trips + a sub-second join


def test_dask_cluster_gives_the_same_results(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    with local_cluster() as cluster:
        result = run("backlog", *SMALL, "--dask", cluster.scheduler_address, "--out", str(tmp_path / "dask"))
    assert result.exit_code == 0, result.output
    assert run("backlog", *SMALL, "--workers", "1", "--out", str(tmp_path / "local")).exit_code == 0
    assert files(tmp_path / "dask") == files(tmp_path / "local")


@pytest.mark.parametrize(("args", "words"), [
    (["--set", "install_and_leave_fraction=1.5"], ["install_and_leave_fraction", "1.5", "0..1"]),
    (["--set", "policy.sla_wd=-1"], ["sla_wd", "-1", "1..250"]),
    (["--policy", "email-7wd"], ["email-7wd", "email-10wd", "smi-codes"]),
    (["--set", "rules.cos_hazard=-0.1"], ["rules.cos_hazard", "-0.1"]),
    (["--set", "wan.reactive_fraction=2"], ["wan.reactive_fraction", "0..1"]),
    (["--set", "historic_years=99"], ["historic_years", "99"]),
    (["--set", "colour=blue"], ["colour", "allowed"]),
    (["--set", "epoch=2025-13-01"], ["epoch", "YYYY-MM-DD"]),
    (["--set", "install_profile=5"], ["install_profile", "list"]),
    (["--set", "rules.cos_lead_wd=[5, 1]"], ["rules.cos_lead_wd[1]", "5..250"]),
    (["--policy", "none", "--set", "policy.reply_probability=0.5"], ["reply_probability", "none"]),
    (["--set", "rules.cos_lead_wd=[1]"], ["rules.cos_lead_wd", "[low, high]"]),
    (["--set", "obligation_start=2020-01-01"], ["obligation_start", "before the epoch"]),
    (["--set", "epoch=9999-12-31"], ["epoch = 9999-12-31", "2100-12-31"]),  # not the obligation date's fault
    (["--set", "commissioning.retry_wd=" + "9" * 400], ["retry_wd = 10^400", "0..60"]),  # was an OverflowError
    (["--set", "install_and_leave_fraction=5e-324"], ["install_and_leave_fraction", "at least 1"]),  # was / 0
    (["--set", "market.large.share=0.5"], ["market shares", "= 1"]),
    (["--set", "market.small.reply_per_wd=-2"], ["market.small.reply_per_wd", ">= 0"]),
    (["--set", "rules.p_replace=[0.5]"], ["rules.p_replace", "0..1"]),
    (["--policy", "email-5wd", "--policy", "email-10wd", "--set", "policy.sla_wd=30"], ["email-30wd"]),
])
def test_bad_input_is_one_clear_error_and_no_output(tmp_path: Path, args: list[str], words: list[str]) -> None:
    result = run("backlog", *SMALL, *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("Error:")
    for word in words:
        assert word in message
    assert not (tmp_path / "out").exists()


SWEEP = """\
sites: 800
years: 1.5
replications: 2
policies: [email-5wd, ssi-5wd]
base: {historic_years: 1}
factors:
  rules.cos_hazard: [0.1, 0.5]
"""


def test_sweep_is_factorial_and_resumes_from_written_replications(tmp_path: Path) -> None:
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    out = tmp_path / "out"
    first = run("sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet")
    assert first.exit_code == 0, first.output
    assert "0 already written, 8 to run" in first.output
    with (out / "sweep.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["policy"], r["rules.cos_hazard"]) for r in rows] == [
        ("email-5wd", "0.1"), ("ssi-5wd", "0.1"), ("email-5wd", "0.5"), ("ssi-5wd", "0.5")]
    reps = sorted((out / "runs").rglob("rep-*.npz"))
    assert len(reps) == 8
    before = files(out)
    reps[3].unlink()  # as if killed before this replication was written
    again = run("sweep", str(sweep), "--out", str(out), "--workers", "1", "--quiet")
    assert "7 already written, 1 to run" in again.output
    assert files(out) == before  # the rerun replication is bit-identical


def test_a_sweep_on_dask_writes_the_files_local_workers_write(tmp_path: Path) -> None:
    """On a Dask cluster the parent saves each replication (the cluster's workers may not
    share this disk): the same files as local workers saving their own."""
    pytest.importorskip("distributed")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    with local_cluster() as cluster:
        result = run("sweep", str(sweep), "--out", str(tmp_path / "dask"), "--dask", cluster.scheduler_address,
                     "--quiet")
    assert result.exit_code == 0, result.output
    assert run("sweep", str(sweep), "--out", str(tmp_path / "local"), "--workers", "2", "--quiet").exit_code == 0
    assert files(tmp_path / "dask") == files(tmp_path / "local")


def test_a_sweep_on_two_workers_writes_the_files_one_worker_writes(tmp_path: Path) -> None:
    """Local workers save their own replications (the parent saves nothing): the same
    files, byte for byte, as one process saving each in turn."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    for workers in ("1", "2"):
        result = run("sweep", str(sweep), "--out", str(tmp_path / workers), "--workers", workers, "--quiet")
        assert result.exit_code == 0, result.output
    assert files(tmp_path / "1") == files(tmp_path / "2")
    assert len(list((tmp_path / "2" / "runs").rglob("rep-*.npz"))) == 8


@pytest.mark.parametrize(("text", "words"), [
    ("sites: 100\n", ["empty sweep", "factors", "sets"]),
    ("", ["empty sweep"]),
    ("factors: {}\n", ["factors is empty"]),
    ("factors:\n  rules.cos_hazard: []\n", ["factors.rules.cos_hazard", "empty"]),
    ("sets:\n  - {rules.cos_hazard: 2.5, wan.target_days: -1}\n", ["set 1", "wan.target_days", "-1"]),
    ("replications: 2\nreplications: 3\nsets: [{}]\n", [":2:", "duplicate key"]),
    ("sets: [{}]\npolicies: [email-99wd]\n", ["email-99wd"]),
    ("replications: 0\nsets: [{}]\n", ["replications", "1 to 10000"]),
    ("replications: 100000000000\nsets: [{}]\n", ["replications", "allowed range"]),
    (f"sites: {'9' * 400}\nsets: [{{}}]\n", ["sites = 9999999999", "allowed range"]),  # was an OverflowError
    ("replications: 9000\npolicies: [none, email-5wd, email-10wd, ssi-5wd]\nfactors: {rules.cos_hazard: [0.1, 0.2, 0.3]}\n",
     ["108,000 runs", "100,000 runs"]),
    ("factors:\n" + "".join(f"  f{i}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" for i in range(12)),
     [":2:", "factors", "1,000,000,000,000 combinations"]),
    ("years: .nan\nsets: [{}]\n", ["years", "nan", "allowed range"]),
    ("sets: [{}]\ncolour: red\n", ["colour", "allowed"]),
    ("sets: [\n", ["YAML"]),
    ("sets:\n  - {rules.cos_hazard: 0.1}\n  - {rules.cos_hazard: 0.1}\n  - {wan.target_days: -1}\n",
     [":4:", "sets[2]", "set 3", "wan.target_days"]),
])
def test_bad_sweeps_are_one_clear_error(tmp_path: Path, text: str, words: list[str]) -> None:
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(text)
    result = run("sweep", str(sweep), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1, result.output
    message = result.output.strip().splitlines()[-1]
    assert "Traceback" not in result.output and str(sweep) in message
    for word in words:
        assert word in message
    assert not (tmp_path / "out").exists()
