"""Canonical messages: the one shape every partner's message is translated to and from.

An envelope carries ``message_id``, ``type``, ``source``, ``occurred_at``, ``dossier_code`` and a
``payload`` whose model depends on ``type``. ``Message`` is the discriminated union of all types.

Every payload carries the ``agency_id`` of the agency whose dossier it is, and the dossier code
starts with that same identifier (rule ``dossier_code_agency``): the look-up tiers
(``hub/citizens/tiers.py``) take a dossier's agency from its code, so a message may not file
facts (officers, units, citizens) under another agency's dossier code.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Union, get_args

import orjson
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from hub.messages.codes import (
    AGENCY_PATTERN,
    PROCEDURE_PATTERN,
    Channel,
    DossierCode,
    DossierStatus,
    IdType,
    SubjectType,
    Text,
    nfc_deep,
)

AgencyId = Annotated[str, Field(pattern=AGENCY_PATTERN, examples=["000.00.00.H49"])]
ProcedureCode = Annotated[str, Field(pattern=PROCEDURE_PATTERN, examples=["2.000477"])]
MessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Subject = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z_]+:[A-Za-z0-9._:-]+$")]
PartnerCode = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Vnd = Annotated[int, Field(ge=0, description="Amount in Vietnamese đồng")]
FORM_MAX_BYTES = 64 * 1024
FORM_MAX_DEPTH = 5


def _bounded_form(value: dict[str, Any]) -> dict[str, Any]:
    """A form is free JSON, but bounded: its size and depth are limited, its strings NFC."""
    def depth(v: Any, level: int = 1) -> int:
        if isinstance(v, dict):
            return max([level, *(depth(x, level + 1) for x in v.values())])
        if isinstance(v, list):
            return max([level, *(depth(x, level + 1) for x in v)])
        return level - 1
    if depth(value) > FORM_MAX_DEPTH:
        raise ValueError(f"a form nests at most {FORM_MAX_DEPTH} levels")
    if len(orjson.dumps(value)) > FORM_MAX_BYTES:
        raise ValueError(f"a form is at most {FORM_MAX_BYTES} bytes of JSON")
    return dict(nfc_deep(value))


FormData = Annotated[dict[str, Any], AfterValidator(_bounded_form)]


class Strict(BaseModel):
    """Base of every canonical model: unknown fields are refused, text is NFC."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonalId(Strict):
    """``DinhDanhCHS``: an applicant's identity document."""

    id_type: IdType = IdType.PERSONAL_ID
    number: str = Field(pattern=r"^(\d{12}|\d{9})$")

    @model_validator(mode="after")
    def _length_matches_type(self) -> "PersonalId":
        expected = 12 if self.id_type == IdType.PERSONAL_ID else 9
        if len(self.number) != expected:
            raise ValueError(f"id_type {int(self.id_type)} needs a {expected}-digit number")
        return self


class Applicant(Strict):
    """``ChuHoSo`` and contact fields."""

    name: Text = Field(min_length=1, max_length=200)
    subject_type: SubjectType = SubjectType.CITIZEN
    ids: list[PersonalId] = Field(default_factory=list, max_length=5)
    phone: Text | None = Field(None, max_length=20)
    email: Text | None = Field(None, max_length=200)
    address: Text | None = Field(None, max_length=500)


class Attachment(Strict):
    """``TaiLieuNop``: a document filed with the dossier."""

    id: Text = Field(min_length=1, max_length=100)
    name: Text = Field(min_length=1, max_length=300)
    component_code: Text | None = Field(None, max_length=100)
    url: AnyHttpUrl | None = None
    sha256: Sha256Hex | None = Field(None, description="SHA-256 of the file at url: a partner that wants the file "
                                                       "itself (a ministry system, as base64) gets it only with it")
    deleted: bool = False


class Fee(Strict):
    """``DanhSachLePhi`` / ``PhiLePhi``: one fee (kind 1) or charge (kind 2)."""

    code: Text = Field(min_length=1, max_length=50)
    name: Text = Field(min_length=1, max_length=300)
    amount: Vnd
    kind: Literal[1, 2] = 1
    method: Text | None = Field(None, max_length=100, description="HinhThucThu: how it is collected")


class PostalAddress(Strict):
    """Where the post collects from or delivers to: the person, their address and its administrative
    codes (VNPost's province and district codes; the ward's code and name as the one-stop system has them)."""

    name: Text = Field(min_length=1, max_length=200)
    phone: Text = Field(min_length=1, max_length=20)
    address: Text = Field(min_length=1, max_length=500, description="Street address, without the ward, district, province")
    province_code: Text = Field(min_length=1, max_length=20)
    province_name: Text = Field(min_length=1, max_length=100)
    district_code: Text = Field(min_length=1, max_length=20)
    district_name: Text = Field(min_length=1, max_length=100)
    ward_code: Text | None = Field(None, max_length=20)
    ward_name: Text | None = Field(None, max_length=100)
    email: Text | None = Field(None, max_length=200)


