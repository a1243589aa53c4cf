"""Wire format of the national public-service portal (DVCQG) adapter, as pydantic v2 models.

Every call is a JSON POST. ``login`` takes ``{username, password}`` and answers ``{session,
error_code}``; every service call carries ``{session, madonvi, service, ...}`` and is answered
``{error_code, message}`` (``"00"`` = success). Codes travel as strings (``"1"``..``"10"``),
booleans as ``"True"``/``"False"``, dates as ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh.

``lienthong schemas export`` regenerates the JSON Schema files in
``schemas/national_dvc/``; a test fails when they drift from these models.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from connectors.national_dvc.catalogue.wire import SCHEMA_MODELS as CATALOGUE_MODELS
from connectors.national_dvc.statistics.wire import DongBoThongKeHoSo
from connectors.national_dvc.wire_types import HANOI, ErrorCode, ServiceAnswer, ServiceCall
from connectors.wire import AnswerModel, WireModel

WIRE_DATE_FORMAT = "%Y%m%d%H%M%S"
SCHEMA_ROOT = Path(__file__).resolve().parents[2] / "schemas"  #: the repository's schemas/
SCHEMA_SUBDIR = "national_dvc"
SCHEMA_DIR = SCHEMA_ROOT / SCHEMA_SUBDIR  #: where the checked-in schema files live

WireDate = Annotated[str, Field(pattern=r"^\d{14}$", description="yyyyMMddHHmmss, Asia/Ho_Chi_Minh")]
StatusCode = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
WireBool = Literal["True", "False"]


def to_wire_date(moment: datetime) -> str:
    """Render an aware datetime as ``yyyyMMddHHmmss`` in Vietnam time (UTC+7)."""
    if moment.tzinfo is None:
        raise ValueError("wire dates need an aware datetime")
    return moment.astimezone(HANOI).strftime(WIRE_DATE_FORMAT)


# --- login ------------------------------------------------------------------------------------


class LoginRequest(WireModel):
    """``POST {adapter_url}/login``."""

    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class LoginAnswer(AnswerModel):
    """``{session, error_code}``; ``session`` is null when the login is refused."""

    session: str | None = None
    error_code: ErrorCode
    message: str | None = None


# --- DongBoHoSoMC -----------------------------------------------------------------------------


class DinhDanh(WireModel):
    """``DinhDanhCHS`` item: an applicant's identity document: 1 = 12-digit personal ID, 2 = 9-digit old ID card."""

    LoaiDinhDanh: Literal["1", "2"]
    SoDinhDanh: str = Field(pattern=r"^(\d{12}|\d{9})$")


class TaiLieu(WireModel):
    """``TaiLieuNop`` item: a document filed with the dossier."""

    TepDinhKemId: str = Field(min_length=1)
    TenTepDinhKem: str = Field(min_length=1)
    IsDeleted: WireBool = "False"
    MaThanhPhanHoSo: str | None = None
    DuongDanTaiTepTin: str | None = None


class LePhi(WireModel):
    """One fee (``LoaiPhiLePhi`` "1") or charge ("2"); ``Gia`` in đồng."""

    TenPhiLePhi: str = Field(min_length=1)
    MaPhiLePhi: str = Field(min_length=1)
    HinhThucThu: str | None = None
    Gia: int = Field(ge=0)
    LoaiPhiLePhi: Literal["1", "2"] = "1"


class HoSoBoSung(WireModel):
    """A request to supplement the dossier and its answer (not produced by the hub yet)."""

    HoSoBoSungId: str = Field(min_length=1)
    NguoiYeuCauBoSung: str | None = None
    NoiDungBoSung: str | None = None
    NgayBoSung: WireDate | None = None
    NguoiTiepNhanBoSung: str | None = None
    ThongTinTiepNhan: str | None = None
    NgayTiepNhanBoSung: WireDate | None = None
    TrangThaiBoSung: str | None = None
    NgayHenTraTruoc: WireDate | None = None
    NgayHenTraMoi: WireDate | None = None


class GiayToKetQua(WireModel):
    """A result document."""

    TenGiayTo: str = Field(min_length=1)
    MaThanhPhanHoSo: str | None = None
    GiayToId: str = Field(min_length=1)
    DuongDanTepTinKetQua: str = Field(min_length=1)


class HoSoUpdate(WireModel):
    """A ``DongBoHoSoMC`` record sent as an update (``isUpdating`` "True"): only ``MaHoSo`` is required."""

    MaHoSo: str = Field(min_length=1, max_length=50)
    MaTTHC: str | None = None
    TenTTHC: str | None = None
    MaLinhVuc: str | None = None
    TenLinhVuc: str | None = None
    SoBienNhan: str | None = None
    ChuHoSo: str | None = None
    LoaiDoiTuong: Literal["1", "2", "3", "4"] | None = None
    MaDoiTuong: str | None = None
    ThongTinKhac: str | None = None
    Email: str | None = None
    Fax: str | None = None
    SoDienThoai: str | None = None
    TrichYeuHoSo: str | None = None
    NgayTiepNhan: WireDate | None = None
    NgayHenTra: WireDate | None = None
    TrangThaiHoSo: StatusCode | None = None
    NgayTra: WireDate | None = None
    ThongTinTra: str | None = None
    HinhThuc: str | None = None
    NgayKetThucXuLy: WireDate | None = None
    DonViXuLy: str | None = None
    GhiChu: str | None = None
    KenhThucHien: Literal["1", "2", "3"] | None = None
    DinhDanhCHS: list[DinhDanh] | None = None
    TaiLieuNop: list[TaiLieu] | None = None
    DanhSachLePhi: list[LePhi] | None = None
    DanhSachHoSoBoSung: list[HoSoBoSung] | None = None
    DanhSachGiayToKetQua: list[GiayToKetQua] | None = None


