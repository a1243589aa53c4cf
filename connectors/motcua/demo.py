"""Demo traffic of the sandbox's one-stop system: it files dossiers and moves them along (its
manifest's ``seed.demo``; ``lienthong motcua demo`` sends a few at once). Some are births, deaths,
land and business registrations, which the ministry systems handle and answer
(connectors/ministry_apps/)."""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx

log = logging.getLogger(__name__)
HANOI = timezone(timedelta(hours=7))
NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Thu Dung", "Võ Minh Đức", "Đặng Ngọc Hà"]
STEPS = [
    (2, "Tiếp nhận hồ sơ", "Bộ phận Một cửa"),
    (4, "Chuyển phòng chuyên môn thẩm định", "Phòng Tư pháp"),
    (9, "Hoàn thành giải quyết", "Phòng Tư pháp"),
]


STREETS = ["12 Phan Bội Châu", "45 Hùng Vương", "7 Trần Hưng Đạo", "88 Nguyễn Du"]
COMPONENTS = ["Tờ khai đề nghị cấp bản sao trích lục hộ tịch", "Bản sao giấy khai sinh"]


def postal_address(seq: int) -> dict[str, Any]:
    """A sandbox citizen's address for the post (made up; VNPost-style province and district codes)."""
    return {"name": NAMES[seq % len(NAMES)], "phone": f"09{seq % 100000000:08d}", "address": STREETS[seq % len(STREETS)],
            "ward_code": "06646", "ward_name": "Phường Hồng Hải", "district_code": "193", "district_name": "Thành phố Hạ Long",
            "province_code": "22", "province_name": "Tỉnh Quảng Ninh"}


#: Procedures handled in ministry software (connectors/ministry_apps/adapters/): seq % 6 -> (code, name, form).
MINISTRY_PROCEDURES: dict[int, tuple[str, str, dict[str, Any]]] = {
    1: ("1.001193", "Đăng ký khai sinh", {"hoTen": "Nguyễn Minh Khang", "ngaySinh": "20/11/2026", "gioiTinh": "1",
                                          "noiSinh": "Bệnh viện Sản Nhi Quảng Ninh", "hoTenMe": "Trần Thị Bích"}),
    2: ("1.000656", "Đăng ký khai tử", {"hoTen": "Lê Văn Tư", "ngayChet": "21/11/2026", "noiChet": "Thành phố Hạ Long",
                                        "soDinhDanh": "022150001111"}),
    4: ("1.004227", "Đăng ký đất đai, cấp giấy chứng nhận lần đầu",
        {"thuaDat": [{"soTo": "12", "soThua": "345", "diaChi": "Tổ 3, khu 5, phường Hà Khẩu, Hạ Long"}]}),
    5: ("2.000575", "Đăng ký thành lập hộ kinh doanh", {}),
}


def by_post(seq: int) -> bool:
    """Every third demo dossier comes by post (pickup) and has its paper result delivered by post."""
    return seq % 3 == 0


def pays_online(seq: int) -> bool:
    """The fees of the postal demo dossiers (one in three, none handled in ministry software) are paid
    online on the national payment platform: after acceptance the one-stop system sends a fee notice
    with ``online: true``, the hub opens the payment (connectors/national_dvc/payment/), and the
    payment demo pays it."""
    return by_post(seq) and seq % 6 not in MINISTRY_PROCEDURES


#: The fees of a demo dossier paid online (whole đồng): the catalogue's lệ phí of procedure 2.000477 (the
#: portal simulator's catalogue, connectors/national_dvc/catalogue/simulator.py), which the hub checks.
ONLINE_FEES = [{"code": "LP-2.000477", "name": "Lệ phí cấp bản sao trích lục hộ tịch", "amount": 8000, "kind": 1}]


