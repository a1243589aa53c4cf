"""Wire format of the national payment platform (v1.0.6), as pydantic v2 models.

Every message is a JSON POST whose ``LoaiBanTin`` names it: ``INIT`` (open a payment, answered with
the payment page's URL), ``QUERY`` (a payment's state: ``TrangThaiGD`` 1 paid, 3 pending, 4 failed),
``GET_BILL`` (the receipt data), and the platform's confirmation callback to the province, answered
``{MaLoi, MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD, MaXacThuc}``. Every message carries its
``MaXacThuc`` checksum (:mod:`.checksum`). Amounts (``SoTien``) are whole đồng, sent as digit
strings (numbers are accepted); dates are ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh.

``lienthong schemas export`` (``make schemas``) regenerates ``schemas/national_payment/``; a
test fails when they drift from these models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from connectors.national_dvc.wire import SCHEMA_ROOT, WireDate, export_schemas, schema_documents
from connectors.national_dvc.wire_types import ErrorCode
from connectors.wire import AnswerModel, WireModel

PHIEN_BAN = "1.0.6"
SCHEMA_SUBDIR = "national_payment"
SCHEMA_DIR = SCHEMA_ROOT / SCHEMA_SUBDIR

# MaLoi. "00" is the specification's; the others are the codes this hub and its simulator use
# (the specification's own list is not public): documented in README.md.
OK = "00"
CHECKSUM_MISMATCH = "01"
INVALID = "02"
WRONG_PARTNER = "03"
UNKNOWN_REFERENCE = "04"
NOT_ALLOWED = "05"
OUT_OF_WINDOW = "06"
REFERENCE_EXISTS = "07"  #: INIT of a reference the platform already holds as paid or failed (no new payment opened)
INTERNAL_ERROR = "99"
MESSAGES: dict[str, str] = {
    OK: "Thành công",
    CHECKSUM_MISMATCH: "Sai mã xác thực (MaXacThuc)",
    INVALID: "Dữ liệu không hợp lệ",
    WRONG_PARTNER: "Sai mã đối tác (MaDoiTac)",
    UNKNOWN_REFERENCE: "Không tìm thấy giao dịch (MaThamChieu)",
    NOT_ALLOWED: "Địa chỉ gửi không được phép",
    OUT_OF_WINDOW: "Thời gian giao dịch (ThoiGianGD) ngoài khoảng cho phép",
    REFERENCE_EXISTS: "Mã tham chiếu (MaThamChieu) đã tồn tại",
    INTERNAL_ERROR: "Lỗi hệ thống, vui lòng gửi lại",
}

PAID, PENDING, FAILED = "1", "3", "4"  #: TrangThaiGD


def _digits(value: Any) -> Any:
    """Numbers travel as strings; accept a JSON number and keep its decimal text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


Amount = Annotated[str, BeforeValidator(_digits), Field(pattern=r"^\d{1,15}$", description="Whole đồng, as digits")]
Checksum = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="MaXacThuc: SHA-256 hex")]


# --- receipt ----------------------------------------------------------------------------------


class KhoanPhi(AnswerModel):
    """One fee (``LoaiPhiLePhi`` "1") or charge ("2") on the receipt."""

    LoaiPhiLePhi: Annotated[Literal["1", "2"], BeforeValidator(_digits)]
    MaPhiLePhi: str = Field(min_length=1)
    TenPhiLePhi: str = Field(min_length=1)
    SoTien: Amount


class BienLai(AnswerModel):
    """``ThongTinBienLai``, the receipt data: which dossier, procedure and agency the payment is for, and its fees.

    Sent with INIT, echoed in the callback and answered by GET_BILL; the platform adds fields of its
    own (names of the procedure and agency, the payer...), which are kept."""

    MaHoSo: str = Field(min_length=1)
    MaTTHC: str = Field(min_length=1)
    MaDonVi: str = Field(min_length=1)
    PhiLePhi: list[KhoanPhi] = Field(min_length=1)
    TenTTHC: str | None = None
    TenDonVi: str | None = None
    HoTenNguoiNop: str | None = None
    NoiDungThanhToan: str | None = None


# --- INIT -------------------------------------------------------------------------------------


class InitRequest(WireModel):
    """``INIT``: open a payment; the citizen is sent to the answered ``UrlThanhToan``."""

    LoaiBanTin: Literal["INIT"] = "INIT"
    PhienBan: str = PHIEN_BAN
    MaDoiTac: str = Field(min_length=1, max_length=50)
    MaThamChieu: str = Field(min_length=1, max_length=100)
    SoTien: Amount
    LoaiHinhThanhToan: str = "PAY"
    MaKenhThanhToan: str = "1"
    MaThietBi: str = "1"
    NgonNgu: str = "vi"
    MaTienTe: str = "VND"
    MaNganHang: str = ""
    ThongTinGiaoDich: str = Field(min_length=1, max_length=500)
    ThoiGianGD: WireDate
    Ip: str = Field(min_length=1)
    ThongTinBienLai: BienLai
    MaXacThuc: Checksum


