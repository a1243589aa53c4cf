"""Fast JSON responses (orjson)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def page_response(items: list[dict[str, Any]], limit: int) -> Response:
    """A page of id-ordered items, with ``next_after`` to ask for the next page (None on the last)."""
    return json_response({"items": items, "next_after": items[-1]["id"] if len(items) == limit else None})
