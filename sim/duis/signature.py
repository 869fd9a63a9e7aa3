"""XML signatures on DUIS documents, as the DCC and its users put them on (DUIS §3, DCC Boxed).

Every service request is signed by its sender's XML-signing certificate and every
response and alert by the DSP's. The form is the one DCC Boxed's signing tool
(``@smartdcc/duis-sign-wrap``) writes and checks: an enveloped ``ds:Signature`` as the
root's last child, exclusive C14N, ECDSA P-256 with SHA-256, a SHA-256 digest of the
whole document (``URI=""``), and ``KeyInfo`` naming the certificate by issuer and serial
number. Canonicalisation and the signature maths are signxml's (on lxml), not ours.

A DOCTYPE is refused before anything else reads the bytes, as DCC Boxed's tool does:
a DUIS document has none, and one could expand entities or fetch external ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidInput, InvalidSignature

DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNATURE_METHOD = SignatureMethod.ECDSA_SHA256
DIGEST = DigestAlgorithm.SHA256
C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


#: Why C14N fails on a document lxml has parsed (e.g. a relative namespace URI).
NOT_CANONICAL = "the document cannot be canonicalised (C14N), e.g. a namespace URI that is not absolute"


class SignatureError(ValueError):
    """A document whose signature is missing, malformed, or not by the expected signer."""


class DoctypeRefused(ValueError):
    """A document that declares a DOCTYPE (DUIS documents never do)."""


@dataclass(frozen=True)
class SigningKey:
    """A private key and the certificate that names it (issuer and serial go in KeyInfo)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def parse_xml(data: bytes) -> etree._Element:
    """Parse DUIS bytes safely: no DOCTYPE, no entities, no network, no huge trees."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_blank_text=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise SignatureError(f"not well-formed XML: {err}") from None
    if root.getroottree().docinfo.doctype:
        raise DoctypeRefused("a DOCTYPE is not allowed in a DUIS document")
    return root


def sign(data: bytes, signer: SigningKey) -> bytes:
    """The document, compact, with an enveloped signature appended (any earlier one dropped).

    Compact because DCC Boxed's tool reads XML with whitespace-only text dropped: over an
    indented document its digest differs from ours, and it reports a failed signature
    check. DUIS documents on the wire are compact for that reason; no DUIS element's
    value is whitespace only.
    """
    root = parse_xml(data)
    for old in root.findall(f"{{{DS}}}Signature"):
        root.remove(old)
    for elem in root.iter():
        if elem.text is not None and not elem.text.strip():
            elem.text = None
        if elem.tail is not None and not elem.tail.strip():
            elem.tail = None
    xml_signer = XMLSigner(signature_algorithm=SIGNATURE_METHOD, digest_algorithm=DIGEST,
                           c14n_algorithm=C14N)
    xml_signer.namespaces = {"ds": DS}
    try:
        signed = xml_signer.sign(root, key=signer.key, key_info=_key_info(signer.certificate))
    except etree.C14NError:
        raise SignatureError(f"cannot sign: {NOT_CANONICAL}") from None
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify(data: bytes, certificates: list[x509.Certificate]) -> tuple[bytes, x509.Certificate]:
    """Check the enveloped signature against the certificate KeyInfo names among ``certificates``.

    Returns the document without its signature and the certificate that signed it.
    Raises SignatureError naming what is wrong: no signature, a certificate that is not
    one of the sender's, or a signature that does not verify (a tampered document).
    """
    root = parse_xml(data)
    signature = root.find(f"{{{DS}}}Signature")
    if signature is None:
        raise SignatureError("the document is not signed (no ds:Signature)")
    serial = signature.findtext(f".//{{{DS}}}X509IssuerSerial/{{{DS}}}X509SerialNumber")
    if serial is None or not serial.strip().isdigit():
        raise SignatureError("ds:KeyInfo names no certificate (X509IssuerSerial)")
    matching = [c for c in certificates if c.serial_number == int(serial)]
    if not matching:
        raise SignatureError(f"signed with certificate serial {serial.strip()}, which is not "
                             "one of the sender's XML-signing certificates")
    # Validity periods are not checked: several ZAZ1 test certificates are past their end
    # date and DCC Boxed's signing tool accepts them (SMKI revocation is out of scope).
    config = SignatureConfiguration(require_x509=False, signature_methods=frozenset({SIGNATURE_METHOD}),
                                    digest_algorithms=frozenset({DIGEST}),
                                    ignore_ambiguous_key_info=True)
    try:
        XMLVerifier().verify(root, x509_cert=matching[0], expect_config=config,
                             verification_time=matching[0].not_valid_before_utc)
    except (InvalidSignature, InvalidInput, etree.DocumentInvalid) as err:
        # DocumentInvalid: the ds:Signature is not xmldsig's shape (e.g. a SignatureValue
        # that is not base64), which signxml checks against the xmldsig schema first.
        raise SignatureError(f"signature check failed: {err}") from None
    except etree.C14NError:  # e.g. a relative namespace URI, which C14N cannot serialise
        raise SignatureError(f"signature check failed: {NOT_CANONICAL}") from None
    root.remove(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), matching[0]


def _key_info(certificate: x509.Certificate) -> etree._Element:
    """``ds:KeyInfo/X509Data/X509IssuerSerial`` as DCC Boxed writes it (issuer ``CN=Z1,OU=07``)."""
    key_info = etree.Element(f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    issuer_serial = etree.SubElement(etree.SubElement(key_info, f"{{{DS}}}X509Data"),
                                     f"{{{DS}}}X509IssuerSerial")
    etree.SubElement(issuer_serial, f"{{{DS}}}X509IssuerName").text = \
        certificate.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, f"{{{DS}}}X509SerialNumber").text = \
        str(certificate.serial_number)
    return key_info
