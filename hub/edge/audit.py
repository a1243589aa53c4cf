"""The auditor's API over access records: search, export (CSV, JSON Lines) and audited decryption."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from hub.access import actions
from hub.access.principal import Principal
from hub.audit.search import Filters, export, open_content
from hub.audit.search import search as recorded
from hub.edge.gate import admitted
from hub.edge.guard import GuardedRoute
from hub.edge.params import MAX_ID, After, OptionalId, OptionalStatus, RowId
from hub.edge.problems import Problem
from hub.edge.responses import json_response, page_response
from hub.edge.views import only_one
from hub.store.queries import find_messages

router = APIRouter(tags=["audit"], route_class=GuardedRoute)


class Search(BaseModel):
    """What to look for; every field optional, all given ones must match. A citizen ID is matched
    through the blind index, and is only accepted in a POST body, never in a URL (URLs end up in
    proxies' logs)."""

    model_config = ConfigDict(extra="forbid")
    since: datetime | None = Field(None, description="records at or after (ISO 8601)")
    until: datetime | None = Field(None, description="records before (ISO 8601)")
    partner: str | None = None
    key_id: int | None = Field(None, ge=0, le=MAX_ID)
    account: str | None = Field(None, description="the person: account or officer code")
    ip: str | None = Field(None, description="the calling client's address")
    officer_ip: str | None = Field(None, description="a look-up's officer's own address, as the one-stop system reported it")
    route: str | None = Field(None, description="route template, e.g. /v1/messages")
    status: int | None = Field(None, ge=100, le=599)
    outcome: str | None = None
    kind: str | None = None
    citizen_id: str | None = Field(None, max_length=20, description="a citizen ID number")
    request_id: str | None = Field(None, max_length=100, description="the hub's request id or the caller's X-Request-Id")
    after: int = Field(0, ge=0, le=MAX_ID)
    limit: int = Field(100, ge=1, le=1000)

    def filters(self) -> Filters:
        return Filters(**self.model_dump(exclude={"after", "limit", "format"}))


class Export(Search):
    format: Literal["csv", "jsonl"] = "csv"


async def _page(request: Request, search: Search) -> Response:
    request.scope["state"]["summary"] = "audit search" + (" by citizen ID" if search.citizen_id else "")
    items = await run_in_threadpool(recorded, request.app.state.engine, request.app.state.citizen_data, search.filters(),
                                    search.after, search.limit)
    return page_response(items, search.limit)


@router.get("/v1/audit/records", summary="List the access records")
async def records(request: Request, since: datetime | None = None, until: datetime | None = None,
                  partner: str | None = None, key_id: OptionalId = None, account: str | None = None,
                  ip: str | None = None, route: str | None = None, status: OptionalStatus = None,
                  outcome: str | None = None, kind: str | None = None,
                  request_id: str | None = Query(None, max_length=100), after: After = 0,
                  limit: int = Query(100, ge=1, le=1000)) -> Response:
    """Oldest first, paged by id (``next_after``). To search by citizen ID use ``POST /v1/audit/records:search``.
    Look-up content stays encrypted: see ``/content``."""
    return await _page(request, Search(since=since, until=until, partner=partner, key_id=key_id, account=account, ip=ip,
                                       route=route, status=status, outcome=outcome, kind=kind, request_id=request_id,
                                       after=after, limit=limit))


@router.post("/v1/audit/records:search", summary="Search the access records (citizen ID too)")
async def search_records(request: Request, search: Search) -> Response:
    """As ``GET /v1/audit/records``, with the filters in the body, including ``citizen_id``."""
    return await _page(request, search)


@router.post("/v1/audit/records:export", summary="Export the matching records (CSV or JSON Lines)",
             responses={200: {"description": "the records, streamed", "content": {
                 "text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def export_records(request: Request, search: Export) -> Response:
    """Every matching record (``after``/``limit`` ignored), streamed; look-up content is never exported in clear."""
    request.scope["state"]["summary"] = f"audit export {search.format}"
    chunks = export(request.app.state.engine, request.app.state.citizen_data, search.filters(), search.format)
    media = "text/csv; charset=utf-8" if search.format == "csv" else "application/x-ndjson"
    return StreamingResponse(iterate_in_threadpool(chunks), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="access-records.{search.format}"'})


@router.get("/v1/audit/records/{record_id}/content", summary="Decrypt a look-up's content (itself audited)")
async def record_content(request: Request, record_id: RowId, who: Principal = Depends(admitted)) -> Response:
    """The decrypted content of one look-up record. The decryption is recorded twice: as this
    request's access record (kind ``decrypt``) and as an admin action naming the record."""
    state = request.scope["state"]
    state["kind"], state["summary"] = "decrypt", f"decrypt record {record_id}"
    content = await run_in_threadpool(open_content, request.app.state.engine, request.app.state.citizen_data, record_id,
                                      actor=who.who, client_ip=state.get("client_ip", ""))
    if content is None:
        raise Problem("not-found", f"record {record_id} has no encrypted content")
    return json_response({"id": record_id, "content": content})


class MessageRead(BaseModel):
    """An auditor's reasoned read of one partner message (bodies are not part of the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    message_id: str = Field(min_length=1, max_length=100)
    source: str | None = Field(None, max_length=40, description="the sending partner, if the id is shared")
    reason: str = Field(min_length=10, max_length=500, description="why the auditor must see it (recorded)")


@router.post("/v1/audit/messages:read", summary="Read one partner message, for a stated reason (itself audited)")
async def read_message(request: Request, body: MessageRead, who: Principal = Depends(admitted)) -> Response:
    """The message and its deliveries. Auditors do not see partners' message bodies otherwise: this
    read is recorded as its own access record (kind ``message_read``) and as an admin action naming
    the message and the reason, in the same way as decrypting look-up content."""
    state = request.scope["state"]
    state["kind"], state["message_ids"] = "message_read", (body.message_id,)
    state["summary"] = f"auditor read of message {body.message_id}"[:300]
    engine = request.app.state.engine
    found = only_one(await run_in_threadpool(find_messages, engine, body.message_id, body.source),
                     body.message_id, body.source)

    def note() -> None:
        with engine.begin() as conn:
            actions.record(conn, who.who, "audit.read_message", f"message:{found['source']}:{body.message_id}",
                           after={"reason": body.reason}, client_ip=state.get("client_ip", ""))
    await run_in_threadpool(note)
    return json_response(found)
