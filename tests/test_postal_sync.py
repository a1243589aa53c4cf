"""The postal operator's own sync, ``GET /v1/postal/pickups?since=&limit=`` (connectors/postal_vnpost/sync.py),
through the hub's real API on SQLite and PostgreSQL.

Rules: the operator sees exactly its own orders changed after the cursor, with what to do and for
whom and no identity number; paging by the cursor repeats and skips nothing; a receipt
(``records.receipt``) and a cancellation bring an order back after the cursor, the receipt in it;
only the operator's own key may read it (a one-stop key, though it has the read scope, gets 403
``postal-operator-only``; no key, 401); a bad cursor or limit is a 422 problem, never a 500.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from connectors.postal_vnpost import records
from tests.conftest import Hub
from tests.support import client

PARTNER = "postal_vnpost"
AGENCY = "000.00.00.H49"
CITIZEN_ID = "001203004567"  # an identity number a careless writer might have put in a stored job
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


def job(n: int, cod: int = 0) -> records.Job:
    return records.Job(name=f"Nguyễn Văn {n}", phone=f"09123456{n:02d}", address=f"Số {n} đường Lê Lợi", ward="Hồng Gai",
                       district="193", province="22", what=["Tờ khai", "Bản sao giấy khai sinh"], cod_amount=cod)


def book(hub: Hub, n: int, leg: str = "pickup", partner: str = PARTNER, cod: int = 0) -> str:
    number = f"{AGENCY}-260105-{n:04d}"
    with hub.engine.begin() as conn:
        records.book(conn, partner, number, dossier_code=number, agency_id=AGENCY, leg=leg,  # type: ignore[arg-type]
                     job=job(n, cod), at=T0 + timedelta(minutes=n))
    return number


def sync(api: str, key: str, **params: Any) -> httpx.Response:
    with client(api, key) as c:
        return c.get("/v1/postal/pickups", params=params)


def page(api: str, hub: Hub, since: int, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
    r = sync(api, hub.keys[PARTNER], since=since, limit=limit)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["items"], body["next"]


def test_the_operator_sees_its_own_orders_with_the_job_and_nothing_more(hub: Hub, api: str) -> None:
    pickup = book(hub, 1)
    result = book(hub, 2, leg="result", cod=35000)
    book(hub, 3, partner="other_post")  # another postal operator's: not this one's to see
    items, cursor = page(api, hub, 0)
    assert [i["order_number"] for i in items] == [pickup, result]
    first, second = items
    assert first == {
        "order_number": pickup, "leg": "pickup", "task": "collect the dossier from the citizen and bring it to the agency",
        "dossier_code": pickup, "waybill": None, "state": "booked", "step": "postal.booked",
        "booked_at": "2026-01-05T01:01:00+00:00",
        "job": {"name": "Nguyễn Văn 1", "phone": "0912345601", "address": "Số 1 đường Lê Lợi", "ward": "Hồng Gai",
                "district": "193", "province": "22", "what": ["Tờ khai", "Bản sao giấy khai sinh"], "cod_amount": 0},
        "from": None, "to": {"agency_id": AGENCY}, "receipt": None,
    }
    assert second["leg"] == "result" and second["from"] == {"agency_id": AGENCY} and second["to"] is None
    assert second["job"]["cod_amount"] == 35000
    assert cursor > 0


def test_no_identity_number_ever_leaves_even_if_a_stored_job_holds_one(hub: Hub, api: str) -> None:
    number = book(hub, 1)
    with hub.engine.begin() as conn:  # a job written by something less careful than records.book
        conn.execute(records.orders.update().where(records.orders.c.order_number == number).values(
            job=f'{{"name": "Trần Thị B", "phone": "0900000000", "address": "x", "ward": null, "district": "193", '
                f'"province": "22", "what": [], "cod_amount": 0, "identity_number": "{CITIZEN_ID}", "MaDinhDanh": "{CITIZEN_ID}"}}'))
    r = sync(api, hub.keys[PARTNER])
    assert r.status_code == 200
    assert CITIZEN_ID not in r.text and "identity" not in r.text and "MaDinhDanh" not in r.text
    assert not re.search(r"\b\d{12}\b", r.text), "nothing shaped like a citizen ID"
    assert r.json()["items"][0]["job"]["name"] == "Trần Thị B"


def test_paging_by_the_cursor_repeats_and_skips_nothing(hub: Hub, api: str) -> None:
    numbers = [book(hub, n) for n in range(1, 8)]
    seen: list[str] = []
    cursor, pages = 0, 0
    while True:
        items, after = page(api, hub, cursor, limit=3)
        if not items:
            assert after == cursor, "an empty page keeps the cursor"
            break
        assert after > cursor
        seen += [i["order_number"] for i in items]
        cursor, pages = after, pages + 1
    assert seen == numbers and pages == 3, "7 orders in pages of 3, 3 and 1, each once"


def test_a_receipt_brings_the_order_back_after_the_cursor_with_the_receipt(hub: Hub, api: str) -> None:
    first, second = book(hub, 1), book(hub, 2)
    _, cursor = page(api, hub, 0)
    assert page(api, hub, cursor) == ([], cursor), "nothing changed since"
    received = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
    with hub.engine.begin() as conn:
        records.receipt(conn, PARTNER, second, "BN-2026-000123", received)
    items, after = page(api, hub, cursor)
    assert [i["order_number"] for i in items] == [second] and after > cursor
    assert items[0]["receipt"] == {"number": "BN-2026-000123", "at": "2026-01-05T09:30:00+00:00"}
    with hub.engine.begin() as conn:
        records.cancelled(conn, PARTNER, first)
    items, _ = page(api, hub, after)
    assert [(i["order_number"], i["state"]) for i in items] == [(first, "cancelled")]


def test_a_one_stop_key_with_the_read_scope_is_forbidden(hub: Hub, api: str) -> None:
    book(hub, 1)
    r = sync(api, hub.keys["motcua"])
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/postal-operator-only" and "Nguyễn" not in r.text


def test_an_operator_key_is_forbidden_too(hub: Hub, api: str) -> None:
    r = sync(api, hub.keys["ops"])
    assert r.status_code == 403 and r.json()["type"] == "/problems/postal-operator-only"


def test_no_key_is_unauthenticated(hub: Hub, api: str) -> None:
    r = httpx.get(f"{api}/v1/postal/pickups", timeout=10)
    assert r.status_code == 401 and r.json()["type"].endswith("unauthenticated")


@pytest.mark.parametrize("params", [{"since": "-1"}, {"since": "abc"}, {"since": "1.5"}, {"since": str(2**64)},
                                    {"limit": "100000"}, {"limit": "0"}, {"limit": "ten"}])
def test_a_bad_cursor_or_limit_is_a_validation_problem_never_a_500(hub: Hub, api: str, params: dict[str, str]) -> None:
    r = sync(api, hub.keys[PARTNER], **params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["type"].endswith("validation")
