"""Console pages: the admins' — partners and their keys, rate limits, officers, people's accounts, the
review of unused access, and the vault's credentials.

Every change is its API twin's (``hub/edge/admin.py``, ``officers.py``, ``vault.py``): the form is
checked by the twin's own model, then the same store function runs through ``run_store`` with the
same actor (the person's account) and client address, so it is the same admin action with the same
validation. A key's secret is shown once, on the page answering its issue or rotation, and never
again; a credential's value is never shown at all. Irreversible changes (revoke, delete, disable) are
confirmed on the server first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hub.access import accounts, keys, policies, review
from hub.access.networks import allowed, parse_networks
from hub.access.principal import Principal
from hub.access.scopes import KEY_ROUTE_CLASSES, LOOKUPS, ROLES, ROUTE_CLASSES, default_scopes
from hub.citizens import officers
from hub.console.i18n import N_, _
from hub.console.notices import NOTICES
from hub.console.render import page
from hub.console.routing import (
    confirmation,
    confirmed,
    console_router,
    done,
    field,
    form_of,
    invalid,
    lines,
    local_input,
    local_moment,
    number_field,
    validated,
    values,
)
from hub.edge.admin import (
    AccountChange,
    AccountIn,
    KeyChange,
    KeyIn,
    PartnerChange,
    PartnerIn,
    PolicyIn,
    Rotation,
    actor_of,
    changes_of,
    run_store,
)
from hub.edge.officers import OfficerChange, OfficerIn
from hub.edge.params import After, RowId
from hub.edge.problems import Problem
from hub.edge.vault import CredentialIn, credential_name, vault_of
from hub.messages import MESSAGE_TYPES
from hub.partners import PARTNER_STATES, SIGNATURE_POLICIES, add_partner, get_partner, list_partners, update_partner
from hub.plugins import kinds as partner_kinds

router = console_router()

PARTNERS, LIMITS, OFFICERS, ACCOUNTS, REVIEW, CREDENTIALS = (
    "/console/admin/partners", "/console/admin/limits", "/console/admin/officers", "/console/admin/accounts",
    "/console/admin/review", "/console/admin/credentials")
PAGE_SIZE = 50
MAX_GRACE_HOURS = 90 * 24

#: Labels of the values the pages show (message ids, translated when shown).
LABELS: dict[str, str] = {
    "active": N_("Active"), "suspended": N_("Suspended"), "revoked": N_("Revoked"), "expired": N_("Expired"),
    "disabled": N_("Disabled"),
    "off": N_("Off"), "optional": N_("Optional (checked when sent)"), "required": N_("Required"),
    "intake": N_("Intake: sending messages"), "read": N_("Read: message states, traces"),
    "ops": N_("Operations: flows, dead letters, replay"), "lookup": N_("Citizen look-ups"),
    "admin": N_("Administration"), "audit": N_("Audit"), "people": N_("People's sessions"), "*": N_("All"),
    "verify": N_("Verify an identity"), "household": N_("Household"), "residence": N_("Residence"),
    "own_dossiers": N_("Own dossiers"), "own_unit": N_("Own unit"), "whole_agency": N_("Whole agency"),
    "key": N_("Each key alone"), "partner": N_("All of a partner's keys together"),
}

NOTICES.update({
    "partner-added": N_("The partner is registered."),
    "partner-changed": N_("The partner is changed."),
    "key-changed": N_("The key is changed."),
    "key-revoked": N_("The key is revoked: every hub process refuses it within a second."),
    "limit-set": N_("The rate-limit policy is saved; every hub process applies it within seconds."),
    "limit-deleted": N_("The rate-limit policy is removed."),
    "officer-registered": N_("The officer is registered."),
    "officer-changed": N_("The officer is changed."),
    "officer-revoked": N_("The officer's right to look up is revoked."),
    "officers-disabled": N_("The unused officers are disabled."),
    "account-added": N_("The account is created."),
    "account-changed": N_("The account is changed."),
    "review-disabled": N_("The unused keys are revoked and the unused accounts disabled."),
    "credential-set": N_("The credential is stored (a new version). Its value cannot be read back."),
    "credential-deleted": N_("The credential is removed from the vault."),
})


# --- helpers ---------------------------------------------------------------------------------------


def _engine(request: Request) -> Any:
    return request.app.state.engine


def _show(request: Request, template: str, title: str, **context: Any) -> Response:
    """An admin page, with the value labels and the datetime-local formatter."""
    return page(request, template, title=title, LABELS=LABELS, local=local_input, **context)


def moment_field(request: Request, name: str) -> datetime | None:
    """A ``datetime-local`` field read in Vietnam time (as the pages show times); None when empty."""
    return local_moment(name, field(request, name, max_length=40))


def optional(request: Request, name: str, max_length: int = 500) -> str | None:
    """A field's value, None when empty."""
    return field(request, name, max_length=max_length) or None


