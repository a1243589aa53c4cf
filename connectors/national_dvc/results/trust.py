"""The certificate authorities a result's signer must chain to: ``LIENTHONG_NATIONAL_DVC_RESULT_TRUST_ROOTS``,
a PEM (or DER) file or a folder of them, read again when a file in it changes."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUFFIXES = (".pem", ".crt", ".cer", ".der")
_lock = threading.Lock()
_cache: dict[str, tuple[tuple[tuple[str, int, int], ...], "TrustRoots"]] = {}


class TrustUnavailable(Exception):
    """The configured trust list cannot be read (no such path, unreadable file, no certificate in it)."""


@dataclass(frozen=True)
class TrustRoots:
    certificates: tuple[Any, ...]  #: asn1crypto ``x509.Certificate`` objects
    fingerprint: str  #: SHA-256 over the certificates, in order: a verdict is cached for one trust list only

    @property
    def names(self) -> list[str]:
        return [c.subject.human_friendly for c in self.certificates]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if path.is_file():
        return [path]
    raise TrustUnavailable(f"the trust list {path} does not exist (RESULT_TRUST_ROOTS)")


def load(setting: str) -> TrustRoots:
    """The certificates of ``setting`` (a file or a folder); raises :class:`TrustUnavailable`."""
    if not setting.strip():
        raise TrustUnavailable("no trust list is configured (LIENTHONG_NATIONAL_DVC_RESULT_TRUST_ROOTS)")
    path = Path(setting).expanduser()
    files = _files(path)
    try:
        stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError as exc:
        raise TrustUnavailable(f"the trust list {path} cannot be read ({type(exc).__name__})") from None
    with _lock:
        cached = _cache.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
    from pyhanko.keys import load_certs_from_pemder_data  # loaded when used

    certificates: list[Any] = []
    for f in files:
        try:
            certificates.extend(load_certs_from_pemder_data(f.read_bytes()))
        except (OSError, ValueError) as exc:
            raise TrustUnavailable(f"the trust list file {f} cannot be read as PEM or DER certificates "
                                   f"({type(exc).__name__})") from None
    if not certificates:
        raise TrustUnavailable(f"the trust list {path} holds no certificate")
    digest = hashlib.sha256(b"".join(c.dump() for c in certificates)).hexdigest()
    roots = TrustRoots(tuple(certificates), digest)
    with _lock:
        _cache[str(path)] = (stamp, roots)
    return roots


def unsafe(settings: Any) -> list[str]:
    """Reasons the production profile refuses to start (the portal's ``safety``): a policy that checks
    signatures with a trust list that cannot be read would hold back (``refuse``) or flag every result.
    ``off`` is not refused (existing configurations keep starting): results/README.md asks for flag or refuse."""
    if settings.result_signatures == "off":
        return []
    try:
        load(settings.result_trust_roots)
    except TrustUnavailable as exc:
        return [f"LIENTHONG_NATIONAL_DVC_RESULT_SIGNATURES is {settings.result_signatures} but {exc}"]
    return []
