"""The payment loop closed, through the hub's real intake, relay and worker, over loopback to the
payment platform simulator and the one-stop simulator.

Rules: an online fee notice opens a payment (INIT) and payment.opened reaches the one-stop system
with the page's URL; a fee notice not paid online opens none; a lost callback is caught up by QUERY
and payment.confirmed reaches the one-stop system once, still once when the callback arrives late;
the receipt (GET_BILL) of a paid payment is routed once; a retried delivery re-uses its reference
(no second payment at the platform); a fee notice delivered again after its payment is paid opens
nothing new; a QUERY of a reference the platform does not know closes the payment with an alert; a
payment pending past its expiry is closed, and its late payment still believed.

One hub (SQLite), worker, platform and one-stop simulator per module: every test uses its own dossier.
The worker's reconciliation runs every 0.2 s and asks QUERY at once (query_after_seconds 0), each
payment at most every second.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from connectors.motcua import simulator as onestop_sim
from connectors.national_dvc.payment import records
from connectors.national_dvc.payment import simulator as platform_sim
from connectors.national_dvc.payment.callback import stable_id, to_message
from connectors.national_dvc.payment.client import PaymentClient
from connectors.national_dvc.payment.loop import PaymentConnector, reconcile, reference_of
from connectors.national_dvc.payment.wire import Callback
from hub.edge.app import create_app
from hub.messages.models import MESSAGE_ADAPTER, FeeNotice
from hub.store.engine import reading
from hub.store.tables import alerts, deliveries, messages, payments
from hub.vault.store import Vault
from tests.conftest import Hub, make_settings, seed_hub
from tests.connectors.payment_samples import PARTNER, SECRET
from tests.support import RedisServer, ThreadedServer, client, partner_ctx, wait_until, with_partner

CALLBACK = "/v1/payments/callback"
AGENCY = "000.00.00.H49"
_seq = itertools.count(1)


class Province:
    """The hub and its partners' simulators."""

    def __init__(self, hub: Hub, api: str, platform: str, onestop: str) -> None:
        self.hub, self.api, self.platform, self.onestop = hub, api, platform, onestop

    def fee_notice(self, *, online: bool = True, due_at: datetime | None = None) -> dict[str, Any]:
        """Post a new dossier's fee notice as the one-stop system does; the message posted."""
        message = self.new_fee_notice(online=online, due_at=due_at)
        with client(self.api, self.hub.keys["motcua"]) as motcua:
            motcua.post("/v1/messages", json=message).raise_for_status()
        return message

    @staticmethod
    def new_fee_notice(*, online: bool = True, due_at: datetime | None = None) -> dict[str, Any]:
        """A new dossier's fee notice, as the one-stop system sends it."""
        now = datetime.now(timezone(timedelta(hours=7)))
        code = f"{AGENCY}-{now:%y%m%d}-{next(_seq) + 7000:04d}"
        payload: dict[str, Any] = {"agency_id": AGENCY, "procedure_code": "2.000477", "online": online,
                                   "fees": [{"code": "LP01", "name": "Lệ phí cấp bản sao", "amount": 8000, "kind": 1},
                                            {"code": "P01", "name": "Phí dịch vụ", "amount": 22000, "kind": 2}]}
        if due_at is not None:
            payload["due_at"] = due_at.isoformat()
        return {"message_id": f"fee-{code}", "type": "fee.notice", "source": "motcua", "dossier_code": code,
                "occurred_at": now.isoformat(), "payload": payload}

    def received(self, message_id: str, timeout: float = 20) -> dict[str, Any]:
        """The one-stop system's copy of ``message_id`` (``message`` and ``times``), once it arrived."""
        def arrived() -> dict[str, Any] | None:
            r = httpx.get(f"{self.onestop}/_sim/messages/{message_id}")
            return r.json() if r.status_code == 200 else None
        found: dict[str, Any] = wait_until(arrived, timeout, what=f"{message_id} at the one-stop system")
        return found

    def opened(self, notice: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The reference of an online fee notice and its payment.opened, once the one-stop system has it."""
        reference = reference_of(FeeNotice.model_validate(notice))
        return reference, self.received(stable_id("payment-opened", reference))

    def pay(self, reference: str, callback: str = "send") -> dict[str, Any]:
        paid: dict[str, Any] = httpx.post(f"{self.platform}/_sim/pay", json={"MaThamChieu": reference, "callback": callback},
                                          timeout=20).json()
        return paid

    def record(self, reference: str) -> records.PaymentRecord:
        found = records.find(self.hub.engine, "national_payment", reference)
        assert found is not None
        return found

    def ctx(self) -> Any:
        return partner_ctx(self.hub.settings, "national_payment")


@pytest.fixture(scope="module")
def province(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    tmp: Path = tmp_path_factory.mktemp("payment-loop")
    redis_server.flush()
    platform_app = platform_sim.create_app(PARTNER, SECRET, "http://127.0.0.1:9/not-yet", "http://platform.test")
    with ThreadedServer(onestop_sim.create_app()).start() as onestop, ThreadedServer(platform_app).start() as platform:
        settings = make_settings(
            f"sqlite:///{tmp / 'hub.db'}", redis_server.url, tmp, retry_schedule=[0.3] * 20,
            partner_settings={"motcua": {"callback_url": f"{onestop.url}{onestop_sim.PATH}"},
                              "national_payment": {"url": platform.url, "query_after_seconds": 0,
                                                   "query_every_seconds": 1, "reconcile_interval": 0.2}})
        hub = seed_hub(settings, tmp)
        Vault(hub.engine, settings).put("national_payment.secret", SECRET, actor="test")
        with ThreadedServer(create_app(settings)).start() as api:
            platform_app.state.platform.callback_url = f"{api.url}{CALLBACK}"
            hub.worker()
            yield Province(hub, api.url, platform.url, onestop.url)
        for p in hub.processes:
            p.end()
        hub.engine.dispose()


def test_an_online_fee_notice_opens_a_payment_and_its_page_reaches_the_one_stop_system(province: Province) -> None:
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    notice = province.fee_notice(due_at=due)
    reference, opened = province.opened(notice)
    message = opened["message"]
    assert opened["times"] == 1
    assert (message["type"], message["source"], message["dossier_code"]) == ("payment.opened", "national_payment",
                                                                            notice["dossier_code"])
    assert message["payload"]["pay_url"] == f"http://platform.test/pay/{reference}"
    assert message["payload"]["amount"] == 30_000 and message["payload"]["reference"] == reference
    assert datetime.fromisoformat(message["payload"]["expires_at"]) == due
    at_platform = httpx.get(f"{province.platform}/_sim/transactions/{reference}").json()
    assert at_platform["init"]["ThongTinBienLai"]["MaHoSo"] == notice["dossier_code"]
    assert at_platform["init"]["SoTien"] == "30000"
    record = province.record(reference)
    assert (record.dossier_code, record.amount, record.origin, record.pay_url) == (
        notice["dossier_code"], 30_000, "init", f"http://platform.test/pay/{reference}")


def test_a_fee_notice_not_paid_online_opens_no_payment(province: Province) -> None:
    notice = province.fee_notice(online=False)
    with reading(province.hub.engine) as conn:
        destinations = {row.destination for row in conn.execute(
            select(deliveries.c.destination).join(messages, messages.c.id == deliveries.c.message_pk)
            .where(messages.c.message_id == notice["message_id"]))}
        opened = conn.execute(select(func.count()).select_from(payments)
                              .where(payments.c.dossier_code == notice["dossier_code"])).scalar_one()
    assert destinations == {"national_dvc"}, "only the portal mirrors it; the payment platform is not asked"
    assert opened == 0


def test_a_lost_callback_is_caught_up_by_query_and_reaches_the_one_stop_system_once_even_when_it_arrives_late(
        province: Province) -> None:
    reference, _ = province.opened(province.fee_notice())
    paid = province.pay(reference, callback="lose")
    assert paid["lost"] is True and paid["replies"] == []
    transaction = paid["callback"]["MaGiaoDich"]
    confirmed = province.received(f"payment:{transaction}")
    payload = confirmed["message"]["payload"]
    assert (payload["reference"], payload["transaction_id"], payload["amount"]) == (reference, transaction, 30_000)
    assert [f["kind"] for f in payload["fees"]] == [1, 2] and payload["bank_code"] == "NCB"
    record = province.record(reference)
    assert (record.state, record.transaction_id) == ("paid", transaction) and record.queries >= 1

    late = httpx.post(f"{province.platform}/_sim/callbacks/{reference}", timeout=20).json()
    [reply] = late["replies"]
    assert reply["status"] == 200 and reply["body"]["MaLoi"] == "00", "a late callback is acknowledged"
    with reading(province.hub.engine) as conn:
        stored = conn.execute(select(func.count()).select_from(messages)
                              .where(messages.c.message_id == f"payment:{transaction}")).scalar_one()
    assert stored == 1, "the late callback is the same message as the QUERY's: stored once"
    from_callback = to_message(Callback.model_validate(late["callback"]), "national_payment")
    assert MESSAGE_ADAPTER.validate_python(from_callback) == MESSAGE_ADAPTER.validate_python(confirmed["message"]), \
        "the QUERY's payment.confirmed is the callback's, id and content (a duplicate, not a conflict)"
    receipt = province.received(stable_id("payment-receipt", reference))  # after the relay had its turns
    assert receipt["message"]["payload"]["transaction_id"] == transaction
    assert province.received(f"payment:{transaction}")["times"] == 1


def test_the_receipt_of_a_paid_payment_is_fetched_and_routed_once(province: Province) -> None:
    reference, _ = province.opened(province.fee_notice())
    paid = province.pay(reference)
    assert [r["status"] for r in paid["replies"]] == [200]
    receipt = province.received(stable_id("payment-receipt", reference))
    at_platform = httpx.get(f"{province.platform}/_sim/transactions/{reference}").json()
    payload = receipt["message"]["payload"]
    assert payload["receipt_number"] == at_platform["receipt"]["SoBienLai"]
    assert payload["receipt_series"] == at_platform["receipt"]["KyHieuBienLai"]
    assert (payload["amount"], payload["transaction_id"]) == (30_000, paid["callback"]["MaGiaoDich"])
    record = province.record(reference)
    assert record.receipt_number == payload["receipt_number"]
    run = reconcile(province.ctx())
    assert province.record(reference).receipt_number == payload["receipt_number"]
    assert run.stopped == ""
    with reading(province.hub.engine) as conn:
        stored = conn.execute(select(func.count()).select_from(messages).where(
            messages.c.message_id == stable_id("payment-receipt", reference))).scalar_one()
    assert stored == 1
    assert province.received(stable_id("payment-receipt", reference))["times"] == 1


def test_a_retried_delivery_re_uses_its_reference_and_opens_no_second_payment(province: Province) -> None:
    before = httpx.get(f"{province.platform}/_sim/state").json()["counters"]["calls"]["init"]
    httpx.post(f"{province.platform}/_sim/faults", json={"drop_init_answers_next": 1}).raise_for_status()
    notice = province.fee_notice()
    reference, opened = province.opened(notice)
    state = httpx.get(f"{province.platform}/_sim/state").json()
    assert state["counters"]["calls"]["init"] - before >= 2, "the first INIT's answer was lost: the hub sent it again"
    assert state["counters"]["answers_dropped"] >= 1
    of_dossier = [ref for ref, t in state["transactions"].items()
                  if t["init"]["ThongTinBienLai"]["MaHoSo"] == notice["dossier_code"]]
    assert of_dossier == [reference], "one payment at the platform"
    assert opened["times"] == 1
    with reading(province.hub.engine) as conn:
        known = conn.execute(select(func.count()).select_from(payments)
                             .where(payments.c.dossier_code == notice["dossier_code"])).scalar_one()
    assert known == 1


def test_a_fee_notice_delivered_again_after_its_payment_opens_nothing_new(province: Province) -> None:
    notice = province.fee_notice()
    reference, _ = province.opened(notice)
    transaction = province.pay(reference)["callback"]["MaGiaoDich"]
    province.received(f"payment:{transaction}")
    connector = PaymentConnector(province.ctx())
    try:
        [outcome] = connector.deliver([MESSAGE_ADAPTER.validate_python(notice)])
    finally:
        connector.close()
    assert outcome.kind == "ok" and "paid already" in outcome.detail, outcome.detail
    state = httpx.get(f"{province.platform}/_sim/transactions/{reference}").json()
    assert state["transaction_id"] == transaction
    assert province.received(f"payment:{transaction}")["times"] == 1


@pytest.mark.parametrize(("fields", "kind", "reason"), [
    ({"partner_code": "000.00.00.H56"}, "permanent", "INIT MaLoi 03"),  # the platform refuses the content
    ({"secret": "another-secret"}, "transient", "INIT MaLoi 01"),  # a wrong secret: an operator's fix
    ({"url": "http://127.0.0.1:9"}, "transient", ""),  # nobody listens
])
def test_a_delivery_is_classified_as_the_platforms_answer_says(province: Province, fields: dict[str, Any], kind: str,
                                                               reason: str) -> None:
    notice = MESSAGE_ADAPTER.validate_python(province.new_fee_notice())
    ctx = partner_ctx(with_partner(province.hub.settings, "national_payment", **fields), "national_payment")
    # the vault's secret wins over the setting: a client with another secret stands for a wrong one
    wrong = PaymentClient(province.platform, PARTNER, fields["secret"]) if "secret" in fields else None
    connector = PaymentConnector(ctx, wrong)
    try:
        [outcome] = connector.deliver([notice])
    finally:
        connector.close()
    assert outcome.kind == kind and reason in outcome.detail, outcome.detail


def test_a_query_of_a_reference_the_platform_does_not_know_closes_the_payment_with_an_alert(province: Province) -> None:
    reference = f"BILL-{next(_seq)}-UNKNOWN"
    records.record(province.hub.engine, "national_payment", reference, dossier_code=f"{AGENCY}-261201-9{next(_seq):03d}",
                   agency_id=AGENCY, procedure_code="2.000477", amount=30_000, origin="bill")
    reconcile(province.ctx())
    record = province.record(reference)
    assert record.state == "unknown" and record.queries >= 1
    with reading(province.hub.engine) as conn:
        [alert] = conn.execute(select(alerts).where(alerts.c.subject == f"payment:{reference}")).all()
    assert alert.rule == "national_payment.unknown_reference"
    assert reconcile(province.ctx()).stopped == "", "a closed payment is not asked again, the run goes on"


def test_a_payment_still_pending_past_its_expiry_is_closed_expired_and_a_late_payment_is_still_believed(
        province: Province) -> None:
    due = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)  # the fee notice's deadline passed
    reference, opened = province.opened(province.fee_notice(due_at=due))
    assert datetime.fromisoformat(opened["message"]["payload"]["expires_at"]) == due
    wait_until(lambda: province.record(reference).state == "expired", 10, what="the payment closed as expired")
    transaction = province.pay(reference)["callback"]["MaGiaoDich"]  # the citizen paid after all: a checksummed word
    province.received(f"payment:{transaction}")
    assert province.record(reference).state == "paid"


def test_a_receipt_the_platform_refuses_raises_one_alert_and_is_not_asked_again_at_every_run(province: Province) -> None:
    """A paid payment the platform does not know (its data reset): GET_BILL "04" every run would flood the
    log and the platform; the hub tells the operators once and asks again a day later."""
    reference = f"BILL-{next(_seq)}-LOST"
    records.record(province.hub.engine, "national_payment", reference, dossier_code=f"{AGENCY}-261201-8{next(_seq):03d}",
                   agency_id=AGENCY, procedure_code="2.000477", amount=30_000, origin="bill")
    records.mark_paid(province.hub.engine, "national_payment", reference, "GD-LOST", datetime.now(timezone.utc))
    reconcile(province.ctx())
    asked = province.record(reference)
    reconcile(province.ctx())
    assert province.record(reference).receipt_number is None
    with reading(province.hub.engine) as conn:
        row = conn.execute(select(payments.c.bill_asked_at).where(payments.c.reference == reference)).one()
        [alert] = conn.execute(select(alerts).where(alerts.c.subject == f"payment:{reference}")).all()
    assert alert.rule == "national_payment.receipt_refused" and alert.count == 1
    assert row.bill_asked_at > datetime.now(timezone.utc) + timedelta(hours=23), "asked again a day later, not next run"
    assert asked.state == "paid"
