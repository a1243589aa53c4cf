"""Safe in production, or it does not start (issue #12): the production profile refuses unsafe settings,
naming every reason; every process compares its keys with the fingerprints the database records."""

from __future__ import annotations

import base64
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hub.audit.crypto import audit_keys
from hub.audit.keys import load_key
from hub.config import ROOT, MissingKey, Settings
from hub.edge.app import create_app
from hub.keyset import fingerprints, init
from hub.plugins import manifests
from hub.runtime import engine_for
from hub.safety import StartRefused, UnsafeSettings, check_startup, production_problems
from hub.signatures.hub_keys import HubKeyRing
from hub.store.fingerprints import KeysDiffer, record_or_compare, recorded
from hub.store.migrate import upgrade
from hub.vault.envelope import key_id, master_key
from hub.vault.store import Vault, seed_defaults
from tests.conftest import make_settings
from tests.support import RedisServer, ThreadedServer, settings_env, with_fields, with_partner

PEOPLE = ["203.0.113.0/24"]
CALLBACKS = ["198.51.100.7/32"]


def new_master() -> tuple[bytes, str]:
    raw = os.urandom(32)
    return raw, base64.b64encode(raw).decode()


def keyset(tmp: Path, name: str = "keyset") -> Path:
    folder = tmp / name
    init(folder, Settings())
    return folder


def production(db_url: str, redis_url: str, tmp: Path, keys: Path, **overrides: Any) -> Settings:
    """A full, explicit, safe production configuration on the key set in ``keys``."""
    values: dict[str, Any] = dict(
        profile="production", keys_dir=keys, key_pepper="", people_allowed_ips=PEOPLE, trusted_proxies=[],
        document_hosts=["documents.example.gov.vn"],
        partner_settings={"national_payment": {"callback_networks": CALLBACKS, "secret": ""},
                          "national_dvc": {"password": ""}, "population_db": {"client_secret": ""},
                          "postal_vnpost": {"client_secret": "", "agencies": {"000.00.00.H49": {
                              "customer_code": "C-H49", "name": "Bộ phận Một cửa", "phone": "02033000000",
                              "address": "1 Đường Mẫu", "province_code": "22", "district_code": "193"}}}})
    for name, value in overrides.items():  # "<partner>.<field>" names a partner's setting
        partner, _, field = name.rpartition(".")
        if partner:
            values["partner_settings"] = with_fields(values["partner_settings"], partner, {field: value})
        else:
            values[name] = value
    return make_settings(db_url, redis_url, tmp, **values)


def env_name(setting: str) -> str:
    """The environment variable of a hub setting or of a partner's ``<partner>.<field>``."""
    return "LIENTHONG_" + setting.replace(".", "_").upper()


def start(settings: Settings) -> None:
    """What every hub process does before it serves or works."""
    engine = engine_for(settings)
    try:
        check_startup(settings, engine, "test")
    finally:
        engine.dispose()


def lienthong(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *argv], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


# --- the production profile refuses unsafe settings ----------------------------------------------------


def test_production_with_the_embedded_defaults_refuses_to_start_naming_every_reason(tmp_path: Path) -> None:
    settings = Settings(profile="production", database_url=f"sqlite:///{tmp_path / 'hub.db'}")
    with pytest.raises(UnsafeSettings) as refused:
        create_app(settings)
    text = str(refused.value)
    for reason in ("LIENTHONG_KEYS_DIR", "API-key pepper is missing", "vault master key is missing",
                   "audit content key is missing", "audit index key is missing", "audit checkpoint key is missing",
                   "hub signing key ring is missing", "LIENTHONG_NATIONAL_DVC_PASSWORD is a built-in sandbox secret",
                   "LIENTHONG_POPULATION_DB_CLIENT_SECRET is a built-in sandbox secret",
                   "LIENTHONG_PEOPLE_ALLOWED_IPS is not set", "LIENTHONG_NATIONAL_PAYMENT_CALLBACK_NETWORKS is not set",
                   "LIENTHONG_TRUSTED_PROXIES is not set", "LIENTHONG_POSTAL_VNPOST_AGENCIES is the sandbox's"):
        assert reason in text, f"{reason!r} not among the reasons:\n{text}"
    assert "document allowlist" not in text, "in production the document allowlist starts empty: nothing to refuse"
    assert len(refused.value.reasons) >= 12
    assert refused.value.reasons == production_problems(settings)


def test_the_api_and_worker_commands_refuse_in_production_and_print_every_reason(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_PROFILE="production", LIENTHONG_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.db'}",
               LIENTHONG_REDIS_URL="redis://127.0.0.1:9/0", LIENTHONG_KEYS_DIR=str(tmp_path / "empty-keys"),
               PYTHONPATH=str(ROOT))
    for command in ("api", "worker"):
        done = lienthong(env, command)
        assert done.returncode == 2, done.stderr
        assert "refuses to start in the production profile" in done.stderr
        for reason in ("API-key pepper is missing", "vault master key is missing", "LIENTHONG_PEOPLE_ALLOWED_IPS"):
            assert reason in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "empty-keys").exists()  # nothing generated


