"""Canonical messages -> VNPost orders, the postman's job, and the canonical postal events the hub stores.

* a pickup (``dossier.submitted`` with ``payload.pickup``): sender = the citizen at the pickup address,
  receiver = the agency's configured address, ``SenderDesc`` = the components, ``OrderNumber`` =
  the dossier code;
* a paper result by post (``result.issued`` with ``paper`` and ``by_post``): sender = the agency,
  receiver = the citizen, ``OrderNumber`` = ``<dossier code>-KQ``.

Only the address, phone, name, what and amount reach VNPost or the job: never an identity number.
Text too long for a VNPost field is shortened with an ellipsis (the job keeps the whole list).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from connectors.postal_vnpost.interface import RESULT_SUFFIX, Order
from connectors.postal_vnpost.records import Job
from connectors.postal_vnpost.settings import AgencyPost
from hub.messages.codes import nfc
from hub.messages.models import DossierSubmitted, PostalAddress, PostalPickup, ResultIssued

SOURCE = "postal_vnpost"
Leg = Literal["pickup", "result"]
RESULT_WHAT = "Kết quả giải quyết TTHC"
#: Field lengths of :class:`~connectors.postal_vnpost.interface.Order` that composed text must fit.
ADDRESS_MAX, DESC_MAX, MEANING_MAX = 500, 1000, 300


def clip(text: str, limit: int) -> str:
    """``text`` NFC, shortened to ``limit`` characters (the last one an ellipsis) when longer."""
    text = nfc(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def full_address(place: PostalAddress) -> str:
    """Street address, ward, district and province names joined with ``, `` (VNPost's one address line)."""
    parts = [place.address, place.ward_name, place.district_name, place.province_name]
    return clip(", ".join(p for p in parts if p), ADDRESS_MAX)


def _citizen(prefix: Literal["Sender", "Receiver"], place: PostalAddress) -> dict[str, Any]:
    fields = {"Name": place.name, "Address": full_address(place), "Tel": place.phone, "Province": place.province_code,
              "District": place.district_code, "Email": place.email}
    return {f"{prefix}{k}": v for k, v in fields.items() if v is not None}


def _agency(prefix: Literal["Sender", "Receiver"], agency: AgencyPost) -> dict[str, Any]:
    fields = {"Name": agency.name, "Address": clip(agency.address, ADDRESS_MAX), "Tel": agency.phone,
              "Province": agency.province_code, "District": agency.district_code}
    return {f"{prefix}{k}": v for k, v in fields.items()}


def pickup_order(message: DossierSubmitted, agency: AgencyPost) -> Order:
    """The pickup order of a dossier filed by post: citizen -> agency. ValueError if it has no pickup."""
    pickup = _pickup(message)
    return Order.model_validate({
        "CustomerCode": agency.customer_code, "OrderNumber": message.dossier_code, "CODAmount": pickup.cod_amount,
        **_citizen("Sender", pickup.address), **_agency("Receiver", agency),
        "SenderDesc": clip("; ".join(pickup.components), DESC_MAX),
        "Description": clip(f"Hồ sơ TTHC: {message.payload.procedure_name}", DESC_MAX),
    })


def delivery_order(message: ResultIssued, agency: AgencyPost) -> Order:
    """The delivery order of a paper result by post: agency -> citizen. ValueError if it goes no post."""
    place = _by_post(message)
    return Order.model_validate({
        "CustomerCode": agency.customer_code, "OrderNumber": result_order_number(message.dossier_code),
        "CODAmount": message.payload.cod_amount, **_agency("Sender", agency), **_citizen("Receiver", place),
        "SenderDesc": RESULT_WHAT, "Description": clip(f"{RESULT_WHAT}, hồ sơ {message.dossier_code}", DESC_MAX),
    })


def result_order_number(dossier_code: str) -> str:
    """``OrderNumber`` of the delivery of the dossier's paper result."""
    return f"{dossier_code}{RESULT_SUFFIX}"


def job(place: PostalAddress, what: list[str], cod_amount: int) -> Job:
    """What the postman needs at ``place``: whom, where, phone, what, how much to collect."""
    return Job(name=place.name, phone=place.phone, address=place.address, ward=place.ward_name,
               district=place.district_name, province=place.province_name, what=[nfc(w) for w in what],
               cod_amount=cod_amount)


def pickup_job(message: DossierSubmitted) -> Job:
    """The postman's job of collecting the dossier from the citizen."""
    pickup = _pickup(message)
    return job(pickup.address, list(pickup.components), pickup.cod_amount)


def delivery_job(message: ResultIssued) -> Job:
    """The postman's job of delivering the paper result to the citizen."""
    return job(_by_post(message), [RESULT_WHAT], message.payload.cod_amount)


def postal_event(kind: Literal["booked", "cancelled"], *, dossier_code: str, agency_id: str, leg: Leg,
                 order_number: str, status: str, meaning: str, at: datetime) -> dict[str, Any]:
    """The canonical ``postal.<kind>`` message of order ``order_number``: VNPost's answer ``status``
    and ``meaning`` (its Message; the status itself when it gave none), from source ``postal_vnpost``.
    Its ``message_id`` is the order's, so the same event stored twice is one message."""
    return {
        "message_id": f"vnpost-{kind}-{order_number}", "type": f"postal.{kind}", "source": SOURCE,
        "occurred_at": at.isoformat(), "dossier_code": dossier_code,
        "payload": {"agency_id": agency_id, "leg": leg, "order_number": order_number, "at": at.isoformat(),
                    "operator_code": status, "operator_meaning": clip(meaning.strip() or f"Status {status}", MEANING_MAX)},
    }


def _pickup(message: DossierSubmitted) -> PostalPickup:
    if message.payload.pickup is None:
        raise ValueError("not a pickup dossier")
    return message.payload.pickup


def _by_post(message: ResultIssued) -> PostalAddress:
    if not message.payload.paper or message.payload.by_post is None:
        raise ValueError("not a paper result by post")
    return message.payload.by_post
