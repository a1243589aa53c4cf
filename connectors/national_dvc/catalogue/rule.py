"""The intake rule: a dossier must be filed under a published procedure of the national catalogue,
with the catalogue's fees.

``dossier.submitted``: its procedure (a provincial code ``2.000477.000.00.00.H56`` counts as its
national code ``2.000477``) must be known and published (rule ``procedure_published``, field
``payload.procedure_code``); each fee it names must be one of the catalogue's fees of the dossier's
channel, same code and same amount (rule ``fees_match_catalogue``, field ``payload.fees``); a
dossier with no fees passes (they come later by ``fee.notice``). ``fee.notice`` carries no
channel: its fees must all be the fees of ONE of the procedure's channels (the one-stop system
knows which channel it bills; the hub does not look the dossier up in the request's event loop).

``catalogue_check``: ``refuse`` (422 ``catalogue-mismatch``), ``warn`` (accepted; logged without
personal data and counted in ``lienthong_catalogue_mismatch_total``) or ``off``. A hub that never
synced its catalogue checks nothing.

The rule runs in the event loop, so it reads an in-process snapshot of the catalogue, reloaded when
the stored catalogue changed; whether it did is asked at most every :data:`CHECK_SECONDS`
(one indexed query: the last history row's id).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import orjson
from prometheus_client import Counter
from sqlalchemy import select

from connectors.national_dvc.catalogue.model import national_code
from connectors.national_dvc.catalogue.store import version_mark
from hub.seam import Context, IntakeRule, Refused, reading, tables

log = logging.getLogger(__name__)

SLUG = "catalogue-mismatch"
PROBLEMS = {SLUG: (422, "Not a published procedure of the national catalogue, or not its fees")}
CHECK_SECONDS = 2.0
MISMATCH = Counter("lienthong_catalogue_mismatch_total", "Messages that do not match the national catalogue",
                   ["rule", "mode"])

FeeSet = frozenset[tuple[str, int]]


@dataclass(frozen=True)
class Snapshot:
    mark: int  #: the stored catalogue's version mark it was read at (0: never synced)
    published: dict[str, bool]
    fees: dict[str, dict[int, FeeSet]]  #: code -> channel -> {(fee code, amount)}


class Snapshots:
    """The catalogue snapshot of each context, checked for staleness at most every ``every`` seconds."""

    def __init__(self, every: float = CHECK_SECONDS, clock: Any = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self._held: "weakref.WeakKeyDictionary[Any, tuple[float, Snapshot]]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, ctx: Context) -> Snapshot:
        now = self.clock()
        found = self._held.get(ctx)
        if found is not None and now - found[0] < self.every:
            return found[1]
        mark = version_mark(ctx.engine)
        snapshot = found[1] if found is not None and found[1].mark == mark else load(ctx, mark)
        with self._lock:
            self._held[ctx] = (now, snapshot)
        return snapshot


def load(ctx: Context, mark: int) -> Snapshot:
    p = tables.catalogue_procedures
    published: dict[str, bool] = {}
    fees: dict[str, dict[int, FeeSet]] = {}
    if mark:
        with reading(ctx.engine) as conn:
            for code, is_published, content in conn.execute(select(p.c.code, p.c.published, p.c.content)):
                published[code] = bool(is_published)
                fees[code] = {c["channel"]: frozenset((f["code"], int(f["amount"])) for f in c["fees"])
                              for c in orjson.loads(content).get("channels", [])}
    return Snapshot(mark, published, fees)


SNAPSHOTS = Snapshots()


def _fees(message: Any) -> FeeSet:
    return frozenset((fee.code, int(fee.amount)) for fee in message.payload.fees)


def mismatch(snapshot: Snapshot, message: Any) -> tuple[str, str, str] | None:
    """``(rule, field, detail)`` of what in ``message`` the catalogue contradicts, or None."""
    code = national_code(message.payload.procedure_code)
    if code not in snapshot.published:
        return "procedure_published", "payload.procedure_code", f"procedure {code} is not in the national catalogue"
    if not snapshot.published[code]:
        return "procedure_published", "payload.procedure_code", f"procedure {code} is not published (withdrawn)"
    given = _fees(message)
    if not given:
        return None
    channels = snapshot.fees.get(code, {})
    if message.type == "dossier.submitted":
        channel = int(message.payload.channel)
        allowed = channels.get(channel, frozenset())
        if not given <= allowed:
            wrong = ", ".join(f"{c} {a}" for c, a in sorted(given - allowed))
            return ("fees_match_catalogue", "payload.fees",
                    f"fees {wrong} are not the catalogue's fees of procedure {code} for channel {channel}")
        return None
    if not any(given <= allowed for allowed in channels.values()):
        return ("fees_match_catalogue", "payload.fees",
                f"the fees are not the catalogue's fees of procedure {code} for any one channel")
    return None


def check(ctx: Context, message: Any) -> None:
    mode = ctx.settings.catalogue_check
    if mode == "off":
        return
    snapshot = SNAPSHOTS.get(ctx)
    if not snapshot.mark:
        return  # never synced: nothing to check against
    found = mismatch(snapshot, message)
    if found is None:
        return
    rule, field, detail = found
    MISMATCH.labels(rule, mode).inc()
    if mode == "warn":
        # the procedure code and the rule only: no applicant, no dossier content
        log.warning("catalogue check (warn only): %s %s from %s: %s", message.type, message.message_id, message.source, detail)
        return
    raise Refused(SLUG, detail, field=field, rule=rule)


RULE = IntakeRule("catalogue", frozenset({"dossier.submitted", "fee.notice"}), check)
