"""Replaying dead letters: the one function the API (``POST /v1/dead-letters:replay``,
``POST /v1/deliveries/{id}:replay``) and the console's replay form both call."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Engine

from hub.queue.signal import Notifier
from hub.store import outbox

#: The most delivery ids one replay names (the API's and the console's limit).
MAX_IDS = 1000


def replay(engine: Engine, notifier: Notifier, ids: Sequence[int] | None = None,
           destination: str | None = None) -> list[tuple[int, str]]:
    """Send dead deliveries again (those of ``ids``, or every dead one of ``destination``, or both
    conditions together) and wake a worker for each destination concerned; returns ``(id,
    destination)`` of each replayed. A Redis outage only delays them: the relay wakes the workers."""
    replayed = outbox.replay(engine, ids, destination)
    notifier.notify(sorted({d for _, d in replayed}))
    return replayed
