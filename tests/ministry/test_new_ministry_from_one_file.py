"""A ministry system is added by one YAML file, with no code change and no restart (issue #16).

The hub runs (API and worker) on an empty adapters folder; a province's engineer then writes one
adapter file for a business-registration system (the generic simulator, its own key, its own wire
schema) and registers its partner row. Within seconds the hub routes the one-stop system's dossier
to it, delivers it in its wire format, takes a status the system pushes with its own key, and a
result it publishes in its feed, each back to the one-stop system as canonical messages.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from connectors.ministry_apps.simulators import create_app as ministries
from hub.access.keys import issue_key
from hub.edge.app import create_app
from hub.partners import add_partner
from hub.store.engine import reading
from hub.store.tables import deliveries, messages
from tests.conftest import make_settings, seed_hub
from tests.factories import dossier_code, submitted
from tests.support import RedisServer, ThreadedServer, client, wait_until

ADAPTER = """\
code: business_registry
name: Hệ thống đăng ký kinh doanh (thử nghiệm)
base_url: {base}
secrets:
  key: {{env: LT_TEST_BUSINESS_KEY, sandbox: generic-key}}
auth: {{kind: key_header, header: X-API-Key, secret: key}}
receives:
  - type: dossier.submitted
    when: {{payload.procedure_code: ["2.001234"]}}
send:
  dossier.submitted:
    request:
      path: /inbox/hoso
      json:
        maHoSo: "{{{{ m.dossier_code }}}}"
        thuTuc: "{{{{ m.payload.procedure_code }}}}"
        nguoiNop: "{{{{ m.payload.applicant.name }}}}"
        ngayNop: "{{{{ m.payload.received_at | local('%d/%m/%Y') }}}}"
    schema: wire/hoso.schema.json
answer:
  - {{field: ok, in: [true], then: ok, reference: "{{{{ answer.id }}}}"}}
callbacks:
  auth: key
  events:
    TrangThai:
      - id: "{{{{ body.maHoSo }}}}/{{{{ body.buoc }}}}"
        message:
          type: status.changed
          dossier_code: "{{{{ body.maHoSo }}}}"
          payload:
            agency_id: "{{{{ body.maHoSo | agency }}}}"
            status: 4
            handled_at: "{{{{ body.luc | from_local('%d/%m/%Y %H:%M') }}}}"
            handler_name: "{{{{ body.canBo }}}}"
            content: "{{{{ body.noiDung }}}}"
pull:
  every: 0.5
  request: {{method: GET, path: /feed, query: {{after: "{{{{ cursor }}}}", limit: 50}}}}
  items: "{{{{ answer.events }}}}"
  feed: {{start: "0", next: "{{{{ answer.next }}}}"}}
  emit:
    - id: "feed-{{{{ item.id }}}}"
      message:
        type: result.issued
        dossier_code: "{{{{ item.maHoSo }}}}"
        payload:
          agency_id: "{{{{ item.maHoSo | agency }}}}"
          issued_at: "{{{{ item.luc | from_local('%d/%m/%Y %H:%M') }}}}"
          note: "{{{{ item.ghiChu }}}}"
          paper: true
