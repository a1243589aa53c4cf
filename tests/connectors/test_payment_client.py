"""The payment platform client against its simulator over real HTTP, and its error classification.

Rules: INIT answers a payment URL; QUERY answers pending, then paid after the citizen pays; the
simulator refuses a request whose checksum, partner code or reference is wrong, and the client
classifies a checksum refusal as transient (the secret is an operator's fix) and a wrong partner or
reference as permanent; transport failures, 5xx and unreadable answers are transient. The checked-in
wire schemas are what wire.py generates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest
import respx

from connectors.national_dvc.payment import wire
from connectors.national_dvc.payment.client import PaymentClient, PermanentError, TransientError
from connectors.national_dvc.payment.simulator import create_app
from tests.connectors.payment_samples import PARTNER, SECRET, bien_lai
from tests.support import ThreadedServer

UNUSED = "http://127.0.0.1:9/callback"  # nobody listens: the callback's delivery is not under test here


@pytest.fixture(scope="module")
def platform() -> Iterator[str]:
    with ThreadedServer(create_app(PARTNER, SECRET, UNUSED, "http://platform.test")).start() as server:
        yield server.url


@pytest.fixture
def client(platform: str) -> Iterator[PaymentClient]:
    httpx.post(f"{platform}/_sim/reset").raise_for_status()
    c = PaymentClient(platform, PARTNER, SECRET, timeout=3)
    yield c
    c.close()


def test_init_answers_the_payment_page_url(client: PaymentClient, platform: str) -> None:
    answer = client.init("HS0001-01", 150_000, "Thanh toán hồ sơ 000.00.00.H49-261123-0001", bien_lai(), "10.0.0.5")
    assert answer.MaLoi == "00"
    assert answer.UrlThanhToan == "http://platform.test/pay/HS0001-01"
    stored = httpx.get(f"{platform}/_sim/transactions/HS0001-01").json()
    assert stored["init"]["ThongTinBienLai"]["MaHoSo"] == "000.00.00.H49-261123-0001"
    assert stored["init"]["SoTien"] == "150000"


def test_query_answers_pending_then_paid_after_the_payment(client: PaymentClient, platform: str) -> None:
    client.init("HS0002-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    assert client.query("HS0002-01").TrangThaiGD == wire.PENDING
    httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS0002-01"}).raise_for_status()
    paid = client.query("HS0002-01")
    assert paid.TrangThaiGD == wire.PAID
    assert paid.MaGiaoDich and paid.MaGiaoDich.startswith("GD")


def test_query_answers_failed_after_a_failed_payment(client: PaymentClient, platform: str) -> None:
    client.init("HS0003-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    httpx.post(f"{platform}/_sim/pay", json={"MaThamChieu": "HS0003-01", "outcome": "failed"}).raise_for_status()
    assert client.query("HS0003-01").TrangThaiGD == wire.FAILED


def test_checksum_with_the_wrong_secret_is_refused_by_the_platform_as_transient(platform: str) -> None:
    wrong = PaymentClient(platform, PARTNER, "not-the-secret")
    with pytest.raises(TransientError) as refused:
        wrong.init("HS0004-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    wrong.close()
    assert refused.value.ma_loi == wire.CHECKSUM_MISMATCH
    assert "not-the-secret" not in refused.value.reason


def test_wrong_partner_code_and_unknown_reference_are_permanent(client: PaymentClient, platform: str) -> None:
    stranger = PaymentClient(platform, "000.00.00.H56", SECRET)
    with pytest.raises(PermanentError) as wrong_partner:
        stranger.query("HS0001-01")
    stranger.close()
    assert wrong_partner.value.ma_loi == wire.WRONG_PARTNER
    with pytest.raises(PermanentError) as unknown:
        client.query("never-opened")
    assert unknown.value.ma_loi == wire.UNKNOWN_REFERENCE


def test_reopening_a_reference_with_another_amount_is_refused(client: PaymentClient) -> None:
    client.init("HS0005-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5")
    assert client.init("HS0005-01", 150_000, "Thanh toán", bien_lai(), "10.0.0.5").MaLoi == "00"
    with pytest.raises(PermanentError) as refused:
        client.init("HS0005-01", 99_000, "Thanh toán", bien_lai(), "10.0.0.5")
    assert refused.value.ma_loi == wire.INVALID


def test_platform_outage_is_transient(client: PaymentClient, platform: str) -> None:
    httpx.post(f"{platform}/_sim/faults", json={"fail_next": 1}).raise_for_status()
    with pytest.raises(TransientError) as down:
        client.query("HS0001-01")
    assert down.value.http_status == 503


@pytest.mark.parametrize(("response", "error"), [
    (httpx.Response(502, text="Bad Gateway"), TransientError),
    (httpx.Response(429, text="slow down"), TransientError),
    (httpx.Response(400, text="bad request"), PermanentError),
    (httpx.Response(200, text="<html>maintenance</html>"), TransientError),
    (httpx.Response(200, json={"MaLoi": "99", "MoTaLoi": "Lỗi hệ thống"}), TransientError),
    (httpx.Response(200, json={"MaLoi": "02", "MoTaLoi": "Dữ liệu không hợp lệ"}), PermanentError),
    (httpx.Response(200, json={"unexpected": True}), TransientError),
])
def test_answers_are_classified(response: httpx.Response, error: type[Exception]) -> None:
    with respx.mock(base_url="http://pay.test") as mock:
        mock.post("/query").mock(return_value=response)
        c = PaymentClient("http://pay.test", PARTNER, SECRET)
        with pytest.raises(error):
            c.query("HS0001-01")
        c.close()


def test_timeout_is_transient() -> None:
    with respx.mock(base_url="http://pay.test") as mock:
        mock.post("/query").mock(side_effect=httpx.ReadTimeout("slow"))
        c = PaymentClient("http://pay.test", PARTNER, SECRET)
        with pytest.raises(TransientError, match="timed out"):
            c.query("HS0001-01")
        c.close()


def test_wire_schemas_match_models(tmp_path: Path) -> None:
    fresh = {p.name: p.read_text("utf-8") for p in wire.export(tmp_path)}
    checked_in = {p.name: p.read_text("utf-8") for p in wire.SCHEMA_DIR.glob("*.json")}
    assert sorted(checked_in) == sorted(fresh), "run: python -m connectors.national_dvc.payment.wire"
    for name, text in fresh.items():
        assert checked_in[name] == text, f"schemas/national_payment/{name} drifted; run: make schemas"
