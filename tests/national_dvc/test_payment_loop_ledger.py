"""The payment ledger's part in the loop, on SQLite and PostgreSQL (no network).

Rules: the payments due for QUERY are the open ones recorded long enough ago, not asked recently,
oldest first, at most a batch; closed and paid ones are never due; a paid callback still marks a
closed payment paid; the receipts due are the paid payments without one, and a routed receipt is
never due again; a retried INIT keeps the first expiry and reopens an unknown payment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from connectors.national_dvc.payment import records
from hub.store.tables import payments
from tests.conftest import Hub

PARTNER = "national_payment"
AGENCY = "000.00.00.H49"


def _open(hub: Hub, n: int, created: datetime) -> str:
    reference = f"REF-{n:03d}"
    records.record(hub.engine, PARTNER, reference, dossier_code=f"{AGENCY}-261201-{n:04d}", agency_id=AGENCY,
                   procedure_code="2.000477", amount=30_000, origin="init")
    with hub.engine.begin() as conn:  # recorded at a chosen moment: the clock of this test
        conn.execute(update(payments).where(payments.c.reference == reference).values(created_at=created))
    return reference


def test_payments_due_for_query_are_the_oldest_open_ones_not_asked_recently_at_most_a_batch(hub: Hub) -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    refs = [_open(hub, n, now - timedelta(minutes=60 - n)) for n in range(5)]  # REF-000 the oldest
    fresh = _open(hub, 9, now - timedelta(seconds=30))

    def due(limit: int = 10) -> list[str]:
        return [r.reference for r in records.due_for_query(hub.engine, PARTNER, opened_before=now - timedelta(seconds=900),
                                                           asked_before=now - timedelta(seconds=300), limit=limit)]

    assert due(limit=3) == refs[:3], "oldest first, bounded"
    assert fresh not in due(), "recorded 30 s ago: its callback may still come"
    records.queried(hub.engine, PARTNER, refs[0], now - timedelta(seconds=60))
    records.queried(hub.engine, PARTNER, refs[1], now - timedelta(seconds=600))
    assert due() == refs[1:], "asked a minute ago: not again yet; ten minutes ago: again"
    assert records.find(hub.engine, PARTNER, refs[1]).queries == 1  # type: ignore[union-attr]
    assert records.close(hub.engine, PARTNER, refs[2], records.FAILED)
    assert records.mark_paid(hub.engine, PARTNER, refs[3], "GD1", now)
    assert due() == [refs[1], refs[4]], "closed and paid payments are not asked"
    assert not records.close(hub.engine, PARTNER, refs[3], records.EXPIRED), "a paid payment stays paid"


def test_a_paid_callback_still_marks_a_closed_payment_paid_and_its_receipt_is_due_once(hub: Hub) -> None:
    now = datetime.now(timezone.utc)
    reference = _open(hub, 1, now)
    assert records.close(hub.engine, PARTNER, reference, records.EXPIRED)
    assert records.mark_paid(hub.engine, PARTNER, reference, "GD7", now)
    assert not records.mark_paid(hub.engine, PARTNER, reference, "GD8", now), "the first transaction is kept"
    record = records.find(hub.engine, PARTNER, reference)
    assert record is not None and (record.state, record.transaction_id) == ("paid", "GD7")

    def due() -> list[str]:
        return [r.reference for r in records.due_for_receipt(hub.engine, PARTNER, asked_before=now, limit=10)]

    assert due() == [reference]
    records.bill_asked(hub.engine, PARTNER, reference, now + timedelta(seconds=1))
    assert due() == [], "GET_BILL asked just now: not again before the interval"
    with hub.engine.begin() as conn:
        records.receipt_routed(conn, PARTNER, reference, "0000001", now)
    assert records.due_for_receipt(hub.engine, PARTNER, asked_before=now + timedelta(days=1), limit=10) == []


def test_a_retried_init_keeps_the_first_expiry_and_reopens_an_unknown_payment(hub: Hub) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    reference = _open(hub, 2, now)
    first = records.page_opened(hub.engine, PARTNER, reference, "http://platform.test/pay/x", now + timedelta(days=1))
    assert records.close(hub.engine, PARTNER, reference, records.UNKNOWN)
    again = records.page_opened(hub.engine, PARTNER, reference, "http://platform.test/pay/x", now + timedelta(days=9))
    assert again.expires_at == first.expires_at == now + timedelta(days=1)
    assert again.state == "open" and again.pay_url == "http://platform.test/pay/x"
