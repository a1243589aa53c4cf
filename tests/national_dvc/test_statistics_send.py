"""The month's statistics reach the portal simulator, once, and are published as JSON and CSV.

Rules: the monthly job sends the month that ended to the portal (DongBoThongKeHoSo, validated by the
simulator) and, its send remembered in the database, not again, even from a new process's context;
``send`` on demand sends it again; the simulator refuses a record whose value is not a string; the
JSON and CSV routes answer the month; a caller without a key, a key without the ``read`` scope and a
month that is not YYYY-MM are refused with problems, never a 500.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from connectors.national_dvc.simulator import create_app as portal_app
from connectors.national_dvc.statistics import send
from connectors.national_dvc.statistics.calendar import put
from connectors.national_dvc.statistics.monthly import Month
from connectors.national_dvc.wire_types import HANOI as VIETNAM
from hub.access.keys import issue_key
from hub.context import context
from hub.edge.app import create_app
from tests.conftest import Hub, make_settings, seed_hub
from tests.national_dvc.statistics_month import SWAP, A, store
from tests.support import RedisServer, ThreadedServer, client

FEBRUARY = Month(2027, 2)
MARCH_2 = datetime(2027, 3, 2, 9, tzinfo=VIETNAM)


@pytest.fixture(scope="module")
def world(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One hub database with the hand-built February, one portal simulator, one hub API."""
    tmp: Path = tmp_path_factory.mktemp("stats-send")
    portal = ThreadedServer(portal_app()).start()
    settings = make_settings(f"sqlite:///{tmp / 'hub.db'}", redis_server.url, tmp,
                             partner_settings={"national_dvc": {"adapter_url": portal.url}})
    hub: Hub = seed_hub(settings, tmp)
    store(settings.effective_database_url).dispose()
    put(hub.engine, SWAP, "test", lambda conn, before, after: None)
    api = ThreadedServer(create_app(settings)).start()
    yield {"portal": portal.url, "api": api.url, "hub": hub, "settings": settings}
    api.stop()
    portal.stop()
    hub.engine.dispose()


def portal_state(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_sim/state", timeout=5).json()["statistics"]  # type: ignore[no-any-return]


def test_the_monthly_job_sends_the_month_that_ended_once_even_after_a_restart(world: dict[str, Any]) -> None:
    ctx = context("national_dvc", world["settings"])
    assert send.run(ctx, now=lambda: MARCH_2) == FEBRUARY
    state = portal_state(world["portal"])
    kept = state["records"][f"{A} 2027-02"]
    assert kept["received"] == 1 and kept["record"]["TongSoXuLy"] == "8" and kept["record"]["LoaiThongKe"] == "1"
    calls = state["calls"]
    assert send.run(ctx, now=lambda: MARCH_2) is None
    restarted = context("national_dvc", world["settings"], adapter_url=world["portal"])  # a fresh context, as a new process
    assert send.run(restarted, now=lambda: MARCH_2) is None
    assert portal_state(world["portal"])["calls"] == calls
    assert send.sent(ctx.engine, FEBRUARY)["sent_by"] == "job"  # type: ignore[index]


def test_a_month_sent_on_demand_goes_again_and_is_counted(world: dict[str, Any]) -> None:
    ctx = context("national_dvc", world["settings"])
    send.send(ctx, Month(2027, 3), "cli:test")
    send.send(ctx, Month(2027, 3), "cli:test")
    assert send.sent(ctx.engine, Month(2027, 3))["times"] == 2  # type: ignore[index]
    assert portal_state(world["portal"])["records"][f"{A} 2027-03"]["received"] == 2


def test_the_simulator_refuses_a_count_that_is_not_a_string(world: dict[str, Any]) -> None:
    from connectors.national_dvc.client import DvcClient, PermanentError

    ctx = context("national_dvc", world["settings"])
    record = dict(send.statistics(ctx, FEBRUARY).records[0], TongSoXuLy=8)
    dvc = DvcClient(world["portal"], "lienthong", "sandbox-password", "000.00.00.H49")
    try:
        with pytest.raises(PermanentError) as refused:
            dvc.call("DongBoThongKeHoSo", {"data": [record]})
    finally:
        dvc.close()
    assert refused.value.error_code == "02" and "TongSoXuLy" in refused.value.reason and A in refused.value.reason


def test_the_json_and_csv_routes_answer_the_month(world: dict[str, Any]) -> None:
    hub: Hub = world["hub"]
    with client(world["api"], hub.keys["ops"]) as c:
        r = c.get("/v1/statistics/2027-02.json")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["month"] == "2027-02" and body["rule"] == "000-14.3" and body["agencies"][0]["TongSoXuLy"] == "8"
        assert len(body["breakdown"]) == 3 and "Nguyễn" not in r.text  # aggregates only: no applicant
        r = c.get("/v1/statistics/2027-02.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.text.splitlines()[0].startswith("Thang,Nam,Madonvi") and len(r.text.splitlines()) == 4


def test_a_caller_without_a_key_or_without_the_read_scope_is_refused(world: dict[str, Any]) -> None:
    hub: Hub = world["hub"]
    with client(world["api"]) as anonymous:
        r = anonymous.get("/v1/statistics/2027-02.json")
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    intake_only = issue_key(hub.engine, "motcua", hub.settings.effective_key_pepper, "intake only",
                            scopes={"endpoints": ["intake"]})
    with client(world["api"], intake_only) as c:
        assert c.get("/v1/statistics/2027-02.csv").status_code == 403


@pytest.mark.parametrize("month", ["2027-13", "2027-2", "..%2F..%2Fetc", "1999-01", "2027-02-01"])
def test_a_month_that_is_not_yyyy_mm_is_a_problem_not_a_500(world: dict[str, Any], month: str) -> None:
    with client(world["api"], world["hub"].keys["ops"]) as c:
        r = c.get(f"/v1/statistics/{month}.json")
        assert r.status_code in (404, 422), r.text
        assert r.headers["content-type"].startswith("application/problem+json")


def test_a_calendar_day_added_with_the_command_is_an_admin_action_and_changes_the_calendar(world: dict[str, Any]) -> None:
    import subprocess
    import sys
    from datetime import date

    from sqlalchemy import select

    from connectors.national_dvc.statistics.calendar import calendar
    from hub.store.tables import admin_actions
    from tests.support import ROOT, settings_env

    env = settings_env(world["settings"])
    done = subprocess.run([sys.executable, "-m", "hub.cli", "calendar", "add", "2027-03-12", "--kind", "off",
                           "--decision", "Quyết định thử"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ctx = context("national_dvc", world["settings"])
    assert not calendar(ctx.settings, ctx.engine).is_working_day(date(2027, 3, 12))
    with ctx.engine.connect() as conn:
        row = conn.execute(select(admin_actions).where(admin_actions.c.action == "calendar.day.put")).first()
    assert row is not None and row.actor.startswith("cli:") and row.target == "national_dvc:2027-03-12"
    assert "Quyết định thử" in row.after
