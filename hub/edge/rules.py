"""Who may call each route: the hub's one table of access rules.

Every route of the application has exactly one :class:`Rule` here, keyed by method and path
template. The guarded route class (``hub/edge/guard.py``) looks its rule up when the route is built
and refuses to build a route without one, so a new route cannot be reachable before someone decided
who may call it; the app refuses to start the same way for the framework's own routes
(``check_routes``, also in ``hub/edge/guard.py``). docs/ACCESS.md shows this table as a matrix; a
test checks every cell of it against the running application.

Kinds of caller: ``anonymous`` (no credential), a partner ``key`` (allowed when the rule's route
class is one of the partner classes and the key's endpoint scopes include it; ``"*"`` means every
*partner* class, never ``admin``, ``audit`` or ``people``), and people by role: ``operator``,
``auditor``, ``admin``. An auditor reads access records, admin actions and alerts, never partners'
message bodies except through the recorded, reasoned read ``POST /v1/audit/messages:read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from starlette.routing import BaseRoute

from hub.access.principal import Principal
from hub.access.scopes import KEY_ROUTE_CLASSES, OPERATOR_ROLES, ROLES
from hub.plugins import manifests
from hub.seam import Manifest

#: Columns of the access matrix, in the order docs/ACCESS.md shows them.
CALLERS = ("anonymous", "key", "operator", "auditor", "admin")
SMALL_BODY = 64 * 1024  # bytes: admin and audit bodies are small documents; messages have their own setting


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call one route, and what body it reads.

    ``route_class`` names the route's class (rate-limit policies and key scopes use it);
    ``keys``: partner keys whose scopes include ``route_class`` may call; ``roles``: people with one
    of these roles may; ``anonymous``: no credential is needed (the handler may still check other
    proof, as the payment callback checks its checksum); ``scrape``: callers without a credential
    are admitted only from ``LIENTHONG_METRICS_SCRAPE_NETWORKS``. ``body``: ``json`` (the guard reads,
    size-limits, decodes and NFC-normalises it before the handler), ``raw`` (the guard reads and
    size-limits the bytes, the handler decodes them), ``callback`` (the handler reads it with
    ``hub/edge/body.py``, to answer in the partner's own format) or ``none``; ``max_bytes`` None means
    ``LIENTHONG_MAX_BODY_BYTES``. ``charge``: ``guard`` (the guard charges the rate limit) or
    ``handler`` (the handler charges it, with the write: the intake). ``cookie``: a console page
    (``hub/console``): the credential is the console's session cookie, never an ``Authorization``
    header (a partner key opens no page); a ``form`` body (URL-encoded, read by the guard after the
    caller is known) must carry the session's CSRF token.
    """

    route_class: str
    keys: bool = False
    roles: frozenset[str] = frozenset()
    anonymous: bool = False
    scrape: bool = False
    body: str = "none"
    max_bytes: int | None = SMALL_BODY
    charge: str = "guard"
    cookie: bool = False

    def __post_init__(self) -> None:
        if self.keys and self.route_class not in KEY_ROUTE_CLASSES:
            raise ValueError(f"partner keys may only be given partner route classes, not {self.route_class!r}")
        if not self.roles <= set(ROLES):
            raise ValueError(f"unknown roles {sorted(self.roles - set(ROLES))}")
        if self.body not in ("none", "json", "raw", "callback", "form") or self.charge not in ("guard", "handler"):
            raise ValueError("body: none | json | raw | callback | form; charge: guard | handler")
        if self.cookie and self.keys:
            raise ValueError("a console page (cookie) admits people only, never partner keys")

    @property
    def needs_credential(self) -> bool:
        return not self.anonymous

    def admits(self, who: Principal) -> bool:
        """May ``who`` (an authenticated caller) call a route with this rule?"""
        if who.is_person:
            return who.role in self.roles
        return self.keys and who.scopes.allows_route(self.route_class)

    def cell(self, caller: str) -> str:
        """The matrix cell for a kind of caller: ``yes``, ``no``, or a qualified yes."""
        if self.anonymous:
            return "yes"  # a public route: anyone, whatever credential they send
        if caller == "anonymous":
            return "yes" if self.anonymous else "scrape allowlist" if self.scrape else "no"
        if caller == "key":
            return f"`{self.route_class}` scope" if self.keys else "no"
        return "yes" if caller in self.roles else "no"


def public(body: str = "none", max_bytes: int | None = SMALL_BODY) -> Rule:
    """Anyone, without a credential."""
    return Rule("public", anonymous=True, body=body, max_bytes=max_bytes)


def partner(route_class: str, *roles: str, body: str = "none", max_bytes: int | None = None,
            charge: str = "guard") -> Rule:
    """Partner keys scoped to ``route_class``, and people with ``roles``."""
    return Rule(route_class, keys=True, roles=frozenset(roles), body=body, max_bytes=max_bytes, charge=charge)


