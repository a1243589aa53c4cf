"""The admin API of the credential vault: set, list and delete partner credentials.

Write-only by design: no endpoint answers a credential's value, and no answer, error or access
record carries one. Admin role only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hub.edge.admin import actor_of
from hub.edge.guard import GuardedRoute
from hub.edge.problems import Problem
from hub.edge.responses import json_response
from hub.vault.names import check_name
from hub.vault.store import MAX_VALUE, Vault, VaultMissing

router = APIRouter(tags=["admin"], route_class=GuardedRoute)


class CredentialIn(BaseModel):
    value: str = Field(min_length=1, max_length=MAX_VALUE, description="the secret; stored encrypted, never shown again")


def vault_of(request: Request) -> Vault:
    """This app's vault, opened on first use (reads the master key); the console's pages use it too."""
    vault = getattr(request.app.state, "vault", None)
    if vault is None:
        vault = request.app.state.vault = Vault(request.app.state.engine, request.app.state.settings)
    return vault


def credential_name(request: Request, name: str) -> str:
    """``name`` if it is a valid credential name (noted for the access record); a 422 problem otherwise."""
    request.scope.setdefault("state", {})["summary"] = f"credential {name}"[:300]
    try:
        return check_name(name)
    except ValueError as exc:
        raise Problem("credential-name", str(exc).partition(": ")[2],
                      [{"field": "name", "rule": "credential_name", "message": str(exc).partition(": ")[2]}]) from None


@router.get("/v1/admin/credentials",
            summary="Credentials in the vault: names, versions, who changed them (never values)")
async def list_credentials(request: Request) -> Response:
    vault = await run_in_threadpool(vault_of, request)
    items, missing = await run_in_threadpool(lambda: (vault.list(), vault.missing()))
    return json_response({"items": items, "missing": missing, "master_key_id": vault.master_key_id})


@router.put("/v1/admin/credentials/{name}",
            summary="Set or replace a credential (write-only: it can never be read back)")
async def put_credential(request: Request, name: str, body: CredentialIn) -> Response:
    name = credential_name(request, name)
    actor, ip = actor_of(request)
    vault = await run_in_threadpool(vault_of, request)
    try:
        meta: dict[str, Any] = await run_in_threadpool(lambda: vault.put(name, body.value, actor=actor, client_ip=ip))
    except ValueError as exc:
        field, _, rule = str(exc).partition(": ")
        raise Problem("validation", str(exc), [{"field": field, "rule": "credential_value", "message": rule}]) from None
    return json_response(meta)


@router.delete("/v1/admin/credentials/{name}", summary="Remove a credential")
async def delete_credential(request: Request, name: str) -> Response:
    name = credential_name(request, name)
    actor, ip = actor_of(request)
    vault = await run_in_threadpool(vault_of, request)
    try:
        meta = await run_in_threadpool(lambda: vault.delete(name, actor=actor, client_ip=ip))
    except VaultMissing:
        raise Problem("credential-not-found", f"no credential {name} in the vault", name=name) from None
    return json_response({"deleted": True, **meta})