def scopes_of(request: Request) -> dict[str, list[str]] | None:
    """The scopes fieldset (endpoint and look-up checkboxes, message types one per line; the store checks
    each value); None when the form has none (the partner kind's defaults apply)."""
    if "types" not in form_of(request):
        return None
    return {"endpoints": values(request, "endpoints"), "types": lines(request, "types"),
            "lookups": values(request, "lookups")}


def confirm_disable(request: Request, before: str, after: str | None, question: str, consequence: str,
                    back: str) -> Response | None:
    """The confirmation page when a change would disable what is active now; None otherwise."""
    if after == "disabled" and before == "active" and not confirmed(request):
        return confirmation(request, question, consequence, back)
    return None


def partner_path(code: str) -> str:
    return f"{PARTNERS}/{code}"


# --- partners and keys -----------------------------------------------------------------------------


@router.get("/console/admin/partners")
async def partners_page(request: Request) -> Response:
    """Every partner with its allowlist, signing policy and number of working keys; the register form."""
    rows = await run_store(list_partners, _engine(request))
    counts = await run_store(keys.active_counts, _engine(request))
    return _show(request, "admin/partners.html", _("Partners and keys"), partners=rows, counts=counts,
                 kinds=partner_kinds())


@router.post("/console/admin/partners")
async def add_partner_form(request: Request) -> Response:
    body = validated(PartnerIn, {"code": field(request, "code", max_length=40), "name": field(request, "name", max_length=200),
                               "kind": field(request, "kind", max_length=30), "agency_id": optional(request, "agency_id", 20),
                               "allowed_ips": lines(request, "allowed_ips")})
    actor, ip = actor_of(request)
    await run_store(add_partner, _engine(request), body.code, body.name, body.kind, body.agency_id,
                    contacts=body.contacts, allowed_ips=body.allowed_ips, actor=actor, client_ip=ip)
    return done(partner_path(body.code), "partner-added")


async def _partner_or_404(request: Request, code: str) -> dict[str, Any]:
    row = await run_store(get_partner, _engine(request), code)
    if row is None:
        raise Problem("not-found", _("No partner %(code)s.") % {"code": code})
    return row


@router.get("/console/admin/partners/{code}")
async def partner_page(request: Request, code: str) -> Response:
    """One partner's fields in a form, and its keys (never a secret) with their forms."""
    partner = await _partner_or_404(request, code)
    found = await run_store(keys.list_keys, _engine(request), code)
    return _show(request, "admin/partner.html", partner["name"], partner=partner, keys=found,
                 defaults=default_scopes(partner["kind"]), **_key_form_choices())


def _key_form_choices() -> dict[str, Any]:
    return {"endpoint_choices": KEY_ROUTE_CLASSES, "lookup_choices": LOOKUPS, "message_types": sorted(MESSAGE_TYPES),
            "states": PARTNER_STATES, "signature_policies": SIGNATURE_POLICIES, "max_grace_hours": MAX_GRACE_HOURS}


