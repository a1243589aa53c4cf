"""WS-Security towards the population database: XML signatures (xmlsec) over the SOAP Body and a Timestamp.

Signing uses zeep's ``MemorySignature`` (RSA-SHA256, SHA-256 digests, exclusive C14N) after adding a
``wsu:Timestamp`` to the ``wsse:Security`` header, so a signature covers both the body and its
validity window. Verification is hand-written around xmlsec because zeep's own check verifies
whatever the signature references: it does not insist that the Body is signed, does not refuse a
document with two elements of one ``wsu:Id`` (signature wrapping), and ignores the Timestamp.

Development identities (an RSA key and a self-signed X.509 certificate) are generated on first use
under ``keys/wsse/`` with :func:`dev_identity`; production places its own files there or points the
settings at them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from zeep import ns
from zeep.wsse.signature import MemorySignature
from zeep.wsse.utils import WSU, get_security_header, get_timestamp

from hub.seam import generated_secret

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ID = f"{{{ns.WSU}}}Id"
LIFETIME_SECONDS = 300  # a signed message is valid this long after it was made
SKEW_SECONDS = 60  # clocks may differ this much
HUB_IDENTITY = "hub"  #: file stem of the hub's development key and certificate under keys/wsse/
SIM_IDENTITY = "population-db-sim"  #: the simulator's (its certificate is the default partner certificate)


class SignatureInvalid(Exception):
    """A signed envelope that must not be believed; ``reason`` says why (no secrets, no content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- identities --------------------------------------------------------------------------------


def _new_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _self_signed(key_pem: bytes, common_name: str) -> bytes:
    # The two ignores below: load_pem_private_key is typed as any kind of private key (DH and X25519
    # among them), which cannot sign a certificate; the development key here is RSA (_new_key).
    key = serialization.load_pem_private_key(key_pem, password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lienthong (development)")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256()))  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM)


def identity_paths(directory: Path, name: str) -> tuple[Path, Path]:
    """Where :func:`dev_identity` keeps ``name``'s key and certificate (PEM)."""
    return directory / f"{name}-key.pem", directory / f"{name}-cert.pem"


def dev_identity(directory: Path, name: str) -> tuple[bytes, bytes]:
    """``(key_pem, cert_pem)`` of ``name`` under ``directory``, both created on first use (mode 0600).

    The key is written atomically first; the certificate is made from whichever key won, so the two
    always match even when several processes start at once."""
    key_path, cert_path = identity_paths(directory, name)
    key_pem = generated_secret(key_path, _new_key)
    cert_pem = generated_secret(cert_path, lambda: _self_signed(key_pem, name))
    return key_pem, cert_pem


# -- signing and verifying ---------------------------------------------------------------------


def sign_envelope(envelope: etree._Element, key_pem: bytes, cert_pem: bytes, lifetime: int = LIFETIME_SECONDS) -> None:
    """Add a ``wsu:Timestamp`` and an XML signature over it and the Body to ``envelope``, in place."""
    security = get_security_header(envelope)
    now = dt.datetime.now(dt.timezone.utc)
    security.append(WSU.Timestamp(WSU.Created(get_timestamp(now, zulu_timestamp=True)),
                                  WSU.Expires(get_timestamp(now + dt.timedelta(seconds=lifetime), zulu_timestamp=True))))
    MemorySignature(key_pem, cert_pem, signature_method=xmlsec.constants.TransformRsaSha256,
                    digest_method=xmlsec.constants.TransformSha256).apply(envelope, {})


def _only(elements: list[Any], what: str) -> etree._Element:
    if len(elements) != 1:
        raise SignatureInvalid(f"{what}: expected exactly one, found {len(elements)}")
    element: etree._Element = elements[0]
    return element


def _check_window(timestamp: etree._Element, now: dt.datetime) -> None:
    try:
        created = dt.datetime.fromisoformat(timestamp.findtext(f"{{{ns.WSU}}}Created") or "")
        expires = dt.datetime.fromisoformat(timestamp.findtext(f"{{{ns.WSU}}}Expires") or "")
    except ValueError:
        raise SignatureInvalid("timestamp: unreadable Created or Expires") from None
    skew = dt.timedelta(seconds=SKEW_SECONDS)
    if created.tzinfo is None or expires.tzinfo is None:
        raise SignatureInvalid("timestamp: times without a time zone")
    if created > now + skew:
        raise SignatureInvalid("timestamp: created in the future")
    if expires < now - skew:
        raise SignatureInvalid("timestamp: expired")


def verify_envelope(envelope: etree._Element, cert_pem: bytes, now: dt.datetime | None = None) -> None:
    """Raise :class:`SignatureInvalid` unless ``envelope`` carries one valid signature by ``cert_pem``'s key
    covering its Body and an unexpired Timestamp, each referenced element's id being unique."""
    security = _only(envelope.findall(f"{{{SOAP_ENV}}}Header/{{{ns.WSSE}}}Security"), "wsse:Security header")
    signature = _only(security.findall(f"{{{ns.DS}}}Signature"), "ds:Signature")
    timestamp = _only(security.findall(f"{{{ns.WSU}}}Timestamp"), "wsu:Timestamp")
    body = _only(envelope.findall(f"{{{SOAP_ENV}}}Body"), "soap:Body")
    uris = [ref.get("URI", "") for ref in signature.findall(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}Reference")]
    ids = {uri[1:] for uri in uris if uri.startswith("#")}
    if len(ids) != len(uris):
        raise SignatureInvalid("reference: only same-document #id references are accepted")
    for wanted, what in ((body, "soap:Body"), (timestamp, "wsu:Timestamp")):
        if wanted.get(ID) not in ids:
            raise SignatureInvalid(f"{what} is not signed")
    ctx = xmlsec.SignatureContext()
    for id_value in ids:
        target = _only(envelope.xpath("//*[@wsu:Id=$v]", namespaces={"wsu": ns.WSU}, v=id_value), f"element #{id_value}")
        ctx.register_id(target, "Id", ns.WSU)
    for transform in (xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformSha256):
        ctx.enable_reference_transform(transform)
    for transform in (xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256):
        ctx.enable_signature_transform(transform)
    try:
        ctx.key = xmlsec.Key.from_memory(cert_pem, xmlsec.constants.KeyDataFormatCertPem, None)
        ctx.verify(signature)
    except xmlsec.Error:
        raise SignatureInvalid("the signature does not verify (content changed, or not the expected key)") from None
    _check_window(timestamp, now or dt.datetime.now(dt.timezone.utc))


class WsseSigner:
    """A zeep ``wsse`` plugin: signs each request with the hub's key; verifies each answer with the
    partner's certificate when one is given (``sign_and_verify``), otherwise accepts it as is.

    ``partner_cert``: PEM bytes, or a path read at the first answer (the partner's file may appear
    after the client is built, as the sandbox simulator's does)."""

    def __init__(self, key_pem: bytes, cert_pem: bytes, partner_cert: bytes | Path | None = None) -> None:
        self.key_pem, self.cert_pem, self.partner_cert = key_pem, cert_pem, partner_cert

    def apply(self, envelope: etree._Element, headers: dict[str, str]) -> tuple[etree._Element, dict[str, str]]:
        sign_envelope(envelope, self.key_pem, self.cert_pem)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        if self.partner_cert is not None:
            verify_envelope(envelope, self._partner_pem())
        return envelope

    def _partner_pem(self) -> bytes:
        if isinstance(self.partner_cert, Path):
            path = self.partner_cert
            try:
                self.partner_cert = path.read_bytes()
            except OSError:
                raise SignatureInvalid(f"the partner's certificate {path} cannot be read") from None
        assert isinstance(self.partner_cert, bytes)
        return self.partner_cert
