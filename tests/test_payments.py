"""The payment platform's confirmation callback, through the hub's real API (hub/edge/payments.py).

Rules: a paid callback with a valid MaXacThuc is answered "00" with a valid reply checksum, stored
once as payment.confirmed and delivered by a worker to the one-stop system; a callback with any
covered field changed after signing is refused (401, "01", unsigned reply), nothing is stored, and
its access record says checksum_mismatch; a resend or duplicate answers "00" and stores nothing new;
another partner's code, a malformed body and an address outside the allowlist are refused with
nothing stored; a failed payment is acknowledged and not forwarded. The hub's secret is seeded in
its vault and the payment is one it knows of (tests/security/test_payment_callbacks.py holds the
binding to that record).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from connectors.motcua import simulator as onestop_sim
from connectors.national_dvc.payment import checksum
from connectors.national_dvc.payment import simulator as platform_sim
from connectors.national_dvc.payment.client import PaymentClient
from connectors.national_dvc.payment.records import Ledger, find
from hub.edge.app import create_app
from hub.partners import update_partner
from hub.store.engine import reading
from hub.store.tables import access_records, messages
from hub.vault.store import Vault
from tests.conftest import Hub, make_settings, seed_hub
from tests.connectors.payment_samples import DOSSIER, PARTNER, SECRET, bien_lai, fresh, known
from tests.support import RedisServer, ThreadedServer, wait_until, with_partner

CALLBACK = "/v1/payments/callback"


@pytest.fixture
def hub(hub: Hub) -> Hub:
    """The suite's hub with the payment secret in its vault and the payment of ``callback()`` known."""
    Vault(hub.engine, hub.settings).put("national_payment.secret", SECRET, actor="test")
    known(hub.engine)
    return hub


def post(api: str, body: Any, **headers: str) -> tuple[httpx.Response, str]:
    """Post a callback as the platform does (no API key); the response and its request id."""
    request_id = uuid.uuid4().hex
    response = httpx.post(f"{api}{CALLBACK}", json=body, headers={"X-Request-Id": request_id, **headers}, timeout=10)
    return response, request_id


def stored(hub: Hub) -> int:
    with reading(hub.engine) as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def outcome(hub: Hub, request_id: str) -> Any:
    def find() -> list[Any]:
        with reading(hub.engine) as conn:
            return list(conn.execute(select(access_records).where(access_records.c.caller_request_id == request_id)))
    [record] = wait_until(find, 5, what=f"the access record of {request_id}")
    return record


def test_paid_callback_is_answered_00_with_a_valid_reply_checksum_and_stored(api: str, hub: Hub) -> None:
    response, request_id = post(api, fresh())
    assert response.status_code == 200
    reply = response.json()
    assert reply["MaLoi"] == "00" and reply["MaThamChieu"] == "HS2611230001-01" and reply["MaDoiTac"] == PARTNER
    assert checksum.verify("REPLY", reply, SECRET)
    with reading(hub.engine) as conn:
        [row] = conn.execute(select(messages)).all()
    assert (row.message_id, row.type, row.source, row.dossier_code) == (
        "payment:GD7F3A0C11B2", "payment.confirmed", "national_payment", DOSSIER)
    record = outcome(hub, request_id)
    assert (record.outcome, record.partner_code, record.message_ids) == ("ok", "national_payment", "payment:GD7F3A0C11B2")


def test_each_tampered_callback_field_is_refused_and_nothing_is_stored(api: str, hub: Hub) -> None:
    signed = fresh()
    request_ids = []
    for field in checksum.FIELDS["CALLBACK"]:
        tampered = {**signed, field: str(signed[field]) + "1"}
        response, request_id = post(api, tampered)
        assert response.status_code == 401, field
        assert response.json()["MaLoi"] == "01", field
        assert response.json()["MaXacThuc"] == "", "a refusal of an unauthenticated body is never signed"
        request_ids.append(request_id)
    assert stored(hub) == 0
    assert {outcome(hub, r).outcome for r in request_ids} == {"checksum_mismatch"}
    assert outcome(hub, request_ids[0]).partner_code == "national_payment"


def test_duplicate_callback_answers_00_and_stores_one_message(api: str, hub: Hub) -> None:
    sent = fresh()
    first, _ = post(api, sent)
    again, request_id = post(api, sent)
    assert first.json()["MaLoi"] == again.json()["MaLoi"] == "00"
    assert again.status_code == 200 and checksum.verify("REPLY", again.json(), SECRET)
    assert stored(hub) == 1
    assert outcome(hub, request_id).outcome == "duplicate"


def test_failed_payment_is_acknowledged_and_not_forwarded(api: str, hub: Hub) -> None:
    response, request_id = post(api, fresh(MaLoi="24"))
    assert response.status_code == 200 and response.json()["MaLoi"] == "00"
    assert stored(hub) == 0
    assert outcome(hub, request_id).outcome == "payment_failed"


def test_another_partners_code_is_refused_with_a_signed_reply(api: str, hub: Hub) -> None:
    response, request_id = post(api, fresh(MaDoiTac="000.00.00.H56"))
    assert response.status_code == 403 and response.json()["MaLoi"] == "03"
    assert checksum.verify("REPLY", response.json(), SECRET)
    assert stored(hub) == 0
    assert outcome(hub, request_id).outcome == "wrong_partner"


