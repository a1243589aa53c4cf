"""What the hub knows of a dossier, folded from the canonical messages it accepted about it.

The status look-up (``lookup/``) and the processing statistics (``statistics/``) answer from the hub's
own store, never by calling the one-stop system: the dossier's ``dossier.submitted``/``dossier.updated``
give its procedure, field, applicant, channel and dates; its ``status.changed`` steps its status, its
pauses for supplements and its end; a ``result.issued`` its result. Messages are folded in the order
they happened (``occurred_at``, then the order accepted).

Statuses (``TrangThaiHoSo``): a dossier is *paused* while its status is 5 (supplement requested),
from the step that asked until the next step; it is *finished* at the first 9 (done) or 10 (result
returned), or at a ``result.issued``; it *ended without result* at 3 (not accepted), 7 (withdrawn) or
8 (stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator

import orjson
from sqlalchemy import Engine, select

from hub.seam import reading, tables

#: The message types a dossier's facts come from.
TYPES = ("dossier.submitted", "dossier.updated", "status.changed", "result.issued")
SUPPLEMENT = 5
FINISHED = frozenset({9, 10})
ENDED = frozenset({3, 7, 8})

#: Vietnamese names of the statuses (TrangThaiHoSo), as the portal shows them.
STATUS_NAMES: dict[int, str] = {
    1: "Mới đăng ký", 2: "Đã tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính", 7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả",
}


@dataclass
class Dossier:
    """One dossier as its messages tell it. ``paused``: the (start, end) periods it waited for a
    supplement (end None: still waiting); ``steps``: (when, status) in order."""

    code: str
    agency_id: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    field_code: str | None = None
    field_name: str | None = None
    applicant_name: str = ""
    channel: int | None = None
    handling_unit: str | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    due_set_at: datetime | None = None  #: when the one-stop system last gave the due date (a pause before it is in it)
    status: int | None = None
    finished_at: datetime | None = None
    ended_at: datetime | None = None
    paused: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    steps: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status or 0, "")

    @property
    def known(self) -> bool:
        """The hub has the dossier's record itself (not only steps of a dossier it never saw filed)."""
        return self.received_at is not None

    def take(self, type_: str, payload: dict[str, Any], occurred_at: datetime) -> None:
        """Fold one message in (messages come in the order they happened)."""
        if type_ in ("dossier.submitted", "dossier.updated"):
            self._record(payload, occurred_at)
            self._status(int(payload["status"]), _at(payload.get("received_at")) or occurred_at)
        elif type_ == "status.changed":
            at = _at(payload.get("handled_at")) or occurred_at
            if payload.get("due_at"):
                self.due_at, self.due_set_at = _at(payload["due_at"]), at
            self._status(int(payload["status"]), at)
        elif type_ == "result.issued":
            at = _at(payload.get("issued_at")) or occurred_at
            self._status(int(payload.get("status", 9)), at)

    def _record(self, p: dict[str, Any], occurred_at: datetime) -> None:
        self.agency_id = p.get("agency_id", self.agency_id)
        self.procedure_code = p.get("procedure_code", self.procedure_code)
        self.procedure_name = p.get("procedure_name", self.procedure_name)
        self.field_code = p.get("field_code", self.field_code)
        self.field_name = p.get("field_name", self.field_name)
        self.applicant_name = (p.get("applicant") or {}).get("name", self.applicant_name)
        self.channel = p.get("channel", self.channel)
        self.handling_unit = p.get("handling_unit", self.handling_unit)
        self.received_at = self.received_at or _at(p.get("received_at"))
        if p.get("due_at"):
            self.due_at, self.due_set_at = _at(p["due_at"]), occurred_at

    def _status(self, status: int, at: datetime) -> None:
        if self.paused and self.paused[-1][1] is None and status != SUPPLEMENT:
            self.paused[-1] = (self.paused[-1][0], at)  # the supplement came: the clock runs again
        elif status == SUPPLEMENT and (not self.paused or self.paused[-1][1] is not None):
            self.paused.append((at, None))
        if status in FINISHED and self.finished_at is None:
            self.finished_at = at
        if status in ENDED and self.ended_at is None:
            self.ended_at = at
        self.status = status
        self.steps.append((at, status))


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def fold(rows: Iterable[Any]) -> Iterator[Dossier]:
    """Dossiers from message rows (``dossier_code``, ``type``, ``body``) sorted by dossier code, then in
    the order they happened."""
    current: Dossier | None = None
    for row in rows:
        if current is None or current.code != row.dossier_code:
            if current is not None:
                yield current
            current = Dossier(row.dossier_code)
        body = orjson.loads(row.body)
        current.take(row.type, body.get("payload") or {}, datetime.fromisoformat(body["occurred_at"]))
    if current is not None:
        yield current


def dossier(engine: Engine, code: str) -> Dossier | None:
    """The dossier ``code`` as the hub knows it, or None when no message of it was accepted."""
    m = tables.messages
    q = (select(m.c.dossier_code, m.c.type, m.c.body).where(m.c.dossier_code == code, m.c.type.in_(TYPES))
         .order_by(m.c.occurred_at, m.c.id))
    with reading(engine) as conn:
        return next(fold(conn.execute(q)), None)


def dossiers(engine: Engine, *, until: datetime | None = None, agency_prefix: str | None = None) -> Iterator[Dossier]:
    """Every dossier whose messages happened before ``until`` (default: all), folded from those messages
    only; ``agency_prefix``: only dossier codes starting with it. Streams (one dossier in memory at a time)."""
    m = tables.messages
    q = select(m.c.dossier_code, m.c.type, m.c.body).where(m.c.type.in_(TYPES), m.c.dossier_code.is_not(None))
    if until is not None:
        q = q.where(m.c.occurred_at < until)
    if agency_prefix:
        q = q.where(m.c.dossier_code.startswith(agency_prefix))
    q = q.order_by(m.c.dossier_code, m.c.occurred_at, m.c.id)
    with reading(engine) as conn:
        yield from fold(conn.execution_options(stream_results=True, yield_per=500).execute(q))
