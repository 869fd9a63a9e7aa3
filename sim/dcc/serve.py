"""DCC Boxed's DUIS interface over HTTP, around the same DCC model ``hansim duis run`` uses.

A user's adapter POSTs signed DUIS (``application/xml``) to

- ``/api/v1/serviceD``: non-device services (command variant 8);
- ``/api/v1/serviceS``: send a command to a device (variants 1, 2, 3, 5, 6, 7);
- ``/api/v1/serviceT``: transform a critical command into its pre-command (variant 4).

What happens to one request, in order:

1. HTTP: a body over the size limit is 413, one not read within the read timeout 408, a
   content type other than XML 415; a client that goes away mid-body is one log line.
2. Authentication, before any DUIS processing: a DOCTYPE, bytes that are not XML, or a
   root that is not ``sr:Request`` are 400; a missing signature, one by a certificate
   that is not the sender's (the RequestID's originator), or one that does not verify
   (the document was changed after signing) are 401. DUIS answers these at the HTTP
   layer, with no DUIS response, since the DCC cannot know who to answer (hansim's
   reading, L).
3. Anti-replay: the RequestID counter must be above every counter the user sent before
   (DUIS's rule for a user's counter); a duplicate or lower one is 409 Conflict. The one
   exception is the signed pre-command (variants 5-7), which DUIS sends back under the
   RequestID of its variant-4 request while that pre-command is outstanding.
4. The URL must suit the command variant, else DUIS's own ``E13``.
5. The DCC model (:class:`sim.dcc.frontdoor.Dcc`) answers. Its first document is the
   synchronous answer (I0, I99 or an E code), signed with the DSP key; the device's
   response and every alert follow asynchronously, signed, to the user's receiving URL
   (:mod:`sim.dcc.delivery`). An SRV hansim does not model is 501 Not Implemented,
   which no adapter can take for a DCC outcome.

One asyncio lock serialises the model: requests are read concurrently, carried out one
at a time in arrival order, and none that was accepted is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from lxml import etree

from sim.dcc import outcome as oc
from sim.dcc.delivery import Deliveries, Message
from sim.dcc.frontdoor import Dcc
from sim.dcc.keystore import Keystore
from sim.duis.request import EUI, NotDUIS, NotModelled, RequestID
from sim.duis.response import ResponseMessage, ServiceResponse
from sim.duis.signature import DoctypeRefused, SignatureError, parse_xml, sign, verify
from sim.duis.xmlio import sr

log = logging.getLogger("hansim.dcc.serve")


class _NotHttpInOneLine(logging.Filter):
    """aiohttp answers a request that is not valid HTTP (an over-long line, a bad
    Content-Length, a broken chunk, a body that is not in its Content-Encoding) with 400
    but logs it with a traceback; a client's bad bytes are bad input, so say it in one
    line, quoting none of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, web.RequestPayloadError):  # the body's error, raised where it was read
            error = error.__cause__
        if isinstance(error, HttpProcessingError):
            who = f" from {record.args[0]}" if isinstance(record.args, tuple) and record.args else ""
            record.msg, record.args = "request%s is not valid HTTP: %s", (who, _reason(error))
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _reason(error: HttpProcessingError) -> str:
    """aiohttp's reason, without the client's bytes it quotes."""
    first = (error.message or "").strip().splitlines()[:1] or [type(error).__name__]
    return re.split(r":? *(?:bytearray\(|b'|b\")", first[0])[0].rstrip(":. ")[:120]


#: the logger aiohttp's request handler reports to (``app_runner``)
http_log = logging.getLogger("hansim.dcc.http")
http_log.addFilter(_NotHttpInOneLine())


def app_runner(app: web.Application) -> web.AppRunner:
    """The app's runner as ``hansim dcc serve`` runs it: no access log, protocol errors
    from clients in one line."""
    return web.AppRunner(app, access_log=None, logger=http_log)

MAX_BODY = 8 * 1024 * 1024  # an 11.1 firmware image is the largest DUIS request
READ_TIMEOUT_S = 30.0
SIGNED_VARIANTS = {5, 6, 7}
#: DCC Boxed's three URLs and the command variants each takes (else E13).
ENDPOINTS = {
    "serviceD": {8},
    "serviceS": {1, 2, 3, 5, 6, 7},
    "serviceT": {4},
}
XML_TYPES = {"application/xml", "text/xml"}


@dataclass
class Clock:
    """The DCC model's clock: ``real`` follows the wall clock, ``scenario`` moves only
    when told (``POST /hansim/clock``), jumping along the site file's timeline."""

    mode: str = "real"
    started: float = field(default_factory=time.monotonic)

    def catch_up(self, dcc: Dcc) -> list[str]:
        if self.mode != "real":
            return []
        return dcc.advance(max(0.0, time.monotonic() - self.started - dcc.now))


