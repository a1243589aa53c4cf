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
encrypted. The client, the mapping and the simulator (and the WSDL under
``schemas/population_db/``) come with issue #6.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Protocol, runtime_checkable

from pydantic import Field

from connectors.wire import AnswerModel, WireModel
from hub.messages.codes import Text

NAMESPACE = "http://dancuquocgia.bca"
SOAP_VERSION = "1.1"

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
    birth_date: str | None = Field(None, max_length=10, description="Becomes NgayThangNamSinh, as the partner writes it")


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
    """``NgayThangNamSinh``: the year alone, or the full date, as registered."""

    Nam: str | None = None
    NgayThangNam: str | None = None


class Residence(AnswerModel):
    """``ThuongTru`` (permanent) or ``NoiOHienTai`` (current) residence: administrative codes and detail."""

    MaTinhThanh: str | None = None
    MaQuanHuyen: str | None = None
    MaPhuongXa: str | None = None
    ChiTiet: Text | None = None


class RelatedPerson(AnswerModel):
    """``ChuHo``, ``Cha``, ``Me``, ``VoChong``. Inner elements assumed; confirm against the WSDL (#6)."""

    SoDinhDanh: str | None = None
    SoCMND: str | None = None
    HoVaTen: FullName | None = None


class Citizen(AnswerModel):
    """``CongDan``: one citizen record."""

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


# --- client operations ------------------------------------------------------------------------


@runtime_checkable
class PopulationDbClient(Protocol):
    """What the hub needs from the population database client.

    Each method builds a :class:`CitizenRequest` from ``query`` plus the configured ``MaDVC`` and
    ``MaTichHop``, calls its :class:`Operation`, and writes an access-log record (officer, time,
    operation, input) whatever the result. SOAP faults, timeouts and HTTP 5xx raise; an empty
    collection is an answer, not an error. Personal data in answers is never logged.
    """

    def lookup(self, query: CitizenQuery) -> CongdanCollection:
        """``TraCuuThongTinCongDan``: the citizen with ``query.id_number``."""
        ...

    def verify(self, query: CitizenQuery) -> CongdanCollection:
        """``XacThucThongTinCongDan``: whether ID, name and birth date match one citizen.

        Needs ``full_name`` and ``birth_date``. The answer shape is assumed to be the look-up's
        collection (empty = no match) until the WSDL says otherwise (#6).
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
