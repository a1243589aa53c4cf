"""The officer registry (seed 002 Đ10, 001 Đ11): register, change, revoke, review; every change is
an admin action with before and after; admins only; the CLI does the same."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from hub.access.accounts import add_account
from hub.citizens.officers import months_before, register
from hub.store.engine import reading
from hub.store.tables import admin_actions, officers
from tests.conftest import Hub
from tests.support import settings_env

PASSWORD = "correct horse battery"
ANNA = {"partner": "motcua", "officer_code": "CB-0001", "full_name": "Lê Thị An", "agency_id": "000.00.00.H49",
        "unit": "Phòng Tư pháp"}


@pytest.fixture
def admin(api: str, hub: Hub) -> Iterator[httpx.Client]:
    add_account(hub.engine, "alice", "Alice", "admin", PASSWORD, actor="test")
    token = httpx.post(f"{api}/v1/auth/login", json={"username": "alice", "password": PASSWORD}).json()["token"]
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        yield c


def actions_of(hub: Hub, target: str) -> list[Any]:
    with reading(hub.engine) as conn:
        return conn.execute(select(admin_actions).where(admin_actions.c.target == target)
                            .order_by(admin_actions.c.id)).all()


def age(hub: Hub, code: str, days: int, looked_up: bool = True) -> None:
    """Pretend officer ``code`` was registered (and last looked up) ``days`` ago."""
    then = datetime.now(timezone.utc) - timedelta(days=days)
    with hub.engine.begin() as conn:
        conn.execute(update(officers).where(officers.c.officer_code == code)
                     .values(created_at=then, last_lookup_at=then if looked_up else None))


def test_register_change_and_revoke_are_admin_actions_with_before_and_after(admin: httpx.Client, hub: Hub) -> None:
    r = admin.post("/v1/admin/officers", json=ANNA)
    assert r.status_code == 201, r.text
    assert (r.json()["tier"], r.json()["state"]) == ("own_dossiers", "active"), "the default tier is own dossiers"
    r = admin.patch("/v1/admin/officers/motcua/CB-0001", json={"tier": "own_unit", "unit": "Phòng Tài nguyên"})
    assert r.status_code == 200 and r.json()["tier"] == "own_unit"
    r = admin.post("/v1/admin/officers/motcua/CB-0001:revoke", json={"reason": "chuyển công tác"})
    assert r.json()["state"] == "revoked" and r.json()["reason"] == "chuyển công tác"
    done = actions_of(hub, "officer:motcua/CB-0001")
    assert [a.action for a in done] == ["officer.register", "officer.change", "officer.revoke"]
    assert all(a.actor == "alice" for a in done)
    change = done[1]
    assert json.loads(change.before)["tier"] == "own_dossiers" and json.loads(change.after)["tier"] == "own_unit"
    listed = admin.get("/v1/admin/officers", params={"partner": "motcua", "state": "revoked"}).json()["items"]
    assert [o["officer_code"] for o in listed] == ["CB-0001"]


def test_a_revoked_officer_stays_revoked_until_registered_again(admin: httpx.Client) -> None:
    assert admin.post("/v1/admin/officers", json=ANNA).status_code == 201
    assert admin.post("/v1/admin/officers", json=ANNA).status_code == 409, "one row per officer and partner"
    admin.post("/v1/admin/officers/motcua/CB-0001:revoke")
    r = admin.patch("/v1/admin/officers/motcua/CB-0001", json={"state": "active"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "state"
    again = admin.post("/v1/admin/officers", json={**ANNA, "tier": "whole_agency"})
    assert again.status_code == 201 and again.json()["state"] == "active" and again.json()["tier"] == "whole_agency"


def test_an_officer_needs_a_known_partner_an_agency_identifier_and_a_sane_validity(admin: httpx.Client) -> None:
    assert admin.post("/v1/admin/officers", json={**ANNA, "partner": "nobody"}).status_code == 404
    bad_agency = admin.post("/v1/admin/officers", json={**ANNA, "agency_id": "H49"})
    assert bad_agency.status_code == 422 and bad_agency.json()["errors"][0]["field"] == "agency_id"
    assert admin.post("/v1/admin/officers", json={**ANNA, "tier": "everything"}).status_code == 422
    backwards = admin.post("/v1/admin/officers", json={**ANNA, "valid_from": "2026-12-01T00:00:00+07:00",
                                                        "valid_until": "2026-11-01T00:00:00+07:00"})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "valid_until"


def test_only_admins_manage_officers(api: str, hub: Hub, motcua: httpx.Client) -> None:
    assert motcua.get("/v1/admin/officers").status_code == 403
    assert motcua.post("/v1/admin/officers", json=ANNA).status_code == 403


def test_review_lists_officers_without_a_look_up_for_n_months_and_disables_them(admin: httpx.Client, hub: Hub) -> None:
    for code in ("CB-OLD", "CB-NEW", "CB-NEVER"):
        assert admin.post("/v1/admin/officers", json={**ANNA, "officer_code": code}).status_code == 201
    age(hub, "CB-OLD", 200)  # last look-up ~6.5 months ago
    age(hub, "CB-NEVER", 100, looked_up=False)  # registered ~3.3 months ago, never looked up
    age(hub, "CB-NEW", 400)
    with hub.engine.begin() as conn:  # registered long ago, but looked up yesterday
        conn.execute(update(officers).where(officers.c.officer_code == "CB-NEW")
                     .values(last_lookup_at=datetime.now(timezone.utc) - timedelta(days=1)))
    six = admin.get("/v1/admin/officers:review", params={"months": 6}).json()["items"]
    assert [o["officer_code"] for o in six] == ["CB-OLD"]
    three = admin.get("/v1/admin/officers:review", params={"months": 3}).json()["items"]
    assert [o["officer_code"] for o in three] == ["CB-NEVER", "CB-OLD"]
    done = admin.post("/v1/admin/officers:disable-unused", params={"months": 3}).json()["disabled"]
    assert {o["officer_code"]: o["state"] for o in done} == {"CB-NEVER": "disabled", "CB-OLD": "disabled"}
    assert "3 months" in done[0]["reason"]
    [action] = actions_of(hub, "officer:motcua/CB-OLD")[1:]
    assert action.action == "officer.disable" and json.loads(action.before)["state"] == "active"
    assert admin.get("/v1/admin/officers:review", params={"months": 3}).json()["items"] == [], "disabled ones drop off"
    assert admin.get("/v1/admin/officers/motcua/CB-NEW").json()["state"] == "active"


def test_months_are_calendar_months() -> None:
    at = datetime(2026, 5, 31, 12, tzinfo=timezone.utc)
    assert months_before(at, 3) == datetime(2026, 2, 28, 12, tzinfo=timezone.utc)
    assert months_before(at, 12) == datetime(2025, 5, 31, 12, tzinfo=timezone.utc)
    assert months_before(at, 6) == datetime(2025, 11, 30, 12, tzinfo=timezone.utc)


def test_the_cli_registers_changes_reviews_and_revokes_as_admin_actions(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.cli import app
    from hub.config import get_settings

    for name, value in settings_env(hub.settings).items():
        if name.startswith("LIENTHONG_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        out = runner.invoke(app, ["officers", "add", "motcua", "CB-0009", "Phạm Văn Chín", "000.00.00.H49",
                                  "--unit", "Phòng Tư pháp", "--tier", "own_unit"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["tier"] == "own_unit"
        assert runner.invoke(app, ["officers", "set", "motcua", "CB-0009", "--tier", "nonsense"]).exit_code == 2
        age(hub, "CB-0009", 400)
        listed = runner.invoke(app, ["officers", "review", "--months", "12"])
        assert [o["officer_code"] for o in json.loads(listed.output)["unused"]] == ["CB-0009"]
        disabled = runner.invoke(app, ["officers", "review", "--months", "12", "--disable"])
        assert json.loads(disabled.output)["disabled"][0]["state"] == "disabled"
        revoked = runner.invoke(app, ["officers", "revoke", "motcua", "CB-0009", "--reason", "nghỉ hưu"])
        assert json.loads(revoked.output)["state"] == "revoked"
    finally:
        get_settings.cache_clear()
    done = actions_of(hub, "officer:motcua/CB-0009")
    assert [a.action for a in done] == ["officer.register", "officer.disable", "officer.revoke"]
    assert all(a.actor.startswith("cli:") for a in done)


def test_registering_directly_records_the_actor(hub: Hub) -> None:
    register(hub.engine, "motcua", "CB-0100", "Võ Thị Mười", "000.00.00.H49", actor="cli:root")
    [action] = actions_of(hub, "officer:motcua/CB-0100")
    assert action.actor == "cli:root" and action.before is None and json.loads(action.after)["full_name"] == "Võ Thị Mười"
