"""A hand-built February 2027 (Tết 4-10 February, a swap Saturday on 20 February) as canonical messages,
shared by the statistics tests. Each dossier's comment says how it counts; the tests hold the sums."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, create_engine

from connectors.national_dvc.statistics.calendar import DayException
from connectors.national_dvc.wire_types import HANOI as VIETNAM
from tests.support import store_messages

A, B = "000.00.00.H49", "000.00.01.H49"
SWAP = DayException(date(2027, 2, 20), "working", "Quyết định 99/QĐ-UBND (thử): làm bù thứ Bảy 20/02/2027")


def vn(month: int, day: int, hour: int, minute: int = 0, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def _message(type_: str, code: str, agency: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {"message_id": str(uuid.uuid4()), "type": type_, "source": "motcua", "occurred_at": at.isoformat(),
            "dossier_code": code, "payload": {"agency_id": agency, **payload}}


def dossier(seq: int, agency: str, channel: int, received: datetime, due: datetime, field: str,
            steps: list[tuple[datetime, int]], unit: str | None = None) -> list[dict[str, Any]]:
    """A dossier's messages: filed (status 2, or 1 online), then its steps (status.changed)."""
    code = f"{agency}-{received:%y%m%d}-{seq:04d}"
    record: dict[str, Any] = {
        "procedure_code": "2.000477", "procedure_name": "Cấp bản sao trích lục hộ tịch", "field_code": field,
        "field_name": f"Lĩnh vực {field}", "applicant": {"name": "Nguyễn Thị Hằng", "subject_type": 1},
        "received_at": received.isoformat(), "due_at": due.isoformat(), "status": 1 if channel == 2 else 2,
        "channel": channel}
    if unit:
        record["handling_unit"] = unit
    out = [_message("dossier.submitted", code, agency, received, record)]
    for at, status in steps:
        out.append(_message("status.changed", code, agency, at, {"status": status, "handled_at": at.isoformat(),
                                                                 "handler_name": "Trần Văn Bình",
                                                                 "content": f"Trạng thái {status}"}))
    return out


UNIT_B = "UBND huyện Vân Đồn"
MESSAGES: list[dict[str, Any]] = [
    # -- agency A, field F1, in person (channel 1)
    # D1: carried from January; done 1 Feb 10:00, the working day before its due day: early by both rules
    *dossier(1, A, 1, vn(1, 25, 9), vn(2, 2, 17), "F1", [(vn(2, 1, 10), 9)]),
    # D2: due 11 Feb 10:00, done 09:00: on time by both; not early by 000 (the working day before 11 Feb is 3 Feb)
    *dossier(2, A, 1, vn(2, 3, 9), vn(2, 11, 10), "F1", [(vn(2, 11, 9), 9)]),
    # D3: due 12 Feb 10:00, done 15:00 the same day: late by 000 (the hour passed), on time by 004 (the date)
    *dossier(3, A, 1, vn(2, 11, 8), vn(2, 12, 10), "F1", [(vn(2, 12, 15), 9)]),
    # D6: due 22 Feb 17:00, a supplement awaited 19 Feb 09:00 -> 22 Feb 09:00 with no new due date: 15 h of
    # office time (6 h Fri 19, 7.5 h on the swap Saturday, 1.5 h Mon 22) moves the due to 24 Feb 17:00;
    # done 24 Feb 16:00: on time (without the swap day the due would be 23 Feb 17:00: late)
    *dossier(6, A, 1, vn(2, 18, 9), vn(2, 22, 17), "F1", [(vn(2, 19, 9), 5), (vn(2, 22, 9), 4), (vn(2, 24, 16), 9)]),
    # D7: not accepted (status 3): in no figure
    *dossier(7, A, 1, vn(2, 22, 10), vn(2, 26, 17), "F1", [(vn(2, 22, 11), 3)]),
    # D8: due 3 March, open at the month's end: open in time
    *dossier(8, A, 1, vn(2, 25, 9), vn(3, 3, 17), "F1", [(vn(2, 25, 10), 4)]),
    # D9: done in January: in no February figure
    *dossier(9, A, 1, vn(1, 20, 9), vn(1, 28, 17), "F1", [(vn(1, 27, 9), 9)]),
    # D10: carried; withdrawn by the citizen 2 Feb (due 5 Feb, in Tết): given back then, early by both
    *dossier(10, A, 1, vn(1, 26, 9), vn(2, 5, 17), "F1", [(vn(2, 2, 10), 7)]),
    # -- agency A, field F1, online (channel 2)
    # D4: filed Wed 3 Feb 17:05: counts from Thu 11 Feb 07:30 (after Tết); due Mon 15 Feb 17:00, done Sat 13 Feb:
    # on time by 000 (after the end of Fri 12, before the appointment), early by 004 (an earlier date)
    *dossier(4, A, 2, vn(2, 3, 17, 5), vn(2, 15, 17), "F1", [(vn(2, 11, 8), 2), (vn(2, 13, 10), 9)]),
    # D5: filed Sunday 31 January 20:00: counts from Mon 1 Feb 07:30, received in February; due 19 Feb, open: late
    *dossier(5, A, 2, vn(1, 31, 20), vn(2, 19, 17), "F1", [(vn(2, 1, 8), 2), (vn(2, 1, 9), 4)]),
    # -- agency B, field F3, by post (channel 3)
    # D11: due 26 Feb 17:00, done 1 March (after the month): open and late at the month's end
    *dossier(11, B, 3, vn(2, 26, 16), vn(2, 26, 17), "F3", [(vn(3, 1, 8), 9)], UNIT_B),
    # D12: due 2 Feb 17:00, done 3 Feb 08:00: late by both
    *dossier(12, B, 3, vn(2, 1, 8), vn(2, 2, 17), "F3", [(vn(2, 3, 8), 9)], UNIT_B),
    # D13 (B, online): filed Sunday 28 Feb 10:00: counts from Mon 1 March: not in February
    *dossier(13, B, 2, vn(2, 28, 10), vn(3, 5, 17), "F3", [], UNIT_B),
]


def store(url: str, messages: list[dict[str, Any]] = MESSAGES) -> Engine:
    """Accept ``messages`` into the migrated database at ``url`` (as the intake would); its engine."""
    store_messages(url, messages)
    return create_engine(url)
