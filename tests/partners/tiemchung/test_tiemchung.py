"""A partner is one folder (issue #13): the vaccination registry, which exists only in this test tree,
is registered, simulated, routed, delivered to, called back and pulled from, with no file outside
its folder naming it; and connectors/README.md, the guide to adding a partner, quotes it truly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import httpx
import pytest
from sqlalchemy import select

from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import deliveries, messages, partner_cursors
from hub.vault.store import Vault
from tests.conftest import Hub, make_settings, seed_hub
from tests.factories import status_changed
from tests.support import ROOT, RedisServer, ThreadedServer, client, free_port, wait_port, wait_until

PLUGIN = "tests.partners.tiemchung.manifest"
FOLDER = Path(__file__).resolve().parent
ROUTES = """routes:
  - type: status.changed
    source: motcua
    to: [tiemchung]
  - type: status.changed
    source: tiemchung
    to: [national_dvc]
"""


@pytest.fixture
def plugged(plug: Callable[..., None]) -> None:
    """This process loads the partner's manifest, as ``LIENTHONG_PLUGINS`` tells every hub process."""
    plug(PLUGIN)


def test_the_partner_is_registered_wherever_the_hub_lists_partners(plugged: None) -> None:
    from hub.edge.problems import problem_type
    from hub.edge.rules import rule_for
    from hub.partners import partner_kinds
    from hub.plugins import destinations, manifest
    from hub.vault.names import well_known

    assert manifest("tiemchung").name == "Hệ thống quản lý tiêm chủng"
    assert destinations()["tiemchung"] == {"status.changed"}, "routing checks what it accepts"
    assert "vaccination_registry" in partner_kinds(), "its kind can be registered"
    assert well_known()["tiemchung.token"].partner == "tiemchung", "its vault credential is listed"
    assert problem_type("tiemchung-unreachable") == (502, "The vaccination registry could not be reached")
    rule = rule_for("POST", "/v1/tiemchung/events")
    assert (rule.route_class, rule.keys, rule.roles) == ("intake", True, frozenset()), "its route has an access rule"
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    helped = subprocess.run([sys.executable, "-m", "hub.cli", "simulator", "tiemchung", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "vaccination registry simulator" in helped.stdout, helped.stderr


def test_production_refuses_its_sandbox_token_like_any_shipped_secret(plugged: None, tmp_path: Path) -> None:
    from hub.config import Settings
    from hub.safety import production_problems

    reasons = production_problems(Settings(profile="production", database_url=f"sqlite:///{tmp_path / 'h.db'}",
                                           plugins=[PLUGIN]))
    assert any(r.startswith("LIENTHONG_TIEMCHUNG_TOKEN is a built-in sandbox secret") for r in reasons), reasons


def stored(hub: Hub, source: str) -> dict[str, list[str]]:
    """Message id -> destinations of the messages from ``source``."""
    with reading(hub.engine) as conn:
        rows = conn.execute(select(messages.c.message_id, deliveries.c.destination)
                            .join(deliveries, deliveries.c.message_pk == messages.c.id)
                            .where(messages.c.source == source)).all()
    found: dict[str, list[str]] = {}
    for message_id, destination in rows:
        found.setdefault(message_id, []).append(destination)
    return found


def test_it_is_simulated_routed_delivered_to_called_back_and_pulled_from(
        plugged: None, db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.flush()
    sim_port = free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    (tmp_path / "routes.yaml").write_text(ROUTES)
    settings = make_settings(db_url, redis_server.url, tmp_path, plugins=[PLUGIN], routes_file=tmp_path / "routes.yaml",
                             partner_settings={"tiemchung": {"url": sim, "poll_seconds": 0.2}})
    hub = seed_hub(settings, tmp_path)
    try:
        from hub.sandbox import seed

        keys = seed(settings)  # its sandbox seed: the partner row and a key scoped as its manifest says
        assert keys["tiemchung"]["kind"] == "vaccination_registry"
        Vault(hub.engine, settings).put("tiemchung.token", "vault-token", actor="test")
        hub.spawn("-m", "hub.cli", "simulator", "tiemchung", "--port", str(sim_port), name="tiemchung-sim",
                  TIEMCHUNG_SIM_TOKEN="vault-token")  # only the vault's token opens its inbox
        worker = hub.worker()  # delivers, and runs the registry's scheduled pull (it starts meanwhile)
        wait_port(sim_port)
        with ThreadedServer(create_app(settings)).start() as api, client(api.url, hub.keys["motcua"]) as motcua:
            sent = motcua.post("/v1/messages", json=status_changed())
            assert sent.status_code == 202 and sent.json()["destinations"] == ["tiemchung"], sent.text

            wait_until(lambda: sent.json()["message_id"] in httpx.get(f"{sim}/_sim/state").json()["inbox"], 30,
                       what="delivery to the registry")

            event = {"id": 1, "dossier_code": "000.00.00.H49-261123-0001", "at": "2026-11-23T09:00:00+07:00",
                     "note": "Đã tiêm mũi 1"}
            pushed = httpx.post(f"{sim}/_sim/push", json={"hub_url": f"{api.url}/v1/tiemchung/events", "event": event,
                                                          "api_key": keys["tiemchung"]["api_key"]}, timeout=20).json()
            assert pushed["status"] == 202 and pushed["body"]["verdict"] == "created", pushed
            assert stored(hub, "tiemchung") == {"tiemchung-1": ["national_dvc"]}, "called back, routed onwards"

            feed = [{"dossier_code": "000.00.00.H49-261123-0001", "at": "2026-11-23T09:00:00+07:00"},  # id 1: pushed
                    {"dossier_code": "000.00.00.H49-261123-0002", "at": "2026-11-23T10:00:00+07:00"}]
            httpx.post(f"{sim}/_sim/events", json=feed).raise_for_status()
            wait_until(lambda: "tiemchung-2" in stored(hub, "tiemchung"), 30, what="the scheduled pull")
            worker.stop()
            httpx.post(f"{sim}/_sim/events", json=[{"dossier_code": "000.00.00.H49-261123-0003",
                                                    "at": "2026-11-23T11:00:00+07:00"}]).raise_for_status()
            hub.worker(name="worker-2")  # a restart resumes where the cursor stopped
            wait_until(lambda: "tiemchung-3" in stored(hub, "tiemchung"), 30, what="the pull after a restart")
        assert sorted(stored(hub, "tiemchung")) == ["tiemchung-1", "tiemchung-2", "tiemchung-3"], "none missed or repeated"
        with reading(hub.engine) as conn:
            assert conn.execute(select(partner_cursors.c.value).where(partner_cursors.c.partner_code == "tiemchung")
                                ).scalar() == "3"
    finally:
        for p in hub.processes:
            p.end()
        hub.engine.dispose()


def test_no_file_outside_its_folder_names_it() -> None:
    """Adding the partner changed nothing outside tests/partners/tiemchung/ (the guide quotes it)."""
    named = subprocess.run(["git", "grep", "-l", "-i", "tiemchung", "--", ".", f":!{FOLDER.relative_to(ROOT)}",
                            ":!connectors/README.md"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert named.stdout.split() == [], f"files outside the partner's folder name it: {named.stdout}"


def test_the_guide_to_adding_a_partner_quotes_the_example_as_it_is() -> None:
    """Every code block of connectors/README.md headed ``# tests/partners/tiemchung/<file>`` is in that file."""
    guide = (ROOT / "connectors" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n# (tests/partners/tiemchung/[a-z_]+\.py)\n(.*?)```", guide, flags=re.S)
    assert len(blocks) >= 5, "the guide walks through the manifest, settings, connector, events and simulator"
    for path, code in blocks:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert code.strip() in source, f"connectors/README.md quotes {path} wrongly: update the guide"
