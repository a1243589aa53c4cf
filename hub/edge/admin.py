"""People's sign-in, the admin API (partners, keys, limits, accounts, review) and the auditor's
read-only view of admin actions and detection alerts (access records: ``hub/edge/audit.py``).

Every change goes through the same functions the CLI uses, which record the admin action (who,
what, before, after) in the change's own transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.access import accounts, actions, keys, policies, review
from hub.access.principal import Principal
from hub.access.signin import Refusal
from hub.access.tokens import digest
from hub.alerts import store as alerts
from hub.edge.gate import CHALLENGE
from hub.edge.guard import GuardedRoute
from hub.edge.params import MAX_ID, After, RowId
from hub.edge.problems import Problem
from hub.edge.responses import json_response, page_response
from hub.partners import add_partner, get_partner, list_partners, update_partner
from hub.plugins import kinds as partner_kinds

router = APIRouter(route_class=GuardedRoute)
T = TypeVar("T")


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class PartnerIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_]{2,40}$")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal[partner_kinds()]  # type: ignore[valid-type] # the kinds the partners' manifests declare
    agency_id: str | None = Field(None, max_length=20)
    contacts: list[dict[str, str]] = []
    allowed_ips: list[str] = []


class PartnerChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    agency_id: str | None = Field(None, max_length=20)
    contacts: list[dict[str, str]] | None = None
    allowed_ips: list[str] | None = None
    state: Literal["active", "suspended"] | None = None
    signatures: Literal["off", "optional", "required"] | None = Field(
        None, description="HTTP message signatures: off (not checked), optional (checked when sent), required")


class KeyIn(BaseModel):
    label: str = Field("", max_length=100)
    scopes: dict[str, list[str]] | None = None
    expires_at: datetime | None = None
    allowed_ips: list[str] = []


class KeyChange(BaseModel):
    label: str | None = Field(None, max_length=100)
    scopes: dict[str, list[str]] | None = None
    expires_at: datetime | None = None
    allowed_ips: list[str] | None = None


class Rotation(BaseModel):
    grace_seconds: int = Field(86_400, ge=0, le=90 * 86_400, description="how long the old key keeps working")


class PolicyIn(BaseModel):
    counter: Literal["key", "partner"] = "key"
    partner: str | None = Field(None, max_length=40)
    key_id: int | None = Field(None, ge=0, le=MAX_ID)
    route_class: str = Field("*", max_length=20)
    name: str = Field(max_length=30)
    quota: int = Field(ge=1, le=1_000_000_000)
    window_seconds: int = Field(ge=1, le=366 * 86_400)


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=60)
    display_name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "operator", "auditor"]
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=200)
    allowed_ips: list[str] = []


class AccountChange(BaseModel):
    display_name: str | None = Field(None, min_length=1, max_length=200)
    role: Literal["admin", "operator", "auditor"] | None = None
    password: str | None = Field(None, min_length=accounts.MIN_PASSWORD, max_length=200)
    allowed_ips: list[str] | None = None
    state: Literal["active", "disabled"] | None = None


def actor_of(request: Request) -> tuple[str, str]:
    """(who acts, from which address) for the admin action record of an admitted request."""
    principal: Principal = request.scope["state"]["principal"]
    return principal.account or principal.who, request.scope["state"]["client_ip"]


async def run_store(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store function in a thread; its ValueError, LookupError and AlreadyExists become 422, 404
    and 409 problems."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except actions.AlreadyExists as exc:
        raise Problem("already-exists", str(exc)) from None
    except LookupError as exc:
        raise Problem("not-found", str(exc).strip("'\"")) from None
    except ValueError as exc:
        field, _, rule = str(exc).partition(":")
        raise Problem("validation", str(exc), [{"field": field.strip() if rule else "(body)", "rule": "admin_rule",
                                                 "message": (rule or str(exc)).strip()}]) from None


def changes_of(model: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body actually set."""
    return model.model_dump(exclude_unset=True)


# --- sign-in -------------------------------------------------------------------------------


