"""The access log's tamper-evident hash chain, on real SQLite and PostgreSQL databases.

Rules checked:
- the sealer gives every record seq 1, 2, 3... in id order, exactly once, whatever the number of
  sealers (threads and processes) and of writers inserting meanwhile; a second pass changes nothing;
  records younger than the grace wait for a later pass;
- a checkpoint is signed after N records or T seconds, only when there is something new;
- verify reports the FIRST problem at the right seq and id with its kind: any single field
  changed -> changed; a record deleted -> deleted; one slipped in -> inserted; two swapped ->
  reordered; all stored hashes rewritten after a change -> checkpoint (signature/chain mismatch);
- a range verify starts at the checkpoint before ``since`` and sees only its range;
- an exported bundle verifies offline (standalone verify_bundle.py, no hub code, cwd elsewhere)
  and fails after a one-byte change; the standalone copy hashes exactly as hub.audit.records;
- archive + prune keeps verify passing from the anchor, and bundles chain archive -> archive -> export;
- the audit key is generated once (0600), exported as PEM/JWK, and rotation keeps old checkpoints verifiable;
- the CLI commands exit 0 when intact and 1 when not.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, update
from typer.testing import CliRunner

from audit import verify_bundle as standalone
from hub.audit.archive import archive
from hub.audit.bundle import export, verify_bundles
from hub.audit.keys import key_id_of, key_path, load_key, public_jwk, public_keys, retired_dir, rotate
from hub.audit.records import CHAINED, GENESIS, canonical, link, record_dict
from hub.audit.seal import Sealer, seal
from hub.audit.verify import verify
from hub.config import Settings
from hub.store.engine import reading
from hub.store.tables import access_records, audit_anchor, audit_checkpoints
from tests.conftest import Hub
from tests.support import settings_env

T0 = datetime.now(timezone.utc).replace(microsecond=123456) - timedelta(days=3)


def rec(at: datetime, i: int, **over: Any) -> dict[str, Any]:
    row = {"at": at, "request_id": f"req-{i:08d}", "kind": "request", "outcome": "ok", "partner_code": "motcua",
           "key_id": None, "account": None, "client_ip": "198.51.100.7", "forwarded_for": "", "user_agent": "curl/8",
           "device": "", "os": "", "browser": "", "method": "POST", "route": "/v1/messages", "path": f"/v1/messages/{i}",
           "status": 202, "latency_us": 1500 + i, "request_bytes": 300, "response_bytes": 120, "message_ids": f"m-{i}",
           "summary": "Nộp hồ sơ", "citizen_index": None, "content": None}
    row.update(over)
    return row


def put(engine: Engine, n: int, start: datetime = T0, step: timedelta = timedelta(seconds=1), **over: Any) -> None:
    """Insert ``n`` records (directly, as the API's access log does), ``step`` apart from ``start``."""
    with engine.begin() as conn:
        conn.execute(insert(access_records), [rec(start + step * i, i, **over) for i in range(n)])


def rows(engine: Engine) -> list[Any]:
    with reading(engine) as conn:
        return conn.execute(select(access_records).order_by(access_records.c.id)).all()


def chain(engine: Engine) -> list[Any]:
    r = access_records.c
    with reading(engine) as conn:
        return conn.execute(select(access_records).where(r.seq.is_not(None)).order_by(r.seq)).all()


def checkpoints(engine: Engine) -> list[int]:
    with reading(engine) as conn:
        return list(conn.execute(select(audit_checkpoints.c.seq).order_by(audit_checkpoints.c.seq)).scalars())


def change(engine: Engine, at_seq: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(access_records).where(access_records.c.seq == at_seq).values(**values))


def problem(engine: Engine, settings: Settings, **kw: Any) -> tuple[str, int | None, int | None]:
    report = verify(engine, settings, **kw)
    assert report.problem is not None, "verify passed a tampered log"
    return report.problem.kind, report.problem.seq, report.problem.id


def renumber(engine: Engine, from_seq: int, by: int) -> None:
    """Move every record from ``from_seq`` on by ``by`` places (one row at a time, never clashing)."""
    r = access_records.c
    with engine.begin() as conn:
        order = r.seq.desc() if by > 0 else r.seq
        for row in conn.execute(select(r.id, r.seq).where(r.seq >= from_seq).order_by(order)).all():
            conn.execute(update(access_records).where(r.id == row.id).values(seq=row.seq + by))


def rechain(engine: Engine, start: int) -> None:
    """Recompute every stored chain hash from seq ``start`` on (what a forger with database access can do)."""
    r = access_records.c
    with engine.begin() as conn:
        h = GENESIS
        for row in conn.execute(select(access_records).where(r.seq.is_not(None)).order_by(r.seq)).all():
            h = link(h, record_dict(row._mapping))
            if row.seq >= start:
                conn.execute(update(access_records).where(r.id == row.id).values(chain_hash=h))


@pytest.fixture
def log(hub: Hub) -> Hub:
    """40 sealed records, 10 per minute from T0, checkpoints at seq 10, 20, 30, 40; ``hub.gaps``: ids
    left unused between records (one per batch: a rolled-back insert, as PostgreSQL sequences have)."""
    hub.settings = hub.settings.model_copy(update={"audit_checkpoint_records": 10})
    with hub.engine.begin() as conn:  # start from an empty log whatever the seeding recorded
        conn.execute(delete(access_records))
    hub.gaps = []  # type: ignore[attr-defined]
    for batch in range(4):
        put(hub.engine, 11, T0 + timedelta(minutes=batch))
        gap = rows(hub.engine)[-6].id
        with hub.engine.begin() as conn:
            conn.execute(delete(access_records).where(access_records.c.id == gap))
        hub.gaps.append(gap)  # type: ignore[attr-defined]
        seal(hub.engine, hub.settings)
    assert checkpoints(hub.engine) == [10, 20, 30, 40]
    assert verify(hub.engine, hub.settings).ok
    return hub


# --- sealing ------------------------------------------------------------------------------------


def test_sealing_numbers_records_in_id_order_once_and_a_second_pass_changes_nothing(hub: Hub) -> None:
    before = len(rows(hub.engine))
    put(hub.engine, 25)
    first = seal(hub.engine, hub.settings)
    sealed = chain(hub.engine)
    assert first.sealed == before + 25 and [r.seq for r in sealed] == list(range(1, before + 26))
    assert [r.id for r in sealed] == sorted(r.id for r in sealed)
    h = GENESIS
    for r in sealed:  # exactly the documented chain, with hub.audit.records
        h = link(h, record_dict(r._mapping))
        assert r.chain_hash == h
    again = seal(hub.engine, hub.settings)
    assert (again.sealed, again.head_seq, again.head_hash, again.checkpoint) == (0, first.head_seq, h, None)
    assert [(r.seq, r.chain_hash) for r in chain(hub.engine)] == [(r.seq, r.chain_hash) for r in sealed]


def test_records_younger_than_the_grace_wait_for_a_later_pass(hub: Hub) -> None:
    seal(hub.engine, hub.settings)
    now = datetime.now(timezone.utc)
    put(hub.engine, 3, now - timedelta(minutes=5))
    put(hub.engine, 2, now)  # still "being committed" as far as the sealer knows
    put(hub.engine, 2, now - timedelta(minutes=4))  # older, but after the young ones by id: they wait too
    assert seal(hub.engine, hub.settings, now=now).sealed == 3
    assert seal(hub.engine, hub.settings, now=now + timedelta(seconds=5)).sealed == 4
    assert [r.id for r in chain(hub.engine)] == sorted(r.id for r in rows(hub.engine))


def test_sealing_is_exact_while_threads_and_processes_insert_and_seal_at_once(hub: Hub) -> None:
    settings = hub.settings.model_copy(update={"audit_seal_interval": 0.02, "audit_seal_grace_seconds": 0.0,
                                               "audit_checkpoint_records": 50})
    stop = threading.Event()

    def writer(w: int) -> None:  # old records, in transactions that stay open a moment after taking their ids
        i = 0
        while not stop.is_set():
            with hub.engine.begin() as conn:
                conn.execute(insert(access_records), [rec(T0, w * 100_000 + i + k) for k in range(5)])
                time.sleep(0.005)
            i += 5

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    sealers = [Sealer(hub.engine, settings) for _ in range(2)]  # as two worker processes' sealers
    for t in writers + sealers:
        t.start()
    procs = [subprocess.Popen([sys.executable, "-m", "hub.cli", "audit", "seal"], env=settings_env(settings),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        assert p.wait(60) == 0, p.stderr.read().decode() if p.stderr else ""
    time.sleep(0.2)
    stop.set()
    for t in writers:
        t.join()
    for s in sealers:
        s.stop()
    seal(hub.engine, settings)
    everything, sealed = rows(hub.engine), chain(hub.engine)
    assert len(everything) > 100 and len(sealed) == len(everything)
    assert [r.seq for r in sealed] == list(range(1, len(sealed) + 1))
    assert [r.id for r in sealed] == sorted(r.id for r in sealed)
    assert verify(hub.engine, settings).ok
    assert seal(hub.engine, settings).sealed == 0


def test_a_checkpoint_is_signed_after_n_records_or_t_seconds_and_only_when_there_is_something_new(hub: Hub) -> None:
    with hub.engine.begin() as conn:
        conn.execute(delete(access_records))
    settings = hub.settings.model_copy(update={"audit_checkpoint_records": 5, "audit_checkpoint_seconds": 3600})
    put(hub.engine, 3)
    assert seal(hub.engine, settings).checkpoint == 3  # the first one at once
    put(hub.engine, 3)
    assert seal(hub.engine, settings).checkpoint is None  # 3 new < 5, and not an hour yet
    put(hub.engine, 2)
    assert seal(hub.engine, settings).checkpoint == 8
    put(hub.engine, 1)
    quick = settings.model_copy(update={"audit_checkpoint_seconds": 0})
    assert seal(hub.engine, quick).checkpoint == 9  # the time is up
    assert seal(hub.engine, quick).checkpoint is None and seal(hub.engine, quick, force_checkpoint=True).checkpoint is None
    assert checkpoints(hub.engine) == [3, 8, 9]


# --- what verify reports ------------------------------------------------------------------------


def test_changing_any_single_field_of_a_record_is_reported_as_changed_at_its_seq(log: Hub) -> None:
    original = dict(chain(log.engine)[16]._mapping)  # seq 17
    for name in [*CHAINED, "chain_hash"]:
        value = original[name]
        if name == "seq":
            continue  # a record moved off its seq leaves a hole: see the deleted test
        if isinstance(value, datetime):
            new: Any = value + timedelta(microseconds=1)
        elif value is None:
            new = 7 if name == "key_id" else "x"
        elif isinstance(value, int):
            new = log.gaps[-1] + 1000 if name == "id" else value + 1  # type: ignore[attr-defined]
        else:
            new = value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"
        change(log.engine, 17, **{name: new})
        assert problem(log.engine, log.settings) == ("changed", 17, new if name == "id" else original["id"]), name
        change(log.engine, 17, **{name: value})
        assert verify(log.engine, log.settings).ok, name


def test_deleting_a_record_is_reported_as_deleted_at_its_seq(log: Hub) -> None:
    with log.engine.begin() as conn:
        conn.execute(delete(access_records).where(access_records.c.seq.in_([38, 39, 40])))
    assert problem(log.engine, log.settings) == ("deleted", 38, None)  # the checkpoint at 40 knows the tail
    with log.engine.begin() as conn:
        conn.execute(delete(access_records).where(access_records.c.seq == 12))
    assert problem(log.engine, log.settings) == ("deleted", 12, None)
    change(log.engine, 5, seq=1000)  # a record moved off its place leaves a hole too
    assert problem(log.engine, log.settings) == ("deleted", 5, None)


def test_inserting_a_record_is_reported_as_inserted_at_its_place(log: Hub) -> None:
    records, gap = chain(log.engine), log.gaps[1]  # type: ignore[attr-defined]
    at_gap = next(r.seq for r in records if r.id > gap)
    # 1. slipped in unsealed among sealed records (with an id that was free between two of them)
    with log.engine.begin() as conn:
        conn.execute(insert(access_records).values(id=gap, **rec(T0, 99)))
    assert problem(log.engine, log.settings) == ("inserted", at_gap, gap)
    with log.engine.begin() as conn:
        conn.execute(delete(access_records).where(access_records.c.id == gap))
    # 2. given a place in the chain, with a hash that links, the records after it moved on by one
    renumber(log.engine, at_gap, 1)
    with log.engine.begin() as conn:
        forged = {**rec(T0, 99), "id": gap, "seq": at_gap}
        conn.execute(insert(access_records).values(**forged, chain_hash=link(records[at_gap - 2].chain_hash, record_dict(forged))))
    assert problem(log.engine, log.settings) == ("inserted", at_gap, gap)
    with log.engine.begin() as conn:
        conn.execute(delete(access_records).where(access_records.c.id == gap))
    renumber(log.engine, at_gap + 1, -1)
    assert verify(log.engine, log.settings).ok
    # 3. appended after the last checkpoint with a hash that links, but an id out of order
    with log.engine.begin() as conn:
        forged = {**rec(T0, 99), "id": gap, "seq": 41}
        conn.execute(insert(access_records).values(**forged, chain_hash=link(records[-1].chain_hash, record_dict(forged))))
    assert problem(log.engine, log.settings) == ("inserted", 41, gap)


def test_swapping_two_records_is_reported_as_reordered(log: Hub) -> None:
    r20, r21 = chain(log.engine)[19:21]
    # 1. the two rows exchange places (each keeps its content and stored hash)
    change(log.engine, 20, seq=-1)
    change(log.engine, 21, seq=20)
    change(log.engine, -1, seq=21)
    assert problem(log.engine, log.settings) == ("reordered", 20, r21.id)
    report = verify(log.engine, log.settings)
    assert report.problem.other == (21, r20.id) and "were swapped" in report.lines()[0] and "đổi chỗ" in report.lines()[1]
    change(log.engine, 21, seq=-1)
    change(log.engine, 20, seq=21)
    change(log.engine, -1, seq=20)
    assert verify(log.engine, log.settings).ok
    # 2. their contents exchange places (ids, seqs and stored hashes stay)
    moved = [c for c in CHAINED if c not in ("id", "seq")]
    with log.engine.begin() as conn:
        conn.execute(update(access_records).where(access_records.c.id == r20.id).values({c: r21._mapping[c] for c in moved}))
        conn.execute(update(access_records).where(access_records.c.id == r21.id).values({c: r20._mapping[c] for c in moved}))
    assert problem(log.engine, log.settings) == ("reordered", 20, r20.id)


def test_rewriting_every_stored_hash_after_a_change_is_caught_by_the_checkpoint_signature(log: Hub) -> None:
    change(log.engine, 17, status=200)
    rechain(log.engine, 17)  # every link verifies again...
    report = verify(log.engine, log.settings)
    assert (report.problem.kind, report.problem.seq, report.problem.first_seq) == ("checkpoint", 20, 11)
    assert "seq 11 to 20" in report.lines()[0] and "từ seq 11 đến 20" in report.lines()[1]
    with log.engine.begin() as conn:  # ...and the checkpoints rewritten to match cannot be signed
        for row in chain(log.engine):
            conn.execute(update(audit_checkpoints).where(audit_checkpoints.c.seq == row.seq).values(chain_hash=row.chain_hash))
    report = verify(log.engine, log.settings)
    assert (report.problem.kind, report.problem.seq) == ("checkpoint", 20) and "signature" in report.problem.detail


def test_a_range_verify_starts_at_the_checkpoint_before_since_and_sees_only_its_range(log: Hub) -> None:
    records = chain(log.engine)
    since, until = records[24].at, records[26].at  # seq 25 .. 26
    change(log.engine, 5, status=500)
    assert problem(log.engine, log.settings)[:2] == ("changed", 5)
    report = verify(log.engine, log.settings, since=since)
    assert report.ok and (report.start_seq, report.records, report.checkpoints) == (20, 20, 3)
    change(log.engine, 33, status=500)
    assert problem(log.engine, log.settings, since=since) == ("changed", 33, records[32].id)
    report = verify(log.engine, log.settings, since=since, until=until)  # ends at the checkpoint at 30
    assert report.ok and (report.start_seq, report.last_seq) == (20, 30)


# --- bundles ------------------------------------------------------------------------------------


def test_the_offline_verifier_hashes_exactly_as_the_hub_and_imports_nothing_from_it() -> None:
    samples = [rec(T0, 1), rec(T0, 2, summary="Tra cứu công dân — ký tự đặc biệt \u2028 \"q\" \\", key_id=2**53 - 1,
                                content="v1:AAAA", citizen_index="ab" * 32)]
    for sample in samples:
        sample = {**sample, "id": 12, "seq": 3}
        record = record_dict(sample)
        assert standalone.canonical(json.loads(json.dumps(record))) == canonical(record)
        assert standalone.link(GENESIS, json.loads(json.dumps(record))) == link(GENESIS, record)
    assert standalone.GENESIS == GENESIS
    tree = ast.parse(Path(standalone.__file__).read_text(encoding="utf-8"))
    imported = {(n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
                for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in (n.names if isinstance(n, ast.Import) else [n])}
    assert imported - set(sys.stdlib_module_names) == {"cryptography", "rfc8785"}


def test_a_bundle_with_two_records_at_one_seq_or_a_missing_end_is_reported() -> None:
    records, h = [], GENESIS
    for i in range(1, 6):
        body = record_dict({**rec(T0, i), "id": i * 2, "seq": i})
        h = standalone.link(h, body)
        records.append({**body, "chain_hash": h})
    assert standalone.walk(records, 0, GENESIS, [], {}).ok
    extra = {**records[2], "id": 7}
    found = standalone.walk([*records[:3], extra, *records[3:]], 0, GENESIS, [], {}).problem
    assert (found.kind, found.seq, found.id) == ("inserted", 3, 7)
    found = standalone.walk(records[:4], 0, GENESIS, [], {}, end_seq=5).problem
    assert (found.kind, found.seq) == ("deleted", 5)
    found = standalone.walk(records, 2, records[1]["chain_hash"], [], {}).problem  # a start nothing vouches for
    assert (found.kind, found.seq) == ("checkpoint", 2)


def offline(bundle: Path, cwd: Path, *args: str, plain: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the bundle's own verify_bundle.py as an auditor would: elsewhere, no hub on the path.

    Unless ``plain``, ``import hub`` is also made to fail in that interpreter (the venv could find it).
    """
    cwd.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": ""}
    blocker = "import runpy, sys; sys.modules['hub'] = None; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    prefix = [] if plain else ["-c", blocker]
    return subprocess.run([sys.executable, *prefix, str(bundle / "verify_bundle.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_an_exported_bundle_verifies_offline_and_fails_after_a_one_byte_change(log: Hub, tmp_path: Path) -> None:
    put(log.engine, 3, T0 + timedelta(minutes=10))  # sealed and signed by the export itself
    folder = export(log.engine, log.settings, tmp_path / "out")
    tarball = folder.with_name(folder.name + ".tar.gz")
    assert tarball.exists() and folder.name == "lienthong-audit-000000000001-000000000043"
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    key = load_key(log.settings)
    assert names == {"records.jsonl", "checkpoints.jsonl", "start.json", "MANIFEST.json", "verify_bundle.py",
                     f"public-keys/{key.key_id}.pem"}
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert (manifest["records"], manifest["last_seq"], manifest["end"]["seq"]) == (43, 43, 43)
    lines = (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["seq"] for x in lines] == list(range(1, 44))

    elsewhere = tmp_path / "auditor"
    result = offline(folder, elsewhere, plain=True)
    assert result.returncode == 0 and result.stdout.startswith("OK"), result.stdout + result.stderr
    assert offline(folder, elsewhere).returncode == 0
    assert offline(folder, elsewhere, str(tarball), "--trust", key.key_id[:16]).returncode == 0
    assert offline(folder, elsewhere, str(tarball), "--trust", "f" * 64).returncode == 1  # signed by someone else

    data = bytearray((folder / "records.jsonl").read_bytes())
    line_start = data.index(b'{', sum(len(x.encode()) + 1 for x in lines[:16]))
    where = data.index(b"/v1/messages/", line_start) + 10
    data[where] = ord("z")  # "messages" -> "messazes" in the record at seq 17
    (folder / "records.jsonl").write_bytes(bytes(data))
    result = offline(folder, elsewhere)
    assert result.returncode == 1 and "seq 17" in result.stdout and "was changed" in result.stdout, result.stdout
    assert verify_bundles([tarball]).ok and not verify_bundles([folder]).ok  # the same checks in the hub


def test_archiving_prunes_old_records_keeps_verify_passing_and_bundles_chain_on(log: Hub, tmp_path: Path) -> None:
    records = chain(log.engine)
    put(log.engine, 5, datetime.now(timezone.utc) - timedelta(hours=1))
    first = archive(log.engine, log.settings, records[24].at, tmp_path / "archive")  # before seq 25: up to checkpoint 20
    assert (first.anchor_seq, first.anchor_hash, first.records) == (20, records[19].chain_hash, 20)
    assert [r.seq for r in chain(log.engine)][:1] == [21] and checkpoints(log.engine)[0] == 20
    with reading(log.engine) as conn:
        anchor = conn.execute(select(audit_anchor)).one()
    assert (anchor.seq, anchor.chain_hash, anchor.bundle) == (20, records[19].chain_hash, first.tarball.name)
    report = verify(log.engine, log.settings)
    assert report.ok and (report.start_seq, report.records) == (20, 25)

    now = export(log.engine, log.settings, tmp_path / "now")
    assert json.loads((now / "start.json").read_text())["seq"] == 20
    assert verify_bundles([first.tarball, now]).ok  # archive 1 -> the database today
    second = archive(log.engine, log.settings, records[39].at + timedelta(seconds=1), tmp_path / "archive")
    assert (second.anchor_seq, second.records) == (40, 20) and verify(log.engine, log.settings).ok
    later = export(log.engine, log.settings, tmp_path / "later")
    assert verify_bundles([first.tarball, second.tarball, later]).ok  # archive 1 -> archive 2 -> database
    gap = verify_bundles([first.tarball, later])
    assert (gap.problem.kind, gap.problem.seq) == ("deleted", 21)
    assert not verify_bundles([second.tarball, first.tarball]).ok

    with log.engine.begin() as conn:  # a forged anchor is not vouched for by the checkpoint kept at its seq
        conn.execute(update(audit_anchor).values(chain_hash="1" * 64))
    assert problem(log.engine, log.settings)[:2] == ("checkpoint", 40)


# --- keys and the command line ------------------------------------------------------------------


def test_the_audit_key_is_made_once_with_mode_0600_and_rotation_keeps_old_checkpoints_verifiable(log: Hub) -> None:
    settings = log.settings
    path = key_path(settings)
    key = load_key(settings)
    assert path == settings.keys_dir / "audit-ed25519.pem" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(settings).key_id == key.key_id == key_id_of(key.public) and len(key.key_id) == 64
    jwk = public_jwk(key.public)
    assert (jwk["kty"], jwk["crv"], jwk["kid"]) == ("OKP", "Ed25519", key.key_id) and len(jwk["x"]) == 43

    old, new = rotate(settings)
    assert old == key.key_id != new == load_key(settings).key_id
    assert (retired_dir(settings) / f"{old}.pem").exists() and set(public_keys(settings)) == {old, new}
    put(log.engine, 10, T0 + timedelta(minutes=5))
    assert seal(log.engine, settings).checkpoint == 50
    with reading(log.engine) as conn:
        signers = list(conn.execute(select(audit_checkpoints.c.key_id).order_by(audit_checkpoints.c.seq)).scalars())
    assert signers == [old] * 4 + [new]
    assert verify(log.engine, settings).ok
    shutil.rmtree(retired_dir(settings))  # without the retired public key the old checkpoints cannot be checked
    report = verify(log.engine, settings)
    assert (report.problem.kind, report.problem.seq) == ("checkpoint", 10) and "unknown" in report.problem.detail
    with pytest.raises(FileNotFoundError):
        load_key(settings.model_copy(update={"audit_key_file": str(settings.keys_dir / "provided.pem")}))


def test_the_audit_commands_exit_0_when_intact_and_1_when_not(log: Hub, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from hub import cli

    for module in ("hub.cli.helpers", "hub.cli.audit"):
        monkeypatch.setattr(f"{module}.get_settings", lambda: log.settings)
    runner = CliRunner()

    def run(*argv: str) -> Any:
        return runner.invoke(cli.app, ["audit", *argv])

    assert run("seal").exit_code == 0
    result = run("verify")
    assert result.exit_code == 0 and "OK" in result.output and "nguyên vẹn" in result.output, result.output
    result = run("export", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    folder = Path(result.output.splitlines()[0])
    assert run("verify-bundle", str(folder) + ".tar.gz").exit_code == 0
    assert run("verify", "--since", T0.isoformat(), "--until", "2100-01-01").exit_code == 0
    assert run("verify", "--since", "yesterday").exit_code == 2
    key = run("key")
    assert key.exit_code == 0 and load_key(log.settings).key_id in key.output and "BEGIN PUBLIC KEY" in key.output
    assert json.loads(run("key", "--jwk").output)["crv"] == "Ed25519"

    change(log.engine, 17, status=500)
    result = run("verify")
    assert result.exit_code == 1 and "record seq 17" in result.output and "đã bị sửa" in result.output, result.output
    (folder / "start.json").write_text((folder / "start.json").read_text().replace('"seq": 0', '"seq": 1'))
    assert run("verify-bundle", str(folder)).exit_code == 1
    change(log.engine, 17, status=202)
    result = run("archive", "--before", (T0 + timedelta(minutes=2)).isoformat(), "--out", str(tmp_path / "archive"))
    assert result.exit_code == 0 and json.loads(result.output)["anchor_seq"] == 20, result.output
    assert run("verify").exit_code == 0
