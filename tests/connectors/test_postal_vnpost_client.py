"""The VNPost client against the simulator over loopback HTTP: token, orders, errors, the tracking feed."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

import httpx
import pytest

from connectors.postal_vnpost.client import PermanentError, TransientError, VnpostClient
from connectors.postal_vnpost.interface import Order, PlaceCode, PriceQuery, TrackingPage
from connectors.postal_vnpost.interface import VnpostClient as VnpostClientProtocol
from hub.config import Settings
from hub.context import context
from tests.connectors.postal_samples import CUSTOMER, ORDER
from tests.support import ThreadedServer, reset

SECRET = "test-vnpost-secret"


def order(n: int = 1, **fields: Any) -> Order:
    return Order.model_validate({**ORDER, "OrderNumber": f"000.00.00.H49-261123-{n:04d}", **fields})


@pytest.fixture
def sim(vnpost_server: ThreadedServer) -> str:
    """VNPost's simulator (this module's SECRET and CUSTOMER), reset."""
    return reset(vnpost_server)


@pytest.fixture
def make(sim: str) -> Iterator[Callable[..., VnpostClient]]:
    made: list[VnpostClient] = []

    def build(url: str = sim, timeout: float = 3.0, secret: str = SECRET) -> VnpostClient:
        ctx = context("postal_vnpost", Settings(), token_url=f"{url}/oauth/token", order_url=f"{url}/api/orders",
                      cancel_url=f"{url}/api/orders/cancel", tracking_url=f"{url}/api/tracking",
                      price_url=f"{url}/api/price", customer_code=CUSTOMER, client_secret=secret, timeout=timeout)
        client = VnpostClient(token_url=ctx.settings.token_url, order_url=ctx.settings.order_url,
                              cancel_url=ctx.settings.cancel_url, tracking_url=ctx.settings.tracking_url,
                              price_url=ctx.settings.price_url, customer_code=CUSTOMER, client_id="lienthong",
                              client_secret=secret, timeout=timeout)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


def state(sim: str) -> dict[str, Any]:
    return httpx.get(f"{sim}/_sim/state").json()


def faults(sim: str, **patch: Any) -> None:
    httpx.post(f"{sim}/_sim/faults", json=patch).raise_for_status()


def advance(sim: str, seconds: float) -> None:
    httpx.post(f"{sim}/_sim/advance", json={"seconds": seconds}).raise_for_status()


def ids(page: TrackingPage) -> list[str | None]:
    return [e.event_id for e in page.events]


def test_client_satisfies_the_contract_protocol(make: Callable[..., VnpostClient]) -> None:
    assert isinstance(make(), VnpostClientProtocol)


def test_from_context_takes_the_vault_credential_before_the_setting(sim: str) -> None:
    class Ctx:
        settings = context("postal_vnpost", Settings(), token_url=f"{sim}/oauth/token", order_url=f"{sim}/api/orders",
                           customer_code=CUSTOMER, client_secret="wrong").settings
        asked: list[tuple[str, str | None]] = []

        def credential(self, name: str, fallback: str | None = None) -> str | None:
            self.asked.append((name, fallback))
            return SECRET

    ctx = Ctx()
    client = VnpostClient.from_context(ctx)  # type: ignore[arg-type]
    try:
        assert client.create_order(order()).Status == "100"
        assert ctx.asked == [("client_secret", "wrong")]
    finally:
        client.close()


def test_token_is_fetched_once_and_reused_across_calls(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1))
    client.create_order(order(2))
    client.track(None)
    assert state(sim)["counters"]["calls"]["token"] == 1


def test_token_refused_with_401_after_expire_tokens_is_renewed_without_an_error(
        make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1))
    faults(sim, expire_tokens=True)
    assert client.create_order(order(2)).Status == "100"
    calls = state(sim)["counters"]["calls"]
    assert calls["token"] == 2 and calls["order"] == 3  # the refused call, sent once more with the new token


def test_token_is_renewed_margin_seconds_before_it_expires(sim: str) -> None:
    now = [1000.0]
    client = VnpostClient(token_url=f"{sim}/oauth/token", order_url=f"{sim}/api/orders", cancel_url="", tracking_url="",
                          price_url="", customer_code=CUSTOMER, client_id="lienthong", client_secret=SECRET,
                          margin=60, clock=lambda: now[0])
    try:
        first = client.token()
        now[0] += 3600 - 61
        assert client.token() == first
        now[0] += 2  # within the margin of its 3600 s
        assert client.token() != first
    finally:
        client.close()


def test_wrong_secret_is_a_transient_error_that_names_no_secret(make: Callable[..., VnpostClient]) -> None:
    with pytest.raises(TransientError) as caught:
        make(secret="not-the-secret").create_order(order())
    assert "token" in caught.value.reason and "not-the-secret" not in str(caught.value)


def test_order_booked_100_then_the_same_order_101_counts_as_success(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    assert client.create_order(order()).Status == "100"
    again = client.create_order(order())
    assert again.Status == "101"
    assert state(sim)["counters"]["booked"] == 1


def test_order_refused_by_the_schema_is_permanent_with_vnposts_message(make: Callable[..., VnpostClient]) -> None:
    malformed = Order.model_construct(**{**ORDER, "OrderNumber": "HS-0001"})  # skips the model's own checks
    with pytest.raises(PermanentError) as caught:
        make().create_order(malformed)
    assert caught.value.status == "102"
    assert "Dữ liệu không hợp lệ: trường OrderNumber" in caught.value.reason


def test_order_of_another_customer_code_is_permanent(make: Callable[..., VnpostClient]) -> None:
    with pytest.raises(PermanentError, match="Mã khách hàng không hợp lệ"):
        make().create_order(order(CustomerCode="OTHER"))


def test_simulator_down_503_is_transient(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.token()
    faults(sim, down=True)
    with pytest.raises(TransientError) as caught:
        client.create_order(order())
    assert caught.value.http_status == 503


def test_timeout_is_transient(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make(timeout=0.2)
    client.token()
    faults(sim, latency_ms=600)
    with pytest.raises(TransientError, match="timed out"):
        client.track(None)


def test_refused_connection_is_transient(make: Callable[..., VnpostClient]) -> None:
    from tests.support import free_port

    with pytest.raises(TransientError, match="connection failed"):
        make(url=f"http://127.0.0.1:{free_port()}").create_order(order())


def test_nothing_logged_names_the_secret_or_the_citizen(make: Callable[..., VnpostClient], sim: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make()
    client.create_order(order())
    client.create_order(order())
    faults(sim, expire_tokens=True)
    client.track(None)
    text = caplog.text
    assert SECRET not in text and "Nguyễn Thị Thuỷ" not in text and "0912345678" not in text


def test_cancel_before_pickup_then_unknown_order_is_permanent(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order())
    assert client.cancel(ORDER["OrderNumber"]).Status == "100"
    assert state(sim)["orders"][ORDER["OrderNumber"]]["statuses"] == ["1", "9"]
    with pytest.raises(PermanentError, match="104"):
        client.cancel("000.00.00.H49-261123-9999")


def test_cancel_after_pickup_is_refused(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order())
    advance(sim, 1800)
    with pytest.raises(PermanentError, match="không thể hủy"):
        client.cancel(ORDER["OrderNumber"])


def read_feed(client: VnpostClient, page_size: int) -> tuple[list[str], list[str]]:
    """Every event after the first lastId, page by page, the next lastId being the last _id read."""
    last_id: str | None = None
    seen: list[str] = []
    statuses: list[str] = []
    while True:
        page = client.track(last_id, page_size)
        if not page.events:
            return seen, statuses
        for event in page.events:
            assert event.event_id is not None
            seen.append(event.event_id)
            statuses.append(f"{event.OrderNumber[-4:]}:{event.StatusCode}")
        last_id = page.events[-1].event_id


def test_feed_read_page_by_page_returns_every_event_once_in_order(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1))
    advance(sim, 1800)
    client.create_order(order(2))
    advance(sim, 20000)
    seen, statuses = read_feed(client, page_size=3)
    assert len(seen) == len(set(seen)) == 10 == state(sim)["events"]
    assert seen == sorted(seen) and all(len(i) == 24 and int(i, 16) >= 0 for i in seen)
    assert statuses == ["0001:1", "0001:6", "0002:1", "0001:7", "0002:6", "0002:7", "0001:10", "0002:10",
                        "0001:14", "0002:14"]


def test_feed_event_carries_the_wire_fields(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1, ItemCode="EE123456789VN"))
    page = client.track(None, 10)
    assert (page.returned, page.size, page.total_pages) == (1, 1, 1)
    event = page.events[0]
    assert (event.CustomerCode, event.ItemCode, event.StatusCode) == (CUSTOMER, "EE123456789VN", "1")
    assert isinstance(event.EventTime, int) and event.EventTime > 1_700_000_000_000  # epoch milliseconds


def test_feed_stays_empty_until_simulated_time_passes(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order())
    first = client.track(None)
    assert [e.StatusCode for e in first.events] == ["1"]
    assert client.track(first.events[-1].event_id).events == []
    advance(sim, 3600)
    assert [e.StatusCode for e in client.track(first.events[-1].event_id).events] == ["6", "7"]


def test_repeat_page_fault_is_visible_to_the_client_as_repeated_ids(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1))
    client.create_order(order(2))
    first = client.track(None, 10)
    faults(sim, repeat_page=1)
    again = client.track(first.events[-1].event_id, 10)
    assert ids(again) == ids(first) and len(ids(first)) == 2


def test_duplicate_events_fault_is_visible_to_the_client_as_repeated_ids(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1))
    faults(sim, duplicate_events=True)
    page = client.track(None, 10)
    assert len(ids(page)) == 2 and len(set(ids(page))) == 1


def test_out_of_order_and_stall_faults_are_served_as_is(make: Callable[..., VnpostClient], sim: str) -> None:
    client = make()
    client.create_order(order(1))
    advance(sim, 1800)
    faults(sim, out_of_order=True)
    served = ids(client.track(None, 10))
    assert served == sorted(served, reverse=True) and len(served) == 2  # type: ignore[type-var]
    faults(sim, out_of_order=False, stall=True)
    assert client.track(None, 10).events == []


def test_price_query_answer_is_kept_as_received(make: Callable[..., VnpostClient]) -> None:
    query = PriceQuery(weight=1200, isreturn=True, sender=PlaceCode(provCode="22", distCode="193"),
                       receiver=PlaceCode(provCode="01", distCode="001"))
    answer = make().quote_price(query)
    assert answer.model_dump() == {"mainSrv": "HCC", "weight": 1200, "fee": 17000, "total": 34000}
