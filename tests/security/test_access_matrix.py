"""Rule: every route declares who may call it, and the running app enforces exactly that.

The table is ``hub/edge/rules.py``; docs/ACCESS.md shows it as a matrix. These tests walk the
application's own route table, and call every route as every kind of caller.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import Request

from hub.access import csrf
from hub.access.tokens import digest
from hub.edge.app import create_app
from hub.edge.rules import CALLERS, all_rules, leaf_routes, route_methods
from tests.conftest import Hub
from tests.security.conftest import PEOPLE, Edge, sign_in

RULES = all_rules()  # the hub's and its partners'

# Path parameters that name nothing that exists: an allowed caller gets 404 or 422, never 401/403,
# and nothing real is changed by the walk.
SAMPLES = {"message_id": "m-nothing", "index": "0", "dossier_code": "000.00.00.H49-261123-9999", "delivery_id": "999999",
           "code": "nobody", "key_id": "999999", "policy_id": "999999", "username": "nobody", "partner": "nobody",
           "name": "nobody.secret", "keyid": "nokey", "record_id": "999999", "alert_id": "999999", "slug": "nothing",
           "path": "nothing.json", "job_id": "nojob", "event": "NoSuchEvent", "secret": "not-the-secret",
           "month": "1999-01"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES[m.group(1)], path)


def declared(app_routes: list) -> set[tuple[str, str]]:
    return {pair for route in leaf_routes(app_routes) for pair in route_methods(route)}


def test_every_route_of_the_app_has_exactly_one_declared_rule(hub: Hub) -> None:
    app = create_app(hub.settings)
    routes = declared(app.routes)
    assert routes, "the walk found the app's routes"
    assert routes == set(RULES), (f"routes without a rule: {sorted(routes - set(RULES))}; "
                                  f"rules without a route: {sorted(set(RULES) - routes)}")


def test_a_route_added_without_a_rule_stops_the_app_from_being_built(hub: Hub) -> None:
    app = create_app(hub.settings)
    with pytest.raises(LookupError, match="has no access rule"):
        @app.get("/v1/backdoor")
        async def backdoor(request: Request) -> dict[str, str]:
            return {"open": "sesame"}


def console_call(c: httpx.Client, edge: Edge, caller: str, method: str, path: str) -> tuple[httpx.Response, bool]:
    """Call a console page the way a browser does: people by the session cookie (never a header),
    a form with its session's CSRF token. Returns the answer and whether it is the access check's
    refusal: to the sign-in page (no session), or the 403 page of a role the rule does not admit."""
    token = edge.headers[caller].get("Authorization", "").removeprefix("Bearer ") if caller in PEOPLE_CALLERS else ""
    if token and path in ("/console/logout", "/console/logout-everywhere"):
        token = sign_in(edge.url, PEOPLE[caller])  # a session of its own: signing out ends it
    cookies = {csrf.SESSION_COOKIE: token} if token else {}
    data = None
    if RULES[(method, path)].body == "form":
        pepper = edge.hub.settings.effective_key_pepper
        data = {"csrf_token": csrf.session_token(pepper, digest(token, pepper)) if token else ""}
    headers = {"Authorization": ""} if caller in PEOPLE_CALLERS else {}
    answer = httpx.request(method, edge.url + concrete(path), cookies=cookies, data=data, headers=headers or None,
                           follow_redirects=False, timeout=30) if caller in PEOPLE_CALLERS else \
        c.request(method, concrete(path), data=data, follow_redirects=False)
    to_login = answer.status_code == 303 and answer.headers.get("location", "").startswith("/console/login?next=")
    signed_out = answer.status_code == 401 and 'data-problem="unauthenticated"' in answer.text
    forbidden = answer.status_code == 403 and 'data-problem="forbidden"' in answer.text
    return answer, to_login or signed_out or forbidden


PEOPLE_CALLERS = ("operator", "auditor", "admin")


def expected(method: str, path: str, caller: str) -> bool:
    """Allowed for this fixture's callers: the key holds every scope; no scrape allowlist is configured."""
    return RULES[(method, path)].cell(caller) not in ("no", "scrape allowlist")


