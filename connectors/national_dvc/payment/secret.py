"""The shared secret of the ``MaXacThuc`` checksums, and what the hub does without one.

The secret is vault credential ``national_payment.secret``, else the explicitly configured
``LIENTHONG_NATIONAL_PAYMENT_SECRET``; there is no built-in default. Without one the hub refuses
every callback (``MaLoi`` "99", HTTP 503: the platform sends again once an admin has set it), warns
once at start-up (:func:`warn_if_missing`) and ``/healthz`` says so (:func:`payment_callbacks_state`).
"""

from __future__ import annotations

import logging

from connectors.national_dvc.payment.settings import CODE
from hub.seam import Context

log = logging.getLogger(__name__)
CREDENTIAL = f"{CODE}.secret"
NO_SECRET = f"refused: no secret in the vault ({CREDENTIAL})"


def payment_secret(ctx: Context) -> str:
    """Vault credential ``national_payment.secret``, else the ``secret`` setting; "" when neither is set.
    Raises what the vault raises (a database error, a vault sealed with another master key)."""
    return ctx.credential("secret", None) or ctx.settings.secret or ""


def payment_callbacks_state(ctx: Context) -> str:
    """``/healthz``'s ``national_payment``: "ok", or why callbacks are refused now."""
    try:
        return "ok" if payment_secret(ctx) else NO_SECRET
    except Exception as exc:  # noqa: BLE001 - health reports any failure to read the secret as a state
        return f"refused: the vault cannot be read ({type(exc).__name__})"


def warn_if_missing(ctx: Context) -> bool:
    """Log one WARNING when callbacks would be refused for want of a secret; True when one is set."""
    state = payment_callbacks_state(ctx)
    if state != "ok":
        log.warning("payment callbacks are %s: every callback of the payment platform is refused (MaLoi 99) until "
                    "an admin sets it: 'lienthong credentials set %s' or PUT /v1/admin/credentials/%s",
                    state, CREDENTIAL, CREDENTIAL)
    return state == "ok"


def seed_secret(ctx: Context) -> None:
    """The sandbox's set-up: a random secret in the vault when neither the vault nor the settings hold
    one (the hub has no built-in secret). Later runs keep it."""
    import secrets

    if not payment_secret(ctx):
        ctx.put_credential("secret", secrets.token_urlsafe(32))
