"""``POST /v1/payments/callback``: the national payment platform confirms a payment.

The platform carries no API key. A callback is believed when it comes from
``LIENTHONG_NATIONAL_PAYMENT_CALLBACK_NETWORKS``, its ``MaXacThuc`` checks out under the shared
secret (vault credential ``national_payment.secret``, else an explicitly set
``LIENTHONG_NATIONAL_PAYMENT_SECRET``; there is no built-in one), and it matches a payment the hub
knows of (dossier, agency, procedure, amount) with ``ThoiGianGD`` inside
``LIENTHONG_NATIONAL_PAYMENT_CALLBACK_WINDOW_SECONDS``; see :mod:`.callback` for the checks in order.

Every answer is in the platform's own reply format ``{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu,
ThoiGianGD, MaXacThuc}``, not problem+json: the platform reads ``MaLoi``.

* paid (``MaLoi`` "00"): the canonical ``payment.confirmed`` (``message_id`` from ``MaGiaoDich``)
  goes through the same intake as ``POST /v1/messages`` with ``national_payment`` as its source;
  answered "00" once committed. A resend of the same transaction answers "00" and stores nothing new.
* failed payment (any other ``MaLoi``): answered "00", noted in the access record
  (outcome ``payment_failed``), not forwarded.
* refused (address, body, checksum, partner code): a non-"00" ``MaLoi`` with an HTTP 4xx, nothing
  stored, the reason in the access record's outcome.
* refused, not what the hub knows (unknown reference, another dossier, agency, procedure or amount,
  ``ThoiGianGD`` outside the window): a non-"00" ``MaLoi`` with an HTTP 4xx, outcome
  ``payment_refused:<why>``. A stored confirmation marks the payment's record paid.
* no secret (vault and setting empty): "99" with HTTP 503, outcome ``payment_refused:no_secret``.
* the store is down: "99" with HTTP 503; the platform sends again.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from typing import Any

import orjson
from prometheus_client import Counter

from connectors.national_dvc.payment import records
from connectors.national_dvc.payment.callback import Checked, bind, check, from_wire_date, reply
from connectors.national_dvc.payment.secret import payment_secret
from connectors.national_dvc.payment.wire import INTERNAL_ERROR, INVALID, NOT_ALLOWED, OK
from hub.seam import Inbound, InboundRoute, Refused, Reply, Unavailable

CALLBACKS = Counter("lienthong_payment_callbacks_total", "Payment platform callbacks, by outcome", ["outcome"])
PAYMENT_TYPES = ("payment.confirmed",)
REPLY_SCHEMA = {"$ref": "/schemas/national_payment/callback_reply.json"}


def _allowed(ip: str, networks: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


async def payment_callback(call: Inbound) -> Reply:
    """Check the callback, store a paid one as ``payment.confirmed``, answer in the platform's format."""
    ctx = call.ctx
    settings = ctx.settings
    if not _allowed(call.client_ip, settings.callback_networks):
        return _answer(call, Checked("ip_not_allowed", NOT_ALLOWED, 403, f"address {call.client_ip}", authentic=False), None)
    try:
        raw: Any = orjson.loads(await call.body())  # not normalised: checksummed as sent
    except Refused as refused:
        status = 413 if refused.slug == "body-too-large" else 415 if refused.slug == "unsupported-media-type" else 400
        return _answer(call, Checked("malformed", INVALID, status, refused.detail, authentic=False), None)
    except orjson.JSONDecodeError:
        return _answer(call, Checked("malformed", INVALID, 400, "not valid JSON", authentic=False), None)
    try:
        secret = await call.run(payment_secret, ctx)
    except Exception as exc:  # noqa: BLE001 - the vault is unreadable (database down, another master key)
        return _answer(call, Checked("payment_refused:vault_unreadable", INTERNAL_ERROR, 503,
                                     f"the vault cannot be read ({type(exc).__name__})", False), None)
    if not secret:  # no built-in secret: nothing is believed until an admin sets one
        return _answer(call, Checked("payment_refused:no_secret", INTERNAL_ERROR, 503,
                                     "no secret in the vault (national_payment.secret)", authentic=False), None)
    checked = check(raw, secret, settings.partner_code, ctx.code)
    if not checked.authentic or checked.callback is None:
        return _answer(call, checked, raw, secret)
    callback = checked.callback
    try:
        known = await call.run(records.find, ctx.engine, ctx.code, callback.MaThamChieu)
    except Exception:  # noqa: BLE001 - the store is down
        return _answer(call, Checked("store-unavailable", INTERNAL_ERROR, 503, "not checked", True), raw, secret)
    mismatch = bind(callback, known, datetime.now(timezone.utc), settings.callback_window_seconds)
    if mismatch is not None:
        return _answer(call, mismatch, raw, secret)
    if checked.message is None:  # a failed payment, bound to a known one: acknowledged, not forwarded
        return _answer(call, checked, raw, secret)
    try:
        verdict = await call.submit(checked.message, source=ctx.code, types=PAYMENT_TYPES)
    except Refused as why:  # the canonical model refuses it, the partner is unknown or suspended, no route
        status, code = {"validation": (400, INVALID), "partner_suspended": (403, NOT_ALLOWED)}.get(why.slug, (503, INTERNAL_ERROR))
        outcome = {"validation": "malformed"}.get(why.slug, why.slug)
        return _answer(call, Checked(outcome, code, status, why.detail, True), raw, secret)
    except Unavailable:
        return _answer(call, Checked("store-unavailable", INTERNAL_ERROR, 503, "not stored", True), raw, secret)
    try:  # also after a duplicate: a resend heals a record the first answer could not mark
        await call.run(records.mark_paid, ctx.engine, ctx.code, callback.MaThamChieu, callback.MaGiaoDich,
                       from_wire_date(callback.ThoiGianGD))
    except Exception:  # noqa: BLE001 - the store is down
        return _answer(call, Checked("store-unavailable", INTERNAL_ERROR, 503, "stored, not marked paid", True),
                       raw, secret)
    outcome = {"created": "ok", "duplicate": "duplicate", "conflict": "conflict"}[verdict]
    return _answer(call, Checked(outcome, OK, 200, checked.detail, True), raw, secret)


