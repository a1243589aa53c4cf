"""Rules of the console's forms, as attacks: a signed-in person's broken, oversized or mistyped form
bodies get a 4xx page (never a 500), read only after the session is known; unknown fields change
nothing; every console answer carries the console's security headers."""

from __future__ import annotations

import httpx

from tests.console.conftest import Console

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_broken_form_bytes_from_a_signed_in_person_are_a_400_page_never_a_500(console: Console) -> None:
    admin = console.person("admin")
    for raw in (b"\xff\xfe=\x00", b"a=%ZZ&csrf_token=" + admin.csrf.encode(), b"&&&===" * 10):
        answer = admin.post("/console/admin/partners", content=raw, headers=FORM)
        assert 400 <= answer.status_code < 500 and answer.headers["content-type"].startswith("text/html"), raw
    json = admin.post("/console/admin/partners", content=b'{"code": "x"}', headers={"Content-Type": "application/json"})
    assert json.status_code == 415, "a form route reads forms only"


def test_an_oversized_form_is_refused_before_it_is_read_whole(console: Console) -> None:
    admin = console.person("admin")
    answer = admin.post("/console/admin/partners", content=b"name=" + b"x" * 40_000, headers=FORM)
    assert answer.status_code == 413 and "text/html" in answer.headers["content-type"]


def test_an_unknown_caller_posting_a_big_form_gets_no_reading_of_it(console: Console) -> None:
    with httpx.Client(base_url=console.url, timeout=30) as stranger:
        answer = stranger.post("/console/admin/partners", content=b"name=" + b"x" * 3_000_000, headers=FORM)
    assert answer.status_code == 401, "refused on the missing session, whatever the body"


def test_every_console_answer_carries_the_security_headers(console: Console) -> None:
    operator = console.person("operator")
    for path in ("/console/login", "/console/overview", "/console/overview/live", "/console/audit/records"):
        answer = operator.get(path)
        csp = answer.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store", path
