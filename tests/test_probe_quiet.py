"""``hansim dongle probe`` on a port that speaks garbage or hangs up: the one-line verdict
and nothing else on the terminal (no radio library's log lines, tracebacks, "Task
exception was never retrieved" or RuntimeWarnings), even at interpreter shutdown, so
the probe runs in a real subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest


def _serve(behaviour: str) -> tuple[socket.socket, int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)

    def loop() -> None:
        peers = []
        while server.fileno() != -1:
            try:
                peer, _ = server.accept()
            except (TimeoutError, OSError):
                for peer in peers:
                    try:
                        peer.sendall(os.urandom(64))  # bytes no radio library can frame
                    except OSError:
                        pass
                continue
            if behaviour == "hang-up":
                peer.close()
            else:
                peers.append(peer)

    threading.Thread(target=loop, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.parametrize("behaviour", ["garbage", "hang-up"])
def test_probe_prints_its_verdict_only(behaviour: str) -> None:
    server, port = _serve(behaviour)
    try:
        result = subprocess.run(
            [sys.executable, "-c", "from sim.cli import main; main()",
             "dongle", "probe", f"socket://127.0.0.1:{port}", "--timeout", "1"],
            capture_output=True, text=True, timeout=120)
    finally:
        server.close()
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"socket://127.0.0.1:{port}: nothing answered as an nRF sniffer, ZNP, EZSP or deCONZ (each given 1 s)"]
