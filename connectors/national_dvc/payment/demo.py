"""Demo traffic of the sandbox's payment platform: the demo dossiers' fees are paid, as citizens would.

The hub opens each payment (INIT, recorded in the hub's ``payments`` table: the only payments whose
callbacks it believes), then the platform simulator's ``/_sim/pay`` pays it and posts the callback,
which becomes ``payment.confirmed`` for the one-stop system. It follows the one-stop system's demo
dossiers (``000.00.00.H49-<today>-1001``, ``-1002``...), one every ``interval`` seconds.
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Mapping

import httpx

from hub.seam import Context, SandboxInfo

HANOI = timezone(timedelta(hours=7))
FEES = [{"LoaiPhiLePhi": "1", "MaPhiLePhi": "LP01", "TenPhiLePhi": "Lệ phí cấp bản sao", "SoTien": "8000"},
        {"LoaiPhiLePhi": "2", "MaPhiLePhi": "P01", "TenPhiLePhi": "Phí dịch vụ bưu chính", "SoTien": "22000"}]


def pay(ctx: Context, dossier_code: str) -> None:
    """Open a payment of the demo fees for ``dossier_code`` and have the simulator pay it."""
    from connectors.national_dvc.payment.client import PaymentClient
    from connectors.national_dvc.payment.wire import BienLai

    client = PaymentClient.for_hub(ctx)
    try:
        receipt = BienLai.model_validate({"MaHoSo": dossier_code, "MaTTHC": "2.000477", "MaDonVi": "000.00.00.H49",
                                          "PhiLePhi": FEES})
        reference = f"{dossier_code}-{uuid.uuid4().hex[:8]}"  # new per run: a rerun reuses the dossier codes
        client.init(reference, sum(int(f["SoTien"]) for f in FEES), f"Thanh toán hồ sơ {dossier_code}", receipt,
                    "127.0.0.1")
        httpx.post(f"{ctx.settings.url.rstrip('/')}/_sim/pay", json={"MaThamChieu": reference}, timeout=20)
    finally:
        client.close()


def demo(info: SandboxInfo, keys: Mapping[str, str], interval: float = 5.0, first_seq: int = 1001,
         limit: int = 500) -> None:
    """Pay one demo dossier's fees every ``interval`` seconds, a little after the one-stop system files it."""
    time.sleep(interval / 2)
    for seq in itertools.islice(itertools.count(first_seq), limit):
        try:
            pay(info.ctx, f"000.00.00.H49-{datetime.now(HANOI):%y%m%d}-{seq:04d}")
        except Exception:  # noqa: BLE001 - demo traffic: a failed payment must not stop the feed
            pass
        time.sleep(interval)
