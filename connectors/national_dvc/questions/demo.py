"""The sandbox's portal side of Q&A: now and then a citizen asks a question on the simulated portal
(``POST /_sim/questions``); the hub's questions job pulls it and the one-stop demo answers it."""

from __future__ import annotations

import time

import httpx

from hub.seam import SandboxInfo

QUESTIONS = [
    ("Phạm Văn Long", "Hồ sơ cấp bản sao trích lục hộ tịch nộp qua bưu điện thì nhận kết quả ở đâu?", "2.000477"),
    ("Đỗ Thị Hương", "Tôi có thể thanh toán lệ phí trực tuyến khi nộp hồ sơ đăng ký khai tử không?", "1.000656"),
    ("Vũ Minh Tuấn", "Thời hạn giải quyết thủ tục đăng ký đất đai lần đầu là bao lâu?", "1.004227"),
]


def ask(info: SandboxInfo, interval: float = 90.0, limit: int = 50) -> None:
    """Post one question to the portal simulator every ``interval`` seconds (at most ``limit``)."""
    url = info.env.get("LIENTHONG_NATIONAL_DVC_ADAPTER_URL", "http://127.0.0.1:8101")
    with httpx.Client(base_url=url, timeout=5) as client:
        for n in range(limit):
            name, content, procedure = QUESTIONS[n % len(QUESTIONS)]
            try:
                client.post("/_sim/questions", json={"NOIDUNG": content, "HOVATEN": name, "MATTHCDP": procedure})
            except httpx.HTTPError:
                pass
            time.sleep(interval)

