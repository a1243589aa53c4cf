"""No personal data or secrets in logs (hub/log_mask.py, hide_parameters in hub/store/engine.py).

Attack: whoever reads the logs (an operator, a log shipper, a support ticket with a pasted
traceback) learns citizen ID numbers, partner keys or session tokens from an error that quoted
them: a failed SQL statement with its parameters, a partner's SOAP fault, an HTTP error's URL.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from fastapi import Request
from lxml import etree
from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.population_db.simulator import NAMESPACE, SOAP_ENV, envelope
from hub.access.keys import issue_key
from hub.audit.records import cli_record
from hub.edge.app import create_app
from hub.edge.rules import RULES, public
from hub.log_mask import mask
from hub.store.tables import access_records
from tests.conftest import Hub, client
from tests.support import ThreadedServer, free_port, wait_port, wait_until, with_partner
from tests.test_citizens import LOOKUP_SCOPES, PURPOSE, dossier, officer

CITIZEN = "001095001234"
MASKED = "0010******34"
KEY = "lt_live_" + "Q" * 43
SESSION = "lt_sess_" + "s" * 43
UNMASKED_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])")  # as a word: not inside a hex request id


def leaks(text: str) -> list[str]:
    """Every citizen ID, key or session token in ``text`` that is not masked."""
    return (UNMASKED_ID.findall(text) + re.findall(r"lt_live_[^*\s]", text) + re.findall(r"lt_sess_[^*\s]", text)
            + ([CITIZEN] if "0010 9500 1234" in text else []))


def everything(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record, formatted as a plain handler would (message, traceback, stack)."""
    plain = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return caplog.text + "\n".join(plain.format(r) for r in caplog.records)


def test_the_mask_hides_citizen_ids_keys_tokens_and_authorization_values() -> None:
    text = (f"id {CITIZEN}, spaced 0010 9500 1234, key {KEY}, token {SESSION}, "
            "Authorization: ApiKey abcdef123456, {'authorization': 'Bearer xyz.abc-123456'}, bearer tok_987654321")
    masked = mask(text)
    assert not leaks(masked), masked
    assert f"id {MASKED}" in masked and "0010******34" in masked.split("spaced ")[1]
    assert "lt_live_***" in masked and "lt_sess_***" in masked
    assert "abcdef123456" not in masked and "xyz.abc-123456" not in masked and "tok_987654321" not in masked
    # Not a citizen ID: 11 or 13 digits, a dossier code, a time stamp.
    for kept in ("09123456789", "1732345678901", "000.00.01.H49-261123-0001", "2026-11-23T08:15:00.123456Z"):
        assert mask(kept) == kept


# --- a database error ----------------------------------------------------------------------------


