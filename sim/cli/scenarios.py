"""``hansim scenarios``: the bundled replay scenarios."""

from __future__ import annotations

import click


@click.group("scenarios")
def command() -> None:
    """Bundled install-and-leave scenarios for `hansim replay`."""


@command.command("list", epilog="""\b
Example:
  hansim scenarios list""")
def list_() -> None:
    """One line per bundled scenario: name, title, policy."""
    from sim.replay.scenario import bundled, load_scenario
    from sim.yamlfile import InputFileError

    for path in bundled():
        try:
            scenario = load_scenario(path)
        except InputFileError as err:
            raise click.ClickException(f"bundled scenario is broken: {err}") from None
        click.echo(f"{scenario.name:<24} {scenario.title} [{scenario.policy.name}]")
