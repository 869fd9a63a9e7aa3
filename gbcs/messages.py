"""Who wraps a use case's content how (GBCS 4.3, 7.2): the DCC's Access Control Broker
MACs every command; a supplier signs a critical command's pre-command; a device signs
the response to a critical command and critical alerts, and MACs the rest.

Counters are the caller's: the DCC's originator counter and the supplier's request
counter for commands, the command's counter in a response, the device's own in an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gbcs import ecdsa
from gbcs.ciphering import GENERAL_CIPHERING, MacedMessage
from gbcs.encoding import GbcsError
from gbcs.grouping import GENERAL_SIGNING, Cra, GroupingHeader, SignedMessage
from gbcs.keystore import KeyStore, eui_bytes

#: The DCC's Access Control Broker in the DCC Boxed / RTDS test PKI.
ACB = bytes.fromhex("90B3D51F30000002")


@dataclass(frozen=True)
class Opened:
    """A message read and checked: its General Signing APDU and whether a MAC wrapped it."""

    message: SignedMessage
    maced: bool


@dataclass
class Envelopes:
    """Builds and checks the GBCS envelopes with one key store."""

    keys: KeyStore = field(default_factory=KeyStore)
    acb: bytes = ACB

    # -- the DCC's side ----------------------------------------------------------------------
    def command(self, header: GroupingHeader, content: bytes) -> bytes:
        """A non-critical command: empty signature, MACed by the ACB for the recipient."""
        return self._seal(SignedMessage(header, content, b""))

    def pre_command(self, header: GroupingHeader, content: bytes) -> bytes:
        """A critical command for its originator (the supplier) to sign: no signature field."""
        return SignedMessage(header, content, None).to_bytes()

    def critical_command(self, signed: bytes) -> bytes:
        """The ACB's MAC round a pre-command the supplier signed (sent to the device)."""
        return self._seal(SignedMessage.from_bytes(signed))

    # -- the supplier's side -----------------------------------------------------------------
    def sign(self, pre_command: bytes, signer: str | bytes | None = None) -> bytes:
        """Sign a pre-command with its originator's (or ``signer``'s) Digital Signing key, as
        gbcs-parser's ``signGroupingHeader`` does."""
        pre = SignedMessage.from_bytes(pre_command)
        if pre.signature:
            raise GbcsError("pre-command is already signed")
        key = self.keys.private(signer if signer is not None else pre.header.originator, "ds")
        assert key is not None  # DS keys always resolve (file or test PKI)
        return SignedMessage(pre.header, pre.content,
                             ecdsa.sign(key, pre.signed_data())).to_bytes()

    # -- a device's side ---------------------------------------------------------------------
    def reply(self, header: GroupingHeader, content: bytes, signed: bool) -> bytes:
        """A response or alert from a device (``header.originator``): signed with its DS key
        (critical), else MACed with the recipient."""
        if signed:
            key = self.keys.private(header.originator, "ds")
            assert key is not None
            message = SignedMessage(header, content, b"")
            return SignedMessage(header, content,
                                 ecdsa.sign(key, message.signed_data())).to_bytes()
        return self._seal(SignedMessage(header, content, b""))

    # -- anyone reading ----------------------------------------------------------------------
    def open(self, data: bytes, signer: str | bytes | None = None) -> Opened:
        """Read a message and check its MAC (if any) and signature (if any, with ``signer``'s
        key, default the originator's). A bad MAC or signature is a :class:`GbcsError`."""
        if data[:1] == GENERAL_CIPHERING[:1]:
            maced = MacedMessage.from_bytes(data)
            header = maced.inner.header
            if not maced.mac_valid(*self._mac_keys(header)):
                raise GbcsError(f"MAC of the {header.cra.name.lower()} from "
                                f"{header.originator.hex().upper()} does not verify")
            message, was_maced = maced.inner, True
        elif data[:1] == bytes([GENERAL_SIGNING]):
            message, was_maced = SignedMessage.from_bytes(data), False
        else:
            raise GbcsError("not a GBCS message: neither General Ciphering (DD) nor General "
                            "Signing (DF)")
        if message.signature:
            who = eui_bytes(signer) if signer is not None else message.header.originator
            if not ecdsa.verify(self.keys.public(who, "ds"), message.signed_data(),
                                message.signature):
                raise GbcsError(f"signature does not verify with {who.hex().upper()}'s "
                                "Digital Signing key")
        return Opened(message, was_maced)

    def _mac_keys(self, header: GroupingHeader):
        """The MAC is keyed between the ACB (commands) or the originator (responses,
        alerts) and the recipient."""
        first = self.acb if header.cra == Cra.COMMAND else header.originator
        return self.keys.agreement(first, header.recipient)

    def _seal(self, message: SignedMessage) -> bytes:
        return MacedMessage.seal(message, *self._mac_keys(message.header)).to_bytes()
