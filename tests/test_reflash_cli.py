"""``hansim reflash``: outputs, determinism, and clear errors with nothing half-written."""

import csv

from click.testing import CliRunner

from sim.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["reflash", *args])


def test_writes_csv_and_png_byte_identical_for_the_same_seed(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        result = run("--days", "40", "-o", str(out))
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in a.iterdir())
    assert names == ["costs.csv", "costs.png", "firmware_mix.csv", "firmware_mix.png",
                     "stock.csv", "stock_age.png"]
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in names:
        if name.endswith(".png"):
            assert (a / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    costs = list(csv.DictReader((a / "costs.csv").open()))
    assert [r["strategy"] for r in costs] == ["hold", "reflash", "reflash", "reflash", "reflash",
                                              "ota", "writeoff"]
    stock = list(csv.DictReader((a / "stock.csv").open()))
    assert len(stock) == 4 * 40


def test_seed_changes_the_run(tmp_path) -> None:
    run("--days", "60", "--strategy", "hold", "-o", str(tmp_path / "a"))
    run("--days", "60", "--strategy", "hold", "--seed", "7", "-o", str(tmp_path / "b"))
    assert (tmp_path / "a/stock.csv").read_bytes() != (tmp_path / "b/stock.csv").read_bytes()


def test_bad_scenario_is_one_clear_line_and_writes_nothing(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: 2022-01-03\ndays: 10\n")
    out = tmp_path / "out"
    result = run("--scenario", str(bad), "-o", str(out))
    assert result.exit_code == 1
    assert str(bad) in result.output and "missing field" in result.output
    assert "Traceback" not in result.output and not out.exists()
    result = run("--scenario", str(tmp_path / "nope.yaml"), "-o", str(out))
    assert result.exit_code == 1 and "cannot read" in result.output and not out.exists()


def test_output_path_that_is_a_file_is_refused(tmp_path) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    result = run("--days", "5", "-o", str(target))
    assert result.exit_code == 1 and "is a file" in result.output
    assert target.read_text() == "keep me"
