"""Production and the ministry adapters: no shipped adapter unless a folder is named, and no adapter
whose secret falls back to the sandbox's value (issue #16)."""

from __future__ import annotations

from pathlib import Path

from connectors.ministry_apps.settings import SHIPPED
from hub.runtime import engine_for
from hub.safety import production_problems
from hub.store.migrate import upgrade
from hub.vault.store import Vault
from tests.security.test_production_profile import keyset, production
from tests.support import RedisServer


def ministry_reasons(settings: object) -> list[str]:
    return [r for r in production_problems(settings) if r.startswith("ministry adapter")]  # type: ignore[arg-type]


def test_production_without_a_folder_runs_no_shipped_adapter(sqlite_url: str, redis_server: RedisServer,
                                                             tmp_path: Path) -> None:
    upgrade(sqlite_url)
    settings = production(sqlite_url, redis_server.url, tmp_path, keyset(tmp_path), **{"ministry_apps.folder": None})
    assert ministry_reasons(settings) == [], "the sandbox's adapters and their secrets are not production's"


def test_production_refuses_an_adapter_whose_secret_is_the_sandbox_value_until_the_vault_holds_it(
        sqlite_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    settings = production(sqlite_url, redis_server.url, tmp_path, keyset(tmp_path), **{"ministry_apps.folder": str(SHIPPED)})
    reasons = ministry_reasons(settings)
    for expected in ("civil_status: secret password", "land: secret client_secret", "land: secret callback",
                     "soap_test: secret password"):
        assert any(expected in r for r in reasons), (expected, reasons)
    assert all("sandbox-" not in r for r in reasons), "a reason never repeats the secret"
    engine = engine_for(settings)
    try:
        Vault(engine, settings).put("civil_status.password", "the-province-s-own", actor="test")
    finally:
        engine.dispose()
    assert not any("civil_status" in r for r in ministry_reasons(settings)), "set in the vault: accepted"
