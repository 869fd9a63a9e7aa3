"""``hansim scenarios``: the bundled replay scenarios and re-flash studies."""

from __future__ import annotations

import click


@click.group("scenarios")
def command() -> None:
    """Bundled install-and-leave scenarios for `hansim replay` and MP155 studies for `hansim reflash`."""


@command.command("list", epilog="""\b
Example:
  hansim scenarios list""")
def list_() -> None:
    """One line per bundled file: name, title, policy; replay scenarios first (`hansim replay
    NAME`), then the re-flash studies (`hansim reflash --scenario FILE`), each marked."""
    from scenarios import FOLDER
    from sim.replay.scenario import bundled, load_street
    from sim.yamlfile import InputFileError

    for path in bundled():
        try:
            street = load_street(path)
        except InputFileError as err:
            raise click.ClickException(f"bundled scenario is broken: {err}") from None
        scenario = street[0]
        premises = f" ({len(street)} premises)" if scenario.premises is not None else ""
        click.echo(f"{scenario.name:<30} replay   {scenario.title}{premises} [{scenario.policy.name}]")
    for path in sorted((FOLDER / "reflash").glob("*.yaml")):
        click.echo(f"{path.stem:<30} reflash  MP155 re-flash study (hansim reflash; a copy: --scenario FILE)")
