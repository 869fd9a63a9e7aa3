"""``hansim dongle``: USB ZigBee sticks: list them, probe one, run a virtual one, sniff.

The radio libraries (zigpy-znp, bellows, zigpy-deconz) are the optional
``hansim[sticks]`` extra: they are imported only by the sub-commands that need them.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from han.usb_sticks import guess
from sim.cli._options import FiniteFloat
from sim.cli._stop import stop_on_signals, until


@click.group("dongle")
def command() -> None:
    """USB ZigBee sticks: find them, see what answers, run a virtual one, sniff."""


@command.command("list", epilog="""\b
Example:
  hansim dongle list""")
def list_ports() -> None:
    """Every serial port with VID:PID, maker and a guess of the radio behind it."""
    from serial.tools import list_ports as ports

    found = sorted(ports.comports(), key=lambda p: p.device)
    if not found:
        click.echo("no serial ports found")
        return
    rows = [("PORT", "VID:PID", "MAKER", "PRODUCT", "GUESS")]
    for port in found:
        vidpid = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None else "-"
        stick = guess(port.vid, port.pid, port.product or port.description)
        what = f"{stick.name}: {stick.radio}" + (f" ({stick.library})" if stick.library else "") \
            if stick else "-"
        rows.append((port.device, vidpid, port.manufacturer or "-", port.product or "-", what))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])


@command.command("probe", epilog="""\b
Examples:
  hansim dongle probe /dev/ttyACM0
  hansim dongle probe socket://127.0.0.1:9999 --timeout 5""")
@click.argument("port")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=4.0, show_default=True,
              help="Seconds each radio library may take to answer.")
def probe(port: str, timeout: float) -> None:
    """Say what answers on PORT (a device path or socket://host:port).

    An nRF 802.15.4 sniffer, or a coordinator speaking ZNP, EZSP or deCONZ.
    """
    from han.stick_probe import probe as run_probe

    if "://" not in port and not os.path.exists(port):
        raise click.ClickException(f"port {port}: no such device")
    result = asyncio.run(run_probe(port, timeout))
    if result is None:
        click.echo(f"{port}: nothing answered as an nRF sniffer, ZNP, EZSP or deCONZ "
                   f"(each given {timeout:g} s)", err=True)
        raise SystemExit(1)
    click.echo(f"{port}: {result.label}")
    if result.node:
        click.echo(f"  radio: {result.node}")
    if result.library != "nrf-sniffer":
        click.echo(f"  network: {result.network or 'none formed'}")


@command.command("virtual", epilog="""\b
Examples:
  hansim dongle virtual --tcp 9999
  hansim dongle virtual --type ezsp --tcp 9999
  hansim dongle virtual --pty --meter 00-DB-12-34-56-78-90-A0=83FED3407A939723A5C639B26916D505C3B5
  hansim dongle virtual --tcp 9999 --frame-level --capture captures""")
@click.option("--type", "stick_type", type=click.Choice(["znp", "ezsp"]), default="znp",
              show_default=True,
              help="znp: a TI Z-Stack coordinator (zigpy-znp, Zigbee2MQTT zstack); ezsp: a "
                   "Silicon Labs EmberZNet NCP over ASH (bellows, Zigbee2MQTT ember).")
@click.option("--pty", "use_pty", is_flag=True, help="Serve on a pseudo-terminal (default).")
@click.option("--tcp", "tcp_port", type=click.IntRange(0, 65535),
              help="Serve on 127.0.0.1:PORT instead (0: any free port).")
@click.option("--meter", "meters", multiple=True, metavar="EUI64=INSTALLCODE|QR",
              help="An emulated meter that tries to join whenever joining is permitted "
                   "(EUI-64 and install code, or its label/QR string).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the stick's addresses and network choices.")
@click.option("--join-delay", type=click.FloatRange(0, 60), default=0.5, show_default=True,
              help="Seconds after a permit before each meter tries, in turn.")
@click.option("--for", "duration", type=click.FloatRange(0), default=None,
              help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--frame-level", is_flag=True,
              help="Run each join frame by frame on the simulated air (default: key level).")
