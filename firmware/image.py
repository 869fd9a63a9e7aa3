"""GB firmware images: what SRV 11.1 carries and SRV 11.3 activates.

Layout (domain.md §6, decoded from DCC's 11.1 test template)::

    ZigBee OTA header | manufacturer image | force-replace (1) | 0x40 (1) | r || s (64)

The header is zigpy's :class:`zigpy.ota.image.OTAImageHeader` (little-endian, as ZCL
writes it). GBCS has the supplier that authorises the image sign the manufacturer image
alone (ECDSA P-256 over SHA-256) with its Digital Signing key: the DCC's 11.1 test
template verifies with the DCC Boxed test supplier's certificate (90-B3-D5-1F-30-01-00-00,
CN=GITTESTSUPPLIER). The two bytes before the signature read ``00 40`` in that
template; public readers take the first as the Comms Hub's force-replace flag (00 or 01,
outside the signature) and the second as the signature length. Header fields are not
signed either: the device checks them against its catalogue. SRV 11.3 names the image by
a 32-byte hash: SHA-256 of the manufacturer image, the hash GBCS uses throughout.

zigpy's ``parse_ota_image`` cannot read these files whole: after the header it expects
ZCL sub-elements (tag, length, data) and a GB manufacturer image is opaque. The header
alone is read with zigpy's own :class:`OTAImageHeader`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import zigpy.types as zt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from zigpy.ota.image import FieldControl, HeaderString, HWVersion, OTAImageHeader

#: OTA header version ZCL defines and GB images use.
HEADER_VERSION = 0x0100
#: ZigBee stack version "ZigBee PRO" as the DCC template carries it.
STACK_VERSION_ZIGBEE_PRO = 0x0002
SIGNATURE_LENGTH = 64
#: The trailer before the signature: force-replace flag, signature length.
TRAILER_LENGTH = 2
#: DUIS UpdateFirmware/FirmwareImage maxLength (octets).
MAX_IMAGE_SIZE = 10_240_000
_MAGIC = OTAImageHeader.OTA_HEADER
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class FirmwareImageError(ValueError):
    """A firmware image hansim refuses: the message says what, where and why."""


class ImageFormatError(FirmwareImageError):
    """The bytes are not a well-formed GB firmware image."""


class SignatureError(FirmwareImageError):
    """The supplier's signature does not verify."""


def manufacturer_image_hash(manufacturer_image: bytes) -> bytes:
    """The 32-byte hash SRV 11.3 activates by: SHA-256 of the manufacturer image."""
    return hashlib.sha256(manufacturer_image).digest()


