"""``hansim firmware``: build, inspect and verify GB firmware images (SRV 11.1 / 11.3)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from firmware import image, signing_keys
from firmware.catalogue import DEFAULT_CATALOGUE, Catalogue
from firmware.image import FirmwareImageError
from sim.output import atomic_write, write_files


class HexInt(click.ParamType):
    """An unsigned integer written in hex (``0x`` optional), at most ``digits`` digits."""

    name = "HEX"

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        text = value.lower().removeprefix("0x")
        if not re.fullmatch(r"[0-9a-f]+", text):  # int(..., 16) also takes a sign, spaces and _
            self.fail(f"{value!r:.40} is not hexadecimal (digits 0-9 and A-F, 0x optional)", param, ctx)
        if len(text) > self.digits:
            self.fail(f"{value!r:.40} has more than {self.digits} hex digits", param, ctx)
        return int(text, 16)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise click.ClickException(f"{what} {path}: cannot read ({err.strerror})") from None


def _fail(path: str, err: FirmwareImageError) -> click.ClickException:
    return click.ClickException(f"{path}: {err}")


def _hardware(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        low, high = (int(part.lower().removeprefix("0x"), 16) for part in text.split("-"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: write LOW-HIGH in hex, e.g. 0100-01FF") from None
    return low, high


@click.group("firmware")
def command() -> None:
    """GB firmware images: ZigBee OTA header, manufacturer image, ECDSA P-256 signature."""


@command.command("keygen", epilog="""\b
Example:
  hansim firmware keygen -o supplier.key --public supplier.pem""")
@click.option("-o", "--out", "key_out", required=True, type=click.Path(dir_okay=False),
              help="Private key (PEM, unencrypted: keep it secret).")
@click.option("--public", "public_out", required=True, type=click.Path(dir_okay=False),
              help="Public key (PEM) for `hansim firmware verify --supplier-cert`.")
def keygen(key_out: str, public_out: str) -> None:
    """Make an ECDSA P-256 supplier signing key pair for testing."""
    key = signing_keys.generate()
    write_files({key_out: signing_keys.private_pem(key),  # both or neither
                 public_out: signing_keys.public_pem(key.public_key())}, secrets=[key_out])
    click.echo(f"wrote {key_out} (private) and {public_out} (public)")


_BUILD_EXAMPLE = ("hansim firmware build --supplier-key s.key --manufacturer-code 1234 --image-type 1 "
                  "--version 20100 --payload fw -o fw.ota")


@command.command("build", epilog=f"\b\nExample:\n  {_BUILD_EXAMPLE}")
@click.option("--supplier-key", required=True, type=click.Path(dir_okay=False),
              help="The authorising supplier's Digital Signing key (ECDSA P-256 private key, "
                   "PEM): e.g. DCC Boxed's test supplier 90b3d51f30010000-ds.key, or one from "
                   "`hansim firmware keygen`.")
@click.option("--manufacturer-code", required=True, type=HexInt(4), help="ZigBee manufacturer code.")
@click.option("--image-type", required=True, type=HexInt(4), help="OTA image type.")
@click.option("--version", "version", required=True, type=HexInt(8), help="Firmware (file) version.")
@click.option("--payload", required=True, type=click.Path(dir_okay=False),
              help="The manufacturer image (opaque bytes).")
@click.option("--header-string", default="", help="Up to 32 bytes of text for the OTA header.")
@click.option("--hardware-versions", default=None, metavar="LOW-HIGH",
              help="Hardware version range the image fits, hex, e.g. 0100-01FF.")
@click.option("--force-replace", is_flag=True,
              help="Set the Comms Hub's force-replace flag (the byte before the signature length).")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Image file to write.")
def build(supplier_key: str, manufacturer_code: int, image_type: int, version: int,
          payload: str, header_string: str, hardware_versions: str | None, force_replace: bool,
          out: str) -> None:
    """Build a firmware image signed by the supplier; print its version and 11.3 hash."""
    try:
        key = signing_keys.load_private_key(_read(supplier_key, "key"), supplier_key)
        built = image.build(supplier_key=key, force_replace=force_replace,
                            manufacturer_code=manufacturer_code,
                            image_type=image_type, version=version,
                            manufacturer_image=_read(payload, "payload"),
                            header_string=header_string,
                            hardware_versions=_hardware(hardware_versions))
    except FirmwareImageError as err:
        raise click.ClickException(str(err)) from None
    data = built.serialize()
    atomic_write(out, data)
    click.echo(f"wrote {out}: {len(data)} bytes, version {built.version:08X}, "
               f"hash {built.hash.hex().upper()}")


@command.command("inspect", epilog="""\b
Example:
  hansim firmware inspect fw.ota""")
@click.argument("image_file", type=click.Path(dir_okay=False))
def inspect(image_file: str) -> None:
    """Print an image's header fields and 11.3 hash (exit 1 if malformed)."""
    try:
        parsed = image.parse(_read(image_file, "image"))
    except FirmwareImageError as err:
        raise _fail(image_file, err) from None
    header = parsed.header
    hw = parsed.hardware_versions
    rows = [
        ("manufacturer code", f"{parsed.manufacturer_code:04X}"),
        ("image type", f"{parsed.image_type:04X}"),
        ("version", f"{parsed.version:08X}"),
        ("header string", header.header_string.rstrip(b"\x00").decode("utf-8", "replace")),
        ("stack version", f"{header.stack_version:04X}"),
        ("hardware versions", f"{hw[0]:04X}-{hw[1]:04X}" if hw else "any"),
        ("total size", str(header.image_size)),
        ("header length", str(header.header_length)),
        ("manufacturer image", f"{len(parsed.manufacturer_image)} bytes"),
        ("force replace", "yes" if parsed.force_replace else "no"),
        ("hash (SHA-256, 11.3)", parsed.hash.hex().upper()),
        ("signature (r||s)", parsed.signature.hex().upper()),
    ]
    for name, value in rows:
        click.echo(f"{name:21} {value}")


