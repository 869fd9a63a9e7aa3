"""YAML input files (scenarios, sites, sweeps) that remember where every value came from.

Users write these files by hand, so an error must say *file, line and field path*: e.g.
``scenarios/x.yaml:14: sites[0].devices[2].install_code: CRC mismatch ...``. PyYAML's node
tree carries line marks; this module keeps them beside the plain Python values it builds,
and refuses duplicate keys, which PyYAML would otherwise silently overwrite.

The files also arrive from e-mail and shared drives, so the loader refuses, by file,
line and reason and before building anything, what would crash or hang PyYAML or the
code behind it: control characters, nesting deeper than :data:`MAX_DEPTH`, aliases that
refer to themselves or expand to more than :data:`MAX_NODES` values (billion laughs),
keys that are lists or mappings, and files larger than :data:`MAX_BYTES`. The checks walk
PyYAML's event stream, which is iterative: no recursion limit is reached on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024  # a hand-written scenario is a few kB
MAX_DEPTH = 64  # nested lists/mappings; real files use fewer than 8
MAX_NODES = 200_000  # values after expanding every alias
# libyaml's event parser: PyYAML's own scans nested flow brackets ahead in quadratic time
_EVENTS = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


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

    _last_line: int | None = None  # the node being built, for errors PyYAML does not mark

    def build(self, node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
        lines[path] = self._last_line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise InputFileError(file, key_node.start_mark.line + 1, path,
                                         "a key must be a plain value, not a list or mapping")
                self._last_line = key_node.start_mark.line + 1
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
    _check_text(file, text)
    loader = _Builder(text)
    try:
        _check_structure(file, text)
        root = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = None if root is None else loader.build(root, (), lines, file)
    except InputFileError:
        raise
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problem = (f"nested more than {MAX_DEPTH} levels deep" if "nesting depth" in str(err.problem)
                   else f"not valid YAML: {err.problem}")
        raise InputFileError(file, line, (), problem) from None
    except yaml.YAMLError as err:  # unmarked: PyYAML's reader
        raise InputFileError(file, None, (), f"not valid YAML: {err}") from None
    except ValueError as err:  # a scalar PyYAML resolves but cannot build (2024-02-30, 10**5000)
        reason = "a number too long" if "digits" in str(err) else str(err)
        raise InputFileError(file, loader._last_line, (), f"bad value: {reason}") from None
    finally:
        loader.dispose()
    return YamlDocument(file, data, lines)


def _check_text(file: str, text: str) -> None:
    """Refuse a file too large to be hand-written, or holding control characters."""
    if len(text) > MAX_BYTES:
        raise InputFileError(file, None, (), f"file too large ({len(text):,} characters; "
                             f"at most {MAX_BYTES:,})")
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise InputFileError(file, line, (), f"control character U+{ord(bad.group()):04X} "
                             "(allowed: tab, line breaks and printable text)")


def _check_structure(file: str, text: str) -> None:
    """Walk the events: refuse deep nesting, recursive aliases and alias bombs up front."""
    nodes = 0
    open_: list[tuple[str | None, int]] = []  # (anchor, nodes before it) per open collection
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    for event in yaml.parse(text, Loader=_EVENTS):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in (anchor for anchor, _ in open_):
                raise InputFileError(file, line, (), f"alias *{event.anchor} refers to a node "
                                     "that contains it (recursive alias)")
            if event.anchor not in sizes:
                raise InputFileError(file, line, (), f"alias *{event.anchor} has no anchor before it")
            nodes += sizes[event.anchor]
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            nodes += 1
            open_.append((event.anchor, nodes))
            if len(open_) > MAX_DEPTH:
                raise InputFileError(file, line, (), f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, before = open_.pop()
            if anchor is not None:
                sizes[anchor] = nodes - before + 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        if nodes > MAX_NODES:
            raise InputFileError(file, line, (), f"aliases expand to more than {MAX_NODES:,} "
                                 "values (an alias bomb?)")
