"""Ratings: one per dossier code (seed 004 Đ12.2), kept by the portal connector, sent to the portal as
monthly aggregates per procedure and unit (DongBoDanhGia), once per month unless ratings came later."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.national_dvc.ratings.aggregate import month_of, percentages, wire_month
from connectors.national_dvc.ratings.store import deliver, request_send, run_job
from hub.messages.models import MESSAGE_ADAPTER
from hub.seam import reading, tables
from tests.national_dvc.conftest import Portal

HANOI = timezone(timedelta(hours=7))
AGENCY = "000.00.00.H49"


def rating(seq: int, level: str, at: str, procedure: str = "2.000477", unit: str | None = None,
           message_id: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"agency_id": AGENCY, "procedure_code": procedure, "level": level, "rated_at": at}
    if unit:
        payload["unit"] = unit
    return {"message_id": message_id or f"rate-{uuid.uuid4()}", "source": "motcua", "type": "rating.given",
            "dossier_code": f"{AGENCY}-261015-{seq:04d}", "occurred_at": at, "payload": payload}


def test_a_second_rating_of_a_rated_dossier_is_refused_naming_the_rule_and_the_same_message_again_is_a_duplicate(
        env: Portal) -> None:
    first = rating(1, "satisfied", "2026-09-10T09:00:00+07:00")
    assert env.api.post("/v1/messages", json=first).status_code == 202
    assert env.api.post("/v1/messages", json=first).status_code == 200  # the same message: idempotent

    attack = {**first, "message_id": "rate-another-id", "payload": {**first["payload"], "level": "not_satisfied"}}
    refused = env.api.post("/v1/messages", json=attack)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"].endswith("rating-exists")
    assert problem["errors"][0]["rule"] == "one_rating_per_dossier" and problem["errors"][0]["field"] == "dossier_code"
    with reading(env.hub.engine) as conn:
        stored = conn.execute(select(func.count()).select_from(tables.messages)
                              .where(tables.messages.c.dossier_code == first["dossier_code"])).scalar()
    assert stored == 1


def test_a_second_rating_that_reaches_delivery_is_permanent_while_the_first_again_is_ok(env: Portal) -> None:
    # the race the intake rule cannot close: two ratings of one dossier accepted at the same moment
    first = MESSAGE_ADAPTER.validate_python(rating(2, "satisfied", "2026-09-11T09:00:00+07:00"))
    second = MESSAGE_ADAPTER.validate_python(rating(2, "very_satisfied", "2026-09-11T09:00:01+07:00"))
    client: Any = None  # a rating calls nothing at the portal
    assert deliver(env.ctx, client, first).kind == "ok"
    assert deliver(env.ctx, client, first).kind == "ok"  # redelivered
    late = deliver(env.ctx, client, second)
    assert late.kind == "permanent" and "one_rating_per_dossier" in late.detail


def test_percentages_are_whole_and_add_up_to_one_hundred() -> None:
    assert percentages((3, 1, 2)) == (50, 17, 33)
    assert percentages((1, 1, 1)) == (34, 33, 33)
    assert percentages((2, 0, 0)) == (100, 0, 0)
    assert percentages((1, 5, 1)) == (14, 72, 14)
    for counts in [(a, b, c) for a in range(7) for b in range(7) for c in range(7) if a + b + c]:
        assert sum(percentages(counts)) == 100


def test_a_ratings_month_is_the_month_in_vietnam() -> None:
    assert month_of(datetime(2026, 10, 31, 17, 30, tzinfo=timezone.utc)) == "2026-11"  # 00:30 on 1/11 in Hà Nội
    assert wire_month("2026-03") == "3-2026"


def sent_month(env: Portal, month: str) -> dict[str, Any]:
    return env.state("ratings")["months"].get(month, {})


def test_the_months_aggregate_is_exact_sent_once_and_sent_again_when_ratings_came_later(env: Portal) -> None:
    october = [  # a hand-built month: (level, rated at, procedure, unit)
        ("very_satisfied", "2026-10-01T08:00:00+07:00", "1.001193", None),
        ("very_satisfied", "2026-10-05T08:00:00+07:00", "1.001193", None),
        ("very_satisfied", "2026-10-09T08:00:00+07:00", "1.001193", None),
        ("satisfied", "2026-10-12T08:00:00+07:00", "1.001193", None),
        ("not_satisfied", "2026-10-20T08:00:00+07:00", "1.001193", None),
        ("not_satisfied", "2026-10-31T23:30:00+07:00", "1.001193", None),  # still October in Hà Nội (16:30 UTC)
        ("very_satisfied", "2026-10-02T08:00:00+07:00", "1.001193", "000.12.34.H49"),
        ("satisfied", "2026-10-03T08:00:00+07:00", "1.001193", "000.12.34.H49"),
        ("not_satisfied", "2026-10-04T08:00:00+07:00", "1.001193", "000.12.34.H49"),
        ("very_satisfied", "2026-10-06T08:00:00+07:00", "2.000575", None),
        ("very_satisfied", "2026-10-07T08:00:00+07:00", "2.000575", None),
        ("satisfied", "2026-11-01T00:10:00+07:00", "2.000575", None),  # November in Hà Nội (17:10 UTC on 31/10)
    ]
    for seq, (level, at, procedure, unit) in enumerate(october, 100):
        assert env.api.post("/v1/messages", json=rating(seq, level, at, procedure, unit)).status_code == 202
    env.drain("national_dvc")
    calls = env.state("ratings")["calls"]

    mid_november = lambda: datetime(2026, 11, 15, 10, 0, tzinfo=HANOI)  # noqa: E731
    done = run_job(env.ctx, clock=mid_november)
    assert [(s.month, s.ratings, s.records) for s in done if s.month == "2026-10"] == [("2026-10", 11, 3)]
    assert all(s.month != "2026-11" for s in done)  # November has not ended
    assert sent_month(env, "10-2026") == {
        "1.001193|000.00.00.H49": {"MaTTHC": "1.001193", "MaDonVi": AGENCY, "NgayTongHop": "10-2026", "TongSoNguoiDanhGia": "6",
                                   "TyLeRatHaiLong": "50%", "TyLeHaiLong": "17%", "TyLeKhongHaiLong": "33%"},
        "1.001193|000.12.34.H49": {"MaTTHC": "1.001193", "MaDonVi": "000.12.34.H49", "NgayTongHop": "10-2026",
                                   "TongSoNguoiDanhGia": "3", "TyLeRatHaiLong": "34%", "TyLeHaiLong": "33%",
                                   "TyLeKhongHaiLong": "33%"},
        "2.000575|000.00.00.H49": {"MaTTHC": "2.000575", "MaDonVi": AGENCY, "NgayTongHop": "10-2026", "TongSoNguoiDanhGia": "2",
                                   "TyLeRatHaiLong": "100%", "TyLeHaiLong": "0%", "TyLeKhongHaiLong": "0%"},
    }
    assert "11-2026" not in env.state("ratings")["months"]

    sent_calls = env.state("ratings")["calls"]
    assert sent_calls > calls
    assert run_job(env.ctx, clock=mid_november) == []  # a restart of the job sends nothing twice
    assert env.state("ratings")["calls"] == sent_calls

    late = rating(200, "not_satisfied", "2026-10-30T15:00:00+07:00", "2.000575")  # rated in October, arrives later
    assert env.api.post("/v1/messages", json=late).status_code == 202
    env.drain("national_dvc")
    again = run_job(env.ctx, clock=mid_november)
    assert [(s.month, s.ratings) for s in again] == [("2026-10", 12)]
    assert sent_month(env, "10-2026")["2.000575|000.00.00.H49"]["TongSoNguoiDanhGia"] == "3"
    assert sent_month(env, "10-2026")["2.000575|000.00.00.H49"]["TyLeKhongHaiLong"] == "33%"

    request_send(env.hub.engine, "2026-11", "test")  # lienthong ratings send --month 2026-11, before it ends
    [november] = run_job(env.ctx, clock=mid_november)
    assert (november.month, november.ratings) == ("2026-11", 1)
    assert sent_month(env, "11-2026")["2.000575|000.00.00.H49"]["TyLeHaiLong"] == "100%"


@pytest.mark.parametrize("bad", [{"TyLeHaiLong": "80"}, {"NgayTongHop": "2026-10"}, {"TongSoNguoiDanhGia": 5}])
def test_the_portal_simulator_refuses_a_rating_record_off_the_wire_format(env: Portal, bad: dict[str, Any]) -> None:
    from connectors.national_dvc.client import PermanentError
    from connectors.national_dvc.ratings.store import portal_client

    record = {"MaTTHC": "1.001193", "MaDonVi": AGENCY, "NgayTongHop": "10-2026", "TongSoNguoiDanhGia": "1",
              "TyLeRatHaiLong": "100%", "TyLeHaiLong": "0%", "TyLeKhongHaiLong": "0%", **bad}
    client = portal_client(env.ctx)
    try:
        with pytest.raises(PermanentError) as refused:
            client.call("DongBoDanhGia", {"data": [record]})
    finally:
        client.close()
    assert refused.value.error_code == "02"
