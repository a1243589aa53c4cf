"""Payment callbacks bound to what the hub knows (issue #12), each test the attack it stops.

Rules: the hub believes a callback only for a payment it knows of (its own INIT, recorded before it
is sent), with the same dossier, agency, procedure and amount; ``ThoiGianGD`` within
``payment_callback_window_seconds`` of the hub's clock, past or future; a confirmed payment marks its
record paid and a resend of it stays "00" with nothing new; there is no built-in secret: without
one every callback is refused (503, "99"), the hub warns once at start-up and ``/healthz`` says so;
a callback signed with the former built-in sandbox secret is refused; the sandbox seeds its own
random secret and its payment simulator uses the same one. Every refusal stores nothing and its
access record says ``payment_refused:<why>``. Both databases (``db_url``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from connectors.national_dvc.payment import checksum
from connectors.national_dvc.payment.client import PaymentClient
from connectors.national_dvc.payment.records import Ledger, ReferenceTaken, find
from connectors.national_dvc.payment.secret import payment_secret
from connectors.national_dvc.payment.settings import NationalPaymentSettings
from connectors.national_dvc.wire import to_wire_date
from hub.edge.app import create_app
from hub.plugins import manifest
from hub.sandbox import seed_setups
from hub.seam import SandboxInfo
from hub.store.engine import reading
from hub.store.tables import access_records, messages
from hub.vault.store import Vault
from tests.conftest import Hub
from tests.connectors.payment_samples import DOSSIER, REFERENCE, SECRET, bien_lai, fresh, known, receipt
from tests.support import ThreadedServer, free_port, partner_ctx, wait_port, wait_until, with_partner

CALLBACK = "/v1/payments/callback"
OTHER_DOSSIER = "000.00.00.H49-261123-0002"
BUILT_IN = "sandbox-payment-secret"  #: the secret the hub used to fall back to


@pytest.fixture
def paying(hub: Hub) -> Hub:
    """A hub with its own secret and two open payments: ``REFERENCE`` for DOSSIER and one for OTHER_DOSSIER."""
    Vault(hub.engine, hub.settings).put("national_payment.secret", SECRET, actor="test")
    known(hub.engine)
    known(hub.engine, reference="HS2611230002-01", dossier=OTHER_DOSSIER)
    return hub


def post(api: str, body: Any) -> tuple[httpx.Response, str]:
    request_id = uuid.uuid4().hex
    return httpx.post(f"{api}{CALLBACK}", json=body, headers={"X-Request-Id": request_id}, timeout=10), request_id


def stored(hub: Hub) -> int:
    with reading(hub.engine) as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def outcome(hub: Hub, request_id: str) -> str:
    def find_record() -> list[Any]:
        with reading(hub.engine) as conn:
            return list(conn.execute(select(access_records.c.outcome).where(access_records.c.caller_request_id == request_id)))
    [row] = wait_until(find_record, 5, what=f"the access record of {request_id}")
    return row.outcome


def wire_time(delta: timedelta) -> str:
    return to_wire_date(datetime.now(timezone.utc) + delta)


def assert_refused(api: str, hub: Hub, body: dict[str, Any], status: int, ma_loi: str, why: str) -> dict[str, Any]:
    """Post ``body``; it is refused as said, nothing is stored, the payment stays open."""
    response, request_id = post(api, body)
    assert (response.status_code, response.json()["MaLoi"]) == (status, ma_loi), response.text
    assert stored(hub) == 0
    assert outcome(hub, request_id) == f"payment_refused:{why}"
    record = find(hub.engine, "national_payment", REFERENCE)
    assert record is None or record.state == "open"
    return response.json()


# --- bound to the record --------------------------------------------------------------------


def test_callback_pointed_at_another_dossier_is_refused(api: str, paying: Hub) -> None:
    # A genuine, correctly signed callback; ThongTinBienLai (not checksummed) names another dossier.
    reply = assert_refused(api, paying, fresh(ThongTinBienLai=receipt(OTHER_DOSSIER)), 409, "02", "dossier_mismatch")
    assert checksum.verify("REPLY", reply, SECRET), "an authentic callback's refusal is signed"
    assert find(paying.engine, "national_payment", "HS2611230002-01").state == "open"


def test_callback_for_another_agency_is_refused(api: str, paying: Hub) -> None:
    assert_refused(api, paying, fresh(ThongTinBienLai={**receipt(), "MaDonVi": "000.00.00.H56"}), 409, "02",
                   "agency_mismatch")


def test_callback_for_another_procedure_is_refused(api: str, paying: Hub) -> None:
    assert_refused(api, paying, fresh(ThongTinBienLai={**receipt(), "MaTTHC": "1.000001"}), 409, "02",
                   "procedure_mismatch")


def test_callback_with_another_amount_is_refused(api: str, paying: Hub) -> None:
    # Fees that add up to the checksummed SoTien, but not the amount the hub opened the payment for.
    assert_refused(api, paying, fresh(SoTien="60000", ThongTinBienLai=receipt(fee=10_000, charge=50_000)), 409, "02",
                   "amount_mismatch")


def test_callback_for_an_unknown_reference_is_refused(api: str, paying: Hub) -> None:
    reply = assert_refused(api, paying, fresh(MaThamChieu="HS-NEVER-OPENED"), 404, "04", "unknown_reference")
    assert reply["MaThamChieu"] == "HS-NEVER-OPENED"


def test_a_failed_payment_for_an_unknown_reference_is_refused(api: str, paying: Hub) -> None:
    assert_refused(api, paying, fresh(MaLoi="24", MaThamChieu="HS-NEVER-OPENED"), 404, "04", "unknown_reference")


# --- inside the window ----------------------------------------------------------------------


def test_old_genuine_callback_replayed_outside_the_window_is_refused(api: str, paying: Hub) -> None:
    window = partner_ctx(paying.settings, "national_payment").settings.callback_window_seconds
    assert_refused(api, paying, fresh(ThoiGianGD=wire_time(-timedelta(seconds=window + 120))), 400, "06",
                   "outside_window")


def test_callback_dated_in_the_future_is_refused(api: str, paying: Hub) -> None:
    window = partner_ctx(paying.settings, "national_payment").settings.callback_window_seconds
    assert_refused(api, paying, fresh(ThoiGianGD=wire_time(timedelta(seconds=window + 120))), 400, "06",
                   "outside_window")


def test_a_callback_inside_a_configured_window_is_accepted(paying: Hub) -> None:
    settings = with_partner(paying.settings, "national_payment", callback_window_seconds=3600)
    with ThreadedServer(create_app(settings)).start() as server:
        response, _ = post(server.url, fresh(ThoiGianGD=wire_time(-timedelta(minutes=50))))
    assert response.status_code == 200 and response.json()["MaLoi"] == "00"


# --- paid once ------------------------------------------------------------------------------


def test_confirmed_payment_is_marked_paid_and_its_resend_stores_nothing_new(api: str, paying: Hub) -> None:
    genuine = fresh()
    first, _ = post(api, genuine)
    assert first.status_code == 200 and first.json()["MaLoi"] == "00"
    record = find(paying.engine, "national_payment", REFERENCE)
    assert record is not None and (record.state, record.transaction_id) == ("paid", genuine["MaGiaoDich"])
    again, request_id = post(api, genuine)
    assert again.status_code == 200 and again.json()["MaLoi"] == "00"
    assert stored(paying) == 1 and outcome(paying, request_id) == "duplicate"


def test_a_second_transaction_for_a_paid_payment_is_refused(api: str, paying: Hub) -> None:
    assert post(api, fresh())[0].status_code == 200
    response, request_id = post(api, fresh(MaGiaoDich="GD-SECOND-PAYMENT"))
    assert (response.status_code, response.json()["MaLoi"]) == (409, "02")
    assert stored(paying) == 1 and outcome(paying, request_id) == "payment_refused:already_paid"


# --- the INIT path --------------------------------------------------------------------------


def test_init_cannot_reopen_a_reference_for_another_dossier(paying: Hub) -> None:
    # Nobody listens at the URL: a refused INIT is refused before anything is sent.
    client = PaymentClient("http://127.0.0.1:9", "000.00.00.H49", SECRET, ledger=Ledger(paying.engine, "national_payment"))
    with pytest.raises(ReferenceTaken, match="dossier_code"):
        client.init(REFERENCE, 150_000, "Thanh toán", bien_lai(OTHER_DOSSIER), "10.0.0.5")
    client.close()
    assert find(paying.engine, "national_payment", REFERENCE).dossier_code == DOSSIER


# --- no built-in secret ---------------------------------------------------------------------


def test_without_a_secret_callbacks_are_refused_and_healthz_says_so(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    assert NationalPaymentSettings().secret == "", "no built-in secret"
    known(hub.engine)
    with caplog.at_level(logging.WARNING), ThreadedServer(create_app(hub.settings)).start() as server:
        for secret in (BUILT_IN, SECRET):
            response, request_id = post(server.url, fresh(secret))
            assert (response.status_code, response.json()["MaLoi"]) == (503, "99")
            assert response.json()["MaXacThuc"] == "", "nothing is signed without a secret"
            assert outcome(hub, request_id) == "payment_refused:no_secret"
        health = httpx.get(f"{server.url}/healthz", timeout=5)
    assert health.status_code == 200, "degraded functionality, not a dead hub"
    assert health.json()["national_payment"] == "refused: no secret in the vault (national_payment.secret)"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "national_payment.secret" in r.getMessage()]
    assert len(warnings) == 1, "warned once, at start-up"
    assert stored(hub) == 0


def test_healthz_reports_payment_callbacks_ok_once_the_vault_has_a_secret(api: str, paying: Hub) -> None:
    health = httpx.get(f"{api}/healthz", timeout=5).json()
    assert health["national_payment"] == "ok"


def test_callback_signed_with_the_former_sandbox_secret_is_refused(api: str, paying: Hub) -> None:
    response, request_id = post(api, fresh(BUILT_IN))
    assert (response.status_code, response.json()["MaLoi"]) == (401, "01")
    assert stored(paying) == 0 and outcome(paying, request_id) == "checksum_mismatch"


# --- the sandbox ----------------------------------------------------------------------------


def test_sandbox_seeds_its_own_secret_and_its_simulator_confirms_payments_with_it(api: str, hub: Hub) -> None:
    ctx = partner_ctx(hub.settings, "national_payment")
    assert payment_secret(ctx) == ""
    seed_setups(hub.settings)
    secret = payment_secret(ctx)
    assert len(secret) >= 32 and secret != BUILT_IN
    seed_setups(hub.settings)
    assert payment_secret(ctx) == secret, "kept on later runs"
    port = free_port()
    sim_env = manifest("national_payment").simulator.env(SandboxInfo(api, {}, ctx))  # what the sandbox gives it
    hub.spawn("-m", "hub.cli", "simulator", "payment", "--port", str(port), "--callback-url", f"{api}{CALLBACK}",
              name="payment-sim", **sim_env)
    wait_port(port)
    sim = f"http://127.0.0.1:{port}"
    with PaymentClient.for_hub(ctx, sim) as client:  # the simulator accepts the hub's checksum
        client.init("HS-SANDBOX-01", 150_000, "Thanh toán", bien_lai(), "127.0.0.1")
    paid = httpx.post(f"{sim}/_sim/pay", json={"MaThamChieu": "HS-SANDBOX-01"}, timeout=20).json()
    [reply] = paid["replies"]
    assert reply["status"] == 200 and reply["body"]["MaLoi"] == "00"
    assert find(hub.engine, "national_payment", "HS-SANDBOX-01").state == "paid"
