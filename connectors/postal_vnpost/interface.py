"""Contract of the VNPost connector: the partner's wire format and the client operations.

VNPost speaks JSON over HTTPS. A token comes from an OAuth 2.0 ``client_credentials`` grant (client
id and secret in HTTP Basic auth); every call then carries ``Authorization: Bearer <token>``.

* create an order: :class:`Order` -> :class:`OrderAnswer` (``Status "100"`` = success);
* read tracking events: pages of :class:`TrackingEvent` under ``_embedded["rh:doc"]``, walked with
  the cursor ``lastId``;
* quote a price: :class:`PriceQuery` (service ``mainSrv "HCC"``, public-administration post).

Field names are VNPost's own, kept as attribute names so the models read like the wire. The client
is ``client.py``, the simulator ``simulator.py``; ``wire.py`` exports these models' JSON Schemas.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Final, Literal, Protocol, runtime_checkable

from pydantic import Field

from connectors.wire import AnswerModel, WireModel
from hub.messages.codes import DOSSIER_PATTERN, Text

#: ``Status`` of an answer that succeeded.
SUCCESS_STATUS = "100"
#: ``Status`` of an order VNPost already holds: accepted, idempotent.
EXISTS_STATUS = "101"
#: ``lastId`` of the first tracking page.
FIRST_LAST_ID: Final = "0" * 24
#: ``mainSrv`` of public-administration post (dịch vụ Hành chính công).
MAIN_SERVICE: Final = "HCC"

#: Suffix of the ``OrderNumber`` of a paper result's delivery (``<dossier code>-KQ``, kết quả).
RESULT_SUFFIX: Final = "-KQ"
ORDER_NUMBER_PATTERN: Final = DOSSIER_PATTERN.removesuffix("$") + f"({RESULT_SUFFIX})?$"

#: Canonical messages the connector delivers: a dossier filed through the postal channel
#: (``payload.channel`` 3, routed with a ``when`` condition) books a pickup order; a paper result
#: for the post books a delivery order; a status change carries the acceptance receipt (status 2)
#: or cancels the dossier's open orders (3 not accepted, 7 withdrawn, 8 stopped).
ACCEPTS: frozenset[str] = frozenset({"dossier.submitted", "result.issued", "status.changed"})

OrderNumberField = Annotated[str, Field(pattern=ORDER_NUMBER_PATTERN,
                                        description="= MaHoSo, the dossier code; with -KQ, the delivery of its result")]
Tel = Annotated[str, Field(min_length=1, max_length=20)]


class PickupState(IntEnum):
    """State of a postal pickup as one-stop systems record it."""

    REGISTERED = 1
    COLLECTING = 2
    HANDED_OVER = 3
    CANCELLED = 4


# --- token ------------------------------------------------------------------------------------


class TokenAnswer(AnswerModel):
    """Answer to ``POST <token_url>`` with ``grant_type=client_credentials`` (RFC 6749 §4.4.3)."""

    access_token: str = Field(min_length=1)
    token_type: str = Field("Bearer", description="Bearer, in any letter case")
    expires_in: int | None = Field(None, ge=0, description="Seconds the token lives")
    scope: str | None = None


# --- orders -----------------------------------------------------------------------------------


class Order(WireModel):
    """One pickup or delivery order. ``ItemCode`` (waybill number) is set when VNPost has one."""

    CustomerCode: Text = Field(min_length=1, max_length=50, description="The province's VNPost customer code")
    OrderNumber: OrderNumberField
    CODAmount: int = Field(0, ge=0, description="Cash on delivery, in đồng (fees collected at the door)")
    SenderName: Text = Field(min_length=1, max_length=200)
    SenderAddress: Text = Field(min_length=1, max_length=500)
    SenderTel: Tel
    SenderProvince: Text = Field(min_length=1, max_length=20, description="Province code")
    SenderDistrict: Text = Field(min_length=1, max_length=20, description="District code")
    SenderEmail: Text | None = Field(None, max_length=200)
    SenderDesc: Text | None = Field(None, max_length=1000, description="The dossier's components, as the sender lists them")
    ReceiverName: Text = Field(min_length=1, max_length=200)
    ReceiverAddress: Text = Field(min_length=1, max_length=500)
    ReceiverTel: Tel
    ReceiverProvince: Text = Field(min_length=1, max_length=20, description="Province code")
    ReceiverDistrict: Text = Field(min_length=1, max_length=20, description="District code")
    ReceiverEmail: Text | None = Field(None, max_length=200)
    Description: Text | None = Field(None, max_length=1000, description="What the parcel holds (dossier components)")
    ItemCode: Text | None = Field(None, max_length=50, description="Waybill number")


class OrderAnswer(AnswerModel):
    """Answer to an order: ``Status "100"`` is success, anything else carries the reason in ``Message``."""

    Status: str
    Message: str = ""


# --- tracking ---------------------------------------------------------------------------------


class TrackingEvent(AnswerModel):
    """One event of an item's journey (one ``rh:doc`` document). Every field may be missing: a
    document the hub cannot read in full is kept and flagged (``events.py``), never allowed to make its
    whole page unreadable, which would stall the feed at that page."""

    CustomerCode: str | None = None
    OrderNumber: str = ""
    ItemCode: str | None = None
    EventTime: int | str | None = Field(None, description="Epoch milliseconds (the NGSP feed); a text form is kept "
                                                          "as received")
    POSID: str | None = Field(None, description="Post office where the event happened")
    StatusCode: str = ""
    StatusMessage: str = ""
    Notes: str | None = None
    id: str | dict[str, str] | None = Field(
        None, alias="_id", description="Document id ``{$oid}``: what the next lastId takes"
    )

    @property
    def event_id(self) -> str | None:
        """The document id as text: ``_id.$oid``, or ``_id`` itself when it is a string."""
        if isinstance(self.id, dict):
            return self.id.get("$oid")
        return self.id


class TrackingEmbedded(AnswerModel):
    """The ``_embedded`` object of a tracking page."""

    docs: list[TrackingEvent] = Field(default_factory=list, alias="rh:doc")


class TrackingPage(AnswerModel):
    """One page of tracking events: ``{_embedded: {"rh:doc": [...]}}``."""

    embedded: TrackingEmbedded = Field(default_factory=TrackingEmbedded, alias="_embedded")
    size: int | None = Field(None, alias="_size", description="Documents in the whole feed")
    total_pages: int | None = Field(None, alias="_total_pages")
    returned: int | None = Field(None, alias="_returned", description="Documents in this page")

    @property
    def events(self) -> list[TrackingEvent]:
        """The page's events, as served (repeats and disorder included)."""
        return self.embedded.docs


