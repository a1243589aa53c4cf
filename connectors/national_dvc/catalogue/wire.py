"""Wire format of the national catalogue's services (``LayDanhSachTTHC``, ``LayThuTuc``,
``LayDanhMucCoQuan``, ``LayDanhMucLinhVuc``), as pydantic models in the style of ``../wire.py``.

Requests carry the portal session like every service call (``{session, madonvi, service, ...}``);
answers are ``{error_code, message, result: [...]}``: the data is under ``result``, a list (one item
for ``LayThuTuc``), as open one-stop systems (OpenCPS) read it. Answers are tolerant (the portal adds
fields without notice); codes and amounts may come as strings or numbers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from connectors.national_dvc.wire_types import ServiceAnswer, ServiceCall
from connectors.wire import AnswerModel

#: A national procedure code (``2.000477``) or a provincial one (``2.000477.000.00.00.H56``).
PROCEDURE_CODE = r"^\d\.\d{6}(\.\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})?$"


def _text(value: Any) -> Any:
    """Numbers the portal sends where text is meant (``"KENH": 2``) become text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _amount(value: Any) -> Any:
    """``SOTIEN`` as the portal writes it: ``50000``, ``"50000"``, ``"50.000"``."""
    if isinstance(value, str):
        digits = value.replace(".", "").replace(",", "").strip()
        return int(digits) if digits.isdigit() else value
    return value


WireText = Annotated[str, BeforeValidator(_text)]


# --- requests -----------------------------------------------------------------------------------


class LayDanhSachTTHC(ServiceCall):
    """``POST {adapter_url}/LayDanhSachTTHC``: every procedure of the national catalogue."""

    service: Literal["LayDanhSachTTHC"] = "LayDanhSachTTHC"


class LayThuTuc(ServiceCall):
    """``POST {adapter_url}/LayThuTuc``: one procedure in full."""

    service: Literal["LayThuTuc"] = "LayThuTuc"
    maTTHC: str = Field(pattern=PROCEDURE_CODE)


class LayDanhMucCoQuan(ServiceCall):
    """``POST {adapter_url}/LayDanhMucCoQuan``: the agencies."""

    service: Literal["LayDanhMucCoQuan"] = "LayDanhMucCoQuan"


class LayDanhMucLinhVuc(ServiceCall):
    """``POST {adapter_url}/LayDanhMucLinhVuc``: the fields (lĩnh vực)."""

    service: Literal["LayDanhMucLinhVuc"] = "LayDanhMucLinhVuc"


# --- answers ------------------------------------------------------------------------------------


class ThuTucItem(AnswerModel):
    """An item of ``LayDanhSachTTHC``."""

    MATTHC: WireText
    TENTTHC: WireText


class PhiLePhi(AnswerModel):
    """A fee of a channel's time entry (``PHILEPHI``): ``SOTIEN`` in đồng."""

    MAPHILEPHI: WireText
    SOTIEN: Annotated[int, BeforeValidator(_amount), Field(ge=0)]
    DONVI: WireText | None = None
    MOTA: WireText | None = None


class ThoiGian(AnswerModel):
    """A channel's time entry (``THOIGIAN``): the time limit and the fees."""

    THOIGIANGIAIQUYET: WireText | None = None
    DONVITINH: WireText | None = None
    MOTA: WireText | None = None
    PHILEPHI: list[PhiLePhi] = Field(default_factory=list)


class CachThucThucHien(AnswerModel):
    """``CACHTHUCTHUCHIEN``: a channel (``KENH`` 1 in person, 2 online, 3 post) and its time entries."""

    KENH: Annotated[Literal["1", "2", "3"], BeforeValidator(_text)]
    THOIGIAN: list[ThoiGian] = Field(default_factory=list)


class GiayTo(AnswerModel):
    """A paper of the dossier (``THANHPHANHOSO.GIAYTO``)."""

    MAGIAYTO: WireText
    TENGIAYTO: WireText
    TENMAUDON: WireText | None = None
    URL: WireText | None = None


class ThanhPhanHoSo(AnswerModel):
    """``THANHPHANHOSO``: a group of papers."""

    GIAYTO: list[GiayTo] = Field(default_factory=list)


class LinhVuc(AnswerModel):
    """``LINHVUCTHUCHIEN`` item."""

    MALINHVUC: WireText
    TENLINHVUC: WireText | None = None


class CoQuan(AnswerModel):
    """``COQUANTHUCHIEN`` item."""

    MADONVI: WireText
    TENDONVI: WireText | None = None


class CanCuPhapLy(AnswerModel):
    """``CANCUPHAPLY`` item: a legal document the procedure rests on. ``NGAYBANHANH`` ``dd/MM/yyyy``.
    (The field names of these items are the hub's assumption; see the README.)"""

    SOVANBAN: WireText
    TENVANBAN: WireText | None = None
    NGAYBANHANH: WireText | None = None


class ThuTuc(AnswerModel):
    """A procedure in full (``LayThuTuc``'s ``result[0]``)."""

    MATTHC: WireText
    TENTTHC: WireText
    MACOQUANCONGBO: WireText | None = None
    TRANGTHAI: Annotated[str, BeforeValidator(_text)] = "1"
    LINHVUCTHUCHIEN: list[LinhVuc] = Field(default_factory=list)
    CACHTHUCTHUCHIEN: list[CachThucThucHien] = Field(default_factory=list)
    THANHPHANHOSO: list[ThanhPhanHoSo] = Field(default_factory=list)
    COQUANTHUCHIEN: list[CoQuan] = Field(default_factory=list)
    KETQUATHUCHIEN: Any = None
    CANCUPHAPLY: list[CanCuPhapLy] = Field(default_factory=list)
    DOITUONGTHUCHIEN: Any = None


class DonVi(AnswerModel):
    """An agency (``LayDanhMucCoQuan``)."""

    MADONVI: WireText
    TENDONVI: WireText
    CAPDONVI: WireText | None = None


class LinhVucDanhMuc(AnswerModel):
    """A field (``LayDanhMucLinhVuc``)."""

    MALINHVUC: WireText
    TENLINHVUC: WireText
    MANGANH: WireText | None = None


class DanhSachTTHCAnswer(ServiceAnswer):
    """``LayDanhSachTTHC``'s answer: the catalogue's procedures."""

    result: list[ThuTucItem] = Field(default_factory=list)


class ThuTucAnswer(ServiceAnswer):
    """``LayThuTuc``'s answer: the procedure (its first item)."""

    result: list[ThuTuc] = Field(default_factory=list)


class CoQuanAnswer(ServiceAnswer):
    """``LayDanhMucCoQuan``'s answer: the agencies."""

    result: list[DonVi] = Field(default_factory=list)


class LinhVucAnswer(ServiceAnswer):
    """``LayDanhMucLinhVuc``'s answer: the fields."""

    result: list[LinhVucDanhMuc] = Field(default_factory=list)


#: Exported beside the portal's own schemas (``schemas/national_dvc/``); the simulator validates
#: requests against the request files.
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "LayDanhSachTTHC": LayDanhSachTTHC,
    "LayDanhSachTTHC_answer": DanhSachTTHCAnswer,
    "LayThuTuc": LayThuTuc,
    "LayThuTuc_answer": ThuTucAnswer,
    "LayDanhMucCoQuan": LayDanhMucCoQuan,
    "LayDanhMucCoQuan_answer": CoQuanAnswer,
    "LayDanhMucLinhVuc": LayDanhMucLinhVuc,
    "LayDanhMucLinhVuc_answer": LinhVucAnswer,
}
