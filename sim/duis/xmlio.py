"""Reading and writing DUIS XML: namespaces, line numbers for errors, stable bytes.

ElementTree drops line numbers, and users need them ("line 14: JoinTimePeriod 9000 is
more than 3600"), so :func:`parse` builds the tree through expat and remembers the line
each element started on. Writing is deterministic: same object, same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.parsers import expat

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
DS = "http://www.w3.org/2000/09/xmldsig#"
SCHEMA_VERSION = "5.4"

ET.register_namespace("sr", SR)
ET.register_namespace("ds", DS)


def sr(local: str) -> str:
    """The Clark name of a DUIS element."""
    return f"{{{SR}}}{local}"


class NotWellFormed(ValueError):
    """Bytes that are not XML at all, with the line where expat gave up."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: not well-formed XML: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class Document:
    """A parsed XML document and the line each element starts on."""

    root: ET.Element
    lines: dict[int, int]

    def line_of(self, elem: ET.Element | None) -> int | None:
        return None if elem is None else self.lines.get(id(elem))


def parse(data: bytes) -> Document:
    """Parse XML bytes, keeping each element's start line (by element identity)."""
    builder = ET.TreeBuilder()
    lines: dict[int, int] = {}
    parser = expat.ParserCreate(namespace_separator="}")

    def clark(name: str) -> str:
        return "{" + name if "}" in name else name

    def start(name: str, attrs: dict[str, str]) -> None:
        elem = builder.start(clark(name), {clark(k): v for k, v in attrs.items()})
        lines[id(elem)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(clark(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        raise NotWellFormed(err.lineno, expat.ErrorString(err.code)) from None
    except LookupError as err:  # the XML declaration names an encoding Python lacks
        raise NotWellFormed(1, str(err)) from None
    root = builder.close()
    return Document(root, lines)


def text(parent: ET.Element, path: str) -> str | None:
    """Stripped text of the DUIS element at ``path`` (``A/B``) under ``parent``, if present."""
    elem = parent.find("/".join(sr(p) for p in path.split("/")))
    return None if elem is None else (elem.text or "").strip()


def sub(parent: ET.Element, local: str, value: str | None = None) -> ET.Element:
    """Append a DUIS child element, with text when given."""
    elem = ET.SubElement(parent, sr(local))
    if value is not None:
        elem.text = value
    return elem


def to_bytes(root: ET.Element) -> bytes:
    """Serialise deterministically: declaration, two-space indent, UTF-8."""
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"
