"""The canonical postal messages: paper results, pickup addresses, postal events and the states
derived from them (hub/messages/models.py, hub/messages/postal.py)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from hub.messages.models import MESSAGE_ADAPTER, MESSAGE_TYPES, POSTAL_TYPES
from hub.messages.postal import postal_states
from tests.factories import T0, dossier_code, submitted

ADDRESS = {"name": "Nguyễn Thị Hằng", "phone": "0912345678", "address": "12 Phan Bội Châu", "ward_code": "20275",
           "ward_name": "Phường An Mỹ", "district_code": "502", "district_name": "Thành phố Tam Kỳ",
           "province_code": "49", "province_name": "Tỉnh Quảng Nam"}


def result(**payload: Any) -> dict[str, Any]:
    return {"message_id": "r-1", "type": "result.issued", "source": "motcua", "occurred_at": T0.isoformat(),
            "dossier_code": dossier_code(1),
            "payload": {"agency_id": "000.00.00.H49", "issued_at": T0.isoformat(), **payload}}


def event(kind: str, leg: str = "pickup", minutes: int = 0, **payload: Any) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return {"message_id": f"vnpost-{kind}-{minutes}", "type": kind, "source": "postal_vnpost", "occurred_at": at,
            "dossier_code": dossier_code(1),
            "payload": {"agency_id": "000.00.00.H49", "leg": leg, "order_number": dossier_code(1), "at": at,
                        "operator_code": "6", "operator_meaning": "Đã nhận hàng", **payload}}


def test_a_paper_result_may_name_no_document() -> None:
    msg = MESSAGE_ADAPTER.validate_python(result(paper=True, by_post=ADDRESS))
    assert msg.payload.documents == [] and msg.payload.by_post is not None  # type: ignore[union-attr]


def test_an_e_result_without_documents_is_refused_naming_the_rule() -> None:
    with pytest.raises(ValidationError) as refused:
        MESSAGE_ADAPTER.validate_python(result())
    assert "result_documents" in {e["type"] for e in refused.value.errors()}


def test_only_a_paper_result_goes_by_post() -> None:
    doc = {"document_id": "d1", "name": "Bản sao", "url": "https://files.example/d1",
           "sha256": "0" * 64}
    with pytest.raises(ValidationError) as refused:
        MESSAGE_ADAPTER.validate_python(result(documents=[doc], by_post=ADDRESS))
    assert "result_by_post" in {e["type"] for e in refused.value.errors()}


def test_a_pickup_dossier_carries_the_address_and_components_in_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Tờ khai đề nghị")
    msg = submitted(1)
    msg["payload"].update(channel=3, pickup={"address": {**ADDRESS, "name": unicodedata.normalize("NFD", ADDRESS["name"])},
                                             "components": [nfd]})
    parsed = MESSAGE_ADAPTER.validate_python(msg)
    pickup = parsed.payload.pickup  # type: ignore[union-attr]
    assert pickup is not None and pickup.components == ["Tờ khai đề nghị"]
    assert unicodedata.is_normalized("NFC", pickup.address.name)


def test_a_pickup_without_components_is_refused() -> None:
    msg = submitted(1)
    msg["payload"].update(channel=3, pickup={"address": ADDRESS, "components": []})
    with pytest.raises(ValidationError):
        MESSAGE_ADAPTER.validate_python(msg)


def test_every_postal_step_is_a_canonical_type() -> None:
    assert set(POSTAL_TYPES) <= MESSAGE_TYPES
    for kind in POSTAL_TYPES:
        assert MESSAGE_ADAPTER.validate_python(event(kind)).type == kind


def test_a_dossier_without_postal_messages_has_no_postal_state() -> None:
    states = postal_states([submitted(1)])
    assert states["pickup"]["state"] == 0 and states["result_by_post"]["state"] == 0


def test_pickup_state_follows_the_furthest_step_whatever_order_events_arrive_in() -> None:
    pickup_dossier = submitted(1)
    pickup_dossier["payload"].update(channel=3, pickup={"address": ADDRESS, "components": ["Tờ khai"]})
    assert postal_states([pickup_dossier])["pickup"]["state"] == 1  # registered
    late_collected = [pickup_dossier, event("postal.booked"), event("postal.handed_over", minutes=90),
                      event("postal.collected", minutes=30)]
    assert postal_states(late_collected)["pickup"] == {"state": 3, "name": "Đã giao cho cơ quan"}
    assert postal_states([pickup_dossier, event("postal.booked"), event("postal.collected", minutes=5)])["pickup"]["state"] == 2


def test_a_cancelled_pickup_is_state_4_unless_already_handed_over() -> None:
    assert postal_states([event("postal.booked"), event("postal.cancelled", minutes=5)])["pickup"]["state"] == 4
    handed = [event("postal.booked"), event("postal.handed_over", minutes=60), event("postal.cancelled", minutes=90)]
    assert postal_states(handed)["pickup"]["state"] == 3


def test_result_by_post_is_chosen_then_handed_to_the_post_then_delivered() -> None:
    chosen = result(paper=True, by_post=ADDRESS)
    assert postal_states([chosen])["result_by_post"]["state"] == 2
    assert postal_states([chosen, event("postal.collected", leg="result")])["result_by_post"]["state"] == 3
    done = [chosen, event("postal.delivered", leg="result", minutes=60), event("postal.in_transit", leg="result", minutes=30)]
    assert postal_states(done)["result_by_post"] == {"state": 4, "name": "Đã phát"}
    # a pickup leg's events do not move the result's state
    assert postal_states([chosen, event("postal.delivered", leg="pickup")])["result_by_post"]["state"] == 2