class InitAnswer(AnswerModel):
    """``MaLoi`` "00" with the payment page's URL, else the refusal."""

    MaLoi: ErrorCode
    MoTaLoi: str = ""
    MaThamChieu: str | None = None
    UrlThanhToan: str | None = None


# --- QUERY and GET_BILL -----------------------------------------------------------------------


class Lookup(WireModel):
    """Fields of QUERY and GET_BILL."""

    PhienBan: str = PHIEN_BAN
    MaDoiTac: str = Field(min_length=1, max_length=50)
    MaThamChieu: str = Field(min_length=1, max_length=100)
    ThoiGianGD: WireDate
    MaXacThuc: Checksum


class QueryRequest(Lookup):
    """``QUERY``: the state of the payment ``MaThamChieu``."""

    LoaiBanTin: Literal["QUERY"] = "QUERY"


class QueryAnswer(AnswerModel):
    """``TrangThaiGD``: "1" paid, "3" pending, "4" failed."""

    MaLoi: ErrorCode
    MoTaLoi: str = ""
    MaThamChieu: str | None = None
    TrangThaiGD: Annotated[Literal["1", "3", "4"], BeforeValidator(_digits)] | None = None
    MaGiaoDich: str | None = None
    SoTien: Amount | None = None
    MaNganHang: str | None = None
    ThoiGianGD: str | None = None


class GetBillRequest(Lookup):
    """``GET_BILL``: the receipt data of the payment ``MaThamChieu``."""

    LoaiBanTin: Literal["GET_BILL"] = "GET_BILL"


class GetBillAnswer(AnswerModel):
    """The receipt of a paid payment: the receipt data sent with INIT (``ThongTinBienLai``) and the
    electronic receipt the platform issued for it: number ``SoBienLai``, series ``KyHieuBienLai``,
    date ``NgayBienLai``, for ``SoTien`` paid by ``MaGiaoDich`` (and ``UrlBienLai``, where it is shown).
    The names of the receipt's own fields are this hub's assumption (README.md)."""

    MaLoi: ErrorCode
    MoTaLoi: str = ""
    MaThamChieu: str | None = None
    MaGiaoDich: str | None = None
    SoTien: Amount | None = None
    SoBienLai: str | None = Field(None, max_length=100)
    KyHieuBienLai: str | None = Field(None, max_length=50)
    NgayBienLai: WireDate | None = None
    UrlBienLai: str | None = Field(None, max_length=500)
    ThongTinBienLai: BienLai | None = None


# --- confirmation callback --------------------------------------------------------------------


class Callback(AnswerModel):
    """The platform's confirmation of a payment, posted to the province. ``MaLoi`` "00": paid."""

    LoaiBanTin: str = Field(min_length=1)
    MaLoi: ErrorCode
    MaDoiTac: str = Field(min_length=1)
    MaThamChieu: str = Field(min_length=1, max_length=100)
    SoTien: Amount
    MaTienTe: str = "VND"
    MaGiaoDich: str = Field(min_length=1, max_length=100)
    MaNganHang: str = ""
    ThoiGianGD: WireDate
    ThongTinGiaoDich: str = ""
    ThongTinBienLai: BienLai | None = None
    MaXacThuc: Checksum


class CallbackReply(WireModel):
    """The province's answer to a callback; ``MaLoi`` "00": received (the platform stops resending)."""

    MaLoi: str
    MoTaLoi: str
    MaDoiTac: str
    MaThamChieu: str
    ThoiGianGD: str
    MaXacThuc: Checksum | Literal[""] = Field(description='"" when the callback failed authentication (see README)')


SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "INIT": InitRequest,
    "INIT_answer": InitAnswer,
    "QUERY": QueryRequest,
    "QUERY_answer": QueryAnswer,
    "GET_BILL": GetBillRequest,
    "GET_BILL_answer": GetBillAnswer,
    "callback": Callback,
    "callback_reply": CallbackReply,
}


def export(directory: Path = SCHEMA_ROOT) -> list[Path]:
    """Write ``<directory>/national_payment/<name>.json`` for each message; return the paths written."""
    return export_schemas(directory, SCHEMA_MODELS, SCHEMA_SUBDIR)


def schema_files() -> dict[str, dict[str, Any]]:
    """Path under ``schemas/`` -> schema, for ``lienthong schemas export`` (the manifest's ``schemas``)."""
    return {f"{SCHEMA_SUBDIR}/{name}.json": schema for name, schema in schema_documents(SCHEMA_MODELS).items()}
