"""The hub assigns its own request id; the caller's X-Request-Id is stored beside it, not instead.

Attack: a caller sends the ``X-Request-Id`` of someone else's request (or the same id on every
request, or control characters) so that the audit trail shows two requests as one, points an
auditor's search at the wrong record, or breaks the log line that quotes it. Defence: the record's
``request_id`` is always the hub's own; the caller's value, cleaned to printable ASCII and cut to
100 characters, goes into ``caller_request_id``, which the hash chain covers (when present).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import select, update

from audit.verify_bundle import chained_fields
from hub.audit.bundle import export, verify_bundles
from hub.audit.records import canonical, record_dict
from hub.audit.seal import seal
from hub.audit.verify import verify
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub
from tests.support import wait_until


def records_for(hub: Hub, caller_id: str) -> list[Any]:
    with reading(hub.engine) as conn:
        return list(conn.execute(select(access_records).where(access_records.c.caller_request_id == caller_id)))


def test_a_callers_request_id_never_becomes_the_records_id(api: str, hub: Hub) -> None:
    victim = "the-other-partners-request-0001"
    answers = [httpx.get(f"{api}/healthz", headers={"X-Request-Id": victim}) for _ in range(2)]
    rows = wait_until(lambda: len(found := records_for(hub, victim)) == 2 and found, 5, what="both records")
    hub_ids = {r.request_id for r in rows}
    assert len(hub_ids) == 2 and victim not in hub_ids, "two requests, two ids of the hub's own"
    assert {a.headers["x-request-id"] for a in answers} == hub_ids, "the answer names the hub's id"
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in hub_ids)


def test_a_hostile_caller_request_id_is_stored_clean_and_short(api: str, hub: Hub) -> None:
    hostile = "abc\tdef-" + "\u00e9\u00ff" + "-" + "x" * 200  # a tab and bytes above ASCII (HTTP lets them through)
    httpx.get(f"{api}/healthz", headers={"X-Request-Id": hostile.encode("latin-1")})  # type: ignore[dict-item]
    expected = ("abc?def-??-" + "x" * 200)[:100]
    [row] = wait_until(lambda: records_for(hub, expected), 5, what="the record")
    assert len(row.caller_request_id) == 100 and all(0x20 <= ord(ch) <= 0x7E for ch in row.caller_request_id)


def test_the_chain_covers_the_callers_request_id_and_older_records_still_verify(api: str, hub: Hub, tmp_path: Any) -> None:
    httpx.get(f"{api}/healthz", headers={"X-Request-Id": "mine-12345678"})
    httpx.get(f"{api}/healthz")  # no X-Request-Id: the field is absent from its canonical form
    wait_until(lambda: records_for(hub, "mine-12345678"), 5, what="the record")

    def without_caller_id() -> list[Any]:
        with reading(hub.engine) as conn:
            return list(conn.execute(select(access_records).where(access_records.c.caller_request_id.is_(None))))
    wait_until(without_caller_id, 5, what="the record without X-Request-Id")
    settings = hub.settings
    seal(hub.engine, settings, force_checkpoint=True, now=datetime.now(timezone.utc) + timedelta(seconds=5))
    with reading(hub.engine) as conn:
        rows = conn.execute(select(access_records).order_by(access_records.c.id)).all()
    without = next(r for r in rows if r.caller_request_id is None)
    assert "caller_request_id" not in record_dict(without._mapping), "a record without one hashes as before 0010"
    assert canonical(chained_fields({**record_dict(without._mapping), "caller_request_id": None})) == \
        canonical(record_dict(without._mapping)), "the offline verifier agrees: null is the same as absent"
    assert verify(hub.engine, settings).ok
    folder = export(hub.engine, settings, tmp_path / "out")
    lines = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    assert any(line.get("caller_request_id") == "mine-12345678" for line in lines)
    assert verify_bundles([folder.with_name(folder.name + ".tar.gz")]).ok
    with hub.engine.begin() as conn:  # someone rewrites the caller's id afterwards
        conn.execute(update(access_records).where(access_records.c.caller_request_id == "mine-12345678")
                     .values(caller_request_id="someone-else-0001"))
    report = verify(hub.engine, settings)
    assert report.problem is not None and report.problem.kind == "changed"