@pytest.fixture
def failing(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app plus a route that makes the database refuse an insert whose parameters carry a citizen ID and a key."""
    monkeypatch.setitem(RULES, ("POST", "/v1/_test/db-error"), public())  # every route declares its rule
    app = create_app(hub.settings)

    @app.post("/v1/_test/db-error")
    async def db_error(request: Request) -> Any:
        row = {**cli_record("test", "lookup", f"citizen {CITIZEN} key {KEY}"), "seq": 10**12}
        with hub.engine.begin() as conn:
            conn.execute(insert(access_records).values(row))
            conn.execute(insert(access_records).values({**row, "request_id": "x"}))  # the same seq: IntegrityError
        return {"ok": True}

    with ThreadedServer(app).start() as server:
        yield server.url


def test_a_database_error_carrying_a_citizen_id_is_logged_without_its_parameters(
        failing: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    r = httpx.post(f"{failing}/v1/_test/db-error", headers={"Authorization": f"Bearer {SESSION}"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    logged = everything(caplog)
    assert "IntegrityError" in logged and "Traceback" in logged, "the failure itself is logged, with its traceback"
    assert "SQL parameters hidden" in logged, "engines are created with hide_parameters=True"
    assert not leaks(logged), leaks(logged)


# --- connector errors ----------------------------------------------------------------------------


def fault_server() -> ThreadedServer:
    """A population database that answers every call with a SOAP fault naming the citizen ID, and an
    HTTP 404 for any other path."""

    async def token(_: StarletteRequest) -> Response:
        return JSONResponse({"access_token": "tok-" + "a" * 20, "token_type": "bearer", "expires_in": 300})

    async def soap(_: StarletteRequest) -> Response:
        fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = "soap:Server"
        etree.SubElement(fault, "faultstring").text = f"Không tìm thấy công dân {CITIZEN}"
        loi = etree.SubElement(etree.SubElement(fault, "detail"), f"{{{NAMESPACE}}}Loi")
        etree.SubElement(loi, f"{{{NAMESPACE}}}MaLoi").text = CITIZEN
        etree.SubElement(loi, f"{{{NAMESPACE}}}MoTa").text = f"Không tìm thấy công dân {CITIZEN}"
        return Response(etree.tostring(envelope(fault)), 500, media_type="text/xml; charset=utf-8")

    async def missing(_: StarletteRequest) -> Response:
        return Response("no such citizen", 404)

    return ThreadedServer(Starlette(routes=[Route("/oauth/token", token, methods=["POST"]),
                                            Route("/dancuquocgia", soap, methods=["POST"]),
                                            Route("/{rest:path}", missing, methods=["GET", "POST"])])).start()


@pytest.fixture
def partner() -> Iterator[str]:
    server = fault_server()
    yield server.url
    server.stop()


def look_up(base: str, key: str) -> httpx.Response:
    body = {"officer_code": "CB-ALL", "purpose": PURPOSE, "dossier_code": dossier(1), "id_number": CITIZEN}
    with client(base, key) as c:
        return c.post("/v1/citizens/lookup", json=body)


def test_connector_errors_carrying_a_citizen_id_are_logged_masked(
        hub: Hub, partner: str, caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    wired = with_partner(hub.settings, "population_db", url=f"{partner}/dancuquocgia", token_url=f"{partner}/oauth/token")
    key = issue_key(hub.engine, "motcua", wired.effective_key_pepper, "look-ups", scopes=LOOKUP_SCOPES)
    officer(hub, "CB-ALL")
    monkeypatch.setitem(RULES, ("GET", "/v1/_test/fetch"), public())
    app = create_app(wired)

    @app.get("/v1/_test/fetch")  # a partner call that fails with the ID and a key in its URL
    async def fetch(request: Request) -> Any:
        httpx.get(f"{partner}/citizens/{CITIZEN}", params={"key": KEY}).raise_for_status()

    with ThreadedServer(app).start() as server:
        refused = look_up(server.url, key)
        assert refused.status_code == 502
        assert httpx.get(f"{server.url}/v1/_test/fetch").status_code == 500
    logged = everything(caplog)
    assert "population_db TraCuuThongTinCongDan" in logged and MASKED in logged, "the fault is logged, its citizen ID masked"
    assert "HTTPStatusError" in logged and "lt_live_***" in logged, "the HTTP error is logged, its key masked"
    assert not leaks(logged), leaks(logged)

    # The same in a separate API process (`lienthong api`, as deployed): its log file.
    port = free_port()
    api = hub.spawn("-m", "hub.cli", "api", "--port", str(port), name="api-masked",
                    LIENTHONG_POPULATION_DB_URL=f"{partner}/dancuquocgia",
                    LIENTHONG_POPULATION_DB_TOKEN_URL=f"{partner}/oauth/token")
    wait_port(port, 60)
    assert look_up(f"http://127.0.0.1:{port}", key).status_code == 502
    wait_until(lambda: MASKED in api.output(), 10, what="the API process's log line of the fault")
    api.stop()
    assert not leaks(api.output()), leaks(api.output())