@pytest.mark.parametrize("caller", CALLERS)
def test_every_cell_of_the_access_matrix_holds_against_the_running_app(edge: Edge, caller: str) -> None:
    """Allowed callers get past the guard (any answer but 401/403); refused ones get 401 (no credential)
    or 403 (a credential the rule does not admit), whatever their scopes say."""
    wrong: list[str] = []
    signing_out = ("/v1/auth/logout", "/console/logout", "/console/logout-everywhere")
    ordered = sorted(RULES, key=lambda r: (r[1] in signing_out, r[1] == "/console/logout-everywhere"))  # signing out last
    with edge.client(caller) as c:
        for method, path in ordered:
            allowed = expected(method, path, caller)
            if path.startswith("/console"):
                answer, refused = console_call(c, edge, caller, method, path)
                assert answer.status_code < 500, f"{method} {path} as {caller}: {answer.status_code} {answer.text[:300]}"
                if allowed == refused:
                    wrong.append(f"{method} {path}: {'refused' if refused else 'let in'} ({answer.status_code})")
                continue
            body = {"json": {}} if RULES[(method, path)].body in ("json", "raw", "callback") else {}
            answer = c.request(method, concrete(path), **body)  # type: ignore[arg-type]
            refused = answer.status_code in (401, 403) and answer.headers.get("content-type", "").startswith(
                "application/problem+json") and answer.json().get("type") in ("/problems/unauthenticated",
                                                                               "/problems/forbidden")
            assert answer.status_code < 500, f"{method} {path} as {caller}: {answer.status_code} {answer.text[:200]}"
            if allowed == refused:
                wrong.append(f"{method} {path}: {'refused' if refused else 'let in'} ({answer.status_code})")
            if not allowed:
                want = 401 if caller == "anonymous" else 403
                if answer.status_code != want:
                    wrong.append(f"{method} {path}: {answer.status_code}, want {want}")
    assert not wrong, f"as {caller}:\n" + "\n".join(wrong)


def test_a_partner_key_scoped_star_cannot_create_an_admin_or_read_the_audit_trail(edge: Edge) -> None:
    with edge.client("key") as attacker:
        made = attacker.post("/v1/admin/accounts", json={"username": "mallory", "display_name": "M", "role": "admin",
                                                         "password": "x" * 16})
        assert made.status_code == 403 and made.json()["type"] == "/problems/forbidden"
        assert attacker.get("/v1/audit/records").status_code == 403
        assert attacker.get("/v1/admin/keys").status_code == 403
    with edge.client("admin") as admin:
        assert "mallory" not in admin.get("/v1/admin/accounts").text


def test_a_key_whose_stored_scopes_name_admin_still_cannot_reach_admin_routes(edge: Edge) -> None:
    """Even a row written around the admin API's validation ('admin' in the endpoints) buys nothing."""
    from sqlalchemy import update

    from hub.access.keys import issue_key
    from hub.store.tables import api_keys

    key = issue_key(edge.hub.engine, "motcua", edge.hub.settings.effective_key_pepper, "forged")
    with edge.hub.engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.label == "forged")
                     .values(scopes='{"endpoints": ["admin", "audit", "people", "*"]}'))
    with httpx.Client(base_url=edge.url, headers={"Authorization": f"ApiKey {key}"}) as forged:
        assert forged.get("/v1/admin/partners").status_code == 403
        assert forged.post("/v1/auth/logout").status_code == 403
        assert forged.get("/v1/audit/alerts").status_code == 403


def test_docs_access_matrix_is_the_rule_table() -> None:
    """docs/ACCESS.md shows the matrix generated from RULES; a changed rule must change the doc."""
    from pathlib import Path

    from hub.edge.rules import MATRIX_BEGIN, MATRIX_END, matrix_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ACCESS.md").read_text(encoding="utf-8")
    shown = doc.split(MATRIX_BEGIN, 1)[1].split(MATRIX_END, 1)[0].strip()
    assert shown == matrix_markdown(), "regenerate: python -c 'from hub.edge.rules import matrix_markdown; print(matrix_markdown())'"
