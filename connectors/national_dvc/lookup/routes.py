"""The status look-up's routes: the portal's ``TraCuuHoSo``, partners' JSON, the public JSON, page and QR code.

Every answer comes from what the hub holds (:func:`connectors.national_dvc.dossiers.dossier`), never
from the one-stop system. In every handler the code's format is checked first
(``hub.messages.codes``: ``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX`` with a real date): a code that fails
is refused naming the rule and reaches no query. A dossier the hub only saw steps of (never its
record) is not found, like one it never saw: the public learns nothing beyond "not found".
The public routes are throttled per client address before anything else, so refused and unknown
codes count as much as found ones.
"""

from __future__ import annotations

from typing import Any

import orjson

from connectors.national_dvc.dossiers import Dossier, dossier
from connectors.national_dvc.lookup import page, qr
from connectors.national_dvc.lookup.answers import (
    INVALID,
    NOT_ALLOWED,
    NOT_FOUND,
    partner_answer,
    portal_answer,
    portal_refusal,
    public_answer,
)
from hub.messages.codes import check_dossier_code, nfc_deep
from hub.seam import Inbound, InboundRoute, Refused, Reply, Unavailable

PORTAL_PATH = "/v1/dvcqg/TraCuuHoSo"
NO_STORE = {"Cache-Control": "no-store"}
PUBLIC_BUCKET, QR_BUCKET = "dossier-lookup", "dossier-qr"

#: Problem types the look-up raises (registered in the portal's manifest).
PROBLEMS: dict[str, tuple[int, str]] = {
    "lookup-code": (422, "Not a dossier code (V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX with a real date)"),
    "lookup-not-found": (404, "The hub holds no dossier with this code"),
}


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a dossier code, or None when it is one."""
    try:
        check_dossier_code(code)
    except ValueError as exc:
        return str(exc)
    return None


def _checked(code: str) -> str:
    why = code_problem(code)
    if why is not None:
        raise Refused("lookup-code", why, field="dossier_code", rule="dossier_code")
    return code


async def find(call: Inbound, code: str) -> Dossier | None:
    """The dossier ``code`` (already checked) whose record the hub holds, or None."""
    try:
        found = await call.run(dossier, call.ctx.engine, code)
    except Exception:  # noqa: BLE001 - the store is down: the caller may ask again
        raise Unavailable("the hub's store cannot be read now") from None
    return found if found is not None and found.known else None


# -- the portal: TraCuuHoSo ------------------------------------------------------------------------

async def tra_cuu_ho_so(call: Inbound) -> Reply:
    """``POST /v1/dvcqg/TraCuuHoSo`` ``{"mahoso": ...}`` by the portal's key: the portal's answer."""
    if call.partner_code != call.ctx.code:  # another partner's key with the read scope: not the portal
        call.note("forbidden", "TraCuuHoSo by a key that is not the portal's")
        return Reply(403, portal_refusal(NOT_ALLOWED, "Chỉ Cổng Dịch vụ công quốc gia được gọi dịch vụ này"))
    try:
        raw: Any = nfc_deep(orjson.loads(await call.body()))  # read here, under 4 KiB: refusals in the portal's format
    except Refused as refused:
        status = 413 if refused.slug == "body-too-large" else 415 if refused.slug == "unsupported-media-type" else 400
        call.note("malformed", f"TraCuuHoSo: {refused.slug}")
        return Reply(status, portal_refusal(INVALID, f"Dữ liệu gửi lên không hợp lệ ({refused.slug})"))
    except orjson.JSONDecodeError:
        call.note("malformed", "TraCuuHoSo: body not JSON")
        return Reply(400, portal_refusal(INVALID, "Dữ liệu gửi lên không phải JSON hợp lệ"))
    code = raw.get("mahoso") if isinstance(raw, dict) else None
    if not isinstance(code, str) or code_problem(code) is not None:
        call.note("malformed", "TraCuuHoSo: mahoso missing or not a dossier code")
        return Reply(400, portal_refusal(INVALID, "mahoso: mã hồ sơ không đúng định dạng "
                                                  "V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX"))
    try:
        found = await find(call, code)
    except Unavailable:
        call.note("store-unavailable", f"TraCuuHoSo {code}")
        return Reply(503, portal_refusal("99", "Hệ thống tạm thời không đọc được dữ liệu, vui lòng gọi lại"))
    if found is None:
        call.note("not_found", f"TraCuuHoSo {code}")
        return Reply(200, portal_refusal(NOT_FOUND, f"Không tìm thấy hồ sơ {code}"))
    call.note("ok", f"TraCuuHoSo {code}: status {found.status}")
    return Reply(200, portal_answer(found), headers=NO_STORE)


# -- partners and people: GET /v1/dossiers/{dossier_code}/status -----------------------------------

async def partner_status(call: Inbound) -> Reply:
    """A dossier's state for a partner key with the read scope (or an operator)."""
    code = _checked(call.path_params["dossier_code"])
    found = await find(call, code)
    if found is None:
        call.note("not_found", f"status of {code}")
        raise Refused("lookup-not-found", f"the hub holds no dossier {code}")
    call.note("ok", f"status of {code}: {found.status}")
    return Reply(200, partner_answer(found), headers=NO_STORE)