def people(route_class: str, *roles: str, body: str = "none", max_bytes: int | None = SMALL_BODY) -> Rule:
    """People with one of ``roles`` only; no partner key, whatever its scopes."""
    return Rule(route_class, roles=frozenset(roles), body=body, max_bytes=max_bytes)


ADMIN = people("admin", "admin")
ADMIN_BODY = people("admin", "admin", body="json")
AUDIT = people("audit", "auditor")
AUDIT_BODY = people("audit", "auditor", body="json")
READ = partner("read", *OPERATOR_ROLES)
OPS = partner("ops", *OPERATOR_ROLES)
LOOKUP = partner("lookup", body="raw")
FORM_BODY = 16 * 1024  # bytes: a console form is a few fields


def page(route_class: str, *roles: str, form: bool = False) -> Rule:
    """A console page for people with ``roles`` (signed in by the console's cookie); ``form``: a POST
    whose URL-encoded body carries the CSRF token."""
    return Rule(route_class, roles=frozenset(roles), body="form" if form else "none",
                max_bytes=FORM_BODY if form else SMALL_BODY, cookie=True)


def public_page(form: bool = False) -> Rule:
    """A console page anyone may open (sign-in, static files, the language switch); a ``form`` carries
    the pre-session CSRF token (a double-submit cookie)."""
    return Rule("public", anonymous=True, body="form" if form else "none",
                max_bytes=FORM_BODY if form else SMALL_BODY, cookie=True)


PEOPLE = ("operator", "auditor", "admin")
OPS_PAGE = page("ops", *OPERATOR_ROLES)
OPS_FORM = page("ops", *OPERATOR_ROLES, form=True)
AUDIT_PAGE = page("audit", "auditor")
AUDIT_FORM = page("audit", "auditor", form=True)
ADMIN_PAGE = page("admin", "admin")
ADMIN_FORM = page("admin", "admin", form=True)

