"""Canonical → DVCQG wire mapping rules, and that every mapped call fits the published schema."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timezone
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from national_dvc_samples import (
    code,
    fee_notice,
    payment_confirmed,
    result_issued,
    status_changed,
    submitted,
    updated,
)

from connectors.national_dvc.mapping import UnmappableMessage, to_wire
from connectors.national_dvc.wire import SCHEMA_DIR, dump
from hub.messages.codes import DossierStatus


def schema_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMA_DIR / f"{name}.json").read_text("utf-8")))


def test_dossier_code_is_MaHoSo() -> None:
    dossier = code(7)
    for message in (submitted(dossier), updated(dossier), result_issued(dossier), fee_notice(dossier)):
        assert to_wire(message).record.MaHoSo == dossier
    assert to_wire(status_changed(dossier, DossierStatus.ACCEPTED)).record.MaHoSo == dossier


def test_dates_are_sent_as_yyyyMMddHHmmss_in_hanoi_time() -> None:
    late_evening_utc = datetime(2023, 11, 26, 17, 30, 5, tzinfo=timezone.utc)  # 00:30:05 next day in Hà Nội
    message = submitted(code(), received_at=late_evening_utc.isoformat())

    record = to_wire(message).record

    assert record.NgayTiepNhan == "20231127003005"


@pytest.mark.parametrize("status", list(DossierStatus))
def test_status_codes_map_one_to_one_to_TrangThaiHoSo_and_TrangThai(status: DossierStatus) -> None:
    assert to_wire(submitted(code(), status=int(status))).record.TrangThaiHoSo == str(int(status))
    assert to_wire(status_changed(code(), status)).record.TrangThai == str(int(status))


def test_submitted_dossier_is_an_add_and_every_other_dossier_message_an_update() -> None:
    dossier = code()
    assert to_wire(submitted(dossier)).kind == "add"
    assert [to_wire(m).kind for m in (updated(dossier), result_issued(dossier), fee_notice(dossier))] == ["update"] * 3
    assert to_wire(status_changed(dossier, DossierStatus.ACCEPTED)).kind == "progress"


def test_updated_dossier_sends_the_full_record() -> None:
    dossier = code()
    assert dump(to_wire(updated(dossier)).record) == dump(to_wire(submitted(dossier)).record)


def test_submitted_dossier_carries_applicant_documents_and_fees() -> None:
    record = dump(to_wire(submitted(code())).record)

    assert record["ChuHoSo"] == "Nguyễn Thị Hồng Nhung"
    assert record["LoaiDoiTuong"] == "1" and record["KenhThucHien"] == "2"
    assert record["DinhDanhCHS"] == [{"LoaiDinhDanh": "1", "SoDinhDanh": "022190001234"}]
    assert record["MaDoiTuong"] == "022190001234"
    assert record["TaiLieuNop"] == [
        {
            "TepDinhKemId": "tl-1",
            "TenTepDinhKem": "Giấy chứng sinh",
            "IsDeleted": "False",
            "MaThanhPhanHoSo": "TP1",
            "DuongDanTaiTepTin": "https://motcua.example.vn/f/tl-1",
        }
    ]
    assert record["DanhSachLePhi"] == [
        {"TenPhiLePhi": "Lệ phí đăng ký khai sinh", "MaPhiLePhi": "LP-KS", "HinhThucThu": "Trực tuyến", "Gia": 8000, "LoaiPhiLePhi": "1"}
    ]
    assert record["NgayHenTra"] == "20231129091500"


def test_absent_optional_fields_are_left_out_not_sent_as_null() -> None:
    record = dump(to_wire(submitted(code(), note=None, due_at=None, fees=[])).record)
    assert "GhiChu" not in record and "NgayHenTra" not in record and "DanhSachLePhi" not in record
    assert None not in record.values()


def test_result_issued_sends_only_status_return_date_and_result_documents() -> None:
    record = dump(to_wire(result_issued(code())).record)

    assert set(record) == {"MaHoSo", "TrangThaiHoSo", "NgayTra", "ThongTinTra", "DanhSachGiayToKetQua"}
    assert record["TrangThaiHoSo"] == "9"
    assert record["NgayTra"] == "20231128091500"
    assert record["DanhSachGiayToKetQua"] == [
        {
            "TenGiayTo": "Giấy khai sinh (bản điện tử)",
            "MaThanhPhanHoSo": "KQ1",
            "GiayToId": "kq-1",
            "DuongDanTepTinKetQua": "https://motcua.example.vn/kq/kq-1.pdf",
        }
    ]


def test_fee_notice_sends_only_the_fee_list() -> None:
    record = dump(to_wire(fee_notice(code())).record)
    assert set(record) == {"MaHoSo", "DanhSachLePhi"}
    assert record["DanhSachLePhi"][0]["LoaiPhiLePhi"] == "2"


def test_status_change_becomes_one_progress_item() -> None:
    item = dump(to_wire(status_changed(code(), DossierStatus.IN_PROGRESS, minutes=45, content="Thẩm định hồ sơ")).record)
    assert item == {
        "MaHoSo": code(),
        "NguoiXuLy": "Trần Văn Đức",
        "ChucDanh": "Công chức tư pháp - hộ tịch",
        "ThoiDiemXuLy": "20231126100000",
        "PhongBanXuLy": "Bộ phận một cửa",
        "NoiDungXuLy": "Thẩm định hồ sơ",
        "TrangThai": "4",
        "NgayBatDau": "20231126100000",
        "NgayKetThucTheoQuyDinh": "20231129100000",
    }


def test_vietnamese_text_is_sent_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Đăng ký kết hôn")
    record = to_wire(submitted(code(), procedure_name=decomposed)).record
    assert record.TenTTHC == unicodedata.normalize("NFC", "Đăng ký kết hôn")


def test_payment_confirmation_has_no_national_portal_call() -> None:
    payment = payment_confirmed(code())
    with pytest.raises(UnmappableMessage):
        to_wire(payment)


def test_every_mapped_call_validates_against_the_exported_schema() -> None:
    dossier = code()
    envelope: dict[str, Any] = {"session": "phien-thu", "madonvi": "000.00.00.H49"}
    calls = {
        "DongBoHoSoMC_add": {
            **envelope, "service": "DongBoHoSoMC", "isUpdating": "False",
            "data": [dump(to_wire(submitted(dossier)).record)],
        },
        "DongBoHoSoMC_update": {
            **envelope, "service": "DongBoHoSoMC", "isUpdating": "True",
            "data": [dump(to_wire(m).record) for m in (updated(dossier), result_issued(dossier), fee_notice(dossier))],
        },
        "CapNhatTienDoHoSoMC": {
            **envelope, "service": "CapNhatTienDoHoSoMC",
            "data": [dump(to_wire(status_changed(dossier, s)).record) for s in DossierStatus],
        },
        "login": {"username": "lienthong", "password": "sandbox-password"},
    }
    for name, body in calls.items():
        errors = [e.message for e in schema_validator(name).iter_errors(body)]
        assert errors == [], name


def test_exported_schema_refuses_an_add_without_core_fields_but_accepts_a_bare_update() -> None:
    bare = {"session": "s", "madonvi": "000.00.00.H49", "service": "DongBoHoSoMC", "data": [{"MaHoSo": code()}]}
    assert not schema_validator("DongBoHoSoMC_add").is_valid({**bare, "isUpdating": "False"})
    assert schema_validator("DongBoHoSoMC_update").is_valid({**bare, "isUpdating": "True"})
