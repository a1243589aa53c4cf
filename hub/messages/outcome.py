"""What became of one message at a partner: the answer a connector gives the worker for each message.

Defined beside the messages so that the store (which settles deliveries by it) and the partner seam
(``hub/seam.py``, which connectors import it from) share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Sequence, TypeVar

OutcomeKind = Literal["ok", "transient", "permanent"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message at the partner.

    ``ok``: the partner has the message's effect (including "already had it"); ``transient``: worth
    retrying later (timeout, refused connection, 5xx, throttling); ``permanent``: the partner rejected
    the content, retrying the same bytes cannot help: a dead letter with ``detail`` as the reason.
    """

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


_M = TypeVar("_M")


def in_order(messages: Sequence[_M], send: Callable[[_M], Outcome]) -> list[Outcome]:
    """``send`` each message in turn, one outcome per message; after a transient outcome the rest are
    not sent (transient too), so a dossier's later messages never overtake an earlier one."""
    outcomes: list[Outcome] = []
    for message in messages:
        if outcomes and outcomes[-1].kind == "transient":
            outcomes.append(Outcome.transient(f"not sent: an earlier message failed ({outcomes[-1].detail})"))
            continue
        outcomes.append(send(message))
    return outcomes