class PostalPickup(Strict):
    """A dossier the post collects from the citizen (seed 000 Đ20.6 b, seed 004 Đ19): where, and what."""

    address: PostalAddress
    components: list[Text] = Field(min_length=1, max_length=100, description="The dossier's components to collect")
    cod_amount: Vnd = Field(0, description="Fees the postman collects at the door")


class DossierPayload(Strict):
    """A dossier as the one-stop system holds it (``DongBoHoSoMC`` record)."""

    agency_id: AgencyId
    procedure_code: ProcedureCode
    procedure_name: Text = Field(min_length=1, max_length=500)
    field_code: Text | None = Field(None, max_length=50)
    field_name: Text | None = Field(None, max_length=300)
    receipt_number: Text | None = Field(None, max_length=50)
    applicant: Applicant
    summary: Text | None = Field(None, max_length=2000)
    received_at: AwareDatetime
    due_at: AwareDatetime | None = None
    status: DossierStatus
    channel: Channel
    handling_unit: Text | None = Field(None, max_length=300)
    officer_code: Text | None = Field(None, max_length=60, description="MaCanBo of the officer handling the dossier "
                                      "(population-database look-up tiers)",
                                      exclude_if=lambda v: v is None)  # absent: bodies stored before it keep their digest
    note: Text | None = Field(None, max_length=2000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=200)
    fees: list[Fee] = Field(default_factory=list, max_length=50)
    form: FormData | None = Field(None, description="The dossier's e-form (tờ khai) as the procedure defines it, "
                                                    "e.g. a birth's record for the civil-status registry: at most "
                                                    "64 KiB of JSON, 5 levels deep")
    pickup: PostalPickup | None = Field(None, description="Filed through the post (channel 3): the post collects it",
                                        exclude_if=lambda v: v is None)  # absent: bodies stored before it keep their digest
    result_by_post: PostalAddress | None = Field(None, description="The citizen chose to receive the result by post, here",
                                                 exclude_if=lambda v: v is None)


class StatusChangedPayload(Strict):
    """One progress step of a dossier (``CapNhatTienDoHoSoMC``)."""

    agency_id: AgencyId
    status: DossierStatus
    handled_at: AwareDatetime
    handler_name: Text = Field(min_length=1, max_length=200)
    handler_title: Text | None = Field(None, max_length=200)
    department: Text | None = Field(None, max_length=300)
    officer_code: Text | None = Field(None, max_length=60, description="MaCanBo of the handling officer "
                                      "(population-database look-up tiers)",
                                      exclude_if=lambda v: v is None)  # absent: bodies stored before it keep their digest
    content: Text = Field(min_length=1, max_length=2000)
    started_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    receipt_number: Text | None = Field(None, max_length=50, description="SoBienNhan of the acceptance receipt "
                                        "(status 2), sent to the post for a dossier it collected",
                                        exclude_if=lambda v: v is None)


class FeeNoticePayload(Strict):
    """Fees the applicant must pay before handling continues (status 6)."""

    agency_id: AgencyId
    procedure_code: ProcedureCode
    fees: list[Fee] = Field(min_length=1, max_length=50)
    due_at: AwareDatetime | None = None
    online: bool = Field(False, description="The applicant pays online on the national payment platform: the hub "
                         "opens the payment (INIT) and answers payment.opened", exclude_if=lambda v: not v)


class PaymentConfirmedPayload(Strict):
    """The payment platform's confirmation of a paid fee notice."""

    agency_id: AgencyId
    procedure_code: ProcedureCode
    reference: Text = Field(min_length=1, max_length=100, description="MaThamChieu")
    transaction_id: Text = Field(min_length=1, max_length=100, description="MaGiaoDich")
    bank_code: Text | None = Field(None, max_length=20)
    amount: Vnd
    currency: Literal["VND"] = "VND"
    paid_at: AwareDatetime
    fees: list[Fee] = Field(default_factory=list, max_length=50)


class ResultDocument(Strict):
    """A result document, named by URL and fixed by its SHA-256."""

    document_id: Text = Field(min_length=1, max_length=100)
    name: Text = Field(min_length=1, max_length=300)
    component_code: Text | None = Field(None, max_length=100)
    url: AnyHttpUrl
    sha256: Sha256Hex


