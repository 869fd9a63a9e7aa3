"""``hansim dcc serve``: DCC Boxed's DUIS interface, checked by SmartDCC's own clients.

The main check is ``tests/js/dccboxed/story.test.js``: SmartDCC's npm libraries (duis-parser,
duis-sign-wrap with DCC Boxed's signing jar) drive a real ``hansim dcc serve`` process
through a commissioning story, a change of supplier and three refusals. The in-process
tests here cover bad input on the HTTP side and the role matrix against duis-parser's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sim.dcc.delivery import Deliveries, RetryPolicy
from sim.dcc.frontdoor import SRV_RULES, Dcc
from sim.dcc.keystore import load_keystore
from sim.dcc.serve import Clock, DccService, app_runner
from sim.dcc.site_file import default_premises
from sim.duis import schema as duis_schema
from sim.duis.signature import SigningKey, sign
from duis_support import schema_path, template, templates, xsd
from gbcs_support import rtds_keystore

JS = Path(__file__).parent / "js" / "dccboxed"
NPM_KEYSTORE = JS / "node_modules" / "@smartdcc" / "dccboxed-keystore" / "keystore.json"
SUPPLIER = "90-B3-D5-1F-30-01-00-00"
OTHER_USER = "00-DB-12-34-56-78-00-04"
ROLE_CODES = {"IS": "ImportSupplier", "ES": "ExportSupplier", "GS": "GasSupplier",
              "ED": "ElectricityDistributor", "GT": "GasTransporter",
              "RSA": "RegisteredSupplierAgent", "OU": "OtherUser"}


def _npm_tools() -> None:
    if shutil.which("node") is None or not NPM_KEYSTORE.exists():
        pytest.skip("SmartDCC's npm tools are not installed: run .ci/install")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the independent check: SmartDCC's clients against a real server ------------------------
def test_smartdcc_clients_drive_a_whole_story() -> None:
    _npm_tools()
    if shutil.which("java") is None:
        pytest.skip("duis-sign-wrap runs DCC Boxed's signing jar: needs java")
    receiver = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "dcc", "serve", "--port", "0", "--clock", "scenario",
         "--site", str(JS / "site.yaml"), "--schema", str(schema_path()),
         "--receiver", f"http://127.0.0.1:{receiver}/"],
        stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        found = re.search(r"listening on (http://[\d.]+:\d+)/", line)
        assert found, line
        env = {**os.environ, "HANSIM_URL": found.group(1), "RECEIVER_PORT": str(receiver),
               "TEMPLATES": str(templates()), "GBCS_KEYS": str(rtds_keystore()),
               # DCC Boxed's jar starts once per signature: start it fast.
               "JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
        run = subprocess.run(["node", "--test", "--test-reporter=spec", "story.test.js"],
                             cwd=JS, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]
    assert "Traceback" not in log, log


def test_role_matrix_is_duis_parsers() -> None:
    """Every SRV hansim models takes exactly the roles of duis-parser's DUIS request matrix."""
    _npm_tools()
    script = ("const {lookupSRV}=require('@smartdcc/duis-parser');"
              "const srvs=JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify(Object.fromEntries(srvs.map("
              "s=>[s, lookupSRV(s)['Eligible User Roles']]))))")
    run = subprocess.run(["node", "-e", script, json.dumps(sorted(SRV_RULES))], cwd=JS,
                         capture_output=True, text=True, check=True)
    reference = {srv: sorted(ROLE_CODES[c] for c in codes)
                 for srv, codes in json.loads(run.stdout).items()}
    assert {srv: sorted(rule["roles"]) for srv, rule in SRV_RULES.items()} == reference


# -- in-process: HTTP bad input --------------------------------------------------------------
def _user_key(user: str) -> SigningKey:
    """A ZAZ1 user's XML-signing key, from SmartDCC's keystore package (not hansim's file)."""
    entries = json.loads(NPM_KEYSTORE.read_text())[user.replace("-", "").lower()]
    for entry in entries["digitalSignature"].values():
        if entry["name"].startswith("xml-sign-"):
            return SigningKey(serialization.load_pem_private_key(entry["privateKey"].encode(), None),
                              x509.load_pem_x509_certificate(entry["certificate"].encode()))
    raise LookupError(user)


def _request(prefix: str, counter: int, user: str = SUPPLIER) -> bytes:
    data = template(prefix)
    data = re.sub(rb"(<sr:RequestID>)[^:<]+:([^:<]+):\d+",
                  lambda m: m.group(1) + user.encode() + b":" + m.group(2) + b":" + str(counter).encode(),
                  data)
    return sign(data, _user_key(user))


