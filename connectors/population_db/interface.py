"""Contract of the population database connector: SOAP operations, their data, the client operations.

The population database (CSDLQG về dân cư) is reached over SOAP 1.1 in namespace
``http://dancuquocgia.bca``, through the provincial platform with an OAuth ``client_credentials``
token. The operation is the SOAP body element; this connector uses four of them (:class:`Operation`).

Every request carries ``MaYeuCau, MaDVC, MaTichHop, MaCanBo, SoDinhDanh`` and, for some operations,
``HoVaTen, NgayThangNamSinh`` (:class:`CitizenRequest`). ``MaDVC`` and ``MaTichHop`` (integration
codes) come from the hub's server configuration only, never from the caller; callers give a
:class:`CitizenQuery`. The answer is ``CongdanCollection/CongDan`` (:class:`CongdanCollection`).

Rules the client must keep (seed 001 Đ29.7–8, 002 Đ10): only registered officers look up, each
look-up is logged with officer, time and input, and the connection credentials are stored
encrypted. The WSDL is ``schemas/population_db/dancuquocgia.wsdl`` (:data:`WSDL_PATH`); the client
is ``connectors.population_db.client``, the simulator ``connectors.population_db.simulator``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Protocol, runtime_checkable

from pydantic import Field

from connectors.wire import AnswerModel, WireModel
from hub.messages.codes import Text

NAMESPACE = "http://dancuquocgia.bca"
SOAP_VERSION = "1.1"
WSDL_PATH = Path(__file__).resolve().parents[2] / "schemas" / "population_db" / "dancuquocgia.wsdl"

#: Canonical messages the connector takes from the queue: none. Look-ups are synchronous (the edge
#: calls the client and answers at once), so no routing rule may name this destination.
ACCEPTS: frozenset[str] = frozenset()

PersonalIdNumber = Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit personal ID (số định danh)")]


class Operation(str, Enum):
    """SOAP body elements this connector calls."""

    LOOKUP = "TraCuuThongTinCongDan"
    VERIFY = "XacThucThongTinCongDan"
    HOUSEHOLD_HEAD = "XacMinhThongTinChuHo"
    CURRENT_RESIDENCE = "XacMinhThongTinNoiOHienTai"


# --- request ----------------------------------------------------------------------------------


class CitizenQuery(WireModel):
    """What a caller (an officer, through the edge) may give; the rest comes from configuration."""

    request_id: str = Field(min_length=1, max_length=64, description="Becomes MaYeuCau; unique per look-up")
    officer_id: str = Field(min_length=1, max_length=64, description="Becomes MaCanBo; a registered officer")
    id_number: PersonalIdNumber
    full_name: Text | None = Field(None, max_length=200, description="Becomes HoVaTen")
    birth_date: str | None = Field(
        None, max_length=10, description="Becomes NgayThangNamSinh: yyyyMMdd, or yyyy when only the year is registered"
    )


class CitizenRequest(WireModel):
    """The body of every operation."""

    MaYeuCau: str = Field(min_length=1, max_length=64, description="Request id")
    MaDVC: str = Field(min_length=1, description="Public-service code; from configuration")
    MaTichHop: str = Field(min_length=1, description="Integration code; from configuration")
    MaCanBo: str = Field(min_length=1, description="Officer making the look-up")
    SoDinhDanh: PersonalIdNumber
    HoVaTen: Text | None = None
    NgayThangNamSinh: str | None = None


# --- answer -----------------------------------------------------------------------------------


class FullName(AnswerModel):
    """``HoVaTen``: family name, middle name, given name."""

    Ho: Text | None = None
    ChuDem: Text | None = None
    Ten: Text | None = None


class BirthDate(AnswerModel):
    """``NgayThangNamSinh``: ``Nam`` (yyyy) and, unless only the year is registered, ``NgayThangNam`` (yyyyMMdd)."""

    Nam: str | None = None
    NgayThangNam: str | None = None


class Residence(AnswerModel):
    """``ThuongTru`` (permanent) or ``NoiOHienTai`` (current) residence: administrative codes and detail."""

    MaTinhThanh: str | None = None
    MaQuanHuyen: str | None = None
    MaPhuongXa: str | None = None
    ChiTiet: Text | None = None


class RelatedPerson(AnswerModel):
    """``ChuHo``, ``Cha``, ``Me``, ``VoChong``: who the related person is (type ``NguoiLienQuan`` in the WSDL)."""

    SoDinhDanh: str | None = None
    SoCMND: str | None = None
    HoVaTen: FullName | None = None


class Citizen(AnswerModel):
    """``CongDan``: one citizen record. ``GioiTinh``: "1" male, "2" female. Each operation fills what it
    is about (the look-up: everything; the verifications: the ID, the name and their subject)."""

    SoDinhDanh: PersonalIdNumber
    SoCMND: str | None = Field(None, description="Old 9-digit ID card number")
    HoVaTen: FullName
    GioiTinh: str | None = None
    NgayThangNamSinh: BirthDate | None = None
    ThuongTru: Residence | None = None
    NoiOHienTai: Residence | None = None
    ChuHo: RelatedPerson | None = None
    Cha: RelatedPerson | None = None
    Me: RelatedPerson | None = None
    VoChong: RelatedPerson | None = None


class CongdanCollection(AnswerModel):
    """``CongdanCollection``: the citizens an operation answered with (none when nothing matched)."""

    CongDan: list[Citizen] = Field(default_factory=list)


class VerifyResult(CongdanCollection):
    """``XacThucThongTinCongDanResponse``: ``KetQuaXacThuc`` true when ID, name and birth date match one
    citizen, who is then the collection's only member (ID, name, gender, birth date); false and an
    empty collection otherwise, whichever part differed (the answer never says which)."""

    KetQuaXacThuc: bool = False


# --- client operations ------------------------------------------------------------------------


@runtime_checkable
class PopulationDbClient(Protocol):
    """What the hub needs from the population database client.

    Each method builds a :class:`CitizenRequest` from ``query`` plus the configured ``MaDVC`` and
    ``MaTichHop``, and calls its :class:`Operation`. The caller (the edge's look-up endpoint) writes
    the access record (officer, time, operation, input) whatever the result; the client itself logs
    only ``MaYeuCau``, the operation and the outcome, never personal data. SOAP faults, timeouts and
    HTTP 5xx raise (``connectors.population_db.errors``); an empty collection is an answer, not an
    error.
    """

    def lookup(self, query: CitizenQuery) -> CongdanCollection:
        """``TraCuuThongTinCongDan``: the citizen with ``query.id_number`` (and, when given, that name
        and birth date: a mismatch answers nobody)."""
        ...

    def verify(self, query: CitizenQuery) -> VerifyResult:
        """``XacThucThongTinCongDan``: whether ID, name and birth date match one citizen.

        Needs ``full_name`` and ``birth_date`` (``ValueError`` without them). ``KetQuaXacThuc`` is the
        verdict; the collection holds the matched citizen, or nobody (see :class:`VerifyResult`).
        """
        ...

    def household_head(self, query: CitizenQuery) -> CongdanCollection:
        """``XacMinhThongTinChuHo``: the citizen's household head (in ``CongDan[].ChuHo``)."""
        ...

    def current_residence(self, query: CitizenQuery) -> CongdanCollection:
        """``XacMinhThongTinNoiOHienTai``: where the citizen lives now (in ``CongDan[].NoiOHienTai``)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