# --- price ------------------------------------------------------------------------------------


class PlaceCode(WireModel):
    """Where a parcel starts or ends, as VNPost's province and district codes."""

    provCode: str = Field(min_length=1, max_length=20)
    distCode: str = Field(min_length=1, max_length=20)


class PriceQuery(WireModel):
    """``{weight, mainSrv, isreturn, sender, receiver}``: the price of one parcel."""

    weight: int = Field(gt=0, description="Grams")
    mainSrv: Literal["HCC"] = MAIN_SERVICE
    isreturn: bool = Field(False, description="Whether a return leg is priced too")
    sender: PlaceCode
    receiver: PlaceCode


class PriceAnswer(AnswerModel):
    """VNPost's price answer. Its fields are not in the domain brief yet; kept as received."""


# --- client operations ------------------------------------------------------------------------


@runtime_checkable
class VnpostClient(Protocol):
    """What the VNPost connector needs from its HTTP client.

    Every method fetches a token when it has none or it expired, and retries once with a fresh
    token on HTTP 401. Timeouts, refused connections, HTTP 5xx, 408 and 429 raise an error the
    connector classifies as transient; a refusal of the content (another ``Status``, HTTP 4xx) raises
    one it classifies as permanent, with VNPost's ``Message`` as the reason.
    """

    def create_order(self, order: Order) -> OrderAnswer:
        """Book ``order``. Re-sending an ``OrderNumber`` VNPost already holds must not book twice.

        ``Status "100"`` means booked, ``"101"`` that VNPost already had it (also success); any other
        status is the partner's refusal of the content (permanent), its reason in ``Message``.
        """
        ...

    def track(self, last_id: str | None, page_size: int | None = None) -> TrackingPage:
        """The tracking events after cursor ``last_id`` (from the start when None), oldest first.

        An empty page means nothing new. The caller keeps the cursor of the last event it stored
        (that event's ``_id``). Repeated or out-of-order events are returned as served.
        """
        ...

    def quote_price(self, query: PriceQuery) -> PriceAnswer:
        """The price VNPost charges for the parcel described by ``query``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