def test_production_never_generates_a_development_key(tmp_path: Path) -> None:
    settings = Settings(profile="production", keys_dir=tmp_path / "keys")
    for load in (lambda: settings.effective_key_pepper, lambda: master_key(settings), lambda: audit_keys(settings),
                 lambda: load_key(settings), lambda: HubKeyRing.for_settings(settings).keys()):
        with pytest.raises(MissingKey, match="never generated"):
            load()
    assert not (tmp_path / "keys").exists() or not any((tmp_path / "keys").rglob("*"))
    sandbox = Settings(keys_dir=tmp_path / "dev-keys")  # the sandbox still makes them on first use
    assert len(master_key(sandbox)) == 32 and (tmp_path / "dev-keys" / "vault-master.key").exists()


def test_production_with_a_full_safe_configuration_starts_and_answers_healthz(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    settings = production(db_url, redis_server.url, tmp_path, keyset(tmp_path))
    assert production_problems(settings) == []
    upgrade(settings.effective_database_url)
    with ThreadedServer(create_app(settings)).start() as server:
        r = httpx.get(f"{server.url}/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    assert set(recorded(engine_for(settings))) == {"key_pepper", "vault_master_key", "audit_content_key",
                                                   "audit_index_key", "audit_checkpoint_key", "hub_signing_keys"}


def test_production_refuses_when_it_cannot_check_its_key_set_against_the_database(
        redis_server: RedisServer, tmp_path: Path) -> None:
    settings = production(f"sqlite:///{tmp_path / 'not-migrated.db'}", redis_server.url, tmp_path, keyset(tmp_path))
    with pytest.raises(StartRefused, match="key_fingerprints is missing: run 'lienthong db upgrade'"):
        create_app(settings)


@pytest.mark.parametrize("setting,value", [
    ("national_dvc.password", "sandbox-password"),
    ("population_db.client_secret", "sandbox-population-secret"),
    ("national_payment.secret", "sandbox-payment-secret"),
    ("postal_vnpost.client_secret", "sandbox-vnpost-secret"),
    ("key_pepper", "change-me"),
    ("database_url", "postgresql+psycopg://lienthong:change-me@db:5432/lienthong"),
])
def test_a_built_in_sandbox_secret_in_production_refuses(tmp_path: Path, setting: str, value: str) -> None:
    settings = production(f"sqlite:///{tmp_path / 'hub.db'}", "redis://127.0.0.1:9/0", tmp_path, keyset(tmp_path),
                          **{setting: value})
    reasons = production_problems(settings)
    assert any(env_name(setting) in r and "sandbox" in r for r in reasons), reasons
    assert all(value not in r for r in reasons)  # a reason never repeats the secret


def test_a_key_file_holding_a_sandbox_value_in_production_refuses(tmp_path: Path) -> None:
    keys = keyset(tmp_path)
    (keys / "api-key-pepper").write_text("test-pepper\n")
    reasons = production_problems(production("sqlite://", "redis://127.0.0.1:9/0", tmp_path, keys))
    assert any("api-key-pepper is a built-in sandbox value" in r for r in reasons), reasons


def test_a_sandbox_secret_seeded_into_the_vault_refuses_in_production(
        sqlite_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    settings = production(sqlite_url, redis_server.url, tmp_path, keyset(tmp_path))
    upgrade(sqlite_url)
    seed_defaults(with_partner(settings, "national_dvc", password="sandbox-password"))  # what the sandbox does
    with pytest.raises(UnsafeSettings, match="vault credential national_dvc.password holds a built-in sandbox value"):
        start(settings)


@pytest.mark.parametrize("field,networks,why", [
    ("people_allowed_ips", ["127.0.0.0/8"], "loopback"),
    ("people_allowed_ips", ["203.0.113.0/24", "::1/128"], "loopback"),
    ("people_allowed_ips", ["10.0.0.0/8"], "whole private block"),
    ("people_allowed_ips", ["0.0.0.0/0"], "every address"),
    ("people_allowed_ips", ["::ffff:0:0/96"], "IPv4-mapped"),
    ("national_payment.callback_networks", ["127.0.0.1/32"], "loopback"),
    ("national_payment.callback_networks", ["192.168.0.0/16"], "whole private block"),
    ("trusted_proxies", ["172.16.0.0/12"], "whole private block"),
])
def test_people_or_callbacks_trusted_from_loopback_or_a_private_block_refuse(
        tmp_path: Path, field: str, networks: list[str], why: str) -> None:
    settings = production("sqlite://", "redis://127.0.0.1:9/0", tmp_path, keyset(tmp_path), **{field: networks})
    reasons = production_problems(settings)
    assert any(env_name(field) in r and why in r for r in reasons), reasons


def test_named_subnets_and_a_same_host_proxy_are_accepted(tmp_path: Path) -> None:
    settings = production("sqlite://", "redis://127.0.0.1:9/0", tmp_path, keyset(tmp_path),
                          people_allowed_ips=["10.20.30.0/24"], trusted_proxies=["127.0.0.1/32"])
    assert production_problems(settings) == []


def test_networks_left_at_their_defaults_refuse_even_when_set_elsewhere(tmp_path: Path) -> None:
    settings = production("sqlite://", "redis://127.0.0.1:9/0", tmp_path, keyset(tmp_path))
    defaulted = Settings(**{k: getattr(settings, k) for k in settings.model_fields_set if k != "people_allowed_ips"})
    defaulted.partner_settings["national_payment"].pop("callback_networks")
    reasons = production_problems(defaulted)
    assert [r for r in reasons if "is not set" in r] == [
        "LIENTHONG_PEOPLE_ALLOWED_IPS is not set: in production the networks of people (admin, operator, auditor) "
        "are configured explicitly (JSON list of CIDR blocks), never defaulted",
        "LIENTHONG_NATIONAL_PAYMENT_CALLBACK_NETWORKS is not set: in production the networks of payment callbacks are "
        "configured explicitly (JSON list of CIDR blocks), never defaulted"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "[::1]", "127.1.2.3", "api.localhost", "0.0.0.0"])
def test_a_document_allowlist_that_admits_loopback_refuses(tmp_path: Path, host: str) -> None:
    settings = production("sqlite://", "redis://127.0.0.1:9/0", tmp_path, keyset(tmp_path),
                          document_hosts=["documents.example.gov.vn", host])
    assert [r for r in production_problems(settings) if "LIENTHONG_DOCUMENT_HOSTS" in r]


# --- every replica on one key set ----------------------------------------------------------------------


def _other(keys: Path, tmp: Path, key: str) -> dict[str, Any]:
    """Settings overrides giving a replica another ``key`` than the shared set in ``keys``."""
    if key == "vault_master_key":
        return {"vault_master_key": new_master()[1]}
    if key == "audit_content_key":
        return {"audit_content_key": new_master()[1]}
    if key == "audit_index_key":
        return {"audit_index_key": new_master()[1]}
    if key == "key_pepper":
        return {"key_pepper": "another-pepper-of-a-replica-that-generated-its-own"}
    other = keyset(tmp, "other-keyset")  # audit_checkpoint_key: a replica that made its own key set
    return {"audit_key_file": str(other / "audit-ed25519.pem")}


@pytest.mark.parametrize("key", ["vault_master_key", "audit_content_key", "audit_index_key", "key_pepper",
                                 "audit_checkpoint_key"])
def test_a_second_replica_with_another_key_refuses_naming_the_key(
        db_url: str, redis_server: RedisServer, tmp_path: Path, key: str) -> None:
    keys = keyset(tmp_path)
    first = production(db_url, redis_server.url, tmp_path, keys)
    upgrade(db_url)
    start(first)
    second = first.model_copy(update=_other(keys, tmp_path, key))
    with pytest.raises(KeysDiffer) as refused:
        create_app(second)
    text = str(refused.value)
    assert [d.name for d in refused.value.differences] == [key]
    assert f"{key} differs from the key this hub's database records" in text
    assert "Sharing the key set between replicas" in text and "first seen" in text
    start(first)  # the replicas on the shared set keep starting


def test_a_replica_with_its_own_generated_keys_refuses_in_the_sandbox_profile_too(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    """What docker/compose.yaml used to do: every container generated its own keys."""
    one = make_settings(db_url, redis_server.url, tmp_path, keys_dir=tmp_path / "container-1")
    two = make_settings(db_url, redis_server.url, tmp_path, keys_dir=tmp_path / "container-2")
    upgrade(db_url)
    start(one)
    with pytest.raises(KeysDiffer) as refused:
        start(two)
    assert {d.name for d in refused.value.differences} == {"vault_master_key", "audit_content_key", "audit_index_key",
                                                           "audit_checkpoint_key", "hub_signing_keys"}


def test_replicas_with_the_same_key_set_start(db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    keys = keyset(tmp_path)
    upgrade(db_url)
    for replica in ("a", "b"):
        start(production(db_url, redis_server.url, tmp_path / replica, keys))
    assert recorded(engine_for(production(db_url, redis_server.url, tmp_path, keys))) == fingerprints(
        production(db_url, redis_server.url, tmp_path, keys))


def test_two_replicas_starting_at_once_cannot_both_record_their_own_keys(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    upgrade(db_url)
    settings = make_settings(db_url, redis_server.url, tmp_path)
    engines = [engine_for(settings) for _ in range(2)]
    mine = {"vault_master_key": "a" * 16, "audit_content_key": "b" * 16}
    theirs = {"vault_master_key": "c" * 16, "audit_content_key": "b" * 16}
    barrier, outcomes = threading.Barrier(2), {}

    def replica(name: str, engine: Any, found: dict[str, str]) -> None:
        barrier.wait()
        try:
            record_or_compare(engine, found, name)
            outcomes[name] = "started"
        except KeysDiffer as exc:
            outcomes[name] = [d.name for d in exc.differences]

    threads = [threading.Thread(target=replica, args=("mine", engines[0], mine)),
               threading.Thread(target=replica, args=("theirs", engines[1], theirs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(str, outcomes.values())) == sorted(["started", "['vault_master_key']"])
    winner = mine if outcomes["mine"] == "started" else theirs
    assert recorded(engines[0]) == winner


def test_rotating_the_vault_master_key_keeps_the_hub_starting_on_the_new_key_only(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    settings = production(db_url, redis_server.url, tmp_path, keyset(tmp_path))
    upgrade(db_url)
    start(settings)
    engine = engine_for(settings)
    Vault(engine, settings).put("national_dvc.password", "the-real-portal-password", actor="test")
    raw, encoded = new_master()
    Vault(engine, settings).rewrap(raw, actor="admin:quantri")  # what 'lienthong credentials rewrap' does
    rotated = settings.model_copy(update={"vault_master_key": encoded})
    start(rotated)
    create_app(rotated)
    assert recorded(engine)["vault_master_key"] == key_id(raw)
    with pytest.raises(KeysDiffer, match=r"vault_master_key differs .*\(changed .* by admin:quantri\)"):
        start(settings)  # a replica still on the old key is told so


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_rotation_commands_update_the_fingerprints_so_the_hub_keeps_starting(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    keys = keyset(tmp_path)
    settings = production(db_url, redis_server.url, tmp_path, keys)
    upgrade(db_url)
    start(settings)
    env = settings_env(settings)
    for argv in (("audit", "rotate-key"), ("signing", "hub-keys", "rotate")):
        done = lienthong(env, *argv)
        assert done.returncode == 0, done.stderr
    start(settings)
    assert lienthong(env, "keyset", "check").returncode == 0


# --- the key set, made once --------------------------------------------------------------------------


def test_keyset_init_writes_a_private_key_set_once_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env["PYTHONPATH"] = str(ROOT)
    folder = tmp_path / "shared-keys"
    done = lienthong(env, "keyset", "init", str(folder))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"api-key-pepper", "vault-master.key", "audit-content.key", "audit-index.key",
                                       "audit-ed25519.pem", "ring.json"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    for p in files:  # the output names files and fingerprints, never a key
        if p.suffix in (".key", "") and p.name != "ring.json":
            assert p.read_text().strip() not in done.stdout
    before = {p: p.read_bytes() for p in files}
    again = lienthong(env, "keyset", "init", str(folder))
    assert again.returncode == 2 and "never replaces keys" in again.stderr
    assert {p: p.read_bytes() for p in files} == before


# --- docker/ ------------------------------------------------------------------------------------------


def _environments(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {"x-hub": compose["x-hub"]["environment"]}
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        found[name] = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
    return found


def test_compose_runs_every_replica_in_production_on_one_read_only_key_set() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    names = {n for env in _environments(compose).values() for n in env if n.startswith("LIENTHONG_")}
    names |= set(re.findall(r"\b(LIENTHONG_[A-Z0-9_]+)=", dockerfile))
    known = {f"LIENTHONG_{f.upper()}" for f in Settings.model_fields}
    known |= {f"LIENTHONG_{m.code.upper()}_{f.upper()}" for m in manifests() for f in m.settings.model_fields}
    unknown = sorted(names - known)
    assert unknown == [], f"not settings of the hub or of a partner: {unknown}"
    for service in ("api", "worker", "migrate"):
        spec = compose["services"][service]
        env = spec.get("environment", compose["x-hub"]["environment"])
        assert env["LIENTHONG_PROFILE"] == "production"
        for network in ("LIENTHONG_PEOPLE_ALLOWED_IPS", "LIENTHONG_NATIONAL_PAYMENT_CALLBACK_NETWORKS",
                        "LIENTHONG_TRUSTED_PROXIES"):
            assert ":?" in env[network], f"{service}: {network} must be required, never defaulted"
        assert "keys:/var/lib/lienthong/keys:ro" in spec.get("volumes", compose["x-hub"]["volumes"])
    keys = compose["services"]["keys"]
    assert keys["command"][:2] == ["keyset", "init"] and keys["profiles"] == ["setup"]
    assert "keys" in compose["volumes"]
