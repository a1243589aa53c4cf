"""Questions in the hub: the pull (portal -> ``question.asked`` for the one-stop system, with its
``portal_questions`` row in the same transaction), the answer's delivery (``question.answered`` ->
``DongBoKetQuaHoiDapGuiTuDVCQG``) and the overdue check (``ctx.alert("question_overdue", ...)``)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic import ValidationError
from sqlalchemy import Connection, insert, select, update

from connectors.national_dvc.client import DvcClient, PermanentError, TransientError
from connectors.national_dvc.questions.calendar import answer_due
from connectors.national_dvc.questions.wire import ANSWER_DATE, ANSWER_SERVICE, LIST_SERVICES, AnswerRecord, QuestionItem
from connectors.national_dvc.statistics.calendar import Calendar, calendar
from connectors.national_dvc.wire_types import HANOI
from hub.messages.models import QuestionAnswered
from hub.seam import Context, Envelope, Outcome, Refused, Unavailable, reading, tables

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ID = re.compile(r"^[A-Za-z0-9._-]{1,50}$")
ALERT = "question_overdue"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def message_id(question_id: str) -> str:
    """The stable message id of a question's ``question.asked``: pulled again, it is the same message."""
    return f"dvcqg-hoidap-{question_id}"


def _message(item: QuestionItem, service: str, asked_at: datetime, days: int, cal: Calendar) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "question_id": item.HOIDAPID, "agency_id": item.MADONVI, "agency_name": item.TENDONVI or None,
        "field_code": item.MALINHVUC or None, "procedure_code": item.MATTHCDP or None,
        "asker_name": (item.HOVATEN or "").strip() or "Công dân", "asker_email": item.THUDIENTU or None,
        "content": item.NOIDUNG, "asked_at": asked_at.isoformat(), "answer_due_at": answer_due(asked_at, days, cal).isoformat(),
    }
    return {"message_id": message_id(item.HOIDAPID), "source": "national_dvc", "type": "question.asked",
            "occurred_at": asked_at.isoformat(), "subject": f"question:{item.HOIDAPID}",
            "payload": {k: v for k, v in payload.items() if v is not None}}


def _items(answer: dict[str, Any], service: str) -> list[QuestionItem]:
    """The open questions of a list answer: those with an id, a content and an agency, not answered yet
    and not withdrawn (TRANGTHAI 0, as OpenCPS skips them)."""
    found: list[QuestionItem] = []
    for raw in answer.get("result") or []:
        try:
            item = QuestionItem.model_validate(raw)
        except ValidationError:
            log.warning("dvc questions: %s gave an unreadable item; skipped", service)
            continue
        if not ID.match(item.HOIDAPID) or not (item.NOIDUNG or "").strip() or not item.MADONVI:
            log.warning("dvc questions: %s item %r lacks an id, a content or an agency; skipped", service, item.HOIDAPID[:60])
            continue
        if (item.NOIDUNGTRALOI or "").strip() or item.TRANGTHAI == "0":
            continue
        found.append(item)
    return found


def pull(ctx: Context, client: DvcClient, clock: Clock = _now) -> int:
    """Pull both lists; submit each question not pulled before as ``question.asked``, its row written in
    the same transaction. Returns how many were submitted. Raises the client's errors."""
    submitted = 0
    q = tables.portal_questions
    for service in LIST_SERVICES:
        _, answer = client.read(service, {})
        items = {item.HOIDAPID: item for item in _items(answer, service)}
        if not items:
            continue
        with reading(ctx.engine) as conn:
            known = set(conn.execute(select(q.c.question_id).where(q.c.question_id.in_(list(items)))).scalars())
        fresh = [item for qid, item in items.items() if qid not in known]
        if not fresh:
            continue
        at = clock()
        days = ctx.settings.question_answer_days
        cal = calendar(ctx.settings, ctx.engine)  # the province's working days, its swap days included
        messages = [_message(item, service, at, days, cal) for item in fresh]

        def rows(conn: Connection, verdicts: list[str], fresh: list[QuestionItem] = fresh,
                 messages: list[dict[str, Any]] = messages, service: str = service) -> None:
            for item, message, verdict in zip(fresh, messages, verdicts):
                if verdict != "conflict":
                    conn.execute(insert(q).values(
                        question_id=item.HOIDAPID, service=service, agency_id=item.MADONVI, message_id=message["message_id"],
                        asked_at=datetime.fromisoformat(message["payload"]["asked_at"]),
                        answer_due_at=datetime.fromisoformat(message["payload"]["answer_due_at"])))

        try:
            verdicts = ctx.submit_many(messages, types=("question.asked",), then=rows)
        except Refused as refused:
            log.warning("dvc questions: %s batch refused (%s: %s)", service, refused.slug, refused.detail[:200])
            continue
        submitted += sum(1 for v in verdicts if v == "created")
    return submitted


