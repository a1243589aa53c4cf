"""Access records (hub/audit/recording.py, hub/edge/audit.py).

Rules: every request to the hub (accepted, duplicate, malformed, unauthenticated, unknown key, out
of scope, unknown path, health check, batch), every sign-in, failed sign-in and sign-out, every
admin action (API and CLI) leaves exactly one access record with who, from where, what and how it
ended; a look-up's citizen ID is stored only as a blind index and encrypted content, is never in
clear in the database, the logs or an export, is found by the auditor through the blind index, and
decrypting it is itself recorded; only auditors search.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any, Iterator

import httpx
import pytest
from fastapi import Request
from sqlalchemy import MetaData, insert, select

from hub.access.accounts import add_account
from hub.audit.crypto import CitizenData
from hub.audit.search import Filters, search
from hub.edge.app import create_app
from hub.edge.responses import json_response
from hub.edge.rules import RULES, partner
from hub.partners import update_partner
from hub.store.engine import reading
from hub.store.tables import access_records, admin_actions
from tests.conftest import Hub, client
from tests.factories import status_changed, submitted
from tests.support import ThreadedServer, wait_until
from tests.test_audit_chain import T0, rec

PASSWORD = "correct horse battery"
CITIZEN_ID = "079203004567"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


@pytest.fixture
def served(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    for name, role in (("alice", "admin"), ("audrey", "auditor")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    monkeypatch.setitem(RULES, ("POST", "/v1/_test/lookup"), partner("intake"))  # every route declares its rule
    app = create_app(hub.settings)

    @app.post("/v1/_test/lookup")  # stands in for the population-database look-up of a later issue
    async def lookup(request: Request) -> Any:
        state = request.scope["state"]
        state["citizen"] = (CITIZEN_ID, {"so_dinh_danh": CITIZEN_ID, "ho_ten": "Trần Thị Bích", "muc_dich": "xác minh"})
        state["officer"] = "CB-0042"
        return json_response({"ok": True})

    with ThreadedServer(app).start() as server:
        yield server.url, app


def records_of(hub: Hub, request_id: str) -> list[Any]:
    """The records of the request that sent ``X-Request-Id: request_id`` (stored beside the hub's own id)."""
    with reading(hub.engine) as conn:
        return list(conn.execute(select(access_records).where(access_records.c.caller_request_id == request_id)))


def one_record(hub: Hub, request_id: str) -> Any:
    [record] = wait_until(lambda: records_of(hub, request_id), 5, what=f"the record of {request_id}")
    return record


def rid() -> str:
    return uuid.uuid4().hex


def sign_in(base: str, username: str) -> httpx.Client:
    r = httpx.post(f"{base}/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=30)


def test_every_kind_of_request_leaves_exactly_one_record_naming_who_what_and_how_it_ended(
        served: tuple[str, Any], hub: Hub) -> None:
    base, _ = served
    key = hub.keys["motcua"]
    good = submitted()
    cases: list[tuple[str, dict[str, Any], int, dict[str, Any]]] = [
        ("POST", {"url": "/v1/messages", "json": good, "key": key}, 202,
         {"outcome": "ok", "partner_code": "motcua", "route": "/v1/messages", "message_ids": good["message_id"]}),
        ("POST", {"url": "/v1/messages", "json": good, "key": key}, 200, {"outcome": "ok"}),
        ("POST", {"url": "/v1/messages", "content": b"{not json", "key": key}, 400,
         {"outcome": "malformed-json", "partner_code": "motcua"}),
        ("POST", {"url": "/v1/messages", "json": status_changed(status=42), "key": key}, 422, {"outcome": "validation"}),
        ("POST", {"url": "/v1/messages", "json": good}, 401, {"outcome": "no_credential", "partner_code": None}),
        ("POST", {"url": "/v1/messages", "json": good, "key": "lt_live_nonsense"}, 401, {"outcome": "unknown_key"}),
        ("GET", {"url": "/v1/admin/partners", "key": key}, 403, {"outcome": "scope:admin", "partner_code": "motcua"}),
        ("GET", {"url": "/nowhere"}, 404, {"outcome": "not-found", "route": ""}),
        ("GET", {"url": "/healthz"}, 200, {"outcome": "ok", "route": "/healthz"}),
        ("POST", {"url": "/v1/messages:batch", "json": {"messages": [submitted(seq=2), submitted(seq=3)]}, "key": key}, 200,
         {"outcome": "ok", "route": "/v1/messages:batch"}),
    ]
    for method, spec, status, expected in cases:
        request_id = rid()
        headers = {"X-Request-Id": request_id, "User-Agent": BROWSER}
        if spec.get("key"):
            headers["Authorization"] = f"ApiKey {spec['key']}"
        if "content" in spec:
            headers["Content-Type"] = "application/json"
        r = httpx.request(method, base + spec["url"], json=spec.get("json"), content=spec.get("content"), headers=headers)
        assert r.status_code == status, (spec["url"], r.text)
        record = one_record(hub, request_id)
        assert r.headers["x-request-id"] == record.request_id != request_id  # the hub's own id, not the caller's
        assert (record.method, record.path, record.status) == (method, spec["url"], status)
        assert record.client_ip == "127.0.0.1" and record.os == "Windows 10" and record.browser.startswith("Chrome 120")
        assert record.latency_us > 0 and record.response_bytes == len(r.content)
        for field, value in expected.items():
            assert getattr(record, field) == value, (spec["url"], field, getattr(record, field))
    batch = records_of(hub, request_id)[0]
    assert batch.message_ids.count(",") == 1 and batch.summary == "batch of 2 messages"


def test_sign_in_failed_sign_in_sign_out_and_admin_actions_are_recorded_once_each(served: tuple[str, Any], hub: Hub) -> None:
    base, _ = served
    failed, ok = rid(), rid()
    assert httpx.post(f"{base}/v1/auth/login", json={"username": "alice", "password": "wrong"},
                      headers={"X-Request-Id": failed}).status_code == 401
    r = httpx.post(f"{base}/v1/auth/login", json={"username": "alice", "password": PASSWORD}, headers={"X-Request-Id": ok})
    token = r.json()["token"]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as alice:
        change, out = rid(), rid()
        assert alice.patch("/v1/admin/partners/postal_vnpost", json={"name": "Bưu điện tỉnh"},
                           headers={"X-Request-Id": change}).status_code == 200
        assert alice.post("/v1/auth/logout", headers={"X-Request-Id": out}).status_code == 200
    assert one_record(hub, failed).outcome == "login_failed:bad_password" and one_record(hub, failed).account == "alice"
    assert one_record(hub, ok).outcome == "login" and one_record(hub, ok).account == "alice"
    admin_change = one_record(hub, change)
    assert (admin_change.account, admin_change.outcome, admin_change.route) == ("alice", "ok", "/v1/admin/partners/{code}")
    assert one_record(hub, out).outcome == "logout"
    assert token not in str([tuple(r) for r in _all_rows(hub)]), "a session token never lands in the database in clear"


def test_a_cli_admin_action_leaves_its_own_record(hub: Hub) -> None:
    update_partner(hub.engine, "postal_vnpost", {"name": "Bưu điện"}, actor="cli:root")
    with reading(hub.engine) as conn:
        [record] = conn.execute(select(access_records).where(access_records.c.kind == "cli")).all()
    assert (record.account, record.method, record.route) == ("cli:root", "CLI", "partner.update")
    assert "postal_vnpost" in record.summary


def _all_rows(hub: Hub) -> list[Any]:
    meta = MetaData()
    meta.reflect(hub.engine)
    rows: list[Any] = []
    with reading(hub.engine) as conn:
        for table in meta.sorted_tables:
            rows.extend(conn.execute(select(table)).all())
    return rows


def test_a_citizen_id_is_stored_only_as_blind_index_and_ciphertext_and_found_by_auditors(
        served: tuple[str, Any], hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    base, _ = served
    request_id = rid()
    with client(base, hub.keys["motcua"]) as motcua:
        assert motcua.post("/v1/_test/lookup", headers={"X-Request-Id": request_id}).status_code == 200
    record = one_record(hub, request_id)
    assert record.account == "CB-0042" and record.citizen_index and record.content.startswith("v1:")
    dump = repr([tuple(r) for r in _all_rows(hub)])
    assert CITIZEN_ID not in dump and "Trần Thị Bích" not in dump, "no citizen data in clear in any table"
    with sign_in(base, "audrey") as audrey:
        found = audrey.post("/v1/audit/records:search", json={"citizen_id": "0792 0300 4567"}).json()["items"]
        assert [f["caller_request_id"] for f in found] == [request_id] and found[0]["has_content"] and "content" not in found[0]
        for fmt in ("csv", "jsonl"):
            exported = audrey.post("/v1/audit/records:export", json={"format": fmt, "citizen_id": CITIZEN_ID})
            assert exported.status_code == 200 and request_id in exported.text and CITIZEN_ID not in exported.text
        decrypt_id = rid()
        opened = audrey.get(f"/v1/audit/records/{record.id}/content", headers={"X-Request-Id": decrypt_id})
        assert opened.json()["content"]["so_dinh_danh"] == CITIZEN_ID
    decrypting = one_record(hub, decrypt_id)
    assert (decrypting.kind, decrypting.account, decrypting.summary) == ("decrypt", "audrey", f"decrypt record {record.id}")
    with reading(hub.engine) as conn:
        [action] = conn.execute(select(admin_actions).where(admin_actions.c.action == "audit.decrypt")).all()
    assert action.actor == "person:audrey" and action.target == f"access_record:{record.id}"
    assert CITIZEN_ID not in caplog.text and "Trần Thị Bích" not in caplog.text


def test_only_auditors_search_or_decrypt_the_records(served: tuple[str, Any], hub: Hub) -> None:
    base, _ = served
    with sign_in(base, "alice") as alice, client(base, hub.keys["motcua"]) as motcua:
        assert alice.get("/v1/audit/records").status_code == 403
        assert alice.post("/v1/audit/records:search", json={"citizen_id": CITIZEN_ID}).status_code == 403
        assert motcua.get("/v1/audit/records").status_code == 403
        assert alice.get("/v1/audit/records/1/content").status_code == 403
    assert httpx.get(f"{base}/v1/audit/records").status_code == 401


def test_auditor_filters_page_by_id_and_narrow_by_partner_status_and_time(served: tuple[str, Any], hub: Hub) -> None:
    base, app = served
    with client(base, hub.keys["motcua"]) as motcua:
        for i in range(3):
            motcua.post("/v1/messages", json=submitted(seq=10 + i))
        motcua.post("/v1/messages", content=b"{", headers={"Content-Type": "application/json"})
    app.state.access_log.flush()
    with sign_in(base, "audrey") as audrey:
        page = audrey.get("/v1/audit/records", params={"partner": "motcua", "status": 202, "limit": 2}).json()
        assert len(page["items"]) == 2 and page["next_after"] == page["items"][-1]["id"]
        rest = audrey.get("/v1/audit/records", params={"partner": "motcua", "status": 202, "after": page["next_after"]}).json()
        assert len(rest["items"]) == 1 and rest["next_after"] is None
        bad = audrey.get("/v1/audit/records", params={"outcome": "malformed-json"}).json()["items"]
        assert len(bad) == 1 and bad[0]["status"] == 400
        later = audrey.get("/v1/audit/records", params={"since": "2999-01-01T00:00:00Z"}).json()["items"]
        assert later == []


def test_the_consoles_order_is_newest_first_by_time_paged_by_keyset_and_the_apis_stays_oldest_first(hub: Hub) -> None:
    """``search(newest_first=True)`` (the console) orders by ``at`` then id, both descending, and pages
    after ``before_id`` exactly, ties and late writes included: a record written late (replayed from
    the spill) shows at its time. Without it (the API, exports): id order from ``after_id``."""
    at = [T0 + timedelta(seconds=s) for s in (0, 1, 2, 2, 3)] + [T0 + timedelta(seconds=1.5)]  # the last came late
    with hub.engine.begin() as conn:
        conn.execute(insert(access_records), [rec(when, i, partner_code="so_tp" if i == 1 else "motcua")
                                              for i, when in enumerate(at)])
    with reading(hub.engine) as conn:
        ids = [r.id for r in conn.execute(select(access_records.c.id).where(access_records.c.request_id.like("req-%"))
                                          .order_by(access_records.c.id))]
    citizen, every = CitizenData(hub.settings), Filters(since=T0)
    newest = [ids[4], ids[3], ids[2], ids[5], ids[1], ids[0]]  # by time; the tie at T0+2 s by id
    assert [r["id"] for r in search(hub.engine, citizen, every, newest_first=True)] == newest
    pages, before = [], None
    while True:
        page = search(hub.engine, citizen, every, limit=2, newest_first=True, before_id=before)
        if not page:
            break
        pages.append([r["id"] for r in page])
        before = page[-1]["id"]
    assert pages == [newest[:2], newest[2:4], newest[4:]], "every record once, in order, across pages"
    assert [r["id"] for r in search(hub.engine, citizen, Filters(since=T0, partner="motcua"), limit=2, newest_first=True,
                                    before_id=ids[2])] == [ids[5], ids[0]]
    window = Filters(since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3))
    assert [r["id"] for r in search(hub.engine, citizen, window, newest_first=True)] == newest[1:5]
    assert [r["id"] for r in search(hub.engine, citizen, every)] == ids, "the API's order is unchanged: by id"
    assert [r["id"] for r in search(hub.engine, citizen, every, after_id=ids[3], limit=1)] == [ids[4]]