@dataclass(frozen=True)
class FirmwareImage:
    """A parsed image. ``signed`` is every byte the signature covers."""

    header: OTAImageHeader
    manufacturer_image: bytes
    signature: bytes
    force_replace: bool = False  # the Comms Hub's force-replace flag (not signed)

    @property
    def manufacturer_code(self) -> int:
        return int(self.header.manufacturer_id)

    @property
    def image_type(self) -> int:
        return int(self.header.image_type)

    @property
    def version(self) -> int:
        return int(self.header.file_version)

    @property
    def hardware_versions(self) -> tuple[int, int] | None:
        if not self.header.hardware_versions_present:
            return None
        return int(self.header.minimum_hardware_version), int(self.header.maximum_hardware_version)

    @property
    def hash(self) -> bytes:
        return manufacturer_image_hash(self.manufacturer_image)

    @property
    def signed(self) -> bytes:
        """The manufacturer image: all the supplier's signature covers."""
        return self.manufacturer_image

    def serialize(self) -> bytes:
        return (self.header.serialize() + self.manufacturer_image
                + bytes([int(self.force_replace), SIGNATURE_LENGTH]) + self.signature)

    def verify(self, supplier_key: ec.EllipticCurvePublicKey) -> None:
        """Raise :class:`SignatureError` unless the supplier's key signed this image."""
        r = int.from_bytes(self.signature[:32], "big")
        s = int.from_bytes(self.signature[32:], "big")
        if not (0 < r < _P256_ORDER and 0 < s < _P256_ORDER):
            raise SignatureError("signature: r or s is outside 1..n-1, not an ECDSA P-256 signature")
        try:
            supplier_key.verify(encode_dss_signature(r, s), self.signed,
                                ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise SignatureError(
                "signature: does not verify with the given supplier key "
                "(manufacturer image altered, or signed by another supplier)"
            ) from None


def build(
    *,
    supplier_key: ec.EllipticCurvePrivateKey,
    manufacturer_code: int,
    image_type: int,
    version: int,
    manufacturer_image: bytes,
    header_string: str = "",
    hardware_versions: tuple[int, int] | None = None,
    force_replace: bool = False,
) -> FirmwareImage:
    """Build an image signed by the authorising supplier. Signing is deterministic ECDSA
    (RFC 6979), so the same inputs and key give the same image, bit for bit."""
    _check_range("manufacturer code", manufacturer_code, 0xFFFF)
    _check_range("image type", image_type, 0xFFFF)
    _check_range("version", version, 0xFFFFFFFF)
    try:
        encoded = header_string.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from undecodable bytes on the command line
        raise ImageFormatError("header string: not valid Unicode text (cannot be UTF-8)") from None
    if len(encoded) > 32:
        raise ImageFormatError(f"header string: {len(encoded)} bytes in UTF-8, at most 32")
    if b"\x00" in encoded:
        # The header string is NUL-padded on the wire: an embedded NUL would be cut short.
        raise ImageFormatError("header string: contains a NUL character")
    if not manufacturer_image:
        raise ImageFormatError("manufacturer image: empty")
    fields: dict = {}
    control = FieldControl(0)
    if hardware_versions is not None:
        low, high = hardware_versions
        _check_range("minimum hardware version", low, 0xFFFF)
        _check_range("maximum hardware version", high, 0xFFFF)
        if low > high:
            raise ImageFormatError(f"hardware versions: minimum {low:#06x} > maximum {high:#06x}")
        control |= FieldControl.HARDWARE_VERSIONS_PRESENT
        fields = {"minimum_hardware_version": HWVersion(low),
                  "maximum_hardware_version": HWVersion(high)}
    header = OTAImageHeader(
        upgrade_file_id=OTAImageHeader.MAGIC_VALUE, header_version=HEADER_VERSION,
        header_length=0, field_control=control, manufacturer_id=manufacturer_code,
        image_type=image_type, file_version=version, stack_version=STACK_VERSION_ZIGBEE_PRO,
        header_string=HeaderString(encoded.ljust(32, b"\x00")), image_size=0, **fields,
    )
    header.header_length = zt.uint16_t(len(header.serialize()))
    header.image_size = zt.uint32_t(header.header_length + len(manufacturer_image)
                                    + TRAILER_LENGTH + SIGNATURE_LENGTH)
    if header.image_size > MAX_IMAGE_SIZE:
        raise ImageFormatError(f"image: {header.image_size} bytes, DUIS allows {MAX_IMAGE_SIZE}")
    der = supplier_key.sign(manufacturer_image, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return FirmwareImage(header, manufacturer_image, r.to_bytes(32, "big") + s.to_bytes(32, "big"),
                         force_replace)


def parse(data: bytes) -> FirmwareImage:
    """Parse an image; raise :class:`ImageFormatError` naming the field that is wrong."""
    if len(data) > MAX_IMAGE_SIZE:
        raise ImageFormatError(f"image: {len(data)} bytes, DUIS allows at most {MAX_IMAGE_SIZE}")
    if len(data) < len(_MAGIC) or data[: len(_MAGIC)] != _MAGIC:
        raise ImageFormatError(
            f"OTA file identifier: expected {_MAGIC.hex()} (0x0BEEF11E little-endian), "
            f"found {data[:4].hex() or 'nothing'}"
        )
    try:
        header, _ = OTAImageHeader.deserialize(data)
    except ValueError:
        raise ImageFormatError(f"OTA header: truncated ({len(data)} bytes in the file)") from None
    if header.header_version != HEADER_VERSION:
        raise ImageFormatError(
            f"OTA header version: expected {HEADER_VERSION:#06x}, found {header.header_version:#06x}")
    fields_length = len(header.serialize())
    if header.header_length != fields_length:
        raise ImageFormatError(
            f"OTA header length: field says {header.header_length}, its fields take {fields_length}")
    if header.image_size != len(data):
        what = "truncated" if len(data) < header.image_size else "oversized"
        raise ImageFormatError(
            f"image: {what}, header says {header.image_size} bytes, file has {len(data)}")
    body = data[fields_length:]
    trailer = TRAILER_LENGTH + SIGNATURE_LENGTH
    if len(body) <= trailer:
        raise ImageFormatError(
            f"image: {len(body)} bytes after the header, need a manufacturer image plus "
            f"{trailer} bytes of force-replace flag, signature length and signature")
    flag, length = body[-trailer], body[-trailer + 1]
    offset = len(data) - trailer
    if flag not in (0, 1):
        raise ImageFormatError(
            f"force-replace flag at offset {offset}: expected 00 or 01, found {flag:02x}")
    if length != SIGNATURE_LENGTH:
        raise ImageFormatError(
            f"signature length at offset {offset + 1}: expected 40, found {length:02x}")
    return FirmwareImage(header, body[:-trailer], body[-SIGNATURE_LENGTH:], bool(flag))


def _check_range(what: str, value: int, top: int) -> None:
    if not 0 <= value <= top:
        raise ImageFormatError(f"{what}: {value:#x} is outside 0..{top:#x}")
