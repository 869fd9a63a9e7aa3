"""Shared test helpers for GBCS: SmartDCC's gbcs-parser (built into tests/js/gbcs by its
build.sh), the RTDS 4.5.0 vectors and their key store, all from shared/gbcs beside the
project (or a worktree's /work/shared); tests that need them skip when absent.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PARSER_TOOL = PROJECT / "tests" / "js" / "gbcs"
ACB = "90b3d51f30000002"  # the DCC Boxed / RTDS Access Control Broker
CANDIDATES = (PROJECT.parent / "shared" / "gbcs", Path("/work/shared/gbcs"))


def shared_gbcs() -> Path:
    for place in CANDIDATES:
        if (place / "gbcs-parser" / "test" / "rtds").is_dir():
            return place
    pytest.skip("shared/gbcs (gbcs-parser + RTDS vectors) not found beside the project",
                allow_module_level=True)


def rtds_dir() -> Path:
    return shared_gbcs() / "gbcs-parser" / "test" / "rtds" / "RTDS-4.5.0"


def rtds_keystore() -> Path:
    return shared_gbcs() / "gbcs-parser" / "test" / "rtds" / "keystore"


def rtds(vector: str) -> bytes:
    """One RTDS vector's bytes (``<folder>/<file>.HEX``)."""
    return bytes.fromhex((rtds_dir() / vector).read_text().strip())


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (PARSER_TOOL / "dist" / "index.js").is_file():
        pytest.skip("gbcs-parser not built: run .ci/install (npm ci + tests/js/gbcs/build.sh)")
    return node


def run_parser(requests: list[dict], key_dirs: list[Path]) -> dict[str, dict]:
    """Feed requests ({"id", "hex"} to parse, or {"id", "hex", "sign": EUI} to sign with
    signGroupingHeader) to gbcs-parser; results by id."""
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run([_node(), str(PARSER_TOOL / "parse.js"), *map(str, key_dirs)],
                          input=lines, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert done.returncode == 0, done.stderr
    return {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}


def parse_all(payloads: dict[str, bytes], key_dirs: list[Path] | None = None,
              acb: str = ACB) -> dict[str, dict]:
    """gbcs-parser's reading of each payload (with the RTDS key store by default); commands
    are MACed by the DCC's Access Control Broker ``acb``."""
    dirs = key_dirs if key_dirs is not None else [rtds_keystore()]
    return run_parser([{"id": k, "hex": v.hex(), "acb": acb} for k, v in payloads.items()], dirs)


def structure(message: dict) -> list:
    """The item names of a parsed message as a tree: what a message 'looks like', without
    the values (counters, IDs, times, MACs and signatures differ between runs)."""
    return [(name, structure(item.get("children", {}))) for name, item in message.items()]


def layout(message: dict) -> tuple[str, str]:
    """What the grouping header carries besides IDs and counters, as gbcs-parser reads it:
    the Date Time field's length (GBCS: present in a response to a command that may be
    future-dated) and the Other Information length (message code, or + supplementary
    remote party ID and counter)."""
    header = message["Grouping Header"]["children"]
    return header["Date Time"]["hex"][:2], header["Other Information Length"]["hex"]


def checks(message: dict) -> list[tuple[str, str]]:
    """Every MAC and signature verdict the parser wrote: ("MAC", "valid"), ("Valid", "true")."""
    found = []
    for name, item in message.items():
        if name in ("MAC", "Valid") and item.get("type") == "ITEM":
            found.append((name, item.get("notes", "")))
        found.extend(checks(item.get("children", {})))
    return found


def all_valid(message: dict) -> bool:
    verdicts = checks(message)
    return all(v in (("MAC", "valid"), ("Valid", "true")) for v in verdicts)


def shape(message: dict, sections: tuple[str, ...] | None = None) -> list:
    """:func:`structure` with list positions dropped and repeats merged, so a device log of
    one entry has the shape of the RTDS vector's two; ``sections`` keeps only those."""
    def norm(items: dict) -> list:
        out: list = []
        for name, item in items.items():
            entry = (re.sub(r"^\[\d+\] ", "", name), norm(item.get("children", {})))
            if not out or out[-1] != entry:
                out.append(entry)
        return out
    chosen = {k: v for k, v in message.items() if sections is None or k in sections}
    return norm(chosen)


def fits(ours: list, reference: list) -> bool:
    """Shapes (:func:`shape`) alike, except that an empty array (a device log with nothing
    left in it) fits the vector's array of entries."""
    return len(ours) == len(reference) and all(
        name == ref_name and (fits(children, ref_children)
                              or (name.endswith("Array") and not children))
        for (name, children), (ref_name, ref_children) in zip(ours, reference))


def payloads_in(folder: Path) -> dict[str, bytes]:
    """Every GBCSPayload in the DUIS files of a run, keyed file#n."""
    found = {}
    for path in sorted(folder.glob("*.xml")):
        root = ET.parse(path).getroot()
        for n, elem in enumerate(e for e in root.iter() if e.tag.endswith("}GBCSPayload")):
            found[f"{path.name}#{n}"] = base64.b64decode(elem.text or "")
    return found


def message_code(message: dict) -> int:
    header = message["Grouping Header"]["children"]
    return int(header["Other Information Length"]["children"]["Message Code"]["hex"].replace(" ", ""), 16)
