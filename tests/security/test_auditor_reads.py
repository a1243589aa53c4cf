"""Rule: an auditor reads access records, admin actions and alerts, never partners' message bodies;
seeing one message is a separate read that states a reason and is itself recorded."""

from __future__ import annotations

import json

from sqlalchemy import select

from hub.store.engine import reading
from hub.store.tables import access_records, admin_actions
from tests.factories import status_changed
from tests.security.conftest import Edge
from tests.support import wait_until


def a_message(edge: Edge) -> dict:
    body = status_changed()
    with edge.client("key") as partner:
        assert partner.post("/v1/messages", json=body).status_code in (200, 202)
    return body


def test_an_auditor_cannot_read_message_bodies_or_traces(edge: Edge) -> None:
    body = a_message(edge)
    with edge.client("auditor") as auditor:
        for path in (f"/v1/messages/{body['message_id']}", f"/v1/dossiers/{body['dossier_code']}/trace",
                     f"/v1/messages/{body['message_id']}/documents/0", "/v1/dead-letters"):
            answer = auditor.get(path)
            assert answer.status_code == 403 and answer.json()["type"] == "/problems/forbidden", path
        assert auditor.get("/v1/audit/records").status_code == 200, "while the audit trail stays open to them"


def test_an_auditor_reading_a_message_must_give_a_reason_and_the_read_is_recorded(edge: Edge) -> None:
    body = a_message(edge)
    with edge.client("auditor") as auditor:
        bare = auditor.post("/v1/audit/messages:read", json={"message_id": body["message_id"]})
        assert bare.status_code == 422 and any(e["field"] == "reason" for e in bare.json()["errors"])
        short = auditor.post("/v1/audit/messages:read", json={"message_id": body["message_id"], "reason": "look"})
        assert short.status_code == 422
        reason = "Thanh tra yêu cầu xác minh hồ sơ số 12/TTr"
        read = auditor.post("/v1/audit/messages:read", json={"message_id": body["message_id"], "reason": reason})
        assert read.status_code == 200 and read.json()["message"]["message_id"] == body["message_id"]
        rid = read.headers["x-request-id"]
    with reading(edge.hub.engine) as conn:
        action = conn.execute(select(admin_actions).where(admin_actions.c.action == "audit.read_message")
                              .order_by(admin_actions.c.id.desc())).first()
    assert action is not None and action.actor == "person:audrey" and body["message_id"] in action.target
    assert json.loads(action.after)["reason"] == reason

    def record() -> object:
        with reading(edge.hub.engine) as conn:
            return conn.execute(select(access_records).where(access_records.c.request_id == rid)).first()
    found = wait_until(record, 5, what="the reasoned read's access record")
    assert found.kind == "message_read" and found.account == "audrey" and body["message_id"] in found.message_ids


def test_operators_and_admins_still_read_messages_without_a_reason(edge: Edge) -> None:
    body = a_message(edge)
    for kind in ("operator", "admin"):
        with edge.client(kind) as person:
            assert person.get(f"/v1/messages/{body['message_id']}").status_code == 200, kind