class ResultIssuedPayload(Strict):
    """The agency's result for a dossier: e-documents, or paper (``paper``), which may go by post
    (``by_post``: the delivery address). An e-result names at least one document; a paper one may name none."""

    agency_id: AgencyId
    issued_at: AwareDatetime
    status: Literal[DossierStatus.DONE, DossierStatus.RESULT_RETURNED] = DossierStatus.DONE
    documents: list[ResultDocument] = Field(default_factory=list, max_length=50)
    note: Text | None = Field(None, max_length=2000)
    paper: bool = Field(False, description="The result is on paper", exclude_if=lambda v: not v)
    by_post: PostalAddress | None = Field(None, description="Deliver the paper result by post to this address",
                                          exclude_if=lambda v: v is None)
    cod_amount: Vnd = Field(0, description="Collected from the citizen on delivery", exclude_if=lambda v: not v)

    @model_validator(mode="after")
    def _said_somehow(self) -> "ResultIssuedPayload":
        if not self.documents and not self.paper:
            raise PydanticCustomError("result_documents", "a result names at least one document, or is paper")
        if self.by_post is not None and not self.paper:
            raise PydanticCustomError("result_by_post", "only a paper result goes by post (set paper)")
        return self


class ChannelTerms(Strict):
    """How a procedure is done by one channel (``CACHTHUCTHUCHIEN``): its time limit and its fees."""

    channel: Channel
    time_limit: Text | None = Field(None, max_length=300, description="THOIGIANGIAIQUYET and DONVITINH, e.g. '5 Ngày làm việc'")
    description: Text | None = Field(None, max_length=2000)
    fees: list[Fee] = Field(default_factory=list, max_length=50)


class CatalogueComponent(Strict):
    """A paper of a procedure's dossier (``THANHPHANHOSO.GIAYTO``)."""

    code: Text = Field(min_length=1, max_length=100)
    name: Text = Field(min_length=1, max_length=1000)
    form_name: Text | None = Field(None, max_length=500, description="TENMAUDON")
    url: AnyHttpUrl | None = None


class CatalogueChangedPayload(Strict):
    """A procedure of the national catalogue as the hub now holds it, and what changed since the last
    version it held: ``published`` (new, or published again), ``withdrawn``, ``components``,
    ``fees`` (``fee_channels``: the channels whose fees changed), ``details`` (name, fields, agencies,
    legal basis). ``decision``: the decision the change cites (CANCUPHAPLY), ``decided_on`` its date."""

    procedure_code: ProcedureCode
    procedure_name: Text = Field(min_length=1, max_length=1000)
    publisher: Text | None = Field(None, max_length=50, description="MACOQUANCONGBO")
    published: bool
    changes: list[Literal["published", "withdrawn", "components", "fees", "details"]] = Field(min_length=1, max_length=5)
    fee_channels: list[Channel] = Field(default_factory=list, max_length=3)
    field_codes: list[Text] = Field(default_factory=list, max_length=50)
    channels: list[ChannelTerms] = Field(default_factory=list, max_length=3)
    components: list[CatalogueComponent] = Field(default_factory=list, max_length=200)
    agencies: list[Text] = Field(default_factory=list, max_length=200, description="COQUANTHUCHIEN.MADONVI")
    decision: Text | None = Field(None, max_length=2000)
    decided_on: date | None = None
    seen_at: AwareDatetime


class QuestionAskedPayload(Strict):
    """A citizen's question sent through the national portal (``LayDanhSachHoiDapGuiTuDVCQG``)."""

    question_id: Text = Field(min_length=1, max_length=60, description="HOIDAPID")
    agency_id: Text = Field(min_length=1, max_length=50, description="MADONVI, the agency that must answer")
    agency_name: Text | None = Field(None, max_length=300)
    field_code: Text | None = Field(None, max_length=50)
    procedure_code: Text | None = Field(None, max_length=60, description="MATTHCDP")
    asker_name: Text = Field(min_length=1, max_length=200)
    asker_email: Text | None = Field(None, max_length=200)
    content: Text = Field(min_length=1, max_length=10000)
    asked_at: AwareDatetime
    answer_due_at: AwareDatetime


class QuestionAnsweredPayload(Strict):
    """The agency's answer to a question (``DongBoKetQuaHoiDapGuiTuDVCQG``)."""

    question_id: Text = Field(min_length=1, max_length=60, description="HOIDAPID")
    agency_id: Text = Field(min_length=1, max_length=50, description="MADONVI")
    answerer_name: Text = Field(min_length=1, max_length=200, description="NGUOITRALOI")
    answerer_title: Text | None = Field(None, max_length=200, description="CHUCVUNGUOITRALOI")
    answered_at: AwareDatetime
    content: Text = Field(min_length=1, max_length=10000)


