"""``hansim han join``: one Comms Hub, one ESME, SRV 8.11 then the ZigBee join, captured for Wireshark."""

from __future__ import annotations

import random
from pathlib import Path

import click
import numpy as np
import simpy

from devices.device_log import MAX_JOIN_TIME_PERIOD, DeviceLog, DeviceLogError
from han.installcode import InstallCode, InstallCodeError
from han.pcap import pcap_bytes, zigbee_key_rows
from sim.han_join import JoinReport, join_statistics, run_join
from sim.output import check_file, write_files
from sim.progress import bar as progress_bar

CHF_ID = "00-DB-12-34-56-78-90-A2"  # as in the DCC test templates
ESME_ID = "00-DB-12-34-56-78-90-A0"
EXIT_NOT_JOINED = 3


def _code(text: str, option: str, seed: int) -> InstallCode:
    if text == "generate":
        return InstallCode.generate(16, random.Random(seed))
    try:
        return InstallCode.parse(text)
    except InstallCodeError as err:
        raise click.ClickException(f"{option}: {err}") from None


def _check(ok: bool, option: str, why: str) -> None:
    if not ok:
        raise click.ClickException(f"{option}: {why}")


@click.group("han")
def command() -> None:
    """The ZigBee HAN: joins frame by frame, captured for Wireshark."""


@command.command("join", epilog="""\b
Examples:
  hansim han join --install-code 83FED3407A939723A5C639B26916D505C3B5 --pcap join.pcap
  hansim han join --install-code 83FED3407A939723A5C639B26916D505C3B5 --loss 0.2 --seed 7 --pcap lossy.pcap""")
@click.option("--install-code", required=True, metavar="CODE",
              help="The code SRV 8.11 gives the CHF (any hex form, or 'generate' for a seeded random one).")
@click.option("--device-install-code", metavar="CODE",
              help="The code the meter really holds (default: the same; another one fails to join).")
@click.option("--window", type=int, default=300, show_default=True,
              help=f"SRV 8.11 JoinTimePeriod, seconds (1-{MAX_JOIN_TIME_PERIOD}).")
@click.option("--join-at", type=float, default=1.0, show_default=True,
              help=f"Seconds after SRV 8.11 when the meter starts trying to join (0-{MAX_JOIN_TIME_PERIOD}).")
@click.option("--loss", type=float, default=0.0, show_default=True,
              help="Probability (0 <= p < 1) that a frame is lost at its receiver.")
@click.option("--latency", type=float, default=0.002, show_default=True,
              help="Seconds a node takes to answer a frame (0-10).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for keys, addresses and loss (>= 0).")
