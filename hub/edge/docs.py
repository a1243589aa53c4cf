"""Published documents: JSON Schemas under ``/schemas/`` and the problem types under ``/problems/``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from hub.edge.guard import GuardedRoute
from hub.edge.problems import PROBLEM_TYPES, Problem
from hub.edge.responses import json_response
from hub.messages.schema_export import SCHEMA_DIR

router = APIRouter(tags=["documents"], route_class=GuardedRoute)


@router.get("/schemas/", summary="Index of the published JSON Schemas")
async def schema_index() -> Response:
    files = sorted(p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.rglob("*") if p.is_file())
    return json_response({"schemas": [f"/schemas/{f}" for f in files]})


@router.get("/schemas/{path:path}", summary="One JSON Schema (or WSDL) file")
async def schema_file(path: str) -> Response:
    target = (SCHEMA_DIR / path).resolve()
    if not target.is_file() or SCHEMA_DIR.resolve() not in target.parents:
        raise Problem("not-found", f"no schema {path!r}")
    media = "application/schema+json" if target.suffix == ".json" else "application/xml"
    return FileResponse(target, media_type=media)


@router.get("/problems/{slug}", summary="What a problem type means")
async def problem_doc(slug: str) -> Response:
    if slug not in PROBLEM_TYPES:
        raise Problem("not-found", f"no problem type {slug!r}")
    status, title = PROBLEM_TYPES[slug]
    return json_response({"type": f"/problems/{slug}", "status": status, "title": title})
