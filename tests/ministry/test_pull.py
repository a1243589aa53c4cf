"""The scheduled way back, both styles, each keeping its place in the hub's database.

A feed (the generic ministry's ``GET /feed?after=``): events pulled by a worker are stored as canonical
messages of the ministry routed to the one-stop system; the worker stops, more events come, and a new
worker resumes after the durable cursor (it asks ``after=3``), so every event is one message, none
missed or repeated. By case (the civil-status registry's ``LayKetQua``): a delivered birth dossier opens
a case; each state change emits exactly one message (status changes, then the result with its file's
URL and digest); the final state closes the case, which is not asked about again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.ministry_apps.emit import message_id
from connectors.ministry_apps.pull import pull_once
from connectors.ministry_apps.registry import load
from hub.context import connector, context
from hub.seam import MESSAGE_ADAPTER
from hub.store.engine import reading
from hub.store.tables import ministry_cases, partner_cursors
from tests.conftest import seed_hub
from tests.ministry.conftest import SHIPPED, Sims, http, ministry_settings, stored, write
from tests.support import RedisServer, wait_until

FEED = """
code: generic_feed
name: Generic ministry (feed)
base_url: {url}
receives:
  - type: dossier.submitted
    when: {{payload.procedure_code: ["9.999999"]}}
send:
  dossier.submitted:
    request: {{path: /inbox/hoso, json: {{maHoSo: "{{{{ m.dossier_code }}}}"}}}}
pull:
  every: 0.2
  request:
    method: GET
    path: /feed
    query: {{after: "{{{{ cursor }}}}", limit: 2}}
  items: "{{{{ answer.events }}}}"
  feed: {{start: "0", next: "{{{{ answer.next }}}}"}}
  emit:
    - id: "{{{{ item.id }}}}"
      message:
        type: status.changed
        dossier_code: "{{{{ item.maHoSo }}}}"
        payload:
          agency_id: "{{{{ item.maHoSo | agency }}}}"
          status: 4
          handled_at: "{{{{ item.luc }}}}"
          handler_name: Bộ phận chuyên môn
          content: "{{{{ item.noiDung }}}}"
