"""YAML input files (scenarios, sites, sweeps) that remember where every value came from.

Users write these files by hand, so an error must say *file, line and field path*: e.g.
``scenarios/x.yaml:14: sites[0].devices[2].install_code: CRC mismatch ...``. PyYAML's node
tree carries line marks; this module keeps them beside the plain Python values it builds,
and refuses duplicate keys, which PyYAML would otherwise silently overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class InputFileError(ValueError):
    """A problem in an input file, located by file, line and field path."""

    def __init__(self, file: str, line: int | None, path: Path_, message: str) -> None:
        self.file, self.line, self.path, self.message = file, line, path, message
        where = f"{file}:{line}" if line else file
        field_path = format_path(path)
        super().__init__(f"{where}: {field_path + ': ' if field_path else ''}{message}")


def format_path(path: Path_) -> str:
    """``("sites", 0, "devices")`` -> ``sites[0].devices``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class YamlDocument:
    """Plain values from a YAML file plus the line of each field path (1-based)."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def error(self, path: Path_, message: str) -> InputFileError:
        return InputFileError(self.file, self.line(path), path, message)


class _Builder(yaml.SafeLoader):
    """Builds plain values from the node tree, recording each node's line."""

    def build(self, node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in out:
                    raise InputFileError(
                        file, key_node.start_mark.line + 1, path + (key,), "duplicate key"
                    )
                out[key] = self.build(value_node, path + (key,), lines, file)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
        return self.construct_object(node, deep=True)


def load_yaml(source: str | Path, text: str | None = None) -> YamlDocument:
    """Read a YAML file (or ``text`` named ``source``) into a :class:`YamlDocument`."""
    file = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as err:
            raise InputFileError(file, None, (), f"cannot read: {err.strerror}") from None
        except UnicodeDecodeError:
            raise InputFileError(file, None, (), "not UTF-8 text") from None
    loader = _Builder(text)
    try:
        root = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = None if root is None else loader.build(root, (), lines, file)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise InputFileError(file, line, (), f"not valid YAML: {err.problem}") from None
    finally:
        loader.dispose()
    return YamlDocument(file, data, lines)
