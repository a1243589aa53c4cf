"""Audit bundles: a part of the chain, exported so that anyone can verify it offline.

A bundle is a directory ``lienthong-audit-<first seq>-<last seq>/`` and its ``.tar.gz``:

- ``records.jsonl``: one ``record_dict`` per line plus its ``chain_hash``, in seq order (the
  ``content`` column as stored: ciphertext);
- ``checkpoints.jsonl``: the signed checkpoints from the start to the end, in seq order;
- ``start.json``: the chain hash before the first record and what vouches for it (genesis, or the
  checkpoint at that seq, which is also the archive anchor when the database was pruned there);
- ``public-keys/<key_id>.pem``: every key that signed a checkpoint of the bundle;
- ``verify_bundle.py``: the standalone verifier (``audit/verify_bundle.py``; Python 3 + cryptography + rfc8785);
- ``MANIFEST.json``: format, seq range, counts and the SHA-256 of every other file.

Only sealed records are exported and a bundle always ends at a checkpoint, so its last record is
vouched for by a signature. The full format is specified in ``audit/README.md``. Without a folder
named by the operator, bundles go to ``<var_dir>/exports`` (:func:`exports_dir`), made 0700.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tarfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import Connection, Engine, func, select

from audit import verify_bundle as standalone
from hub.access import actions
from hub.audit.keys import public_keys, public_pem
from hub.audit.records import GENESIS, iso, record_dict
from hub.audit.seal import anchor, checkpoint_view, seal
from hub.config import Settings
from hub.private_files import DIR_MODE, open_private, private_dir
from hub.store.engine import reading
from hub.store.tables import access_records, audit_anchor, audit_checkpoints

PAGE = 5000
VERIFIER = Path(standalone.__file__)


def exports_dir(settings: Settings) -> Path:
    """Where ``lienthong audit export`` writes when no folder is given: ``<var_dir>/exports``."""
    return settings.var_dir / "exports"


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def _write(path: Path, text: str) -> None:
    with open_private(path, "w", exclusive=True, encoding="utf-8") as fh:
        fh.write(text)


def _sha256(path: Path) -> str:
    return standalone.sha256_file(path)


def write_bundle(conn: Connection, settings: Settings, out_dir: Path, start_seq: int, start_hash: str,
                 end_seq: int) -> Path:
    """Write the records ``start_seq < seq <= end_seq`` (``end_seq`` at a checkpoint) as a bundle in ``out_dir``.

    Returns the bundle directory; its ``.tar.gz`` sits next to it. Refuses to overwrite.
    """
    r, cp = access_records.c, audit_checkpoints.c
    checkpoints = [checkpoint_view(row) for row in conn.execute(
        select(audit_checkpoints).where(cp.seq >= start_seq, cp.seq <= end_seq).order_by(cp.seq))]
    if end_seq not in {c["seq"] for c in checkpoints}:
        raise ValueError(f"no checkpoint at seq {end_seq}: a bundle must end at one")
    folder = Path(out_dir) / f"lienthong-audit-{start_seq + 1:012d}-{end_seq:012d}"
    if folder.exists() or folder.with_name(folder.name + ".tar.gz").exists():
        raise ValueError(f"{folder} already exists")
    # The records name partners, people and addresses: the bundle is 0700/0600 from the start.
    private_dir(Path(out_dir), tighten_existing=False)
    folder.mkdir(mode=DIR_MODE)
    (folder / "public-keys").mkdir(mode=DIR_MODE)
    count, after = 0, start_seq
    with open_private(folder / "records.jsonl", "w", exclusive=True, encoding="utf-8") as fh:
        while True:
            page = conn.execute(select(access_records).where(r.seq > after, r.seq <= end_seq)
                                .order_by(r.seq).limit(PAGE)).all()
            for row in page:
                fh.write(json.dumps({**record_dict(row._mapping), "chain_hash": row.chain_hash}, ensure_ascii=False,
                                    separators=(",", ":")) + "\n")
            count += len(page)
            if len(page) < PAGE:
                break
            after = page[-1].seq
    with open_private(folder / "checkpoints.jsonl", "w", exclusive=True, encoding="utf-8") as fh:
        for c in checkpoints:
            fh.write(json.dumps(c, separators=(",", ":")) + "\n")
    at_start = next((c for c in checkpoints if c["seq"] == start_seq), None)
    anchor_row = conn.execute(select(audit_anchor).where(audit_anchor.c.id == 1)).first()
    start: dict[str, Any] = {"seq": start_seq, "chain_hash": start_hash,
                             "vouched_by": "genesis" if start_seq == 0 and start_hash == GENESIS else "checkpoint",
                             "checkpoint": at_start}
    if anchor_row is not None and anchor_row.seq == start_seq:
        start["anchor"] = {"seq": anchor_row.seq, "chain_hash": anchor_row.chain_hash, "bundle": anchor_row.bundle,
                           "at": iso(anchor_row.at)}
    _write(folder / "start.json", _json(start))
    keys = public_keys(settings)
    for key_id in sorted({c["key_id"] for c in checkpoints}):
        if key_id in keys:  # an unknown key is left out: verifying the bundle then names it
            _write(folder / "public-keys" / f"{key_id}.pem", public_pem(keys[key_id]))
    _write(folder / "verify_bundle.py", VERIFIER.read_text(encoding="utf-8"))
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = {
        "format": standalone.FORMAT,
        "created_at": iso(datetime.now(timezone.utc)),
        "first_seq": start_seq + 1, "last_seq": end_seq, "records": count, "checkpoints": len(checkpoints),
        "start": {"seq": start_seq, "chain_hash": start_hash},
        "end": {"seq": end_seq, "chain_hash": next(c["chain_hash"] for c in checkpoints if c["seq"] == end_seq)},
        "files": {p.relative_to(folder).as_posix(): _sha256(p) for p in files},
    }
    _write(folder / "MANIFEST.json", _json(manifest))
    with open_private(folder.with_name(folder.name + ".tar.gz"), "wb", exclusive=True) as raw, \
            tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return folder


def export(engine: Engine, settings: Settings, out_dir: Path | None = None, since: datetime | None = None,
           until: datetime | None = None) -> Path:
    """Export the chain (or the part covering ``[since, until)``) as a bundle in ``out_dir`` (default
    :func:`exports_dir`, created or tightened to 0700); returns its directory.

    Seals first and signs the head if needed. The bundle starts at the last checkpoint (or the
    anchor, or genesis) before the first record at or after ``since``, and ends at the first
    checkpoint at or after the last record before ``until`` (the head without ``until``).
    """
    out = Path(out_dir) if out_dir is not None else private_dir(exports_dir(settings))
    seal(engine, settings, force_checkpoint=True)
    r, cp = access_records.c, audit_checkpoints.c
    with reading(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            start_seq, start_hash = anchor(conn)
            sealed = r.seq.is_not(None)
            first = conn.execute(select(func.min(r.seq)).where(sealed, *([r.at >= since] if since else []))).scalar()
            last = conn.execute(select(func.max(r.seq)).where(sealed, *([r.at < until] if until else []))).scalar()
            if first is None or last is None or last < first:
                raise ValueError("no sealed records in that range")
            before = conn.execute(select(cp.seq, cp.chain_hash).where(cp.seq < first, cp.seq >= start_seq)
                                  .order_by(cp.seq.desc()).limit(1)).first()
            if before is not None:
                start_seq, start_hash = before.seq, before.chain_hash
            end_seq = conn.execute(select(func.min(cp.seq)).where(cp.seq >= last)).scalar()
            if end_seq is None:
                raise ValueError(f"no checkpoint at or after seq {last} yet; run `lienthong audit seal --checkpoint`")
            return write_bundle(conn, settings, out, start_seq, start_hash, end_seq)


#: The names :func:`export_zip` gives its files, and the only ones :func:`exported_zip` hands out.
ZIP_NAME = re.compile(r"audit-bundle-\d{8}T\d{6}Z-[0-9a-f]{12}\.zip")


def export_zip(engine: Engine, settings: Settings, since: datetime | None = None, until: datetime | None = None, *,
               actor: str, client_ip: str = "") -> tuple[Path, dict[str, Any]]:
    """:func:`export` as one ``.zip`` in :func:`exports_dir`, named by :data:`ZIP_NAME` (a time and a
    random part: never a name from outside), recorded as the admin action ``audit.export`` (the
    range asked for and what the bundle holds); returns its path and the bundle's MANIFEST.

    The zip holds the bundle's directory (unzipped, it verifies offline as it is); the directory
    and its ``.tar.gz`` are written in a private staging folder beside it, removed afterwards.
    ``ValueError`` when the range has no sealed records.
    """
    out = private_dir(exports_dir(settings))
    name = f"audit-bundle-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(6)}.zip"
    staging = out / f".staging-{name}"
    staging.mkdir(mode=DIR_MODE)
    try:
        folder = export(engine, settings, staging, since, until)
        manifest: dict[str, Any] = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
        try:
            with open_private(out / name, "wb", exclusive=True) as raw, \
                    zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(folder.rglob("*")):
                    archive.write(path, (Path(folder.name) / path.relative_to(folder)).as_posix())
        except BaseException:
            (out / name).unlink(missing_ok=True)  # never a half-written zip to download
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with engine.begin() as conn:
        actions.record(conn, actor, "audit.export", f"audit_export:{name}", client_ip=client_ip, after={
            "since": iso(since) if since else None, "until": iso(until) if until else None, "file": name,
            **{k: manifest[k] for k in ("first_seq", "last_seq", "records", "checkpoints")}})
    return out / name, manifest


def exported_zip(settings: Settings, name: str) -> Path | None:
    """The file :func:`export_zip` made under ``name``, or None: ``name`` must match :data:`ZIP_NAME`
    (no separator, no ``..``) and resolve to a regular file directly inside :func:`exports_dir`."""
    if not ZIP_NAME.fullmatch(name):
        return None
    folder = exports_dir(settings).resolve()
    path = (folder / name).resolve()
    return path if path.parent == folder and path.is_file() else None


def exported_zips(settings: Settings, limit: int = 10) -> list[str]:
    """The names of the newest zips :func:`export_zip` made (newest first, at most ``limit``)."""
    folder = exports_dir(settings)
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if ZIP_NAME.fullmatch(p.name) and p.is_file()), reverse=True)[:limit]


def verify_bundles(paths: Sequence[Path], trusted: Sequence[str] | None = None) -> standalone.Report:
    """Verify bundles (directories or .tar.gz, oldest first) exactly as ``verify_bundle.py`` does."""
    return standalone.verify_bundles([Path(p) for p in paths], trusted)
