"""Whose keys sign and MAC GBCS messages: organisations' and devices' Digital Signing (DS)
and Key Agreement (KA) keys.

Where a key comes from, for an EUI-64 and a use (``ds`` / ``ka``):

1. ``<eui>-<use>.key`` in a key folder (the RTDS / DCC Boxed layout): the private key, so
   that party can sign and MAC (organisations: the test suppliers, the DCC's ACB).
2. ``<eui>-ka.pem`` only (a device certificate): the public key; a MAC with that device is
   made from the other party's private key, ECDH giving both the same secret.
3. Neither: hansim's test PKI, a P-256 key derived from the EUI (deterministic, no secret
   of anyone's) and a certificate from hansim's test CA, so a device can sign.

Default folder: SmartDCC's RTDS key store (``../shared/gbcs/gbcs-parser/test/rtds/keystore``,
or ``$HANSIM_GBCS_KEYSTORE``). :meth:`KeyStore.write` puts the certificates a run used in a
folder of that layout, so anyone can verify the payloads with gbcs-parser.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

from gbcs.encoding import GbcsError

Use = Literal["ds", "ka", "pp-ka"]  # "pp-ka": the prepayment top-up Key Agreement key
ENV = "HANSIM_GBCS_KEYSTORE"
PROJECT = Path(__file__).resolve().parents[1]
RTDS_KEYSTORE = PROJECT.parent / "shared" / "gbcs" / "gbcs-parser" / "test" / "rtds" / "keystore"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_NOT_BEFORE = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
_NOT_AFTER = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


def eui_bytes(eui: str | bytes) -> bytes:
    """An EUI-64 in any of the forms DUIS and files use, as 8 bytes."""
    if isinstance(eui, bytes):
        raw = eui
    else:
        try:
            raw = bytes.fromhex(eui.replace("-", "").replace(":", "").replace(" ", ""))
        except ValueError:
            raise GbcsError(f"{eui!r} is not an EUI-64") from None
    if len(raw) != 8:
        raise GbcsError(f"{raw.hex()} is not an EUI-64 (8 bytes)")
    return raw


def default_folders() -> list[Path]:
    """``$HANSIM_GBCS_KEYSTORE`` (folders, ``:``-separated), else the RTDS key store when it
    is there; with none, every party's keys come from hansim's test PKI."""
    given = os.environ.get(ENV)
    if given:
        return [Path(p) for p in given.split(os.pathsep)]
    return [RTDS_KEYSTORE] if RTDS_KEYSTORE.is_dir() else []


def _derived(label: bytes) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(b"hansim GBCS test PKI " + label).digest()
    return ec.derive_private_key(int.from_bytes(digest) % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _test_certificate(eui: bytes, use: Use, key: ec.EllipticCurvePublicKey) -> bytes:
    """hansim's test CA's certificate for a derived key (fixed dates: deterministic bytes)."""
    ca = _derived(b"CA")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hansim GBCS test CA")])
    usage = x509.KeyUsage(digital_signature=use == "ds", content_commitment=False,
                          key_encipherment=False, data_encipherment=False,
                          key_agreement=use == "ka", key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(name)
            .public_key(key)
            .serial_number(int.from_bytes(hashlib.sha256(eui + use.encode()).digest()[:15]))
            .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName(
                [x509.OtherName(x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4"), b"\x04\x08" + eui)]),
                critical=True)
            .add_extension(usage, critical=True)
            .sign(ca, hashes.SHA256(), ecdsa_deterministic=True))
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class KeyStore:
    """Key lookup over folders, falling back to hansim's test PKI; remembers what it served."""

    folders: list[Path] = field(default_factory=default_folders)
    used: set[tuple[bytes, Use]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for folder in self.folders:
            if not Path(folder).is_dir():
                raise GbcsError(f"GBCS key folder {folder} not found (set {ENV} to folders "
                                "holding <eui>-ds|ka.pem|key files)")
        self.folders = [Path(f) for f in self.folders]

    def _file(self, eui: bytes, use: Use, suffix: str) -> Path | None:
        for folder in self.folders:
            path = folder / f"{eui.hex()}-{use}.{suffix}"
            if path.is_file():
                return path
        return None

    def _pem(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as err:
            raise GbcsError(f"{path}: cannot read key file ({err.strerror})") from None

    def private(self, eui: str | bytes, use: Use) -> ec.EllipticCurvePrivateKey | None:
        """The party's private key, or None when only its certificate is known."""
        raw = eui_bytes(eui)
        self.used.add((raw, use))
        if (path := self._file(raw, use, "key")) is not None:
            try:
                key = serialization.load_pem_private_key(self._pem(path), password=None)
            except (ValueError, TypeError) as err:
                raise GbcsError(f"{path}: not an unencrypted PEM private key ({err})") from None
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise GbcsError(f"{path}: not an EC private key")
            return key
        if use == "ka" and self._file(raw, use, "pem") is not None:
            return None
        return _derived(raw + use.encode())

    def certificate(self, eui: str | bytes, use: Use) -> bytes:
        """The PEM certificate (or public key) the parser's key store reads for this party."""
        raw = eui_bytes(eui)
        self.used.add((raw, use))
        path = self._file(raw, use, "pem")
        # A device's DS certificate without its key: the device signs with the test PKI.
        if path is not None and (use == "ka" or self._file(raw, use, "key") is not None):
            return self._pem(path)
        private = self.private(raw, use)
        assert private is not None  # no KA certificate here, so the key is derived
        return _test_certificate(raw, use, private.public_key())

    def published(self, eui: str | bytes, use: Use) -> bytes | None:
        """The party's certificate in the folders (e.g. an RTDS device's), even when the
        party signs with the test PKI because its private key is not published."""
        path = self._file(eui_bytes(eui), use, "pem")
        return self._pem(path) if path is not None else None

    def test_pki_key(self, eui: str | bytes, use: Use) -> bytes | None:
        """The PEM private key of a party whose key is hansim's test PKI (derived from its
        EUI alone: public knowledge, no one's secret), None for a key from a folder. Written
        for organisations so that gbcs-parser can check the MACs made with them."""
        raw = eui_bytes(eui)
        if self._file(raw, use, "key") is not None or self._file(raw, use, "pem") is not None:
            return None
        return _derived(raw + use.encode()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def public(self, eui: str | bytes, use: Use) -> ec.EllipticCurvePublicKey:
        pem = self.certificate(eui, use)
        key: PublicKeyTypes
        if b"CERTIFICATE" in pem:
            key = x509.load_pem_x509_certificate(pem).public_key()
        else:
            key = serialization.load_pem_public_key(pem)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise GbcsError(f"{eui_bytes(eui).hex()}-{use}: not an EC public key")
        return key

    def agreement(self, one: str | bytes, other: str | bytes
                  ) -> tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey]:
        """A private KA key of one party and the public KA key of the other (either way
        round: ECDH gives both the same secret)."""
        if (mine := self.private(one, "ka")) is not None:
            return mine, self.public(other, "ka")
        if (theirs := self.private(other, "ka")) is not None:
            return theirs, self.public(one, "ka")
        raise GbcsError(f"no private Key Agreement key for {eui_bytes(one).hex()} or "
                        f"{eui_bytes(other).hex()}: the MAC cannot be made")

    def write(self, folder: Path, euis: Iterable[str | bytes] | None = None) -> list[Path]:
        """``<eui>-ds.pem`` and ``<eui>-ka.pem`` for each party (default: those used)."""
        folder.mkdir(parents=True, exist_ok=True)
        wanted = ({eui_bytes(e) for e in euis} if euis is not None
                  else {raw for raw, _ in self.used})
        written = []
        for raw in sorted(wanted):
            uses: tuple[Use, ...] = ("ds", "ka")
            for use in uses:
                path = folder / f"{raw.hex()}-{use}.pem"
                path.write_bytes(self.certificate(raw, use))
                written.append(path)
        return written


@functools.lru_cache(maxsize=1)
def shared() -> KeyStore:
    """The process's key store on the default folders: the one the DCC model, its devices
    and hansim's own supplier signer all use, so each party has one key."""
    return KeyStore()
