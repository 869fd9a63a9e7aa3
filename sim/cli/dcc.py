"""``hansim dcc``: the simulated DCC as a server that DCC adapters talk to over HTTP."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli._options import refuse_bad_yaml
from sim.cli._stop import stop_on_signals, until
from sim.cli.duis import SCHEMA_HELP, _schema

# The server (aiohttp) and the DCC model (zigpy, cryptography) are imported when serving
# starts, so that a refused site file is refused at once.
if TYPE_CHECKING:
    from aiohttp import web

#: --max-body's default without importing the server: sim.dcc.serve.MAX_BODY (a test holds them equal)
MAX_BODY = 8 * 1024 * 1024


@click.group("dcc")
def command() -> None:
    """The simulated DCC behind DCC Boxed's DUIS interface."""


@command.command("serve", epilog="""\b
Examples:
  hansim dcc serve --port 8079
  hansim dcc serve --port 8079 --receiver 90-B3-D5-1F-30-01-00-00=http://127.0.0.1:8080/receive
  hansim dcc serve --site my-site.yaml --clock scenario --keystore keystore.json
  hansim dcc serve --gbcs-certificates run1""")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8079, show_default=True,
              help="TCP port (DCC Boxed's is 8079); 0 picks a free one and prints it.")
@click.option("--site", type=click.Path(path_type=Path), callback=refuse_bad_yaml,
              help="YAML site file; default: the DCC test templates' dual-fuel site with "
                   "DCC Boxed's ZAZ1 test users.")
@click.option("--clock", type=click.Choice(["real", "scenario"]), default="real", show_default=True,
              help="real: the model's clock follows the wall clock from start-up; scenario: "
                   "it starts at the site file's start and moves only on POST "
                   "/hansim/clock?advance=SECONDS or ?to=next (the next change of supplier "
                   "or SM WAN arrival).")
@click.option("--receiver", "receivers", multiple=True, metavar="[USER=]URL",
              help="Where device responses and alerts are POSTed: USER=URL for one user, "
                   "a bare URL for every user without one. Repeatable.")
@click.option("--keystore", type=click.Path(path_type=Path), default=None,
              help="dccboxed-keystore JSON file: the users' XML-signing certificates and "
                   "the DSP signing key; default: the ZAZ1 test set DCC Boxed ships.")
@click.option("--schema", "schema_path", help=SCHEMA_HELP)
@click.option("--max-body", type=click.IntRange(min=1024), default=MAX_BODY, show_default=True,
              help="Largest request body in bytes (HTTP 413 above it).")
@click.option("--retries", type=click.IntRange(min=1), default=8, show_default=True,
              help="POST attempts per response or alert before it is dropped with a log line.")
@click.option("--gbcs-certificates", "certificates", type=click.Path(file_okay=False, path_type=Path),
              help="Before serving, write the GBCS certificates of every party of the site into "
                   "FOLDER/keystore/ (<eui>-ds.pem, <eui>-ka.pem, gbcs-parser's key store layout), "
                   "so anyone can verify the payloads the server sends.")
def serve(host: str, port: int, site: Path | None, clock: str, receivers: tuple[str, ...],
          keystore: Path | None, schema_path: str | None, max_body: int, retries: int,
          certificates: Path | None) -> None:
    """Serve DUIS over HTTP until interrupted: POST signed requests to /api/v1/serviceD,
    /api/v1/serviceS or /api/v1/serviceT; responses and alerts signed with the DSP key."""
    from sim.dcc import gbcs_link
    from sim.dcc.delivery import Deliveries, RetryPolicy
    from sim.dcc.frontdoor import Dcc
    from sim.dcc.keystore import ZAZ1_KEYSTORE, KeystoreError, load_keystore
    from sim.dcc.serve import Clock, DccService, real_start, receivers_option
    from sim.dcc.site_file import SiteFileError, default_premises, load_site
    from sim.output import write_files

    try:
        premises = load_site(site) if site else default_premises()
    except SiteFileError as err:
        raise click.ClickException(str(err)) from None
    try:
        keys = load_keystore(keystore or ZAZ1_KEYSTORE)
        urls = receivers_option(receivers)
    except (KeystoreError, ValueError) as err:
        raise click.BadParameter(str(err)) from None
    for note in keys.skipped:
        click.echo(f"keystore: skipped {note}", err=True)
    if certificates is not None:  # the same certificates `duis run` writes beside its files
        write_files({certificates / name: data for name, data in gbcs_link.keystore_files(premises).items()},
                    parents=True)
    if clock == "real":
        premises.start = real_start()
    dcc = Dcc(premises, _schema(schema_path, required=False))
    service = DccService(dcc, keys, urls, Deliveries(RetryPolicy(attempts=retries)), Clock(clock))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_run(service.app(max_body), host, port))


async def _run(app: web.Application, host: str, port: int) -> None:
    from aiohttp import web

    from sim.dcc.serve import app_runner

    runner = app_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as err:
        await runner.cleanup()
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}") from None
    bound = runner.addresses[0]
    stop = stop_on_signals()
    click.echo(f"hansim dcc serve: listening on http://{bound[0]}:{bound[1]}/api/v1/", err=True)
    try:
        await until(stop)
    finally:
        await runner.cleanup()
    click.echo("hansim dcc serve: stopped", err=True)