def dossier_messages(seq: int, now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The messages of one demo dossier's life: submitted, three status changes; a postal one
    (:func:`by_post`) is filed for pickup, gets its receipt number at acceptance and ends with a
    paper result delivered by post; one paid online (:func:`pays_online`) gets a fee notice with
    ``online: true`` after its acceptance."""
    now = now or datetime.now(HANOI)
    code = dossier_code(seq, now)
    ministry = MINISTRY_PROCEDURES.get(seq % 6)
    postal = by_post(seq) and ministry is None
    base = {"source": "motcua", "dossier_code": code}
    procedure, name, form = ministry or ("2.000477", "Cấp bản sao trích lục hộ tịch", {})
    payload: dict[str, Any] = {
        "agency_id": "000.00.00.H49", "procedure_code": procedure, "procedure_name": name,
        "applicant": {"name": NAMES[seq % len(NAMES)], "subject_type": 1, "phone": "0912345678",
                      "ids": [{"id_type": 1, "number": f"0221900{seq % 100000:05d}"}]},
        "received_at": now.isoformat(), "due_at": (now + timedelta(days=3)).isoformat(), "status": 1,
        "channel": 3 if postal else 2, "summary": f"Đề nghị {name[0].lower()}{name[1:]}",
    }
    if form:
        payload["form"] = form
    if postal:
        payload["pickup"] = {"address": postal_address(seq), "components": COMPONENTS}
        payload["result_by_post"] = postal_address(seq)
    yield {**base, "message_id": str(uuid.uuid4()), "type": "dossier.submitted", "occurred_at": now.isoformat(),
           "payload": payload}
    # a ministry's dossier is accepted here, then handled (and answered) in the ministry's software
    for i, (status, content, dept) in enumerate(STEPS[:1] if ministry else STEPS, 1):
        at = now + timedelta(seconds=i)
        step: dict[str, Any] = {"agency_id": "000.00.00.H49", "status": status, "handled_at": at.isoformat(),
                                "handler_name": "Trần Văn Bình", "handler_title": "Chuyên viên", "department": dept,
                                "content": content}
        if postal and status == 2:
            step["receipt_number"] = f"BN-{seq:06d}"
        yield {**base, "message_id": str(uuid.uuid4()), "type": "status.changed", "occurred_at": at.isoformat(),
               "payload": step}
        if status == 2 and pays_online(seq):
            yield {**base, "message_id": str(uuid.uuid4()), "type": "fee.notice", "occurred_at": at.isoformat(),
                   "payload": {"agency_id": "000.00.00.H49", "procedure_code": procedure, "fees": ONLINE_FEES,
                               "due_at": (now + timedelta(days=2)).isoformat(), "online": True}}
    if postal:
        at = now + timedelta(seconds=len(STEPS) + 1)
        yield {**base, "message_id": str(uuid.uuid4()), "type": "result.issued", "occurred_at": at.isoformat(),
               "payload": {"agency_id": "000.00.00.H49", "issued_at": at.isoformat(), "status": 9, "paper": True,
                           "by_post": postal_address(seq), "note": "Trả kết quả bản giấy qua bưu điện"}}


def dossier_code(seq: int, now: datetime | None = None) -> str:
    """The demo dossier code of sequence ``seq`` today (seed 000 Đ6.3: agency, YYMMDD, 4 digits)."""
    return f"000.00.00.H49-{(now or datetime.now(HANOI)):%y%m%d}-{seq:04d}"


LEVELS = ("very_satisfied", "satisfied", "very_satisfied", "not_satisfied", "satisfied")


def rating(seq: int, now: datetime | None = None) -> dict[str, Any] | None:
    """The citizen's rating of demo dossier ``seq`` once it is finished (every other finished one is
    rated; seed 004 Đ12), or None: a ministry's dossier finishes elsewhere, later."""
    if seq % 2 or seq % 6 in MINISTRY_PROCEDURES:
        return None
    at = (now or datetime.now(HANOI)) + timedelta(seconds=len(STEPS) + 2)
    return {"message_id": str(uuid.uuid4()), "source": "motcua", "type": "rating.given", "dossier_code": dossier_code(seq, now),
            "occurred_at": at.isoformat(),
            "payload": {"agency_id": "000.00.00.H49", "procedure_code": "2.000477", "level": LEVELS[seq % len(LEVELS)],
                        "rated_at": at.isoformat()}}


def answers(inbox: dict[str, Any], answered: set[str], now: datetime | None = None) -> list[dict[str, Any]]:
    """``question.answered`` for each ``question.asked`` the one-stop simulator received (its ``/_sim/state``)
    and the demo has not answered yet; their ids are added to ``answered``."""
    at = now or datetime.now(HANOI)
    out = []
    for held in inbox.get("messages", {}).values():
        asked = held.get("message", {})
        if asked.get("type") != "question.asked" or asked.get("message_id") in answered:
            continue
        answered.add(asked["message_id"])
        q = asked["payload"]
        out.append({"message_id": str(uuid.uuid4()), "source": "motcua", "type": "question.answered",
                    "subject": asked["subject"], "occurred_at": at.isoformat(),
                    "payload": {"question_id": q["question_id"], "agency_id": q["agency_id"],
                                "answerer_name": "Nguyễn Thị Lan", "answerer_title": "Chuyên viên Phòng Tư pháp",
                                "answered_at": at.isoformat(),
                                "content": "Cảm ơn ông/bà đã gửi câu hỏi. Thông tin chi tiết về thủ tục, thành phần hồ sơ và lệ phí "
                                           "được công khai trên Cổng Dịch vụ công; ông/bà có thể liên hệ Bộ phận Một cửa để "
                                           "được hướng dẫn thêm."}})
    return out


def feed(base_url: str, api_key: str, interval: float = 5.0, first_seq: int = 1001, limit: int = 500,
         sim_url: str | None = None) -> None:
    """Post one demo dossier's messages every ``interval`` seconds (at most ``limit`` dossiers); rate
    finished ones now and then; answer the questions the one-stop simulator (``sim_url``) received."""
    headers = {"Authorization": f"ApiKey {api_key}"}
    answered: set[str] = set()
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for seq in itertools.islice(itertools.count(first_seq), limit):
            now = datetime.now(HANOI)
            rated = rating(seq, now)
            for msg in [*dossier_messages(seq, now), *([rated] if rated else [])]:
                try:
                    answer = client.post("/v1/messages", json=msg)
                except httpx.HTTPError:
                    continue
                if answer.status_code >= 400:  # the demo's own mistake (say, fees the catalogue no longer has)
                    log.warning("demo: the hub refused a %s: %s", msg["type"], answer.text[:300])
            if sim_url:
                try:
                    inbox = httpx.get(f"{sim_url}/_sim/state", timeout=5).json()
                    for msg in answers(inbox, answered):
                        client.post("/v1/messages", json=msg)
                except (httpx.HTTPError, ValueError):
                    pass
            time.sleep(interval)


def send(var_dir: Path, url: str, count: int, interval: float) -> None:
    """``lienthong motcua demo``: send ``count`` demo dossiers with the sandbox's one-stop key."""
    creds = json.loads((var_dir / "sandbox.json").read_text())
    key = creds["partners"]["motcua"]["api_key"]
    with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}, timeout=10) as client:
        for seq in range(count):
            for msg in dossier_messages(2001 + seq + int(time.time()) % 5000):
                r = client.post("/v1/messages", json=msg)
                print(r.status_code, msg["type"], msg["dossier_code"])
            time.sleep(interval)
