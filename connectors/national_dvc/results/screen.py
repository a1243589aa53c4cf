"""The province's policy on a result's signatures, applied before the portal is told of the result.

For each ``result.issued`` bound for the national portal, under ``RESULT_SIGNATURES``:

- ``off``: nothing is fetched or checked (the default, so that a hub whose document servers are not
  yet in ``LIENTHONG_DOCUMENT_HOSTS`` keeps working);
- ``flag``: every document is fetched (``ctx.fetch_document``: allowlist, size and time limits, the
  SHA-256 checked) and its signatures checked; the result is sent whatever the verdict, and the
  verdict recorded (``result_signatures``), shown in the dossier's trace and logged when it fails;
- ``refuse``: the same, but a result with an unsigned, broken, untrusted or expired PDF, or a document
  that cannot be fetched for good (a host not allowed, a digest that does not match), is not sent: its
  outcome is permanent, with a reason naming the document and why (a dead letter the operator replays
  once the one-stop system has issued a good document or the trust list is fixed). A document server
  that does not answer now, or a trust list that cannot be read, is transient: retried.

A document that is not a PDF (an XML e-document) is recorded as such and not held back.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Callable, Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from connectors.national_dvc.results.trust import TrustRoots, TrustUnavailable, load
from connectors.national_dvc.results.verdict import Verdict
from hub.messages.models import ResultDocument, ResultIssued
from hub.seam import Context, DocumentFailed, Envelope, Outcome, tables

log = logging.getLogger(__name__)

#: States a ``refuse`` policy holds a result back for.
REFUSED = frozenset({"untrusted", "expired", "broken", "not-signed"})
CACHE_SIZE = 256


class Screen:
    """Checks the documents of the results in a delivery; one per connector (its verdict cache with it)."""

    def __init__(self, ctx: Context, clock: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        # (sha256, trust list fingerprint) -> verdict: a retry of the same result (the portal was down)
        # does not fetch and check its documents again; a changed trust list checks them afresh.
        self._verdicts: OrderedDict[tuple[str, str], Verdict] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def policy(self) -> str:
        return str(self.ctx.settings.result_signatures)

    def held_back(self, messages: Sequence[Envelope]) -> dict[int, Outcome]:
        """Position -> outcome of each result of ``messages`` the policy does not let through (none under
        ``off`` and ``flag``); every check is recorded."""
        if self.policy == "off":
            return {}
        held: dict[int, Outcome] = {}
        for index, message in enumerate(messages):
            if isinstance(message, ResultIssued) and message.payload.documents:
                outcome = self.screen(message)
                if outcome is not None:
                    held[index] = outcome
                    if outcome.kind == "transient":
                        break  # nothing later is checked: it will not be sent now either
        return held

    def screen(self, message: ResultIssued) -> Outcome | None:
        """The outcome that holds ``message`` back, or None when it may be sent."""
        refuse = self.policy == "refuse"
        try:
            roots: TrustRoots | None = load(self.ctx.settings.result_trust_roots)
            trust_problem = ""
        except TrustUnavailable as exc:
            roots, trust_problem = None, str(exc)
            log.error("dvc results: %s; the signatures of %s are not checked", exc, message.dossier_code)
        held: Outcome | None = None
        for doc in message.payload.documents:
            verdict, permanent = self._verdict(doc, roots, trust_problem)
            self._record(message, doc, verdict)
            if verdict.state in REFUSED or verdict.state == "unavailable":
                log.warning("dvc results: %s document %s: %s (%s)", message.dossier_code, doc.document_id,
                            verdict.state, verdict.reason)
            if not refuse or held is not None:
                continue
            what = f"result document {doc.document_id} ({doc.name})"
            if verdict.state in REFUSED:
                held = Outcome.permanent(f"not sent to the portal: {what} {verdict.state}: {verdict.reason}")
            elif verdict.state == "unavailable":
                text = f"{what} cannot be checked: {verdict.reason}"
                held = Outcome.permanent(f"not sent to the portal: {text}") if permanent else Outcome.transient(text)
        return held

    def _verdict(self, doc: ResultDocument, roots: TrustRoots | None, trust_problem: str) -> tuple[Verdict, bool]:
        """The document's verdict, and whether a failure to reach one is permanent."""
        key = (doc.sha256.lower(), roots.fingerprint if roots is not None else "")
        with self._lock:
            cached = self._verdicts.get(key)
            if cached is not None:
                self._verdicts.move_to_end(key)
                return cached, False
        if roots is None:  # an operator's fix, then a retry: nothing fetched meanwhile
            return Verdict("unavailable", f"the signatures cannot be checked: {trust_problem}"), False
        try:
            content = self.ctx.fetch_document(str(doc.url), doc.sha256)
        except DocumentFailed as exc:
            return Verdict("unavailable", f"the document could not be fetched: {exc.reason}"), exc.permanent
        from connectors.national_dvc.results.verify import check  # pyHanko, loaded when a policy is on

        verdict = check(content, roots, self.clock())
        with self._lock:
            self._verdicts[key] = verdict
            while len(self._verdicts) > CACHE_SIZE:
                self._verdicts.popitem(last=False)
        return verdict, False

    def _record(self, message: ResultIssued, doc: ResultDocument, verdict: Verdict) -> None:
        """The check's row, replacing the document's earlier one (a retry, a replay)."""
        rows = tables.result_signatures
        values = dict(sha256=doc.sha256.lower(), state=verdict.state, signer=verdict.signer, issuer=verdict.issuer,
                      signed_at=verdict.signed_at, intact=verdict.all("intact"), trusted=verdict.all("trusted"),
                      valid=verdict.all("valid"), reason=verdict.reason, checked_at=self.clock())
        key = (rows.c.dossier_code == message.dossier_code, rows.c.message_id == message.message_id,
               rows.c.document_id == doc.document_id)
        with self.ctx.engine.begin() as conn:
            if conn.execute(update(rows).where(*key).values(**values)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(rows.insert().values(dossier_code=message.dossier_code, message_id=message.message_id,
                                                      document_id=doc.document_id, **values))
            except IntegrityError:  # recorded meanwhile by another worker: its check stands
                pass
