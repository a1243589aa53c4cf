"""``lienthong audit verify``: walk the hash chain in the database and report the first problem.

The walk itself is :func:`audit.verify_bundle.walk` (the same code the offline verifier runs on
bundles), fed with the database's records and ``hub.audit.records.link``. On top of it, the
database check finds records that were slipped in unsealed among sealed ones (an unsealed row
whose id is below the largest sealed id can only have been inserted there: the sealer seals in id
order, see :mod:`hub.audit.seal`).

Where the walk starts: the anchor left by archiving (vouched for by the checkpoint at its seq), or
genesis; with ``since``, the last checkpoint before the first record at or after ``since``. Where
it ends: the chain head when the walk began; with ``until``, the first checkpoint at or after the
last record before ``until`` (so the range's end is vouched for by a signature when one exists).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import Connection, Engine, func, select

from audit.verify_bundle import Problem, Report, walk
from hub.audit.keys import public_keys
from hub.audit.records import link, record_dict
from hub.audit.seal import anchor, checkpoint_view
from hub.config import Settings
from hub.store.engine import reading
from hub.store.tables import access_records, audit_checkpoints

PAGE = 5000
Progress = Callable[[int, int], None]  # (records walked, records to walk)

__all__ = ["Problem", "Report", "verify"]


def _records(conn: Connection, after: int, last: int) -> Iterator[dict[str, Any]]:
    """Sealed records with ``after < seq <= last`` in seq order, as the walker wants them."""
    r = access_records.c
    while True:
        page = conn.execute(select(access_records).where(r.seq > after, r.seq <= last)
                            .order_by(r.seq, r.id).limit(PAGE)).all()
        for row in page:
            yield {**record_dict(row._mapping), "chain_hash": row.chain_hash}
        if len(page) < PAGE:
            return
        after = page[-1].seq


def _range(conn: Connection, since: datetime | None, until: datetime | None,
           start: tuple[int, str]) -> tuple[int, str, int]:
    """(start seq, start hash, end seq) of the walk."""
    r, cp = access_records.c, audit_checkpoints.c
    start_seq, start_hash = start
    sealed = r.seq.is_not(None)
    if since is not None:
        first = conn.execute(select(func.min(r.seq)).where(sealed, r.at >= since)).scalar()
        if first is None:  # nothing sealed since then: the tail after the last checkpoint
            first = (conn.execute(select(func.max(r.seq))).scalar() or start_seq) + 1
        before = conn.execute(select(cp.seq, cp.chain_hash).where(cp.seq < first, cp.seq >= start_seq)
                              .order_by(cp.seq.desc()).limit(1)).first()
        if before is not None:
            start_seq, start_hash = before.seq, before.chain_hash
    top = max(conn.execute(select(func.max(r.seq))).scalar() or 0,
              conn.execute(select(func.max(cp.seq))).scalar() or 0, start_seq)
    if until is None:
        return start_seq, start_hash, top
    last = conn.execute(select(func.max(r.seq)).where(sealed, r.at < until)).scalar() or start_seq
    closing = conn.execute(select(func.min(cp.seq)).where(cp.seq >= last)).scalar()
    return start_seq, start_hash, max(start_seq, closing if closing is not None else last)


def _slipped_in(conn: Connection, start_seq: int, end_seq: int, whole: bool) -> Problem | None:
    """The first unsealed record sitting among sealed ones in (start_seq, end_seq], as ``inserted``.

    ``whole``: the walk starts at the anchor, so an unsealed id below every sealed one counts too.
    """
    r = access_records.c
    top = conn.execute(select(func.max(r.id)).where(r.seq > start_seq, r.seq <= end_seq)).scalar()
    if top is None:
        return None
    floor = -1 if whole else conn.execute(select(func.min(r.id)).where(r.seq > start_seq, r.seq <= end_seq)).scalar()
    rid = conn.execute(select(func.min(r.id)).where(r.seq.is_(None), r.id < top, r.id > floor)).scalar()
    if rid is None:
        return None
    place = conn.execute(select(func.min(r.seq)).where(r.seq > start_seq, r.id > rid)).scalar()
    return Problem("inserted", place, rid, "an unsealed record placed among sealed ones")


def verify(engine: Engine, settings: Settings, since: datetime | None = None, until: datetime | None = None,
           progress: Progress | None = None) -> Report:
    """Verify the chain (all of it, or the part covering ``[since, until)``); see the module docstring.

    Reads one consistent snapshot. ``progress(done, total)`` is called as records are walked.
    """
    with reading(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            start = anchor(conn)
            start_seq, start_hash, end_seq = _range(conn, since, until, start)
            cp = audit_checkpoints.c
            checkpoints = [checkpoint_view(row) for row in conn.execute(
                select(audit_checkpoints).where(cp.seq >= start_seq, cp.seq <= end_seq).order_by(cp.seq))]
            r = access_records.c
            total = conn.execute(select(func.count()).select_from(access_records)
                                 .where(r.seq > start_seq, r.seq <= end_seq)).scalar() or 0
            report = walk(_records(conn, start_seq, end_seq), start_seq, start_hash, checkpoints, public_keys(settings),
                          link=link, end_seq=end_seq,
                          progress=(lambda done: progress(done, total)) if progress else None)
            slipped = _slipped_in(conn, start_seq, end_seq, whole=since is None)
            if slipped is not None and (report.problem is None or report.problem.seq is None or slipped.seq is None
                                        or slipped.seq <= report.problem.seq):
                report.problem = slipped
            report.unsealed = conn.execute(select(func.count()).select_from(access_records)
                                           .where(r.seq.is_(None))).scalar() or 0
    return report
