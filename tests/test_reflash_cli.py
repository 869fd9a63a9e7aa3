"""``hansim reflash``: outputs and report, determinism, one clear line for bad input."""

import csv
import re

import pytest
import yaml
from browser_support import open_page
from click.testing import CliRunner
from reflash_support import study_data

from sim.cli import main
from sim.mp155.report import FILES


def run(*args: str):
    return CliRunner().invoke(main, ["reflash", *args])


def test_writes_every_output_byte_identical_for_the_same_seed(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        result = run("--days", "30", "--quiet", "-o", str(out))
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(FILES)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
        if name.endswith(".png"):
            assert (a / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    costs = list(csv.DictReader((a / "costs.csv").open()))
    assert {r["strategy"] for r in costs} == {"hold", "reflash", "ota", "writeoff"}
    assert {r["supplier"] for r in costs} == {"Large supplier", "Medium supplier", "Small supplier", "all suppliers"}
    assert len(list(csv.DictReader((a / "stock.csv").open()))) == 4 * 3 * 30
    demand = list(csv.DictReader((a / "demand.csv").open()))
    assert sorted({float(r["price_gbp_per_ch"]) for r in demand}) == [12, 18, 25, 30]
    assert "break-even re-flash price against hold" in result.output
    page = (a / "report.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)  # one file: every image is inline
    assert len(sources) == 6 and all(s.startswith("data:image/png;base64,") for s in sources)
    for heading in ("Break-even re-flash price per CH", "Demand at each price point", "CSP re-flash queues",
                    "Parameters and their sources", "Old-firmware installs"):
        assert heading in page
    assert "assumed" in page and "MP155 refinement consultation" in page
    # a real browser renders it: no console message, every plot decodes
    check = a / "check.html"
    check.write_text(page.replace("</body>", "<script>addEventListener('load', () => document.querySelectorAll('img')"
                                  ".forEach(i => { if (!i.naturalWidth) console.error('broken plot ' + i.alt); }));"
                                  "</script></body>"))
    dom, console = open_page(check)
    assert console == [] and dom.count("<img") == 6 and "Demand at each price point" in dom


@pytest.mark.parametrize(("changes", "args", "names"), [
    ({"suppliers": []}, (), "suppliers: no suppliers"),
    ({"csps__North__lines": -1}, (), "csps.North.lines"),
    ({"csps__South__failure_probability": 2}, (), "csps.South.failure_probability"),
    ({"reflash__price_points_gbp": [0, 12]}, (), "reflash.price_points_gbp[0]"),
    ({}, ("--price", "1000"), "reflash.price_points_gbp[0]"),
    ({}, ("--price", "-3"), "reflash.price_points_gbp[0]"),
    ({"days": float("inf")}, (), "days"),  # int(.inf) is an OverflowError (found by the yaml-reflash fuzz target)
])
def test_bad_input_is_one_line_naming_the_parameter_and_writes_nothing(tmp_path, changes, args, names) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(study_data(**changes)))
    out = tmp_path / "out"
    result = run("--scenario", str(bad), "-o", str(out), *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and names in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_missing_file_and_output_path_that_is_a_file(tmp_path) -> None:
    result = run("--scenario", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "cannot read" in result.output
    target = tmp_path / "file"
    target.write_text("keep me")
    result = run("--days", "5", "-o", str(target))
    assert result.exit_code == 1 and "is a file" in result.output
    assert target.read_text() == "keep me"
