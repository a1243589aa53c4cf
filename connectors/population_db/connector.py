"""The population database as a registered destination that takes nothing from the queue.

Look-ups are synchronous (the edge calls :class:`~connectors.population_db.client.SoapPopulationClient`
and answers at once), so ``accepts`` is empty: ``lienthong routes check`` refuses any rule that
routes messages here, and a message that reached it anyway is a dead letter with that reason.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from connectors.base import Outcome
from connectors.population_db.interface import ACCEPTS
from hub.config import Settings
from hub.messages.models import Envelope


class PopulationDbConnector:
    """``population_db`` in ``connectors/registry.py``; delivers nothing by design."""

    name: ClassVar[str] = "population_db"
    accepts: ClassVar[frozenset[str]] = ACCEPTS
    max_batch: ClassVar[int] = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> "PopulationDbConnector":
        return cls()

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        reason = "population_db takes synchronous look-ups only (/v1/citizens); no message can be routed to it"
        return [Outcome.permanent(reason) for _ in messages]

    def close(self) -> None:
        pass
