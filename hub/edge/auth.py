"""Identifying the caller: ``Authorization: ApiKey <key>`` → the partner behind the key."""

from __future__ import annotations

from fastapi import Request

from hub.edge.problems import Problem
from hub.partners import Principal

CHALLENGE = {"WWW-Authenticate": 'ApiKey realm="lienthong"'}


def principal(request: Request) -> Principal:
    """FastAPI dependency: the calling partner, or a 401 problem that does not say why."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    found = request.app.state.keys.resolve(key.strip()) if scheme.lower() == "apikey" and key.strip() else None
    if found is None:
        raise Problem("unauthenticated", "send a valid partner key as 'Authorization: ApiKey <key>'", headers=CHALLENGE)
    request.state.principal = found
    return found


def operator(request: Request) -> Principal:
    """FastAPI dependency: the caller, who must be an operator."""
    who = principal(request)
    if not who.is_operator:
        raise Problem("forbidden", "only operator keys may use the operations API")
    return who