def _service(receivers: dict[str, str] | None = None, **kwargs) -> DccService:
    policy = kwargs.pop("policy", RetryPolicy(attempts=3, first_pause_s=0.05))
    return DccService(Dcc(default_premises(), xsd()), load_keystore(), receivers or {},
                      Deliveries(policy), Clock("scenario"), **kwargs)


def _run(service: DccService, scenario) -> None:
    async def main() -> None:
        async with TestClient(TestServer(service.app(max_body=64 * 1024))) as client:
            await scenario(client)
    asyncio.run(main())


def _post(client: TestClient, data: bytes, endpoint: str = "serviceD", **kwargs):
    return client.post(f"/api/v1/{endpoint}", data=data,
                       headers={"Content-Type": "application/xml"}, **kwargs)


def test_bad_input_gets_one_clear_http_answer_and_the_server_keeps_serving() -> None:
    _npm_tools()
    good = _request("12.1_", 1)
    doctype = good.replace(b"?>", b"?><!DOCTYPE x [<!ENTITY e 'boom'>]>", 1)
    unsigned = re.sub(rb"<ds:Signature.*</ds:Signature>", b"", template("12.1_"), flags=re.S)
    wrong_signer = _request("12.1_", 5, OTHER_USER).replace(
        OTHER_USER.encode(), SUPPLIER.encode())  # signed by one user, sent as another
    cases = [
        (b"hello", 400, "not well-formed XML"),
        (b"<a>not DUIS</a>", 400, "is not a DUIS sr:Request"),
        (doctype, 400, "DOCTYPE is not allowed"),
        (unsigned, 401, "no ds:Signature"),
        (_request("12.1_", 2, OTHER_USER), 200, "I0"),  # the other user's own, genuine
        (wrong_signer, 401, "not one of the sender's"),
        (b"<x>" + b" " * 70_000 + b"</x>", 413, ""),
        (good, 200, "I0"),
        (good, 409, "not above"),
        (_request("CCS01_", 3), 200, "E13"),  # a device request on serviceD
    ]

    async def scenario(client: TestClient) -> None:
        for data, status, text in cases:
            async with _post(client, data) as reply:
                body = await reply.text()
                assert (reply.status, text in body) == (status, True), (status, text, body[:300])
        async with client.post("/api/v1/serviceD", data=good,
                               headers={"Content-Type": "text/plain"}) as reply:
            assert reply.status == 415
        async with _post(client, _request("12.1_", 9)) as reply:
            assert reply.status == 200 and "<sr:ResponseCode>I0<" in await reply.text()

    _run(_service(), scenario)


def test_unmodelled_srv_is_501_not_a_duis_code() -> None:
    _npm_tools()
    data = sign(f"""<?xml version="1.0" encoding="UTF-8"?>
<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4">
<sr:Header><sr:RequestID>{SUPPLIER}:00-DB-12-34-56-78-90-A0:1</sr:RequestID>
<sr:CommandVariant>1</sr:CommandVariant><sr:ServiceReference>4.1</sr:ServiceReference>
<sr:ServiceReferenceVariant>4.1.1</sr:ServiceReferenceVariant></sr:Header>
<sr:Body><sr:ReadInstantaneousImportRegisters/></sr:Body></sr:Request>""".encode(),
                _user_key(SUPPLIER))

    async def scenario(client: TestClient) -> None:
        async with _post(client, data, "serviceS") as reply:
            assert reply.status == 501, await reply.text()
            assert "hansim does not model ReadInstantaneousImportRegisters" in await reply.text()

    _run(_service(), scenario)


def test_clock_refuses_a_step_it_could_not_date_and_keeps_its_time() -> None:
    """?advance=nan (or inf, or past 9999) was HTTP 500 with a traceback, and left the
    clock NaN, so every later request failed too (found by the http-head fuzz target)."""

    async def scenario(client: TestClient) -> None:
        async with client.post("/hansim/clock?advance=0") as reply:
            start = (await reply.text()).splitlines()[0]
        for value in ("nan", "inf", "-nan", "1e12", "1e300", "1e309"):
            async with client.post(f"/hansim/clock?advance={value}") as reply:
                body = await reply.text()
                assert (reply.status, "before the year 10000" in body) == (400, True), (value, body)
        async with client.post("/hansim/clock?advance=60") as reply:
            moved = (await reply.text()).splitlines()[0]
        step = dt.datetime.fromisoformat(moved) - dt.datetime.fromisoformat(start)
        assert (reply.status, step) == (200, dt.timedelta(seconds=60))

    _run(_service(), scenario)


