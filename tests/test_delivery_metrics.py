"""Delivery gauges at /metrics: the backlog per destination and state, and the oldest due delivery's
wait, read from the database so every API process reports the same figures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import update

from hub.queue.metrics import refresh_delivery_gauges
from hub.store.tables import deliveries
from tests.conftest import Hub
from tests.factories import status_changed


def scrape(api: str) -> dict[str, float]:
    """The lienthong_deliveries* samples of one scrape, by their text name with labels."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in httpx.get(f"{api}/metrics").text.splitlines() if line.startswith("lienthong_deliver")}


def test_undelivered_deliveries_are_gauged_per_destination_and_state(motcua: httpx.Client, api: str, hub: Hub) -> None:
    for seq in (1, 2, 3):
        assert motcua.post("/v1/messages", json=status_changed(seq=seq)).status_code == 202
    with hub.engine.begin() as conn:
        first = conn.execute(deliveries.select().order_by(deliveries.c.id)).first()
        assert first is not None
        conn.execute(update(deliveries).where(deliveries.c.id == first.id).values(state="dead"))
    samples = scrape(api)
    dest = first.destination
    assert samples[f'lienthong_deliveries{{destination="{dest}",state="pending"}}'] == 2
    assert samples[f'lienthong_deliveries{{destination="{dest}",state="dead"}}'] == 1
    assert samples[f'lienthong_deliveries{{destination="{dest}",state="sending"}}'] == 0


def test_lag_is_how_long_the_oldest_due_delivery_has_waited(motcua: httpx.Client, hub: Hub) -> None:
    assert motcua.post("/v1/messages", json=status_changed(seq=1)).status_code == 202
    now = datetime.now(timezone.utc)
    with hub.engine.begin() as conn:
        conn.execute(update(deliveries).values(next_attempt_at=now - timedelta(seconds=90)))
    counts = refresh_delivery_gauges(hub.engine, now)
    [dest] = counts
    assert REGISTRY.get_sample_value("lienthong_delivery_lag_seconds", {"destination": dest}) == 90.0
    with hub.engine.begin() as conn:  # retried later: not due yet, so nothing is late
        conn.execute(update(deliveries).values(state="retrying", next_attempt_at=now + timedelta(seconds=30)))
    refresh_delivery_gauges(hub.engine, now)
    assert REGISTRY.get_sample_value("lienthong_delivery_lag_seconds", {"destination": dest}) == 0.0


def test_a_drained_destination_reports_zero_instead_of_vanishing(motcua: httpx.Client, hub: Hub) -> None:
    assert motcua.post("/v1/messages", json=status_changed(seq=1)).status_code == 202
    [dest] = refresh_delivery_gauges(hub.engine)
    with hub.engine.begin() as conn:
        conn.execute(update(deliveries).values(state="delivered"))
    assert refresh_delivery_gauges(hub.engine) == {}
    assert REGISTRY.get_sample_value("lienthong_deliveries", {"destination": dest, "state": "pending"}) == 0


def test_every_routed_destination_is_reported_even_before_its_first_delivery(api: str) -> None:
    samples = scrape(api)
    assert samples['lienthong_deliveries{destination="national_dvc",state="pending"}'] == 0
    assert samples['lienthong_delivery_lag_seconds{destination="national_dvc"}'] == 0
