"""``POST /v1/payments/callback``: the national payment platform confirms a payment.

The platform carries no API key. A callback is believed when it comes from
``LIENTHONG_PAYMENT_CALLBACK_NETWORKS``, its ``MaXacThuc`` checks out under the shared secret
(vault credential ``payment.secret``, else an explicitly set ``LIENTHONG_PAYMENT_SECRET``; there is
no built-in one), and it matches a payment the hub knows of (dossier, agency, procedure, amount)
with ``ThoiGianGD`` inside ``LIENTHONG_PAYMENT_CALLBACK_WINDOW_SECONDS``; see
:mod:`connectors.national_dvc.payment.callback` for the checks in order.

Every answer is in the platform's own reply format ``{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu,
ThoiGianGD, MaXacThuc}``, not problem+json: the platform reads ``MaLoi``.

* paid (``MaLoi`` "00"): the canonical ``payment.confirmed`` (``message_id`` from ``MaGiaoDich``)
  goes through the same intake as ``POST /v1/messages`` (prepared, routed, group-committed) with
  the payment partner (``LIENTHONG_PAYMENT_SOURCE``) as its source; answered "00" once committed.
  A resend or duplicate of the same transaction answers "00" and stores nothing new.
* failed payment (any other ``MaLoi``): answered "00", recorded in the access record
  (outcome ``payment_failed``), not forwarded.
* refused (address, body, checksum, partner code): a non-"00" ``MaLoi`` with an HTTP 4xx, nothing
  stored, the reason in the access record's outcome.
* refused, not what the hub knows (unknown reference, another dossier, agency, procedure or amount,
  ``ThoiGianGD`` outside the window): a non-"00" ``MaLoi`` with an HTTP 4xx, nothing stored, outcome
  ``payment_refused:<why>``. A stored confirmation marks the payment's record paid.
* no secret (vault and setting empty): "99" with HTTP 503, outcome ``payment_refused:no_secret``.
* the store is down: "99" with HTTP 503; the platform sends again.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import orjson
from fastapi import APIRouter, Request
from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from connectors.national_dvc.payment import records
from connectors.national_dvc.payment.callback import Checked, bind, check, from_wire_date, reply
from connectors.national_dvc.payment.secret import payment_callbacks_state, payment_secret, warn_if_missing
from connectors.national_dvc.payment.wire import INTERNAL_ERROR, INVALID, NOT_ALLOWED, OK
from hub.access.networks import Network, in_any, parse_networks
from hub.access.principal import Principal
from hub.access.scopes import Scopes
from hub.config import Settings
from hub.edge.body import read_body
from hub.edge.guard import GuardedRoute
from hub.edge.prepare import prepare
from hub.edge.problems import Problem
from hub.edge.responses import json_response
from hub.partners import get_partner
from hub.store.intake import StoreUnavailable
from hub.vault.envelope import WrongMasterKey

router = APIRouter(tags=["payments"], route_class=GuardedRoute)
CALLBACKS = Counter("lienthong_payment_callbacks_total", "Payment platform callbacks, by outcome", ["outcome"])
PAYMENT_TYPES = ("payment.confirmed",)

REPLY_SCHEMA = {"$ref": "/schemas/national_payment/callback_reply.json"}
DOC = {
    "security": [],
    "x-own-errors": True,  # every answer is in the platform's reply format, not problem+json
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "/schemas/national_payment/callback.json"}}}},
}


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values, "payment_callback_networks")


__all__ = ["router", "payment_secret", "payment_callbacks_state", "warn_if_missing"]


@router.post(
    "/v1/payments/callback",
    summary="Payment platform: confirmation of a payment (authenticated by MaXacThuc, not an API key)",
    openapi_extra=DOC,
    responses={status: {"description": text, "content": {"application/json": {"schema": REPLY_SCHEMA}}}
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
)
async def payment_callback(request: Request) -> Response:
    """Check the callback, store a paid one as ``payment.confirmed``, answer in the platform's format."""
    settings: Settings = request.app.state.settings
    source = settings.payment_source
    ip, _ = request.app.state.gate.client(request)
    if not in_any(ip, _networks(tuple(settings.payment_callback_networks))):
        return _answer(request, Checked("ip_not_allowed", NOT_ALLOWED, 403, f"address {ip}", authentic=False), None)
    try:
        raw: Any = orjson.loads(await read_body(request, settings.max_body_bytes))  # not normalised: checksummed as sent
    except Problem as problem:
        return _answer(request, Checked("malformed", INVALID, problem.status, problem.detail, authentic=False), None)
    except orjson.JSONDecodeError:
        return _answer(request, Checked("malformed", INVALID, 400, "not valid JSON", authentic=False), None)
    try:
        secret = await run_in_threadpool(payment_secret, settings)
    except (SQLAlchemyError, WrongMasterKey) as exc:
        return _answer(request, Checked("payment_refused:vault_unreadable", INTERNAL_ERROR, 503,
                                        f"the vault cannot be read ({type(exc).__name__})", False), None)
    if not secret:  # no built-in secret: nothing is believed until an admin sets one
        return _answer(request, Checked("payment_refused:no_secret", INTERNAL_ERROR, 503,
                                        "no secret in the vault (payment.secret)", authentic=False), None)
    checked = check(raw, secret, settings.payment_partner_code, source)
    if not checked.authentic or checked.callback is None:
        return _answer(request, checked, raw, secret)
    callback = checked.callback
    try:
        known = await run_in_threadpool(records.find, request.app.state.engine, source, callback.MaThamChieu)
    except SQLAlchemyError:
        return _answer(request, Checked("store-unavailable", INTERNAL_ERROR, 503, "not checked", True), raw, secret)
    refused = bind(callback, known, datetime.now(timezone.utc), settings.payment_callback_window_seconds)
    if refused is not None:
        return _answer(request, refused, raw, secret)
    if checked.message is None:  # a failed payment, bound to a known one: acknowledged, not forwarded
        return _answer(request, checked, raw, secret)

    partner = await run_in_threadpool(get_partner, request.app.state.engine, source)
    if partner is None or partner["state"] != "active":
        why = "unknown_partner" if partner is None else "partner_suspended"
        status, code = (503, INTERNAL_ERROR) if partner is None else (403, NOT_ALLOWED)
        return _answer(request, Checked(why, code, status, f"partner {source!r}", authentic=True), raw, secret)
    caller = Principal(source, partner["kind"], scopes=Scopes(types=PAYMENT_TYPES, endpoints=("intake",)))
    request.scope["state"]["principal"] = caller
    request.scope["state"]["message_ids"] = (checked.message["message_id"],)
    try:
        prepared = prepare(checked.message, caller, request.app.state.routes)
    except Problem as problem:  # the canonical model refuses it (422), or no route sends it anywhere
        refused = Checked("malformed", INVALID, 400, problem.detail, True) if problem.slug == "validation" \
            else Checked(problem.slug, INTERNAL_ERROR, 503, problem.detail, True)
        return _answer(request, refused, raw, secret)
    try:
        [result] = await request.app.state.committer.submit([prepared])
    except StoreUnavailable:
        return _answer(request, Checked("store-unavailable", INTERNAL_ERROR, 503, "not stored", True), raw, secret)
    try:  # also after a duplicate: a resend heals a record the first answer could not mark
        await run_in_threadpool(records.mark_paid, request.app.state.engine, source, callback.MaThamChieu,
                                callback.MaGiaoDich, from_wire_date(callback.ThoiGianGD))
    except SQLAlchemyError:
        return _answer(request, Checked("store-unavailable", INTERNAL_ERROR, 503, "stored, not marked paid", True),
                       raw, secret)
    outcome = {"created": "ok", "duplicate": "duplicate", "conflict": "conflict"}[result.verdict]
    return _answer(request, Checked(outcome, OK, 200, checked.detail, True), raw, secret)


def _answer(request: Request, checked: Checked, raw: Any, secret: str | None = None) -> Response:
    """The reply, signed only for an authentic callback; the outcome noted for the access record."""
    state = request.scope["state"]
    state["outcome"] = checked.outcome
    state["summary"] = f"payment callback: {checked.detail}"[:300]
    if "principal" not in state:
        state["attempt"] = {"partner_code": request.app.state.settings.payment_source, "key_id": None, "account": None}
    CALLBACKS.labels(checked.outcome).inc()
    return json_response(reply(checked.ma_loi, raw, secret if checked.authentic else None), checked.status)
