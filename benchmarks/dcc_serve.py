"""What HTTP and XML signatures cost on top of the DCC model: ``hansim dcc serve`` on loopback.

Signs N Read Inventory (8.2) requests as the ZAZ1 supplier, then POSTs them to an
in-process server (verify the request's signature, XSD, model, sign the answer) from
8 concurrent clients on 127.0.0.1 only, and prints requests per second over HTTP, the
same requests straight into the model, and their ratio. Run from the project root:

    PYTHONPATH=$PWD python3 benchmarks/dcc_serve.py [REQUESTS]

Needs ../shared/duis (or $HANSIM_DUIS_XSD) and the npm keystore under tests/js/dccboxed
(``bash .ci/install``), whose private key signs the requests.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sim.dcc.delivery import Deliveries
from sim.dcc.frontdoor import Dcc
from sim.dcc.keystore import load_keystore
from sim.dcc.serve import Clock, DccService
from sim.dcc.site_file import default_premises
from sim.duis import schema as duis_schema
from sim.duis.signature import SigningKey, sign, verify

ROOT = Path(__file__).resolve().parents[1]
NPM_KEYSTORE = ROOT / "tests/js/dccboxed/node_modules/@smartdcc/dccboxed-keystore/keystore.json"
SUPPLIER = "90-B3-D5-1F-30-01-00-00"


def supplier_key() -> SigningKey:
    entry = json.loads(NPM_KEYSTORE.read_text())["90b3d51f30010000"]["digitalSignature"][
        "27572613927499351639968579586655397031"]
    return SigningKey(serialization.load_pem_private_key(entry["privateKey"].encode(), None),
                      x509.load_pem_x509_certificate(entry["certificate"].encode()))


async def over_http(schema, requests: list[bytes]) -> float:
    service = DccService(Dcc(default_premises(), schema), load_keystore(), {}, Deliveries(),
                         Clock("scenario"))
    async with TestClient(TestServer(service.app())) as client:
        queue = list(requests)

        async def worker() -> None:
            while queue:
                data = queue.pop(0)
                async with client.post("/api/v1/serviceD", data=data,
                                       headers={"Content-Type": "application/xml"}) as reply:
                    assert reply.status == 200, await reply.text()
                    await reply.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(8)))
        return time.perf_counter() - started


def main(count: int) -> None:
    schema = duis_schema.load(duis_schema.locate())
    template = next((duis_schema.locate().parent / "templates").glob("8.2_*")).read_bytes()
    key = supplier_key()
    requests = [sign(re.sub(rb":1000<", f":{n}<".encode(), template), key)
                for n in range(1, count + 1)]
    http_s = asyncio.run(over_http(schema, requests))
    dcc = Dcc(default_premises(), schema)
    started = time.perf_counter()
    for data in requests:
        unsigned, _ = verify(data, [key.certificate])
        dcc.submit(unsigned)
    model_s = time.perf_counter() - started
    print(f"over HTTP (verify, XSD, model, sign): {count} requests in {http_s:.2f} s "
          f"= {count / http_s:.0f} requests/s")
    print(f"verify + model only, no HTTP, no answer signature: {count / model_s:.0f} requests/s")
    print(f"ratio HTTP/direct time: {http_s / model_s:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
