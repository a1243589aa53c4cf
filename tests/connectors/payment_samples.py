"""Payment platform messages for the tests, built as the platform would send them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine

from connectors.national_dvc.payment import checksum, records
from connectors.national_dvc.payment.callback import check
from connectors.national_dvc.payment.wire import BienLai
from connectors.national_dvc.wire import to_wire_date
from hub.messages.models import MESSAGE_ADAPTER, Envelope

PARTNER = "000.00.00.H49"  #: MaDoiTac of the sandbox province (Settings default)
SECRET = "test-payment-secret"  #: the tests' shared secret: seeded in the hub's vault, given to the simulator
REFERENCE = "HS2611230001-01"  #: MaThamChieu of :func:`callback`
DOSSIER = "000.00.00.H49-261123-0001"


def receipt(dossier: str = DOSSIER, fee: int = 100_000, charge: int = 50_000) -> dict[str, Any]:
    """``ThongTinBienLai`` of a dossier with one fee and one charge."""
    return {"MaHoSo": dossier, "MaTTHC": "2.000477", "MaDonVi": "000.00.00.H49",
            "PhiLePhi": [{"LoaiPhiLePhi": "1", "MaPhiLePhi": "LP01", "TenPhiLePhi": "Lệ phí cấp bản sao", "SoTien": str(fee)},
                         {"LoaiPhiLePhi": "2", "MaPhiLePhi": "P01", "TenPhiLePhi": "Phí dịch vụ", "SoTien": str(charge)}]}


def bien_lai(dossier: str = DOSSIER) -> BienLai:
    return BienLai.model_validate(receipt(dossier))


def callback(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    """A paid callback for :data:`DOSSIER` (150 000 đồng), signed with ``secret`` after ``changes``."""
    body: dict[str, Any] = {
        "LoaiBanTin": "CONFIRM", "MaLoi": "00", "MaDoiTac": PARTNER, "MaThamChieu": "HS2611230001-01",
        "SoTien": "150000", "MaTienTe": "VND", "MaGiaoDich": "GD7F3A0C11B2", "MaNganHang": "NCB",
        "ThoiGianGD": "20261123101500", "ThongTinGiaoDich": "Thanh toán hồ sơ 000.00.00.H49-261123-0001",
        "ThongTinBienLai": receipt(),
    }
    body.update(changes)
    return checksum.sign("CALLBACK", body, secret)


def now_wire() -> str:
    """``ThoiGianGD`` of now, as the platform writes it."""
    return to_wire_date(datetime.now(timezone.utc))


def fresh(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    """:func:`callback` with ``ThoiGianGD`` now (inside the hub's window)."""
    return callback(secret, **{"ThoiGianGD": now_wire(), **changes})


def known(engine: Engine, reference: str = REFERENCE, dossier: str = DOSSIER, amount: int = 150_000,
          partner: str = "national_payment") -> records.PaymentRecord:
    """Make the hub know the payment of :func:`callback` (as its INIT would have)."""
    return records.record(engine, partner, reference, dossier_code=dossier, agency_id="000.00.00.H49",
                          procedure_code="2.000477", amount=amount, origin="init")


def confirmed(transaction: str) -> Envelope:
    """A canonical payment.confirmed, as the hub makes it from a paid callback."""
    checked = check(callback(MaGiaoDich=transaction), SECRET, PARTNER, "national_payment")
    assert checked.message is not None
    return MESSAGE_ADAPTER.validate_python(checked.message)
