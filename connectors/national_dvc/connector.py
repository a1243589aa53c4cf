"""``NationalDvcConnector``: delivers canonical messages to the national portal (DVCQG) adapter.

Delivery of a list, in order:

1. map each message to a wire record (:mod:`connectors.national_dvc.mapping`);
2. split the list into consecutive *runs* that use the same call (service + isUpdating), at most
   :attr:`max_batch` records each, and send each run as one call;
3. a run answered with a non-transient rejection is re-sent one record at a time, so only the bad
   record is marked permanent; a one-record add answered "đã tồn tại" is re-sent as an update (ok);
4. a transient error marks the run and every message after it transient: nothing later is sent,
   so the portal never sees a dossier's messages out of order.

Messages of the portal's other services (an answer to a question, a rating: :data:`OWN`) are
delivered one at a time by their part's handler, in their place in the list.
"""

from __future__ import annotations

import logging
from itertools import groupby
from typing import Callable, ClassVar, Sequence

from connectors.national_dvc.client import DvcClient, PermanentError, TransientError
from connectors.national_dvc.mapping import WireItem, to_wire
from connectors.national_dvc.results.screen import Screen
from connectors.national_dvc.wire_types import ServiceAnswer
from hub.seam import Context, Envelope, Outcome

log = logging.getLogger(__name__)

Slot = tuple[int, WireItem]  # position in the input list, and its wire record
OwnHandler = Callable[[Context, DvcClient, Envelope], Outcome]


def _own() -> dict[str, OwnHandler]:
    """Message type -> the part of the portal that delivers it itself (not a dossier record): the
    handler calls its service with the connector's client and classifies the answer."""
    from connectors.national_dvc.questions.store import deliver_answer
    from connectors.national_dvc.ratings.store import deliver as deliver_rating

    return {"rating.given": deliver_rating, "question.answered": deliver_answer}


#: Built once, on first use (the parts import their modules lazily).
OWN: dict[str, OwnHandler] = {}


class NationalDvcConnector:
    """The national public-service portal, fed through its adapter in chunks of 10."""

    max_batch: ClassVar[int] = 10

    def __init__(self, client: DvcClient, ctx: Context | None = None) -> None:
        self.client, self.ctx = client, ctx
        self.screen = Screen(ctx) if ctx is not None else None
        if not OWN:
            OWN.update(_own())

    @classmethod
    def from_context(cls, ctx: Context) -> "NationalDvcConnector":
        """The adapter account of :meth:`DvcClient.for_context`."""
        return cls(DvcClient.for_context(ctx), ctx)

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        """Send ``messages`` in order; return exactly one outcome per message, same order.

        First the signatures of the results' documents are checked (``results/``, under
        ``RESULT_SIGNATURES``): a result the policy holds back is not sent, and after one held back for
        now (transient) nothing later is sent either."""
        held = self.screen.held_back(messages) if self.screen is not None else {}
        if not held:
            return self._deliver(messages)
        cut = next((i for i, o in sorted(held.items()) if o.kind == "transient"), len(messages))
        sendable = [i for i in range(cut) if i not in held]
        sent = dict(zip(sendable, self._deliver([messages[i] for i in sendable])))
        outcomes = [held[i] if i in held else sent[i] for i in range(cut)]
        if cut < len(messages):
            outcomes.append(held[cut])
            later = Outcome.transient(f"not sent: an earlier message failed ({held[cut].detail})")
            outcomes.extend([later] * (len(messages) - cut - 1))
        return outcomes

    def _deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        if not any(m.type in OWN for m in messages):
            return self._sync(messages)
        outcomes: list[Outcome] = []
        for own, group in groupby(messages, key=lambda m: m.type in OWN):
            items = list(group)
            if self.ctx is None:
                done = [Outcome.permanent("cannot deliver: the connector has no partner context")] * len(items)
            elif own:
                done = []
                for message in items:
                    done.append(OWN[message.type](self.ctx, self.client, message))
                    if done[-1].kind == "transient":
                        break
            else:
                done = self._sync(items)
            outcomes.extend(done)
            if any(o.kind == "transient" for o in done):
                break
        reason = next((o.detail for o in outcomes if o.kind == "transient"), "not sent")
        return outcomes + [Outcome.transient(reason)] * (len(messages) - len(outcomes))

    def _sync(self, messages: Sequence[Envelope]) -> list[Outcome]:
        """The dossier records and progress steps of ``messages``, in runs."""
        outcomes: list[Outcome | None] = [None] * len(messages)
        slots: list[Slot] = []
        for index, message in enumerate(messages):
            try:
                slots.append((index, to_wire(message)))
            except ValueError as exc:  # UnmappableMessage, or a value the wire model refuses
                outcomes[index] = Outcome.permanent(f"cannot map to DVCQG: {exc}")

        runs = self._runs(slots)
        for position, run in enumerate(runs):
            try:
                self._send_run(run, outcomes)
            except TransientError as exc:
                for index, _ in (slot for later in runs[position:] for slot in later):
                    if outcomes[index] is None:
                        outcomes[index] = Outcome.transient(exc.reason)
                break
        return [o if o is not None else Outcome.transient("not sent") for o in outcomes]

    def close(self) -> None:
        self.client.close()

    # -- internals -----------------------------------------------------------------------------

    def _runs(self, slots: list[Slot]) -> list[list[Slot]]:
        """Consecutive slots with the same call, cut into chunks of at most ``max_batch``."""
        runs: list[list[Slot]] = []
        for _, group in groupby(slots, key=lambda slot: slot[1].kind):
            items = list(group)
            runs.extend(items[i : i + self.max_batch] for i in range(0, len(items), self.max_batch))
        return runs

    def _send_run(self, run: list[Slot], outcomes: list[Outcome | None]) -> None:
        """Send one run; on a permanent rejection of several records, retry them one by one.

        Fills ``outcomes`` for the run; lets :class:`TransientError` escape (with every outcome of
        the records not yet accepted still unset).
        """
        try:
            answer = self._send([item for _, item in run])
        except PermanentError as rejected:
            if len(run) == 1:
                outcomes[run[0][0]] = Outcome.permanent(rejected.reason)
                return
            log.info("dvc: batch of %d rejected (%s); re-sending one by one", len(run), rejected.reason)
            for slot in run:
                self._send_run([slot], outcomes)
            return
        for index, _ in run:
            outcomes[index] = Outcome.ok(answer.message)

    def _send(self, items: list[WireItem]) -> ServiceAnswer:
        kind = items[0].kind
        records = [item.record for item in items]
        if kind == "progress":
            return self.client.update_progress(records)
        return self.client.sync_dossiers(records, updating=kind == "update")
