"""The pushed way back, against the running API: the land system's callbacks at a secret path, and a
ministry's callbacks with its own API key.

The right secret stores the event as a canonical message of the ministry, routed to the one-stop system,
and answers in the land system's own format; a wrong secret is refused (403, in that format), stores
nothing, and its access record shows ``***`` for the path's secret with the outcome ``forbidden``. An
unknown event is 404, a body that is not JSON is refused in the system's format, a body over 256 KiB is
413. On the keyed route: no key 401, another partner's key 403, the ministry's own key stores the event.
A secret-style adapter is not on the keyed route and a keyed one not on the secret route (404). The same
event posted twice is one message.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select

from hub.access.keys import issue_key
from hub.context import connector
from hub.edge.app import create_app
from hub.partners import add_partner
from hub.seam import MESSAGE_ADAPTER
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub, seed_hub
from tests.ministry.conftest import SHIPPED, Sims, make_folder, ministry_settings, start_sims, stored, write
from tests.support import RedisServer, ThreadedServer, access_record, wait_until

SECRET = "sandbox-land-callback-secret"  # the land adapter's sandbox value, which its simulator uses
LAND_DOSSIER = "000.00.00.H49-261123-0201"
KEYED = """
code: keyed_ministry
name: A ministry that calls back with its own key
base_url: http://127.0.0.1:9/keyed
receives:
  - type: dossier.submitted
    when: {payload.procedure_code: ["9.999998"]}
send:
  dossier.submitted:
    request: {path: /hoso, json: {maHoSo: "{{ m.dossier_code }}"}}
callbacks:
  auth: key
  events:
    BuocXuLy:
      - id: "{{ body.maHoSo }}/{{ body.buoc }}"
        message:
          type: status.changed
          dossier_code: "{{ body.maHoSo }}"
          payload:
            agency_id: "{{ body.maHoSo | agency }}"
            status: 4
            handled_at: "{{ body.luc }}"
            handler_name: Bộ phận chuyên môn
            content: "{{ body.noiDung }}"
"""


class Running:
    """The hub's API with the land and keyed adapters, the simulators calling it back, and the keys."""

    def __init__(self, hub: Hub, api: str, sims: Sims, keys: dict[str, str]) -> None:
        self.hub, self.api, self.sims, self.keys = hub, api, sims, keys

    def post(self, path: str, body: Any = None, key: str | None = None, content: bytes | None = None,
             request_id: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"ApiKey {key}"} if key else {}
        if request_id:
            headers["X-Request-Id"] = request_id
        if content is not None:
            headers["Content-Type"] = "application/json"
            return httpx.post(f"{self.api}{path}", content=content, headers=headers, timeout=20)
        return httpx.post(f"{self.api}{path}", json=body, headers=headers, timeout=20)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Running]:
    redis_server.flush()
    tmp = tmp_path_factory.mktemp("callbacks")
    folder = make_folder(tmp / "adapters")
    settings = ministry_settings(tmp, redis_server.url, folder)
    server, sims = start_sims()
    land = (SHIPPED / "land.yaml").read_text(encoding="utf-8")
    write(folder, "land.yaml", land.replace("${LIENTHONG_LAND_URL:-http://127.0.0.1:8131/dat}", f"{sims.url}/dat"))
    write(folder, "keyed_ministry.yaml", KEYED)
    hub = seed_hub(settings, tmp)
    api = ThreadedServer(create_app(settings))
    sims.app.state.sims["land"].hub_url = api.url  # the hub the land system calls back (known once the API is made)
    keys = dict(hub.keys)
    for code, name in (("land", "Hệ thống thông tin đất đai"), ("keyed_ministry", "Bộ có khóa")):
        add_partner(hub.engine, code, name, "ministry_app")
        keys[code] = issue_key(hub.engine, code, settings.effective_key_pepper, "test")
    dossier = json.loads((SHIPPED / "samples" / "land.json").read_text(encoding="utf-8"))
    dossier["payload"]["attachments"] = []
    [handed] = connector("land", settings).deliver([MESSAGE_ADAPTER.validate_python(dossier)])  # the land system has it
    assert handed.kind == "ok", handed
    api.start()
    try:
        yield Running(hub, api.url, sims, keys)
    finally:
        api.stop()
        server.stop()
        hub.engine.dispose()


def land_hook(event: str, secret: str = SECRET) -> str:
    return f"/v1/ministry/land/hooks/{event}/{secret}"


def land_event(**over: Any) -> dict[str, Any]:
    return {"maHoSo": LAND_DOSSIER, "maHoSoDat": "DKDD-2026-000001", "thoiGian": "2026-11-24T09:15:00",
            "canBoXuLy": "Phạm Thị Lan", "noiDung": "Đã chuyển hồ sơ cho chuyên viên thẩm định", **over}


LAND_OK = {"status": {"success": True, "code": "200", "message": "Thành công"}}


def refused(message: str) -> dict[str, Any]:
    return {"status": {"success": False, "code": "400", "message": message}}


def hook_records(engine: Any, status: int) -> list[Any]:
    with reading(engine) as conn:
        return list(conn.execute(select(access_records).where(
            access_records.c.route == "/v1/ministry/{code}/hooks/{event}/{secret}", access_records.c.status == status)).all())


