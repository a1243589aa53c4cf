"""``GET /v1/messages/{message_id}/documents/{index}``: a result document, fetched and checked.

The hub fetches document ``index`` (0-based, in the order of ``payload.documents``) of a
``result.issued`` message from its URL and answers its bytes only when their SHA-256 is the one the
message names, with ``Content-Digest`` (RFC 9530). A mismatch is a 502
``document-digest-mismatch``, recorded as the request's outcome; the bytes are never passed on, and
the answer names the document and the rule, never the fetched bytes' digest (that answer would let a
partner learn any reachable file's SHA-256 and then fetch the file under a message naming it).
Every other failure is a 502 ``document-unavailable`` with a generic reason (hub/documents.py).
The fetch runs on the event loop (no worker thread is held while a slow server trickles).

Who sees what: operators any message; a partner the messages it sent or that were routed to it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.access.principal import Principal
from hub.documents import DigestMismatch, DocumentError, fetch_document
from hub.edge.gate import admitted
from hub.edge.guard import GuardedRoute
from hub.edge.problems import Problem
from hub.edge.views import only_one
from hub.store import queries

router = APIRouter(tags=["messages"], route_class=GuardedRoute)


def _visible(found: list[dict[str, Any]], caller: Principal) -> list[dict[str, Any]]:
    if caller.is_operator:
        return found
    me = caller.partner_code
    return [m for m in found if m["source"] == me or any(d["destination"] == me for d in m["deliveries"])]


@router.get("/v1/messages/{message_id}/documents/{index}",
            summary="A result document, fetched from its URL and answered only if its SHA-256 matches",
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the document, with Content-Digest: sha-256=:<base64>:"}})
async def get_document(request: Request, message_id: str, index: int = Path(ge=0, le=49),
                       source: str | None = Query(None), caller: Principal = Depends(admitted)) -> Response:
    found = await run_in_threadpool(queries.find_messages, request.app.state.engine, message_id, source)
    message = only_one(_visible(found, caller), message_id, source)["message"]
    if message["type"] != "result.issued":
        raise Problem("not-found", f"message {message_id!r} is a {message['type']}; only result.issued names documents")
    documents = message["payload"]["documents"]
    if index >= len(documents):
        raise Problem("not-found", f"message {message_id!r} names {len(documents)} document(s), numbered from 0")
    document = documents[index]
    request.scope.setdefault("state", {})["summary"] = f"result document {index} ({document['document_id']})"[:300]
    where: dict[str, Any] = {"message_id": message_id, "document_index": index}
    try:
        fetched = await fetch_document(document["url"], document["sha256"], settings=request.app.state.settings)
    except DigestMismatch as exc:
        raise Problem("document-digest-mismatch", f"document {index} of message {message_id} was not passed on: "
                      f"{exc}; a document is answered only when its SHA-256 matches", **where) from None
    except DocumentError as exc:
        raise Problem("document-unavailable",
                      f"document {index} of message {message_id} could not be fetched: {exc}", **where) from None
    return Response(fetched.content, media_type=fetched.content_type,
                    headers={"Content-Digest": fetched.content_digest, "Content-Disposition": "attachment",
                             "X-Content-Type-Options": "nosniff"})
