"""Read a YAML data file (catalogue, scenario) with one clear error naming the file."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_yaml(path: Path, what: str, error: type[Exception]) -> object:
    """The file's data, or ``error("<path>: cannot read the <what> (<why>)")``."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise error(f"{path}: cannot read the {what} ({err})") from None
