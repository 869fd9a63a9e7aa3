"""``hansim duis``: feed DUIS service requests to a simulated DCC and premises; validate DUIS."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli._options import FiniteFloat, refuse_bad_yaml
from sim.duis import schema as duis_schema

# The DCC model and the HAN joins (zigpy, scapy, numpy) are imported by the commands that
# run them, so that a refused site file is refused at once.
if TYPE_CHECKING:
    from sim.dcc.frontdoor import Dcc
    from sim.dcc.outcome import Outcome
    from sim.duis.request import ServiceRequest
    from sim.duis.response import ServiceResponse

SCHEMA_HELP = (f"DUIS XSD file or folder; default: ${duis_schema.ENV}, else ../shared/duis "
               "beside the project.")


def _schema(option: str | None, required: bool):
    try:
        return duis_schema.load(duis_schema.locate(option))
    except duis_schema.SchemaNotFound as err:
        if required:
            raise click.ClickException(str(err)) from None
        click.echo(f"warning: {err}", err=True)
        return None
    except duis_schema.SchemaUnusable as err:  # given, but broken: not silently off
        raise click.ClickException(str(err)) from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise click.ClickException(f"{path}: cannot read: {err.strerror}") from None


@click.group("duis")
def command() -> None:
    """DUIS service requests, responses and alerts against a simulated DCC."""


@command.command("run", epilog="""\b
Examples:
  hansim duis run 12.2.xml 8.14.1.xml CCS01_8.11.xml ECS70_8.1.1.xml --out commissioning
  hansim duis run *.XML --site my-site.yaml --join frames --out story --overwrite
  hansim duis run CCS01_8.11.xml --radio znp:socket://127.0.0.1:9999""")
@click.argument("requests", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--site", type=click.Path(path_type=Path), callback=refuse_bad_yaml,
              help="YAML site file (devices, install codes, WAN, users); default: the DCC "
                   "test templates' dual-fuel site.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("duis-out"),
              show_default=True, help="Folder for every response and alert, one XML file each, "
                                      "and keystore/ with the certificates that verify their "
                                      "GBCS payloads.")
@click.option("--schema", "schema_path", help=SCHEMA_HELP)
@click.option("--interval", type=FiniteFloat(0, 10 * 365 * 86400), default=60.0, show_default=True,
              help="Simulated seconds between requests (the SM WAN may arrive meanwhile).")
@click.option("--join", "join_level", type=click.Choice(["keys", "frames"]), default="keys",
              show_default=True,
              help="HAN join model after 8.11 Add: keys (fast) or frames (802.15.4/NWK/APS "
                   "frames on the simulated air).")
@click.option("--radio", "radio_spec", metavar="KIND:PATH",
              help="HAN join through a ZigBee stick instead of a model (needs hansim[sticks]): "
                   "znp:/dev/ttyACM0, ezsp:/dev/ttyUSB0, deconz:/dev/ttyACM0, "
                   "znp:socket://HOST:PORT; or 'air', the simulated air behind the same "
                   "radio interface. Each 8.11 Add permits the device in real time, for "
                   "JoinTimePeriod at most. Overrides --join.")
@click.option("--overwrite", is_flag=True,
              help="Replace the --out folder if it already holds results (whole, never mixed).")
@click.option("--sign/--no-sign", default=True, show_default=True,
              help="Act as the supplier: sign each pre-command (variant 4) with the user's "
                   "test key and resubmit it as variant 5.")