@pytest.mark.parametrize("changes", [
    "not json at all",
    {"ThongTinBienLai": None},  # signed, but the hub cannot tell which dossier was paid
    {"SoTien": "999"},  # the fees do not add up to the amount
    {"ThoiGianGD": "26/11/2023"},
])
def test_malformed_callback_is_refused_and_nothing_is_stored(api: str, hub: Hub, changes: Any) -> None:
    if isinstance(changes, str):
        response = httpx.post(f"{api}{CALLBACK}", content=changes, headers={"Content-Type": "application/json"})
    else:
        response, request_id = post(api, fresh(**changes))
        assert outcome(hub, request_id).outcome == "malformed"
    assert response.status_code == 400 and response.json()["MaLoi"] == "02"
    assert stored(hub) == 0


def test_callbacks_of_a_suspended_payment_partner_are_refused(api: str, hub: Hub) -> None:
    update_partner(hub.engine, "national_payment", {"state": "suspended"}, actor="test")
    response, request_id = post(api, fresh())
    assert response.status_code == 403 and response.json()["MaLoi"] == "05"
    assert stored(hub) == 0
    assert outcome(hub, request_id).outcome == "partner_suspended"


def test_callback_from_an_address_outside_the_allowlist_is_refused(hub: Hub) -> None:
    settings = with_partner(hub.settings, "national_payment", callback_networks=["10.20.30.0/24"])
    with ThreadedServer(create_app(settings)).start() as server:
        response, request_id = post(server.url, fresh())
        assert response.status_code == 403 and response.json()["MaLoi"] == "05"
        assert response.json()["MaXacThuc"] == ""
        assert outcome(hub, request_id).outcome == "ip_not_allowed"
    assert stored(hub) == 0


def test_forwarded_address_counts_only_from_a_trusted_proxy(hub: Hub) -> None:
    settings = with_partner(hub.settings, "national_payment", callback_networks=["203.0.113.0/24"])
    with ThreadedServer(create_app(settings)).start() as server:
        response, _ = post(server.url, fresh(), **{"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 403, "an untrusted peer cannot claim an allowed address"
    trusting = settings.model_copy(update={"trusted_proxies": ["127.0.0.1/32"]})
    with ThreadedServer(create_app(trusting)).start() as server:
        response, _ = post(server.url, fresh(), **{"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 200 and response.json()["MaLoi"] == "00"


# --- end to end: platform simulator -> hub -> worker -> one-stop simulator ----------------------


@pytest.fixture
def province(db_url: str, redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Hub, str, str, str]]:
    """The hub (API and worker) with the one-stop simulator as motcua and the platform simulator
    posting its callbacks to the hub: (hub, api url, platform url, one-stop url)."""
    redis_server.flush()
    with ThreadedServer(onestop_sim.create_app()).start() as onestop:
        settings = make_settings(db_url, redis_server.url, tmp_path, retry_schedule=[0.3] * 20,
                                 partner_settings={"motcua": {"callback_url": f"{onestop.url}{onestop_sim.PATH}"}})
        hub = seed_hub(settings, tmp_path)
        Vault(hub.engine, settings).put("national_payment.secret", SECRET, actor="test")
        with ThreadedServer(create_app(settings)).start() as api:
            platform = platform_sim.create_app(PARTNER, SECRET, f"{api.url}{CALLBACK}", "http://platform.test")
            with ThreadedServer(platform).start() as pay:
                hub.worker()
                yield hub, api.url, pay.url, onestop.url
        for p in hub.processes:
            p.end()
        hub.engine.dispose()


def test_paid_payment_reaches_the_one_stop_system_once_even_when_the_platform_sends_it_twice(province) -> None:
    hub, _, platform, onestop = province
    with PaymentClient(platform, PARTNER, SECRET, ledger=Ledger(hub.engine, "national_payment")) as client:
        client.init("HS2611230001-01", 150_000, "Thanh toán hồ sơ", bien_lai(), "10.0.0.5")
    httpx.post(f"{platform}/_sim/faults", json={"duplicate_callbacks": True}).raise_for_status()
    paid = httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS2611230001-01"}, timeout=20).json()
    assert [r["status"] for r in paid["replies"]] == [200, 200]
    assert all(r["body"]["MaLoi"] == "00" and checksum.verify("REPLY", r["body"], SECRET) for r in paid["replies"])
    message_id = f"payment:{paid['callback']['MaGiaoDich']}"

    def arrived() -> dict | None:
        r = httpx.get(f"{onestop}/_sim/messages/{message_id}")
        return r.json() if r.status_code == 200 else None

    received = wait_until(arrived, 30, what="payment.confirmed at the one-stop system")
    assert received["times"] == 1
    message = received["message"]
    assert (message["type"], message["source"], message["dossier_code"]) == ("payment.confirmed", "national_payment",
                                                                            DOSSIER)
    assert message["payload"]["amount"] == 150_000 and message["payload"]["reference"] == "HS2611230001-01"
    assert [f["kind"] for f in message["payload"]["fees"]] == [1, 2]
    assert stored(hub) == 1
    record = find(hub.engine, "national_payment", "HS2611230001-01")
    assert record is not None and (record.state, record.transaction_id) == ("paid", paid["callback"]["MaGiaoDich"])


def test_callback_the_platform_signed_wrong_is_refused(province) -> None:
    hub, _, platform, _ = province
    with PaymentClient(platform, PARTNER, SECRET, ledger=Ledger(hub.engine, "national_payment")) as client:
        client.init("HS2611230001-02", 150_000, "Thanh toán hồ sơ", bien_lai(), "10.0.0.5")
    paid = httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS2611230001-02", "checksum": "wrong"},
                      timeout=20).json()
    [reply] = paid["replies"]
    assert reply["status"] == 401 and reply["body"]["MaLoi"] == "01"
    assert stored(hub) == 0
