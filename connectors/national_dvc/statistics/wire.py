"""The wire format of ``DongBoThongKeHoSo``: the monthly processing statistics sent to the national portal.

``POST {adapter_url}/DongBoThongKeHoSo {session, madonvi, service: "DongBoThongKeHoSo", data: [record...]}``,
one record per agency and month, every value a string. The JSON Schema, generated from these models,
is ``schemas/national_dvc/DongBoThongKeHoSo.json`` (the simulator validates calls with it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.national_dvc.wire_types import ServiceCall
from connectors.wire import WireModel

SERVICE = "DongBoThongKeHoSo"
Count = str  # the portal takes numbers as strings
_COUNT = Field(pattern=r"^\d+$")
_PERCENT = Field(pattern=r"^\d{1,3}(\.\d{1,2})?$", description="A percentage, e.g. 66.67")


class ThongKe(WireModel):
    """One agency's month."""

    Thang: str = Field(pattern=r"^(?:[1-9]|1[0-2])$", description="Month, 1-12")
    Nam: str = Field(pattern=r"^\d{4}$")
    SoNhanTrongKy: Count = _COUNT
    SoTonKyTruoc: Count = _COUNT
    TongSoXuLy: Count = _COUNT
    TongDaXuLy: Count = _COUNT
    TongXuLyDungHan: Count = _COUNT
    PhanTramXuLyDungHan: str = _PERCENT
    TongXuLyTreHan: Count = _COUNT
    PhanTramXuLyTreHan: str = _PERCENT
    TongChuaXuLy: Count = _COUNT
    TongChuaXuLyTrongHan: Count = _COUNT
    PhanTramChuaXuLyTrongHan: str = _PERCENT
    TongChuaXuLyTreHan: Count = _COUNT
    PhanTramChuaXuLyTreHan: str = _PERCENT
    GhiChu: str
    Madonvi: str = Field(min_length=1, max_length=50)
    TenDonVi: str = Field(min_length=1)
    LoaiThongKe: Literal["1"] = "1"


class DongBoThongKeHoSo(ServiceCall):
    """``POST {adapter_url}/DongBoThongKeHoSo`` (listed in ``connectors/national_dvc/wire.py``'s ``SCHEMA_MODELS``)."""

    service: Literal["DongBoThongKeHoSo"] = "DongBoThongKeHoSo"
    data: list[ThongKe] = Field(min_length=1)


FIELDS: tuple[str, ...] = tuple(ThongKe.model_fields)
