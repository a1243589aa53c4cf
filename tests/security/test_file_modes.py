"""Files holding secrets or personal data are 0600 from the start, their folders 0700 (hub/private_files.py).

Attack: another local account on the hub's machine (a shared host, a compromised sidecar, a
backup agent) reads the keys, the sandbox's credentials, an exported audit bundle, the spill of
access records or the SQLite database, because they were created world-readable, or were
readable for a moment before a ``chmod``. Every check runs with umask 0, so the modes come from
the code, not from the shell's umask.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import insert

from hub.audit.archive import archive
from hub.audit.bundle import export
from hub.audit.crypto import CitizenData
from hub.audit.keys import key_path, load_key, retired_dir, rotate
from hub.audit.records import cli_record
from hub.audit.spill import Spill
from hub.config import Settings
from hub.private_files import open_private, private_dir
from hub.sandbox import save_info
from hub.signatures.hub_keys import HubKeyRing
from hub.store.engine import make_engine
from hub.store.tables import access_records
from hub.vault.envelope import master_key
from tests.conftest import Hub


@pytest.fixture(autouse=True)
def no_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_tree(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) == expected, f"{path} is {mode(path):o}, not {expected:o}"


def test_generated_keys_are_private_from_the_start(tmp_path: Path) -> None:
    settings = Settings(keys_dir=tmp_path / "fresh" / "keys", var_dir=tmp_path / "var")
    settings.effective_key_pepper  # noqa: B018 - api-key-pepper
    CitizenData(settings)  # audit-content.key, audit-index.key
    master_key(settings)  # vault-master.key
    load_key(settings)  # audit-ed25519.pem
    HubKeyRing.for_settings(settings).keys()  # hub-signing/<kid>.pem and its ring
    rotate(settings)  # a new audit key, the old public key retired
    keys = settings.keys_dir
    for name in ("api-key-pepper", "audit-content.key", "audit-index.key", "vault-master.key", "audit-ed25519.pem"):
        assert mode(keys / name) == 0o600, name
    assert mode(keys) == 0o700 and mode(keys.parent) == 0o700, "folders made for keys are 0700"
    assert_private_tree(keys / "hub-signing")
    assert mode(key_path(settings)) == 0o600 and mode(retired_dir(settings)) == 0o700


def test_an_existing_key_folder_and_file_left_open_are_tightened(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o755)
    os.chmod(keys, 0o755)
    (keys / "api-key-pepper").write_text("an old pepper\n")
    os.chmod(keys / "api-key-pepper", 0o644)
    assert Settings(keys_dir=keys).effective_key_pepper == "an old pepper"
    assert mode(keys) == 0o700 and mode(keys / "api-key-pepper") == 0o600


def test_the_sandbox_credentials_file_is_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    os.chmod(var, 0o755)
    path = save_info(var, {"partners": {"motcua": {"api_key": "lt_live_x"}}, "people": {}})
    assert mode(path) == 0o600 and mode(var) == 0o700
    save_info(var, {"partners": {}, "people": {}})  # rewritten: still 0600 (replaced, never widened)
    assert mode(path) == 0o600


def test_audit_bundles_and_their_tarballs_are_private(hub: Hub, tmp_path: Path) -> None:
    with hub.engine.begin() as conn:
        conn.execute(insert(access_records), [cli_record("alice", "partner.update", f"p{i}") for i in range(3)])
    out = tmp_path / "exports"
    folder = export(hub.engine, hub.settings.model_copy(update={"audit_seal_grace_seconds": 0.0}), out)
    assert_private_tree(folder)
    assert mode(folder.with_name(folder.name + ".tar.gz")) == 0o600
    assert mode(out) == 0o700, "an export folder the hub made is 0700"


def test_exports_and_archives_go_to_private_folders_under_var_by_default(hub: Hub, tmp_path: Path) -> None:
    var = tmp_path / "var-default"
    settings = hub.settings.model_copy(update={"audit_seal_grace_seconds": 0.0, "var_dir": var})
    with hub.engine.begin() as conn:
        conn.execute(insert(access_records), [cli_record("alice", "partner.update", f"p{i}") for i in range(3)])
    folder = export(hub.engine, settings)
    assert folder.parent == var / "exports" and mode(var / "exports") == 0o700 and mode(var) == 0o700
    assert_private_tree(folder)
    archived = archive(hub.engine, settings, datetime.now(timezone.utc) + timedelta(minutes=1))
    assert archived.bundle.parent == var / "archive" and mode(var / "archive") == 0o700
    assert_private_tree(archived.bundle)
    assert mode(archived.tarball) == 0o600


def test_the_spill_file_and_the_sqlite_database_are_private(tmp_path: Path) -> None:
    spill = Spill(tmp_path / "var" / "audit-spill")
    spill.append([cli_record("alice", "x", "y")])
    assert mode(spill.path) == 0o600 and mode(spill.folder) == 0o700 and mode(spill.folder.parent) == 0o700
    database = tmp_path / "db" / "hub.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        conn.exec_driver_sql("INSERT INTO t VALUES ('001095001234')")
    for path in (database, database.with_name("hub.db-wal"), database.with_name("hub.db-shm")):
        assert mode(path) == 0o600, path
    assert mode(database.parent) == 0o700
    engine.dispose()


def test_the_helpers_never_create_a_readable_file_even_for_a_moment(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    with open_private(folder / "f", "w") as fh:
        assert stat.S_IMODE(os.fstat(fh.fileno()).st_mode) == 0o600, "0600 as soon as it exists, before any write"
    (folder / "g").write_text("old")
    os.chmod(folder / "g", 0o666)
    with open_private(folder / "g", "a") as fh:  # an existing file is tightened before anything is written
        assert stat.S_IMODE(os.fstat(fh.fileno()).st_mode) == 0o600
    assert mode(tmp_path / "a") == 0o700 and mode(folder) == 0o700
