"""Delivering canonical messages to one ministry system through its adapter (the worker's side).

Each message: the adapter's current version is taken from the folder's registry, its mapping run
(:func:`outbound.render`), the request sent, the answer read (:func:`answers.classify`). A mapping
that fails on this message, a document that may not be fetched, an answer the rules call permanent:
the delivery is dead-lettered with the reason (an operator fixes the adapter and replays). A
timeout, a refused connection, an adapter file that is not loaded now, a secret not set yet:
transient, tried again later. Nothing here raises for a partner's or an adapter's fault.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Callable, ClassVar, Sequence

import httpx
import orjson
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from connectors.ministry_apps.answers import classify
from connectors.ministry_apps.auth import SecretMissing
from connectors.ministry_apps.outbound import Wire, kept, render
from connectors.ministry_apps.registry import Loaded
from connectors.ministry_apps.templates import MappingError
from hub.seam import Context, DocumentFailed, Envelope, Outcome, in_order, tables

log = logging.getLogger(__name__)


class AdapterConnector:
    """One ministry system (a member: ``ctx.code`` is its code), one message per request, in order."""

    #: Messages handed to one ``deliver`` call: each is still its own request, in order, but the worker claims
    #: and settles them together (one message per claim measured 7x slower: docs/PERFORMANCE.md, issue 16).
    max_batch: ClassVar[int] = 20

    def __init__(self, ctx: Context, current: Callable[[], Loaded | None]) -> None:
        self.ctx, self.current = ctx, current
        self._wire: Wire | None = None

    def _wire_for(self, loaded: Loaded) -> Wire:
        if self._wire is None or self._wire.loaded is not loaded:  # the file changed: new clients, new tokens
            if self._wire is not None:
                self._wire.close()
            self._wire = Wire(loaded, self.ctx)
        return self._wire

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        return in_order(messages, self._one)

    def _one(self, message: Envelope) -> Outcome:
        loaded = self.current()
        if loaded is None:
            return Outcome.transient(f"no adapter {self.ctx.code!r} is loaded now (its file is missing or broken)")
        canonical = message.model_dump(mode="json")
        if str(canonical["type"]) not in loaded.adapter.send:
            return Outcome.permanent(f"the adapter {loaded.path.name} no longer maps {canonical['type']}")
        try:
            out = render(loaded, canonical, self.ctx.fetch_document)
            answer = self._wire_for(loaded).send(out)
        except MappingError as exc:
            return Outcome.permanent(f"mapping failed ({loaded.path.name}): {exc}"[:500])
        except DocumentFailed as exc:
            detail = f"a document could not be carried: {exc.reason}"
            return Outcome.permanent(detail) if exc.permanent else Outcome.transient(detail)
        except SecretMissing as exc:
            return Outcome.transient(str(exc))
        except httpx.TimeoutException:
            return Outcome.transient("the ministry system did not answer in time")
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            return Outcome.transient(f"the ministry system could not be reached: {type(exc).__name__}")
        send = loaded.adapter.send[str(canonical["type"])]
        verdict = classify([*send.answer, *loaded.adapter.answer], answer, f"send.{canonical['type']}.answer")
        if verdict.outcome == "ok":
            if send.opens_case:
                self._open_case(loaded, canonical)
            return Outcome.ok(verdict.reference or "")
        if verdict.outcome == "transient":
            return Outcome.transient(verdict.reason)
        return Outcome.permanent(verdict.reason)

    def _open_case(self, loaded: Loaded, canonical: dict[str, object]) -> None:
        """Remember the dossier for the pull (what the hand-over keeps); handed over again: kept fresh, reopened."""
        try:
            keep = orjson.dumps(kept(loaded, canonical)).decode()
        except MappingError as exc:
            log.error("ministry %s: keep of %s failed: %s", self.ctx.code, canonical["dossier_code"], exc)
            keep = "{}"
        now = datetime.now(timezone.utc)
        cases = tables.ministry_cases
        where = (cases.c.ministry == self.ctx.code, cases.c.dossier_code == canonical["dossier_code"])
        with self.ctx.engine.begin() as conn:
            if conn.execute(update(cases).where(*where).values(kept=keep, closed_at=None)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(cases.insert().values(ministry=self.ctx.code, dossier_code=canonical["dossier_code"],
                                                       kept=keep, opened_at=now))
            except IntegrityError:  # opened meanwhile by another worker
                pass

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
