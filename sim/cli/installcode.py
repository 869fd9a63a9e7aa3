"""``hansim installcode``: make, check and derive keys from install codes."""

from __future__ import annotations

import click

from han.installcode import CODE_LENGTHS, InstallCode, InstallCodeError
from han.keys import key_load_key, key_transport_key


def _parse(text: str) -> InstallCode:
    try:
        return InstallCode.parse(text)
    except InstallCodeError as err:
        raise click.ClickException(str(err)) from None


@click.group("installcode")
def command() -> None:
    """Install codes: the per-meter secret SRV 8.11 hands the Comms Hub."""


@command.command("new", epilog="""\b
Examples:
  hansim installcode new
  hansim installcode new --length 6""")
@click.option("--length", type=click.Choice([str(n) for n in CODE_LENGTHS]), default="16",
              show_default=True, help="Code length in bytes, without the 2-byte CRC.")
def new(length: str) -> None:
    """Print a new random install code with its CRC, as hex."""
    click.echo(InstallCode.generate(int(length)).reveal())


@command.command("check", epilog="""\b
Examples:
  hansim installcode check 83FED3407A939723A5C639B26916D505C3B5
  hansim installcode check 'Z:000D6F0000A1B2C3$I:83FED3407A939723A5C639B26916D505C3B5'""")
@click.argument("code")
def check(code: str) -> None:
    """Exit 0 if CODE is a valid install code, 1 with the reason if not."""
    parsed = _parse(code)
    click.echo(f"valid: {len(parsed)}-byte install code, CRC {parsed.crc.hex().upper()}")


@command.command("key", epilog="""\b
Examples:
  hansim installcode key 83FED3407A939723A5C639B26916D505C3B5
  hansim installcode key 83FED3407A939723A5C639B26916D505C3B5 --transport-key""")
@click.argument("code")
@click.option("--transport-key", "which", flag_value="transport",
              help="Print the key-transport key, HMAC-MMO(link key, 0x00).")
@click.option("--load-key", "which", flag_value="load",
              help="Print the key-load key, HMAC-MMO(link key, 0x02).")
def key(code: str, which: str | None) -> None:
    """Print the link key derived from CODE as 32 hex digits.

    The byte order is the one zigpy prints and Wireshark's "Normal" order expects.
    """
    link_key = bytes(_parse(code).link_key())
    derived = {"transport": key_transport_key, "load": key_load_key}
    out = derived[which](link_key) if which else link_key
    click.echo(out.hex().upper())
