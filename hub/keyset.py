"""The hub's key set: the keys every process of one hub must share, their fingerprints, and
``lienthong keyset init``, which writes a full production key set once.

The set: the API-key pepper, the vault master key, the audit content and index keys, the audit
checkpoint signing key and the hub's signing key ring. Each is read by the module that uses it
(they never generate a key in the production profile); this module only reads them all at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config import PEPPER_FILE, Settings

#: Key name (as stored in ``key_fingerprints``) -> what it is and where it comes from, for messages.
KEYS: dict[str, str] = {
    "key_pepper": "API-key pepper (LIENTHONG_KEY_PEPPER or keys/api-key-pepper)",
    "vault_master_key": "vault master key (LIENTHONG_VAULT_MASTER_KEY or keys/vault-master.key)",
    "audit_content_key": "audit content key (LIENTHONG_AUDIT_CONTENT_KEY or keys/audit-content.key)",
    "audit_index_key": "audit index key (LIENTHONG_AUDIT_INDEX_KEY or keys/audit-index.key)",
    "audit_checkpoint_key": "audit checkpoint key (LIENTHONG_AUDIT_KEY_FILE or keys/audit-ed25519.pem; public part)",
    "hub_signing_keys": "hub signing key ring (keys/hub-signing/; public parts)",
}


def fingerprint(material: bytes) -> str:
    """First 16 hex digits of SHA-256: tells keys apart, reveals nothing of a 256-bit key.

    For the vault master key it is the vault's own ``master_key_id``; for the audit checkpoint key
    the first 16 digits of its ``key_id``.
    """
    return hashlib.sha256(material).hexdigest()[:16]


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def audit_checkpoint_fingerprint(settings: Settings) -> str:
    from hub.audit.keys import load_key

    return fingerprint(_raw_public(load_key(settings).private))


def hub_ring_fingerprint(settings: Settings) -> str:
    """Over every key of the ring, in order: its kid and public key (a rotation adds one)."""
    from hub.signatures.hub_keys import HubKeyRing

    ring = HubKeyRing.for_settings(settings)
    parts = [f"{k.kid}:{_raw_public(ring._private_key(k.kid)).hex()}" for k in ring.keys()]
    return fingerprint("\n".join(parts).encode())


def fingerprints(settings: Settings) -> dict[str, str]:
    """The fingerprint of every key this process runs with, by name (loading, in the sandbox
    profile generating, each key). Raises what the loaders raise: ``MissingKey``, ``ValueError``."""
    from hub.audit.crypto import audit_keys
    from hub.vault.envelope import master_key

    content, index = audit_keys(settings)
    return {
        "key_pepper": fingerprint(settings.effective_key_pepper.encode()),
        "vault_master_key": fingerprint(master_key(settings)),
        "audit_content_key": fingerprint(content),
        "audit_index_key": fingerprint(index),
        "audit_checkpoint_key": audit_checkpoint_fingerprint(settings),
        "hub_signing_keys": hub_ring_fingerprint(settings),
    }


# -- lienthong keyset init ------------------------------------------------------------------------

#: The files ``init`` writes, relative to the folder (the hub-signing ring adds ``<kid>.pem`` files).
INIT_FILES = (PEPPER_FILE, "vault-master.key", "audit-content.key", "audit-index.key", "audit-ed25519.pem",
              "hub-signing/ring.json")


class KeysetExists(FileExistsError):
    """``init`` refuses to write over a key set: replacing keys loses what they protect."""


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # O_EXCL: never over an existing file
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def init(folder: Path, settings: Settings) -> list[Path]:
    """Write a full production key set into ``folder`` (created mode 0700; files 0600).

    Refuses (:class:`KeysetExists`) when any key file of the set is already there. Returns the
    files written. The hub-signing ring is made with the publish lead of ``settings``.
    """
    from hub.audit.keys import _private_pem
    from hub.signatures.hub_keys import HubKeyRing

    present = [name for name in INIT_FILES if (folder / name).exists()]
    if present:
        raise KeysetExists(f"{folder} already holds {', '.join(present)}: 'keyset init' never replaces keys "
                           f"(that would lose what they protect); rotate them instead (keys/README.md)")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    values = {
        PEPPER_FILE: secrets.token_urlsafe(32).encode() + b"\n",
        "vault-master.key": base64.b64encode(os.urandom(32)) + b"\n",
        "audit-content.key": base64.b64encode(os.urandom(32)) + b"\n",
        "audit-index.key": base64.b64encode(os.urandom(32)) + b"\n",
        "audit-ed25519.pem": _private_pem(Ed25519PrivateKey.generate()),
    }
    written = []
    for name, data in values.items():
        _write_new(folder / name, data)
        written.append(folder / name)
    ring_dir = folder / "hub-signing"
    ring_dir.mkdir(mode=0o700, exist_ok=True)
    os.chmod(ring_dir, 0o700)
    ring = HubKeyRing(ring_dir, settings.signing_publish_lead_seconds, settings.signing_signature_lifetime_seconds)
    ring.keys()  # makes the first, active key
    written += sorted(ring_dir.iterdir())
    return written
