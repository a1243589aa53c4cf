"""The hub's audit signing key (Ed25519): it signs the hash chain's checkpoints.

Files, next to the private key (``LIENTHONG_AUDIT_KEY_FILE``, default ``keys/audit-ed25519.pem``):

- ``audit-ed25519.pem``: the private key, PKCS8 PEM, mode 0600. Generated on first use when the
  setting is empty (sandbox profile only); a key file named by the setting must exist, and in the
  production profile the default file must too (production provides it);
- ``audit-ed25519.pub.d/<key_id>.pem``: the public keys of retired keys (``lienthong audit
  rotate-key`` moves the current key's public part there), so that the checkpoints they signed
  stay verifiable after a rotation.

``key_id`` is the hex SHA-256 of the raw 32-byte public key; every checkpoint carries it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.config import Settings, key_file
from hub.private_files import private_dir

KEY_FILE = "audit-ed25519.pem"


@dataclass(frozen=True)
class AuditKey:
    """The current signing key and its id."""

    private: Ed25519PrivateKey
    key_id: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, message: bytes) -> str:
        """Base64 of the Ed25519 signature of ``message``."""
        return base64.b64encode(self.private.sign(message)).decode()


def key_path(settings: Settings) -> Path:
    """Where the private key lives."""
    return Path(settings.audit_key_file) if settings.audit_key_file else settings.keys_dir / KEY_FILE


def retired_dir(settings: Settings) -> Path:
    """Where retired public keys live: ``<key file without .pem>.pub.d/`` (``keys/audit-ed25519.pub.d/``)."""
    path = key_path(settings)
    return path.with_name(f"{path.stem}.pub.d")


def key_id_of(public: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw public key."""
    return hashlib.sha256(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def _private_pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def _parse_private(pem: bytes, where: Path) -> Ed25519PrivateKey:
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{where} is not an Ed25519 private key")
    return private


def load_key(settings: Settings) -> AuditKey:
    """The current signing key; generated (atomically, mode 0600) on first use at the default path in
    the sandbox profile; :class:`hub.config.MissingKey` in production."""
    path = key_path(settings)
    if settings.audit_key_file and not path.exists():
        raise FileNotFoundError(f"LIENTHONG_AUDIT_KEY_FILE names {path}, which does not exist")
    pem = key_file(settings, path, lambda: _private_pem(Ed25519PrivateKey.generate()), "LIENTHONG_AUDIT_KEY_FILE")
    private = _parse_private(pem, path)
    return AuditKey(private, key_id_of(private.public_key()))


def public_pem(public: Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM of ``public``."""
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    """``public`` as a JWK (RFC 8037: OKP, Ed25519), ``kid`` = key id."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
            "kid": key_id_of(public), "use": "sig", "alg": "EdDSA"}


def public_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    """Every public key a checkpoint may have been signed with: the retired ones and the current one."""
    keys: dict[str, Ed25519PublicKey] = {}
    folder = retired_dir(settings)
    for pem in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        public = serialization.load_pem_public_key(pem.read_bytes())
        if isinstance(public, Ed25519PublicKey):
            keys[key_id_of(public)] = public
    current = load_key(settings)
    keys[current.key_id] = current.public
    return keys


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)  # the mode from the start: no chmod race
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def rotate(settings: Settings, new_key: Path | None = None) -> tuple[str, str]:
    """Retire the current key (its public part goes to :func:`retired_dir`) and put a new one in its place.

    ``new_key``: a provided Ed25519 PKCS8 PEM to install; default: a fresh key. Returns
    ``(old key id, new key id)``. Processes that sign pick the new key up at their next checkpoint.
    """
    old = load_key(settings)
    folder = private_dir(retired_dir(settings))
    _write_atomically(folder / f"{old.key_id}.pem", public_pem(old.public).encode(), 0o644)
    private = _parse_private(new_key.read_bytes(), new_key) if new_key else Ed25519PrivateKey.generate()
    _write_atomically(key_path(settings), _private_pem(private), 0o600)
    return old.key_id, key_id_of(private.public_key())
