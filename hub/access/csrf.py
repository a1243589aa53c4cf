"""CSRF tokens of the console's forms: bound to the session, checked by the guard on every form.

A signed-in person's token is ``HMAC-SHA256(pepper, "csrf|" + session digest)``: stable for the
session (every open tab's forms stay valid), different for every session, and worthless once the
session ends; nothing is stored. Before sign-in (the sign-in form itself) the token is a random
value that must equal the ``lt_csrf`` cookie (a double-submit cookie): a cross-site page can post a
form but can neither read nor set that cookie (SameSite=Strict, HttpOnly).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_COOKIE = "lt_console"
PRE_SESSION_COOKIE = "lt_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def session_token(pepper: str, session_digest: str) -> str:
    """The CSRF token of the session whose stored digest is ``session_digest``."""
    return hmac.new(pepper.encode(), f"csrf|{session_digest}".encode(), hashlib.sha256).hexdigest()


def new_pre_session_token() -> str:
    """A fresh double-submit value for the sign-in form and its cookie."""
    return secrets.token_urlsafe(24)


def matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison; an empty or missing token never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