"""

WIRE = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": False,
        "required": ["maHoSo", "thuTuc", "nguoiNop", "ngayNop"],
        "properties": {"maHoSo": {"type": "string", "minLength": 1}, "thuTuc": {"type": "string"},
                       "nguoiNop": {"type": "string", "minLength": 1},
                       "ngayNop": {"type": "string", "pattern": r"^\d{2}/\d{2}/\d{4}$"}}}


def from_source(engine: Any, source: str) -> dict[str, tuple[str, list[str]]]:
    """Message id -> (type, destinations) of what ``source`` sent."""
    with reading(engine) as conn:
        rows = conn.execute(select(messages.c.message_id, messages.c.type, deliveries.c.destination)
                            .join(deliveries, deliveries.c.message_pk == messages.c.id)
                            .where(messages.c.source == source)).all()
    found: dict[str, tuple[str, list[str]]] = {}
    for message_id, msg_type, destination in rows:
        found.setdefault(message_id, (msg_type, []))[1].append(destination)
    return found


def test_a_new_ministry_system_from_one_file_takes_a_dossier_and_sends_a_status_and_a_result_back(
        sqlite_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.flush()
    folder = tmp_path / "adapters"
    folder.mkdir()
    settings = make_settings(sqlite_url, redis_server.url, tmp_path,
                             partner_settings={"ministry_apps": {"folder": str(folder), "pull_seconds": 0.2}})
    hub = seed_hub(settings, tmp_path)
    try:
        with ThreadedServer(ministries(pace=0)).start() as sim, \
                ThreadedServer(create_app(settings)).start() as api, client(api.url, hub.keys["motcua"]) as motcua:
            generic = f"{sim.url}/generic"
            httpx.post(f"{generic}/_sim/config", json={"auth": "api_key", "api_key_header": "X-API-Key",
                                                       "api_key": "generic-key"}).raise_for_status()
            hub.worker()

            before = motcua.post("/v1/messages", json=submitted(1, payload={**submitted(1)["payload"],
                                                                               "procedure_code": "2.001234"}))
            assert before.status_code == 202 and "business_registry" not in before.json()["destinations"]

            # the province adds the system: its partner row (for its key) and one file, while the hub runs
            add_partner(hub.engine, "business_registry", "Hệ thống đăng ký kinh doanh", "ministry_app")
            ministry_key = issue_key(hub.engine, "business_registry", settings.effective_key_pepper, "test")
            (folder / "wire").mkdir()
            (folder / "wire" / "hoso.schema.json").write_text(json.dumps(WIRE))
            (folder / "business_registry.yaml").write_text(ADAPTER.format(base=generic), encoding="utf-8")
            time.sleep(1.2)  # the folder is looked at once a second

            dossier = submitted(2, payload={**submitted(2)["payload"], "procedure_code": "2.001234"})
            sent = motcua.post("/v1/messages", json=dossier)
            assert sent.status_code == 202, sent.text
            assert "business_registry" in sent.json()["destinations"], "routed by the new file, no restart"

            received = wait_until(lambda: [r for r in httpx.get(f"{generic}/_sim/requests").json()
                                           if r["path"] == "/generic/inbox/hoso"], 20, what="the hand-over")
            assert json.loads(received[0]["body"]) == {"maHoSo": dossier_code(2), "thuTuc": "2.001234",
                                                       "nguoiNop": "Nguyễn Thị Hằng", "ngayNop": "23/11/2026"}
            assert received[0]["authorized"] and received[0]["credentials"] == {"x-api-key": True}

            status = {"maHoSo": dossier_code(2), "buoc": 1, "luc": "24/11/2026 09:30", "canBo": "Phạm Thu Dung",
                      "noiDung": "Đang thẩm định hồ sơ"}
            pushed = httpx.post(f"{generic}/_sim/push", timeout=20, json={
                "url": f"{api.url}/v1/ministry/business_registry/push/TrangThai", "body": status,
                "headers": {"Authorization": f"ApiKey {ministry_key}"}}).json()
            assert pushed["status"] == 200, pushed
            httpx.post(f"{generic}/_sim/events", json=[{"maHoSo": dossier_code(2), "luc": "25/11/2026 15:00",
                                                        "ghiChu": "Đã cấp giấy chứng nhận đăng ký"}]).raise_for_status()
            back = wait_until(lambda: (lambda f: f if len(f) == 2 else None)(from_source(hub.engine, "business_registry")),
                              30, what="the status and the result back")
        assert sorted(t for t, _ in back.values()) == ["result.issued", "status.changed"]
        assert all(dest == ["motcua"] for _, dest in back.values()), "each goes back to the one-stop system"
        with reading(hub.engine) as conn:
            state = conn.execute(select(deliveries.c.state).join(messages, deliveries.c.message_pk == messages.c.id)
                                 .where(messages.c.message_id == dossier["message_id"],
                                        deliveries.c.destination == "business_registry")).scalar()
        assert state == "delivered"
    finally:
        for p in hub.processes:
            p.stop()
        hub.engine.dispose()
