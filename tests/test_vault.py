"""The credential vault: envelope-encrypted at rest, write-only for admins, readable by the hub's
connectors only, master key rotated by re-wrapping."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import uuid
from typing import Any, Iterator

import pytest
from sqlalchemy import MetaData, select, update

from connectors.national_dvc.client import TransientError
from connectors.national_dvc.connector import NationalDvcConnector
from hub.access.accounts import add_account
from hub.config import Settings
from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import access_records, admin_actions, vault_secrets
from hub.vault import Vault, VaultError, VaultMissing, WrongMasterKey, credential
from hub.vault.envelope import key_id
from hub.vault.names import check_name, well_known
from hub.vault.store import seed_defaults
from tests.conftest import Hub, client
from tests.support import ROOT, Portal, ThreadedServer, partner_ctx, settings_env, wait_until, with_partner
from tests.test_access import PASSWORD, login

SECRET = "Mật-khẩu-bí-mật-7f3a9c"  # non-ASCII on purpose: encoded bytes must not show either


def other_master() -> tuple[bytes, str]:
    raw = os.urandom(32)
    return raw, base64.b64encode(raw).decode()


def every_row(hub: Hub) -> list[tuple[Any, ...]]:
    meta = MetaData()
    meta.reflect(hub.engine)
    with reading(hub.engine) as conn:
        return [tuple(row) for table in meta.sorted_tables for row in conn.execute(table.select())]


def shows(rows: list[tuple[Any, ...]], secret: str) -> bool:
    """True if ``secret`` appears in any column of ``rows``, as text or as its UTF-8 bytes."""
    needle = secret.encode()
    for row in rows:
        for value in row:
            if isinstance(value, (bytes, bytearray, memoryview)) and needle in bytes(value):
                return True
            if secret in str(value):
                return True
    return False


@pytest.fixture
def vault(hub: Hub) -> Vault:
    return Vault(hub.engine, hub.settings)


# --- the store -------------------------------------------------------------------------------


def test_a_set_credential_is_read_back_by_the_hub_in_its_latest_version(vault: Vault) -> None:
    first = vault.put("national_dvc.password", "first", actor="test")
    second = vault.put("national_dvc.password", SECRET, actor="test")
    assert (first["version"], second["version"]) == (1, 2)
    assert vault.get("national_dvc.password") == SECRET
    assert vault.require("national_dvc.password") == SECRET
    assert vault.get("national_payment.secret") is None
    listed = vault.list()
    assert [m["name"] for m in listed] == ["national_dvc.password"]
    assert set(listed[0]) == {"name", "version", "master_key_id", "updated_at", "updated_by", "description"}
    assert listed[0]["master_key_id"] == vault.master_key_id and listed[0]["updated_by"] == "test"
    assert "national_payment.secret" in {m["name"] for m in vault.missing()}


def test_a_missing_credential_is_named_without_any_value(vault: Vault) -> None:
    with pytest.raises(VaultMissing, match="national_payment.secret is not set") as missing:
        vault.require("national_payment.secret")
    assert missing.value.name == "national_payment.secret"


def test_values_are_never_in_clear_in_the_database_nor_in_admin_actions(hub: Hub, vault: Vault) -> None:
    vault.put("population_db.client_secret", SECRET, actor="test")
    vault.put("population_db.client_secret", SECRET + "-v2", actor="test")
    rows = every_row(hub)
    with reading(hub.engine) as conn:
        [row] = conn.execute(select(vault_secrets)).all()
        acts = conn.execute(select(admin_actions).where(admin_actions.c.action == "vault.set")).all()
    assert len(row.ciphertext) == 12 + len(SECRET.encode()) + 3 + 16  # nonce, value, GCM tag: encrypted, not encoded
    assert not shows(rows, SECRET)
    assert len(acts) == 2 and acts[1].before and '"version":1' in acts[1].before and '"version":2' in acts[1].after


def test_a_row_moved_to_another_name_does_not_decrypt(hub: Hub, vault: Vault) -> None:
    vault.put("national_payment.secret", "pay", actor="test")
    vault.put("postal_vnpost.client_secret", "post", actor="test")
    with hub.engine.begin() as conn:
        pay = conn.execute(select(vault_secrets).where(vault_secrets.c.name == "national_payment.secret")).one()
        conn.execute(update(vault_secrets).where(vault_secrets.c.name == "postal_vnpost.client_secret")
                     .values(wrapped_key=pay.wrapped_key, ciphertext=pay.ciphertext, version=pay.version))
    with pytest.raises(VaultError, match="altered or moved"):
        vault.get("postal_vnpost.client_secret")


def test_a_wrong_master_key_gives_a_clear_error_naming_both_key_ids(hub: Hub, vault: Vault) -> None:
    vault.put("national_dvc.password", SECRET, actor="test")
    raw, encoded = other_master()
    stranger = Vault(hub.engine, hub.settings.model_copy(update={"vault_master_key": encoded}))
    with pytest.raises(WrongMasterKey) as wrong:
        stranger.get("national_dvc.password")
    assert str(wrong.value).startswith(f"the vault was sealed with master key {vault.master_key_id}; "
                                       f"this process has {key_id(raw)}")
    assert SECRET not in str(wrong.value)


def test_a_malformed_master_key_is_refused_at_start(hub: Hub) -> None:
    with pytest.raises(ValueError, match="LIENTHONG_VAULT_MASTER_KEY: expected base64 of 32 bytes"):
        Vault(hub.engine, hub.settings.model_copy(update={"vault_master_key": "c2hvcnQ="}))


def test_rewrap_keeps_every_value_readable_with_the_new_key_and_not_with_the_old(hub: Hub, vault: Vault) -> None:
    values = {"national_dvc.password": SECRET, "national_payment.secret": "pay-123", "signing.hmac.k1": "hmac-key"}
    for name, value in values.items():
        vault.put(name, value, actor="test")
    with reading(hub.engine) as conn:
        before = {r.name: bytes(r.ciphertext) for r in conn.execute(select(vault_secrets))}
    old_id = vault.master_key_id
    new_raw, new_encoded = other_master()

    assert vault.rewrap(new_raw, actor="test") == 3
    with pytest.raises(ValueError, match="is the master key in use"):
        vault.rewrap(new_raw, actor="test")

    with reading(hub.engine) as conn:
        rows = conn.execute(select(vault_secrets)).all()
        action = conn.execute(select(admin_actions).where(admin_actions.c.action == "vault.rewrap")).one()
    assert {r.name: bytes(r.ciphertext) for r in rows} == before  # ciphertexts untouched
    assert {r.master_key_id for r in rows} == {key_id(new_raw)}
    renewed = Vault(hub.engine, hub.settings.model_copy(update={"vault_master_key": new_encoded}))
    assert {name: renewed.get(name) for name in values} == values
    assert vault.get("national_payment.secret") == "pay-123"  # the rewrapping vault switched to the new key
    with pytest.raises(WrongMasterKey, match=f"sealed with master key {key_id(new_raw)}; this process has {old_id}"):
        Vault(hub.engine, hub.settings).get("national_payment.secret")
    assert old_id in action.before and key_id(new_raw) in action.after


def test_names_are_lower_case_dotted_words() -> None:
    for good in ("national_dvc.password", "signing.hmac.k-1:2026", "population_db.ma_tich_hop"):
        assert check_name(good) == good
    for bad in ("password", "National_dvc.password", "a..b", "a.b/c", "a.", ".a", "x." + "y" * 120):
        with pytest.raises(ValueError, match="name: a credential name"):
            check_name(bad)


def test_sandbox_seeds_the_well_known_defaults_once(hub: Hub, vault: Vault) -> None:
    def fallback(known: Any) -> str:  # the sandbox value in the partner's own settings
        return getattr(partner_ctx(hub.settings, known.partner).settings, known.setting, "") if known.setting else ""

    with_default = [n for n, known in well_known().items() if fallback(known)]
    assert "national_dvc.password" in with_default and "national_payment.secret" not in with_default
    assert seed_defaults(hub.settings) == with_default
    assert seed_defaults(hub.settings) == []
    assert {n: vault.get(n) for n in with_default} == {n: fallback(well_known()[n]) for n in with_default}


# --- connectors ------------------------------------------------------------------------------


def test_credential_falls_back_to_settings_only_when_the_vault_has_no_value(hub: Hub, vault: Vault) -> None:
    assert credential(hub.settings, "national_payment.secret", "sandbox-default") == "sandbox-default"
    vault.put("national_payment.secret", SECRET, actor="test")
    assert credential(hub.settings, "national_payment.secret", "sandbox-default") == SECRET


def test_credential_before_migration_is_the_fallback_and_creates_no_database(settings: Settings, tmp_path: Any) -> None:
    unmigrated = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'absent.db'}"})
    assert credential(unmigrated, "national_dvc.password", "fallback") == "fallback"
    assert not (tmp_path / "absent.db").exists()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_national_dvc_connector_logs_in_with_the_vault_password(hub: Hub, portal: Portal) -> None:
    # The simulator's account is lienthong / sandbox-password; the settings carry a wrong password,
    # so only the vault's value can log in.
    settings = with_partner(hub.settings, "national_dvc", adapter_url=portal.url, password="not-the-password")
    refused = NationalDvcConnector.from_context(partner_ctx(settings, "national_dvc"))
    with pytest.raises(TransientError, match="login refused"):
        refused.client.login()
    refused.close()
    Vault(hub.engine, settings).put("national_dvc.password", "sandbox-password", actor="test")
    connector = NationalDvcConnector.from_context(partner_ctx(settings, "national_dvc"))
    connector.client.login()
    assert "sandbox-password" not in repr(connector.client)
    connector.close()


# --- the admin API ---------------------------------------------------------------------------


@pytest.fixture
def server(hub: Hub) -> Iterator[str]:
    for name, role in (("alice", "admin"), ("olga", "operator")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    with ThreadedServer(create_app(hub.settings)).start() as s:
        yield s.url


def test_admins_set_list_and_delete_but_no_answer_or_record_holds_a_value(
        hub: Hub, server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin = login(server, "alice")
    rid = uuid.uuid4().hex
    put = admin.put("/v1/admin/credentials/national_dvc.password", json={"value": SECRET}, headers={"X-Request-Id": rid})
    again = admin.put("/v1/admin/credentials/national_dvc.password", json={"value": SECRET + "2"})
    listed = admin.get("/v1/admin/credentials")
    gone = admin.delete("/v1/admin/credentials/national_dvc.password")
    after = admin.get("/v1/admin/credentials")
    answers = [put, again, listed, gone, after]

    assert [r.status_code for r in answers] == [200, 200, 200, 200, 200]
    assert put.json()["version"] == 1 and again.json()["version"] == 2 and put.json()["updated_by"] == "alice"
    assert [i["name"] for i in listed.json()["items"]] == ["national_dvc.password"]
    assert gone.json()["deleted"] is True and after.json()["items"] == []
    assert "national_dvc.password" in {m["name"] for m in after.json()["missing"]}
    assert not any(SECRET in r.text for r in answers)
    assert all("value" not in item for item in listed.json()["items"])

    def records() -> list[Any]:
        with reading(hub.engine) as conn:
            return conn.execute(select(access_records).where(access_records.c.route.like("/v1/admin/credentials%"))).all()

    wait_until(lambda: len(records()) == 5, 5, what="the five access records")
    [record] = [r for r in records() if r.caller_request_id == rid]
    assert record.outcome == "ok" and record.account == "alice" and record.method == "PUT"
    assert not shows(every_row(hub), SECRET)
    assert SECRET not in caplog.text


def test_only_admins_manage_credentials(hub: Hub, server: str) -> None:
    operator = login(server, "olga")
    with client(server, hub.keys["motcua"]) as partner, client(server) as nobody:
        answers = [operator.put("/v1/admin/credentials/national_payment.secret", json={"value": SECRET}),
                   operator.get("/v1/admin/credentials"),
                   partner.put("/v1/admin/credentials/national_payment.secret", json={"value": SECRET}),
                   nobody.delete("/v1/admin/credentials/national_payment.secret")]
    assert [r.status_code for r in answers] == [403, 403, 403, 401]
    assert Vault(hub.engine, hub.settings).list() == []


def test_bad_names_unknown_names_and_empty_values_are_problems_that_store_nothing(hub: Hub, server: str) -> None:
    admin = login(server, "alice")
    bad = admin.put("/v1/admin/credentials/NotAName", json={"value": SECRET})
    unknown = admin.delete("/v1/admin/credentials/national_payment.secret")
    empty = admin.put("/v1/admin/credentials/national_payment.secret", json={"value": ""})
    assert (bad.status_code, bad.json()["type"]) == (422, "/problems/credential-name")
    assert bad.json()["errors"][0]["field"] == "name"
    assert (unknown.status_code, unknown.json()["type"]) == (404, "/problems/credential-not-found")
    assert (empty.status_code, empty.json()["type"]) == (422, "/problems/validation")
    assert SECRET not in bad.text
    assert Vault(hub.engine, hub.settings).list() == []


# --- the CLI ---------------------------------------------------------------------------------


def lienthong(hub: Hub, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *argv], env=settings_env(hub.settings), cwd=ROOT,
                          capture_output=True, text=True, input=stdin, timeout=60)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_sets_from_a_value_file_or_stdin_and_never_prints_a_value(hub: Hub, tmp_path: Any) -> None:
    value_file = tmp_path / "value.txt"
    value_file.write_text(SECRET + "\n", encoding="utf-8")
    from_file = lienthong(hub, "credentials", "set", "national_dvc.password", "--value-file", str(value_file))
    from_stdin = lienthong(hub, "credentials", "set", "national_payment.secret", stdin="pay-secret\n")
    listed = lienthong(hub, "credentials", "list")
    bad = lienthong(hub, "credentials", "set", "Bad", stdin="x")
    deleted = lienthong(hub, "credentials", "delete", "national_payment.secret")

    assert [p.returncode for p in (from_file, from_stdin, listed, deleted)] == [0, 0, 0, 0], from_file.stderr
    assert bad.returncode == 2 and "credential name" in bad.stderr
    vault = Vault(hub.engine, hub.settings)
    assert vault.get("national_dvc.password") == SECRET  # the file's trailing newline is not part of it
    assert vault.get("national_payment.secret") is None
    outputs = "".join(p.stdout + p.stderr for p in (from_file, from_stdin, listed, bad, deleted))
    assert SECRET not in outputs and "pay-secret" not in outputs
    with reading(hub.engine) as conn:
        acts = conn.execute(select(admin_actions.c.actor, admin_actions.c.action)
                            .where(admin_actions.c.action.like("vault.%"))).all()
        cli = conn.execute(select(access_records).where(access_records.c.kind == "cli",
                                                        access_records.c.route.like("vault.%"))).all()
    assert [a.action for a in acts] == ["vault.set", "vault.set", "vault.delete"]
    assert all(a.actor.startswith("cli:") for a in acts) and len(cli) == 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_rewrap_moves_the_vault_to_the_new_master_key(hub: Hub, tmp_path: Any) -> None:
    Vault(hub.engine, hub.settings).put("national_payment.secret", SECRET, actor="test")
    raw, encoded = other_master()
    (tmp_path / "new.key").write_text(encoded + "\n")
    done = lienthong(hub, "credentials", "rewrap", "--new-master-file", str(tmp_path / "new.key"))
    assert done.returncode == 0, done.stderr
    assert f"to {key_id(raw)}" in done.stdout and "LIENTHONG_VAULT_MASTER_KEY" in done.stdout
    renewed = Vault(hub.engine, hub.settings.model_copy(update={"vault_master_key": encoded}))
    assert renewed.get("national_payment.secret") == SECRET
    stale = lienthong(hub, "credentials", "list")  # listing needs no decryption: still works with the old key
    assert stale.returncode == 0 and key_id(raw) in stale.stdout


# --- keys/ -----------------------------------------------------------------------------------


def test_git_ignores_every_key_file_and_tracks_only_the_keys_readme() -> None:
    files = ["keys/vault-master.key", "keys/api-key-pepper", "keys/audit-ed25519.pem", "keys/hub-signing/ring.json",
             "keys/wsse/hub-key.pem", "keys/anything-new.pem"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *files], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == files
    tracked = subprocess.run(["git", "ls-files", "keys"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert set(tracked) <= {"keys/README.md", "keys/.gitkeep"}
    assert "vault-master.key" in (ROOT / "keys" / "README.md").read_text()
