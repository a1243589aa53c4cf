"""The problem types of the postal operator's routes, and a refusal of bad input that names each field."""

from __future__ import annotations

from pydantic import ValidationError

from hub.seam import Inbound, Refused

#: slug -> (HTTP status, title): declared in the manifest, answered as problem+json by the edge.
#: ``postal-operator-only`` is the sync's own check after the guard's (a key of the route's class
#: that is not the postal operator's), so it is told apart from the guard's ``forbidden``.
OPERATOR_ONLY = "postal-operator-only"
PROBLEMS = {"postal-unavailable": (503, "The postal operator could not be reached; ask again later"),
            "postal-refused": (502, "The postal operator refused the request"),
            OPERATOR_ONLY: (403, "Only the postal operator's own key may do this")}


def operator_only(call: Inbound, doing: str) -> None:
    """Refuse (403 ``postal-operator-only``, noted in the access record) any caller but the postal
    operator's own key: the route's class admits other partners' keys too."""
    if call.partner_code != call.ctx.code:
        call.note(OPERATOR_ONLY, f"{doing} by {call.partner_code or call.actor}, not {call.ctx.code}")
        raise Refused(OPERATOR_ONLY, f"only the postal operator's own key ({call.ctx.code}) may do this: {doing}")


def invalid(exc: ValidationError, what: str) -> Refused:
    """A ``validation`` refusal (422) of ``what``: ``field: message`` of each error, never the input."""
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}"
                       for e in exc.errors(include_url=False, include_input=False))
    return Refused("validation", f"{what}: {detail}"[:500])
