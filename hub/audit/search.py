"""The auditor's search over access records: filters, id paging, CSV/JSONL export, decryption.

A citizen ID is searched through its blind index; the record's ``content`` (encrypted) never
leaves the database through a search or an export, only through :func:`open_content`, which
decrypts it and records the act (the API's ``/content`` and the console's form both call it).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

import orjson
from sqlalchemy import Engine, or_, select

from hub.access import actions
from hub.audit.crypto import CitizenData
from hub.audit.records import iso
from hub.store import queries
from hub.store.engine import reading
from hub.store.tables import access_records

COLUMNS = tuple(str(c.name) for c in access_records.columns if c.name != "content")
EXPORT_PAGE = 2000
#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: How long the reason for opening a look-up's content must be (characters, when one is asked for).
REASON_LENGTH = (10, 500)


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string starting with ``= + - @``, tab or carriage
    return gets a leading single quote (OWASP's advice; the csv module quotes the cell when needed).

    Any text field can carry it: a user agent, a route, a partner code or summary a caller chose.
    Numbers are left alone (a negative integer is a number, not a formula); ``'`` marks the change,
    so the original value is the cell without its first character.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Filters:
    """What to look for; every field optional, all given ones must match."""

    since: datetime | None = None
    until: datetime | None = None
    partner: str | None = None
    key_id: int | None = None
    account: str | None = None
    ip: str | None = None
    officer_ip: str | None = None
    route: str | None = None
    status: int | None = None
    outcome: str | None = None
    kind: str | None = None
    citizen_id: str | None = None
    request_id: str | None = None  # the hub's request id or the caller's X-Request-Id


def _view(row: Any) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in COLUMNS}
    out["at"] = iso(out["at"])
    out["has_content"] = row.content is not None
    return out


def search(engine: Engine, citizen: CitizenData, filters: Filters, after_id: int = 0, limit: int = 100, *,
           newest_first: bool = False, before_id: int | None = None) -> list[dict[str, Any]]:
    """Matching records, at most ``limit``, content left out: oldest first with ``id > after_id``
    (the API, the exports), or, ``newest_first``, by time from the newest (the console), the page
    after the record ``before_id`` (:func:`hub.store.queries.newest_first`).

    Indexes (hub/store/tables.py): newest first, ``at`` reads the pages and any time range; a
    filter's own index (key, person, address, citizen, kind, request ids) serves a value rare enough
    that reading ``at`` would skip too many rows before a page is full."""
    t = access_records.c
    query = select(access_records).limit(limit)
    if newest_first:
        query = queries.newest_first(query, access_records, "at", before_id)
        if after_id:
            query = query.where(t.id > after_id)
    else:
        query = query.where(t.id > after_id).order_by(t.id)
    for column, value in ((t.partner_code, filters.partner), (t.key_id, filters.key_id), (t.account, filters.account),
                          (t.client_ip, filters.ip), (t.officer_ip, filters.officer_ip), (t.route, filters.route),
                          (t.status, filters.status), (t.outcome, filters.outcome), (t.kind, filters.kind)):
        if value is not None:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(t.at >= filters.since)
    if filters.until is not None:
        query = query.where(t.at < filters.until)
    if filters.citizen_id:
        query = query.where(t.citizen_index == citizen.blind_index(filters.citizen_id))
    if filters.request_id:
        query = query.where(or_(t.request_id == filters.request_id, t.caller_request_id == filters.request_id))
    with reading(engine) as conn:
        return [_view(row) for row in conn.execute(query)]


def export(engine: Engine, citizen: CitizenData, filters: Filters, fmt: str) -> Iterator[bytes]:
    """Every matching record, as CSV (with a header line; cells neutralised by :func:`spreadsheet_safe`)
    or JSON Lines (values as stored), page by page."""
    after = 0
    if fmt == "csv":
        header = io.StringIO()
        csv.writer(header).writerow([*COLUMNS, "has_content"])
        yield header.getvalue().encode()
    while True:
        page = search(engine, citizen, filters, after, EXPORT_PAGE)
        if not page:
            return
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)  # every text cell in quotes
            for item in page:
                writer.writerow([spreadsheet_safe(item[name]) if item[name] is not None else ""
                                 for name in COLUMNS] + [item["has_content"]])
            yield out.getvalue().encode()
        else:
            yield b"".join(orjson.dumps(item) + b"\n" for item in page)
        after = page[-1]["id"]


def decrypt(engine: Engine, citizen: CitizenData, record_id: int) -> dict[str, Any] | None:
    """The decrypted look-up content of record ``record_id``; None when it has none (or no such record)."""
    with reading(engine) as conn:
        sealed = conn.execute(select(access_records.c.content).where(access_records.c.id == record_id)).scalar()
    return None if sealed is None else citizen.open_content(sealed)


def find(engine: Engine, record_id: int) -> dict[str, Any] | None:
    """One record as :func:`search` shows it (content left out, ``has_content`` instead); None if absent."""
    with reading(engine) as conn:
        row = conn.execute(select(access_records).where(access_records.c.id == record_id)).first()
    return None if row is None else _view(row)


def open_content(engine: Engine, citizen: CitizenData, record_id: int, *, actor: str, client_ip: str = "",
                 reason: str | None = None) -> dict[str, Any] | None:
    """Decrypt record ``record_id``'s look-up content and record it as the admin action
    ``audit.decrypt`` naming the record (and ``{"reason": ...}`` as its ``after`` when a reason is
    given). None, and nothing recorded, when the record has no content.

    The caller's request is the other half of the trail: its access record says ``kind=decrypt``.
    ``reason``, when given, is stripped and must be :data:`REASON_LENGTH` characters long
    (``ValueError`` naming ``reason`` otherwise); ``ValueError`` too if the content does not decrypt.
    """
    if reason is not None:
        reason = reason.strip()
        low, high = REASON_LENGTH
        if not low <= len(reason) <= high:
            raise ValueError(f"reason: from {low} to {high} characters")
    content = decrypt(engine, citizen, record_id)
    if content is None:
        return None
    with engine.begin() as conn:
        actions.record(conn, actor, "audit.decrypt", f"access_record:{record_id}",
                       after=None if reason is None else {"reason": reason}, client_ip=client_ip)
    return content