def test_slow_client_times_out_and_others_are_served() -> None:
    _npm_tools()

    async def scenario(client: TestClient) -> None:
        async def trickle():
            yield b"<sr:Request"
            await asyncio.sleep(2)
            yield b"/>"
        slow = asyncio.ensure_future(_post(client, trickle())._coro)
        await asyncio.sleep(0.1)
        async with _post(client, _request("12.1_", 1)) as reply:
            assert reply.status == 200
        reply = await slow
        assert reply.status == 408
        reply.release()

    _run(_service(read_timeout_s=0.5), scenario)


def test_bounded_flood_on_loopback_loses_no_request() -> None:
    _npm_tools()
    requests = [_request("12.1_", n) for n in range(1, 61)]

    async def scenario(client: TestClient) -> None:
        async def one(data: bytes) -> int:
            async with _post(client, data) as reply:
                await reply.read()
                return reply.status
        statuses = await asyncio.gather(*(one(d) for d in requests))
        # Arrival order decides which counters are "not above" an earlier one; every
        # request gets an answer, and every accepted one an I0.
        assert len(statuses) == 60 and set(statuses) <= {200, 409} and statuses.count(200) >= 1
        async with _post(client, _request("12.1_", 1000)) as reply:
            assert reply.status == 200

    _run(_service(), scenario)


