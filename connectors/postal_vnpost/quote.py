"""``POST /v1/postal/quote``: VNPost's price for a parcel, with Circular 22/2017's maximum beside it.

The one-stop system asks what a pickup or a delivery by public-administration post (``mainSrv
"HCC"``) will cost: ``{weight_grams, from: {province_code, district_code}, to: {...}, return_leg}``.
The hub asks VNPost (``VnpostClient.quote_price``) and answers ``{"vnpost": <VNPost's answer as
received>, "circular_22_2017": {max_vnd, zone, weight_band, legs, source, confirmed} | null,
"circular_22_2017_reason": <why null> | null}``. VNPost down or slow: 503 ``postal-unavailable``;
VNPost refusing the query: 502 ``postal-refused``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.postal_vnpost.client import PermanentError, TransientError, VnpostClient
from connectors.postal_vnpost.interface import PlaceCode, PriceQuery
from connectors.postal_vnpost.refusals import invalid
from connectors.postal_vnpost.tariff import TariffError, load, maximum, tariff_path, zone
from hub.seam import Context, Inbound, InboundRoute, Refused, Reply

log = logging.getLogger(__name__)

MAX_BYTES = 2048
Code = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$")


class Place(BaseModel):
    """Where the parcel starts or ends: VNPost's province and district codes."""

    model_config = ConfigDict(extra="forbid")

    province_code: str = Code
    district_code: str = Code


class QuoteIn(BaseModel):
    """The body of ``POST /v1/postal/quote``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    weight_grams: int = Field(gt=0, le=1_000_000, strict=True)
    from_: Place = Field(alias="from")
    to: Place
    return_leg: bool = Field(False, strict=True)

    def price_query(self) -> PriceQuery:
        return PriceQuery(weight=self.weight_grams, isreturn=self.return_leg,
                          sender=PlaceCode(provCode=self.from_.province_code, distCode=self.from_.district_code),
                          receiver=PlaceCode(provCode=self.to.province_code, distCode=self.to.district_code))


_lock = threading.Lock()
_clients: weakref.WeakKeyDictionary[Any, VnpostClient] = weakref.WeakKeyDictionary()


def client_for(ctx: Context) -> VnpostClient:
    """The process's VNPost client of ``ctx`` (one per context: its token is cached across calls)."""
    with _lock:
        found = _clients.get(ctx)
        if found is None:
            found = _clients[ctx] = VnpostClient.from_context(ctx)
        return found


def circular(ctx: Context, query: QuoteIn) -> tuple[dict[str, Any] | None, str | None]:
    """The Circular's maximum for ``query`` (and no reason), or None and why it does not apply."""
    try:
        tariff = load(tariff_path(ctx.settings.tariff_file))
    except TariffError as exc:
        log.error("postal quote: %s", exc)
        return None, "the province's table of Circular 22/2017 cannot be read (LIENTHONG_POSTAL_VNPOST_TARIFF_FILE)"
    found = maximum(tariff, query.weight_grams, zone(query.from_.province_code, query.from_.district_code,
                                                     query.to.province_code, query.to.district_code),
                    legs=2 if query.return_leg else 1)
    return (None, found) if isinstance(found, str) else (found.as_json(), None)


async def quote(call: Inbound) -> Reply:
    """VNPost's price for the parcel in the body, and the Circular's maximum where it applies."""
    try:
        query = QuoteIn.model_validate_json(await call.body())
    except ValidationError as exc:
        raise invalid(exc, "body") from None
    ctx = call.ctx
    try:
        answer = await call.run(client_for(ctx).quote_price, query.price_query())
    except TransientError as exc:
        call.note("postal-unavailable", f"postal quote: {exc.reason}")
        raise Refused("postal-unavailable", f"VNPost did not answer the price query ({exc.reason})") from None
    except PermanentError as exc:
        call.note("postal-refused", f"postal quote: {exc.reason}")
        raise Refused("postal-refused", f"VNPost refused the price query ({exc.reason})") from None
    maximum_, reason = circular(ctx, query)
    call.note("ok", f"postal quote: {query.weight_grams} g")
    return Reply(200, {"vnpost": answer.model_dump(mode="json", by_alias=True), "circular_22_2017": maximum_,
                       "circular_22_2017_reason": reason})


ROUTE = InboundRoute("POST", "/v1/postal/quote", quote, summary="Postal operator: VNPost's price for a parcel, with "
                     "Circular 22/2017/TT-BTTTT's maximum beside it", route_class="read", body="json",
                     max_bytes=MAX_BYTES, tag="postal")
