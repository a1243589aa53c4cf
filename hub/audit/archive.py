"""``lienthong audit archive``: move old sealed records out of the database into a verified bundle.

:func:`archive` exports the records from the database's start (anchor or genesis) up to the last
checkpoint at or before the last record older than ``before``; verifies the bundle it wrote; then,
in one transaction holding the sealer's lock, deletes those records and the checkpoints before
that seq and sets ``audit_anchor`` (seq and chain hash of the last archived record, bundle name).
The checkpoint at the anchor's seq stays: it vouches for the anchor, so ``audit verify`` starts
there and still proves the rest, and the next bundle starts exactly where this one ended.
Without a folder named by the operator, archives go to ``<var_dir>/archive`` (:func:`archive_dir`), made 0700.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, delete, func, insert, select, update

from audit.verify_bundle import sha256_file
from hub.audit.bundle import verify_bundles, write_bundle
from hub.audit.keys import public_keys
from hub.audit.seal import anchor, lock, seal
from hub.config import Settings
from hub.private_files import private_dir
from hub.store.engine import reading
from hub.store.tables import access_records, audit_anchor, audit_checkpoints


@dataclass(frozen=True)
class ArchiveResult:
    """The bundle written and the database's new anchor."""

    bundle: Path
    tarball: Path
    sha256: str  # of the .tar.gz
    records: int
    anchor_seq: int
    anchor_hash: str


def archive_dir(settings: Settings) -> Path:
    """Where ``lienthong audit archive`` writes when no folder is given: ``<var_dir>/archive``."""
    return settings.var_dir / "archive"


def archive(engine: Engine, settings: Settings, before: datetime, out_dir: Path | None = None) -> ArchiveResult:
    """Archive and prune the records older than ``before`` into ``out_dir`` (default :func:`archive_dir`,
    created or tightened to 0700; see the module docstring).

    Raises ValueError when there is nothing to archive (no checkpoint in that range yet) or when
    the bundle does not verify (then nothing is deleted).
    """
    out = Path(out_dir) if out_dir is not None else private_dir(archive_dir(settings))
    seal(engine, settings)
    r, cp = access_records.c, audit_checkpoints.c
    with reading(engine) as conn, conn.begin():
        start_seq, start_hash = anchor(conn)
        last = conn.execute(select(func.max(r.seq)).where(r.seq.is_not(None), r.at < before)).scalar()
        end = conn.execute(select(cp.seq, cp.chain_hash).where(cp.seq > start_seq, cp.seq <= (last or 0))
                           .order_by(cp.seq.desc()).limit(1)).first()
        if end is None:
            raise ValueError("nothing to archive: no signed checkpoint after the anchor among the records before that date")
        folder = write_bundle(conn, settings, out, start_seq, start_hash, end.seq)
    tarball = folder.with_name(folder.name + ".tar.gz")
    report = verify_bundles([tarball], trusted=list(public_keys(settings)))
    if not report.ok:
        raise ValueError(f"the archive bundle does not verify, nothing deleted: {report.lines()[0]}")
    with engine.begin() as conn:
        lock(conn)
        if anchor(conn) != (start_seq, start_hash):
            raise ValueError("another archive ran meanwhile; nothing deleted (run again)")
        conn.execute(delete(access_records).where(r.seq.is_not(None), r.seq <= end.seq))
        conn.execute(delete(audit_checkpoints).where(cp.seq < end.seq))
        values = {"seq": end.seq, "chain_hash": end.chain_hash, "bundle": tarball.name, "at": datetime.now(timezone.utc)}
        if conn.execute(update(audit_anchor).where(audit_anchor.c.id == 1).values(**values)).rowcount == 0:
            conn.execute(insert(audit_anchor).values(id=1, **values))
    return ArchiveResult(folder, tarball, sha256_file(tarball), report.records, end.seq, end.chain_hash)