class RatingGivenPayload(Strict):
    """A citizen's rating of how a dossier was handled; one per dossier code."""

    agency_id: AgencyId
    procedure_code: ProcedureCode
    unit: Text | None = Field(None, max_length=50, description="The handling unit's code, when not the agency itself")
    level: Literal["very_satisfied", "satisfied", "not_satisfied"]
    rated_at: AwareDatetime
    comment: Text | None = Field(None, max_length=2000)


class PaymentOpenedPayload(Strict):
    """The hub opened an online payment (INIT) for a fee notice: where the citizen pays."""

    agency_id: AgencyId
    procedure_code: ProcedureCode
    reference: Text = Field(min_length=1, max_length=100, description="MaThamChieu")
    amount: Vnd
    pay_url: AnyHttpUrl
    expires_at: AwareDatetime | None = None


class PaymentReceiptPayload(Strict):
    """The electronic receipt of a paid fee (GET_BILL)."""

    agency_id: AgencyId
    procedure_code: ProcedureCode
    reference: Text = Field(min_length=1, max_length=100, description="MaThamChieu")
    transaction_id: Text = Field(min_length=1, max_length=100, description="MaGiaoDich")
    amount: Vnd
    receipt_number: Text = Field(min_length=1, max_length=100)
    receipt_series: Text | None = Field(None, max_length=50)
    issued_at: AwareDatetime
    url: AnyHttpUrl | None = None


class PostalEventPayload(Strict):
    """One step of a postal order (``postal.*``), from the operator's tracking feed or its own report.

    ``leg``: ``pickup`` (the dossier, citizen -> agency) or ``result`` (the paper result, agency ->
    citizen). ``operator_code``/``operator_meaning``: the operator's own status code and what it says;
    ``recognised`` False: a code the hub's table does not know (type ``postal.unrecognised``), kept as
    received and flagged."""

    agency_id: AgencyId
    leg: Literal["pickup", "result"]
    order_number: Text = Field(min_length=1, max_length=60)
    waybill: Text | None = Field(None, max_length=50, description="ItemCode")
    at: AwareDatetime
    post_office: Text | None = Field(None, max_length=50, description="POSID")
    operator_code: Text = Field(min_length=1, max_length=20)
    operator_meaning: Text = Field(min_length=1, max_length=300)
    event_id: Text | None = Field(None, max_length=64, description="The operator's id of the event (_id)")
    recognised: bool = True
    cod_amount: Vnd | None = Field(None, description="Collected on delivery (postal.delivered)")
    note: Text | None = Field(None, max_length=500)


class Envelope(Strict):
    """Fields every message carries, whatever its type: a dossier's message (:class:`DossierEnvelope`,
    ordered per dossier) or a notice about something else (:class:`Notice`, ordered per subject)."""

    message_id: MessageId = Field(description="Unique per source; resending the same id is idempotent.")
    source: PartnerCode = Field(description="Code of the sending partner; must be the API key's partner.")
    occurred_at: AwareDatetime = Field(description="When the event happened at the source (ISO 8601 with offset).")
    type: str  #: each message class narrows it to its own literal

    @property
    def order_key(self) -> str:
        """What the outbox keeps in order: the messages of one key are delivered in the order accepted."""
        raise NotImplementedError

    @property
    def dossier(self) -> str | None:
        """The dossier code the message is about, or None for a notice."""
        return None


class DossierEnvelope(Envelope):
    """A message about one dossier."""

    dossier_code: DossierCode = Field(description="V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX; starts with the payload's agency_id",
                                      examples=["000.00.00.H49-261123-0001"])

    @property
    def order_key(self) -> str:
        return self.dossier_code

    @property
    def dossier(self) -> str | None:
        return self.dossier_code

    @model_validator(mode="after")
    def _dossier_code_is_the_agencys(self) -> "DossierEnvelope":
        payload = getattr(self, "payload", None)
        agency = getattr(payload, "agency_id", None)
        if agency is not None and self.dossier_code.split("-", 1)[0] != agency:
            # A ValidationError with its own location: the error names dossier_code, not the whole body.
            raise ValidationError.from_exception_data(type(self).__name__, [InitErrorDetails(
                type=PydanticCustomError("dossier_code_agency",
                                         "the dossier code must start with the payload's agency_id {agency_id}",
                                         {"agency_id": agency}),
                loc=("dossier_code",), input=self.dossier_code)])
        return self