def test_the_right_secret_stores_the_event_routed_to_the_one_stop_system_answered_in_the_land_format(
        running: Running) -> None:
    before = len(stored(running.hub.engine, "land"))
    sent = running.sims.post("/dat/_sim/callback", {"maHoSo": LAND_DOSSIER, "event": "ChuyenHoSo"})
    assert sent == {"status": 200, "body": LAND_OK}
    [message] = stored(running.hub.engine, "land")[before:]
    assert (message.type, message.dossier_code, message.destinations) == ("status.changed", LAND_DOSSIER, ("motcua",))
    assert message.body["payload"]["content"] == "Đã chuyển hồ sơ cho cán bộ xử lý"
    assert message.body["payload"]["handler_name"] == "Trần Thị Thẩm Định"
    wait_until(lambda: [r for r in hook_records(running.hub.engine, 200) if r.outcome == "ok"], 10, what="the access record")
    paths = [r.path for r in hook_records(running.hub.engine, 200)]
    assert "/v1/ministry/land/hooks/ChuyenHoSo/***" in paths and not any(SECRET in p for p in paths), paths


def test_a_wrong_callback_secret_is_refused_in_the_land_format_and_recorded_as_forbidden(running: Running) -> None:
    before = len(stored(running.hub.engine, "land"))
    sent = running.sims.post("/dat/_sim/callback", {"maHoSo": LAND_DOSSIER, "event": "KetThucHoSo",
                                                    "secret": "wrong-secret-4417"})
    assert sent == {"status": 403, "body": refused("forbidden")}
    assert len(stored(running.hub.engine, "land")) == before, "nothing stored"
    [record] = wait_until(lambda: hook_records(running.hub.engine, 403), 10, what="the access record")
    assert record.path == "/v1/ministry/land/hooks/KetThucHoSo/***" and record.outcome == "forbidden"
    assert "wrong-secret-4417" not in " ".join(str(value) for value in record)


def test_an_unknown_event_is_404_in_the_land_format(running: Running) -> None:
    answer = running.post(land_hook("KhongCoSuKienNay"), land_event())
    assert answer.status_code == 404 and answer.json() == refused("unknown event KhongCoSuKienNay")


def test_a_body_that_is_not_json_is_refused_in_the_land_format_and_stores_nothing(running: Running) -> None:
    before = len(stored(running.hub.engine, "land"))
    rid = uuid.uuid4().hex
    answer = running.post(land_hook("ChuyenHoSo"), content=b'{"maHoSo": "000.00.00.H49-261123-0201",', request_id=rid)
    assert answer.status_code == 200 and answer.json() == refused("malformed"), "the land system's refusal: HTTP 200"
    assert len(stored(running.hub.engine, "land")) == before
    assert access_record(running.hub.engine, rid).outcome == "malformed"


def test_a_body_over_256_kib_is_413_in_the_land_format_and_stores_nothing(running: Running) -> None:
    before = len(stored(running.hub.engine, "land"))
    answer = running.post(land_hook("ChuyenHoSo"), land_event(noiDung="x" * (257 * 1024)))
    assert answer.status_code == 413 and answer.json() == refused("body-too-large"), answer.text
    assert len(stored(running.hub.engine, "land")) == before


def test_the_same_event_posted_twice_is_one_message(running: Running) -> None:
    before = len(stored(running.hub.engine, "land"))
    body = land_event(thoiGian="2026-11-25T10:00:00", noiDung="Đã chuyển phòng thẩm định")
    for _ in range(2):
        answer = running.post(land_hook("ChuyenHoSo"), body)
        assert answer.status_code == 200 and answer.json() == LAND_OK
    [message] = stored(running.hub.engine, "land")[before:]
    assert message.body["occurred_at"] == "2026-11-25T10:00:00+07:00"


def keyed_event(step: int) -> dict[str, Any]:
    return {"maHoSo": "000.00.00.H49-261123-0301", "buoc": step, "luc": "2026-11-26T08:00:00+07:00",
            "noiDung": f"Bước xử lý {step}"}


def test_the_keyed_route_takes_the_ministrys_own_key_only(running: Running) -> None:
    path = "/v1/ministry/keyed_ministry/push/BuocXuLy"
    assert running.post(path, keyed_event(1)).status_code == 401, "no key"
    other = running.post(path, keyed_event(1), key=running.keys["motcua"])
    assert other.status_code == 403 and other.json() == {"ok": False, "error": "forbidden"}, "another partner's key"
    assert stored(running.hub.engine, "keyed_ministry") == []
    own = running.post(path, keyed_event(1), key=running.keys["keyed_ministry"])
    assert own.status_code == 200 and own.json() == {"ok": True, "error": None}
    [message] = stored(running.hub.engine, "keyed_ministry")
    assert (message.type, message.destinations, message.body["payload"]["content"]) == (
        "status.changed", ("motcua",), "Bước xử lý 1")


def test_each_adapter_answers_on_the_route_of_its_own_style_only(running: Running) -> None:
    before = (len(stored(running.hub.engine, "land")), len(stored(running.hub.engine, "keyed_ministry")))
    on_keyed = running.post("/v1/ministry/land/push/ChuyenHoSo", land_event(), key=running.keys["land"])
    assert on_keyed.status_code == 404, "a secret-style adapter is not on the keyed route"
    on_hooks = running.post("/v1/ministry/keyed_ministry/hooks/BuocXuLy/anything", keyed_event(2))
    assert on_hooks.status_code == 404, "a keyed adapter is not on the secret route"
    unknown = running.post("/v1/ministry/no_such_ministry/hooks/ChuyenHoSo/x", land_event())
    assert unknown.status_code == 404
    assert (len(stored(running.hub.engine, "land")), len(stored(running.hub.engine, "keyed_ministry"))) == before
