"""Shared construction of the long-lived parts: engine, Redis client, routing table."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import Engine

from hub.config import Settings
from hub.routing import RoutingTable, load
from hub.store.engine import make_engine


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.effective_database_url)


def redis_for(settings: Settings) -> Redis:
    """A Redis client that fails fast when Redis is down (intake must not hang on it)."""
    return Redis.from_url(
        settings.redis_url, socket_connect_timeout=0.5, socket_timeout=5, health_check_interval=30
    )


def routes_for(settings: Settings) -> RoutingTable:
    return load(settings.routes_file)
