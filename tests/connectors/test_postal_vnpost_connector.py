"""The VNPost connector against its simulator over loopback HTTP, on a real hub database (SQLite and
PostgreSQL): it books, notes receipts and cancels; each booking or cancellation is stored with its
canonical event in one transaction; a redelivery books nothing twice; outcomes are classified."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from connectors.postal_vnpost import records
from connectors.postal_vnpost.client import VnpostClient
from connectors.postal_vnpost.connector import PostalConnector
from connectors.postal_vnpost.mapping import pickup_order
from connectors.postal_vnpost.settings import AgencyPost
from hub.context import context
from hub.messages.models import MESSAGE_ADAPTER
from hub.store.engine import reading
from hub.store.tables import deliveries, messages
from tests.conftest import Hub
from tests.connectors.postal_samples import AGENCY_ID, code, paper_result, pickup_dossier, status_change
from tests.factories import T0
from tests.support import ThreadedServer, reset

SECRET = "test-vnpost-secret"
CUSTOMER = "QNI0001"
OTHER_AGENCY = "000.00.01.H49"
AGENCY = {"customer_code": CUSTOMER, "name": "Bộ phận Một cửa UBND tỉnh Quảng Ninh", "phone": "02033835555",
          "address": "Trung tâm Phục vụ hành chính công tỉnh, phường Hồng Hà, thành phố Hạ Long",
          "province_code": "22", "district_code": "193"}


@pytest.fixture
def sim(vnpost_server: ThreadedServer) -> str:
    """VNPost's simulator (this module's SECRET and CUSTOMER), reset."""
    return reset(vnpost_server)


def urls(sim: str) -> dict[str, str]:
    return {"token_url": f"{sim}/oauth/token", "order_url": f"{sim}/api/orders",
            "cancel_url": f"{sim}/api/orders/cancel", "tracking_url": f"{sim}/api/tracking",
            "price_url": f"{sim}/api/price"}


@pytest.fixture
def make(hub: Hub, sim: str) -> Iterator[Callable[..., PostalConnector]]:
    made: list[PostalConnector] = []

    def build(agencies: dict[str, Any] | None = None) -> PostalConnector:
        ctx = context("postal_vnpost", hub.settings, **urls(sim), client_secret=SECRET, timeout=2.0,
                      agencies=agencies if agencies is not None else {AGENCY_ID: AGENCY})
        connector = PostalConnector.from_context(ctx)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        connector.close()


def envelope(raw: dict[str, Any]) -> Any:
    return MESSAGE_ADAPTER.validate_python(raw)


def state(sim: str) -> dict[str, Any]:
    return httpx.get(f"{sim}/_sim/state").json()


def postal_messages(hub: Hub, kind: str) -> list[tuple[str, list[str]]]:
    """(message_id, destinations) of every stored ``postal.<kind>`` message."""
    with reading(hub.engine) as conn:
        rows = conn.execute(select(messages.c.message_id, messages.c.id).where(messages.c.type == f"postal.{kind}")).all()
        return [(mid, list(conn.execute(select(deliveries.c.destination).where(deliveries.c.message_pk == pk)).scalars()))
                for mid, pk in rows]


def kinds(outcomes: list[Any]) -> list[str]:
    return [o.kind for o in outcomes]


def test_a_pickup_dossier_books_one_order_stored_with_its_booked_event(hub: Hub, make: Callable[..., PostalConnector],
                                                                       sim: str) -> None:
    [outcome] = make().deliver([envelope(pickup_dossier())])
    assert outcome.kind == "ok" and "status 100" in outcome.detail, outcome
    assert state(sim)["orders"][code(1)]["cancelled"] is False
    order = records.find(hub.engine, "postal_vnpost", code(1))
    assert order is not None and (order.leg, order.state, order.agency_id, order.cod_amount) == ("pickup", "booked",
                                                                                                 AGENCY_ID, 35000)
    assert order.job["what"] == ["Tờ khai đăng ký khai sinh", "Bản sao giấy chứng sinh"]
    assert postal_messages(hub, "booked") == [(f"vnpost-booked-{code(1)}", ["motcua"])], "routed to the one-stop system"


def test_a_redelivered_dossier_books_nothing_twice(hub: Hub, make: Callable[..., PostalConnector], sim: str) -> None:
    connector = make()
    connector.deliver([envelope(pickup_dossier())])
    [again] = connector.deliver([envelope(pickup_dossier())])
    assert again.kind == "ok" and "already holds" in again.detail
    assert state(sim)["counters"]["calls"]["order"] == 1, "the hub did not even ask VNPost again"
    assert len(postal_messages(hub, "booked")) == 1


def test_an_order_vnpost_already_holds_counts_as_booked_with_status_101(hub: Hub, make: Callable[..., PostalConnector],
                                                                         sim: str) -> None:
    # an earlier attempt reached VNPost and the hub never heard back: VNPost holds the order, the hub does not
    client = VnpostClient(**urls(sim), customer_code=CUSTOMER, client_id="lienthong", client_secret=SECRET)
    try:
        client.create_order(pickup_order(envelope(pickup_dossier()), AgencyPost(**AGENCY)))
    finally:
        client.close()
    [outcome] = make().deliver([envelope(pickup_dossier())])
    assert outcome.kind == "ok" and "status 101" in outcome.detail
    assert state(sim)["counters"]["booked"] == 1 and state(sim)["counters"]["duplicates"] == 1
    with reading(hub.engine) as conn:
        body = conn.execute(select(messages.c.body).where(messages.c.type == "postal.booked")).scalar_one()
    assert '"operator_code":"101"' in body.replace(" ", "")
    assert records.find(hub.engine, "postal_vnpost", code(1)) is not None


def test_a_paper_result_by_post_books_the_kq_delivery_order_from_the_agency(hub: Hub, make: Callable[..., PostalConnector],
                                                                           vnpost_server: ThreadedServer, sim: str) -> None:
    [outcome] = make().deliver([envelope(paper_result())])
    assert outcome.kind == "ok", outcome
    held = vnpost_server.server.config.app.state.postal.orders[f"{code(1)}-KQ"]
    assert (held["SenderName"], held["ReceiverName"], held["CODAmount"]) == (AGENCY["name"], "Nguyễn Thị Thuỷ", 12000)
    order = records.find(hub.engine, "postal_vnpost", f"{code(1)}-KQ")
    assert order is not None and order.leg == "result" and order.job["what"] == ["Kết quả giải quyết TTHC"]


def test_messages_without_postal_work_are_ok_and_send_nothing(make: Callable[..., PostalConnector], sim: str) -> None:
    plain = pickup_dossier()
    del plain["payload"]["pickup"]  # type: ignore[attr-defined]
    outcomes = make().deliver([envelope(plain), envelope(paper_result(seq=2, by_post=False)),
                               envelope(status_change(3, 4)), envelope(status_change(4, 7))])
    assert kinds(outcomes) == ["ok"] * 4
    assert [o.detail for o in outcomes] == ["not a pickup dossier", "not a paper result by post",
                                           "status 4: nothing for the post", "no open postal order"]
    assert state(sim)["counters"]["calls"] == {}, "VNPost was not called"


def test_an_agency_with_no_postal_configuration_is_a_permanent_refusal(make: Callable[..., PostalConnector], sim: str) -> None:
    [outcome] = make().deliver([envelope(pickup_dossier(agency=OTHER_AGENCY))])
    assert (outcome.kind, outcome.detail) == ("permanent", f"no postal configuration for agency {OTHER_AGENCY}")
    assert state(sim)["counters"]["calls"] == {}


def test_a_type_it_does_not_take_is_permanent(make: Callable[..., PostalConnector]) -> None:
    notice = {"message_id": "fee-1", "type": "fee.notice", "source": "motcua", "occurred_at": T0.isoformat(),
              "dossier_code": code(1), "payload": {"agency_id": AGENCY_ID, "procedure_code": "2.000477",
                                                   "fees": [{"code": "LP", "name": "Lệ phí", "amount": 8000}]}}
    [outcome] = make().deliver([envelope(notice)])
    assert outcome.kind == "permanent" and "fee.notice not accepted" in outcome.detail


def test_vnposts_refusal_is_permanent_with_its_message_and_stores_nothing(hub: Hub, make: Callable[..., PostalConnector],
                                                                         sim: str) -> None:
    connector = make({AGENCY_ID: {**AGENCY, "customer_code": "SOMEONE-ELSE"}})
    [outcome] = connector.deliver([envelope(pickup_dossier())])
    assert outcome.kind == "permanent" and outcome.detail == "order: VNPost status 103: Mã khách hàng không hợp lệ"
    assert records.find(hub.engine, "postal_vnpost", code(1)) is None and postal_messages(hub, "booked") == []


def test_after_a_transient_failure_the_rest_of_the_call_is_not_sent(hub: Hub, make: Callable[..., PostalConnector],
                                                                    sim: str) -> None:
    httpx.post(f"{sim}/_sim/faults", json={"down": True}).raise_for_status()
    outcomes = make().deliver([envelope(pickup_dossier(1)), envelope(pickup_dossier(2))])
    assert kinds(outcomes) == ["transient", "transient"]
    assert outcomes[1].detail.startswith("not sent: an earlier message failed")
    assert state(sim)["counters"]["calls"] == {"token": 1}, "the second dossier never reached VNPost"
    assert records.of_dossier(hub.engine, "postal_vnpost", code(1)) == []


def test_the_acceptance_receipt_is_kept_on_the_pickup_order(hub: Hub, make: Callable[..., PostalConnector]) -> None:
    connector = make()
    connector.deliver([envelope(pickup_dossier())])
    [outcome] = connector.deliver([envelope(status_change(1, 2, receipt_number="BN-2026-000123"))])
    assert (outcome.kind, outcome.detail) == ("ok", "receipt noted on 1 pickup order(s)")
    order = records.find(hub.engine, "postal_vnpost", code(1))
    assert order is not None and order.receipt_number == "BN-2026-000123" and order.receipt_at is not None


def test_a_withdrawn_dossier_cancels_its_open_order_once(hub: Hub, make: Callable[..., PostalConnector], sim: str) -> None:
    connector = make()
    connector.deliver([envelope(pickup_dossier())])
    [outcome] = connector.deliver([envelope(status_change(1, 7))])
    assert (outcome.kind, outcome.detail) == ("ok", "cancelled 1 order(s)")
    assert state(sim)["orders"][code(1)]["cancelled"] is True
    order = records.find(hub.engine, "postal_vnpost", code(1))
    assert order is not None and order.state == "cancelled" and order.cancelled_at is not None
    assert postal_messages(hub, "cancelled") == [(f"vnpost-cancelled-{code(1)}", ["motcua"])]
    [again] = connector.deliver([envelope(status_change(1, 7))])
    assert again.detail == "no open postal order" and state(sim)["counters"]["cancelled"] == 1


def test_a_cancel_too_late_is_permanent_with_vnposts_message(hub: Hub, make: Callable[..., PostalConnector],
                                                            sim: str) -> None:
    connector = make()
    connector.deliver([envelope(pickup_dossier())])
    httpx.post(f"{sim}/_sim/advance", json={"seconds": 1800}).raise_for_status()  # the postman has collected it
    [outcome] = connector.deliver([envelope(status_change(1, 8))])
    assert outcome.kind == "permanent" and outcome.detail.startswith("cancel: VNPost status 105: ")
    order = records.find(hub.engine, "postal_vnpost", code(1))
    assert order is not None and order.state == "booked" and postal_messages(hub, "cancelled") == []


def test_a_booking_and_its_event_are_stored_together_or_not_at_all(hub: Hub, make: Callable[..., PostalConnector],
                                                                  sim: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The order row fails to write: no postal.booked message either, and the delivery is worth retrying."""
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    connector = make()
    monkeypatch.setattr(records, "book", broken)
    with pytest.raises(RuntimeError):
        connector.deliver([envelope(pickup_dossier())])
    with reading(hub.engine) as conn:
        assert conn.execute(select(func.count()).select_from(messages).where(messages.c.type == "postal.booked")).scalar() == 0
    monkeypatch.undo()
    [outcome] = connector.deliver([envelope(pickup_dossier())])
    assert outcome.kind == "ok" and "status 101" in outcome.detail, "the retry finds VNPost holds it"
    assert len(postal_messages(hub, "booked")) == 1