@router.post("/console/admin/partners/{code}")
async def change_partner(request: Request, code: str) -> Response:
    body = validated(PartnerChange, {"name": field(request, "name", max_length=200), "agency_id": optional(request, "agency_id", 20),
                                   "allowed_ips": lines(request, "allowed_ips"), "state": field(request, "state", max_length=20),
                                   "signatures": field(request, "signatures", max_length=20)})
    actor, ip = actor_of(request)
    await run_store(update_partner, _engine(request), code, changes_of(body), actor=actor, client_ip=ip)
    return done(partner_path(code), "partner-changed")


def _secret_page(request: Request, secret: str, view: dict[str, Any], rotated_from: int | None = None) -> Response:
    """The one page that ever shows a key's secret (never cached: ``page`` sends no-store)."""
    return _show(request, "admin/secret.html", _("New key"), secret=secret, key=view, rotated_from=rotated_from)


@router.post("/console/admin/partners/{code}/keys")
async def issue_key(request: Request, code: str) -> Response:
    """Issue a key; the answer is a page showing its secret once."""
    body = validated(KeyIn, {"label": field(request, "label", max_length=100), "scopes": scopes_of(request),
                           "expires_at": moment_field(request, "expires_at"), "allowed_ips": lines(request, "allowed_ips")})
    actor, ip = actor_of(request)
    secret, view = await run_store(keys.issue_key_with_view, _engine(request), code,
                                   request.app.state.settings.effective_key_pepper, body.label, scopes=body.scopes,
                                   expires_at=body.expires_at, allowed_ips=body.allowed_ips, actor=actor, client_ip=ip)
    return _secret_page(request, secret, view)


@router.post("/console/admin/keys/{key_id}")
async def change_key(request: Request, key_id: RowId) -> Response:
    body = validated(KeyChange, {"label": field(request, "label", max_length=100), "scopes": scopes_of(request),
                               "expires_at": moment_field(request, "expires_at"), "allowed_ips": lines(request, "allowed_ips")})
    changes = changes_of(body)
    if changes.get("scopes") is None:
        changes.pop("scopes", None)
    actor, ip = actor_of(request)
    view = await run_store(keys.update_key, _engine(request), key_id, changes, actor=actor, client_ip=ip)
    return done(partner_path(view["partner"]), "key-changed")


@router.post("/console/admin/keys/{key_id}/rotate")
async def rotate_key(request: Request, key_id: RowId) -> Response:
    """Issue the key's successor (its secret shown once); the old key works for the grace period."""
    hours = number_field(request, "grace_hours", low=0, high=MAX_GRACE_HOURS, default=24)
    body = validated(Rotation, {"grace_seconds": (hours or 0) * 3600})
    actor, ip = actor_of(request)
    secret, view = await run_store(keys.rotate_key, _engine(request), key_id, request.app.state.settings.effective_key_pepper,
                                   body.grace_seconds, actor=actor, client_ip=ip)
    return _secret_page(request, secret, view, rotated_from=key_id)


