"""The edge accepts, stores and answers receipts; bad input is refused with problem+json and not stored."""

from __future__ import annotations

import unicodedata

import httpx
from sqlalchemy import func, select

from hub.store.tables import deliveries, messages
from tests.conftest import Hub
from tests.factories import question_answered, status_changed, submitted


def stored(hub: Hub) -> tuple[int, int]:
    with hub.engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(messages)).scalar_one(),
                conn.execute(select(func.count()).select_from(deliveries)).scalar_one())


def assert_problem(r: httpx.Response, status: int, field: str | None = None, rule: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["type"].startswith("/problems/") and body["title"]
    if field is not None:
        assert any(e["field"] == field and (rule is None or e["rule"] == rule) for e in body["errors"]), body
    return body


def test_accepted_message_is_stored_with_one_delivery_per_destination(motcua: httpx.Client, hub: Hub) -> None:
    r = motcua.post("/v1/messages", json=submitted())
    assert r.status_code == 202, r.text
    receipt = r.json()
    assert receipt["destinations"] == ["national_dvc"]
    assert len(receipt["deliveries"]) == 1 and receipt["deliveries"][0]["destination"] == "national_dvc"
    assert stored(hub) == (1, 1)


def test_same_message_id_and_body_again_answers_original_receipt_and_stores_nothing(motcua: httpx.Client, hub: Hub) -> None:
    msg = submitted()
    first = motcua.post("/v1/messages", json=msg)
    again = motcua.post("/v1/messages", json=msg)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()
    assert stored(hub) == (1, 1)


def test_nfd_resend_of_same_message_counts_as_the_same_body(motcua: httpx.Client, hub: Hub) -> None:
    msg = submitted()
    motcua.post("/v1/messages", json=msg)
    nfd = dict(msg, payload=dict(msg["payload"], procedure_name=unicodedata.normalize("NFD", msg["payload"]["procedure_name"])))
    assert motcua.post("/v1/messages", json=nfd).status_code == 200


def test_vietnamese_text_is_stored_nfc(motcua: httpx.Client, hub: Hub) -> None:
    msg = submitted()
    msg["payload"]["applicant"]["name"] = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
    motcua.post("/v1/messages", json=msg)
    with hub.engine.connect() as conn:
        body = conn.execute(select(messages.c.body)).scalar_one()
    assert "Nguyễn Thị Hằng" in body and unicodedata.is_normalized("NFC", body)


def test_same_message_id_with_different_body_is_409(motcua: httpx.Client, hub: Hub) -> None:
    msg = submitted()
    motcua.post("/v1/messages", json=msg)
    changed = dict(msg, occurred_at="2026-11-23T09:00:00+07:00")
    assert_problem(motcua.post("/v1/messages", json=changed), 409, "message_id", "unique_per_source")
    assert stored(hub) == (1, 1)


def test_missing_or_unknown_key_is_401_and_nothing_stored(api: str, hub: Hub) -> None:
    for headers in ({}, {"Authorization": "ApiKey lt_live_notakey"}, {"Authorization": f"Bearer {hub.keys['motcua']}"}):
        r = httpx.post(f"{api}/v1/messages", json=submitted(), headers=headers)
        assert_problem(r, 401)
        assert r.headers["www-authenticate"].startswith("ApiKey")
    assert stored(hub) == (0, 0)


def test_message_claiming_another_source_is_403(api: str, hub: Hub) -> None:
    with httpx.Client(base_url=api, headers={"Authorization": f"ApiKey {hub.keys['postal_vnpost']}"}) as postal:
        assert_problem(postal.post("/v1/messages", json=submitted()), 403, "source", "source_is_caller")
    assert stored(hub) == (0, 0)


def test_malformed_json_is_400(motcua: httpx.Client, hub: Hub) -> None:
    r = motcua.post("/v1/messages", content=b'{"type": ', headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "(body)", "json_syntax")
    assert stored(hub) == (0, 0)


def test_wrong_content_type_is_415(motcua: httpx.Client, hub: Hub) -> None:
    r = motcua.post("/v1/messages", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    assert_problem(r, 415, "Content-Type", "media_type")


def test_body_over_the_limit_is_413(motcua: httpx.Client, hub: Hub) -> None:
    msg = submitted()
    msg["payload"]["summary"] = "x" * (hub.settings.max_body_bytes + 10)
    assert_problem(motcua.post("/v1/messages", json=msg), 413)
    assert stored(hub) == (0, 0)


def test_unknown_type_is_422_naming_type(motcua: httpx.Client, hub: Hub) -> None:
    assert_problem(motcua.post("/v1/messages", json=submitted(type="dossier.exploded")), 422, "type", "known_type")


def test_schema_violation_names_field_and_rule(motcua: httpx.Client, hub: Hub) -> None:
    msg = status_changed(status=11)
    body = assert_problem(motcua.post("/v1/messages", json=msg), 422, "payload.status", "enum")
    assert "payload.status" in body["detail"]
    assert stored(hub) == (0, 0)


def test_dossier_code_with_impossible_date_is_refused(motcua: httpx.Client) -> None:
    assert_problem(motcua.post("/v1/messages", json=submitted(dossier_code="000.00.00.H49-261332-0001")),
                   422, "dossier_code", "value_error")


def test_bad_agency_identifier_is_refused(motcua: httpx.Client) -> None:
    msg = submitted()
    msg["payload"]["agency_id"] = "H49"
    assert_problem(motcua.post("/v1/messages", json=msg), 422, "payload.agency_id", "string_pattern_mismatch")


def test_unknown_field_is_refused(motcua: httpx.Client) -> None:
    assert_problem(motcua.post("/v1/messages", json=submitted(extra="x")), 422, "extra", "extra_forbidden")


def test_message_with_no_route_is_422_not_dropped(motcua: httpx.Client, hub: Hub) -> None:
    msg = {**submitted(), "type": "payment.confirmed", "payload": {
        "agency_id": "000.00.00.H49", "procedure_code": "2.000477", "reference": "R1", "transaction_id": "T1",
        "amount": 50000, "paid_at": "2026-11-23T09:00:00+07:00"}}
    assert_problem(motcua.post("/v1/messages", json=msg), 422, "type", "routable")
    assert stored(hub) == (0, 0)


def test_batch_gives_a_result_per_item_and_stores_only_the_valid(motcua: httpx.Client, hub: Hub) -> None:
    good = [submitted(seq=i) for i in range(1, 4)]
    bad = status_changed(status=0)
    r = motcua.post("/v1/messages:batch", json={"messages": [good[0], bad, good[1], good[2], good[0]]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [x["status"] for x in out["results"]] == [202, 422, 202, 202, 200]
    assert out["results"][1]["problem"]["errors"][0]["field"] == "messages.1.payload.status"
    assert (out["accepted"], out["rejected"], out["duplicates"]) == (3, 1, 1)
    assert stored(hub) == (3, 3)


def test_batch_over_fifty_is_refused_whole(motcua: httpx.Client, hub: Hub) -> None:
    r = motcua.post("/v1/messages:batch", json={"messages": [submitted(seq=i) for i in range(1, 52)]})
    assert_problem(r, 422, "messages", "max_items")
    assert stored(hub) == (0, 0)


def test_message_view_shows_delivery_state(motcua: httpx.Client) -> None:
    msg = submitted()
    motcua.post("/v1/messages", json=msg)
    view = motcua.get(f"/v1/messages/{msg['message_id']}").json()
    assert view["deliveries"][0]["state"] == "pending" and view["message"]["dossier_code"] == msg["dossier_code"]


def test_partner_cannot_read_another_partners_message(motcua: httpx.Client, api: str, hub: Hub) -> None:
    msg = submitted()
    motcua.post("/v1/messages", json=msg)
    with httpx.Client(base_url=api, headers={"Authorization": f"ApiKey {hub.keys['postal_vnpost']}"}) as postal:
        assert_problem(postal.get(f"/v1/messages/{msg['message_id']}"), 404)


def test_trace_lists_a_dossiers_messages_in_time_order(motcua: httpx.Client, ops: httpx.Client) -> None:
    later = status_changed(step=5)
    earlier = status_changed(step=2)
    first = submitted()
    for m in (later, first, earlier):
        assert motcua.post("/v1/messages", json=m).status_code == 202
    trace = ops.get(f"/v1/dossiers/{first['dossier_code']}/trace").json()
    assert [m["message_id"] for m in trace["messages"]] == [first["message_id"], earlier["message_id"], later["message_id"]]


def test_schemas_are_served(api: str) -> None:
    index = httpx.get(f"{api}/schemas/").json()["schemas"]
    assert "/schemas/messages/status.changed.json" in index
    schema = httpx.get(f"{api}/schemas/messages/status.changed.json").json()
    assert schema["properties"]["type"]["const"] == "status.changed"


def test_database_failure_is_a_503_problem_and_nothing_is_half_stored(motcua: httpx.Client, hub: Hub) -> None:
    with hub.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE deliveries RENAME TO deliveries_gone")
    r = motcua.post("/v1/messages", json=submitted())
    with hub.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE deliveries_gone RENAME TO deliveries")
    body = assert_problem(r, 503)
    assert body["type"] == "/problems/store-unavailable" and r.headers["retry-after"] == "1"
    assert "deliveries" not in body["detail"], "internals stay in the log"
    assert stored(hub) == (0, 0)


def test_refused_messages_are_counted_in_metrics(motcua: httpx.Client, api: str) -> None:
    def rejected() -> float:
        for line in httpx.get(f"{api}/metrics").text.splitlines():
            if line.startswith('lienthong_intake_messages_total{verdict="rejected"}'):
                return float(line.split()[-1])
        return 0.0

    before = rejected()
    motcua.post("/v1/messages", json=status_changed(status=42))
    assert rejected() == before + 1


def test_receipt_delivery_ids_point_at_the_stored_rows(motcua: httpx.Client, hub: Hub) -> None:
    msgs = [submitted(seq=i) for i in range(1, 6)]
    out = motcua.post("/v1/messages:batch", json={"messages": msgs}).json()
    with hub.engine.connect() as conn:
        for msg, res in zip(msgs, out["results"]):
            [(delivery_id, destination)] = [(d["id"], d["destination"]) for d in res["receipt"]["deliveries"]]
            row = conn.execute(
                select(messages.c.message_id, deliveries.c.destination)
                .join(deliveries, deliveries.c.message_pk == messages.c.id)
                .where(deliveries.c.id == delivery_id)
            ).one()
            assert (row.message_id, row.destination) == (msg["message_id"], destination)


#: The one /v1 call without an API key: the payment platform authenticates by MaXacThuc and address.
KEYLESS_V1 = {"/v1/payments/callback", "/v1/ministry/{code}/hooks/{event}/{secret}",  # proved by a checksum, a secret path
              # the public status look-up (connectors/national_dvc/lookup/): the code alone, throttled per address
              "/v1/public/dossiers/{dossier_code}", "/v1/public/dossiers/{dossier_code}/qr.png",
              "/v1/public/dossiers/{dossier_code}/qr.svg"}


def test_openapi_documents_the_api_key_scheme_on_every_v1_call(api: str) -> None:
    spec = httpx.get(f"{api}/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"
    v1 = {p: ops for p, ops in spec["paths"].items() if p.startswith("/v1/")}
    assert "/v1/messages" in v1 and "/v1/dead-letters" in v1
    keyed = {p: ops for p, ops in v1.items() if p not in KEYLESS_V1}
    assert all(op["security"] == [{"ApiKey": []}] for ops in keyed.values() for op in ops.values())
    assert all(op["security"] == [] for p in KEYLESS_V1 for op in v1[p].values()), "the callback says it needs no key"


def test_a_notice_has_no_dossier_code_and_its_deliveries_keep_order_by_subject(motcua: httpx.Client, hub: Hub) -> None:
    first, second = question_answered("HD-7"), question_answered("HD-7")
    for m in (first, second):
        r = motcua.post("/v1/messages", json=m)
        assert r.status_code == 202, r.text
        assert r.json()["dossier_code"] is None and r.json()["destinations"] == ["national_dvc"]
    with hub.engine.connect() as conn:
        rows = conn.execute(select(messages.c.dossier_code, deliveries.c.order_key).join(
            deliveries, deliveries.c.message_pk == messages.c.id).order_by(deliveries.c.id)).all()
    assert [tuple(r) for r in rows] == [(None, "question:HD-7")] * 2


def test_a_notice_may_not_carry_a_dossier_code_nor_a_dossier_message_lack_one(motcua: httpx.Client) -> None:
    with_code = question_answered(dossier_code="000.00.00.H49-261123-0001")
    assert motcua.post("/v1/messages", json=with_code).status_code == 422
    no_code = submitted()
    del no_code["dossier_code"]
    assert motcua.post("/v1/messages", json=no_code).status_code == 422
    bad_subject = question_answered(subject="Question 7")
    answer = motcua.post("/v1/messages", json=bad_subject)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "subject"