@click.option("--capture", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --frame-level: write each join attempt's frames to DIR as pcap.")
def virtual(stick_type: str, use_pty: bool, tcp_port: int | None, meters: tuple[str, ...], seed: int,
            join_delay: float, duration: float | None, frame_level: bool,
            capture: Path | None) -> None:
    """Run a virtual coordinator stick: TI Z-Stack (ZNP), which zigpy-znp (ZHA) and
    zigbee-herdsman (Zigbee2MQTT, adapter zstack) drive, or Silicon Labs EmberZNet
    (EZSP v13 over ASH), which bellows (ZHA) and zigbee-herdsman (adapter ember) drive.
    Over TCP, Zigbee2MQTT's port is tcp://127.0.0.1:PORT.

    Prints the path to connect to, then one line per join and per permit window that
    closes without the join it was opened for.
    """
    try:
        from han.ezsp.emulator import EzspEmulator
        from han.znp.emulator import ZStackEmulator
        from han.znp.meters import EmulatedMeter, key_level_join
        from han.znp.serve import VirtualStick
    except ImportError as err:
        raise click.ClickException(
            f"the virtual sticks need zigpy-znp and bellows (pip install 'hansim[sticks]'): "
            f"{err}") from None
    if use_pty and tcp_port is not None:
        raise click.UsageError("choose one of --pty and --tcp")
    try:
        parsed = tuple(EmulatedMeter.parse(spec) for spec in meters)
    except ValueError as err:
        raise click.ClickException(f"--meter: {err}") from None

    def report(outcome) -> None:
        click.echo(outcome.describe())

    if capture is not None and not frame_level:
        raise click.UsageError("--capture needs --frame-level")
    if capture is not None:
        try:
            capture.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise click.ClickException(f"--capture {capture}: {err.strerror or err}") from None
    joiner = _frame_level_joiner(seed, capture) if frame_level else key_level_join
    front_end = EzspEmulator if stick_type == "ezsp" else ZStackEmulator
    emulator = front_end(meters=parsed, seed=seed, join_delay=join_delay, on_outcome=report,
                         joiner=joiner)

    async def serve() -> None:
        async with VirtualStick(emulator) as stick:
            try:
                path = await (stick.open_tcp(tcp_port) if tcp_port is not None
                              else stick.open_pty())
            except OSError as err:
                raise click.ClickException(f"cannot open the virtual stick: {err}") from None
            stop = stop_on_signals()
            if stick_type == "ezsp":
                click.echo(f"virtual EmberZNet coordinator (EFR32MG21, EZSP v13 over ASH) on {path}")
                click.echo(f"  e.g. bellows config: {{'device': {{'path': '{path}'}}}}")
            else:
                click.echo(f"virtual Z-Stack coordinator (CC2652, ZNP) on {path}")
                click.echo(f"  e.g. zigpy-znp config: {{'device': {{'path': '{path}'}}}}")
            if path.startswith("socket://"):
                adapter = "ember" if stick_type == "ezsp" else "zstack"
                click.echo(f"  e.g. Zigbee2MQTT: serial: {{port: {path.replace('socket', 'tcp')}, "
                           f"adapter: {adapter}}}")
            for meter in parsed:
                click.echo(f"  meter {meter.ieee} waits for a permit")
            await until(stop, duration)
        click.echo("virtual stick unplugged")

    asyncio.run(serve())


def _frame_level_joiner(seed: int, capture: Path | None):
    """The frame-level join; with ``capture``, one pcap per attempt, written atomically."""
    from han.eui import to_device_id
    from han.pcap import pcap_bytes
    from sim.output import OutputError, atomic_write
    from sim.stick_join import FrameLevelJoiner

    joiner = FrameLevelJoiner(seed=seed)
    if capture is not None:
        def write(meter, report) -> None:
            path = capture / f"{to_device_id(meter.ieee)}-{len(joiner.reports):03d}.pcap"
            try:
                atomic_write(path, pcap_bytes(((frame.time, frame.raw) for frame in report.frames),
                                              channel=report.channel), parents=True)
            except OutputError as err:  # the stick keeps serving; this capture is lost, and said so
                click.echo(f"  {err}", err=True)
                return
            click.echo(f"  wrote {path} ({len(report.frames)} frames on the simulated air)")

        joiner.on_report = write
    return joiner


@command.command("sniff", epilog="""\b
Examples:
  hansim dongle sniff /dev/ttyACM1 --channel 15 --out han.pcap
  hansim dongle sniff /dev/ttyACM1 --channel 11 --out han.pcap --seconds 600""")
@click.argument("port")
@click.option("--channel", type=click.IntRange(11, 26), default=11, show_default=True,
              help="2.4 GHz ZigBee channel to listen on (the Comms Hub's).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="pcap to write (link type 283, IEEE 802.15.4 TAP: channel, RSSI, LQI "
                   "per frame, as Nordic's capture tool writes it).")
@click.option("--count", type=click.IntRange(1), default=None, help="Stop after N frames.")
@click.option("--seconds", type=click.FloatRange(0), default=None, help="Stop after S seconds.")
@click.option("--start-time", type=FiniteFloat(0, 2**32 - 1), default=None,
              help="pcap time of the sniffer timer's zero, in Unix seconds (classic pcap "
                   "holds 0 to 2^32-1; default: the host clock at the first frame).")
@click.option("--quiet", is_flag=True, help="No line per frame.")
def sniff(port: str, channel: int, out: Path, count: int | None, seconds: float | None,
          start_time: float | None, quiet: bool) -> None:
    """Capture CHANNEL with an nRF 802.15.4 sniffer on PORT into a pcap.

    Stops after --count frames, --seconds, Ctrl-C, or when the sniffer disappears; the
    pcap holds every frame received in every case.
    """
    from han.sniffer.nrf802154 import NrfSniffer, SnifferGone, capture, summary
    from sim.output import check_file, growing_file

    def show(frame, packet) -> None:
        if not quiet:
            click.echo(f"rssi {frame.rssi:4d} lqi {frame.lqi:3d}  {summary(packet)}")

    check_file(out)
    try:
        sniffer = NrfSniffer(port)
        with growing_file(out) as stream:
            result = capture(sniffer, channel, stream, count=count, seconds=seconds,
                             start_time=start_time, on_frame=show)
    except SnifferGone as err:
        raise click.ClickException(str(err)) from None
    except KeyboardInterrupt:
        click.echo(f"interrupted: wrote {out}", err=True)
        raise SystemExit(130) from None
    if result.gone:
        click.echo(f"{result.gone}; wrote {result.frames} frames to {out}", err=True)
        raise SystemExit(1)
    click.echo(f"wrote {result.frames} frames to {out}")
