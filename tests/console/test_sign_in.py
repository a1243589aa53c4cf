"""Rules: the console signs people in with the API's accounts and limits; its session cookie is
HttpOnly and SameSite=Strict; every form needs its CSRF token; a partner key opens no page; each role
sees only its own pages; sign-out ends the session, sign-out everywhere ends them all."""

from __future__ import annotations

import httpx

from hub.access import csrf
from hub.edge.app import create_app
from tests.console.conftest import CSRF_FIELD, PASSWORD, PEOPLE, Console
from tests.support import ThreadedServer, access_record


def test_sign_in_sets_an_httponly_strict_cookie_scoped_to_the_console(console: Console) -> None:
    c = console.anonymous()
    form = c.get("/console/login")
    token = CSRF_FIELD.search(form.text)
    assert token
    answer = c.post("/console/login", data={"username": "vanhanh", "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/overview"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(csrf.SESSION_COOKIE + "="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/console" in lowered
    assert "secure" not in lowered.replace("samesite=strict", "")  # plain HTTP on loopback: not Secure


def test_behind_tls_the_session_cookie_is_secure_and_a_forged_proto_header_changes_nothing(console: Console) -> None:
    """Behind the TLS proxy (a trusted proxy saying X-Forwarded-Proto: https) every cookie is Secure;
    the same header from an untrusted address is ignored."""
    behind_proxy = create_app(console.hub.settings.model_copy(update={"trusted_proxies": ["127.0.0.1/32"]}))
    with ThreadedServer(behind_proxy) as server:
        server.start()
        tls = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}  # people sign in from loopback here
        with httpx.Client(base_url=server.url, headers=tls, timeout=30) as c:
            form = c.get("/console/login")
            assert "secure" in form.headers["set-cookie"].lower()
            token = CSRF_FIELD.search(form.text)
            assert token
            pre = form.headers["set-cookie"].split(";", 1)[0]  # a Secure cookie: httpx keeps it from plain HTTP
            answer = c.post("/console/login", data={"username": "vanhanh", "password": PASSWORD,
                                                    "csrf_token": token.group(1)}, headers={"Cookie": pre})
            assert answer.status_code == 303
            cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(csrf.SESSION_COOKIE + "="))
            assert "; secure" in cookie.lower()
    with httpx.Client(base_url=console.url, headers={"X-Forwarded-Proto": "https"}, timeout=30) as c:
        assert "secure" not in c.get("/console/login").headers["set-cookie"].lower().replace("samesite", ""), \
            "not a trusted proxy: the header is not believed"


def test_a_sign_in_form_posted_without_its_csrf_token_is_refused(console: Console) -> None:
    c = console.anonymous()
    c.get("/console/login")  # the pre-session cookie is set...
    answer = c.post("/console/login", data={"username": "vanhanh", "password": PASSWORD})  # ...but the form lacks it
    assert answer.status_code == 403
    assert "csrf_token" not in answer.headers.get("set-cookie", "")
    assert csrf.SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_a_form_posted_by_a_signed_in_person_without_the_csrf_token_is_refused_and_recorded(console: Console) -> None:
    """A cross-site page can make the browser post with the session cookie, but cannot know the token."""
    admin = console.person("admin")
    forged = admin.submit("/console/logout", {"from": "evil.example"}, csrf=False, headers={"X-Request-Id": "forged-logout-1"})
    assert forged.status_code == 403
    assert "Biểu mẫu đã hết hạn" in forged.text, "the page says why, in Vietnamese"
    wrong = admin.submit("/console/logout", {"csrf_token": "0" * 64}, csrf=False)
    assert wrong.status_code == 403
    still = admin.get("/console/admin/partners")
    assert still.status_code == 200, "the forged sign-out did not end the session"
    record = access_record(console.hub.engine, "forged-logout-1")
    assert record.outcome == "csrf" and record.account == PEOPLE["admin"] and record.status == 403


def test_a_partner_api_key_opens_no_console_page(console: Console) -> None:
    key = console.hub.keys["motcua"]
    with httpx.Client(base_url=console.url, headers={"Authorization": f"ApiKey {key}"}, timeout=30) as c:
        for path in ("/console/overview", "/console/audit/records", "/console/admin/partners", "/console/home"):
            answer = c.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login"), path
        # not as a cookie either
        c.cookies.set(csrf.SESSION_COOKIE, key)
        assert c.get("/console/overview").status_code == 303


def test_each_role_sees_only_its_own_pages(console: Console) -> None:
    operator, auditor = console.person("operator"), console.person("auditor")
    assert operator.get("/console/overview").status_code == 200
    assert operator.get("/console/audit/records").status_code == 403
    assert operator.get("/console/admin/partners").status_code == 403
    assert auditor.get("/console/audit/records").status_code == 200
    assert auditor.get("/console/overview").status_code == 403
    page = auditor.get("/console/audit/records").text
    assert "/console/admin/partners" not in page and "/console/overview" not in page, "the menu offers no other role's page"


def test_wrong_password_is_refused_and_the_sign_in_page_says_so_in_vietnamese(console: Console) -> None:
    c = console.anonymous()
    token = CSRF_FIELD.search(c.get("/console/login").text)
    assert token
    answer = c.post("/console/login", data={"username": "vanhanh", "password": "wrong password!", "csrf_token": token.group(1)})
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in answer.text
    assert csrf.SESSION_COOKIE + "=" not in answer.headers.get("set-cookie", "")


def test_sign_out_ends_the_session(console: Console) -> None:
    op = console.person("operator")
    stolen = op.cookies.get(csrf.SESSION_COOKIE)
    assert op.submit("/console/logout").status_code == 303
    with httpx.Client(base_url=console.url, timeout=30) as thief:
        thief.cookies.set(csrf.SESSION_COOKIE, stolen or "")
        assert thief.get("/console/overview").status_code == 303, "a copied cookie is dead after sign-out"


def test_sign_out_everywhere_ends_every_session_of_the_account(console: Console) -> None:
    laptop, desk = console.person("operator"), console.person("operator")
    api = httpx.post(f"{console.url}/v1/auth/login", json={"username": PEOPLE["operator"], "password": PASSWORD}).json()["token"]
    assert laptop.submit("/console/logout-everywhere").status_code == 303
    assert desk.get("/console/overview").status_code == 303
    assert httpx.get(f"{console.url}/v1/flows", headers={"Authorization": f"Bearer {api}"}).status_code == 401


def test_an_idle_session_expires(console: Console) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from hub.store.tables import sessions

    op = console.person("operator")
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=console.hub.settings.session_idle_minutes + 1)
    with console.hub.engine.begin() as conn:
        conn.execute(update(sessions).values(last_seen_at=long_ago, created_at=long_ago))
    console.app.state.gate._touched.clear()
    import time
    time.sleep(console.hub.settings.credential_cache_seconds + 0.1)
    assert op.get("/console/overview").status_code == 303


def test_next_after_sign_in_never_leaves_the_console(console: Console) -> None:
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/v1/admin/keys"):
        c = console.anonymous()
        token = CSRF_FIELD.search(c.get("/console/login").text)
        assert token
        answer = c.post("/console/login", data={"username": "vanhanh", "password": PASSWORD, "csrf_token": token.group(1),
                                                "next": evil})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/overview", evil
