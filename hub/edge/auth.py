"""Identifying the caller: ``Authorization: ApiKey <key>`` → the partner behind the key."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from hub.edge.problems import Problem
from hub.partners import MISS, Principal

CHALLENGE = {"WWW-Authenticate": 'ApiKey realm="lienthong"'}


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the calling partner, or a 401 problem that does not say why."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    found = None
    if scheme.lower() == "apikey" and key:
        keys = request.app.state.keys
        found = keys.cached(key)
        if found is MISS:
            found = await run_in_threadpool(keys.reload, key)
    if found is None:
        raise Problem("unauthenticated", "send a valid partner key as 'Authorization: ApiKey <key>'", headers=CHALLENGE)
    request.state.principal = found
    return found


async def operator(request: Request) -> Principal:
    """FastAPI dependency: the caller, who must be an operator."""
    who = await principal(request)
    if not who.is_operator:
        raise Problem("forbidden", "only operator keys may use the operations API")
    return who
