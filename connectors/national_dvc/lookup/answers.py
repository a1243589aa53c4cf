"""A dossier's state in the three shapes the look-up answers: the portal's (``TraCuuHoSo``), the
hub's canonical JSON for partners, and the public minimum. Every shape shows the applicant's name
masked (:mod:`.mask`) and nothing else of the applicant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.national_dvc.dossiers import Dossier
from connectors.national_dvc.lookup.mask import mask_name
from connectors.national_dvc.wire import to_wire_date
from connectors.national_dvc.wire_types import HANOI

#: English names of the statuses (TrangThaiHoSo), for the public page in English.
STATUS_NAMES_EN: dict[int, str] = {
    1: "Newly registered", 2: "Accepted", 3: "Not accepted", 4: "Being processed", 5: "Supplement requested",
    6: "Financial obligation requested", 7: "Withdrawn at the applicant's request", 8: "Processing stopped",
    9: "Processed", 10: "Result returned",
}

# The portal's answer codes (error_code), as its adapter uses them (connectors/national_dvc/README.md).
OK, INVALID, NOT_FOUND, NOT_ALLOWED = "00", "02", "04", "05"


def ended(d: Dossier) -> datetime | None:
    """When the dossier's handling ended: its result (finished), or its end without one."""
    return d.finished_at or d.ended_at


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(HANOI).isoformat() if moment is not None else None


def portal_answer(d: Dossier) -> dict[str, Any]:
    """``TraCuuHoSo``'s answer for a dossier the hub holds: the adapter's field names, its dates
    (``yyyyMMddHHmmss``, Vietnam time) and codes as strings; absent fields left out."""
    data: dict[str, Any] = {"MaHoSo": d.code, "ChuHoSo": mask_name(d.applicant_name),
                            "MaTTHC": d.procedure_code, "TenTTHC": d.procedure_name}
    if d.field_code:
        data["MaLinhVuc"] = d.field_code
    if d.field_name:
        data["TenLinhVuc"] = d.field_name
    if d.received_at is not None:
        data["NgayTiepNhan"] = to_wire_date(d.received_at)
    if d.due_at is not None:
        data["NgayHenTra"] = to_wire_date(d.due_at)
    if d.status is not None:
        data["TrangThaiHoSo"] = str(d.status)
        data["TenTrangThaiHoSo"] = d.status_name
    end = ended(d)
    if end is not None:
        data["NgayKetThucXuLy"] = to_wire_date(end)
    return {"error_code": OK, "message": "Thành công", "data": data}


def portal_refusal(code: str, message: str) -> dict[str, Any]:
    """The portal's answer when there is nothing to show (``04`` not found, ``02`` a bad request...)."""
    return {"error_code": code, "message": message}


def partner_answer(d: Dossier) -> dict[str, Any]:
    """``GET /v1/dossiers/{code}/status``: the hub's own field names, ISO 8601 dates in Vietnam time."""
    return {
        "dossier_code": d.code,
        "agency_id": d.agency_id,
        "applicant_name": mask_name(d.applicant_name),
        "field_code": d.field_code,
        "field_name": d.field_name,
        "procedure_code": d.procedure_code,
        "procedure_name": d.procedure_name,
        "channel": d.channel,
        "received_at": _iso(d.received_at),
        "due_at": _iso(d.due_at),
        "status": d.status,
        "status_name": d.status_name,
        "waiting_for_supplement": bool(d.paused and d.paused[-1][1] is None),
        "finished_at": _iso(ended(d)),
    }


def public_answer(d: Dossier) -> dict[str, Any]:
    """``GET /v1/public/dossiers/{code}``: the minimum a citizen needs to follow their dossier."""
    return {
        "dossier_code": d.code,
        "applicant_name": mask_name(d.applicant_name),
        "procedure_name": d.procedure_name,
        "status": d.status,
        "status_name": d.status_name,
        "received_at": _iso(d.received_at),
        "due_at": _iso(d.due_at),
        "finished_at": _iso(ended(d)),
    }
