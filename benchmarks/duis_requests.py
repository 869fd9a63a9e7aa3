"""How fast the DCC model answers DUIS requests: the commissioning story, end to end.

Prints requests per second with and without XSD validation (parse, checks, SMI, HAN
join at key level, responses and alerts serialised). Run from the project root:

    PYTHONPATH=$PWD python3 benchmarks/duis_requests.py [STORIES]

The DUIS XSD and templates come from ../shared/duis (or $HANSIM_DUIS_XSD).
"""

from __future__ import annotations

import sys
import time

from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.duis import schema as duis_schema
from sim.duis.precommand import signed_request, supplier_test_key


def story(schema, templates) -> int:
    """One site's commissioning story; returns the number of requests submitted."""
    dcc = Dcc(default_premises(), schema)
    count = 0
    for prefix in ("12.2_", "8.14.1_", "CCS01_", "ECS70"):
        outcome = dcc.submit(templates[prefix])
        for _, document in outcome.documents:
            document.to_xml()
        count += 1
    signed = signed_request(outcome.request, outcome.pre_command,
                            supplier_test_key(outcome.request.request_id.originator))
    final = dcc.submit(signed.to_xml())
    assert dcc.smi.status("00-DB-12-34-56-78-90-A0") == "Commissioned", final.reason
    return count + 1


def main(stories: int) -> None:
    started = time.perf_counter()
    schema = duis_schema.load(duis_schema.locate())
    print(f"schema load: {time.perf_counter() - started:.2f} s (once per process)")
    folder = duis_schema.locate().parent / "templates"
    templates = {
        prefix: next(p for p in folder.iterdir() if p.name.startswith(prefix)).read_bytes()
        for prefix in ("12.2_", "8.14.1_", "CCS01_", "ECS70")
    }
    for label, used in (("with XSD validation", schema), ("without validation", None)):
        started = time.perf_counter()
        requests = sum(story(used, templates) for _ in range(stories))
        elapsed = time.perf_counter() - started
        print(f"{label}: {stories} stories, {requests} requests in {elapsed:.2f} s "
              f"= {requests / elapsed:.0f} requests/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
