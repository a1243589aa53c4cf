"""``POST /v1/messages`` is served ahead of FastAPI's stack (hub/edge/fast_path.py): the answers
must be exactly those the ordinary router gives, for good and bad input alike."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from hub.edge.app import create_app
from tests.conftest import Hub, client
from tests.factories import status_changed, submitted
from tests.support import ThreadedServer

CASES: list[tuple[str, dict[str, str], bytes]] = [
    ("malformed JSON", {"Content-Type": "application/json"}, b"{not json"),
    ("wrong media type", {"Content-Type": "text/plain"}, b"{}"),
    ("schema violation", {"Content-Type": "application/json"}, b'{"type": "status.changed"}'),
    ("unknown type", {"Content-Type": "application/json"}, b'{"type": "nope"}'),
]


@pytest.fixture
def both(hub: Hub) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A client of the hub with the fast path, and one of the same hub without it."""
    fast_app, slow_app = create_app(hub.settings), create_app(hub.settings)
    slow_app.fast_routes = {}
    fast, slow = ThreadedServer(fast_app).start(), ThreadedServer(slow_app).start()
    with client(fast.url, hub.keys["motcua"]) as f, client(slow.url, hub.keys["motcua"]) as s:
        yield f, s
    fast.stop()
    slow.stop()


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code
    assert a.headers["content-type"] == b.headers["content-type"]
    assert a.headers.get("www-authenticate") == b.headers.get("www-authenticate")


@pytest.mark.parametrize("what,headers,body", CASES, ids=[c[0] for c in CASES])
def test_fast_path_refuses_bad_input_exactly_as_the_router_does(both: tuple[httpx.Client, httpx.Client], what: str,
                                                                 headers: dict[str, str], body: bytes) -> None:
    fast, slow = both
    a, b = fast.post("/v1/messages", content=body, headers=headers), slow.post("/v1/messages", content=body, headers=headers)
    _same(a, b)
    assert a.status_code >= 400 and a.headers["content-type"].startswith("application/problem+json")
    assert a.json() == b.json()


def test_fast_path_refuses_a_missing_key_exactly_as_the_router_does(both: tuple[httpx.Client, httpx.Client]) -> None:
    fast, slow = both
    a = fast.post("/v1/messages", json=submitted(), headers={"Authorization": ""})
    b = slow.post("/v1/messages", json=submitted(), headers={"Authorization": ""})
    _same(a, b)
    assert a.status_code == 401 and a.json() == b.json()


def test_fast_path_receipts_match_the_router_for_new_duplicate_and_conflicting_ids(both: tuple[httpx.Client, httpx.Client]) -> None:
    fast, slow = both
    msg = status_changed(seq=1)
    first, again = fast.post("/v1/messages", json=msg), slow.post("/v1/messages", json=msg)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json() == again.json()
    other = dict(msg, occurred_at="2026-01-02T03:04:05+07:00")
    a, b = fast.post("/v1/messages", json=other), slow.post("/v1/messages", json=other)
    _same(a, b)
    assert a.status_code == 409 and a.json() == b.json()


def test_an_unexpected_failure_on_the_fast_path_is_a_500_problem_and_stores_nothing(hub: Hub) -> None:
    app = create_app(hub.settings)

    async def broken(*_: object) -> None:
        raise RuntimeError("store down")

    app.state.committer.writer.store = broken  # the failure happens after validation, where a store error would
    server = ThreadedServer(app).start()
    try:
        with client(server.url, hub.keys["motcua"]) as c:
            r = c.post("/v1/messages", json=submitted())
    finally:
        server.stop()
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/problem+json")
    assert "store down" not in r.text


def test_other_routes_still_go_through_fastapi(both: tuple[httpx.Client, httpx.Client]) -> None:
    fast, _ = both
    assert fast.get("/v1/messages", headers={}).status_code == 405  # same path, other method: the router answers
    assert fast.get("/openapi.json").json()["paths"]["/v1/messages"]["post"]
