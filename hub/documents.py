"""Result documents: fetched by URL and checked against the SHA-256 their message names.

A ``result.issued`` message names each document by ``url`` and ``sha256``. :func:`fetch_document`
fetches one for a partner and returns it only if its digest matches; a mismatch raises
:class:`DigestMismatch` and the bytes are dropped. The URL comes from a partner's message, so the
fetch must not become a way to read what the hub can reach and the partner cannot (server-side
request forgery, docs/security/documents.md):

- only ``http``/``https``, no user name or password in the URL, no redirects followed;
- the host must be in ``LIENTHONG_DOCUMENT_HOSTS`` (exact names, or ``.example.gov.vn`` for a
  domain and its subdomains) AND every address it resolves to must be public or inside
  ``LIENTHONG_DOCUMENT_ALLOWED_NETWORKS`` (hub/document_addresses.py); the name is looked up once
  and the hub connects to the checked address, never to a second answer (DNS rebinding);
- one time budget, ``LIENTHONG_DOCUMENT_TIMEOUT``, covers the whole fetch (look-up, connection,
  headers, body), so a server that trickles bytes cannot hold the hub longer;
- at most ``LIENTHONG_DOCUMENT_MAX_BYTES``, counted while the body streams in.

What a partner learns is limited too: an error names a generic reason, never the remote server's
status, headers, content, addresses or the fetched bytes' digest (a digest answer would let a
partner read any file: ask once to learn its SHA-256, then send a message naming it).

The document is held in memory until its digest is known (it must not be passed on before).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import logging
import re
import ssl
from dataclasses import dataclass

import anyio
import httpx

from hub.config import Settings
from hub.document_addresses import AddressRefused, NotResolved, Resolver, admitted_ranges, networks, resolve_checked

log = logging.getLogger(__name__)
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAMES = ("localhost", ".localhost")  # RFC 6761: these names resolve to loopback
_MEDIA_TYPE = re.compile(r"^[\x20-\x7e]{1,200}$")


class DocumentError(Exception):
    """The document cannot be given out; the message is a generic reason (never content or digest)."""


class DocumentRefused(DocumentError):
    """The hub may not fetch this URL (scheme, credentials, a host or address not allowed)."""


class DocumentUnavailable(DocumentError):
    """The document could not be fetched: unreachable, not answered 200, too large or too slow."""


class DigestMismatch(DocumentError):
    """The fetched bytes do not have the SHA-256 the message names (what they have is not kept)."""

    def __init__(self) -> None:
        super().__init__("the SHA-256 of the fetched bytes is not the one the message names")


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


def check_url(url: str, hosts: list[str]) -> httpx.URL:
    """``url`` parsed, if its form and host allow fetching it; raises :class:`DocumentRefused` otherwise.

    The URL is parsed once, by httpx, and that parse is what is checked and what is dialled (a second
    parser could read a different host out of the same string)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise DocumentRefused("the document URL cannot be parsed") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise DocumentRefused(f"only http and https documents are fetched, not {parsed.scheme or 'no scheme'}")
    if parsed.userinfo:
        raise DocumentRefused("a document URL may not carry a user name or password")
    host = parsed.raw_host.decode("ascii")
    if not host or not host_allowed(host, hosts):
        raise DocumentRefused(f"the hub does not fetch documents from host {host or '(none)'} (not in its allowlist)")
    return parsed


async def fetch_document(url: str, sha256: str, *, settings: Settings, resolver: Resolver | None = None,
                         verify: ssl.SSLContext | bool = True) -> Document:
    """The document at ``url``, whose SHA-256 (hex) must be ``sha256``, within one time budget.

    ``resolver`` replaces the system name look-up and ``verify`` the TLS trust store (tests).
    Raises :class:`DocumentRefused`, :class:`DocumentUnavailable` or :class:`DigestMismatch`."""
    parsed = check_url(url, settings.document_hosts)
    host = parsed.raw_host.decode("ascii")
    budget = settings.document_timeout
    try:
        with anyio.fail_after(budget):  # the whole fetch: look-up, connection, headers, body
            addresses = await resolve_checked(host, parsed.port or DEFAULT_PORTS[parsed.scheme],
                                              networks(settings.document_allowed_networks), resolver)
            content, content_type = await _download(parsed, host, addresses, settings, verify)
    except AddressRefused as exc:
        log.warning("documents: refused %s: it resolves to %s", host, exc)
        raise DocumentRefused(f"host {host} resolves to an address the hub does not fetch documents from") from None
    except NotResolved as exc:
        log.info("documents: %s did not resolve (%s)", host, exc)
        raise DocumentUnavailable("the document's server could not be reached") from None
    except (TimeoutError, httpx.TimeoutException):
        raise DocumentUnavailable(f"the document did not arrive within {budget:g} s") from None
    actual = hashlib.sha256(content).hexdigest()
    if not hmac.compare_digest(actual, sha256.lower()):
        # The fact only: the real digest would make this log line the oracle the answer no longer is.
        log.warning("documents: digest mismatch for a document on %s; not passed on", host)
        raise DigestMismatch()
    return Document(content, content_type, actual)