@router.post("/console/admin/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: RowId) -> Response:
    back = field(request, "partner", max_length=40)
    if not confirmed(request):
        return confirmation(request, _("Revoke key %(id)s?") % {"id": key_id},
                            _("The partner's system can no longer call the hub with this key, from within a second. "
                              "This cannot be undone: issue a new key instead."),
                            partner_path(back) if back.replace("_", "").isalnum() else PARTNERS)
    actor, ip = actor_of(request)
    view = await run_store(keys.revoke_key, _engine(request), key_id, actor=actor, client_ip=ip)
    return done(partner_path(view["partner"]), "key-revoked")


# --- rate limits -----------------------------------------------------------------------------------


@router.get("/console/admin/limits")
async def limits_page(request: Request) -> Response:
    rows = await run_store(policies.list_policies, _engine(request))
    defaults = request.app.state.gate.policies.defaults
    return _show(request, "admin/limits.html", _("Rate limits"), policies=rows, defaults=defaults,
                 partners=await run_store(list_partners, _engine(request)), route_classes=("*", *ROUTE_CLASSES))


@router.post("/console/admin/limits")
async def set_limit(request: Request) -> Response:
    """Create or change the policy of a subject and name (the API's PUT /v1/admin/limits)."""
    body = validated(PolicyIn, {"counter": field(request, "counter", max_length=10), "partner": optional(request, "partner", 40),
                              "key_id": optional(request, "key_id", 20), "route_class": field(request, "route_class", "*", 20),
                              "name": field(request, "name", max_length=30), "quota": field(request, "quota", max_length=20),
                              "window_seconds": field(request, "window_seconds", max_length=20)})
    actor, ip = actor_of(request)
    await run_store(policies.set_policy, _engine(request), counter=body.counter, name=body.name, quota=body.quota,
                    window_seconds=body.window_seconds, route_class=body.route_class, partner_code=body.partner,
                    key_id=body.key_id, actor=actor, client_ip=ip)
    await run_in_threadpool(request.app.state.gate.policies.refresh)
    return done(LIMITS, "limit-set")


@router.post("/console/admin/limits/{policy_id}/delete")
async def delete_limit(request: Request, policy_id: RowId) -> Response:
    if not confirmed(request):
        return confirmation(request, _("Remove rate-limit policy %(id)s?") % {"id": policy_id},
                            _("Its subject falls back to the less specific policies, or to the hub's defaults."), LIMITS)
    actor, ip = actor_of(request)
    await run_store(policies.delete_policy, _engine(request), policy_id, actor=actor, client_ip=ip)
    await run_in_threadpool(request.app.state.gate.policies.refresh)
    return done(LIMITS, "limit-deleted")


# --- officers --------------------------------------------------------------------------------------


@router.get("/console/admin/officers")
async def officers_page(request: Request, partner: str = Query("", max_length=40),
                        state: Literal["", "active", "disabled", "revoked"] = "", after: After = 0,
                        months: int = Query(6, ge=1, le=120)) -> Response:
    """Registered officers (keyset pages, by partner and state) and those unused for ``months`` months."""
    found, next_after = await run_store(officers.page_officers, _engine(request), after, PAGE_SIZE, partner, state)
    unused = await run_store(officers.unused, _engine(request), months)
    return _show(request, "admin/officers.html", _("Officers"), officers=found, next_after=next_after, unused=unused,
                 partner=partner, state=state, months=months, after=after, tiers=officers.TIERS,
                 partners=await run_store(list_partners, _engine(request)))


def _officer_fields(request: Request) -> dict[str, Any]:
    return {"full_name": field(request, "full_name", max_length=200), "agency_id": field(request, "agency_id", max_length=20),
            "unit": field(request, "unit", max_length=300), "tier": field(request, "tier", max_length=20),
            "valid_from": moment_field(request, "valid_from"), "valid_until": moment_field(request, "valid_until")}


@router.post("/console/admin/officers")
async def register_officer(request: Request) -> Response:
    body = validated(OfficerIn, {"partner": field(request, "partner", max_length=40),
                               "officer_code": field(request, "officer_code", max_length=60), **_officer_fields(request)})
    actor, ip = actor_of(request)
    await run_store(officers.register, _engine(request), body.partner, body.officer_code, body.full_name, body.agency_id,
                    unit=body.unit, tier=body.tier, valid_from=body.valid_from, valid_until=body.valid_until,
                    actor=actor, client_ip=ip)
    return done(OFFICERS, "officer-registered")


@router.post("/console/admin/officers/disable-unused")
async def disable_unused_officers(request: Request) -> Response:
    months = number_field(request, "months", low=1, high=120, default=6) or 6
    if not confirmed(request):
        return confirmation(request, _("Disable the officers unused for %(n)s months?") % {"n": months},
                            _("Each of them can no longer look citizens up until an administrator activates them again."),
                            f"{OFFICERS}?months={months}")
    actor, ip = actor_of(request)
    await run_store(officers.disable_unused, _engine(request), months, actor=actor, client_ip=ip)
    return done(f"{OFFICERS}?months={months}", "officers-disabled")


@router.post("/console/admin/officers/{partner}/{code}")
async def change_officer(request: Request, partner: str, code: str) -> Response:
    data = {**_officer_fields(request), "state": field(request, "state", max_length=20),
            "reason": field(request, "reason", max_length=300)}
    if data["valid_from"] is None:
        del data["valid_from"]  # unchanged (the registry keeps a start)
    body = validated(OfficerChange, data)
    before = await run_store(officers.get_officer, _engine(request), partner, code)
    if before is None:
        raise Problem("not-found", _("No officer %(code)s of %(partner)s.") % {"code": code, "partner": partner})
    asked = confirm_disable(request, before["state"], body.state, _("Disable officer %(code)s?") % {"code": code},
                            _("They can no longer look citizens up until an administrator activates them again."), OFFICERS)
    if asked:
        return asked
    actor, ip = actor_of(request)
    await run_store(officers.change, _engine(request), partner, code, changes_of(body), actor=actor, client_ip=ip)
    return done(OFFICERS, "officer-changed")


@router.post("/console/admin/officers/{partner}/{code}/revoke")
async def revoke_officer(request: Request, partner: str, code: str) -> Response:
    reason = field(request, "reason", max_length=300)
    if not reason:
        raise invalid("reason", "required", _("Give the reason for revoking."))
    if not confirmed(request):
        return confirmation(request, _("Revoke officer %(code)s?") % {"code": code},
                            _("Their right to look citizens up ends for good; to grant it again, register them again."),
                            OFFICERS)
    actor, ip = actor_of(request)
    await run_store(officers.revoke, _engine(request), partner, code, reason, actor=actor, client_ip=ip)
    return done(OFFICERS, "officer-revoked")


# --- people's accounts -----------------------------------------------------------------------------


@router.get("/console/admin/accounts")
async def accounts_page(request: Request) -> Response:
    rows = await run_store(accounts.list_accounts, _engine(request))
    return _show(request, "admin/accounts.html", _("Accounts"), accounts=rows, roles=ROLES,
                 min_password=accounts.MIN_PASSWORD)


@router.post("/console/admin/accounts")
async def add_account(request: Request) -> Response:
    body = validated(AccountIn, {"username": field(request, "username", max_length=60),
                               "display_name": field(request, "display_name", max_length=200),
                               "role": field(request, "role", max_length=20), "password": field(request, "password", max_length=200),
                               "allowed_ips": lines(request, "allowed_ips")})
    actor, ip = actor_of(request)
    await run_store(accounts.add_account, _engine(request), body.username, body.display_name, body.role, body.password,
                    allowed_ips=body.allowed_ips, actor=actor, client_ip=ip)
    return done(ACCOUNTS, "account-added")


def refuse_self_lockout(who: Principal, client_ip: str, username: str, changes: dict[str, Any]) -> None:
    """An admin may not, here, disable their own account, give up their own admin role, or leave the
    address they are signed in from out of their own allowlist (422)."""
    if who.account != username:
        return
    if changes.get("state") == "disabled":
        raise invalid("state", "self_lockout", _("You cannot disable your own account: ask another administrator."))
    if changes.get("role", "admin") != "admin":
        raise invalid("role", "self_lockout", _("You cannot remove your own administrator role: ask another administrator."))
    try:
        networks = parse_networks(changes.get("allowed_ips") or [])
    except ValueError:
        return  # the store refuses it, naming the bad entry
    if not allowed(client_ip, networks):
        raise invalid("allowed_ips", "self_lockout",
                      _("Your allowlist must include the address you are signed in from (%(ip)s).") % {"ip": client_ip})


@router.post("/console/admin/accounts/{username}")
async def change_account(request: Request, username: str) -> Response:
    """Change an account; disabling asks first; never one's own disabling or demotion."""
    data: dict[str, Any] = {"display_name": field(request, "display_name", max_length=200),
                            "role": field(request, "role", max_length=20), "allowed_ips": lines(request, "allowed_ips"),
                            "state": field(request, "state", max_length=20)}
    password = field(request, "password", max_length=200)
    if password:
        data["password"] = password
    changes = changes_of(validated(AccountChange, data))
    actor, ip = actor_of(request)
    refuse_self_lockout(request.scope["state"]["principal"], ip, username, changes)
    before = await run_store(accounts.get_account, _engine(request), username)
    if before is None:
        raise Problem("not-found", _("No account %(name)s.") % {"name": username})
    if password and changes["state"] == "disabled" and before["state"] == "active":
        raise invalid("password", "disable_or_password", _("Disable the account or set a new password, not both at once."))
    asked = confirm_disable(request, before["state"], changes["state"], _("Disable account %(name)s?") % {"name": username},
                            _("Its sessions end now and it can no longer sign in until an administrator activates it again."),
                            ACCOUNTS)
    if asked:
        return asked
    await run_store(accounts.update_account, _engine(request), username, changes, actor=actor, client_ip=ip)
    return done(ACCOUNTS, "account-changed")


# --- the review of unused access ---------------------------------------------------------------------


@router.get("/console/admin/review")
async def review_page(request: Request, days: int | None = Query(None, ge=1, le=3650)) -> Response:
    days = days or request.app.state.settings.review_days
    found = await run_store(review.unused, _engine(request), days)
    return _show(request, "admin/review.html", _("Unused access"), days=days, **found)


@router.post("/console/admin/review/disable")
async def review_disable(request: Request) -> Response:
    days = number_field(request, "days", low=1, high=3650, default=request.app.state.settings.review_days) or 1
    if not confirmed(request):
        return confirmation(request, _("Revoke the keys and disable the accounts unused for %(n)s days?") % {"n": days},
                            _("Revoked keys cannot be used again; disabled accounts can no longer sign in."),
                            f"{REVIEW}?days={days}")
    actor, ip = actor_of(request)
    await run_store(review.disable_unused, _engine(request), days, actor=actor, client_ip=ip)
    return done(f"{REVIEW}?days={days}", "review-disabled")


# --- the vault's credentials -----------------------------------------------------------------------


@router.get("/console/admin/credentials")
async def credentials_page(request: Request) -> Response:
    """The vault's credentials (metadata only) and the well-known ones not set yet."""
    vault = await run_in_threadpool(vault_of, request)
    items, missing = await run_in_threadpool(lambda: (vault.list(), vault.missing()))
    return _show(request, "admin/credentials.html", _("Credentials"), items=items, missing=missing,
                 master_key_id=vault.master_key_id)


@router.post("/console/admin/credentials/{name}")
async def change_credential(request: Request, name: str) -> Response:
    """``action=set``: store a value (again: a new version); ``action=delete``: remove it (confirmed first)."""
    name = credential_name(request, name)
    action = field(request, "action", max_length=10)
    vault = await run_in_threadpool(vault_of, request)
    actor, ip = actor_of(request)
    if action == "set":
        value = (form_of(request).get("value") or [""])[0]  # as typed: a secret is not trimmed
        body = validated(CredentialIn, {"value": value})
        await run_store(vault.put, name, body.value, actor=actor, client_ip=ip)
        return done(CREDENTIALS, "credential-set")
    if action != "delete":
        raise invalid("action", "choice", _("Choose to set or to delete the credential."))
    if not confirmed(request):
        form_of(request).pop("value", None)  # a value never goes back into a page
        return confirmation(request, _("Delete credential %(name)s?") % {"name": name},
                            _("The connectors that use it fail until it is set again."), CREDENTIALS)
    await run_store(vault.delete, name, actor=actor, client_ip=ip)
    return done(CREDENTIALS, "credential-deleted")
