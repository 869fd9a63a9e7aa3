"""``hansim replay``: one install-and-leave scenario told step by step, with its DUIS log and pcaps."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli._options import refuse_bad_yaml
from sim.plotting import FORMATS
from sim.yamlfile import InputFileError

DEFAULT = "reactive-wan"


@click.command("replay", epilog="""\b
Examples:
  hansim replay
  hansim replay cos-email-10wd --out cos-out --overwrite
  hansim replay my-site.yaml --seed 3 --keys-out keys.txt --plot-format svg
  hansim replay reactive-wan --radio znp:socket://127.0.0.1:9999""")
@click.argument("scenario", required=False, default=DEFAULT, callback=refuse_bad_yaml)
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("replay-out"),
              show_default=True,
              help="Folder for timeline.jsonl/.csv, duis/, pcap/, summary.json, the plot, report.html.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the scenario's seed.")
@click.option("--keys-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Wireshark zigbee_pc_keys rows (each meter's install-code link key, "
                   "each join's network key) to open the pcaps decrypted: secrets!")
@click.option("--schema", "schema_path", type=click.Path(path_type=Path),
              help="DUIS XSD file or folder the DCC checks each request against; default: "
                   "$HANSIM_DUIS_XSD, else ../shared/duis beside the project (none: no check).")
@click.option("--overwrite", is_flag=True,
              help="Replace the --out folder if it already holds results (whole, never mixed).")
@click.option("--radio", help="The Comms Hub's HAN radio, overriding the scenario's comms_hub.radio: "
                             "a ZigBee stick (znp:/dev/ttyACM0, ezsp:PATH, deconz:PATH, "
                             "znp:socket://HOST:PORT, e.g. `hansim dongle virtual`) or `air`; "
                             "joins then run in real time and are not captured.")
@click.option("--plot-format", type=click.Choice(FORMATS), default="png", show_default=True,
              help="File format of the timeline plot (svg: vector, for reports).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(scenario: str, out: Path, seed: int | None, keys_out: Path | None,
            schema_path: Path | None, radio: str | None, overwrite: bool, plot_format: str,
            quiet: bool) -> None:
    """Replay SCENARIO (a bundled name from `hansim scenarios list`, or a YAML file).

    Prints the timeline (date, working day, actor, event, SMI changes) and writes every
    file at the end, or none. Exit 0 when every `expect:` holds, 1 listing those that do
    not (or for bad input). Without SCENARIO: reactive install and leave, commissioned
    when the SM WAN arrives.
    """
    import dataclasses

    from han.radio import RadioError
    from scenarios import FOLDER
    from sim.duis.schema import SchemaUnusable
    from sim.han_time.radio_join import check_radio_spec
    from sim.output import OutputDir, check_file, check_folder, write_files
    from sim.progress import bar as progress_bar
    from sim.progress import named_steps
    from sim.replay import report
    from sim.replay.scenario import load_street, locate
    from sim.replay.story import replay_street

    path = locate(scenario)
    if not path.exists() and (FOLDER / "reflash" / f"{scenario}.yaml").exists():
        raise click.ClickException(f"{scenario} is an MP155 re-flash study, not a replay scenario: "
                                   "run it with hansim reflash (hansim scenarios list shows which is which)")
    if not path.exists() and "/" not in scenario:
        raise click.ClickException(f"{scenario}: no bundled scenario or file of that name "
                                   "(bundled ones: hansim scenarios list)")
    try:
        street = load_street(path, seed)
    except InputFileError as err:
        raise click.ClickException(str(err)) from None
    check_folder(out, overwrite)  # refuse before the run, not after it
    if keys_out is not None:
        check_file(keys_out)
    with progress_bar(len(street) * (1 + len(report.FILE_STEPS)), "replay", quiet=quiet) as bar:
        bar.set_postfix_str("story")
        try:
            if radio is not None:
                check_radio_spec(radio)
                street = [dataclasses.replace(s, radio=radio) for s in street]
            results = replay_street(street, schema_path)  # one DCC for the whole street
            bar.update(len(street))
        except (RadioError, SchemaUnusable) as err:  # a bad or pulled stick; a --schema that is no XSD
            raise click.ClickException(str(err)) from None
        found = [report.checks(r) for r in results]
        made = report.street_files(results, found, plot_format, progress=named_steps(bar))
    with OutputDir(out, overwrite) as staged:
        for name, data in made.items():
            staged.write(name, data)
        if keys_out is not None:  # inside: a key file that cannot be written keeps OUT as it was
            write_files({keys_out: "".join(report.wireshark_keys(r) for r in results)}, secrets=[keys_out])
    first = street[0]
    where = f", {len(street)} premises" if first.premises is not None else ""
    click.echo(f"{first.name}: {first.title} (policy {first.policy.name}, seed {results[0].seed}{where})")
    for result, entry in sorted(((r, e) for r in results for e in r.entries), key=lambda x: x[1].time):
        prefix = f"{result.scenario.premises:<8} " if result.scenario.premises is not None else ""
        click.echo(prefix + report.line(result, entry))
    checks = [(r.scenario.premises, c) for r, cs in zip(results, found) for c in cs]
    failed = [f"{p}: {c}" if p else str(c) for p, c in checks if not c.ok]
    for premises, check in checks:
        click.echo(f"expect {'ok  ' if check.ok else 'FAIL'} " + (f"{premises}: " if premises else "") + str(check))
    captures = sum(r.report is not None for result in results for r in result.joins.records)
    pcaps = f"{captures} join pcap(s) and premises.pcap" if captures else "no pcap (joins on a radio)"
    folders = " (a folder per premises)" if first.premises is not None else ""
    click.echo(f"wrote {sum(len(r.requests) for r in results)} DUIS exchanges, {pcaps}, "
               f"timeline.jsonl, timeline.csv, summary.json, timeline.{plot_format}, report.html in {out}{folders}")
    if failed:
        click.echo(f"{len(failed)} of {len(checks)} expectations failed: " + "; ".join(failed), err=True)
        raise SystemExit(1)