class Notice(Envelope):
    """A message about no one dossier: a procedure of the catalogue, a citizen's question. ``subject``
    (``<kind>:<id>``, e.g. ``procedure:1.001234``, ``question:HD-17``) orders them as a dossier code
    orders a dossier's messages."""

    subject: Subject = Field(description="What the notice is about, <kind>:<id>; its notices are delivered in order",
                             examples=["procedure:1.001234"])

    @property
    def order_key(self) -> str:
        return self.subject


class DossierSubmitted(DossierEnvelope):
    type: Literal["dossier.submitted"]
    payload: DossierPayload


class DossierUpdated(DossierEnvelope):
    type: Literal["dossier.updated"]
    payload: DossierPayload


class StatusChanged(DossierEnvelope):
    type: Literal["status.changed"]
    payload: StatusChangedPayload


class FeeNotice(DossierEnvelope):
    type: Literal["fee.notice"]
    payload: FeeNoticePayload


class PaymentConfirmed(DossierEnvelope):
    type: Literal["payment.confirmed"]
    payload: PaymentConfirmedPayload


class ResultIssued(DossierEnvelope):
    type: Literal["result.issued"]
    payload: ResultIssuedPayload


#: The postal events, one canonical type per step (hub/messages/postal.py derives the states from them).
POSTAL_TYPES: tuple[str, ...] = ("postal.booked", "postal.collected", "postal.handed_over", "postal.in_transit",
                                 "postal.delivered", "postal.failed", "postal.returned", "postal.cancelled",
                                 "postal.unrecognised")


class PostalBooked(DossierEnvelope):
    type: Literal["postal.booked"]
    payload: PostalEventPayload


class PostalCollected(DossierEnvelope):
    type: Literal["postal.collected"]
    payload: PostalEventPayload


class PostalHandedOver(DossierEnvelope):
    type: Literal["postal.handed_over"]
    payload: PostalEventPayload


class PostalInTransit(DossierEnvelope):
    type: Literal["postal.in_transit"]
    payload: PostalEventPayload


class PostalDelivered(DossierEnvelope):
    type: Literal["postal.delivered"]
    payload: PostalEventPayload


class PostalFailed(DossierEnvelope):
    type: Literal["postal.failed"]
    payload: PostalEventPayload


class PostalReturned(DossierEnvelope):
    type: Literal["postal.returned"]
    payload: PostalEventPayload


class PostalCancelled(DossierEnvelope):
    type: Literal["postal.cancelled"]
    payload: PostalEventPayload


class PostalUnrecognised(DossierEnvelope):
    type: Literal["postal.unrecognised"]
    payload: PostalEventPayload


class CatalogueChanged(Notice):
    type: Literal["catalogue.changed"]
    payload: CatalogueChangedPayload


class QuestionAsked(Notice):
    type: Literal["question.asked"]
    payload: QuestionAskedPayload


class QuestionAnswered(Notice):
    type: Literal["question.answered"]
    payload: QuestionAnsweredPayload


class RatingGiven(DossierEnvelope):
    type: Literal["rating.given"]
    payload: RatingGivenPayload


class PaymentOpened(DossierEnvelope):
    type: Literal["payment.opened"]
    payload: PaymentOpenedPayload


class PaymentReceipt(DossierEnvelope):
    type: Literal["payment.receipt"]
    payload: PaymentReceiptPayload


MESSAGE_CLASSES: tuple[type[Envelope], ...] = (
    DossierSubmitted,
    DossierUpdated,
    StatusChanged,
    FeeNotice,
    PaymentConfirmed,
    ResultIssued,
    PostalBooked,
    PostalCollected,
    PostalHandedOver,
    PostalInTransit,
    PostalDelivered,
    PostalFailed,
    PostalReturned,
    PostalCancelled,
    PostalUnrecognised,
    CatalogueChanged,
    QuestionAsked,
    QuestionAnswered,
    RatingGiven,
    PaymentOpened,
    PaymentReceipt,
)
MESSAGE_TYPES: frozenset[str] = frozenset(get_args(c.model_fields["type"].annotation)[0] for c in MESSAGE_CLASSES)

Message = Annotated[
    Union[DossierSubmitted, DossierUpdated, StatusChanged, FeeNotice, PaymentConfirmed, ResultIssued, PostalBooked,
          PostalCollected, PostalHandedOver, PostalInTransit, PostalDelivered, PostalFailed, PostalReturned,
          PostalCancelled, PostalUnrecognised, CatalogueChanged, QuestionAsked, QuestionAnswered, RatingGiven,
          PaymentOpened, PaymentReceipt],
    Field(discriminator="type"),
]
MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)
