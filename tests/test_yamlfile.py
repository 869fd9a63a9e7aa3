"""Input-file errors point at file, line and field path."""

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
