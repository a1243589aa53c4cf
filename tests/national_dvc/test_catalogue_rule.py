"""The intake rule: dossiers and fee notices checked against the national catalogue (issue 17)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from prometheus_client import REGISTRY

from connectors.national_dvc.catalogue import rule
from connectors.national_dvc.catalogue.rule import Snapshots
from connectors.national_dvc.catalogue.sync import sync
from connectors.national_dvc.simulator import create_app
from hub.context import context
from hub.edge.app import create_app as hub_app
from tests.conftest import seed_hub
from tests.factories import submitted
from tests.national_dvc.catalogue_support import Portal, hub_settings, synced_hub
from tests.support import RedisServer, ThreadedServer, client, with_partner


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    with ThreadedServer(create_app()).start() as server:
        yield Portal(server)


@pytest.fixture(scope="module")
def edge(portal: Portal, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, httpx.Client]]:
    """One hub for the module, its catalogue synced; its API; the one-stop system's client."""
    tmp = tmp_path_factory.mktemp("catalogue-rule")
    redis_server.flush()
    settings = hub_settings(tmp, redis_server.url, portal.url)
    h, ctx = synced_hub(settings, tmp)
    every, rule.SNAPSHOTS.every = rule.SNAPSHOTS.every, 0.0  # the tests change the catalogue and submit at once
    server = ThreadedServer(hub_app(settings)).start()
    with client(server.url, h.keys["motcua"]) as motcua:
        yield h, ctx, motcua
    rule.SNAPSHOTS.every = every
    server.stop()
    h.engine.dispose()


def dossier(seq: int, procedure: str = "2.000477", fees: list[tuple[str, int]] | None = None, channel: int = 2) -> dict[str, Any]:
    msg = submitted(seq)
    msg["payload"].update(procedure_code=procedure, channel=channel,
                          fees=[{"code": c, "name": "Lệ phí", "amount": a} for c, a in fees or []])
    return msg


def fee_notice(seq: int, procedure: str, fees: list[tuple[str, int]]) -> dict[str, Any]:
    return {"message_id": str(uuid.uuid4()), "type": "fee.notice", "source": "motcua", "occurred_at": submitted()["occurred_at"],
            "dossier_code": submitted(seq)["dossier_code"],
            "payload": {"agency_id": "000.00.00.H49", "procedure_code": procedure,
                        "fees": [{"code": c, "name": "Lệ phí", "amount": a} for c, a in fees]}}


def refusal(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    problem: dict[str, Any] = r.json()
    assert problem["type"].endswith("catalogue-mismatch")
    return dict(problem["errors"][0])


def test_a_dossier_of_a_withdrawn_procedure_is_refused_naming_the_rule(edge: tuple[Any, Any, httpx.Client], portal: Portal) -> None:
    h, ctx, motcua = edge
    portal.control("withdraw", code="1.100004", decision="3/QĐ-UBND", decided_on=date(2026, 11, 30))
    sync(ctx)
    error = refusal(motcua.post("/v1/messages", json=dossier(1, "1.100004")))
    assert (error["field"], error["rule"]) == ("payload.procedure_code", "procedure_published")
    assert "not published" in error["message"]


def test_in_warn_mode_a_dossier_of_a_withdrawn_procedure_is_accepted_logged_without_personal_data_and_counted(
        edge: tuple[Any, Any, httpx.Client], portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    h, ctx, _ = edge
    portal.control("withdraw", code="1.100006", decision="4/QĐ-UBND", decided_on=date(2026, 11, 30))
    sync(ctx)
    warn = with_partner(h.settings, "national_dvc", catalogue_check="warn")
    counted = REGISTRY.get_sample_value("lienthong_catalogue_mismatch_total", {"rule": "procedure_published", "mode": "warn"}) or 0
    message = dossier(2, "1.100006")
    assert context("motcua", warn).submit(message, types=["dossier.submitted"]) == "created"
    after = REGISTRY.get_sample_value("lienthong_catalogue_mismatch_total", {"rule": "procedure_published", "mode": "warn"})
    assert after == counted + 1
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == rule.__name__)
    assert "1.100006" in logged and "Nguyễn" not in logged and "001190012345" not in logged


def test_a_dossier_of_an_unknown_procedure_is_refused(edge: tuple[Any, Any, httpx.Client]) -> None:
    error = refusal(edge[2].post("/v1/messages", json=dossier(3, "1.999999")))
    assert (error["field"], error["rule"]) == ("payload.procedure_code", "procedure_published")
    assert "not in the national catalogue" in error["message"]


def test_a_dossier_whose_fees_are_not_the_catalogues_for_its_channel_is_refused(edge: tuple[Any, Any, httpx.Client]) -> None:
    motcua = edge[2]
    in_person_fee_online = refusal(motcua.post("/v1/messages", json=dossier(4, fees=[("LP-2.000477", 8000)], channel=2)))
    assert (in_person_fee_online["field"], in_person_fee_online["rule"]) == ("payload.fees", "fees_match_catalogue")
    assert "channel 2" in in_person_fee_online["message"]
    refusal(motcua.post("/v1/messages", json=dossier(5, fees=[("LP-KHAC", 4000)], channel=2)))


def test_a_provincial_procedure_code_matches_its_national_code_and_the_catalogues_fees_pass(edge: tuple[Any, Any, httpx.Client]) -> None:
    r = edge[2].post("/v1/messages", json=dossier(6, "2.000477.000.00.00.H56", fees=[("LP-2.000477", 4000)], channel=2))
    assert r.status_code == 202, r.text


def test_a_dossier_with_no_fees_passes_the_fee_rule(edge: tuple[Any, Any, httpx.Client]) -> None:
    assert edge[2].post("/v1/messages", json=dossier(7, "2.000477", fees=[], channel=1)).status_code == 202


def test_a_fee_notice_is_checked_against_the_fees_of_one_channel(edge: tuple[Any, Any, httpx.Client]) -> None:
    motcua = edge[2]
    assert motcua.post("/v1/messages", json=fee_notice(8, "2.000477", [("LP-2.000477", 8000)])).status_code == 202
    error = refusal(motcua.post("/v1/messages", json=fee_notice(9, "2.000477", [("LP-2.000477", 9999)])))
    assert (error["field"], error["rule"]) == ("payload.fees", "fees_match_catalogue")


def test_a_hub_that_never_synced_its_catalogue_checks_nothing(portal: Portal, redis_server: RedisServer, tmp_path: Path) -> None:
    settings = hub_settings(tmp_path, redis_server.url, portal.url)
    h = seed_hub(settings, tmp_path)
    try:
        assert context("motcua", settings).submit(dossier(10, "1.999999"), types=["dossier.submitted"]) == "created"
    finally:
        h.engine.dispose()


def test_the_snapshot_is_read_again_only_after_two_seconds_and_only_when_the_catalogue_changed(
        edge: tuple[Any, Any, httpx.Client], portal: Portal) -> None:
    _, ctx, _ = edge
    now = [0.0]
    snapshots = Snapshots(every=2.0, clock=lambda: now[0])
    first = snapshots.get(ctx)
    assert first.published["1.100008"]
    portal.control("withdraw", code="1.100008", decision="5/QĐ-UBND", decided_on=date(2026, 11, 30))
    sync(ctx)
    now[0] = 1.9
    assert snapshots.get(ctx) is first, "within two seconds: the same snapshot, no query"
    now[0] = 2.1
    fresh = snapshots.get(ctx)
    assert fresh is not first and not fresh.published["1.100008"]
    now[0] = 4.5
    assert snapshots.get(ctx) is fresh, "unchanged catalogue: the snapshot is kept"
