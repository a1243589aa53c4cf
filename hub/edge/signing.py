"""HTTP message signatures at the edge: partners' signing keys and policy (admin), and the hub's
public keys at ``/.well-known/jwks.json`` (anyone). See docs/SIGNATURES.md.

The signing policy is also a field of the partner (``PATCH /v1/admin/partners/{code}`` with
``{"signatures": "required"}``); ``PUT .../signing-policy`` is the same change on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.edge.admin import actor_of, run_store
from hub.edge.guard import GuardedRoute
from hub.edge.responses import json_response
from hub.signatures import registry

router = APIRouter(route_class=GuardedRoute)
JWKS_MAX_AGE = 300  # seconds; keep it well under signing_publish_lead_seconds


class SigningKeyIn(BaseModel):
    jwk: dict[str, Any] = Field(description="The public JWK (OKP/Ed25519, EC/P-256, RSA) or, for hmac-sha256, "
                                            "an oct JWK whose k is the shared secret (stored in the vault, never shown)")
    not_after: datetime | None = Field(None, description="optional end of validity")


class PolicyIn(BaseModel):
    signatures: Literal["off", "optional", "required"]


@router.get("/v1/admin/partners/{code}/signing-keys", tags=["admin"],
            summary="A partner's registered signing keys (public parts only)")
async def list_signing_keys(request: Request, code: str) -> Response:
    return json_response({"keys": await run_store(registry.list_keys, request.app.state.engine, code)})


@router.post("/v1/admin/partners/{code}/signing-keys", tags=["admin"], status_code=201,
             summary="Register a signing key (a JWK) for a partner")
async def add_signing_key(request: Request, code: str, body: SigningKeyIn) -> Response:
    actor, ip = actor_of(request)
    view = await run_store(registry.add_key, request.app.state.engine, request.app.state.settings, code, body.jwk,
                           not_after=body.not_after, actor=actor, client_ip=ip)
    request.app.state.signatures.keys.forget(view["keyid"])
    return json_response(view, 201)


@router.post("/v1/admin/partners/{code}/signing-keys/{keyid}:revoke", tags=["admin"],
             summary="Revoke a signing key now (every hub process refuses it within about a second)")
async def revoke_signing_key(request: Request, code: str, keyid: str) -> Response:
    actor, ip = actor_of(request)
    view = await run_store(registry.revoke_key, request.app.state.engine, code, keyid, actor=actor, client_ip=ip)
    request.app.state.signatures.keys.forget(keyid)
    return json_response(view)


@router.put("/v1/admin/partners/{code}/signing-policy", tags=["admin"],
            summary="Whether a partner signs its requests: off, optional or required")
async def set_signing_policy(request: Request, code: str, body: PolicyIn) -> Response:
    actor, ip = actor_of(request)
    return json_response(await run_store(registry.set_policy, request.app.state.engine, code, body.signatures,
                                         actor=actor, client_ip=ip))


@router.get("/.well-known/jwks.json", tags=["documents"], summary="The hub's public signing keys (JWK Set)")
async def jwks(request: Request) -> Response:
    """Every published hub key: the active one, a next one announced before it signs, and retired
    ones until their last signatures have expired."""
    keys = await run_in_threadpool(request.app.state.hub_keys.published)
    response = json_response({"keys": keys})
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response
