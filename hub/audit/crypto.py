"""Citizen data in the access log: encrypted content and a blind index.

- ``seal_content`` encrypts a look-up's content (which ID number, name, purpose, dossier code) with
  AES-256-GCM under the audit content key, stored as ``v1:<base64(nonce || ciphertext)>``. Only
  ``open_content`` (an auditor's audited decryption) turns it back.
- ``blind_index`` is HMAC-SHA256 of the normalised ID number under a separate index key, so an
  auditor can find every look-up of one ID number without decrypting anything, and the database
  alone reveals nothing (a 12-digit ID space is small: an unkeyed hash would be reversible).

Keys: ``LIENTHONG_AUDIT_CONTENT_KEY`` / ``LIENTHONG_AUDIT_INDEX_KEY`` (base64 of 32 bytes), or the
development files ``keys/audit-content.key`` / ``keys/audit-index.key`` generated on first use (in the
production profile never generated: a missing file is :class:`hub.config.MissingKey`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.config import Settings, key_file

VERSION = "v1:"
_NOT_DIGITS = re.compile(r"\D")


CONTENT_FILE, INDEX_FILE = "audit-content.key", "audit-index.key"


def _key(settings: Settings, configured: str, path: Path, setting: str) -> bytes:
    raw = configured.encode() if configured else key_file(settings, path, lambda: base64.b64encode(os.urandom(32)),
                                                          setting)
    try:
        key = base64.b64decode(raw.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError(f"audit key {path.name if not configured else setting}: expected base64 of 32 bytes")
    return key


def audit_keys(settings: Settings) -> tuple[bytes, bytes]:
    """The raw (content key, index key), each from its setting or its file under ``keys_dir``."""
    folder = settings.keys_dir
    return (_key(settings, settings.audit_content_key, folder / CONTENT_FILE, "LIENTHONG_AUDIT_CONTENT_KEY"),
            _key(settings, settings.audit_index_key, folder / INDEX_FILE, "LIENTHONG_AUDIT_INDEX_KEY"))


@lru_cache(maxsize=8)
def _keys(content: str, index: str, keys_dir: str, profile: Literal["sandbox", "production"]) -> tuple[AESGCM, bytes]:
    settings = Settings.model_construct(audit_content_key=content, audit_index_key=index, keys_dir=Path(keys_dir),
                                        profile=profile)
    content_key, index_key = audit_keys(settings)
    return AESGCM(content_key), index_key


class CitizenData:
    """Encrypts look-up content and computes blind indexes under the settings' audit keys."""

    def __init__(self, settings: Settings) -> None:
        self._aead, self._index_key = _keys(settings.audit_content_key, settings.audit_index_key, str(settings.keys_dir),
                                            settings.profile)

    def blind_index(self, citizen_id: str) -> str:
        """The keyed hash auditors search by; the same for ``"0010 9500 1234"`` and ``"001095001234"``."""
        return hmac.new(self._index_key, _NOT_DIGITS.sub("", citizen_id).encode(), hashlib.sha256).hexdigest()

    def seal_content(self, content: dict[str, Any]) -> str:
        """``content`` encrypted (fresh 96-bit nonce each time)."""
        nonce = os.urandom(12)
        return VERSION + base64.b64encode(nonce + self._aead.encrypt(nonce, orjson.dumps(content), None)).decode()

    def open_content(self, sealed: str) -> dict[str, Any]:
        """The content ``seal_content`` encrypted; raises ``ValueError`` if it was altered or is not ours."""
        if not sealed.startswith(VERSION):
            raise ValueError("not an encrypted audit content")
        raw = base64.b64decode(sealed[len(VERSION):])
        try:
            content: dict[str, Any] = orjson.loads(self._aead.decrypt(raw[:12], raw[12:], None))
        except Exception as exc:  # InvalidTag: altered, or another key
            raise ValueError("the content does not decrypt under the audit key (altered, or another key)") from exc
        return content