#: (method, path template) -> rule: every route of the hub's own. The partners' routes (inbound
#: callbacks, look-ups) have theirs from their manifests (:func:`partner_rules`).
RULES: dict[tuple[str, str], Rule] = {
    # published documents and liveness
    ("GET", "/openapi.json"): public(),
    ("GET", "/docs"): public(),
    ("GET", "/docs/oauth2-redirect"): public(),
    ("GET", "/redoc"): public(),
    ("GET", "/schemas/"): public(),
    ("GET", "/schemas/{path:path}"): public(),
    ("GET", "/problems/{slug}"): public(),
    ("GET", "/.well-known/jwks.json"): public(),
    ("GET", "/healthz"): public(),
    ("GET", "/metrics"): Rule("ops", keys=True, roles=frozenset(OPERATOR_ROLES), scrape=True),
    # partners' messages
    ("POST", "/v1/messages"): partner("intake", body="raw", charge="handler"),
    ("POST", "/v1/messages:batch"): partner("intake", body="raw"),
    ("GET", "/v1/messages/{message_id}"): READ,
    ("GET", "/v1/messages/{message_id}/documents/{index}"): READ,
    ("GET", "/v1/dossiers/{dossier_code}/trace"): READ,
    # operations
    ("GET", "/v1/flows"): OPS,
    ("GET", "/v1/dead-letters"): OPS,
    ("GET", "/v1/deliveries/{delivery_id}"): OPS,
    ("POST", "/v1/deliveries/{delivery_id}:replay"): OPS,
    ("POST", "/v1/dead-letters:replay"): partner("ops", *OPERATOR_ROLES, body="json", max_bytes=SMALL_BODY),
    # people
    ("POST", "/v1/auth/login"): public(body="json", max_bytes=4096),
    ("POST", "/v1/auth/logout"): people("people", "operator", "auditor", "admin"),
    # admin
    ("GET", "/v1/admin/partners"): ADMIN,
    ("POST", "/v1/admin/partners"): ADMIN_BODY,
    ("GET", "/v1/admin/partners/{code}"): ADMIN,
    ("PATCH", "/v1/admin/partners/{code}"): ADMIN_BODY,
    ("POST", "/v1/admin/partners/{code}/keys"): ADMIN_BODY,
    ("GET", "/v1/admin/keys"): ADMIN,
    ("PATCH", "/v1/admin/keys/{key_id}"): ADMIN_BODY,
    ("POST", "/v1/admin/keys/{key_id}:rotate"): ADMIN_BODY,
    ("POST", "/v1/admin/keys/{key_id}:revoke"): ADMIN,
    ("GET", "/v1/admin/limits"): ADMIN,
    ("PUT", "/v1/admin/limits"): ADMIN_BODY,
    ("DELETE", "/v1/admin/limits/{policy_id}"): ADMIN,
    ("GET", "/v1/admin/accounts"): ADMIN,
    ("POST", "/v1/admin/accounts"): ADMIN_BODY,
    ("PATCH", "/v1/admin/accounts/{username}"): ADMIN_BODY,
    ("GET", "/v1/admin/review"): ADMIN,
    ("POST", "/v1/admin/review:disable"): ADMIN,
    ("GET", "/v1/admin/officers"): ADMIN,
    ("POST", "/v1/admin/officers"): ADMIN_BODY,
    ("GET", "/v1/admin/officers:review"): ADMIN,
    ("POST", "/v1/admin/officers:disable-unused"): ADMIN,
    ("GET", "/v1/admin/officers/{partner}/{code}"): ADMIN,
    ("PATCH", "/v1/admin/officers/{partner}/{code}"): ADMIN_BODY,
    ("POST", "/v1/admin/officers/{partner}/{code}:revoke"): ADMIN_BODY,
    ("GET", "/v1/admin/credentials"): ADMIN,
    ("PUT", "/v1/admin/credentials/{name}"): ADMIN_BODY,
    ("DELETE", "/v1/admin/credentials/{name}"): ADMIN,
    ("GET", "/v1/admin/partners/{code}/signing-keys"): ADMIN,
    ("POST", "/v1/admin/partners/{code}/signing-keys"): ADMIN_BODY,
    ("POST", "/v1/admin/partners/{code}/signing-keys/{keyid}:revoke"): ADMIN,
    ("PUT", "/v1/admin/partners/{code}/signing-policy"): ADMIN_BODY,
    # auditors
    ("GET", "/v1/audit/records"): AUDIT,
    ("POST", "/v1/audit/records:search"): AUDIT_BODY,
    ("POST", "/v1/audit/records:export"): AUDIT_BODY,
    ("GET", "/v1/audit/records/{record_id}/content"): AUDIT,
    ("POST", "/v1/audit/messages:read"): AUDIT_BODY,
    ("GET", "/v1/audit/admin-actions"): AUDIT,
    ("GET", "/v1/audit/alerts"): AUDIT,
    ("POST", "/v1/audit/alerts/{alert_id}:acknowledge"): AUDIT,
    # the console (hub/console): pages for people, signed in by cookie; each page has its API twin's roles
    ("GET", "/console"): public_page(),
    ("GET", "/console/static/{path:path}"): public_page(),
    ("GET", "/console/lang/{code}"): public_page(),
    ("GET", "/console/login"): public_page(),
    ("POST", "/console/login"): public_page(form=True),
    ("POST", "/console/logout"): page("people", *PEOPLE, form=True),
    ("POST", "/console/logout-everywhere"): page("people", *PEOPLE, form=True),
    ("GET", "/console/home"): page("people", *PEOPLE),
    # operators
    ("GET", "/console/overview"): OPS_PAGE,
    ("GET", "/console/overview/live"): OPS_PAGE,
    ("GET", "/console/overview/chart"): OPS_PAGE,
    ("GET", "/console/dead-letters"): OPS_PAGE,
    ("GET", "/console/dead-letters/{delivery_id}"): OPS_PAGE,
    ("POST", "/console/dead-letters/replay"): OPS_FORM,
    ("GET", "/console/replays"): OPS_PAGE,
    ("GET", "/console/trace"): page("read", *OPERATOR_ROLES),
    ("GET", "/console/messages"): page("read", *OPERATOR_ROLES),
    # security officers
    ("GET", "/console/audit/records"): AUDIT_PAGE,
    ("POST", "/console/audit/records"): AUDIT_FORM,
    ("GET", "/console/audit/records/{record_id}"): AUDIT_PAGE,
    ("POST", "/console/audit/records/{record_id}/content"): AUDIT_FORM,
    ("GET", "/console/audit/alerts"): AUDIT_PAGE,
    ("POST", "/console/audit/alerts/{alert_id}/acknowledge"): AUDIT_FORM,
    ("GET", "/console/audit/chain"): AUDIT_PAGE,
    ("POST", "/console/audit/chain/verify"): AUDIT_FORM,
    ("GET", "/console/audit/chain/verify/{job_id}"): AUDIT_PAGE,
    ("POST", "/console/audit/export"): AUDIT_FORM,
    ("GET", "/console/audit/exports/{name}"): AUDIT_PAGE,
    # admins
    ("GET", "/console/admin/partners"): ADMIN_PAGE,
    ("POST", "/console/admin/partners"): ADMIN_FORM,
    ("GET", "/console/admin/partners/{code}"): ADMIN_PAGE,
    ("POST", "/console/admin/partners/{code}"): ADMIN_FORM,
    ("POST", "/console/admin/partners/{code}/keys"): ADMIN_FORM,
    ("POST", "/console/admin/keys/{key_id}"): ADMIN_FORM,
    ("POST", "/console/admin/keys/{key_id}/rotate"): ADMIN_FORM,
    ("POST", "/console/admin/keys/{key_id}/revoke"): ADMIN_FORM,
    ("GET", "/console/admin/limits"): ADMIN_PAGE,
    ("POST", "/console/admin/limits"): ADMIN_FORM,
    ("POST", "/console/admin/limits/{policy_id}/delete"): ADMIN_FORM,
    ("GET", "/console/admin/officers"): ADMIN_PAGE,
    ("POST", "/console/admin/officers"): ADMIN_FORM,
    ("POST", "/console/admin/officers/{partner}/{code}"): ADMIN_FORM,
    ("POST", "/console/admin/officers/{partner}/{code}/revoke"): ADMIN_FORM,
    ("POST", "/console/admin/officers/disable-unused"): ADMIN_FORM,
    ("GET", "/console/admin/accounts"): ADMIN_PAGE,
    ("POST", "/console/admin/accounts"): ADMIN_FORM,
    ("POST", "/console/admin/accounts/{username}"): ADMIN_FORM,
    ("GET", "/console/admin/review"): ADMIN_PAGE,
    ("POST", "/console/admin/review/disable"): ADMIN_FORM,
    ("GET", "/console/admin/credentials"): ADMIN_PAGE,
    ("POST", "/console/admin/credentials/{name}"): ADMIN_FORM,
}


