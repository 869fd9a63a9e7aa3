"""Declarative mapping between a typed body's fields and its DUIS elements.

A body is a frozen dataclass whose fields carry ``xml(path, codec)`` metadata; fields
are declared in schema order, so writing them in declaration order gives the element
order the XSD's sequences demand. One generic reader and writer serve every body: a new
service request is a new dataclass, not new parsing code.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from han.installcode import InstallCode
from sim.duis.xmlio import sr


@dataclass(frozen=True)
class Codec:
    """How one field's value becomes element text and back."""

    read: Callable[[str], Any]
    write: Callable[[Any], str]


TEXT = Codec(str, str)
INT = Codec(int, str)
BOOL = Codec(lambda s: s.strip() in ("true", "1"), lambda v: "true" if v else "false")
INSTALL_CODE = Codec(InstallCode.from_duis, InstallCode.duis)
#: An element whose presence is the value (``<DeleteDevice/>``).
FLAG = Codec(lambda s: True, lambda v: "")
#: A field holding every element at its path, as a tuple of strings.
REPEATED = Codec(str, str)


def xml(path: str, codec: Codec = TEXT, default: Any = None) -> Any:
    """Declare a body field stored at DUIS element ``path`` (``A/B`` for nesting)."""
    if codec is REPEATED:
        return dataclasses.field(default=(), metadata={"xml": path, "codec": codec})
    return dataclasses.field(default=default, metadata={"xml": path, "codec": codec})


class Body:
    """A service request body: the one child of ``sr:Body``; subclasses are dataclasses."""

    TAG: ClassVar[str]

    @classmethod
    def from_element(cls, elem: ET.Element) -> Self:
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # every Body subclass is a dataclass
            path, codec = f.metadata["xml"], f.metadata["codec"]
            qpath = "/".join(sr(p) for p in path.split("/"))
            if codec is REPEATED:
                values[f.name] = tuple((e.text or "").strip() for e in elem.findall(qpath))
                continue
            found = elem.find(qpath)
            if found is not None:
                values[f.name] = codec.read((found.text or "").strip())
            elif f.default is None and "None" not in str(f.type):
                # The XSD requires it; this matters only when no schema checked the input.
                raise ValueError(f"{cls.TAG} has no {path}")
        return cls(**values)

    def to_element(self, parent: ET.Element) -> ET.Element:
        root = ET.SubElement(parent, sr(self.TAG))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # every Body subclass is a dataclass
            value = getattr(self, f.name)
            path, codec = f.metadata["xml"], f.metadata["codec"]
            if value is None or value is False and codec is FLAG:
                continue
            for item in value if codec is REPEATED else (value,):
                leaf = _make_path(root, path.split("/"))
                text = codec.write(item)
                if text:
                    leaf.text = text
        return root


def _make_path(root: ET.Element, parts: list[str]) -> ET.Element:
    """Find-or-append the containers of ``parts``; always append the leaf.

    A container is reused when it is the last child so far (the XSD's sequences put a
    container's children together), so repeated leaves share one container.
    """
    node = root
    for part in parts[:-1]:
        last = node[-1] if len(node) else None
        node = last if last is not None and last.tag == sr(part) else ET.SubElement(node, sr(part))
    return ET.SubElement(node, sr(parts[-1]))
