"""The ``hansim`` command line: one click group, one module per command group.

Each module in this package exposes ``command`` (a click command or group); the group
below finds them by name and imports each only when it runs. ``hansim --help`` reads each
module's docstring (``hansim NAME``: summary) without importing it, so it stays fast
however heavy the commands' libraries are, and a new command group is one new file.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click

from sim.output import OutputError


def _version() -> str:
    try:
        return version("hansim")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class _CommandModules(click.Group):
    """A click group whose sub-commands are the modules of this package."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(
            info.name.replace("_", "-")
            for info in pkgutil.iter_modules(__path__)
            if not info.name.startswith("_")
        )

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.BadParameter as err:
            # A bad value (a negative --sites, a non-hex --version, a missing file) is bad
            # input like a bad file or code: exit 1. Malformed usage (an unknown option)
            # keeps click's exit 2.
            err.exit_code = 1  # type: ignore[misc]  # click annotates a ClassVar; instances may differ
            raise
        except OutputError as err:  # every writer's faults (sim/output.py): one line, exit 1
            raise click.ClickException(str(err)) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _summary(name)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):
            return None
        module = importlib.import_module(f"{__name__}.{cmd_name.replace('-', '_')}")
        return module.command


def _summary(cmd_name: str) -> str:
    """The first docstring line of the command's module, after its ``hansim NAME``: prefix."""
    source = Path(__file__).with_name(f"{cmd_name.replace('-', '_')}.py").read_text("utf-8")
    first = (ast.get_docstring(ast.parse(source)) or "").splitlines()[0:1]
    return first[0].split("``: ", 1)[-1] if first else ""


@click.group(cls=_CommandModules, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="hansim")
def main() -> None:
    """hansim: GB smart-metering HAN commissioning simulator.

    SMETS2 install-and-leave sites, SRV 8.11 and the ZigBee HAN join, change of
    supplier and install-code exchange, Comms Hub firmware re-flash.
    """
