"""Demo traffic for the sandbox: the one-stop system files dossiers and moves them along, and each
dossier's fees are paid (the hub opens the payment, the platform simulator pays it and calls back)."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import httpx

from hub.config import Settings

HANOI = timezone(timedelta(hours=7))
NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Thu Dung", "Võ Minh Đức", "Đặng Ngọc Hà"]
STEPS = [
    (2, "Tiếp nhận hồ sơ", "Bộ phận Một cửa"),
    (4, "Chuyển phòng chuyên môn thẩm định", "Phòng Tư pháp"),
    (9, "Hoàn thành giải quyết", "Phòng Tư pháp"),
]


def dossier_messages(seq: int, now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The messages of one demo dossier's life: submitted, three status changes."""
    now = now or datetime.now(HANOI)
    code = f"000.00.00.H49-{now:%y%m%d}-{seq:04d}"
    base = {"source": "motcua", "dossier_code": code}
    yield {
        **base, "message_id": str(uuid.uuid4()), "type": "dossier.submitted", "occurred_at": now.isoformat(),
        "payload": {
            "agency_id": "000.00.00.H49", "procedure_code": "2.000477", "procedure_name": "Cấp bản sao trích lục hộ tịch",
            "applicant": {"name": NAMES[seq % len(NAMES)], "subject_type": 1, "phone": "0912345678"},
            "received_at": now.isoformat(), "due_at": (now + timedelta(days=3)).isoformat(), "status": 1, "channel": 2,
            "summary": "Đề nghị cấp bản sao trích lục khai sinh",
        },
    }
    for i, (status, content, dept) in enumerate(STEPS, 1):
        at = now + timedelta(seconds=i)
        yield {
            **base, "message_id": str(uuid.uuid4()), "type": "status.changed", "occurred_at": at.isoformat(),
            "payload": {"agency_id": "000.00.00.H49", "status": status, "handled_at": at.isoformat(),
                        "handler_name": "Trần Văn Bình", "handler_title": "Chuyên viên", "department": dept, "content": content},
        }


class Payer:
    """Pays a demo dossier's fees as a citizen would: the hub opens the payment (INIT, recorded in the
    hub's ``payments`` table, the only payments whose callbacks it believes), then the platform
    simulator's ``/_sim/pay`` pays it and posts the callback, which becomes ``payment.confirmed``."""

    FEES = [{"LoaiPhiLePhi": "1", "MaPhiLePhi": "LP01", "TenPhiLePhi": "Lệ phí cấp bản sao", "SoTien": "8000"},
            {"LoaiPhiLePhi": "2", "MaPhiLePhi": "P01", "TenPhiLePhi": "Phí dịch vụ bưu chính", "SoTien": "22000"}]

    def __init__(self, settings: Settings, payment_url: str) -> None:
        from connectors.national_dvc.payment.client import PaymentClient
        from hub.runtime import engine_for

        self.payment_url = payment_url.rstrip("/")
        self.client = PaymentClient.for_hub(settings, engine_for(settings), payment_url)

    def __call__(self, dossier_code: str) -> None:
        from connectors.national_dvc.payment.wire import BienLai

        receipt = BienLai.model_validate({"MaHoSo": dossier_code, "MaTTHC": "2.000477", "MaDonVi": "000.00.00.H49",
                                          "PhiLePhi": self.FEES})
        reference = f"{dossier_code}-{uuid.uuid4().hex[:8]}"  # new per run: a rerun reuses the dossier codes
        self.client.init(reference, sum(int(f["SoTien"]) for f in self.FEES), f"Thanh toán hồ sơ {dossier_code}",
                         receipt, "127.0.0.1")
        httpx.post(f"{self.payment_url}/_sim/pay", json={"MaThamChieu": reference}, timeout=20)


def feed(base_url: str, api_key: str, interval: float = 5.0, first_seq: int = 1001, limit: int = 500,
         pay: Callable[[str], None] | None = None) -> None:
    """Post one demo dossier's messages every ``interval`` seconds (at most ``limit`` dossiers);
    with ``pay``, each dossier's fees are then paid (``pay(dossier_code)``)."""
    headers = {"Authorization": f"ApiKey {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for seq in itertools.islice(itertools.count(first_seq), limit):
            code = ""
            for msg in dossier_messages(seq):
                code = msg["dossier_code"]
                try:
                    client.post("/v1/messages", json=msg)
                except httpx.HTTPError:
                    pass
            if pay is not None:
                try:
                    pay(code)
                except Exception:  # noqa: BLE001 - demo traffic: a failed payment must not stop the feed
                    pass
            time.sleep(interval)


def send(settings: Settings, url: str, count: int, interval: float) -> None:
    """``lienthong demo``: send ``count`` demo dossiers with the sandbox's one-stop key."""
    creds = json.loads((settings.var_dir / "sandbox.json").read_text())
    key = creds["partners"]["motcua"]["api_key"]
    with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}, timeout=10) as client:
        for seq in range(count):
            for msg in dossier_messages(2001 + seq + int(time.time()) % 5000):
                r = client.post("/v1/messages", json=msg)
                print(r.status_code, msg["type"], msg["dossier_code"])
            time.sleep(interval)
