"""The HTML reports open in a real browser (headless Chromium) without a console message,
show what they promise, and link only to files that exist beside them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser_support import open_page
from duis_support import schema_path
from sim.cli import main
from sim.population.html_report import UNRECORDED, render

HREF = re.compile(r'href="([^"#]+)"')


def _links_resolve(dom: str, folder: Path) -> list[str]:
    links = HREF.findall(dom)
    assert links
    assert not [h for h in links if "://" in h]  # self-contained: no fetch from anywhere
    return [h for h in links if not (folder / h).is_file()]


def test_the_browser_check_sees_console_errors_and_script_failures(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><p id="x">here</p><script>console.error("boom"); undefinedThing();</script>')
    dom, console = open_page(page)
    assert 'id="x"' in dom
    assert any("boom" in c for c in console) and any("undefinedThing" in c for c in console)


def test_replay_report_renders_with_timeline_duis_joins_and_expectations(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["replay", "wrong-code-then-right", "--out", str(out),
                                    "--schema", str(schema_path()), "--plot-format", "svg"])
    assert run.exit_code == 0, run.output
    dom, console = open_page(out / "report.html")
    assert console == []
    assert "Every expectation holds" in dom and "NOT met" not in dom
    assert dom.count("<svg") >= 1 and "working day" in dom  # the timeline figure, inline, with text
    assert "0x8F48: HAN join failed" in dom and "0x8F49: joined the HAN" in dom  # the legend
    for name in sorted(p.relative_to(out).as_posix() for p in out.glob("duis/*.xml")):
        assert f'href="{name}"' in dom  # every DUIS document is linked
    pcaps = sorted(p.relative_to(out).as_posix() for p in out.glob("pcap/*.pcap"))
    assert len(pcaps) == 3 and all(f'href="{p}"' in dom for p in pcaps)  # two joins and the premises'
    assert "not joined" in dom and ">joined<" in dom
    assert "checked against DUIS Schema V5.4.xsd" in dom and "all valid" in dom
    assert _links_resolve(dom, out) == []


def test_street_report_renders_every_premises_on_one_calendar_and_links_each(tmp_path: Path) -> None:
    """A street's own page: the stacked timelines (one panel per premises), each premises' HAN
    and verdict, and a link to its report that the browser can follow."""
    out = tmp_path / "street"
    run = CliRunner().invoke(main, ["replay", "street-three-premises", "--out", str(out),
                                    "--schema", str(schema_path()), "--plot-format", "svg"])
    assert run.exit_code == 0, run.output
    summary = json.loads((out / "summary.json").read_text())
    dom, console = open_page(out / "report.html")
    assert console == []
    assert "Every premises meets its expectations" in dom
    for premises in summary["premises"]:
        assert f'href="{premises["folder"]}/report.html"' in dom and premises["pan_id"] in dom
    assert _links_resolve(dom, out) == []
    plot = (out / "timeline.svg").read_text()
    assert all(p["premises"] in plot for p in summary["premises"])  # a titled panel per premises
    assert dom.count("<svg") >= 1 and "working day" in dom


def test_replay_report_says_so_when_an_expectation_fails(tmp_path: Path) -> None:
    scenario = Path(__file__).parents[1] / "scenarios" / "replay" / "reactive-wan.yaml"
    text = scenario.read_text()
    assert "joins: 3" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("joins: 3", "joins: 4"))
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["replay", str(broken), "--out", str(out)])
    assert run.exit_code == 1
    dom, console = open_page(out / "report.html")
    assert console == []
    assert "1 of" in dom and "expectations failed" in dom and "NOT met" in dom


@pytest.fixture(scope="module")
def backlog_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("backlog") / "out"
    run = CliRunner().invoke(main, ["backlog", "--policy", "none", "--policy", "email-10wd", "--sites", "600",
                                    "--years", "1.5", "--replications", "3", "--workers", "1", "--quiet",
                                    "--out", str(out), "--plot-format", "svg"])
    assert run.exit_code == 0, run.output
    return out


def test_backlog_report_renders_figures_results_and_every_parameter_with_its_source(backlog_run: Path) -> None:
    summary = json.loads((backlog_run / "summary.json").read_text())
    dom, console = open_page(backlog_run / "report.html")
    assert console == []
    assert dom.count("<svg") == 2 and "GB meters" in dom
    assert {"backlog.svg", "time_to_commission.svg"} <= {p.name for p in backlog_run.iterdir()}
    total = summary["policies"]["email-10wd"]["by_year"][-1]["backlog_end"]
    assert f"{total['mean']:,.0f} [{total['lo']:,.0f}, {total['hi']:,.0f}]" in dom  # as the terminal prints it
    assert "£" in dom  # replacement cost in pounds
    keys = _dotted(summary["params"])
    assert len(keys) > 15
    for key in keys:
        assert f"<code>{key}</code>" in dom
    assert "<code>policy.sla_wd</code>" in dom
    assert UNRECORDED not in dom  # every parameter has its source
    assert _links_resolve(dom, backlog_run) == []


def test_every_recorded_source_belongs_to_a_parameter() -> None:
    from sim.policies import POLICIES
    from sim.population.html_report import sources
    from sim.population.params import PopulationParams, as_dict

    known = set(_dotted(as_dict(PopulationParams()))) | {
        f"policy.{k}" for cls, _ in POLICIES.values() for k in cls().params()}
    assert set(sources()) - known == set()  # no stale entry
    assert {k for k in known if k not in sources()} == set()  # and none missing


def test_backlog_report_shows_figures_the_summary_gains(backlog_run: Path) -> None:
    """Data-driven: a new figure in the summary (e.g. per calendar year) needs no change to the page."""
    summary = json.loads((backlog_run / "summary.json").read_text())
    for result in summary["policies"].values():
        result["by_year"] = [{"year": 2025, "replacement_cost_gbp": {"mean": 1.5e6, "lo": 1.2e6, "hi": 1.8e6}}]
    page = render(summary, {}, "png")
    assert "by year / 0 / replacement cost gbp" in page and "£1.5m [£1.2m, £1.8m]" in page


def _dotted(tree: dict, prefix: str = "") -> list[str]:
    return [k for key, value in tree.items()
            for k in (_dotted(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"])]
