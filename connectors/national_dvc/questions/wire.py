"""The wire format of the portal's Q&A services (field names as OpenCPS uses them, ../shared/DOMAIN.md).

``LayDanhSachHoiDapGuiTuDVCQG`` / ``LayDanhSachHoiDapBoCoQuan`` answer ``{error_code, message, result:
[item]}``; ``DongBoKetQuaHoiDapGuiTuDVCQG`` takes ``{data: [answer]}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

LIST_SERVICES = ("LayDanhSachHoiDapGuiTuDVCQG", "LayDanhSachHoiDapBoCoQuan")
ANSWER_SERVICE = "DongBoKetQuaHoiDapGuiTuDVCQG"
ANSWER_DATE = "%d/%m/%Y"  #: NGAYTRALOI, as OpenCPS sends it (dd/MM/yyyy)


class QuestionItem(BaseModel):
    """One question of a list, read leniently: the portal sends numbers or strings, and more fields."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    HOIDAPID: str
    MALINHVUC: str | None = None
    MATTHCDP: str | None = None
    MADONVI: str | None = None
    TENDONVI: str | None = None
    NOIDUNG: str | None = None
    NOIDUNGTRALOI: str | None = None
    TRALOIID: str | None = None
    HOVATEN: str | None = None
    THUDIENTU: str | None = None
    TRANGTHAI: str | None = None


class AnswerRecord(BaseModel):
    """One answer sent back to the portal."""

    model_config = ConfigDict(extra="forbid")

    HOIDAPID: str | int = Field(description="The question's id, as the portal gave it")
    MADONVI: str = Field(min_length=1, max_length=50)
    NGUOITRALOI: str = Field(min_length=1, max_length=200)
    CHUCVUNGUOITRALOI: str = Field(max_length=200)
    NGAYTRALOI: str = Field(pattern=r"^\d{2}/\d{2}/\d{4}$", description="dd/MM/yyyy")
    NOIDUNGTRALOI: str = Field(min_length=1, max_length=10000)


class DongBoKetQuaHoiDap(BaseModel):
    model_config = ConfigDict(extra="allow")  # session, madonvi, service

    data: list[AnswerRecord] = Field(min_length=1, max_length=100)


def answer_schema() -> dict[str, Any]:
    """The JSON Schema the simulator validates an answer call with."""
    return DongBoKetQuaHoiDap.model_json_schema()
