"""Configuration: environment variables prefixed ``LIENTHONG_``, with embedded defaults that run as is."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of the hub. Each field maps to ``LIENTHONG_<NAME>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="LIENTHONG_", extra="ignore")

    var_dir: Path = Field(ROOT / "var", description="Where the sandbox keeps its database, Redis data and credentials.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite (WAL) at var/lienthong.db.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for queues, circuit breakers and flags.")
    routes_file: Path = Field(ROOT / "hub" / "routes.yaml", description="Routing table (YAML).")
    max_body_bytes: int = Field(1_000_000, description="Largest request body accepted at the edge.")
    intake_writer: Literal["process", "thread"] = Field(
        "process", description="Where intake writes to the database: process (a child of each API process) or thread."
    )
    batch_max: int = Field(50, description="Most messages in one batch call (regulation: 50 dossiers per batch).")
    keys_dir: Path = Field(ROOT / "keys", description="Key material; development keys are generated here on first run.")
    key_pepper: str = Field(
        "", description="Secret mixed into API-key hashes (HMAC key); empty: keys/api-key-pepper, generated on first run."
    )

    trusted_proxies: list[str] = Field(
        [], description="CIDR blocks of reverse proxies whose X-Forwarded-For is believed (JSON list); empty: none."
    )
    people_allowed_ips: list[str] = Field(
        ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
        description="Networks people (admin, operator, auditor) may sign in and work from; each account can narrow it.",
    )
    session_hours: float = Field(8.0, description="How long a person's session lasts after sign-in.")
    credential_cache_seconds: float = Field(
        0.4, description="How long a process trusts a key or session it looked up; revocation takes effect within twice this."
    )
    rate_limits_enabled: bool = Field(True, description="Apply rate limits (turn off only to measure their cost).")
    rate_limits_default: str = Field(
        "per-second=100/1,daily=500000/86400",
        description="Per-key limits where no policy row applies: name=quota/window_seconds, comma-separated.",
    )
    rate_limit_on_redis_down: str = Field(
        "local", description="When Redis is unreachable: local (per-process limits, alert), allow (alert) or deny."
    )
    review_days: int = Field(90, description="Keys and accounts unused this many days are listed by the review.")

    retry_schedule: list[float] = Field(
        [1, 5, 30, 120, 600, 1800], description="Seconds before each retry of a transient failure; after the last, dead."
    )
    retry_jitter: float = Field(0.2, description="Random spread added to each retry delay, as a fraction of it.")
    lease_seconds: float = Field(
        60.0, description="How long a worker owns a claimed delivery (renewed per chunk) before the relay takes it back."
    )
    relay_interval: float = Field(0.5, description="Seconds between relay sweeps for pending, due or orphaned deliveries.")
    claim_batch: int = Field(50, description="Deliveries a worker claims per round.")
    breaker_threshold: int = Field(5, description="Consecutive transient failures that open a destination's circuit.")
    breaker_open_seconds: float = Field(10.0, description="How long an open circuit holds a destination's deliveries.")

    dvc_adapter_url: str = Field("http://127.0.0.1:8101", description="National portal (DVCQG) adapter base URL.")
    dvc_username: str = Field("lienthong", description="Account on the national portal adapter.")
    dvc_password: str = Field("sandbox-password", description="Password on the national portal adapter.")
    dvc_madonvi: str = Field("000.00.00.H49", description="Province agency code sent as madonvi.")
    dvc_timeout: float = Field(5.0, description="Seconds before a call to the national portal counts as timed out.")

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var_dir``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'lienthong.db'}"

    @property
    def effective_key_pepper(self) -> str:
        """The configured pepper, or the development one under ``keys_dir`` (created if missing)."""
        if self.key_pepper:
            return self.key_pepper
        path = self.keys_dir / "api-key-pepper"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
            try:
                os.link(tmp, path)  # atomic: the first process to create it wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once from the environment."""
    return Settings()