"""


def event(n: int) -> dict[str, Any]:
    return {"maHoSo": f"000.00.00.H49-261123-{n:04d}", "luc": f"2026-11-23T{8 + n:02d}:00:00+07:00", "noiDung": f"Bước {n}"}


def cursor(engine: Any, partner: str, name: str) -> str | None:
    with reading(engine) as conn:
        return conn.execute(select(partner_cursors.c.value).where(partner_cursors.c.partner_code == partner,
                                                                 partner_cursors.c.name == name)).scalar()


def test_a_feed_resumes_after_its_durable_cursor_when_a_new_worker_starts(
        folder: Path, sims: Sims, redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.flush()
    write(folder, "generic_feed.yaml", FEED.format(url=sims.generic))
    hub = seed_hub(ministry_settings(tmp_path, redis_server.url, folder), tmp_path)
    try:
        sims.post("/generic/_sim/events", [event(1), event(2), event(3)])
        first = hub.worker()
        wait_until(lambda: len(stored(hub.engine, "generic_feed")) == 3 and cursor(hub.engine, "generic_feed", "feed") == "3",
                   40, what="events 1-3 pulled")
        first.stop()
        assert sims.asked("/generic/feed")[:2] == ["after=0&limit=2", "after=2&limit=2"], "two pages of two"

        sims.post("/generic/_sim/events", [event(4), event(5)])
        sims.seen.clear()
        hub.worker(name="worker-2")
        wait_until(lambda: len(stored(hub.engine, "generic_feed")) >= 5, 40, what="events 4-5 pulled after the restart")
        wait_until(lambda: len(sims.asked("/generic/feed")) >= 3, 10, what="the feed asked again with nothing new")
        assert sims.asked("/generic/feed")[0] == "after=3&limit=2", "the new worker starts after the durable cursor"
        assert all(query == "after=5&limit=2" for query in sims.asked("/generic/feed")[2:])

        found = stored(hub.engine, "generic_feed")
        assert [m.message_id for m in found] == [message_id("generic_feed", str(n)) for n in range(1, 6)], "none repeated"
        assert [m.dossier_code for m in found] == [event(n)["maHoSo"] for n in range(1, 6)]
        assert {m.type for m in found} == {"status.changed"} and {m.destinations for m in found} == {("motcua",)}
        assert found[3].body["payload"]["content"] == "Bước 4" and found[3].body["source"] == "generic_feed"
        assert cursor(hub.engine, "generic_feed", "feed") == "5"
    finally:
        for process in hub.processes:
            process.stop()
        hub.engine.dispose()


def case_row(engine: Any, code: str) -> Any:
    with reading(engine) as conn:
        return conn.execute(select(ministry_cases).where(ministry_cases.c.ministry == "civil_status",
                                                         ministry_cases.c.dossier_code == code)).mappings().first()


def test_a_case_emits_one_message_per_state_change_and_is_closed_at_its_final_state(
        folder: Path, sims: Sims, redis_server: RedisServer, tmp_path: Path) -> None:
    adapter = (SHIPPED / "civil_status.yaml").read_text(encoding="utf-8")
    adapter = adapter.replace("${LIENTHONG_CIVIL_STATUS_URL:-http://127.0.0.1:8131/hotich}", f"{sims.url}/hotich")
    path = write(folder, "civil_status.yaml", adapter)
    settings = ministry_settings(tmp_path, redis_server.url, folder)
    hub = seed_hub(settings, tmp_path)
    try:
        birth = json.loads((SHIPPED / "samples" / "birth.json").read_text(encoding="utf-8"))
        birth["payload"]["attachments"] = []
        code = birth["dossier_code"]
        [delivered] = connector("civil_status", settings).deliver([MESSAGE_ADAPTER.validate_python(birth)])
        assert delivered.kind == "ok", delivered
        assert sims.get("/hotich/_sim/state")["dossiers"] == {code: {"module": "LTKS", "trangThai": 1}}
        case = case_row(hub.engine, code)
        assert case is not None and case["state"] is None and case["closed_at"] is None
        assert json.loads(case["kept"]) == {"module": "LTKS", "tinh": "000.00.00.H49"}

        loaded, ctx = load(path), context("civil_status", settings)

        def pulled() -> list[dict[str, Any]]:
            before = len(stored(hub.engine, "civil_status"))
            pull_once(loaded, ctx)
            return [m.body for m in stored(hub.engine, "civil_status")[before:]]

        [received] = pulled()
        assert (received["type"], received["payload"]["content"]) == ("status.changed", "Đã tiếp nhận hồ sơ")
        assert pulled() == [], "no change, no message"
        sims.post("/hotich/_sim/advance", {"maHoSoMCDT": code, "trangThai": 3})
        [processing] = pulled()
        assert (processing["type"], processing["payload"]["status"], processing["payload"]["content"]) == (
            "status.changed", 4, "Đang xử lý")
        assert case_row(hub.engine, code)["state"] == "3"

        sims.post("/hotich/_sim/advance", {"maHoSoMCDT": code, "trangThai": 4})
        [result] = pulled()
        assert result["type"] == "result.issued" and result["dossier_code"] == code
        [document] = result["payload"]["documents"]
        assert document["url"].startswith(f"{sims.url}/hotich/files/")
        assert hashlib.sha256(http.get(document["url"]).content).hexdigest() == document["sha256"]
        assert "số đăng ký 001/" in result["payload"]["note"]
        case = case_row(hub.engine, code)
        assert case["state"] == "4" and case["closed_at"] is not None

        asked = sims.counters("/hotich")["lay_ket_qua_calls"]
        assert pulled() == [] and sims.counters("/hotich")["lay_ket_qua_calls"] == asked, "a closed case is not asked"
        assert [m.type for m in stored(hub.engine, "civil_status")] == ["status.changed", "status.changed", "result.issued"]
        assert {m.destinations for m in stored(hub.engine, "civil_status")} == {("motcua",)}
    finally:
        hub.engine.dispose()
