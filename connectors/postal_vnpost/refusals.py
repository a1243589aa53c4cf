"""The problem types of the postal operator's routes, and a refusal of bad input that names each field."""

from __future__ import annotations

from pydantic import ValidationError

from hub.seam import Refused

#: slug -> (HTTP status, title): declared in the manifest, answered as problem+json by the edge.
#: ``postal-operator-only`` is the sync's own check after the guard's (a key of the route's class
#: that is not the postal operator's), so it is told apart from the guard's ``forbidden``.
PROBLEMS = {"postal-unavailable": (503, "The postal operator could not be reached; ask again later"),
            "postal-refused": (502, "The postal operator refused the request"),
            "postal-operator-only": (403, "Only the postal operator's own key may read its orders")}


def invalid(exc: ValidationError, what: str) -> Refused:
    """A ``validation`` refusal (422) of ``what``: ``field: message`` of each error, never the input."""
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}"
                       for e in exc.errors(include_url=False, include_input=False))
    return Refused("validation", f"{what}: {detail}"[:500])
