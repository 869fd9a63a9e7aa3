"""A virtual stick on a real serial endpoint: a PTY or a loopback TCP port (asyncio).

Either front end (the Z-Stack emulator or the EmberZNet one) is a sans-IO
:class:`SerialStick`. This is the one place it meets a clock: the asyncio loop's monotonic time,
counted from when the stick was plugged in. A PTY looks like ``/dev/ttyACM0`` to any
serial library; a TCP port is ``socket://127.0.0.1:PORT`` to zigpy's ``serialx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from typing import Protocol


class SerialStick(Protocol):
    """A sans-IO stick: bytes in and out, time from the caller."""

    def receive(self, data: bytes, now: float | None = None) -> None: ...

    def take_output(self) -> bytes: ...

    def advance(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def new_line(self) -> None:
        """A new host on the line: nothing half-received or unsent carries over."""


class _TcpLink(asyncio.Protocol):
    """One TCP client of the stick. A serial port has one user at a time: the newest
    connection takes the stick over, so a client that died half-open blocks nobody."""

    def __init__(self, stick: VirtualStick) -> None:
        self.stick = stick
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.stick._client is not None:
            self.stick._client.close()
        assert isinstance(transport, asyncio.Transport)  # a TCP connection is a stream transport
        self.transport = transport
        self.stick._client = self.transport
        self.stick.emulator.new_line()

    def data_received(self, data: bytes) -> None:
        if self.transport is not None:
            self.stick._feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None and self.stick._client is self.transport:
            self.stick._client = None
            self.stick.emulator.new_line()  # a frame cut off mid-way is gone with its host
        self.transport = None


class VirtualStick:
    """Serves one :class:`SerialStick` on a PTY or a TCP port until closed."""

    def __init__(self, emulator: SerialStick) -> None:
        self.emulator = emulator
        self.path: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._pending = bytearray()
        self._server: asyncio.Server | None = None
        self._client: asyncio.Transport | None = None

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time() - self._t0

    def _plug_in(self) -> asyncio.AbstractEventLoop:
        self._loop = loop = asyncio.get_running_loop()
        self._t0 = loop.time()
        return loop

    def _pty(self) -> tuple[asyncio.AbstractEventLoop, int]:
        """The loop and the PTY's master end: the PTY callbacks run only while it is open."""
        assert self._loop is not None and self._master is not None
        return self._loop, self._master

    # -- PTY ----------------------------------------------------------------------------
    async def open_pty(self) -> str:
        """Open a pseudo-terminal in raw mode; returns the path a client opens."""
        loop = self._plug_in()
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        # Holding the slave open keeps the master readable between client sessions.
        self._master, self._slave = master, slave
        self.path = os.ttyname(slave)
        loop.add_reader(master, self._pty_readable)
        return self.path

    def _pty_readable(self) -> None:
        _, master = self._pty()
        try:
            data = os.read(master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self._feed(data)

    def _pty_write(self, data: bytes) -> None:
        loop, master = self._pty()
        self._pending += data
        try:
            written = os.write(master, self._pending)
        except BlockingIOError:
            written = 0
        except OSError:
            self._pending.clear()  # nobody is listening: the bytes are lost, as on a wire
            return
        del self._pending[:written]
        if self._pending:
            loop.add_writer(master, self._pty_drain)

    def _pty_drain(self) -> None:
        loop, master = self._pty()
        loop.remove_writer(master)
        self._pty_write(b"")

    # -- TCP ----------------------------------------------------------------------------
    async def open_tcp(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Listen on ``host:port`` (0: any free port); returns ``socket://host:port``."""
        loop = self._plug_in()
        self._server = await loop.create_server(lambda: _TcpLink(self), host, port)
        bound = self._server.sockets[0].getsockname()[1]
        self.path = f"socket://{host}:{bound}"
        return self.path

    # -- both ---------------------------------------------------------------------------
    def _feed(self, data: bytes) -> None:
        self.emulator.receive(data, self._now())
        self._flush()

    def _tick(self) -> None:
        self._timer = None
        self.emulator.advance(self._now())
        self._flush()

    def _flush(self) -> None:
        out = self.emulator.take_output()
        if out:
            if self._master is not None:
                self._pty_write(out)
            elif self._client is not None:
                self._client.write(out)
        deadline = self.emulator.next_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._loop is not None:
            self._timer = self._loop.call_at(self._t0 + deadline, self._tick)

    async def close(self) -> None:
        """Unplug: the client sees its port go away."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._master is not None:
            loop, master = self._pty()
            loop.remove_reader(master)
            loop.remove_writer(master)
            for fd in (master, self._slave):
                with contextlib.suppress(OSError):
                    if fd is not None:
                        os.close(fd)
            self._master = self._slave = None
        if self._server is not None:
            self._server.close()
            if self._client is not None:
                self._client.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> VirtualStick:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