@router.post("/v1/auth/login", tags=["people"], summary="Sign in: a session token for Authorization: Bearer")
async def login(request: Request, body: Login) -> Response:
    gate = request.app.state.gate
    ip, _ = gate.client(request)
    agent = request.headers.get("user-agent", "")
    state = request.scope.setdefault("state", {})
    state["attempt"], state["summary"] = {"account": body.username}, "sign-in"
    settings = request.app.state.settings
    # failures count per (account, address) and per address; Argon2 in bounded slots (hub/access/signin.py)
    result = await request.app.state.signin.attempt(body.username, ip, lambda slots: accounts.sign_in(
        request.app.state.engine, body.username, body.password, ip, agent, settings.effective_key_pepper,
        gate.people_networks, settings.session_hours, slots=slots))
    if isinstance(result, Refusal):
        state["response_headers"], state["outcome"] = result.headers, f"login_failed:{result.reason}"
        raise Problem(result.slug, result.detail)
    if isinstance(result, str):
        state["outcome"] = f"login_failed:{result}"
        raise Problem("unauthenticated", "wrong username or password, or not allowed from this address", headers=CHALLENGE)
    token, session = result
    state["outcome"] = "login"
    return json_response({"token": token, "token_type": "Bearer", **session})


@router.post("/v1/auth/logout", tags=["people"], summary="Sign out: end this session")
async def logout(request: Request) -> Response:
    who: Principal = request.scope["state"]["principal"]  # a person: the rule admits no key
    token = request.headers.get("authorization", "").partition(" ")[2]
    hashed = digest(token.strip(), request.app.state.settings.effective_key_pepper)
    await run_in_threadpool(accounts.sign_out, request.app.state.engine, hashed)
    request.app.state.gate.sessions.forget(hashed)
    request.scope["state"].update(outcome="logout", summary="sign-out")
    return json_response({"signed_out": who.account})


# --- partners and keys ---------------------------------------------------------------------


@router.get("/v1/admin/partners", tags=["admin"], summary="Every partner")
async def admin_list_partners(request: Request) -> Response:
    return json_response({"items": await run_store(list_partners, request.app.state.engine)})


@router.post("/v1/admin/partners", tags=["admin"], status_code=201, summary="Register a partner")
async def admin_add_partner(request: Request, body: PartnerIn) -> Response:
    actor, ip = actor_of(request)
    row = await run_store(add_partner, request.app.state.engine, body.code, body.name, body.kind, body.agency_id,
                          contacts=body.contacts, allowed_ips=body.allowed_ips, actor=actor, client_ip=ip)
    return json_response(row, 201)


@router.get("/v1/admin/partners/{code}", tags=["admin"], summary="One partner and its keys")
async def admin_get_partner(request: Request, code: str) -> Response:
    row = await run_store(get_partner, request.app.state.engine, code)
    if row is None:
        raise Problem("not-found", f"no partner {code!r}")
    return json_response({**row, "keys": await run_store(keys.list_keys, request.app.state.engine, code)})


@router.patch("/v1/admin/partners/{code}", tags=["admin"],
              summary="Change a partner (name, agency, contacts, allowlist, state)")
async def admin_update_partner(request: Request, code: str, body: PartnerChange) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(update_partner, request.app.state.engine, code, changes_of(body), actor=actor, client_ip=ip))


@router.post("/v1/admin/partners/{code}/keys", tags=["admin"], status_code=201,
             summary="Issue a key; the secret is in this answer only")
async def admin_issue_key(request: Request, code: str, body: KeyIn) -> Response:
    actor, ip = actor_of(request)
    secret, view = await run_store(keys.issue_key_with_view, request.app.state.engine, code,
                                   request.app.state.settings.effective_key_pepper, body.label, scopes=body.scopes,
                                   expires_at=body.expires_at, allowed_ips=body.allowed_ips, actor=actor, client_ip=ip)
    return json_response({"key": secret, **view}, 201)


@router.get("/v1/admin/keys", tags=["admin"], summary="Keys (never their secrets)")
async def admin_list_keys(request: Request, partner: str | None = None) -> Response:
    return json_response({"items": await run_store(keys.list_keys, request.app.state.engine, partner)})


@router.patch("/v1/admin/keys/{key_id}", tags=["admin"],
              summary="Change a key's label, scopes, allowlist or expiry")
async def admin_update_key(request: Request, key_id: RowId, body: KeyChange) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(keys.update_key, request.app.state.engine, key_id, changes_of(body), actor=actor, client_ip=ip))


@router.post("/v1/admin/keys/{key_id}:rotate", tags=["admin"], status_code=201,
             summary="Issue a successor; the old key works for the grace period")
async def admin_rotate_key(request: Request, key_id: RowId, body: Rotation) -> Response:
    actor, ip = actor_of(request)
    secret, view = await run_store(keys.rotate_key, request.app.state.engine, key_id,
                                   request.app.state.settings.effective_key_pepper, body.grace_seconds, actor=actor, client_ip=ip)
    return json_response({"key": secret, **view}, 201)


@router.post("/v1/admin/keys/{key_id}:revoke", tags=["admin"],
             summary="Stop a key now (every hub process within a second)")
