"""Asynchronous delivery of signed responses and alerts to each user's receiving URL.

DCC Boxed POSTs device responses and alerts to a URL configured per user, as the DCC
does over its User Gateway. Each URL has its own queue and worker, so one user's
receiver being down neither blocks another's nor reorders its own messages: a failed
POST is retried after a growing pause, and after the last retry the message is dropped
with one log line naming receiver, message and reason.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

log = logging.getLogger("hansim.dcc.delivery")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one receiver: attempts, first pause, pause growth, per-POST timeout."""

    attempts: int = 8
    first_pause_s: float = 0.5
    growth: float = 2.0
    timeout_s: float = 10.0

    def pauses(self) -> list[float]:
        return [self.first_pause_s * self.growth ** i for i in range(self.attempts - 1)]


@dataclass(frozen=True)
class Message:
    """One signed DUIS document for one receiver; ``label`` names it in logs (no secrets)."""

    url: str
    body: bytes
    label: str


class Deliveries:
    """Per-receiver queues and workers; ``delivered`` and ``dropped`` count what happened."""

    def __init__(self, policy: RetryPolicy = RetryPolicy()) -> None:
        self.policy = policy
        self.queues: dict[str, asyncio.Queue[Message]] = {}
        self.workers: list[asyncio.Task] = []
        self.session: aiohttp.ClientSession | None = None
        self.delivered = 0
        self.dropped = 0

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.policy.timeout_s))

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def send(self, message: Message) -> None:
        queue = self.queues.get(message.url)
        if queue is None:
            queue = self.queues[message.url] = asyncio.Queue()
            self.workers.append(asyncio.create_task(self._work(queue)))
        queue.put_nowait(message)

    async def drain(self) -> None:
        """Wait until every queued message is delivered or dropped."""
        await asyncio.gather(*(q.join() for q in self.queues.values()))

    async def _work(self, queue: asyncio.Queue[Message]) -> None:
        while True:
            message = await queue.get()
            try:
                await self._deliver(message)
            finally:
                queue.task_done()

    async def _deliver(self, message: Message) -> None:
        assert self.session is not None, "Deliveries.start() first"
        reason = ""
        for pause in [*self.policy.pauses(), None]:
            try:
                async with self.session.post(message.url, data=message.body,
                                             headers={"Content-Type": "application/xml"}) as reply:
                    if 200 <= reply.status < 300:
                        self.delivered += 1
                        return
                    reason = f"HTTP {reply.status}"
            except (TimeoutError, aiohttp.ClientError, OSError) as err:
                reason = str(err) or type(err).__name__
            if pause is None:
                break
            log.info("receiver %s: %s not delivered (%s), retrying in %.1f s",
                     message.url, message.label, reason, pause)
            await asyncio.sleep(pause)
        self.dropped += 1
        log.error("receiver %s: %s dropped after %d attempts: %s",
                  message.url, message.label, self.policy.attempts, reason)