async def _download(parsed: httpx.URL, host: str, addresses: list[str], settings: Settings,
                    verify: ssl.SSLContext | bool) -> tuple[bytes, str]:
    """GET ``parsed`` from the first of ``addresses`` that accepts a connection.

    Pinning: the URL is rewritten to the checked IP, so httpx never looks the name up again; the
    ``Host`` header carries the original name and, for https, the ``sni_hostname`` request extension
    makes httpcore send that name in SNI and verify the certificate against it (not against the IP).
    This uses only public httpx/httpcore API; a custom network backend would need httpx's private
    transport internals. ``trust_env=False``: an environment proxy would resolve the name itself."""
    limit = settings.document_max_bytes
    extensions = {"sni_hostname": host} if parsed.scheme == "https" and not _is_ip(host) else {}
    headers = {"Host": parsed.netloc.decode("ascii"), "Accept": "*/*"}
    async with httpx.AsyncClient(timeout=settings.document_timeout, follow_redirects=False, trust_env=False,
                                 verify=verify) as client:
        for i, address in enumerate(addresses):
            request = client.build_request("GET", parsed.copy_with(host=address), headers=headers,
                                           extensions=extensions)
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError as exc:
                log.info("documents: could not connect to %s at %s (%s)", host, address, type(exc).__name__)
                if i + 1 < len(addresses):
                    continue
                raise DocumentUnavailable("the document's server could not be reached") from None
            except httpx.TimeoutException:
                raise
            except httpx.HTTPError as exc:
                log.info("documents: fetching from %s at %s failed (%s)", host, address, type(exc).__name__)
                raise DocumentUnavailable("the document's server could not be reached") from None
            try:
                return await _read(response, host, limit)
            finally:
                await response.aclose()
    raise DocumentUnavailable("the document's server could not be reached")  # no address (not reached)


async def _read(response: httpx.Response, host: str, limit: int) -> tuple[bytes, str]:
    if response.status_code != 200:
        # The status stays in the log: told to the partner, it would map paths on internal servers.
        log.info("documents: %s answered HTTP %d", host, response.status_code)
        raise DocumentUnavailable("the document's server did not answer with the document "
                                  "(200 OK expected; redirects are not followed)")
    too_large = f"the document is larger than the hub's limit of {limit} bytes"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise DocumentUnavailable(too_large)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():  # decoded: the limit counts what would be kept
            size += len(chunk)
            if size > limit:
                raise DocumentUnavailable(too_large)
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise
    except httpx.HTTPError as exc:
        log.info("documents: reading from %s failed (%s)", host, type(exc).__name__)
        raise DocumentUnavailable("the document's server could not be reached") from None
    content_type = response.headers.get("content-type", "")
    return b"".join(chunks), content_type if _MEDIA_TYPE.match(content_type) else "application/octet-stream"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fetch_verified(url: str, sha256: str, *, settings: Settings, resolver: Resolver | None = None,
                   verify: ssl.SSLContext | bool = True) -> Document:
    """:func:`fetch_document` for callers outside an event loop (the CLI, tests)."""
    return anyio.run(functools.partial(fetch_document, url, sha256, settings=settings, resolver=resolver,
                                       verify=verify))


def unsafe_document_settings(settings: Settings) -> list[str]:
    """Reasons the document settings are unsafe for production (empty: none), for the start-up check.

    Unsafe: an allowed network that overlaps loopback, link-local (the 169.254.169.254 metadata
    service) or the unspecified address, or an allowlisted host that is a loopback name or address.
    Private ranges (a province's own document server) are a deliberate choice and not reported."""
    reasons = [f"document allowlist admits {', '.join(names)} {cidr} (LIENTHONG_DOCUMENT_ALLOWED_NETWORKS)"
               for cidr, names in admitted_ranges(settings.document_allowed_networks)]
    for entry in settings.document_hosts:
        name = entry.lower().rstrip(".")
        if name in LOOPBACK_NAMES or name.endswith(".localhost"):
            reasons.append(f"document allowlist admits loopback host {entry} (LIENTHONG_DOCUMENT_HOSTS)")
        elif _is_ip(name.strip("[]")) and admitted_ranges([name.strip("[]")]):
            reasons.append(f"document allowlist admits loopback or link-local address {entry} "
                           "(LIENTHONG_DOCUMENT_HOSTS)")
    return reasons