async def admin_revoke_key(request: Request, key_id: RowId) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(keys.revoke_key, request.app.state.engine, key_id, actor=actor, client_ip=ip))


# --- limits, accounts, review ----------------------------------------------------------------


@router.get("/v1/admin/limits", tags=["admin"], summary="Rate-limit policies")
async def admin_list_limits(request: Request) -> Response:
    defaults = [{"name": lim.name, "quota": lim.quota, "window_seconds": int(lim.window)}
                for lim in request.app.state.gate.policies.defaults]
    return json_response({"items": await run_store(policies.list_policies, request.app.state.engine), "defaults": defaults})


@router.put("/v1/admin/limits", tags=["admin"],
            summary="Create or change a policy (in force on every process within seconds)")
async def admin_set_limit(request: Request, body: PolicyIn) -> Response:
    actor, ip = actor_of(request)
    row = await run_store(policies.set_policy, request.app.state.engine, counter=body.counter, name=body.name, quota=body.quota,
                          window_seconds=body.window_seconds, route_class=body.route_class, partner_code=body.partner,
                          key_id=body.key_id, actor=actor, client_ip=ip)
    request.app.state.gate.policies.refresh()
    return json_response(row)


@router.delete("/v1/admin/limits/{policy_id}", tags=["admin"], summary="Remove a policy")
async def admin_delete_limit(request: Request, policy_id: RowId) -> Response:
    actor, ip = actor_of(request)
    row = await run_store(policies.delete_policy, request.app.state.engine, policy_id, actor=actor, client_ip=ip)
    request.app.state.gate.policies.refresh()
    return json_response(row)


@router.get("/v1/admin/accounts", tags=["admin"], summary="People's accounts")
async def admin_list_accounts(request: Request) -> Response:
    return json_response({"items": await run_store(accounts.list_accounts, request.app.state.engine)})


@router.post("/v1/admin/accounts", tags=["admin"], status_code=201, summary="Create an account")
async def admin_add_account(request: Request, body: AccountIn) -> Response:
    actor, ip = actor_of(request)
    row = await run_store(accounts.add_account, request.app.state.engine, body.username, body.display_name, body.role,
                          body.password, allowed_ips=body.allowed_ips, actor=actor, client_ip=ip)
    return json_response(row, 201)


@router.patch("/v1/admin/accounts/{username}", tags=["admin"],
              summary="Change an account (role, allowlist, password, state)")
async def admin_update_account(request: Request, username: str, body: AccountChange) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(accounts.update_account, request.app.state.engine, username, changes_of(body),
                                         actor=actor, client_ip=ip))


@router.get("/v1/admin/review", tags=["admin"], summary="Keys and accounts unused for N days")
async def admin_review(request: Request, days: int | None = Query(None, ge=1, le=3650)) -> Response:
    days = days or request.app.state.settings.review_days
    return json_response({"days": days, **await run_store(review.unused, request.app.state.engine, days)})


@router.post("/v1/admin/review:disable", tags=["admin"],
             summary="Revoke the keys and disable the accounts the review lists")
async def admin_review_disable(request: Request, days: int | None = Query(None, ge=1, le=3650)) -> Response:
    actor, ip = actor_of(request)
    days = days or request.app.state.settings.review_days
    return json_response({"days": days, **await run_store(review.disable_unused, request.app.state.engine, days,
                                                          actor=actor, client_ip=ip)})


# --- auditors ---------------------------------------------------------------------------------


@router.get("/v1/audit/admin-actions", tags=["audit"],
            summary="Admin actions: who, what, before, after")
async def audit_actions(request: Request, after: After = 0, limit: int = Query(100, ge=1, le=1000),
                        actor: str | None = None) -> Response:
    items = await run_store(actions.list_actions, request.app.state.engine, after, limit, actor)
    return page_response(items, limit)


@router.get("/v1/audit/alerts", tags=["audit"],
            summary="Alerts raised by the detection rules (docs/AUDIT.md)")
async def audit_alerts(request: Request, state: Literal["open", "acknowledged"] | None = None, rule: str | None = None,
                       after: After = 0, limit: int = Query(100, ge=1, le=1000)) -> Response:
    items = await run_store(alerts.list_alerts, request.app.state.engine, after, limit, state, rule)
    return page_response(items, limit)


@router.post("/v1/audit/alerts/{alert_id}:acknowledge", tags=["audit"],
             summary="Acknowledge an alert (recorded as an admin action)")
async def audit_acknowledge_alert(request: Request, alert_id: RowId) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(alerts.acknowledge, request.app.state.engine, alert_id, actor=actor, client_ip=ip))
