"""Configuration: environment variables prefixed ``LIENTHONG_``, with embedded defaults that run as is.

These are the hub's own settings. Each partner has its own settings class in its folder
(``connectors/<partner>/``, prefix ``LIENTHONG_<PARTNER>_``), named by its manifest."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def _cidrs(value: list[str]) -> list[str]:
    try:
        return [str(ipaddress.ip_network(v.strip(), strict=False)) for v in value]
    except ValueError as exc:
        raise ValueError(f"not a CIDR block: {exc}") from None


#: A settings field holding CIDR blocks (JSON list), each normalised (``10.0.0.1/8`` -> ``10.0.0.0/8``).
CidrList = Annotated[list[str], AfterValidator(_cidrs)]


class Settings(BaseSettings):
    """Every knob of the hub. Each field maps to ``LIENTHONG_<NAME>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="LIENTHONG_", extra="ignore")

    profile: Literal["sandbox", "production"] = Field(
        "sandbox", description="sandbox: embedded defaults that run as is; production: the hub refuses to start "
                               "with any unsafe setting (docs/OPERATIONS.md, 'Production profile')."
    )
    var_dir: Path = Field(ROOT / "var", description="Where the sandbox keeps its database, Redis data and credentials.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite (WAL) at var/lienthong.db.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for queues, circuit breakers and flags.")
    routes_file: Path = Field(ROOT / "hub" / "routes.yaml", description="Routing table (YAML).")
    partner_settings: dict[str, dict[str, Any]] = Field(
        {}, description="Partners' settings as one JSON object ({\"<partner>\": {\"<field>\": value}}), over their own "
                        "LIENTHONG_<PARTNER>_<FIELD> variables (a whole deployment in one variable; the tests)."
    )
    plugins: list[str] = Field(
        [], description="More partner manifests, by module path (JSON list), beside every connectors/<partner>/manifest.py "
                        "(hub/plugins.py; each partner's own settings have the prefix LIENTHONG_<PARTNER>_)."
    )
    max_body_bytes: int = Field(1_000_000, description="Largest request body accepted at the edge.")
    intake_writer: Literal["process", "thread"] = Field(
        "process", description="Where intake writes to the database: process (a child of each API process) or thread."
    )
    batch_max: int = Field(50, description="Most messages in one batch call (regulation: 50 dossiers per batch).")
    keys_dir: Path = Field(ROOT / "keys", description="Key material. Sandbox profile: development keys are "
                                         "generated here on first run; production: the operator's key set "
                                         "('lienthong keyset init'), never generated.")
    key_pepper: str = Field(
        "", description="Secret mixed into API-key hashes (HMAC key); empty: keys/api-key-pepper (generated on first run in "
           "the sandbox profile only)."
    )

    # Client address behind reverse proxies (hub/access/forwarded.py, docs/security/forwarded.md): the
    # socket peer, unless it is a trusted proxy; then the forwarding header of the chosen style, walked
    # from the right through the trusted proxies.
    trusted_proxies: list[str] = Field(
        [], description="CIDR blocks of reverse proxies whose forwarding headers are believed (JSON list); empty: none."
    )
    forwarded_header: Literal["x-forwarded", "forwarded"] = Field(
        "x-forwarded",
        description="Which forwarding headers trusted proxies set: x-forwarded (X-Forwarded-For/-Proto/-Host) or "
                    "forwarded (RFC 7239 Forwarded); the other style is ignored.",
    )
    people_allowed_ips: list[str] = Field(
        ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
        description="Networks people (admin, operator, auditor) may sign in and work from; each account can narrow it.",
    )
    metrics_scrape_networks: list[str] = Field(
        [], description="Networks a Prometheus scraper may read /metrics from without a credential (JSON list); "
                        "empty: /metrics needs an operator credential."
    )
    metrics_refresh_seconds: float = Field(
        5.0, description="/metrics reads its database gauges (backlog, alerts) at most this often; scrapes in "
                         "between answer the last reading."
    )
    unauthenticated_quota: int = Field(
        30, ge=1, description="Refused credentials or signatures one client address may send per window before "
                              "it is blocked."
    )
    unauthenticated_window_seconds: int = Field(60, ge=1, description="Window of LIENTHONG_UNAUTHENTICATED_QUOTA.")
    unauthenticated_block_seconds: int = Field(
        60, ge=1, description="How long an address over LIENTHONG_UNAUTHENTICATED_QUOTA gets 429 for every call "
                              "that needs a credential."
    )
    session_hours: float = Field(8.0, description="How long a person's session lasts after sign-in (absolute timeout).")
    session_idle_minutes: float = Field(
        30.0, gt=0, description="A person's session ends after this long without a request (idle timeout)."
    )
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

    # Sign-in abuse (hub/access/signin.py, docs/ACCESS.md#sign-in): failures count per (account,
    # address) and per address, never per account alone; Argon2 runs with bounded concurrency.
    signin_pair_failures: int = Field(
        5, ge=1, description="Failed sign-ins one address may make on one account per window before that pair gets 429."
    )
    signin_address_failures: int = Field(
        30, ge=1, description="Failed sign-ins one address may make per window, on any accounts, before it gets 429."
    )
    signin_window_seconds: float = Field(
        900.0, gt=0, description="Window of the sign-in failure counts; a full count frees one attempt every window/quota."
    )
    signin_account_slow_after: int = Field(
        10, ge=0, description="Failures on one account per window, from all addresses, before its sign-ins are slowed."
    )
    signin_account_delay_max_seconds: float = Field(
        2.0, ge=0, description="Longest delay before a sign-in to an account under attack is checked (never a refusal)."
    )
    signin_concurrency: int = Field(
        2, ge=1, description="Argon2 verifications at once per hub process (each takes 64 MiB: this times 64 MiB of RAM)."
    )
    signin_busy_wait_seconds: float = Field(
        0.5, ge=0, description="How long a sign-in waits for an Argon2 slot before it is answered 503 with Retry-After."
    )
    audit_content_key: str = Field(
        "", description="Base64 of 32 bytes: encrypts look-up content in access records; empty: keys/audit-content.key."
    )
    audit_index_key: str = Field(
        "", description="Base64 of 32 bytes: keys the blind index of citizen IDs; empty: keys/audit-index.key."
    )
    audit_flush_seconds: float = Field(
        0.2, description="Access records are written in batches this often (a crash loses at most this much)."
    )
    # Access records while the database is down (hub/audit/log.py, hub/audit/spill.py, docs/AUDIT.md).
    audit_spill_dir: str = Field(
        "", description="Folder (mode 0700) where records of admitted callers and people's requests are spilled, "
                        "fsynced, while the database cannot take them, then replayed; empty: var/audit-spill."
    )
    audit_buffer_records: int = Field(
        200_000, description="Anonymous access records (no admitted caller: unknown keys, no credential) held in "
                             "memory while the database is down; beyond it the oldest are shed and counted."
    )
    audit_key_file: str = Field(
        "", description="Ed25519 private key (PKCS8 PEM) that signs audit checkpoints; empty: keys/audit-ed25519.pem."
    )
    audit_seal_interval: float = Field(2.0, description="Seconds between the sealer's passes (it runs in every worker).")
    audit_seal_grace_seconds: float = Field(
        1.0, description="Records younger than this are sealed at a later pass (others may still be committing)."
    )
    audit_checkpoint_records: int = Field(1000, description="Sign a checkpoint after at most this many new records...")
    audit_checkpoint_seconds: float = Field(60.0, description="...or this many seconds, when there is something new.")
    review_days: int = Field(90, description="Keys and accounts unused this many days are listed by the review.")
    vault_master_key: str = Field(
        "", description="Base64 of 32 bytes: the credential vault's master key; empty: keys/vault-master.key "
                        "(generated on first run in the sandbox profile only)."
    )
    # Result documents (hub/documents.py, docs/security/documents.md). The URL comes from a partner's
    # message, so the hub fetches only from allowed hosts whose every address is public or in an
    # allowed network. The two lists default to the sandbox's loopback in the sandbox profile and to
    # nothing in the production profile (see _document_defaults_by_profile).
    document_hosts: list[str] = Field(
        ["127.0.0.1", "localhost"],
        description="Hosts the hub may fetch result documents from (JSON list; exact names, or '.example.gov.vn' "
                    "for a domain and its subdomains). Default: 127.0.0.1 and localhost in the sandbox profile, "
                    "none in production.",
    )
    document_allowed_networks: CidrList = Field(
        ["127.0.0.0/8", "::1/128"],
        description="CIDR blocks a document host may resolve to although they are not public (loopback, private, "
                    "link-local...; JSON list). Default: loopback in the sandbox profile, none in production.",
    )
    document_max_bytes: int = Field(20_000_000, description="Largest result document the hub fetches.")
    document_timeout: float = Field(
        10.0, description="Seconds one document fetch may take in all: name look-up, connection, headers and body."
    )

    @model_validator(mode="after")
    def _document_defaults_by_profile(self) -> "Settings":
        # A default must not let production fetch from loopback: unless set explicitly, production
        # starts with no document host and no allowed network (nothing is fetched until configured).
        if self.profile == "production":
            for name in ("document_hosts", "document_allowed_networks"):
                if name not in self.model_fields_set:
                    setattr(self, name, [])
        return self

    # Detection rules over the access records (hub/alerts/rules.py, docs/AUDIT.md).
    alert_interval: float = Field(30.0, description="Seconds between detection passes in each worker process.")
    alert_auth_window_seconds: int = Field(
        60, description="Window of the auth_failures_ip and auth_failures_key rules, in seconds."
    )
    alert_auth_failures_ip: int = Field(
        20, description="Refused 401 answers to one client address within the window that raise auth_failures_ip."
    )
    alert_auth_failures_key: int = Field(
        10, description="Refused 401 answers for one key (revoked, expired, wrong address...) within the window that "
                        "raise auth_failures_key."
    )
    alert_timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone of office hours and of 'today' in the rules.")
    alert_office_hours: str = Field(
        "07:30-17:30", description="Office hours (HH:MM-HH:MM); look-ups outside them raise lookup_off_hours."
    )
    alert_office_days: list[int] = Field(
        [1, 2, 3, 4, 5], description="ISO weekdays with office hours (1 = Monday ... 7 = Sunday; JSON list)."
    )
    alert_history_days: int = Field(
        30, description="Days of history behind lookup_volume's daily average and new_address's known addresses."
    )
    alert_lookup_floor: int = Field(
        50, description="lookup_volume: a person's look-ups today must exceed this (and the factor times their average)."
    )
    alert_lookup_factor: float = Field(
        3.0, description="lookup_volume: look-ups today above this many times the person's daily average raise it."
    )
    alert_new_address_history: int = Field(
        10, description="new_address: successful calls a key must have made in the history days before an address "
                        "it never used counts as new (a new key's first addresses do not)."
    )
    alert_spike_factor: float = Field(
        10.0, description="traffic_spike: a key's requests in the last hour above this many times its hourly average "
                          "over 7 days raise it."
    )
    alert_spike_minimum: int = Field(
        1000, description="traffic_spike: the fewest requests in the last hour that can raise it."
    )

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

    # HTTP message signatures (hub/signatures, docs/SIGNATURES.md).
    signature_max_skew_seconds: int = Field(
        300, description="A partner's signature is accepted when its created time is within this many seconds of "
                         "the hub's clock; nonces are remembered for twice this."
    )
    signature_nonce_on_redis_down: Literal["local", "deny"] = Field(
        "local", description="When Redis is unreachable: local (each process remembers nonces itself) or deny "
                             "(refuse signed requests with 503)."
    )
    signing_publish_lead_seconds: int = Field(
        3600, description="After 'signing hub-keys rotate', the new hub key is published this long before it signs."
    )
    signing_signature_lifetime_seconds: int = Field(
        300, description="The hub's signatures expire this long after they are made; a retired hub key stays "
                         "published this long after its last use."
    )

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var_dir``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'lienthong.db'}"

    @property
    def effective_audit_spill_dir(self) -> Path:
        """The configured spill folder, or ``var_dir/audit-spill``."""
        return Path(self.audit_spill_dir) if self.audit_spill_dir else self.var_dir / "audit-spill"

    @property
    def effective_key_pepper(self) -> str:
        """The configured pepper, or ``keys_dir/api-key-pepper``: created if missing in the sandbox
        profile; in production the file must have been placed (:class:`MissingKey` otherwise)."""
        if self.key_pepper:
            return self.key_pepper
        return key_file(self, self.keys_dir / PEPPER_FILE, lambda: secrets.token_urlsafe(32).encode(),
                        "LIENTHONG_KEY_PEPPER").decode().strip()


