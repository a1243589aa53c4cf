"""The one-stop system connector against its simulator over real HTTP.

Rules: a message is posted as canonical JSON and is ok; a message the system already has (409) is
ok and not stored twice; a refusal (4xx) is permanent; an outage (5xx) or a timeout is transient
and stops the rest of the call, so later messages never overtake it; routing accepts only
``payment.confirmed`` for it.
"""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from connectors.motcua.connector import MotcuaConnector
from connectors.motcua.simulator import PATH, create_app
from hub.config import Settings
from hub.context import context
from hub.messages.models import POSTAL_TYPES
from hub.plugins import destinations
from tests.connectors.payment_samples import confirmed
from tests.support import ThreadedServer


@pytest.fixture(scope="module")
def onestop() -> Iterator[str]:
    with ThreadedServer(create_app()).start() as server:
        yield server.url


@pytest.fixture
def connector(onestop: str) -> Iterator[MotcuaConnector]:
    httpx.post(f"{onestop}/_sim/reset").raise_for_status()
    c = MotcuaConnector.from_context(context("motcua", Settings(), callback_url=f"{onestop}{PATH}", timeout=0.5))
    yield c
    c.close()


def state(onestop: str) -> dict:
    return httpx.get(f"{onestop}/_sim/state").json()


def test_messages_are_posted_as_canonical_json(connector: MotcuaConnector, onestop: str) -> None:
    messages = [confirmed("GD1"), confirmed("GD2")]
    assert [o.kind for o in connector.deliver(messages)] == ["ok", "ok"]
    received = httpx.get(f"{onestop}/_sim/messages/payment:GD1").json()
    assert received["message"] == messages[0].model_dump(mode="json")
    assert received["times"] == 1 and received["signed"] is False


def test_a_message_the_system_already_has_is_ok_and_kept_once(connector: MotcuaConnector, onestop: str) -> None:
    connector.deliver([confirmed("GD3")])
    [again] = connector.deliver([confirmed("GD3")])
    assert again.kind == "ok" and "409" in again.detail
    assert state(onestop)["counters"]["received"] == 1
    assert httpx.get(f"{onestop}/_sim/messages/payment:GD3").json()["times"] == 2


def test_a_refusal_is_permanent_and_does_not_stop_the_next_message(connector: MotcuaConnector, onestop: str) -> None:
    httpx.post(f"{onestop}/_sim/faults", json={"reject_next": 1}).raise_for_status()
    outcomes = connector.deliver([confirmed("GD4"), confirmed("GD5")])
    assert [o.kind for o in outcomes] == ["permanent", "ok"]
    assert "HTTP 422" in outcomes[0].detail


def test_an_outage_is_transient_and_later_messages_are_not_sent(connector: MotcuaConnector, onestop: str) -> None:
    httpx.post(f"{onestop}/_sim/faults", json={"fail_next": 1}).raise_for_status()
    outcomes = connector.deliver([confirmed("GD6"), confirmed("GD7")])
    assert [o.kind for o in outcomes] == ["transient", "transient"]
    assert state(onestop)["counters"]["posts"] == 1  # the second was never sent
    assert [o.kind for o in connector.deliver([confirmed("GD6"), confirmed("GD7")])] == ["ok", "ok"]


def test_a_timeout_is_transient(connector: MotcuaConnector, onestop: str) -> None:
    httpx.post(f"{onestop}/_sim/faults", json={"latency_ms": 1500}).raise_for_status()
    [outcome] = connector.deliver([confirmed("GD8")])
    assert outcome.kind == "transient" and "timed out" in outcome.detail


def test_routing_knows_motcua_takes_payments_postal_events_the_portals_notices_and_what_ministries_send_back() -> None:
    assert destinations()["motcua"] == frozenset({"payment.confirmed", *POSTAL_TYPES,
                                                  "status.changed", "result.issued", "fee.notice",
                                                  "catalogue.changed", "question.asked", "payment.opened",
                                                  "payment.receipt"})
