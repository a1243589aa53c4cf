"""Rule: every route reads its body only after the caller is known, under a size limit, and answers
bad bytes with a problem naming the rule (400, 413, 415), never a 500."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub.edge.rules import CALLERS, SMALL_BODY, all_rules
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.security.conftest import Edge
from tests.security.test_access_matrix import concrete
from tests.support import wait_until

RULES = all_rules()  # the hub's and its partners'

BROKEN = (b"\x00\xff", b"{", b'{"a":' * 50)  # not UTF-8; cut short; 50 unclosed nested objects
# Routes whose body the guard reads as JSON or bytes, with a caller their rule admits.
BODY_ROUTES = sorted((method, path) for (method, path), rule in RULES.items() if rule.body in ("json", "raw"))


def caller_for(method: str, path: str) -> str:
    rule = RULES[(method, path)]
    if rule.anonymous:
        return "anonymous"
    return "key" if rule.keys else sorted(rule.roles)[0]


def problem(answer: object) -> dict:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text  # type: ignore[attr-defined]
    return answer.json()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_malformed_json_and_non_utf8_bytes_are_400_naming_the_rule(edge: Edge, method: str, path: str) -> None:
    with edge.client(caller_for(method, path)) as c:
        for raw, rule in ((b'{"username": "admin", ', "json_syntax"), (b'{"a": "\xff\xfe"}', "utf8")):
            answer = c.request(method, concrete(path), content=raw, headers={"Content-Type": "application/json"})
            assert answer.status_code == 400, (raw, answer.status_code, answer.text)
            body = problem(answer)
            assert body["type"] == "/problems/malformed-json" and body["errors"][0]["rule"] == rule


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_a_body_of_another_media_type_is_415_and_an_oversized_one_413(edge: Edge, method: str, path: str) -> None:
    limit = RULES[(method, path)].max_bytes or edge.hub.settings.max_body_bytes
    with edge.client(caller_for(method, path)) as c:
        typed = c.request(method, concrete(path), content=b"<x/>", headers={"Content-Type": "application/xml"})
        assert typed.status_code == 415 and problem(typed)["type"] == "/problems/unsupported-media-type"
        big = c.request(method, concrete(path), content=b"[" + b"1," * (limit // 2) + b"1]",
                        headers={"Content-Type": "application/json"})
        assert big.status_code == 413 and problem(big)["max_bytes"] == limit


def test_sign_in_reads_at_most_four_kilobytes(edge: Edge) -> None:
    with edge.client("anonymous") as c:
        answer = c.post("/v1/auth/login", json={"username": "alice", "password": "x" * 5000})
    assert answer.status_code == 413 and problem(answer)["max_bytes"] == 4096 < SMALL_BODY


def test_an_unknown_caller_posting_megabytes_is_refused_without_the_body_being_read(edge: Edge) -> None:
    """The guard answers 401 before reading: the access record shows no request bytes received."""
    with edge.client("anonymous") as c:
        for path in ("/v1/admin/accounts", "/v1/messages", "/v1/audit/records:search"):
            answer = c.post(path, content=b"x" * 3_000_000, headers={"Content-Type": "application/json",
                                                                      "Authorization": "ApiKey lt_live_guessed"})
            assert answer.status_code == 401 and problem(answer)["type"] == "/problems/unauthenticated"
            rid = answer.headers["x-request-id"]

            def record(rid: str = rid) -> object:
                with reading(edge.hub.engine) as conn:
                    return conn.execute(select(access_records.c.request_bytes, access_records.c.outcome)
                                        .where(access_records.c.request_id == rid)).first()
            found = wait_until(record, 5, what="the refused call's access record")
            assert found.request_bytes < 70_000, f"{path}: the hub read {found.request_bytes} bytes of an unknown caller"


def test_no_route_answers_500_to_broken_bytes_from_any_caller(edge: Edge) -> None:
    """Every route, every caller, three kinds of broken body: each answer is below 500 and, unless it
    is the payment platform's own reply format or a console page (HTML for people), problem+json.

    One client per kind of caller (a client costs more to make than its requests), its cookies
    cleared before each route: every route meets the caller as a fresh one."""
    clients = {kind: edge.client(kind) for kind in CALLERS}
    try:
        for (method, path), rule in RULES.items():
            if path.startswith("/console") and rule.body == "none":
                continue  # a console page reads no body at all (its forms: here and tests/console/test_forms.py)
            for kind, c in clients.items():
                c.cookies.clear()
                for raw in BROKEN:
                    answer = c.request(method, concrete(path), content=raw, headers={"Content-Type": "application/json"})
                    assert answer.status_code < 500, (method, path, kind, raw, answer.text[:200])
                    if path.startswith("/console"):
                        if answer.status_code >= 400:
                            assert answer.headers["content-type"].startswith("text/html"), (method, path)
                    elif answer.status_code >= 400 and rule.body != "callback":
                        assert re.match(r"application/problem\+json", answer.headers["content-type"]), (method, path)
    finally:
        for c in clients.values():
            c.close()
