"""Canonical test messages, as partners would send them (JSON dicts)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

HANOI = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 23, 8, 30, tzinfo=HANOI)


def dossier_code(seq: int = 1, day: str = "261123") -> str:
    return f"000.00.00.H49-{day}-{seq:04d}"


def submitted(seq: int = 1, **over: Any) -> dict[str, Any]:
    msg = {
        "message_id": str(uuid.uuid4()),
        "type": "dossier.submitted",
        "source": "motcua",
        "occurred_at": T0.isoformat(),
        "dossier_code": dossier_code(seq),
        "payload": {
            "agency_id": "000.00.00.H49",
            "procedure_code": "2.000477",
            "procedure_name": "Cấp bản sao trích lục hộ tịch",
            "applicant": {"name": "Nguyễn Thị Hằng", "subject_type": 1,
                          "ids": [{"id_type": 1, "number": "001190012345"}]},
            "received_at": T0.isoformat(),
            "due_at": (T0 + timedelta(days=3)).isoformat(),
            "status": 1,
            "channel": 2,
        },
    }
    msg.update(over)
    return msg


def status_changed(seq: int = 1, status: int = 4, step: int = 1, **over: Any) -> dict[str, Any]:
    at = T0 + timedelta(minutes=step)
    msg = {
        "message_id": str(uuid.uuid4()),
        "type": "status.changed",
        "source": "motcua",
        "occurred_at": at.isoformat(),
        "dossier_code": dossier_code(seq),
        "payload": {
            "agency_id": "000.00.00.H49",
            "status": status,
            "handled_at": at.isoformat(),
            "handler_name": "Trần Văn Bình",
            "department": "Phòng Tư pháp",
            "content": f"Bước xử lý số {step}",
        },
    }
    msg.update(over)
    return msg


def question_answered(question: str = "HD-1", **over: Any) -> dict[str, Any]:
    """A notice (no dossier): the one-stop system's answer to a citizen's question."""
    msg = {
        "message_id": str(uuid.uuid4()),
        "type": "question.answered",
        "source": "motcua",
        "occurred_at": T0.isoformat(),
        "subject": f"question:{question}",
        "payload": {"question_id": question, "agency_id": "000.00.00.H49", "answerer_name": "Trần Văn Bình",
                    "answerer_title": "Chuyên viên", "answered_at": T0.isoformat(),
                    "content": "Hồ sơ nộp tại bộ phận một cửa của Ủy ban nhân dân cấp xã."},
    }
    msg.update(over)
    return msg