def test_receiver_down_then_up_gets_every_message(caplog: pytest.LogCaptureFixture) -> None:
    _npm_tools()
    got: list[bytes] = []
    port = _free_port()

    async def receive(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response()

    service = _service({"*": f"http://127.0.0.1:{port}/"},
                       policy=RetryPolicy(attempts=20, first_pause_s=0.1, growth=1.2))

    async def scenario(client: TestClient) -> None:
        for data in (_request("12.2_", 1), _request("8.14.1_", 2)):
            async with _post(client, data) as reply:
                assert reply.status == 200
        async with _post(client, _request("CCS01_", 3), "serviceS") as reply:
            assert "<sr:ResponseCode>I99<" in await reply.text()
        await asyncio.sleep(0.3)  # the receiver is down: retries are running
        receiver = web.AppRunner(web.Application())
        receiver.app.router.add_post("/", receive)
        await receiver.setup()
        await web.TCPSite(receiver, "127.0.0.1", port).start()
        await service.deliveries.drain()
        await receiver.cleanup()
        assert service.deliveries.delivered == len(got) >= 3
        assert service.deliveries.dropped == 0

    with caplog.at_level(logging.INFO, "hansim.dcc.delivery"):
        _run(service, scenario)
    assert "retrying" in caplog.text
    for document in got:
        assert b"<ds:SignatureValue>" in document


def test_receiver_that_stays_down_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    _npm_tools()
    service = _service({SUPPLIER: f"http://127.0.0.1:{_free_port()}/"},
                       policy=RetryPolicy(attempts=2, first_pause_s=0.05))

    async def scenario(client: TestClient) -> None:
        for data in (_request("12.2_", 1), _request("8.14.1_", 2)):
            async with _post(client, data) as reply:
                assert reply.status == 200
        async with _post(client, _request("CCS01_", 3), "serviceS") as reply:
            assert reply.status == 200
        await service.deliveries.drain()

    with caplog.at_level(logging.INFO, "hansim.dcc.delivery"):
        _run(service, scenario)
    dropped = [r for r in caplog.records if "dropped after 2 attempts" in r.getMessage()]
    assert len(dropped) == service.deliveries.dropped >= 3


def test_serve_writes_the_gbcs_certificates_duis_run_writes(tmp_path: Path) -> None:
    """``--gbcs-certificates``: the key store a verifier needs (gbcs-parser's layout), the same
    certificates ``duis run`` writes beside its files (which gbcs-parser verifies with)."""
    server = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "dcc", "serve", "--port", "0",
         "--clock", "scenario", "--schema", str(schema_path()),
         "--gbcs-certificates", str(tmp_path / "serve")],
        stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on" in server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=10)
    run = subprocess.run([sys.executable, "-c", "from sim.cli import main; main()", "duis", "run",
                          str(next(templates().glob("12.2_*"))), "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    served = {p.name: p.read_bytes() for p in (tmp_path / "serve" / "keystore").iterdir()}
    written = {p.name: p.read_bytes() for p in (tmp_path / "run" / "keystore").iterdir()}
    assert served and served == written
    # certificates, and the derived test-PKI KA key of a user the RTDS key store lacks
    # (docs/reference/gbcs.md): never a Digital Signing private key
    assert all(name.endswith(("-ds.pem", "-ka.pem", "-ka.key")) for name in served)


def test_garbled_signature_and_vanishing_client_leave_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """Two the HTTP fuzz target found: a SignatureValue that is not base64 (signxml's schema
    check) was HTTP 500 with a traceback, and so was a client gone mid-body."""
    _npm_tools()
    garbled = re.sub(rb"(<ds:SignatureValue>.{5}).", rb"\1`", _request("12.1_", 1), flags=re.S)
    # found by the fuzz target too: a relative namespace URI in a signed request (C14NError)
    relative = re.sub(rb"<sr:Request ", b'<sr:Request xmlns:x="htance" ', _request("12.1_", 3), count=1)

    async def scenario(client: TestClient) -> None:
        async with _post(client, garbled) as reply:
            assert reply.status == 401 and "signature check failed" in await reply.text()
        async with _post(client, relative) as reply:
            assert reply.status == 401 and "canonicalised" in await reply.text()
        _, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
        writer.write(b"POST /api/v1/serviceD HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
                     b"Content-Length: 5000\r\n\r\n<sr:Request")
        await writer.drain()
        writer.close()
        await asyncio.sleep(0.2)
        async with _post(client, _request("12.1_", 2)) as reply:
            assert reply.status == 200

    with caplog.at_level(logging.WARNING):
        _run(_service(), scenario)
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]
    assert "client went away before sending the whole body" in caplog.text


def test_requests_that_are_not_http_get_400_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    """Found by the http-head fuzz target: aiohttp logged a head it cannot parse (an
    over-long line, a bad Content-Length) with a traceback, and a DUIS body that is not in
    its Content-Encoding was HTTP 500 with a traceback."""
    _npm_tools()
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nConnection: close\r\n"
    signed = _request("12.1_", 1)
    cases = [
        (head % b"/api/v1/serviceD" + b"Content-Length: abc\r\n\r\n", 400),
        (head % (b"/" + b"a" * 9000) + b"Content-Length: 0\r\n\r\n", 400),
        (head % b"/api/v1/serviceD" + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(signed)
         + signed, 400),
        (head % b"/hansim/clock?advance=1" + b"Content-Encoding: deflate\r\nContent-Length: 5\r\n\r\nhello", 200),
    ]

    async def main() -> list[int]:
        runner = app_runner(_service().app(max_body=64 * 1024))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        statuses = []
        try:
            for raw, _ in cases:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(raw)
                statuses.append(int((await reader.readline()).split()[1]))
                await reader.read()
                writer.close()
            async with ClientSession() as session, session.post(
                    f"http://127.0.0.1:{port}/api/v1/serviceD", data=_request("12.1_", 2),
                    headers={"Content-Type": "application/xml"}) as reply:
                statuses.append(reply.status)
                assert "<sr:ResponseCode>I0<" in await reply.text()
        finally:
            await runner.cleanup()
        return statuses

    with caplog.at_level(logging.WARNING):
        statuses = asyncio.run(main())
    assert statuses == [status for _, status in cases] + [200]
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info], caplog.text
    assert caplog.text.count("is not valid HTTP") >= 4, caplog.text


def test_wrong_url_with_a_service_reference_duis_would_refuse_is_400() -> None:
    """A signed request at the wrong URL was answered E13 echoing its ServiceReference
    as sent, so a bad one made the signed answer invalid DUIS (found by the duis-http
    fuzz target at 3,000 inputs); with nothing valid to echo, it is not DUIS: 400."""
    _npm_tools()
    bad = sign(template("12.1_").replace(b"<sr:ServiceReference>12.1<", b"<sr:ServiceReference>99.9<"),
               _user_key(SUPPLIER))

    async def scenario(client: TestClient) -> None:
        async with _post(client, bad, "serviceS") as reply:
            assert (reply.status, "no valid ServiceReference" in await reply.text()) == (400, True)
        async with _post(client, _request("12.1_", 1001), "serviceS") as reply:  # still E13 when it can be
            body = await reply.text()
            assert reply.status == 200 and "<sr:ResponseCode>E13<" in body
            assert duis_schema.check_bytes(xsd(), body.encode()) == []
        async with _post(client, _request("12.1_", 1002)) as reply:
            assert reply.status == 200 and "<sr:ResponseCode>I0<" in await reply.text()

    _run(_service(), scenario)
