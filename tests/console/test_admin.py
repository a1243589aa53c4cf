"""Rules: the admins' pages make the same changes as the admin API (the same store functions, recorded
as admin actions of the admin's own account); a key's secret is shown once, on the page answering its
issue or rotation, and is stored only as a hash; a credential's value is never shown; what cannot be
undone is confirmed on the server first; a form without its CSRF token changes nothing; only admins
open these pages; an admin cannot lock themselves out; bad input is a 422 page, never a 500."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from hub.access.keys import issue_key
from hub.access.tokens import digest
from hub.citizens import officers
from hub.store.engine import reading
from hub.store.tables import accounts, admin_actions, api_keys, rate_policies, vault_secrets
from hub.store.tables import officers as officer_rows
from tests.console.conftest import PEOPLE, Console, Person
from tests.support import wait_until

ADMIN = PEOPLE["admin"]
SECRET = re.compile(r'<code id="new-secret" class="secret"[^>]*>([^<]+)</code>')
PAGES = ("/console/admin/partners", "/console/admin/partners/motcua", "/console/admin/limits", "/console/admin/officers",
         "/console/admin/accounts", "/console/admin/review", "/console/admin/credentials")


def api_status(console: Console, key: str) -> int:
    """What the API answers a read with this key (404: the key works, the message does not exist)."""
    return httpx.get(f"{console.url}/v1/messages/x", headers={"Authorization": f"ApiKey {key}"}, timeout=10).status_code


def actions(console: Console, action: str | None = None) -> list[Any]:
    query = select(admin_actions).order_by(admin_actions.c.id)
    if action:
        query = query.where(admin_actions.c.action == action)
    with reading(console.hub.engine) as conn:
        return list(conn.execute(query).all())


def secret_of(answer: httpx.Response) -> str:
    found = SECRET.search(answer.text)
    assert found, answer.text
    return html.unescape(found.group(1))


def issue(admin: Person, partner: str = "motcua", label: str = "máy chủ một cửa") -> httpx.Response:
    """Issue a key through the form: endpoints intake and read, every message type."""
    form = [("label", label), ("endpoints", "intake"), ("endpoints", "read"), ("types", "*")]
    return admin.submit(f"/console/admin/partners/{partner}/keys", form)


def test_an_issued_key_is_shown_once_works_at_once_only_its_hash_is_stored_and_its_label_is_escaped(
        console: Console) -> None:
    admin = console.person("admin")
    form = admin.get("/console/admin/partners/motcua")
    assert form.status_code == 200 and 'action="/console/admin/partners/motcua/keys"' in form.text
    answer = issue(admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    secret = secret_of(answer)
    assert secret.startswith("lt_")
    assert '<button type="button" data-copy="#new-secret" data-copied="' in answer.text
    assert "sẽ không được hiển thị lại" in answer.text, "a clear warning, in Vietnamese"
    assert api_status(console, secret) == 404, "the new key works against the API at once"

    later = admin.get("/console/admin/partners/motcua")
    assert later.status_code == 200 and secret not in later.text and secret[:12] in later.text.replace("…", "")
    assert secret not in admin.get("/console/admin/partners").text
    with reading(console.hub.engine) as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.label == "máy chủ một cửa")).one()
    assert row.key_hash == digest(secret, console.hub.settings.effective_key_pepper)
    assert secret not in repr(tuple(row)), "the database keeps the hash, never the secret"
    [recorded] = actions(console, "key.issue")[-1:]
    assert recorded.actor == ADMIN and recorded.client_ip == "127.0.0.1" and secret not in (recorded.after or "")

    evil = '<script>alert("x")</script>'  # data on the pages is escaped
    assert admin.submit("/console/admin/partners", {"code": "doc_hai", "name": evil, "kind": "one_stop"}).status_code == 303
    assert secret_of(issue(admin, "doc_hai", evil))
    for path in ("/console/admin/partners", "/console/admin/partners/doc_hai"):
        text = admin.get(path).text
        assert evil not in text and "&lt;script&gt;" in text, path


def test_revoking_a_key_asks_first_then_the_api_refuses_it_within_a_second(console: Console) -> None:
    admin = console.person("admin")
    secret = issue_key(console.hub.engine, "motcua", console.hub.settings.effective_key_pepper, "to revoke")
    with reading(console.hub.engine) as conn:
        key_id = conn.execute(select(api_keys.c.id).where(api_keys.c.label == "to revoke")).scalar_one()
    path = f"/console/admin/keys/{key_id}/revoke"

    forged = admin.submit(path, {"partner": "motcua", "confirm": "yes"}, csrf=False)
    assert forged.status_code == 403, "a form without its CSRF token is refused..."
    asked = admin.submit(path, {"partner": "motcua"})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text and f'action="{path}"' in asked.text
    assert api_status(console, secret) == 404 and not actions(console, "key.revoke"), "...and asking changes nothing"

    revoked = admin.submit(path, {"partner": "motcua", "confirm": "yes"})
    assert revoked.status_code == 303 and revoked.headers["location"].startswith("/console/admin/partners/motcua?notice=")
    wait_until(lambda: api_status(console, secret) == 401, timeout=1.0, what="the revoked key refused")
    [recorded] = actions(console, "key.revoke")
    assert recorded.actor == ADMIN and recorded.target == f"key:{key_id}@motcua"
    shown = admin.get(revoked.headers["location"])
    assert "Đã thu hồi khóa" in shown.text, "the notice says it"


def test_rotation_shows_the_new_secret_once_and_the_old_key_works_during_the_grace(console: Console) -> None:
    admin = console.person("admin")
    old = secret_of(issue(admin))
    with reading(console.hub.engine) as conn:
        key_id = conn.execute(select(api_keys.c.id).where(api_keys.c.key_hash == digest(
            old, console.hub.settings.effective_key_pepper))).scalar_one()
    assert admin.submit(f"/console/admin/keys/{key_id}/rotate", {"grace_hours": "2161"}).status_code == 422, "at most 90 days"
    answer = admin.submit(f"/console/admin/keys/{key_id}/rotate", {"grace_hours": "1"})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    new = secret_of(answer)
    assert new != old and api_status(console, new) == 404 and api_status(console, old) == 404
    with reading(console.hub.engine) as conn:
        retired = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).one()
    assert timedelta(minutes=59) < retired.expires_at - datetime.now(timezone.utc) <= timedelta(hours=1)
    page = admin.get("/console/admin/partners/motcua").text
    assert new not in page and old not in page
    assert [a.actor for a in actions(console, "key.rotate")] == [ADMIN]


def test_only_admins_open_the_admin_pages_and_a_form_without_its_csrf_token_changes_nothing(console: Console) -> None:
    operator, auditor = console.person("operator"), console.person("auditor")
    for person in (operator, auditor):
        for path in PAGES:
            assert person.get(path).status_code == 403, path
        refused = person.submit("/console/admin/accounts", {"username": "x", "display_name": "x", "role": "admin",
                                                            "password": "a long enough password"})
        assert refused.status_code == 403
    admin = console.person("admin")
    for path in PAGES:
        answer = admin.get(path)
        assert answer.status_code == 200 and answer.text.count("<h1") == 1, path
    admin.get("/console/lang/en?next=/console/admin/partners")
    assert "Issue a key" in admin.get("/console/admin/partners/motcua").text, "in English when switched"

    before = len(actions(console))
    with reading(console.hub.engine) as conn:
        key_id = conn.execute(select(api_keys.c.id).where(api_keys.c.revoked_at.is_(None)).limit(1)).scalar_one()
    forged = [("/console/admin/partners", {"code": "gia_mao", "name": "x", "kind": "one_stop"}),
              (f"/console/admin/keys/{key_id}", {"label": "forged", "types": "*"}),
              (f"/console/admin/keys/{key_id}/rotate", {"grace_hours": "0"}),  # would hand a new secret to the forger
              (f"/console/admin/keys/{key_id}/revoke", {"confirm": "yes"}),
              ("/console/admin/partners/motcua", {"name": "x", "state": "suspended", "signatures": "off"}),
              ("/console/admin/partners/motcua/keys", {"label": "forged", "types": "*"}),
              ("/console/admin/accounts", {"username": "ke_gian", "display_name": "x", "role": "admin",
                                           "password": "a long enough password"}),
              ("/console/admin/credentials/national_payment.secret", {"action": "set", "value": "forged-value"})]
    for path, data in forged:
        answer = admin.submit(path, data, csrf=False)
        assert answer.status_code == 403 and SECRET.search(answer.text) is None, path
    assert len(actions(console)) == before, "no change was made"
    with reading(console.hub.engine) as conn:
        key = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).one()
    assert key.revoked_at is None and key.replaced_by is None and key.label != "forged", "the key is untouched"
    with reading(console.hub.engine) as conn:
        assert conn.execute(select(accounts.c.id).where(accounts.c.username.in_(("x", "ke_gian")))).first() is None
        assert conn.execute(select(vault_secrets.c.id)).first() is None


def test_every_change_is_the_apis_admin_action_recorded_with_the_admins_account(console: Console) -> None:
    admin = console.person("admin")
    steps: list[tuple[str, dict[str, Any] | list[tuple[str, str]], str]] = [
        ("/console/admin/partners", {"code": "tiem_chung", "name": "Tiêm chủng", "kind": "ministry_app",
                                     "agency_id": "", "allowed_ips": "203.0.113.0/24\n2001:db8::/32"}, "partner.add"),
        ("/console/admin/partners/tiem_chung", {"name": "Tiêm chủng tỉnh", "agency_id": "000.00.00.H49",
                                                "allowed_ips": "", "state": "suspended", "signatures": "optional"},
         "partner.update"),
        ("/console/admin/limits", {"counter": "key", "partner": "motcua", "key_id": "", "route_class": "read",
                                   "name": "per-minute", "quota": "2", "window_seconds": "60"}, "limit.set"),
        ("/console/admin/officers", {"partner": "motcua", "officer_code": "cb.001", "full_name": "Nguyễn Văn An",
                                     "agency_id": "000.00.00.H49", "unit": "Bộ phận một cửa", "tier": "own_unit",
                                     "valid_from": "", "valid_until": ""}, "officer.register"),
        ("/console/admin/officers/motcua/cb.001", {"full_name": "Nguyễn Văn An", "agency_id": "000.00.00.H49",
                                                   "unit": "Phòng tư pháp", "tier": "whole_agency", "valid_from": "",
                                                   "valid_until": "2030-01-01T00:00", "state": "active", "reason": ""},
         "officer.change"),
        ("/console/admin/officers/motcua/cb.001/revoke", {"reason": "nghỉ việc", "confirm": "yes"}, "officer.revoke"),
        ("/console/admin/accounts", {"username": "canbo2", "display_name": "Cán bộ 2", "role": "operator",
                                     "password": "mot mat khau du dai", "allowed_ips": "10.0.0.0/8"}, "account.add"),
        ("/console/admin/accounts/canbo2", {"display_name": "Cán bộ hai", "role": "auditor", "allowed_ips": "",
                                            "state": "active", "password": ""}, "account.update"),
        ("/console/admin/credentials/population_db.client_id", {"action": "set", "value": "client-42"}, "vault.set"),
    ]
    for path, data, action in steps:
        answer = admin.submit(path, data)
        assert answer.status_code == 303, (path, answer.text)
        recorded = actions(console, action)[-1]
        assert recorded.actor == ADMIN and recorded.client_ip == "127.0.0.1", action
    assert console.app.state.gate.policies._policies[-1].limit.name == "per-minute", "the gate reloaded the policies"
    motcua = console.hub.keys["motcua"]
    assert [api_status(console, motcua) for _ in range(3)] == [404, 404, 429], "the new limit is in force at once"

    with reading(console.hub.engine) as conn:
        policy_id = conn.execute(select(rate_policies.c.id).where(rate_policies.c.name == "per-minute")).scalar_one()
    delete = f"/console/admin/limits/{policy_id}/delete"
    assert admin.submit(delete).status_code == 200 and not actions(console, "limit.delete"), "asks first"
    assert admin.submit(delete, {"confirm": "yes"}).status_code == 303
    assert actions(console, "limit.delete")[-1].actor == ADMIN
    assert not any(p.limit.name == "per-minute" for p in console.app.state.gate.policies._policies)

    key_id = issue_key_id(console, "motcua", "to change")
    changed = admin.submit(f"/console/admin/keys/{key_id}", [("label", "đã đổi"), ("endpoints", "read"), ("types", "status.changed"),
                                                             ("lookups", "verify"), ("allowed_ips", "198.51.100.7"),
                                                             ("expires_at", "2031-06-30T17:00")])
    assert changed.status_code == 303
    after = actions(console, "key.update")[-1]
    assert after.actor == ADMIN and '"endpoints":["read"]' in after.after and '"198.51.100.7"' in after.after
    assert "2031-06-30T10:00:00+00:00" in after.after, "a time typed in Vietnam time is stored in UTC"
    page = admin.get("/console/admin/partners/motcua").text
    assert 'value="2031-06-30T17:00"' in page and "đã đổi" in page
    shown = admin.get("/console/admin/officers?partner=motcua&state=revoked").text
    assert "cb.001" in shown and "nghỉ việc" in shown


def issue_key_id(console: Console, partner: str, label: str) -> int:
    issue_key(console.hub.engine, partner, console.hub.settings.effective_key_pepper, label)
    with reading(console.hub.engine) as conn:
        return int(conn.execute(select(api_keys.c.id).where(api_keys.c.label == label)).scalar_one())


def test_the_credentials_page_never_shows_a_value(console: Console) -> None:
    admin = console.person("admin")
    name, value = "national_payment.secret", "Gi4-tri-BI-MAT-xyz"
    page = admin.get("/console/admin/credentials")
    assert name in page.text and 'autocomplete="new-password"' in page.text and 'type="password"' in page.text
    for _ in range(2):  # setting again is a rotation: a new version
        answer = admin.submit(f"/console/admin/credentials/{name}", {"action": "set", "value": value})
        assert answer.status_code == 303 and value not in answer.text
    page = admin.get("/console/admin/credentials")
    assert value not in page.text and "Gi4" not in page.text
    with reading(console.hub.engine) as conn:
        row = conn.execute(select(vault_secrets).where(vault_secrets.c.name == name)).one()
    assert row.version == 2 and row.updated_by == ADMIN and value.encode() not in bytes(row.ciphertext)
    assert [a.actor for a in actions(console, "vault.set")] == [ADMIN, ADMIN]
    assert all(value not in (a.after or "") + (a.before or "") for a in actions(console))

    asked = admin.submit(f"/console/admin/credentials/{name}", {"action": "delete", "value": value})
    assert asked.status_code == 200 and value not in asked.text, "the confirmation page carries no value"
    assert admin.submit(f"/console/admin/credentials/{name}", {"action": "delete", "confirm": "yes"}).status_code == 303
    assert actions(console, "vault.delete")[-1].actor == ADMIN
    assert name in admin.get("/console/admin/credentials").text, "listed again among the names not set"


def test_an_admin_cannot_lock_themselves_out_but_can_disable_another_after_confirming(console: Console) -> None:
    admin = console.person("admin")
    own = f"/console/admin/accounts/{ADMIN}"
    mine = {"display_name": "Quantri", "role": "admin", "allowed_ips": "", "password": ""}
    for change, why in (({"state": "disabled", "confirm": "yes"}, "quản trị viên khác"),
                        ({"state": "active", "role": "operator"}, "quản trị viên khác"),
                        ({"state": "active", "allowed_ips": "203.0.113.0/24"}, "127.0.0.1")):
        refused = admin.submit(own, {**mine, **change})
        assert refused.status_code == 422 and why in refused.text, change
    with reading(console.hub.engine) as conn:
        me = conn.execute(select(accounts).where(accounts.c.username == ADMIN)).one()
    assert me.role == "admin" and me.state == "active" and not actions(console, "account.update")

    operator = console.person("operator")
    other = f"/console/admin/accounts/{PEOPLE['operator']}"
    form = {"display_name": "Vanhanh", "role": "operator", "allowed_ips": "", "password": "", "state": "disabled"}
    asked = admin.submit(other, form)
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text and not actions(console, "account.update")
    assert admin.submit(other, {**form, "confirm": "yes"}).status_code == 303
    wait_until(lambda: operator.get("/console/overview").status_code == 303, timeout=2, what="the disabled account's session ended")


BAD_FORMS = [
    ("/console/admin/partners", {"code": "Bad Code!", "name": "x", "kind": "one_stop"}),
    ("/console/admin/partners", {"code": "moi", "name": "x", "kind": "no_such_kind"}),
    ("/console/admin/partners", {"code": "moi", "name": "x", "kind": "one_stop", "allowed_ips": "10.0.0.300/8"}),
    ("/console/admin/partners/motcua", {"name": "x", "state": "gone", "signatures": "off"}),
    ("/console/admin/partners/motcua/keys", {"label": "x", "types": "*", "allowed_ips": "not-an-address"}),
    ("/console/admin/partners/motcua/keys", {"label": "x", "types": "no.such.type"}),
    ("/console/admin/partners/motcua/keys", {"label": "x", "types": "*", "endpoints": "admin"}),
    ("/console/admin/partners/motcua/keys", {"label": "x", "types": "*", "expires_at": "2020-01-01T00:00"}),
    ("/console/admin/partners/motcua/keys", {"label": "x", "types": "*", "expires_at": "tomorrow"}),
    ("/console/admin/partners/motcua/keys", {"label": "x" * 101, "types": "*"}),
    ("/console/admin/keys/1/rotate", {"grace_hours": "-1"}),
    ("/console/admin/keys/abc", {"label": "x"}),
    ("/console/admin/limits", {"counter": "key", "name": "Bad Name", "quota": "1", "window_seconds": "1"}),
    ("/console/admin/limits", {"counter": "key", "name": "daily", "quota": "lots", "window_seconds": "1"}),
    ("/console/admin/officers", {"partner": "motcua", "officer_code": "cb 1", "full_name": "x", "agency_id": "000.00.00.H49"}),
    ("/console/admin/officers", {"partner": "motcua", "officer_code": "cb1", "full_name": "x", "agency_id": "H49"}),
    ("/console/admin/officers/motcua/cb1/revoke", {"reason": ""}),
    ("/console/admin/accounts", {"username": "moi", "display_name": "x", "role": "operator", "password": "short"}),
    ("/console/admin/accounts", {"username": "moi", "display_name": "x", "role": "operator", "password": "long enough pw",
                                 "allowed_ips": "192.168.1.0/33"}),
    ("/console/admin/accounts", {"username": "moi", "display_name": "x", "role": "root", "password": "long enough pw"}),
    ("/console/admin/accounts/vanhanh", {"display_name": "x", "role": "operator", "state": "active", "password": "short"}),
    ("/console/admin/credentials/Not A Name", {"action": "set", "value": "x"}),
    ("/console/admin/credentials/national_payment.secret", {"action": "set", "value": ""}),
    ("/console/admin/credentials/national_payment.secret", {"action": "steal"}),
]
BAD_QUERIES = ["/console/admin/officers?months=abc", "/console/admin/officers?state=bogus", "/console/admin/officers?after=-1",
               "/console/admin/officers?partner=" + "x" * 41, "/console/admin/review?days=0"]


def test_invalid_input_is_a_422_page_and_changes_nothing(console: Console) -> None:
    admin = console.person("admin")
    before = len(actions(console))
    for path, data in BAD_FORMS:
        answer = admin.submit(path, data)
        assert answer.status_code == 422, (path, data, answer.text[-600:])
        assert answer.headers["content-type"].startswith("text/html") and 'class="error"' in answer.text
    for path in BAD_QUERIES:
        answer = admin.get(path)
        assert answer.status_code == 422 and 'class="error"' in answer.text, path
    assert admin.get("/console/admin/partners/khong_co").status_code == 404
    assert admin.submit("/console/admin/keys/999999/revoke", {"confirm": "yes"}).status_code == 404
    assert len(actions(console)) == before, "nothing changed"


def test_officers_page_by_keyset_and_the_unused_ones_are_disabled_after_confirming(console: Console,
                                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.console import admin as pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    for n in range(3):
        officers.register(console.hub.engine, "motcua", f"cb{n}", f"Cán bộ {n}", "000.00.00.H49", actor="test")
    long_ago = datetime.now(timezone.utc) - timedelta(days=250)
    with console.hub.engine.begin() as conn:
        conn.execute(update(officer_rows).where(officer_rows.c.officer_code == "cb0").values(created_at=long_ago))
    admin = console.person("admin")
    first = admin.get("/console/admin/officers?partner=motcua")
    assert first.status_code == 200 and "cb0" in first.text and "cb1" in first.text
    found = re.search(r'href="(/console/admin/officers\?[^"]*after=\d+)" rel="next"', first.text)
    assert found, "a next-page link by keyset"
    second = admin.get(html.unescape(found.group(1)))
    assert ">cb2<" in second.text and ">cb1<" not in second.text and 'rel="next"' not in second.text

    change = {"full_name": "Cán bộ 1", "agency_id": "000.00.00.H49", "unit": "", "tier": "own_dossiers", "valid_from": "",
              "valid_until": "", "state": "disabled", "reason": "nghỉ phép"}
    asked = admin.submit("/console/admin/officers/motcua/cb1", change)
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text, "disabling asks first"
    assert officers.get_officer(console.hub.engine, "motcua", "cb1")["state"] == "active"  # type: ignore[index]
    assert admin.submit("/console/admin/officers/motcua/cb1", {**change, "confirm": "yes"}).status_code == 303
    assert officers.get_officer(console.hub.engine, "motcua", "cb1")["state"] == "disabled"  # type: ignore[index]

    unused = re.search(r'data-testid="unused-officers">(.*?)</table>', first.text, re.S)
    assert unused and "cb0" in unused.group(1) and "cb1" not in unused.group(1)
    path = "/console/admin/officers/disable-unused"
    assert admin.submit(path, {"months": "6"}).status_code == 200 and not actions(console, "officer.disable")
    assert admin.submit(path, {"months": "6", "confirm": "yes"}).status_code == 303
    assert [(a.actor, a.target) for a in actions(console, "officer.disable")] == [(ADMIN, "officer:motcua/cb0")]
    assert officers.get_officer(console.hub.engine, "motcua", "cb0")["state"] == "disabled"  # type: ignore[index]


def test_the_review_lists_unused_keys_and_accounts_and_disables_them_after_confirming(console: Console) -> None:
    key_id = issue_key_id(console, "postal_vnpost", "unused key")
    long_ago = datetime.now(timezone.utc) - timedelta(days=200)
    with console.hub.engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(created_at=long_ago))
        conn.execute(update(accounts).where(accounts.c.username == PEOPLE["auditor"]).values(created_at=long_ago))
    admin = console.person("admin")
    page = admin.get("/console/admin/review?days=90")
    assert page.status_code == 200 and "unused key" in page.text and PEOPLE["auditor"] in page.text
    assert f">{ADMIN}<" not in page.text, "the admin just signed in"
    assert admin.submit("/console/admin/review/disable", {"days": "90"}).status_code == 200
    assert not actions(console, "key.revoke")
    assert admin.submit("/console/admin/review/disable", {"days": "90", "confirm": "yes"}).status_code == 303
    assert [a.target for a in actions(console, "key.revoke")] == [f"key:{key_id}@postal_vnpost"]
    assert actions(console, "account.update")[-1].target == f"account:{PEOPLE['auditor']}"
    assert all(a.actor == ADMIN for a in actions(console, "key.revoke") + actions(console, "account.update"))
