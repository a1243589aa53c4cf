"""Console pages: security officers (being built)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.console.render import page
from hub.console.routing import console_router

router = console_router()


@router.get("/console/audit/records")
async def records(request: Request) -> Response:
    return page(request, "placeholder.html", title="Access records")
