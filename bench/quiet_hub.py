"""The hub with its access records switched off: the baseline ``make bench`` measures the cost of
recording every request against. Bench only; never serve this (the regulations require the records)."""

from __future__ import annotations

from fastapi import FastAPI

from hub.edge.app import create_app as hub_app


def create_app() -> FastAPI:
    app = hub_app()
    app.recorder = None  # type: ignore[attr-defined]
    return app
