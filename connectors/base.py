"""The connector interface: what the worker needs from a partner, and nothing more.

A connector receives canonical messages (already validated at the edge) and delivers them in its
partner's wire format. It reports one :class:`Outcome` per message, classified so the worker knows
what to do next:

* ``ok``: the partner has the message's effect (including "already had it").
* ``transient``: worth retrying later (timeout, connection refused, 5xx, expired session that a
  fresh login did not cure, throttling). The worker retries with backoff.
* ``permanent``: the partner rejected the content; retrying the same bytes cannot help. The worker
  puts the delivery in dead letters with ``detail`` as the partner's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, Sequence, runtime_checkable

from hub.config import Settings
from hub.messages.models import Envelope

OutcomeKind = Literal["ok", "transient", "permanent"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message at the partner."""

    kind: OutcomeKind
    detail: str = ""

    @classmethod
    def ok(cls, detail: str = "") -> "Outcome":
        return cls("ok", detail)

    @classmethod
    def transient(cls, detail: str) -> "Outcome":
        return cls("transient", detail)

    @classmethod
    def permanent(cls, detail: str) -> "Outcome":
        return cls("permanent", detail)


@runtime_checkable
class Connector(Protocol):
    """A destination the worker can deliver canonical messages to."""

    #: Destination name used in the routing table, queue names and delivery rows.
    name: ClassVar[str]
    #: Canonical message types this connector can deliver; routing checks against it.
    accepts: ClassVar[frozenset[str]]
    #: Most messages handed to one ``deliver`` call.
    max_batch: ClassVar[int]

    @classmethod
    def from_settings(cls, settings: Settings) -> "Connector":
        """Build the connector from the hub's settings."""
        ...

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        """Deliver ``messages`` in the given order; return one outcome per message, same order.

        Must not raise for partner errors: classify them into outcomes. Messages of one dossier
        appear in the order they must take effect.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
