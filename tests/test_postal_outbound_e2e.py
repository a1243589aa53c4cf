"""Hub -> VNPost end to end over real parts: the one-stop system posts to the hub's API, the routing
table (hub/routes.yaml) sends postal work to ``postal_vnpost``, a worker process (with its relay)
delivers it to the VNPost simulator over loopback HTTP, and the ``postal.*`` events the connector
stores go on to the one-stop system's simulator. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from connectors.motcua.simulator import PATH as MOTCUA_PATH
from connectors.motcua.simulator import create_app as motcua_app
from connectors.postal_vnpost.settings import SANDBOX_AGENCIES, SANDBOX_AGENCY, SANDBOX_CUSTOMER
from connectors.postal_vnpost.simulator import create_app as vnpost_app
from hub.edge.app import create_app
from tests.conftest import Hub, make_settings, seed_hub
from tests.connectors.postal_samples import code, paper_result, pickup_dossier, status_change
from tests.factories import submitted
from tests.support import Portal, RedisServer, ThreadedServer, client, wait_until

SECRET = "e2e-vnpost-secret"
REFUSED_AGENCY = "000.00.01.H49"  #: configured with a customer code VNPost does not know
TIMEOUT = 1.0  #: the hub's VNPost timeout; latency above it makes VNPost book what the hub gave up on
SANDBOX = SANDBOX_AGENCIES[SANDBOX_AGENCY]


class Postal:
    """The running parts: the hub (API, worker), VNPost's and the one-stop system's simulators."""

    def __init__(self, hub: Hub, motcua: httpx.Client, ops: httpx.Client, vnpost: ThreadedServer, onestop: ThreadedServer):
        self.hub, self.motcua, self.ops, self.vnpost, self.onestop = hub, motcua, ops, vnpost, onestop

    def send(self, message: dict[str, Any]) -> None:
        r = self.motcua.post("/v1/messages", json=message)
        assert r.status_code == 202 and "postal_vnpost" in r.json()["destinations"], r.text

    def sim(self) -> dict[str, Any]:
        return httpx.get(f"{self.vnpost.url}/_sim/state").json()

    def faults(self, **patch: Any) -> None:
        httpx.post(f"{self.vnpost.url}/_sim/faults", json=patch).raise_for_status()

    def held(self, number: str) -> dict[str, Any]:
        """The order as VNPost holds it (the simulator's own record)."""
        orders: dict[str, dict[str, Any]] = self.vnpost.server.config.app.state.postal.orders
        return orders[number]

    def trace(self, dossier: str) -> dict[str, Any]:
        r = self.ops.get(f"/v1/dossiers/{dossier}/trace")
        assert r.status_code == 200, r.text
        return r.json()

    def to_post(self, dossier: str, kind: str) -> dict[str, Any] | None:
        """The postal_vnpost delivery of the dossier's ``kind`` message, when it has settled (delivered or dead)."""
        for m in self.trace(dossier)["messages"]:
            for d in m["deliveries"]:
                if m["type"] == kind and d["destination"] == "postal_vnpost" and d["state"] in ("delivered", "dead"):
                    return dict(d)
        return None

    def settled(self, dossier: str, kind: str) -> dict[str, Any]:
        found: dict[str, Any] = wait_until(lambda: self.to_post(dossier, kind), 40, what=f"{kind} of {dossier} settled")
        return found

    def postal(self, dossier: str, kind: str) -> list[dict[str, Any]]:
        """The dossier's stored ``postal.<kind>`` messages."""
        return [m for m in self.trace(dossier)["messages"] if m["type"] == f"postal.{kind}"]

    def reached_onestop(self, message_id: str) -> bool:
        return message_id in self.onestop.server.config.app.state.inbox.messages

    def advance(self, hours: float) -> None:
        """Move VNPost's simulated time: the orders' next events enter its tracking feed."""
        httpx.post(f"{self.vnpost.url}/_sim/advance", json={"seconds": hours * 3600}).raise_for_status()

    def arrived(self, dossier: str, kind: str, leg: str) -> dict[str, Any] | None:
        """The dossier's ``postal.<kind>`` message of ``leg``, once the one-stop system has it."""
        for m in self.postal(dossier, kind):
            if m["postal"]["leg"] == leg and self.reached_onestop(m["message_id"]):
                return m
        return None

    def dead(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for destination in ("postal_vnpost", "motcua"):
            items += self.ops.get("/v1/dead-letters", params={"destination": destination}).json()["items"]
        return items


@pytest.fixture
def postal(db_url: str, redis_server: RedisServer, portal: Portal, tmp_path: Path) -> Iterator[Postal]:
    """The hub on ``db_url`` with the repository's routing table, its worker started."""
    redis_server.flush()
    vnpost = ThreadedServer(vnpost_app("lienthong", SECRET, SANDBOX_CUSTOMER, token_ttl=3600, speed=0)).start()
    onestop = ThreadedServer(motcua_app()).start()
    sim = vnpost.url
    agencies = {SANDBOX_AGENCY: SANDBOX.model_dump(),
                REFUSED_AGENCY: {**SANDBOX.model_dump(), "customer_code": "SOMEONE-ELSE"}}
    settings = make_settings(db_url, redis_server.url, tmp_path, retry_schedule=[0.3] * 40, breaker_open_seconds=0.5,
                             partner_settings={
                                 "national_dvc": {"adapter_url": portal.url},
                                 "motcua": {"callback_url": f"{onestop.url}{MOTCUA_PATH}"},
                                 "postal_vnpost": {"token_url": f"{sim}/oauth/token", "order_url": f"{sim}/api/orders",
                                                   "cancel_url": f"{sim}/api/orders/cancel",
                                                   "tracking_url": f"{sim}/api/tracking",
                                                   "price_url": f"{sim}/api/price", "client_secret": SECRET,
                                                   "timeout": TIMEOUT, "agencies": agencies,
                                                   "feed_interval": 0.3}})
    hub = seed_hub(settings, tmp_path)
    api = ThreadedServer(create_app(settings)).start()
    try:
        with client(api.url, hub.keys["motcua"]) as motcua, client(api.url, hub.keys["ops"]) as ops:
            hub.worker()
            yield Postal(hub, motcua, ops, vnpost, onestop)
    finally:
        for p in hub.processes:
            p.end()
        api.stop()
        vnpost.stop()
        onestop.stop()
        hub.engine.dispose()


def test_a_pickup_retried_after_a_timeout_books_one_order(postal: Postal) -> None:
    postal.send(pickup_dossier(1))
    assert postal.settled(code(1), "dossier.submitted")["state"] == "delivered"  # the worker now holds a token
    postal.faults(latency_ms=TIMEOUT * 1000 + 700)  # VNPost books, but answers after the hub stopped waiting
    postal.send(pickup_dossier(2))
    wait_until(lambda: code(2) in postal.sim()["orders"], 20, what="VNPost booking the order the hub timed out on")
    postal.faults(latency_ms=0)
    delivery = postal.settled(code(2), "dossier.submitted")
    assert delivery["state"] == "delivered" and delivery["attempts"] >= 2, delivery
    counters = postal.sim()["counters"]
    assert counters["booked"] == 2 and counters["duplicates"] >= 1, "the retry was answered 101, not booked again"
    [booked] = postal.postal(code(2), "booked")
    assert booked["message_id"] == f"vnpost-booked-{code(2)}" and booked["postal"]["operator_code"] == "101"
    wait_until(lambda: postal.reached_onestop(booked["message_id"]), 20, what="postal.booked at the one-stop system")
    assert postal.dead() == []


def test_a_token_expired_mid_run_is_renewed_without_a_dead_letter(postal: Postal) -> None:
    postal.send(pickup_dossier(1))
    assert postal.settled(code(1), "dossier.submitted")["state"] == "delivered"
    postal.faults(expire_tokens=True)
    postal.send(pickup_dossier(2))
    delivery = postal.settled(code(2), "dossier.submitted")
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 1), "renewed within the same attempt"
    calls = postal.sim()["counters"]["calls"]
    assert calls["order"] == 3, "one refused with 401, then sent once more with a fresh token"
    assert calls["token"] >= 2  # the tracking job's own client renews its token too
    assert postal.dead() == [] and sorted(postal.sim()["orders"]) == [code(1), code(2)]


def test_a_withdrawn_dossier_cancels_its_pickup_order(postal: Postal) -> None:
    postal.send(pickup_dossier(1))
    assert postal.settled(code(1), "dossier.submitted")["state"] == "delivered"
    assert postal.trace(code(1))["postal"]["pickup"]["state"] == 1
    postal.send(status_change(1, 7))
    assert postal.settled(code(1), "status.changed")["state"] == "delivered"
    assert postal.sim()["orders"][code(1)]["cancelled"] is True
    [cancelled] = postal.postal(code(1), "cancelled")
    assert cancelled["message_id"] == f"vnpost-cancelled-{code(1)}" and cancelled["postal"]["leg"] == "pickup"
    assert postal.trace(code(1))["postal"]["pickup"] == {"state": 4, "name": "Đã hủy"}
    wait_until(lambda: postal.reached_onestop(cancelled["message_id"]), 20, what="postal.cancelled at the one-stop system")
    assert postal.dead() == []


def test_a_paper_result_by_post_books_a_kq_order_sent_by_the_agency(postal: Postal) -> None:
    postal.send(paper_result(1, cod_amount=15000))
    assert postal.settled(code(1), "result.issued")["state"] == "delivered"
    held = postal.held(f"{code(1)}-KQ")
    assert (held["SenderName"], held["SenderAddress"], held["SenderTel"]) == (SANDBOX.name, SANDBOX.address, SANDBOX.phone)
    assert (held["ReceiverName"], held["CODAmount"], held["CustomerCode"]) == ("Nguyễn Thị Thuỷ", 15000, SANDBOX_CUSTOMER)
    [booked] = postal.postal(code(1), "booked")
    assert booked["postal"]["leg"] == "result" and booked["postal"]["order_number"] == f"{code(1)}-KQ"
    assert postal.trace(code(1))["postal"]["result_by_post"]["state"] == 2
    assert postal.dead() == []


def test_vnpost_refusing_an_order_dead_letters_it_with_vnposts_message(postal: Postal) -> None:
    postal.send(pickup_dossier(1, agency=REFUSED_AGENCY))
    dead = postal.settled(code(1, REFUSED_AGENCY), "dossier.submitted")
    assert dead["state"] == "dead" and dead["attempts"] == 1, dead
    assert dead["last_error"].endswith("order: VNPost status 103: Mã khách hàng không hợp lệ"), dead["last_error"]
    assert postal.sim()["orders"] == {} and postal.postal(code(1, REFUSED_AGENCY), "booked") == []
    assert [d["id"] for d in postal.dead()] == [dead["id"]]


# --- the whole loop: VNPost's events come back through the tracking feed and the operator's reports ---


def test_a_pickup_collected_and_handed_over_reaches_the_one_stop_system_through_the_feed(postal: Postal) -> None:
    postal.send(pickup_dossier(1))
    assert postal.settled(code(1), "dossier.submitted")["state"] == "delivered"
    postal.advance(1)  # collected after 30 min, at the post office after 1 h
    collected = wait_until(lambda: postal.arrived(code(1), "collected", "pickup"), 30, what="postal.collected")
    assert collected["postal"]["operator_code"] == "6" and collected["postal"]["waybill"]
    assert postal.trace(code(1))["postal"]["pickup"]["state"] == 2
    postal.advance(4)  # delivered to the agency: handed over
    handed = wait_until(lambda: postal.arrived(code(1), "handed_over", "pickup"), 30, what="postal.handed_over")
    assert handed["message_id"].startswith("vnpost-") and handed["postal"]["operator_code"] == "14"
    assert postal.trace(code(1))["postal"]["pickup"] == {"state": 3, "name": "Đã giao cho cơ quan"}
    assert postal.dead() == []


def test_a_paper_result_booked_by_post_is_delivered_and_the_delivery_reaches_the_one_stop_system(postal: Postal) -> None:
    postal.send(paper_result(1))
    assert postal.settled(code(1), "result.issued")["state"] == "delivered"
    postal.advance(5)  # the whole journey: collected at the agency ... delivered to the citizen
    delivered = wait_until(lambda: postal.arrived(code(1), "delivered", "result"), 30, what="postal.delivered")
    assert delivered["postal"]["order_number"] == f"{code(1)}-KQ"
    trace = postal.trace(code(1))
    assert trace["postal"]["result_by_post"] == {"state": 4, "name": "Đã phát"}
    steps = [m["type"] for m in trace["messages"] if m["type"].startswith("postal.")]
    assert steps[0] == "postal.booked" and steps[-1] == "postal.delivered" and "postal.collected" in steps
    assert postal.dead() == []


def test_the_operators_sync_shows_exactly_its_orders_with_the_receipt_and_its_reports_flow_back(postal: Postal) -> None:
    postal.send(pickup_dossier(1))
    postal.send(pickup_dossier(2))
    online = submitted(3)  # filed online: nothing for the post
    assert online["dossier_code"] == code(3)
    assert postal.motcua.post("/v1/messages", json=online).status_code == 202
    for seq in (1, 2):
        assert postal.settled(code(seq), "dossier.submitted")["state"] == "delivered"
    with client(str(postal.ops.base_url), postal.hub.keys["postal_vnpost"]) as post:
        first = post.get("/v1/postal/pickups", params={"since": 0}).json()
        assert sorted(i["order_number"] for i in first["items"]) == [code(1), code(2)], "its pickups, nothing else"
        assert all(i["leg"] == "pickup" and i["receipt"] is None for i in first["items"])
        assert post.get("/v1/postal/pickups", params={"since": first["next"]}).json()["items"] == []

        postal.send(status_change(1, 2, receipt_number="BN-000001"))  # the one-stop system accepts dossier 1
        assert postal.settled(code(1), "status.changed")["state"] == "delivered"
        [receipt] = post.get("/v1/postal/pickups", params={"since": first["next"]}).json()["items"]
        assert receipt["order_number"] == code(1) and receipt["receipt"]["number"] == "BN-000001"

        report = {"_id": "bc-report-0001", "OrderNumber": code(2), "ItemCode": "EE900000001VN", "POSID": "200100",
                  "EventTime": "2026-11-23T09:15:00+07:00", "StatusCode": "6", "StatusMessage": "Bưu tá đã nhận hồ sơ"}
        r = post.post("/v1/postal/events", json=[report])
        assert r.status_code == 202 and r.json()["stored"] == 1, r.text
    collected = wait_until(lambda: postal.arrived(code(2), "collected", "pickup"), 30, what="the report at the one-stop system")
    assert collected["message_id"] == "vnpost-bc-report-0001"
    assert postal.trace(code(2))["postal"]["pickup"]["state"] == 2
    assert postal.dead() == []