@command.command("verify", epilog="""\b
Examples:
  hansim firmware verify fw.ota --supplier-cert supplier.pem
  hansim firmware verify fw.ota --supplier-cert supplier.pem --running 00020000""")
@click.argument("image_file", type=click.Path(dir_okay=False))
@click.option("--supplier-cert", required=True, type=click.Path(dir_okay=False),
              help="The authorising supplier's Digital Signing certificate or public key "
                   "(P-256, PEM): e.g. DCC Boxed's test supplier 90b3d51f30010000-ds.pem, "
                   "which verifies the DCC's 11.1 template image.")
@click.option("--running", type=HexInt(8), default=None,
              help="Also check the catalogue allows upgrading a device running this version.")
@click.option("--hardware", type=HexInt(4), default=None,
              help="With --running: the device's hardware version (default: the model's lowest).")
@click.option("--catalogue", "catalogue_file", type=click.Path(dir_okay=False),
              default=str(DEFAULT_CATALOGUE), show_default="built-in",
              help="Model and version catalogue (YAML).")
def verify(image_file: str, supplier_cert: str, running: int | None, hardware: int | None,
           catalogue_file: str) -> None:
    """Exit 0 if IMAGE is well formed and signed by the supplier; 1 with the reason."""
    try:
        key = signing_keys.load_public_key(_read(supplier_cert, "certificate"), supplier_cert)
    except FirmwareImageError as err:
        raise click.ClickException(str(err)) from None
    try:
        parsed = image.parse(_read(image_file, "image"))
        parsed.verify(key)
        if running is not None:
            catalogue = Catalogue.load(catalogue_file)
            model = catalogue.model_for(parsed.manufacturer_code, parsed.image_type)
            catalogue.check_image(parsed, model, model.hardware_versions[0] if hardware is None
                                  else hardware, running)
    except FirmwareImageError as err:
        raise _fail(image_file, err) from None
    click.echo(f"valid: version {parsed.version:08X}, hash {parsed.hash.hex().upper()}")