def partner_rules() -> dict[tuple[str, str], Rule]:
    """The rule of every partner route: an inbound route's from its declaration (public, or partner
    keys of its route class); a look-up's: partner keys of class ``lookup`` (the officer is then
    checked by hub/citizens/tiers.py). Built once per set of manifests: the fast path asks per request."""
    return _partner_rules(manifests())


@lru_cache(maxsize=8)
def _partner_rules(loaded: tuple[Manifest, ...]) -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    for m in loaded:
        for route in m.routes:
            if route.route_class is None:
                rule = public(body=route.body, max_bytes=route.max_bytes)
            elif route.route_class in KEY_ROUTE_CLASSES:
                rule = partner(route.route_class, *route.roles, body=route.body, max_bytes=route.max_bytes)
            else:
                if not route.roles:
                    raise ValueError(f"{m.code}: route {route.method} {route.path} of class {route.route_class!r} "
                                     "admits nobody (name its roles)")
                rule = Rule(route.route_class, roles=frozenset(route.roles), body=route.body, max_bytes=route.max_bytes)
            rules[(route.method, route.path)] = rule
        if m.lookups is not None:
            for op in m.lookups.operations:
                rules[("POST", f"{m.lookups.prefix}/{op.name}")] = LOOKUP
    return rules


def all_rules() -> dict[tuple[str, str], Rule]:
    """The hub's rules and its partners' (a partner may not redefine one of the hub's routes)."""
    merged = dict(RULES)
    for key, rule in partner_rules().items():
        if key in RULES:
            raise LookupError(f"a partner declares {key[0]} {key[1]}, a route of the hub's own")
        merged[key] = rule
    return merged


def rule_for(method: str, path: str) -> Rule:
    """The rule of a route; LookupError (refusing to build the route) when none is declared."""
    try:
        return RULES[(method, path)]
    except KeyError:
        pass
    try:
        return partner_rules()[(method, path)]
    except KeyError:
        raise LookupError(f"route {method} {path} has no access rule: declare who may call it in hub/edge/rules.py "
                          f"(or, for a partner's route, in its manifest)") from None


def leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route of an app, descending into included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from leaf_routes(inner.routes)
        else:
            yield route


def route_methods(route: BaseRoute) -> list[tuple[str, str]]:
    """``(method, path)`` of each method a route answers (HEAD goes with GET)."""
    path = getattr(route, "path", None)
    methods = getattr(route, "methods", None) or ()
    return [(m, path) for m in sorted(methods) if m != "HEAD" and path is not None]


MATRIX_BEGIN, MATRIX_END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"


def matrix_markdown() -> str:
    """The rule table as docs/ACCESS.md shows it: one row per route, one column per kind of caller."""
    head = "| method | route | class | body | " + " | ".join(CALLERS) + " |"
    lines = [head, "|" + " --- |" * (4 + len(CALLERS))]
    for (method, path), rule in all_rules().items():
        body = {"none": "—", "json": "JSON", "raw": "JSON", "callback": "partner format", "form": "form + CSRF"}[rule.body]
        if rule.body != "none":
            body += f" ≤ {rule.max_bytes // 1024} KiB" if rule.max_bytes else " ≤ LIENTHONG_MAX_BODY_BYTES"
        lines.append(f"| {method} | `{path}` | {rule.route_class} | {body} | "
                     + " | ".join(rule.cell(c) for c in CALLERS) + " |")
    return "\n".join(lines)