def deliver_answer(ctx: Context, client: DvcClient, message: Envelope) -> Outcome:
    """``question.answered`` -> ``DongBoKetQuaHoiDapGuiTuDVCQG``; the question is marked answered."""
    if not isinstance(message, QuestionAnswered):
        return Outcome.permanent(f"not an answer: {message.type}")
    p = message.payload
    try:
        record = AnswerRecord(HOIDAPID=p.question_id, MADONVI=p.agency_id, NGUOITRALOI=p.answerer_name,
                              CHUCVUNGUOITRALOI=p.answerer_title or "", NGAYTRALOI=p.answered_at.astimezone(HANOI).strftime(ANSWER_DATE),
                              NOIDUNGTRALOI=p.content)
        answer = client.call(ANSWER_SERVICE, {"data": [record.model_dump()]})
    except ValidationError as exc:
        return Outcome.permanent(f"cannot map to {ANSWER_SERVICE}: {exc.errors()[0]['msg']}")
    except TransientError as exc:
        return Outcome.transient(exc.reason)
    except PermanentError as exc:
        return Outcome.permanent(exc.reason)
    q = tables.portal_questions
    with ctx.engine.begin() as conn:
        conn.execute(update(q).where(q.c.question_id == p.question_id, q.c.answered_at.is_(None))
                     .values(answered_at=p.answered_at))
    return Outcome.ok(answer.message or "answer sent")


def check_overdue(ctx: Context, now: datetime | None = None) -> list[str]:
    """Raise ``question_overdue`` for each question past its deadline with no answer at the portal; once each."""
    at = now or _now()
    q = tables.portal_questions
    with reading(ctx.engine) as conn:
        late = conn.execute(select(q.c.question_id, q.c.agency_id, q.c.asked_at, q.c.answer_due_at)
                            .where(q.c.answered_at.is_(None), q.c.answer_due_at < at, q.c.alerted_at.is_(None))
                            .order_by(q.c.answer_due_at).limit(500)).all()
    raised: list[str] = []
    for row in late:
        due = row.answer_due_at.astimezone(HANOI)
        detail = (f"question {row.question_id} to {row.agency_id}, asked {row.asked_at.astimezone(HANOI):%d/%m/%Y %H:%M}, "
                  f"was due {due:%d/%m/%Y %H:%M} and has no answer at the portal")
        ctx.alert(ALERT, f"question:{row.question_id}", detail, at=at)
        with ctx.engine.begin() as conn:
            conn.execute(update(q).where(q.c.question_id == row.question_id).values(alerted_at=at))
        raised.append(row.question_id)
    return raised


def run_job(ctx: Context, client: DvcClient | None = None, clock: Clock = _now) -> int:
    """The questions job: pull new questions, then check overdue ones (even when the portal is down)."""
    from connectors.national_dvc.ratings.store import portal_client

    own = client is None
    client = client or portal_client(ctx)
    submitted = 0
    try:
        submitted = pull(ctx, client, clock)
    except (TransientError, PermanentError, Unavailable) as exc:
        log.warning("dvc questions: pull failed (%s); next run tries again", getattr(exc, "reason", type(exc).__name__))
    finally:
        if own:
            client.close()
    check_overdue(ctx, clock())
    return submitted