def _answer(call: Inbound, checked: Checked, raw: Any, secret: str | None = None) -> Reply:
    """The reply, signed only for an authentic callback; the outcome noted for the access record."""
    call.note(checked.outcome, f"payment callback: {checked.detail}"[:300])
    CALLBACKS.labels(checked.outcome).inc()
    return Reply(checked.status, reply(checked.ma_loi, raw, secret if checked.authentic else None))


ROUTE = InboundRoute(
    "POST", "/v1/payments/callback", payment_callback,
    summary="Payment platform: confirmation of a payment (authenticated by MaXacThuc, not an API key)",
    route_class=None, body="callback", tag="payments", own_errors=True,
    openapi={
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "/schemas/national_payment/callback.json"}}}},
        "responses": {str(status): {"description": text, "content": {"application/json": {"schema": REPLY_SCHEMA}}}
                      for status, text in {
                          200: "MaLoi 00: received (stored once, or a failed payment acknowledged)",
                          400: "MaLoi 02: malformed callback; MaLoi 06: ThoiGianGD outside the window",
                          401: "MaLoi 01: MaXacThuc does not match",
                          403: "MaLoi 03: another partner's MaDoiTac; MaLoi 05: address or partner not allowed",
                          404: "MaLoi 04: MaThamChieu is not a payment the hub knows of",
                          409: "MaLoi 02: dossier, agency, procedure or amount differ from the payment the hub knows",
                          413: "MaLoi 02: the body is larger than the hub accepts",
                          415: "MaLoi 02: the body is not application/json",
                          503: "MaLoi 99: not stored now (store down, or no payment secret configured); send again",
                      }.items()},
    },
)
