"""The admin API of the officer registry: register, change, revoke, list, review (docs/CITIZENS.md).

Officers are the people a partner's system looks citizens up for (``MaCanBo``); the same functions
back the ``lienthong officers`` CLI and record each change as an admin action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.citizens import officers
from hub.edge.admin import actor_of, changes_of, run_store
from hub.edge.guard import GuardedRoute
from hub.edge.problems import Problem
from hub.edge.responses import json_response
from hub.messages.codes import OFFICER_CODE_PATTERN

router = APIRouter(tags=["officers"], route_class=GuardedRoute)
Tier = Literal["own_dossiers", "own_unit", "whole_agency"]


class OfficerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: str = Field(min_length=2, max_length=40, description="the partner (one-stop system) calling for them")
    officer_code: str = Field(pattern=OFFICER_CODE_PATTERN, description="MaCanBo")
    full_name: str = Field(min_length=1, max_length=200)
    agency_id: str = Field(max_length=20, examples=["000.00.00.H49"])
    unit: str = Field("", max_length=300, description="handling unit (department), as dossiers name it")
    tier: Tier = "own_dossiers"
    valid_from: datetime | None = Field(None, description="default: now")
    valid_until: datetime | None = None


class OfficerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: str | None = Field(None, min_length=1, max_length=200)
    agency_id: str | None = Field(None, max_length=20)
    unit: str | None = Field(None, max_length=300)
    tier: Tier | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    state: Literal["active", "disabled"] | None = None
    reason: str | None = Field(None, max_length=300)


class Revocation(BaseModel):
    reason: str = Field("", max_length=300)


@router.get("/v1/admin/officers", summary="Registered officers")
async def list_officers(request: Request, partner: str | None = None,
                        state: Literal["active", "disabled", "revoked"] | None = None) -> Response:
    return json_response({"items": await run_store(officers.list_officers, request.app.state.engine, partner, state)})


@router.post("/v1/admin/officers", status_code=201, summary="Register an officer")
async def register_officer(request: Request, body: OfficerIn) -> Response:
    actor, ip = actor_of(request)
    row = await run_store(officers.register, request.app.state.engine, body.partner, body.officer_code, body.full_name,
                          body.agency_id, unit=body.unit, tier=body.tier, valid_from=body.valid_from,
                          valid_until=body.valid_until, actor=actor, client_ip=ip)
    return json_response(row, 201)


@router.get("/v1/admin/officers:review", summary="Active officers without a look-up for N months")
async def review_officers(request: Request, months: int = Query(6, ge=1, le=120)) -> Response:
    return json_response({"months": months, "items": await run_store(officers.unused, request.app.state.engine, months)})


@router.post("/v1/admin/officers:disable-unused",
             summary="Disable the officers the review lists")
async def disable_unused_officers(request: Request, months: int = Query(6, ge=1, le=120)) -> Response:
    actor, ip = actor_of(request)
    done = await run_store(officers.disable_unused, request.app.state.engine, months, actor=actor, client_ip=ip)
    return json_response({"months": months, "disabled": done})


@router.get("/v1/admin/officers/{partner}/{code}", summary="One officer")
async def get_officer(request: Request, partner: str, code: str) -> Response:
    row = await run_store(officers.get_officer, request.app.state.engine, partner, code)
    if row is None:
        raise Problem("not-found", f"no officer {code!r} of {partner!r}")
    return json_response(row)


@router.patch("/v1/admin/officers/{partner}/{code}",
              summary="Change an officer (name, agency, unit, tier, validity, active/disabled)")
async def change_officer(request: Request, partner: str, code: str, body: OfficerChange) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(officers.change, request.app.state.engine, partner, code, changes_of(body),
                                         actor=actor, client_ip=ip))


@router.post("/v1/admin/officers/{partner}/{code}:revoke",
             summary="Revoke an officer's right to look up")
async def revoke_officer(request: Request, partner: str, code: str, body: Revocation | None = None) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(officers.revoke, request.app.state.engine, partner, code,
                                         body.reason if body else "", actor=actor, client_ip=ip))
