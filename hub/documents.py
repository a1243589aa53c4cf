"""Result documents: fetched by URL and checked against the SHA-256 their message names.

A ``result.issued`` message names each document by ``url`` and ``sha256``. :func:`fetch_verified`
fetches one for a partner and returns it only if its digest matches; a mismatch raises
:class:`DigestMismatch` and the bytes are dropped. Fetching is limited, since the URL comes from a
partner's message (server-side request forgery):

- only ``http``/``https``, no user name or password in the URL, no redirects followed;
- the host must be in ``LIENTHONG_DOCUMENT_HOSTS`` (exact names, or ``.example.gov.vn`` for a
  domain and its subdomains); the default allows only the sandbox's 127.0.0.1/localhost;
- at most ``LIENTHONG_DOCUMENT_MAX_BYTES``, within ``LIENTHONG_DOCUMENT_TIMEOUT`` seconds.

The document is held in memory until its digest is known (it must not be passed on before).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from hub.config import Settings

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class DocumentError(Exception):
    """The document cannot be given out; the message says why (never its content)."""


class DocumentRefused(DocumentError):
    """The hub may not fetch this URL (scheme, credentials in the URL, or a host not allowed)."""


class DocumentUnavailable(DocumentError):
    """The document could not be fetched: network, HTTP status, timeout or size."""


class DigestMismatch(DocumentError):
    """The fetched bytes do not have the SHA-256 the message names."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"the document's SHA-256 is {actual}, the message names {expected}")
        self.expected, self.actual = expected, actual


@dataclass(frozen=True)
class Document:
    content: bytes
    content_type: str
    sha256: str  # hex

    @property
    def content_digest(self) -> str:
        """The RFC 9530 ``Content-Digest`` field value of the content."""
        return f"sha-256=:{base64.b64encode(bytes.fromhex(self.sha256)).decode()}:"


def host_allowed(host: str, hosts: list[str]) -> bool:
    """True when ``host`` is one of ``hosts``, or under a ``.domain`` entry of it."""
    host = host.lower().rstrip(".")
    for entry in (h.lower().rstrip(".") for h in hosts):
        if host == entry or (entry.startswith(".") and (host.endswith(entry) or host == entry[1:])):
            return True
    return False


def check_url(url: str, hosts: list[str]) -> str:
    """``url``'s host if the hub may fetch it; raises :class:`DocumentRefused` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DocumentRefused(f"only http and https documents are fetched, not {parts.scheme or 'no scheme'}")
    if parts.username is not None or parts.password is not None:
        raise DocumentRefused("a document URL may not carry a user name or password")
    host = parts.hostname or ""
    if not host or not host_allowed(host, hosts):
        raise DocumentRefused(f"the hub does not fetch documents from host {host or '(none)'} (not in its allowlist)")
    return host


def fetch_verified(url: str, sha256: str, *, settings: Settings,
                   transport: httpx.BaseTransport | None = None) -> Document:
    """The document at ``url``, whose SHA-256 (hex) must be ``sha256``.

    Raises :class:`DocumentRefused`, :class:`DocumentUnavailable` or :class:`DigestMismatch`."""
    host = check_url(url, settings.document_hosts)
    limit = settings.document_max_bytes
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    try:
        with httpx.Client(timeout=settings.document_timeout, follow_redirects=False, transport=transport) as client:
            with client.stream("GET", url, headers={"Accept": "*/*"}) as response:
                if response.status_code != 200:
                    raise DocumentUnavailable(f"{host} answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise DocumentUnavailable(f"the document is {declared} bytes; the hub fetches at most {limit}")
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise DocumentUnavailable(f"the document is larger than {limit} bytes")
                    digest.update(chunk)
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "application/octet-stream")
    except httpx.TimeoutException:
        raise DocumentUnavailable(f"{host} did not answer within {settings.document_timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise DocumentUnavailable(f"fetching from {host} failed ({type(exc).__name__})") from None
    actual = digest.hexdigest()
    if not hmac.compare_digest(actual, sha256.lower()):
        log.warning("documents: digest mismatch for a document on %s (%d bytes)", host, size)
        raise DigestMismatch(sha256.lower(), actual)
    return Document(b"".join(chunks), content_type, actual)