def run(requests: tuple[Path, ...], site: Path | None, out: Path, schema_path: str | None,
        interval: float, join_level: str, radio_spec: str | None, overwrite: bool, sign: bool) -> None:
    """Feed REQUESTS, in order, to the DCC; one line per request: SRV, outcome, SMI changes.

    Files are written only when every request has been read: a file that is not a DUIS
    request at all stops the run with nothing written. A --radio stick that disappears
    mid-run stops it too, with every file up to the request it stopped in written.
    """
    from devices.han_join import HanJoin, KeyLevelJoin
    from han.radio import RadioError
    from sim.dcc import gbcs_link
    from sim.dcc.frontdoor import Dcc
    from sim.dcc.site_file import SiteFileError, default_premises, load_site
    from sim.han_time.frame_join import FrameLevelJoin
    from sim.han_time.radio_join import open_radio
    from sim.output import check_folder

    try:
        premises = load_site(site) if site else default_premises()
    except SiteFileError as err:
        raise click.ClickException(str(err)) from None
    check_folder(out, overwrite)
    schema = _schema(schema_path, required=False)
    with contextlib.ExitStack() as stack:
        join: HanJoin
        if radio_spec is not None:
            try:
                join = open_radio(radio_spec, premises.hub.chf_id, {
                    d.device_id: d.install_code for d in premises.devices.values() if d.present})
            except RadioError as err:
                raise click.ClickException(f"--radio: {err}") from None
            stack.callback(join.close)
        else:
            join = FrameLevelJoin() if join_level == "frames" else KeyLevelJoin()
        files: dict[str, bytes] = {}
        lines: list[str] = []
        fed: list[Path] = []
        stopped = None
        try:
            _feed(Dcc(premises, schema, han_join=join), requests, interval, sign, files, lines, fed)
        except RadioError as err:  # RadioLost mostly: the stick went away mid-run
            stopped = f"{err}: run stopped in {fed[-1]} ({len(fed) - 1} requests done before it)"
    documents = len(files)
    files.update(gbcs_link.keystore_files(premises))
    _write(out, files, overwrite)
    for line in lines:
        click.echo(line)
    click.echo(f"{documents} DUIS files written to {out}, certificates in {out / 'keystore'}")
    if stopped is not None:
        raise click.ClickException(stopped)


def _feed(dcc: Dcc, requests: tuple[Path, ...], interval: float, sign: bool,
          files: dict[str, bytes], lines: list[str], fed: list[Path]) -> None:
    from sim.duis.precommand import signed_request, supplier_test_key
    from sim.duis.request import NotDUIS, NotModelled

    for path in requests:
        fed.append(path)
        _advance(dcc, interval if lines else 0, files, lines)
        try:
            outcome = dcc.submit(_read(path))
        except NotDUIS as err:
            raise click.ClickException(f"{path}: not a DUIS service request: {err}") from None
        except NotModelled as err:  # no made-up DUIS answer: a line, and no file
            lines.append(f"{path.name}: not answered: {err}")
            continue
        lines.append(f"{path.name}: {outcome.summary()}")
        _collect(files, len(lines), outcome)
        if sign and outcome.request and (pre := outcome.pre_command) is not None:
            request = outcome.request
            signed = signed_request(request, pre, supplier_test_key(request.request_id.originator))
            _advance(dcc, interval, files, lines)
            outcome = dcc.handle(signed)
            lines.append(f"  signed pre-command resubmitted: {outcome.summary()}")
            _collect(files, len(lines), outcome, [("request_cv5", signed)])


def _advance(dcc: Dcc, seconds: float, files: dict[str, bytes], lines: list[str]) -> None:
    """Move the DCC's clock on; what ran meanwhile (future-dated commands) is written too."""
    lines.extend(dcc.advance(seconds))
    for index, (name, document) in enumerate(dcc.outbox, 1):
        files[f"{len(lines):03d}-{index}_scheduled_{name}.xml"] = document.to_xml()
    dcc.outbox.clear()


def _write(out: Path, files: dict[str, bytes], overwrite: bool) -> None:
    from sim.output import OutputDir

    with OutputDir(out, overwrite) as staged:
        for name, data in files.items():
            staged.write(name, data)


def _collect(files: dict[str, bytes], step: int, outcome: Outcome,
             first: Sequence[tuple[str, ServiceRequest | ServiceResponse]] = ()) -> None:
    """Name files step-index_SRV_what.xml: sorted by name is the order they were sent."""
    srv = outcome.request.srv if outcome.request else "unreadable"
    for index, (name, document) in enumerate([*first, *outcome.documents], 1):
        files[f"{step:03d}-{index}_{srv}_{name}.xml"] = document.to_xml()


@command.command("validate", epilog="""\b
Examples:
  hansim duis validate duis-out/*.xml
  hansim duis validate request.xml --schema 'DUIS Schema V5.4.xsd'""")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--schema", "schema_path", help=SCHEMA_HELP)
def validate(files: tuple[Path, ...], schema_path: str | None) -> None:
    """Say for each FILE whether it is valid DUIS and, if not, where and why; exit 1 if any is not."""
    schema = _schema(schema_path, required=True)
    bad = 0
    for path in files:
        problems = duis_schema.check_bytes(schema, _read(path))
        if problems:
            bad += 1
            for problem in problems:
                click.echo(f"{path}: invalid: {problem}")
        else:
            click.echo(f"{path}: valid DUIS")
    if bad:
        click.echo(f"{bad} of {len(files)} files are not valid DUIS", err=True)
        sys.exit(1)