class HoSoAdd(HoSoUpdate):
    """A ``DongBoHoSoMC`` record sent as an add (``isUpdating`` "False"): the dossier's core is required."""

    MaTTHC: str = Field(min_length=1)
    TenTTHC: str = Field(min_length=1)
    ChuHoSo: str = Field(min_length=1)
    NgayTiepNhan: WireDate
    TrangThaiHoSo: StatusCode
    KenhThucHien: Literal["1", "2", "3"]


class DongBoHoSoMCAdd(ServiceCall):
    """``POST {adapter_url}/DongBoHoSoMC`` adding dossiers."""

    service: Literal["DongBoHoSoMC"] = "DongBoHoSoMC"
    isUpdating: Literal["False"] = "False"
    data: list[HoSoAdd] = Field(min_length=1)


class DongBoHoSoMCUpdate(ServiceCall):
    """``POST {adapter_url}/DongBoHoSoMC`` updating dossiers (fields sent are merged)."""

    service: Literal["DongBoHoSoMC"] = "DongBoHoSoMC"
    isUpdating: Literal["True"] = "True"
    data: list[HoSoUpdate] = Field(min_length=1)


# --- CapNhatTienDoHoSoMC ----------------------------------------------------------------------


class TienDo(WireModel):
    """One progress step of a dossier."""

    MaHoSo: str = Field(min_length=1, max_length=50)
    NguoiXuLy: str = Field(min_length=1)
    ChucDanh: str | None = None
    ThoiDiemXuLy: WireDate
    PhongBanXuLy: str | None = None
    NoiDungXuLy: str = Field(min_length=1)
    TrangThai: StatusCode
    NgayBatDau: WireDate | None = None
    NgayKetThucTheoQuyDinh: WireDate | None = None


class CapNhatTienDoHoSoMC(ServiceCall):
    """``POST {adapter_url}/CapNhatTienDoHoSoMC``."""

    service: Literal["CapNhatTienDoHoSoMC"] = "CapNhatTienDoHoSoMC"
    data: list[TienDo] = Field(min_length=1)


def dump(model: BaseModel) -> dict[str, Any]:
    """A wire model as JSON-ready data, leaving out absent optional fields (never sent as null)."""
    return model.model_dump(mode="json", exclude_none=True)


# --- JSON Schema export -----------------------------------------------------------------------

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "login": LoginRequest,
    "login_answer": LoginAnswer,
    "DongBoHoSoMC_add": DongBoHoSoMCAdd,
    "DongBoHoSoMC_update": DongBoHoSoMCUpdate,
    "CapNhatTienDoHoSoMC": CapNhatTienDoHoSoMC,
    "answer": ServiceAnswer,
    "DongBoThongKeHoSo": DongBoThongKeHoSo,  # statistics/wire.py
}


def all_schema_models() -> dict[str, type[BaseModel]]:
    """The portal's wire calls and its parts' (issue 17: ``catalogue/wire.py``...), by file stem."""
    return {**SCHEMA_MODELS, **CATALOGUE_MODELS}


class OmittedWhenAbsent(GenerateJsonSchema):
    """Schema of what the hub sends: an optional field is left out, never sent as null, so
    ``X | None = None`` is published as plain ``X`` (not ``anyOf [X, null]``) with no default."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def schema_documents(models: dict[str, type[BaseModel]] | None = None) -> dict[str, dict[str, Any]]:
    """The JSON Schema (draft 2020-12) of each wire call (``models``, default this partner's), by file stem."""
    documents = {}
    for name, model in (all_schema_models() if models is None else models).items():
        generator = OmittedWhenAbsent if issubclass(model, WireModel) else GenerateJsonSchema
        schema = model.model_json_schema(schema_generator=generator)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        documents[name] = schema
    return documents


def render_schema(schema: dict[str, Any]) -> str:
    """Pretty, key-sorted JSON with a trailing newline: the checked-in form."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_schemas(directory: Path = SCHEMA_ROOT, models: dict[str, type[BaseModel]] | None = None,
                   subdir: str = SCHEMA_SUBDIR) -> list[Path]:
    """Write ``<directory>/<subdir>/<name>.json`` for each wire call (default: ``national_dvc/``); return the
    paths written."""
    target = directory / subdir
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_documents(models).items():
        path = target / f"{name}.json"
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written


def schema_files() -> dict[str, dict[str, Any]]:
    """Path under ``schemas/`` -> schema, for ``lienthong schemas export`` (the manifest's ``schemas``)."""
    return {f"{SCHEMA_SUBDIR}/{name}.json": schema for name, schema in schema_documents().items()}