# -- the public: JSON, page, QR code ---------------------------------------------------------------

async def public_status(call: Inbound) -> Reply:
    """The public minimum, by the code alone; throttled per address (404s and bad codes count)."""
    await call.throttle(PUBLIC_BUCKET, call.ctx.settings.lookup_public_per_minute)
    code = _checked(call.path_params["dossier_code"])
    found = await find(call, code)
    if found is None:
        call.note("not_found", f"public status of {code}")
        raise Refused("lookup-not-found", f"no dossier {code}")
    call.note("ok", f"public status of {code}: {found.status}")
    return Reply(200, public_answer(found), headers=NO_STORE)


def _html(status: int, text: str) -> Reply:
    return Reply(status, text.encode("utf-8"), media_type="text/html; charset=utf-8", headers=page.HEADERS)


async def public_page(call: Inbound) -> Reply:
    """The page a dossier's QR code opens: the public minimum as HTML, in Vietnamese or English.
    Its refusals are pages for a browser (``Accept: text/html``), problems for any other client."""
    lang = page.language(call.query)
    browser = "text/html" in call.headers.get("accept", "")
    try:
        await call.throttle(PUBLIC_BUCKET, call.ctx.settings.lookup_public_per_minute)
    except Refused:  # the answer carries Retry-After (the throttle put it there)
        if not browser:
            raise
        return _html(429, page.render_message(lang, "limited"))
    code = call.path_params["dossier_code"]
    why = code_problem(code)
    if why is not None:
        call.note("lookup-code", "public page: not a dossier code")
        if not browser:
            raise Refused("lookup-code", why, field="dossier_code", rule="dossier_code")
        return _html(422, page.render_message(lang, "bad_code"))
    found = await find(call, code)
    if found is None:
        call.note("not_found", f"public page of {code}")
        if not browser:
            raise Refused("lookup-not-found", f"no dossier {code}")
        return _html(404, page.render_message(lang, "not_found", code))
    call.note("ok", f"public page of {code}: {found.status}")
    return _html(200, page.render_found(lang, public_answer(found)))