@dataclass
class DccService:
    """The HTTP front of one DCC model."""

    dcc: Dcc
    keystore: Keystore
    receivers: dict[str, str]  # user ID (upper case, dashes) -> receiving URL
    deliveries: Deliveries
    clock: Clock = field(default_factory=Clock)
    read_timeout_s: float = READ_TIMEOUT_S
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def app(self, max_body: int = MAX_BODY) -> web.Application:
        app = web.Application(client_max_size=max_body)
        for name in ENDPOINTS:
            app.router.add_post(f"/api/v1/{name}", self._endpoint(name))
        app.router.add_post("/hansim/clock", self.move_clock)
        app.on_startup.append(lambda _: self.deliveries.start())
        app.cleanup_ctx.append(self._ticker)
        app.on_cleanup.append(lambda _: self.deliveries.close())
        return app

    async def _ticker(self, _: web.Application):
        task = asyncio.create_task(self._real_time()) if self.clock.mode == "real" else None
        yield
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _endpoint(self, name: str):
        async def handler(request: web.Request) -> web.StreamResponse:
            return await self.serve(name, request)
        return handler

    async def serve(self, endpoint: str, request: web.Request) -> web.StreamResponse:
        if request.content_type not in XML_TYPES:
            return _refuse(415, f"Content-Type {request.content_type or 'none'}: "
                                "DUIS is sent as application/xml")
        try:
            body = await asyncio.wait_for(request.read(), self.read_timeout_s)
        except TimeoutError:
            return _refuse(408, f"request body not received within {self.read_timeout_s:g} s")
        except web.RequestPayloadError as err:  # not in its Content-Encoding, a broken chunk
            cause = err.__cause__
            return _refuse(400, "request body is not valid HTTP: " + (
                _reason(cause) if isinstance(cause, HttpProcessingError) else type(err).__name__))
        except ConnectionError:  # the client went away mid-body: nobody to answer
            log.warning("%s: client went away before sending the whole body", request.remote)
            raise web.HTTPBadRequest() from None
        async with self.lock:
            return self.process(endpoint, body)

    def process(self, endpoint: str, body: bytes) -> web.Response:
        """Authenticate, check, and hand one request to the model (under the lock)."""
        try:
            root = parse_xml(body)
        except (DoctypeRefused, SignatureError) as err:
            return _refuse(400, str(err))
        if root.tag != sr("Request"):
            return _refuse(400, f"root element {etree.QName(root).localname!r} is not a "
                                "DUIS sr:Request")
        header = {name: (root.findtext(f"{sr('Header')}/{sr(name)}") or "").strip()
                  for name in ("RequestID", "CommandVariant", "ServiceReference",
                               "ServiceReferenceVariant")}
        try:
            request_id = RequestID.parse(header["RequestID"])
        except ValueError as err:
            return _refuse(400, str(err))
        user = request_id.originator
        certificates = self.keystore.of_user(user)
        if not certificates:
            return _refuse(401, f"no XML-signing certificate known for user {user}")
        try:
            unsigned, _ = verify(body, certificates)
        except SignatureError as err:
            return _refuse(401, f"user {user}: {err}")
        variant = int(header["CommandVariant"]) if header["CommandVariant"].isdigit() else None
        replay = self._replayed(request_id, header["RequestID"], variant)
        if replay:
            return _refuse(409, replay)
        self.dcc.counters[user] = max(self.dcc.counters.get(user, -1), request_id.counter)
        if variant is not None and variant not in ENDPOINTS[endpoint]:
            if not self.dcc.answerable(header["ServiceReference"], header["ServiceReferenceVariant"]):
                return _refuse(400, "not a DUIS service request: no valid ServiceReference to answer "
                                    "E13 (wrong URL) with")
            right = next((n for n, v in ENDPOINTS.items() if variant in v), None)
            return self._sign(ServiceResponse(
                oc.WRONG_URL, self.dcc.timestamp(),
                ResponseMessage(header["ServiceReference"], header["ServiceReferenceVariant"]),
                RequestID.parse(header["RequestID"])), f"E13: command variant {variant} "
                f"goes to {right or 'no URL'}, not {endpoint}")
        self._tick(self.clock.catch_up(self.dcc))
        try:
            outcome = self.dcc.submit(unsigned)
        except NotDUIS as err:
            return _refuse(400, f"not a DUIS service request: {err}")
        except NotModelled as err:
            return _refuse(501, str(err))
        log.info("%s %s", header["RequestID"], outcome.summary())
        (first_name, first), *rest = outcome.documents
        self._forward(user, rest)
        return self._sign(first, None)

    def _tick(self, notes: list[str]) -> None:
        """Log what the clock brought and send what it raised (future-dated commands' alerts)."""
        for note in notes:
            log.info("clock: %s", note)
        for name, document in self.dcc.outbox:
            if document.response_id is not None:  # an alert: raiser:user:counter
                user = document.response_id.target
            else:
                assert document.request_id is not None  # a response names its request
                user = document.request_id.originator
            self._forward(user, [(name, document)])
        self.dcc.outbox.clear()

    async def _real_time(self) -> None:
        """With the real clock, future-dated commands run on time, not at the next request."""
        while True:
            await asyncio.sleep(1.0)
            async with self.lock:
                self._tick(self.clock.catch_up(self.dcc))

    def _replayed(self, request_id: RequestID, as_sent: str, variant: int | None) -> str | None:
        last = self.dcc.counters.get(request_id.originator)
        if last is None or request_id.counter > last:
            return None
        if variant in SIGNED_VARIANTS and as_sent in self.dcc.pre_commands:
            return None  # the signed pre-command comes back under its variant-4 RequestID
        return (f"RequestID {as_sent}: counter {request_id.counter} is not above "
                f"{last}, the highest this user has sent (duplicate or replayed request)")

    def _forward(self, user: str, documents: list[tuple[str, ServiceResponse]]) -> None:
        url = self.receivers.get(user) or self.receivers.get("*")
        if not documents:
            return
        if url is None:
            log.error("user %s has no receiving URL: %d response(s)/alert(s) not sent",
                      user, len(documents))
            return
        for name, document in documents:
            label = f"{name} {document.response_id or document.request_id}"
            self.deliveries.send(Message(url, sign(document.to_xml(), self.keystore.dsp), label))

    def _sign(self, document: ServiceResponse, note: str | None) -> web.Response:
        if note:
            log.info("%s", note)
        return web.Response(body=sign(document.to_xml(), self.keystore.dsp),
                            content_type="application/xml")

    async def move_clock(self, request: web.Request) -> web.Response:
        """hansim's own control URL (not DCC Boxed's): ``?advance=SECONDS`` or ``?to=next``
        (the site file's next change of supplier or SM WAN arrival). Scenario clock only."""
        if self.clock.mode != "scenario":
            return _refuse(409, "the clock is real time: start with --clock scenario to move it")
        async with self.lock:
            if request.query.get("to") == "next":
                step = self._next_event()
                if step is None:
                    return _refuse(409, "no scheduled event left in the site file")
            else:
                try:
                    step = float(request.query.get("advance", ""))
                except ValueError:
                    return _refuse(400, "give ?advance=SECONDS or ?to=next")
                if step < 0:
                    return _refuse(400, "the clock does not go backwards")
                if not _reachable(self.dcc, step):
                    return _refuse(400, "?advance=SECONDS: a finite number that keeps the "
                                        "clock before the year 10000")
            notes = self.dcc.advance(step)
            self._tick(notes)
        return web.Response(text="\n".join([self.dcc.timestamp(), *notes]) + "\n")

    def _next_event(self) -> float | None:
        times = []
        for premises in self.dcc.estate:
            times += [at for at, _, _ in premises.supplier_changes]
            if not premises.hub.wan_connected and premises.wan_arrives is not None:
                times.append(premises.wan_arrives)
        return max(0.0, min(times) - self.dcc.now) if times else None


def _reachable(dcc: Dcc, step: float) -> bool:
    """Whether the clock can move ``step`` seconds on and still date a DUIS document
    (NaN, infinity or a step past 9999 would leave it unable to, for every later request)."""
    try:
        dcc.timestamp(dcc.now + step)
    except (OverflowError, ValueError):
        return False
    return True


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("HTTP %d: %s", status, reason)
    return web.Response(status=status, text=reason + "\n")


def receivers_option(values: tuple[str, ...]) -> dict[str, str]:
    """``USER=URL`` pairs (or a bare URL for every user) as a user -> URL map."""
    found: dict[str, str] = {}
    for value in values:
        user, sep, url = value.rpartition("=") if "=" in value.split("://")[0] else ("", "", value)
        user = user.upper() if sep else "*"
        if sep and not EUI.match(user):
            raise ValueError(f"--receiver {value}: {user} is not a user ID like 90-B3-D5-1F-30-01-00-00")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--receiver {value}: {url!r} is not an http(s) URL")
        found[user] = url
    return found


def real_start() -> dt.datetime:
    """Now, to the second: a real-time DCC dates its responses by the wall clock."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