PEPPER_FILE = "api-key-pepper"


class MissingKey(RuntimeError):
    """A key the production profile must be given is missing. Names the setting and the file, never a value."""


def key_file(settings: Settings, path: Path, make: Callable[[], bytes], setting: str) -> bytes:
    """The key stored at ``path`` (used when ``setting`` is empty).

    Sandbox profile: a development key, generated with ``make()`` on first use (:func:`generated_secret`).
    Production profile: never generated; a missing file raises :class:`MissingKey` naming both, so
    that replicas can only ever run on the key set the operator placed (docs/OPERATIONS.md).
    """
    if settings.profile == "production" and not path.exists():
        raise MissingKey(f"{setting} is empty and {path} does not exist: in production keys are never generated; "
                         f"create the key set once with 'lienthong keyset init' and share it with every replica "
                         f"(docs/OPERATIONS.md, 'Sharing the key set between replicas')")
    return generated_secret(path, make)


def generated_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    """The contents of ``path``, a development secret; created with ``make()`` (mode 0600, folder 0700) if missing.

    Atomic across processes: the first to create it wins and every process reads the same bytes.
    Production provides its secrets through settings or places the files itself (see keys/README.md).
    """
    from hub.private_files import DIR_MODE, FILE_MODE, open_private, private_dir, tighten

    if not path.exists():
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        with open_private(tmp, "wb") as fh:
            fh.write(make())
        try:
            os.link(tmp, path)  # atomic: the first process to create it wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    else:  # made by an older version, or by hand: no group or other access (best effort)
        tighten(path, FILE_MODE)
        tighten(path.parent, DIR_MODE)
    return path.read_bytes()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once from the environment."""
    return Settings()
