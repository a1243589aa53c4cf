"""Canonical messages → DVCQG wire records. Pure functions, no I/O.

Which call each message type becomes:

================== ====================== ============ =========================================
canonical type     service                isUpdating   record
================== ====================== ============ =========================================
dossier.submitted  DongBoHoSoMC           "False"      full dossier (:func:`dossier_record`)
dossier.updated    DongBoHoSoMC           "True"       full dossier (:func:`dossier_record`)
result.issued      DongBoHoSoMC           "True"       MaHoSo, TrangThaiHoSo, NgayTra,
                                                       ThongTinTra, DanhSachGiayToKetQua
fee.notice         DongBoHoSoMC           "True"       MaHoSo, DanhSachLePhi
status.changed     CapNhatTienDoHoSoMC    —            one progress item (:func:`progress_item`)
================== ====================== ============ =========================================

Everywhere: ``MaHoSo`` = envelope ``dossier_code``; status codes map 1:1 to ``TrangThaiHoSo`` /
``TrangThai`` (``"1"``..``"10"``); dates are ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh; absent
optional values are left out of the JSON rather than sent as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from connectors.national_dvc.wire import (
    DinhDanh,
    GiayToKetQua,
    HoSoAdd,
    HoSoUpdate,
    LePhi,
    TaiLieu,
    TienDo,
    to_wire_date,
)
from hub.messages.models import (
    Attachment,
    DossierPayload,
    DossierSubmitted,
    DossierUpdated,
    Envelope,
    Fee,
    FeeNotice,
    ResultDocument,
    ResultIssued,
    StatusChanged,
)

CallKind = Literal["add", "update", "progress"]
SERVICE_OF: dict[CallKind, str] = {"add": "DongBoHoSoMC", "update": "DongBoHoSoMC", "progress": "CapNhatTienDoHoSoMC"}


@dataclass(frozen=True, slots=True)
class WireItem:
    """One record ready to send: which call carries it (``kind``) and the record itself."""

    kind: CallKind
    record: HoSoAdd | HoSoUpdate | TienDo


class UnmappableMessage(ValueError):
    """The message type has no DVCQG counterpart."""


def code(value: IntEnum | int) -> str:
    """Integer code → the string the portal expects (``DossierStatus.DONE`` → ``"9"``)."""
    return str(int(value))


BY_POST = "1"  #: ``HinhThuc``: the result goes to the citizen by post (DOMAIN.md, "Postal operator")


def dossier_record(dossier_code: str, dossier: DossierPayload) -> dict[str, object]:
    """The full ``DongBoHoSoMC`` record of a dossier, as keyword arguments for a wire model.

    ======================= =====================================================
    wire field              canonical source
    ======================= =====================================================
    MaHoSo                  envelope.dossier_code
    MaTTHC / TenTTHC        procedure_code / procedure_name
    MaLinhVuc / TenLinhVuc  field_code / field_name
    SoBienNhan              receipt_number
    ChuHoSo                 applicant.name
    LoaiDoiTuong            applicant.subject_type
    MaDoiTuong              applicant.ids[0].number (if any)
    ThongTinKhac            "Địa chỉ: " + applicant.address (if any)
    Email / SoDienThoai     applicant.email / applicant.phone
    TrichYeuHoSo            summary
    NgayTiepNhan            received_at
    NgayHenTra              due_at
    TrangThaiHoSo           status
    DonViXuLy               handling_unit
    GhiChu                  note
    KenhThucHien            channel
    DinhDanhCHS             applicant.ids → {LoaiDinhDanh: id_type, SoDinhDanh: number}
    TaiLieuNop              attachments (:func:`attachment`)
    DanhSachLePhi           fees (:func:`fee`)
    HinhThuc                "1" when the citizen chose the result by post (result_by_post)
    ======================= =====================================================

    Not sent (no canonical source): Fax, NgayTra, ThongTinTra, NgayKetThucXuLy,
    DanhSachHoSoBoSung, DanhSachGiayToKetQua.
    """
    applicant = dossier.applicant
    return {
        "MaHoSo": dossier_code,
        "MaTTHC": dossier.procedure_code,
        "TenTTHC": dossier.procedure_name,
        "MaLinhVuc": dossier.field_code,
        "TenLinhVuc": dossier.field_name,
        "SoBienNhan": dossier.receipt_number,
        "ChuHoSo": applicant.name,
        "LoaiDoiTuong": code(applicant.subject_type),
        "MaDoiTuong": applicant.ids[0].number if applicant.ids else None,
        "ThongTinKhac": f"Địa chỉ: {applicant.address}" if applicant.address else None,
        "Email": applicant.email,
        "SoDienThoai": applicant.phone,
        "TrichYeuHoSo": dossier.summary,
        "NgayTiepNhan": to_wire_date(dossier.received_at),
        "NgayHenTra": to_wire_date(dossier.due_at) if dossier.due_at else None,
        "TrangThaiHoSo": code(dossier.status),
        "DonViXuLy": dossier.handling_unit,
        "GhiChu": dossier.note,
        "KenhThucHien": code(dossier.channel),
        "DinhDanhCHS": [DinhDanh(LoaiDinhDanh=code(i.id_type), SoDinhDanh=i.number) for i in applicant.ids] or None,
        "TaiLieuNop": [attachment(a) for a in dossier.attachments] or None,
        "DanhSachLePhi": [fee(f) for f in dossier.fees] or None,
        "HinhThuc": BY_POST if dossier.result_by_post is not None else None,
    }


def attachment(item: Attachment) -> TaiLieu:
    """``TepDinhKemId`` = id, ``TenTepDinhKem`` = name, ``IsDeleted`` = deleted ("True"/"False"),
    ``MaThanhPhanHoSo`` = component_code, ``DuongDanTaiTepTin`` = url."""
    return TaiLieu(
        TepDinhKemId=item.id,
        TenTepDinhKem=item.name,
        IsDeleted="True" if item.deleted else "False",
        MaThanhPhanHoSo=item.component_code,
        DuongDanTaiTepTin=str(item.url) if item.url else None,
    )


def fee(item: Fee) -> LePhi:
    """``TenPhiLePhi`` = name, ``MaPhiLePhi`` = code, ``HinhThucThu`` = method, ``Gia`` = amount (đồng),
    ``LoaiPhiLePhi`` = kind (1 fee, 2 charge)."""
    return LePhi(
        TenPhiLePhi=item.name,
        MaPhiLePhi=item.code,
        HinhThucThu=item.method,
        Gia=item.amount,
        LoaiPhiLePhi=code(item.kind),
    )


def result_document(item: ResultDocument) -> GiayToKetQua:
    """``TenGiayTo`` = name, ``MaThanhPhanHoSo`` = component_code, ``GiayToId`` = document_id,
    ``DuongDanTepTinKetQua`` = url. The SHA-256 has no wire field and is not sent."""
    return GiayToKetQua(
        TenGiayTo=item.name,
        MaThanhPhanHoSo=item.component_code,
        GiayToId=item.document_id,
        DuongDanTepTinKetQua=str(item.url),
    )


def submitted_record(message: DossierSubmitted) -> HoSoAdd:
    """``dossier.submitted`` → ``DongBoHoSoMC`` add record (isUpdating "False")."""
    return HoSoAdd(**dossier_record(message.dossier_code, message.payload))


def updated_record(message: DossierUpdated) -> HoSoUpdate:
    """``dossier.updated`` → ``DongBoHoSoMC`` update record carrying the full dossier."""
    return HoSoUpdate(**dossier_record(message.dossier_code, message.payload))


def result_record(message: ResultIssued) -> HoSoUpdate:
    """``result.issued`` → update record: MaHoSo, TrangThaiHoSo = status (9 or 10), NgayTra =
    issued_at, ThongTinTra = note (if any), DanhSachGiayToKetQua = documents (none for a paper result),
    HinhThuc = "1" when the paper result goes by post."""
    payload = message.payload
    return HoSoUpdate(
        MaHoSo=message.dossier_code,
        TrangThaiHoSo=code(payload.status),
        NgayTra=to_wire_date(payload.issued_at),
        ThongTinTra=payload.note,
        DanhSachGiayToKetQua=[result_document(d) for d in payload.documents] or None,
        HinhThuc=BY_POST if payload.by_post is not None else None,
    )


def fee_record(message: FeeNotice) -> HoSoUpdate:
    """``fee.notice`` → update record: MaHoSo, DanhSachLePhi = fees."""
    return HoSoUpdate(MaHoSo=message.dossier_code, DanhSachLePhi=[fee(f) for f in message.payload.fees])


def progress_item(message: StatusChanged) -> TienDo:
    """``status.changed`` → ``CapNhatTienDoHoSoMC`` item.

    ======================== ==========================
    wire field               canonical source
    ======================== ==========================
    MaHoSo                   envelope.dossier_code
    NguoiXuLy / ChucDanh     handler_name / handler_title
    ThoiDiemXuLy             handled_at
    PhongBanXuLy             department
    NoiDungXuLy              content
    TrangThai                status
    NgayBatDau               started_at
    NgayKetThucTheoQuyDinh   due_at
    ======================== ==========================
    """
    payload = message.payload
    return TienDo(
        MaHoSo=message.dossier_code,
        NguoiXuLy=payload.handler_name,
        ChucDanh=payload.handler_title,
        ThoiDiemXuLy=to_wire_date(payload.handled_at),
        PhongBanXuLy=payload.department,
        NoiDungXuLy=payload.content,
        TrangThai=code(payload.status),
        NgayBatDau=to_wire_date(payload.started_at) if payload.started_at else None,
        NgayKetThucTheoQuyDinh=to_wire_date(payload.due_at) if payload.due_at else None,
    )


def to_wire(message: Envelope) -> WireItem:
    """Map one canonical message to the record and call that carry it; raise :class:`UnmappableMessage`."""
    if isinstance(message, DossierSubmitted):
        return WireItem("add", submitted_record(message))
    if isinstance(message, DossierUpdated):
        return WireItem("update", updated_record(message))
    if isinstance(message, ResultIssued):
        return WireItem("update", result_record(message))
    if isinstance(message, FeeNotice):
        return WireItem("update", fee_record(message))
    if isinstance(message, StatusChanged):
        return WireItem("progress", progress_item(message))
    raise UnmappableMessage(f"message type {getattr(message, 'type', type(message).__name__)!r} has no DVCQG call")

