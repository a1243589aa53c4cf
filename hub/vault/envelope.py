"""Envelope encryption of one credential (AES-256-GCM twice, from ``cryptography``).

Each value gets its own random 256-bit data key. The value is encrypted under the data key with
AAD = name and version, so a ciphertext moved to another name or version does not decrypt; the
data key is encrypted ("wrapped") under the master key with AAD = name. Rotating the master key
re-wraps the data keys only: the values' ciphertexts never change.

Stored bytes: ``wrapped_key = nonce(12) || AESGCM(master, data_key)`` and
``ciphertext = nonce(12) || AESGCM(data_key, value)``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.config import Settings, key_file

MASTER_FILE = "vault-master.key"
NONCE = 12


class VaultError(RuntimeError):
    """The vault cannot open a credential (wrong master key, altered row). Never carries a value."""


class WrongMasterKey(VaultError):
    """A credential was sealed with another master key than this process has."""

    def __init__(self, sealed_with: str, have: str) -> None:
        super().__init__(f"the vault was sealed with master key {sealed_with}; this process has {have} "
                         f"(set LIENTHONG_VAULT_MASTER_KEY or keys/{MASTER_FILE} to the key it was sealed with)")
        self.sealed_with, self.have = sealed_with, have


class Sealed(NamedTuple):
    wrapped_key: bytes
    ciphertext: bytes


def parse_master(raw: bytes | str, where: str) -> bytes:
    """A master key from its stored form, base64 of 32 bytes; ``ValueError`` naming ``where`` otherwise."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError(f"vault master key from {where}: expected base64 of 32 bytes")
    return key


def master_key(settings: Settings) -> bytes:
    """The configured master key (``LIENTHONG_VAULT_MASTER_KEY``), or ``keys/vault-master.key``
    (generated on first run in the sandbox profile; in production :class:`hub.config.MissingKey`)."""
    if settings.vault_master_key:
        return parse_master(settings.vault_master_key, "LIENTHONG_VAULT_MASTER_KEY")
    path = settings.keys_dir / MASTER_FILE
    return parse_master(key_file(settings, path, new_master, "LIENTHONG_VAULT_MASTER_KEY"), str(path))


def new_master() -> bytes:
    """A fresh master key in its stored form (base64 of 32 random bytes, with a newline)."""
    return base64.b64encode(os.urandom(32)) + b"\n"


def key_id(master: bytes) -> str:
    """The master key's public name: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(master).hexdigest()[:16]


def _value_aad(name: str, version: int) -> bytes:
    return f"lienthong-vault:value:{name}:{version}".encode()


def _key_aad(name: str) -> bytes:
    return f"lienthong-vault:data-key:{name}".encode()


def _encrypt(key: bytes, plain: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plain, aad)


def _decrypt(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], aad)
    except InvalidTag:
        raise VaultError(f"{what} does not decrypt: the row was altered or moved") from None


def seal(master: bytes, name: str, version: int, value: str) -> Sealed:
    """``value`` under a fresh data key, the data key wrapped by ``master``."""
    data_key = AESGCM.generate_key(bit_length=256)
    return Sealed(_encrypt(master, data_key, _key_aad(name)), _encrypt(data_key, value.encode(), _value_aad(name, version)))


def unseal(master: bytes, name: str, version: int, sealed: Sealed) -> str:
    """The value :func:`seal` sealed; ``VaultError`` if anything was altered."""
    data_key = _decrypt(master, sealed.wrapped_key, _key_aad(name), f"the data key of credential {name!r}")
    return _decrypt(data_key, sealed.ciphertext, _value_aad(name, version), f"credential {name!r}").decode()


def rewrap(old: bytes, new: bytes, name: str, wrapped_key: bytes) -> bytes:
    """The data key in ``wrapped_key`` (under ``old``) wrapped under ``new`` instead."""
    data_key = _decrypt(old, wrapped_key, _key_aad(name), f"the data key of credential {name!r}")
    return _encrypt(new, data_key, _key_aad(name))
