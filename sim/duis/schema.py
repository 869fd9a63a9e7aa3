"""The DUIS V5.4 XSD: where to find it, loading it once, and saying why a document fails.

Location, in order: an explicit path (the CLI's ``--schema``), env ``HANSIM_DUIS_XSD``,
``<project>/../shared/duis``. When none exists validation is off, and :func:`locate`
says so in one sentence. Loading takes about a second, so each
path is loaded once per process.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from han.redact import redact
from sim.duis.xmlio import Document, NotWellFormed, parse

if TYPE_CHECKING:  # imported by load(): the command line reads ENV without waiting for it
    import xmlschema

XSD_NAME = "DUIS Schema V5.4.xsd"
ENV = "HANSIM_DUIS_XSD"
PROJECT = Path(__file__).resolve().parents[2]
#: Elements whose values are secrets: never repeated in an error message.
SECRET_ELEMENTS = frozenset({"InstallCode"})
SEARCHED = (PROJECT.parent / "shared" / "duis",)


class SchemaNotFound(LookupError):
    """No DUIS XSD where we looked: validation is off."""


def locate(explicit: str | os.PathLike | None = None) -> Path:
    """The XSD file to use (a folder means the V5.4 XSD inside it)."""
    given = explicit or os.environ.get(ENV)
    candidates = [Path(given)] if given else list(SEARCHED)
    for place in candidates:
        path = place / XSD_NAME if place.is_dir() else place
        if path.is_file():
            return path
    where = f"{given}" if given else " or ".join(str(p) for p in SEARCHED)
    raise SchemaNotFound(
        f"DUIS schema not found at {where}: validation is off "
        f"(give --schema or set {ENV} to the folder holding '{XSD_NAME}')"
    )


class SchemaUnusable(ValueError):
    """A file given as the DUIS XSD that is not one (not XML, not a schema, unreadable)."""


@functools.lru_cache(maxsize=4)
def load(path: Path) -> xmlschema.XMLSchema:
    """The schema at ``path`` (imports the MMC and xmldsig schemas beside it), cached."""
    import xmlschema

    try:
        return xmlschema.XMLSchema(str(path))
    except (xmlschema.XMLSchemaException, SyntaxError, OSError, ValueError) as err:
        reason = getattr(err, "message", None) or getattr(err, "strerror", None) or str(err)
        first = str(reason).strip().splitlines()[0] if str(reason).strip() else type(err).__name__
        raise SchemaUnusable(f"{path}: not a usable DUIS XSD: {first}") from None


@dataclass(frozen=True)
class Problem:
    """One reason a document is not valid DUIS, with the line it concerns."""

    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


#: Schema violations reported per document: enough to fix a file, and each one costs
#: xmlschema time that grows with the document, so a hostile file cannot take minutes.
MAX_PROBLEMS = 100
#: Attributes one element may carry before the document is refused without schema checks.
MAX_ATTRIBUTES = 32


def problems(schema: xmlschema.XMLSchema, doc: Document) -> list[Problem]:
    """The schema violations in ``doc`` (the first :data:`MAX_PROBLEMS`, then one line saying
    there may be more), each with the line of the offending element."""
    crowded = next((el for el in doc.root.iter() if len(el.attrib) > MAX_ATTRIBUTES), None)
    if crowded is not None:  # xmlschema's time grows with the square of an element's attributes
        name = re.sub(r"\{[^}]*\}", "", str(crowded.tag))
        return [Problem(doc.line_of(crowded), f"{name}: {len(crowded.attrib)} attributes; DUIS elements "
                                              f"carry a few, and more than {MAX_ATTRIBUTES} are refused unchecked")]
    found: list[Problem] = []
    secrets = [el.text for el in doc.root.iter() if isinstance(el.tag, str)
               and el.tag.rsplit("}", 1)[-1] in SECRET_ELEMENTS and el.text]
    for err in schema.iter_errors(doc.root):
        if len(found) == MAX_PROBLEMS:
            found.append(Problem(None, f"stopped after {MAX_PROBLEMS} problems; there may be more"))
            break
        where = re.sub(r"\{[^}]*\}", "", err.path or "")
        reason = _shorten(redact(str(err.reason), secrets))  # however xmlschema quotes the value
        reason = f"{where}: {reason}" if where else reason
        found.append(Problem(doc.line_of(err.elem), reason))
    return found


#: A value quoted in a reason is cut to this many characters (a firmware image is 100 kB of base64).
MAX_QUOTED = 60


def _shorten(reason: str) -> str:
    return re.sub(rf"""(['"])([^'"]{{{MAX_QUOTED + 1},}})\1""",
                  lambda m: f"{m[1]}{m[2][:MAX_QUOTED]}...{m[1]} ({len(m[2])} characters)", reason)


def check_bytes(schema: xmlschema.XMLSchema, data: bytes) -> list[Problem]:
    """Problems with raw bytes: not well-formed XML, or schema violations."""
    try:
        doc = parse(data)
    except NotWellFormed as err:
        return [Problem(err.line, f"not well-formed XML: {err.reason}")]
    return problems(schema, doc)
