"""Citizens' questions: pulled from the portal into question.asked for the one-stop system (once each,
across restarts), answered back with DongBoKetQuaHoiDapGuiTuDVCQG, and an alert for one left
unanswered past its deadline in working days (seed 003 Đ16.2; seed 004 Đ13.3b)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from connectors.motcua.demo import answers
from connectors.national_dvc.questions.calendar import answer_due
from connectors.national_dvc.questions.store import check_overdue, deliver_answer, message_id, run_job
from hub.messages.models import MESSAGE_ADAPTER
from hub.seam import reading, tables
from tests.national_dvc.conftest import Portal

HANOI = timezone(timedelta(hours=7))


def ask(env: Portal, content: str) -> str:
    r = env.portal.post("/_sim/questions", json={"NOIDUNG": content, "HOVATEN": "Nguyễn Văn Khách",
                                                 "THUDIENTU": "khach@example.vn", "MATTHCDP": "2.000477"})
    assert r.status_code == 201
    return str(r.json()["HOIDAPID"])


def asked_messages(env: Portal, qid: str) -> int:
    with reading(env.hub.engine) as conn:
        return int(conn.execute(select(func.count()).select_from(tables.messages).where(
            tables.messages.c.type == "question.asked", tables.messages.c.message_id == message_id(qid))).scalar() or 0)


def test_a_question_is_answered_round_trip_from_the_portal_to_the_one_stop_system_and_back(env: Portal) -> None:
    qid = ask(env, "Xin hỏi hồ sơ đăng ký khai sinh cần những giấy tờ gì?")
    assert run_job(env.ctx) >= 1
    env.drain("motcua")

    inbox = env.motcua.get("/_sim/state").json()
    [asked] = [h["message"] for h in inbox["messages"].values()
               if h["message"]["type"] == "question.asked" and h["message"]["subject"] == f"question:{qid}"]
    assert asked["payload"]["content"] == "Xin hỏi hồ sơ đăng ký khai sinh cần những giấy tờ gì?"
    assert asked["payload"]["agency_id"] == "000.00.00.H49"

    # the one-stop system answers (the sandbox demo's way), through the hub's API as itself
    [reply] = [m for m in answers(inbox, set()) if m["subject"] == f"question:{qid}"]
    assert env.api.post("/v1/messages", json=reply).status_code == 202
    env.drain("national_dvc")

    shown = env.portal.get(f"/_sim/questions/{qid}").json()
    [sent] = shown["answers"]
    assert sent["HOIDAPID"] == qid and sent["MADONVI"] == "000.00.00.H49"
    assert sent["NGUOITRALOI"] == "Nguyễn Thị Lan" and sent["NOIDUNGTRALOI"] == reply["payload"]["content"]
    assert sent["NGAYTRALOI"] == datetime.fromisoformat(reply["payload"]["answered_at"]).astimezone(HANOI).strftime("%d/%m/%Y")
    assert shown["question"]["NOIDUNGTRALOI"] == reply["payload"]["content"]
    with reading(env.hub.engine) as conn:
        answered = conn.execute(select(tables.portal_questions.c.answered_at)
                                .where(tables.portal_questions.c.question_id == qid)).scalar()
    assert answered is not None


def test_a_restarted_pull_submits_no_question_twice(env: Portal) -> None:
    qid = ask(env, "Lệ phí cấp bản sao trích lục hộ tịch là bao nhiêu?")
    run_job(env.ctx)
    assert asked_messages(env, qid) == 1
    assert run_job(env.ctx) == 0  # a new run (a new client, as after a restart) finds it pulled already
    assert asked_messages(env, qid) == 1


def test_an_answer_to_a_question_the_portal_does_not_know_is_refused_with_its_code_and_permanent(env: Portal) -> None:
    from connectors.national_dvc.ratings.store import portal_client

    answer = MESSAGE_ADAPTER.validate_python({
        "message_id": "answer-unknown", "source": "motcua", "type": "question.answered", "subject": "question:999999",
        "occurred_at": "2026-11-20T09:00:00+07:00",
        "payload": {"question_id": "999999", "agency_id": "000.00.00.H49", "answerer_name": "Nguyễn Thị Lan",
                    "answered_at": "2026-11-20T09:00:00+07:00", "content": "Trả lời"}})
    client = portal_client(env.ctx)
    try:
        outcome = deliver_answer(env.ctx, client, answer)
    finally:
        client.close()
    assert outcome.kind == "permanent" and "error_code 04" in outcome.detail


def test_the_deadline_counts_working_days_and_skips_tet() -> None:
    friday_before_tet = datetime(2026, 2, 13, 10, 0, tzinfo=HANOI)  # Tết 2026: Monday 16 to Friday 20 February
    assert answer_due(friday_before_tet, 3) == datetime(2026, 2, 25, 17, 0, tzinfo=HANOI)
    saturday = datetime(2026, 11, 21, 9, 0, tzinfo=HANOI)  # counts from Monday 23; 24/11 is Vietnam Culture Day
    assert answer_due(saturday, 3) == datetime(2026, 11, 27, 17, 0, tzinfo=HANOI)
    after_hours = datetime(2026, 11, 19, 18, 0, tzinfo=HANOI)  # Thursday evening counts from Friday
    assert answer_due(after_hours, 1) == datetime(2026, 11, 23, 17, 0, tzinfo=HANOI)


def alerts(env: Portal, qid: str) -> list[Any]:
    with reading(env.hub.engine) as conn:
        return list(conn.execute(select(tables.alerts).where(tables.alerts.c.rule == "national_dvc.question_overdue",
                                                             tables.alerts.c.subject == f"question:{qid}")).all())


def test_an_unanswered_question_past_its_deadline_raises_the_alert_once(env: Portal) -> None:
    qid = ask(env, "Tôi muốn hỏi về thời hạn giải quyết hồ sơ đất đai.")
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=HANOI)
    run_job(env.ctx, clock=lambda: monday)
    due = answer_due(monday, env.ctx.settings.question_answer_days)
    assert due == datetime(2026, 11, 27, 17, 0, tzinfo=HANOI)  # 3 working days (seed 003 Đ16.2b), 24/11 a holiday

    assert qid not in check_overdue(env.ctx, due - timedelta(minutes=1))
    assert alerts(env, qid) == []
    assert qid in check_overdue(env.ctx, due + timedelta(minutes=1))
    [alert] = alerts(env, qid)
    assert f"question {qid}" in alert.detail and "Khách" not in alert.detail  # no citizen's name in an alert
    assert qid not in check_overdue(env.ctx, due + timedelta(hours=5))  # raised once
    assert len(alerts(env, qid)) == 1
