"""The HTML reports open in a real browser (headless Chromium) without a console message,
show what they promise, and link only to files that exist beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser_support import open_page
from duis_support import schema_path
from sim.cli import main

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
    assert len(pcaps) == 2 and all(f'href="{p}"' in dom for p in pcaps)
    assert "not joined" in dom and ">joined<" in dom
    assert "checked against DUIS Schema V5.4.xsd" in dom and "all valid" in dom
    assert _links_resolve(dom, out) == []


def test_replay_report_says_so_when_an_expectation_fails(tmp_path: Path) -> None:
    scenario = Path(__file__).parents[1] / "scenarios" / "reactive-wan.yaml"
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
