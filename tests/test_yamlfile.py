"""Input-file errors point at file, line and field path."""

import time

import pytest

from sim.yamlfile import InputFileError, format_path, load_yaml

TEXT = """\
site:
  name: Acacia Avenue
  devices:
    - type: ESME
      id: 00-DB-12-34-56-78-90-A0
    - type: GSME
      id: 00-DB-12-34-56-78-90-A1
"""


def test_values_and_lines() -> None:
    doc = load_yaml("s.yaml", TEXT)
    assert doc.data["site"]["devices"][1]["type"] == "GSME"
    assert doc.line(("site", "devices", 1, "type")) == 6
    assert doc.line(("site", "devices", 1, "nonexistent")) == 6
    err = doc.error(("site", "devices", 1, "id"), "unknown device")
    assert str(err) == "s.yaml:7: site.devices[1].id: unknown device"


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(InputFileError, match=r"s.yaml:3: site.name: duplicate key"):
        load_yaml("s.yaml", "site:\n  name: a\n  name: b\n")


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(InputFileError, match=r"s.yaml:2: not valid YAML"):
        load_yaml("s.yaml", "a: [1, 2\nb: 3\n")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(InputFileError, match="cannot read"):
        load_yaml(tmp_path / "missing.yaml")


def test_format_path() -> None:
    assert format_path(("a", 0, "b", 2)) == "a[0].b[2]"
    assert format_path(()) == ""


BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10) if i else 'x'}]\n" for i in range(9)) + "extra: 1\n"


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("a: &x [1, *x]\n", 1, "recursive alias"),
    ("a: &x\n  b: *x\n", 2, "recursive alias"),
    ("[" * 10_000 + "]" * 10_000, 1, "nested more than 64 levels"),
    ("".join("  " * i + "k:\n" for i in range(200)), 65, "nested more than 64 levels"),
    ("? [1, 2]\n: 3\n", 1, "a key must be a plain value"),
    ("ok: 1\n{a: 1}: 2\n", 2, "a key must be a plain value"),
    ("a: 1\nb: x\x00y\n", 2, "control character U+0000"),
    ("a: \x1b[31mred\n", 1, "control character U+001B"),
    (BOMB, 6, "aliases expand to more than"),
    ("a: *nowhere\n", 1, "no anchor"),
    ("start: 2024-02-30\n", 1, "bad value"),
    ("n: " + "9" * 5000 + "\n", 1, "a number too long"),
])
def test_hostile_files_are_refused_fast_with_their_line(text: str, line: int, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InputFileError) as caught:
        load_yaml("h.yaml", text)
    assert time.perf_counter() - started < 0.5
    assert caught.value.line == line and reason in str(caught.value)
    assert str(caught.value).startswith(f"h.yaml:{line}: ")


def test_ordinary_aliases_and_merge_keys_still_work() -> None:
    doc = load_yaml("a.yaml", "base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: {<<: *b, z: 3}\n")
    assert doc.data["one"] == {"x": 1, "y": [1, 2]} and doc.data["two"] == {"x": 1, "y": [1, 2], "z": 3}