async def _qr(call: Inbound, kind: str) -> Reply:
    await call.throttle(QR_BUCKET, call.ctx.settings.lookup_qr_per_minute)
    code = _checked(call.path_params["dossier_code"])
    configured = call.ctx.settings.lookup_public_base_url
    url = qr.page_url(configured or call.base_url, code)
    body = await call.run(qr.image, url, kind)
    call.note("ok", f"QR code ({kind}) of {code}")
    # the same code always draws the same image; one drawn from the request's own address differs per Host
    cache = "public, max-age=86400" if configured else "private, max-age=3600"
    return Reply(200, body, media_type=qr.MEDIA_TYPES[kind], headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


async def qr_png(call: Inbound) -> Reply:
    """The dossier's QR code (PNG), opening its public page."""
    return await _qr(call, "png")


async def qr_svg(call: Inbound) -> Reply:
    """The dossier's QR code (SVG), opening its public page."""
    return await _qr(call, "svg")


_PORTAL_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["mahoso"], "properties": {"mahoso": {"type": "string"}}}}}}
_PORTAL_ANSWER = {"type": "object", "required": ["error_code", "message"],
                  "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}, "data": {"type": "object"}}}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PORTAL_OPENAPI = {"requestBody": _PORTAL_BODY, "responses": {
    "200": {"description": "error_code 00: the dossier; 04: the hub holds no dossier with this code",
            "content": {"application/json": {"schema": _PORTAL_ANSWER}}},
    "400": {"description": "error_code 02: not JSON, or mahoso not a dossier code",
            "content": {"application/json": {"schema": _PORTAL_ANSWER}}},
    "401": {"description": "No valid API key (the edge's problem)", "content": _PROBLEM},
    "403": {"description": "error_code 05: a key of another partner; or a key without the read scope (problem)",
            "content": {"application/json": {"schema": _PORTAL_ANSWER}, **_PROBLEM}},
    "413": {"description": "error_code 02: body larger than 4 KiB", "content": {"application/json": {"schema": _PORTAL_ANSWER}}},
    "415": {"description": "error_code 02: body not application/json", "content": {"application/json": {"schema": _PORTAL_ANSWER}}},
    "429": {"description": "Over the key's rate limits (problem)", "content": _PROBLEM},
    "503": {"description": "error_code 99: the store cannot be read now; or a problem",
            "content": {"application/json": {"schema": _PORTAL_ANSWER}, **_PROBLEM}},
}}
_HTML = {"text/html": {"schema": {"type": "string"}}}
_PAGE_OPENAPI = {"responses": {
    "200": {"description": "The dossier's page", "content": _HTML},
    **{str(status): {"description": f"{text}: a page for a browser (Accept: text/html), else a problem",
                     "content": {**_HTML, **_PROBLEM}}
       for status, text in ((404, "No dossier with this code"), (422, "Not a dossier code"),
                            (429, "Too many look-ups from this address (Retry-After)"))},
    "503": {"description": "The store cannot be read now (problem)", "content": _PROBLEM},
}}


def _image(media_type: str) -> dict[str, Any]:
    return {"responses": {"200": {"description": "The QR code of the dossier's public page",
                                  "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}}


ROUTES: tuple[InboundRoute, ...] = (
    InboundRoute("POST", PORTAL_PATH, tra_cuu_ho_so, route_class="read", body="callback", max_bytes=4096,
                 summary="National portal: TraCuuHoSo, a dossier's state by its code (name masked)", tag="dossier look-up",
                 own_errors=True, openapi=_PORTAL_OPENAPI),
    InboundRoute("GET", "/v1/dossiers/{dossier_code}/status", partner_status, route_class="read",
                 roles=("operator", "admin"), body="none", max_bytes=None, tag="dossier look-up",
                 summary="A dossier's state as the hub holds it (applicant's name masked)"),
    InboundRoute("GET", "/v1/public/dossiers/{dossier_code}", public_status, body="none", max_bytes=None,
                 tag="dossier look-up", summary="Public look-up by dossier code (rate limited per address; name masked)"),
    InboundRoute("GET", "/v1/public/dossiers/{dossier_code}/qr.png", qr_png, body="none", max_bytes=None,
                 tag="dossier look-up", summary="QR code (PNG) opening the dossier's public look-up page",
                 openapi=_image("image/png")),
    InboundRoute("GET", "/v1/public/dossiers/{dossier_code}/qr.svg", qr_svg, body="none", max_bytes=None,
                 tag="dossier look-up", summary="QR code (SVG) opening the dossier's public look-up page",
                 openapi=_image("image/svg+xml")),
    InboundRoute("GET", "/tra-cuu/{dossier_code}", public_page, body="none", max_bytes=None,
                 tag="dossier look-up", own_errors=True, openapi=_PAGE_OPENAPI,
                 summary="Public look-up page (Vietnamese; ?lang=en for English): what the QR code opens"),
)
