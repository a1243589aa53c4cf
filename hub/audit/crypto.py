"""Citizen data in the access log: encrypted content and a blind index.

- ``seal_content`` encrypts a look-up's content (which ID number, name, purpose, dossier code) with
  AES-256-GCM under the audit content key, stored as ``v1:<base64(nonce || ciphertext)>``. Only ``open_content`` (an auditor's audited decryption)
  turns it back.
- ``blind_index`` is HMAC-SHA256 of the normalised ID number under a separate index key, so an
  auditor can find every look-up of one ID number without decrypting anything, and the database
  alone reveals nothing (a 12-digit ID space is small: an unkeyed hash would be reversible).

Keys: ``LIENTHONG_AUDIT_CONTENT_KEY`` / ``LIENTHONG_AUDIT_INDEX_KEY`` (base64 of 32 bytes), or the
development files ``keys/audit-content.key`` / ``keys/audit-index.key`` generated on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.config import Settings, generated_secret

VERSION = "v1:"
_NOT_DIGITS = re.compile(r"\D")


def _key(configured: str, path: Path) -> bytes:
    raw = configured.encode() if configured else generated_secret(path, lambda: base64.b64encode(os.urandom(32)))
    key = base64.b64decode(raw.strip())
    if len(key) != 32:
        raise ValueError(f"audit key {path.name}: expected base64 of 32 bytes")
    return key


@lru_cache(maxsize=8)
def _keys(content: str, index: str, keys_dir: str) -> tuple[AESGCM, bytes]:
    folder = Path(keys_dir)
    return AESGCM(_key(content, folder / "audit-content.key")), _key(index, folder / "audit-index.key")


class CitizenData:
    """Encrypts look-up content and computes blind indexes under the settings' audit keys."""

    def __init__(self, settings: Settings) -> None:
        self._aead, self._index_key = _keys(settings.audit_content_key, settings.audit_index_key, str(settings.keys_dir))

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
            return orjson.loads(self._aead.decrypt(raw[:12], raw[12:], None))  # type: ignore[no-any-return]
        except Exception as exc:  # InvalidTag: altered, or another key
            raise ValueError("the content does not decrypt under the audit key (altered, or another key)") from exc
