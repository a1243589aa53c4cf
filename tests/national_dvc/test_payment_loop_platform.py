"""The payment platform's side of the loop: GET_BILL, a reference that exists, lost and late callbacks,
over real HTTP to its simulator (no hub); and the reference an online fee notice is opened with.

Rules: GET_BILL answers a paid payment's receipt (number, series, date, amount, transaction) and is
refused before the payment; an INIT of a pending reference answers its page again, of a paid one
"07" (ReferenceExists, a PermanentError); a lost callback is not posted while QUERY says paid; a
late callback is posted after its delay; the faults refuse a rate above 1; a fee notice's reference
is stable per message, differs between messages and fits MaThamChieu.
"""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from connectors.national_dvc.payment import wire
from connectors.national_dvc.payment.client import PaymentClient, PermanentError, ReferenceExists
from connectors.national_dvc.payment.loop import reference_of
from connectors.national_dvc.payment.simulator import create_app
from hub.messages.models import FeeNotice
from tests.connectors.payment_samples import PARTNER, SECRET, bien_lai
from tests.support import ThreadedServer, wait_until

RECEIVED: list[dict[str, Any]] = []


def _receiver() -> FastAPI:
    """Where the simulator posts its callbacks here: it keeps them and answers 200."""
    app = FastAPI()

    @app.post("/callback")
    async def take(request: Request) -> dict[str, str]:
        RECEIVED.append(await request.json())
        return {"MaLoi": "00"}

    return app


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    with ThreadedServer(_receiver()).start() as receiver:
        with ThreadedServer(create_app(PARTNER, SECRET, f"{receiver.url}/callback", "http://platform.test")).start() as sim:
            yield sim.url, receiver.url


@pytest.fixture
def platform(servers: tuple[str, str]) -> Iterator[str]:
    httpx.post(f"{servers[0]}/_sim/reset").raise_for_status()
    RECEIVED.clear()
    yield servers[0]


@pytest.fixture
def payments(platform: str) -> Iterator[PaymentClient]:
    with PaymentClient(platform, PARTNER, SECRET, timeout=3) as c:
        yield c


def test_get_bill_answers_the_receipt_of_a_paid_payment_and_is_refused_before(payments: PaymentClient, platform: str) -> None:
    payments.init("HS-BILL-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    with pytest.raises(PermanentError) as refused:
        payments.get_bill("HS-BILL-01")
    assert refused.value.ma_loi == wire.INVALID
    paid = httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS-BILL-01"}).json()
    bill = payments.get_bill("HS-BILL-01")
    assert bill.SoBienLai and bill.KyHieuBienLai and bill.NgayBienLai and len(bill.NgayBienLai) == 14
    assert (bill.SoTien, bill.MaGiaoDich) == ("150000", paid["callback"]["MaGiaoDich"])
    assert bill.ThongTinBienLai is not None and bill.ThongTinBienLai.MaHoSo == bien_lai().MaHoSo


def test_an_init_of_a_pending_reference_answers_its_page_again_and_of_a_paid_one_07(
        payments: PaymentClient, platform: str) -> None:
    first = payments.init("HS-AGAIN-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    again = payments.init("HS-AGAIN-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    assert first.UrlThanhToan == again.UrlThanhToan
    httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS-AGAIN-01"}).raise_for_status()
    with pytest.raises(ReferenceExists) as exists:
        payments.init("HS-AGAIN-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    assert exists.value.ma_loi == wire.REFERENCE_EXISTS and isinstance(exists.value, PermanentError)
    assert len(httpx.get(f"{platform}/_sim/state").json()["transactions"]) == 1


def test_a_lost_callback_is_not_posted_while_query_says_paid(payments: PaymentClient, platform: str) -> None:
    httpx.post(f"{platform}/_sim/faults", json={"lose_callbacks_next": 1}).raise_for_status()
    payments.init("HS-LOST-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    paid = httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS-LOST-01", "MaNganHang": "VCB"}).json()
    assert paid["lost"] is True and paid["replies"] == []
    answer = payments.query("HS-LOST-01")
    assert (answer.TrangThaiGD, answer.MaGiaoDich, answer.MaNganHang) == (wire.PAID, paid["callback"]["MaGiaoDich"], "VCB")
    assert answer.ThoiGianGD == paid["callback"]["ThoiGianGD"]
    state = httpx.get(f"{platform}/_sim/state").json()
    assert state["counters"]["callbacks_lost"] == 1 and state["counters"]["callbacks_sent"] == 0
    assert RECEIVED == []
    resent = httpx.post(f"{platform}/_sim/callbacks/HS-LOST-01").json()  # the lost one, arriving late
    assert [r["status"] for r in resent["replies"]] == [200]
    assert [c["MaGiaoDich"] for c in RECEIVED] == [paid["callback"]["MaGiaoDich"]]


def test_a_late_callback_is_posted_after_its_delay(payments: PaymentClient, platform: str) -> None:
    payments.init("HS-LATE-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    paid = httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS-LATE-01", "callback": "late",
                                                    "delay_ms": 150}).json()
    assert paid["late_ms"] == 150 and paid["replies"] == []
    wait_until(lambda: RECEIVED, 5, what="the late callback")
    assert RECEIVED[0]["MaGiaoDich"] == paid["callback"]["MaGiaoDich"]


def test_the_faults_refuse_a_rate_of_lost_callbacks_above_one(platform: str) -> None:
    assert httpx.post(f"{platform}/_sim/faults", json={"lose_callbacks_rate": 1.5}).status_code == 422


def test_the_reference_of_a_fee_notice_is_stable_per_message_and_fits_the_wire() -> None:
    def notice(message_id: str, code: str = "000.00.00.H49-261201-0001") -> FeeNotice:
        return FeeNotice.model_validate({
            "message_id": message_id, "type": "fee.notice", "source": "motcua", "dossier_code": code,
            "occurred_at": "2026-12-01T10:00:00+07:00",
            "payload": {"agency_id": "000.00.00.H49", "procedure_code": "2.000477", "online": True,
                        "fees": [{"code": "LP01", "name": "Lệ phí", "amount": 8000}]}})

    assert reference_of(notice("m-1")) == reference_of(notice("m-1"))
    assert reference_of(notice("m-1")) != reference_of(notice("m-2"))
    reference = reference_of(notice("m-1"))
    assert reference.startswith("000.00.00.H49-261201-0001-") and len(reference) <= 100
