"""Secrets handed to callers (API keys, session tokens): made, shown once, stored as keyed hashes.

A key looks like ``lt_live_<43 url-safe chars>`` and a session token ``lt_sess_<...>``; the
recognisable prefixes make a leaked one easy to grep for. The database holds
``HMAC-SHA256(pepper, secret)`` and, for keys, the first characters for display.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "lt_live_"
SESSION_PREFIX = "lt_sess_"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str, pepper: str) -> str:
    """The stored form of a key or token."""
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """What lists show of a key: the prefix and four characters."""
    return key[: len(KEY_PREFIX) + 4]
