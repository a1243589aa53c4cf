"""The status-code table's admin routes (``codes.py`` holds the table).

* ``GET /v1/postal/status-codes`` (admins and operators): the table, and the codes seen in events
  that it does not know (kept as ``postal.unrecognised``), with how many events carried each;
* ``PUT /v1/postal/status-codes/{code}`` (admins): ``{step, meaning}``, one of ``codes.STEPS``;
  later events with that code take that step;
* ``DELETE /v1/postal/status-codes/{code}`` (admins).

Each change is an admin action (who, before, after), recorded in the change's own transaction.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from connectors.postal_vnpost import codes, records
from connectors.postal_vnpost.refusals import invalid
from hub.messages.codes import Text
from hub.seam import Inbound, InboundRoute, Refused, Reply

_CODE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
TAG = "postal"


class CodeIn(BaseModel):
    """Body of ``PUT /v1/postal/status-codes/{code}``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    step: str = Field(description=f"One of {', '.join(codes.STEPS)}")
    meaning: Text = Field(min_length=1, max_length=300, description="What the code says, in the operator's words")


def _code(call: Inbound) -> str:
    code = call.path_params.get("code", "")
    if not _CODE.match(code):
        raise Refused("validation", "a status code is 1 to 20 letters, digits and ._-")
    return code


def _audit(call: Inbound, action: str, code: str) -> codes.Audit:
    def audit(conn: Connection, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        call.ctx.admin_action(conn, call.actor, action, f"{call.ctx.code}:{code}", before, after, call.client_ip)

    return audit


async def list_codes(call: Inbound) -> Reply:
    """The table, and the unrecognised codes seen."""
    ctx = call.ctx
    table = await call.run(codes.rows, ctx.engine, ctx.code)
    seen = await call.run(records.unrecognised_codes, ctx.engine, ctx.code)
    return Reply(200, {"codes": table, "unrecognised": seen})


async def put_code(call: Inbound) -> Reply:
    """Set what one code means."""
    code = _code(call)
    try:
        body = CodeIn.model_validate_json(await call.body())
    except ValidationError as exc:
        raise invalid(exc, "body") from None
    if body.step not in codes.STEPS:
        raise Refused("validation", f"step: one of {', '.join(codes.STEPS)}")
    ctx = call.ctx
    before, after = await call.run(codes.put, ctx.engine, ctx.code, code, body.step, body.meaning, call.actor,
                                   _audit(call, "postal.status_code.put", code))
    call.note("ok", f"status code {code}: {before['step'] if before else 'new'} -> {body.step}")
    return Reply(200, {**after, "created": before is None})


async def delete_code(call: Inbound) -> Reply:
    """Remove one code from the table."""
    code = _code(call)
    ctx = call.ctx
    before = await call.run(codes.remove, ctx.engine, ctx.code, code, _audit(call, "postal.status_code.delete", code))
    if before is None:
        raise Refused("not-found", f"the table has no status code {code}")
    call.note("ok", f"status code {code} removed")
    return Reply(200, {"deleted": before})


_PATH = "/v1/postal/status-codes"
ROUTES = (
    InboundRoute("GET", _PATH, list_codes, summary="VNPost status codes: the table and the unrecognised codes seen",
                 route_class="admin", roles=("admin", "operator"), body="none", tag=TAG),
    InboundRoute("PUT", _PATH + "/{code}", put_code, summary="VNPost status codes: set what one code means",
                 route_class="admin", roles=("admin",), body="json", max_bytes=4096, tag=TAG),
    InboundRoute("DELETE", _PATH + "/{code}", delete_code, summary="VNPost status codes: remove one code",
                 route_class="admin", roles=("admin",), body="none", tag=TAG),
)
