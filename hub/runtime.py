"""Shared construction of the long-lived connections: the database engine and the Redis client.

A base helper (config and store only); the routing table is :func:`hub.routing.routes_for`."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import Engine

from hub.config import Settings
from hub.store.engine import make_engine


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.effective_database_url)


def redis_for(settings: Settings) -> Redis:
    """A Redis client that fails fast when Redis is down (intake must not hang on it)."""
    return Redis.from_url(
        settings.redis_url, socket_connect_timeout=0.5, socket_timeout=5, health_check_interval=30
    )
