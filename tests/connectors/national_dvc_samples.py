"""Canonical test messages for the national portal connector, built with the hub's own models."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from hub.messages.codes import DossierStatus
from hub.messages.models import (
    DossierSubmitted,
    DossierUpdated,
    FeeNotice,
    PaymentConfirmed,
    ResultIssued,
    StatusChanged,
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime(2023, 11, 26, 9, 15, tzinfo=HANOI)
_ids = count(1)


def code(sequence: int = 1) -> str:
    """A dossier code of Quảng Ninh People's Committee received on 26/11/2023."""
    return f"000.00.00.H49-231126-{sequence:04d}"


def _envelope(kind: str, dossier_code: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "message_id": f"motcua-{next(_ids)}",
        "source": "motcua",
        "occurred_at": RECEIVED.isoformat(),
        "dossier_code": dossier_code,
        "payload": payload,
    }


def dossier_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "agency_id": "000.00.00.H49",
        "procedure_code": "2.000477",
        "procedure_name": "Đăng ký khai sinh",
        "field_code": "HT",
        "field_name": "Hộ tịch",
        "receipt_number": "BN-0001",
        "applicant": {
            "name": "Nguyễn Thị Hồng Nhung",
            "subject_type": 1,
            "ids": [{"id_type": 1, "number": "022190001234"}],
            "phone": "0912345678",
            "email": "nhung@example.vn",
            "address": "Phường Hồng Gai, thành phố Hạ Long",
        },
        "summary": "Đăng ký khai sinh cho con thứ hai",
        "received_at": RECEIVED.isoformat(),
        "due_at": (RECEIVED + timedelta(days=3)).isoformat(),
        "status": int(DossierStatus.NEW),
        "channel": 2,
        "handling_unit": "UBND phường Hồng Gai",
        "note": "Nộp trực tuyến",
        "attachments": [
            {"id": "tl-1", "name": "Giấy chứng sinh", "component_code": "TP1", "url": "https://motcua.example.vn/f/tl-1"}
        ],
        "fees": [{"code": "LP-KS", "name": "Lệ phí đăng ký khai sinh", "amount": 8000, "kind": 1, "method": "Trực tuyến"}],
    }
    payload.update(changes)
    return payload


def submitted(dossier_code: str, **changes: Any) -> DossierSubmitted:
    return DossierSubmitted.model_validate(_envelope("dossier.submitted", dossier_code, dossier_payload(**changes)))


def updated(dossier_code: str, **changes: Any) -> DossierUpdated:
    return DossierUpdated.model_validate(_envelope("dossier.updated", dossier_code, dossier_payload(**changes)))


def status_changed(
    dossier_code: str, status: DossierStatus, minutes: int = 30, content: str = "Tiếp nhận hồ sơ"
) -> StatusChanged:
    handled = RECEIVED + timedelta(minutes=minutes)
    payload = {
        "agency_id": "000.00.00.H49",
        "status": int(status),
        "handled_at": handled.isoformat(),
        "handler_name": "Trần Văn Đức",
        "handler_title": "Công chức tư pháp - hộ tịch",
        "department": "Bộ phận một cửa",
        "content": content,
        "started_at": handled.isoformat(),
        "due_at": (handled + timedelta(days=3)).isoformat(),
    }
    return StatusChanged.model_validate(_envelope("status.changed", dossier_code, payload))


def result_issued(dossier_code: str) -> ResultIssued:
    payload = {
        "agency_id": "000.00.00.H49",
        "issued_at": (RECEIVED + timedelta(days=2)).isoformat(),
        "status": int(DossierStatus.DONE),
        "documents": [
            {
                "document_id": "kq-1",
                "name": "Giấy khai sinh (bản điện tử)",
                "component_code": "KQ1",
                "url": "https://motcua.example.vn/kq/kq-1.pdf",
                "sha256": "a" * 64,
            }
        ],
        "note": "Trả kết quả trực tuyến",
    }
    return ResultIssued.model_validate(_envelope("result.issued", dossier_code, payload))


def fee_notice(dossier_code: str) -> FeeNotice:
    payload = {
        "agency_id": "000.00.00.H49",
        "procedure_code": "2.000477",
        "fees": [{"code": "LP-BS", "name": "Phí cấp bản sao trích lục", "amount": 8000, "kind": 2}],
    }
    return FeeNotice.model_validate(_envelope("fee.notice", dossier_code, payload))


def payment_confirmed(dossier_code: str) -> PaymentConfirmed:
    """A message type the national portal connector does not carry."""
    payload = {
        "agency_id": "000.00.00.H49",
        "procedure_code": "2.000477",
        "reference": "REF-1",
        "transaction_id": "TX-1",
        "amount": 8000,
        "paid_at": RECEIVED.isoformat(),
    }
    return PaymentConfirmed.model_validate(_envelope("payment.confirmed", dossier_code, payload))
