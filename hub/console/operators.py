"""Console pages: operators (being built)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub.console.render import page
from hub.console.routing import console_router

router = console_router()


@router.get("/console/overview")
async def overview(request: Request) -> Response:
    return page(request, "placeholder.html", title="Overview")