@click.option("--pcap", "pcap_path", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Write every frame on air here (pcap, IEEE 802.15.4 with FCS).")
@click.option("--tap", is_flag=True,
              help="Write link type 283 (IEEE 802.15.4 TAP), which records the channel, instead of 195.")
@click.option("--keys-out", type=click.Path(dir_okay=False, writable=True),
              help="Also write Wireshark zigbee_pc_keys rows (link key, network key): secrets!")
def join(install_code: str, device_install_code: str | None, window: int, join_at: float,
         loss: float, latency: float, seed: int, pcap_path: str, tap: bool,
         keys_out: str | None) -> None:
    """SRV 8.11 Add for one ESME, then its join; exit 0 joined, 3 not joined, 1 bad input."""
    _check(0 <= join_at <= MAX_JOIN_TIME_PERIOD, "--join-at",  # NaN fails every comparison
           f"{join_at} is not a time from 0 to {MAX_JOIN_TIME_PERIOD} seconds")
    _check(0 <= loss < 1, "--loss", f"{loss} is not a probability below 1")
    _check(0 <= latency <= 10, "--latency", f"{latency} is not a time from 0 to 10 seconds")
    _check(seed >= 0, "--seed", f"{seed} is negative")
    for target in filter(None, (pcap_path, keys_out)):  # refuse before running
        check_file(target)
    chf_code = _code(install_code, "--install-code", seed)
    meter_code = chf_code if device_install_code is None else _code(
        device_install_code, "--device-install-code", seed + 1)
    log = DeviceLog(CHF_ID)
    try:
        alerts = log.add(ESME_ID, chf_code, window, 0.0)
    except DeviceLogError as err:
        raise click.ClickException(f"SRV 8.11: {err}") from None
    env = simpy.Environment()
    if join_at > 0:
        env.run(until=join_at)
    report = run_join(env, log, CHF_ID, ESME_ID, meter_code, loss=loss, seed=seed, latency=latency)
    report.alerts[:0] = alerts
    files: dict[str | Path, bytes | str] = {pcap_path: pcap_bytes(((f.time, f.raw) for f in report.frames),
                                   channel=report.channel if tap else None)}
    if keys_out:
        files[keys_out] = zigbee_key_rows([(bytes(chf_code.link_key()), "CHF install-code link key"),
                                           (report.network_key, "HAN network key")])
    write_files(files, secrets=[keys_out] if keys_out else [])
    _print_timeline(report)
    if not report.joined:
        raise SystemExit(EXIT_NOT_JOINED)


@command.command("stats", epilog="""\b
Examples:
  hansim han stats
  hansim han stats --loss 0.3 --runs 2000 --seed 1""")
@click.option("--loss", type=float, default=0.0, show_default=True,
              help="Probability (0 <= p < 1) that a frame is lost at its receiver.")
@click.option("--runs", type=int, default=100, show_default=True, help="Independent joins to run (1-1000000).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed the runs' seeds are spawned from (>= 0).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def stats(loss: float, runs: int, seed: int, quiet: bool) -> None:
    """Success rate and join time of a right-code meter over many runs (population-model input)."""
    _check(0 <= loss < 1, "--loss", f"{loss} is not a probability below 1")
    _check(1 <= runs <= 1_000_000, "--runs", f"{runs} is not a positive number of runs (at most 1000000)")
    _check(seed >= 0, "--seed", f"{seed} is negative")
    with progress_bar(runs, "han stats", unit="join", quiet=quiet) as bar:
        result = join_statistics(loss, runs, seed, progress=bar.update)
    low, high = _wilson(result.joined, runs)
    click.echo(f"loss {loss:g}: {result.joined}/{runs} joined, "
               f"success rate {result.success_rate:.3f} (95% CI {low:.3f}-{high:.3f})")
    if result.joined:
        p50, p90, p99 = np.quantile(result.durations, [0.5, 0.9, 0.99])
        click.echo(f"join time s: median {p50:.3f}, p90 {p90:.3f}, p99 {p99:.3f}; "
                   f"mean attempts {result.attempts.mean():.2f}")


def _wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    phat = successes / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _print_timeline(report: JoinReport) -> None:
    click.echo(f"PAN 0x{report.pan_id:04X}, channel {report.channel}: CHF {CHF_ID}, ESME {ESME_ID}")
    events = [(f.time, f"{f.sender:<4} {f.label}" + (f" (retry {f.retry})" if f.retry else "")
               + (" [lost]" if f.lost else "")) for f in report.frames]
    events += [(a.time, f"ALERT 0x{a.code.hex} {a.code.name.replace('_', ' ').lower()} ({a.subject})")
               for a in report.alerts]
    for time, text in sorted(events, key=lambda e: e[0]):
        click.echo(f"{time:12.6f}  {text}")
    for failure_number, failure in enumerate(report.attempt_failures, 1):
        click.echo(f"attempt {failure_number} failed: {failure}")
    for node, drops in report.drops.items():
        for reason, count in sorted(drops.items()):
            click.echo(f"{node} dropped {count} frame(s): {reason}")
    if report.joined:
        click.echo(f"JOINED with the {report.key_source} key after {report.duration:.3f} s, "
                   f"{report.attempts} attempt(s); {len(report.frames)} frames on air")
    else:
        click.echo(f"NOT JOINED: {report.reason} ({report.attempts} attempt(s), "
                   f"{len(report.frames)} frames on air)")
