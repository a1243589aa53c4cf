"""Turning a decoded body into a :class:`~hub.store.intake.Prepared` message, or a problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hub.access.principal import Principal
from hub.context import IntakeRules
from hub.edge.problems import Problem, validation_problem
from hub.messages.models import MESSAGE_ADAPTER
from hub.routing import RoutingTable
from hub.seam import Refused
from hub.store.intake import Prepared


def prepare(data: Any, caller: Principal, routes: RoutingTable, field_prefix: str = "",
            rules: IntakeRules | None = None) -> Prepared:
    """Validate against the canonical model, check the source is the caller, route, and apply the
    partners' intake ``rules``.

    Raises :class:`Problem` (422 validation, 403 wrong source, 422 no route, a rule's own problem).
    """
    try:
        msg = MESSAGE_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise validation_problem(exc, field_prefix) from None
    field = f"{field_prefix}.source" if field_prefix else "source"
    if msg.source != caller.partner_code:
        raise Problem("forbidden", f"this key belongs to {caller.partner_code!r}, the message claims source {msg.source!r}",
                      [{"field": field, "rule": "source_is_caller", "message": "source must be the key's partner"}])
    if not caller.scopes.allows_type(msg.type):
        raise Problem("forbidden", f"this key may not send {msg.type!r} messages",
                      [{"field": f"{field_prefix}.type" if field_prefix else "type", "rule": "key_scope",
                        "message": "the key's scopes do not include this message type"}])
    canonical = msg.model_dump(mode="json")
    destinations = routes.destinations(msg.type, msg.source, canonical)
    if not destinations:
        raise Problem("no-route", f"no route for type {msg.type!r} from {msg.source!r}",
                      [{"field": f"{field_prefix}.type" if field_prefix else "type", "rule": "routable",
                        "message": "the routing table sends this message nowhere"}])
    if rules:
        try:
            rules.check(msg)
        except Refused as refused:
            where = f"{field_prefix}.{refused.field}" if field_prefix and refused.field else refused.field
            raise Problem(refused.slug, refused.detail,
                          [{"field": where or "payload", "rule": refused.rule or refused.slug,
                            "message": refused.detail}]) from None
    return Prepared.of(msg, canonical, destinations)
