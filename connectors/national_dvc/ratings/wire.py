"""The wire format of ``DongBoDanhGia``: one record per month, procedure and unit, every value a string.

The field names beyond ``NgayTongHop`` and ``TongSoNguoiDanhGia`` (which ../shared/DOMAIN.md gives) are
this hub's reading of the portal's habit (``MaTTHC``, ``MaDonVi`` as in its other services); the
percentages are ``TyLeRatHaiLong``, ``TyLeHaiLong``, ``TyLeKhongHaiLong``. See README.md, "Assumptions".
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

SERVICE = "DongBoDanhGia"
Percent = Annotated[str, Field(pattern=r"^(100|[1-9]?[0-9])%$", examples=["80%"])]


class RatingRecord(BaseModel):
    """One month's ratings of one procedure at one unit."""

    model_config = ConfigDict(extra="forbid")

    MaTTHC: str = Field(min_length=1, max_length=60, description="Procedure code")
    MaDonVi: str = Field(min_length=1, max_length=50, description="The unit rated (its agency code)")
    NgayTongHop: str = Field(pattern=r"^(1[0-2]|[1-9])-\d{4}$", description="The month, M-YYYY", examples=["11-2026"])
    TongSoNguoiDanhGia: str = Field(pattern=r"^[1-9]\d*$", description="How many citizens rated")
    TyLeRatHaiLong: Percent = Field(description="Share very satisfied")
    TyLeHaiLong: Percent = Field(description="Share satisfied")
    TyLeKhongHaiLong: Percent = Field(description="Share not satisfied")


class DongBoDanhGia(BaseModel):
    """The call's body beyond the session fields every service carries."""

    model_config = ConfigDict(extra="allow")  # session, madonvi, service

    data: list[RatingRecord] = Field(min_length=1, max_length=500)


def schema() -> dict[str, Any]:
    """The JSON Schema the simulator validates a call with."""
    return DongBoDanhGia.model_json_schema()
