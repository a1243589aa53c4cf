"""The shared secret of the ``MaXacThuc`` checksums, and what the hub does without one.

The secret is vault credential ``payment.secret``, else the explicitly configured
``LIENTHONG_PAYMENT_SECRET``; there is no built-in default. Without one the hub refuses every
callback (``MaLoi`` "99", HTTP 503: the platform sends again once an admin has set it), warns once
at start-up (:func:`warn_if_missing`) and ``/healthz`` says so (:func:`payment_callbacks_state`).
"""

from __future__ import annotations

import logging

from hub.config import Settings
from hub.vault.store import credential

log = logging.getLogger(__name__)
CREDENTIAL = "payment.secret"
NO_SECRET = f"refused: no secret in the vault ({CREDENTIAL})"


def payment_secret(settings: Settings) -> str:
    """Vault credential ``payment.secret``, else ``settings.payment_secret``; "" when neither is set.
    Raises what the vault raises (a database error, :class:`~hub.vault.envelope.WrongMasterKey`)."""
    return credential(settings, CREDENTIAL, None) or settings.payment_secret or ""


def payment_callbacks_state(settings: Settings) -> str:
    """``/healthz``'s ``payment_callbacks``: "ok", or why callbacks are refused now."""
    try:
        return "ok" if payment_secret(settings) else NO_SECRET
    except Exception as exc:  # noqa: BLE001 - health reports any failure to read the secret as a state
        return f"refused: the vault cannot be read ({type(exc).__name__})"


def warn_if_missing(settings: Settings) -> bool:
    """Log one WARNING when callbacks would be refused for want of a secret; True when one is set."""
    state = payment_callbacks_state(settings)
    if state != "ok":
        log.warning("payment callbacks are %s: every callback of the payment platform is refused (MaLoi 99) until "
                    "an admin sets it: 'lienthong credentials set %s' or PUT /v1/admin/credentials/%s",
                    state, CREDENTIAL, CREDENTIAL)
    return state == "ok"
