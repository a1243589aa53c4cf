"""Start-up safety: in the production profile the hub refuses to start, naming every reason, with
settings that would be unsafe; in every profile a process whose keys differ from the hub's refuses.

Every serving or working process (``create_app``, ``lienthong api``, ``lienthong worker``) calls
:func:`check_startup` before it serves or works. Rules (docs/security/production.md):

- keys are provided, never generated: the pepper, the vault master key, the audit content, index and
  checkpoint keys and the hub signing ring come from their settings or from files in an explicitly
  configured ``LIENTHONG_KEYS_DIR`` (the checkout's ``keys/`` holds development keys);
- no built-in sandbox secret: no secret-bearing setting, key file or vault credential equals a
  value this repository ships (the embedded defaults, the simulators' secrets, placeholders);
- networks are configured, not defaulted: ``LIENTHONG_PEOPLE_ALLOWED_IPS``,
  ``LIENTHONG_NATIONAL_PAYMENT_CALLBACK_NETWORKS`` and ``LIENTHONG_TRUSTED_PROXIES`` must be set by the
  operator ("explicit" = the field is in pydantic's ``model_fields_set``: set in the environment or
  passed in). People and callback networks may not admit loopback, link-local, unspecified or
  multicast addresses, nor a whole private block or wider (a narrower private subnet, e.g. the
  office LAN, is fine when named); trusted proxies may be loopback (a proxy on the same host) but
  not a whole private block or wider;
- result documents are not fetched from loopback (:func:`_document_reasons`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hub.config import PEPPER_FILE, ROOT, MissingKey, Settings

log = logging.getLogger(__name__)

#: The hub's secret-bearing settings: none may equal its embedded default or a known sandbox value in
#: production. Each partner names its own in its manifest (``secret_settings``).
SECRET_SETTINGS = ("key_pepper", "vault_master_key", "audit_content_key", "audit_index_key")
#: Values this repository ships for the sandbox, the simulators, the tests and the examples.
KNOWN_SANDBOX_VALUES = frozenset({
    "sandbox-password", "sandbox-payment-secret", "sandbox-population-secret", "change-me", "changeme",
    "test-pepper", "password", "secret",
})
MIN_PEPPER = 32
#: The whole private blocks: naming one (or anything wider) admits every host of a data-centre network.
PRIVATE_BLOCKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                         "100.64.0.0/10", "fc00::/7"))


class StartRefused(RuntimeError):
    """The process refuses to start; ``reasons`` lists every reason (never a secret value)."""

    def __init__(self, headline: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(headline + "\n" + "\n".join(f"  - {r}" for r in reasons))


class UnsafeSettings(StartRefused):
    """Production settings that would be unsafe."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"the hub refuses to start in the production profile ({len(reasons)} reason"
                         f"{'s' if len(reasons) != 1 else ''}; docs/OPERATIONS.md, 'Production profile'):", reasons)


def _env(field: str) -> str:
    return f"LIENTHONG_{field.upper()}"


def _secret_fields(settings: Settings) -> list[tuple[Any, str, str]]:
    """(settings object, field, environment variable) of every secret-bearing setting: the hub's and
    each partner's."""
    from hub.context import context
    from hub.plugins import manifests

    found: list[tuple[Any, str, str]] = [(settings, name, _env(name)) for name in SECRET_SETTINGS]
    for m in manifests():
        ctx = context(m.code, settings)
        found += [(ctx.settings, name, f"LIENTHONG_{m.code.upper()}_{name.upper()}") for name in m.secret_settings]
    return found


def _sandbox_values(settings: Settings) -> set[str]:
    """The known sandbox values plus every non-empty embedded default of a secret-bearing setting."""
    values = set(KNOWN_SANDBOX_VALUES)
    for obj, name, _ in _secret_fields(settings):
        field = type(obj).model_fields.get(name)
        if field is not None and isinstance(field.default, str) and field.default:
            values.add(field.default)
    return values


# -- keys ------------------------------------------------------------------------------------------

def _key_reasons(settings: Settings, sandbox: set[str]) -> list[str]:
    from hub.audit.crypto import CONTENT_FILE, INDEX_FILE
    from hub.audit.keys import key_path
    from hub.vault.envelope import MASTER_FILE, parse_master

    reasons = []
    explicit_dir = "keys_dir" in settings.model_fields_set and settings.keys_dir.resolve() != (ROOT / "keys").resolve()
    if not explicit_dir:
        reasons.append("LIENTHONG_KEYS_DIR is not set to the operator's key folder: the checkout's keys/ holds "
                       "development keys, generated on first run (create a key set with 'lienthong keyset init DIR')")
    folder = settings.keys_dir

    def from_file(what: str, setting: str, path: Path) -> bytes | None:
        if not explicit_dir and not (setting == "LIENTHONG_AUDIT_KEY_FILE" and settings.audit_key_file):
            reasons.append(f"{what} is missing: {setting} is empty and no key folder is configured")
            return None
        if not path.is_file():
            reasons.append(f"{what} is missing: {setting} is empty and {path} does not exist (in production keys are "
                           f"never generated)")
            return None
        data = path.read_bytes()
        if data.strip().decode("utf-8", "replace") in sandbox:
            reasons.append(f"{what} in {path} is a built-in sandbox value")
        return data

    pepper = settings.key_pepper
    if not pepper:
        raw = from_file("the API-key pepper", "LIENTHONG_KEY_PEPPER", folder / PEPPER_FILE)
        pepper = raw.decode("utf-8", "replace").strip() if raw is not None else ""
    if pepper and len(pepper) < MIN_PEPPER:
        reasons.append(f"the API-key pepper is shorter than {MIN_PEPPER} characters (a weak pepper lets a stolen "
                       f"database test guessed keys)")
    for what, setting, value, path, check in (
        ("the vault master key", "LIENTHONG_VAULT_MASTER_KEY", settings.vault_master_key, folder / MASTER_FILE, True),
        ("the audit content key", "LIENTHONG_AUDIT_CONTENT_KEY", settings.audit_content_key, folder / CONTENT_FILE, True),
        ("the audit index key", "LIENTHONG_AUDIT_INDEX_KEY", settings.audit_index_key, folder / INDEX_FILE, True),
        ("the audit checkpoint key", "LIENTHONG_AUDIT_KEY_FILE", "", key_path(settings), False),
    ):
        raw = value.encode() if value else from_file(what, setting, path)
        if raw is not None and check:
            try:
                parse_master(raw, setting if value else str(path))
            except ValueError:
                reasons.append(f"{what} from {setting if value else path} is not base64 of 32 bytes")
    ring = folder / "hub-signing" / "ring.json"
    if not explicit_dir:
        reasons.append("the hub signing key ring is missing: no key folder is configured")
    elif not ring.is_file():
        reasons.append(f"the hub signing key ring is missing: {ring} does not exist (in production keys are never "
                       f"generated)")
    return reasons


def _partner_reasons(settings: Settings) -> list[str]:
    """What each partner's manifest says is unsafe in production (its ``safety`` check)."""
    from hub.context import context
    from hub.plugins import manifests

    return [reason for m in manifests() if m.safety is not None for reason in m.safety(context(m.code, settings))]


def _secret_reasons(settings: Settings, sandbox: set[str]) -> list[str]:
    reasons = []
    for obj, name, env in _secret_fields(settings):
        value = getattr(obj, name, None)
        if isinstance(value, str) and value and value in sandbox:
            reasons.append(f"{env} is a built-in sandbox secret; put the real value in the vault "
                           f"('lienthong credentials set ...') or the setting, never a shipped one")
    if settings.database_url:
        try:
            password = make_url(settings.database_url).password
        except Exception:  # noqa: BLE001 - a malformed URL is the engine's error to report
            password = None
        if password and str(password) in sandbox:
            reasons.append("LIENTHONG_DATABASE_URL carries a built-in sandbox password")
    return reasons


# -- networks --------------------------------------------------------------------------------------

def _network_reasons(settings: Settings) -> list[str]:
    from hub.context import context
    from hub.plugins import manifests

    reasons: list[str] = []
    checks: list[tuple[Any, str, str, str, bool]] = [
        (settings, "people_allowed_ips", _env("people_allowed_ips"), "people (admin, operator, auditor)", False),
        (settings, "trusted_proxies", _env("trusted_proxies"), "trusted proxies", True)]
    for m in manifests():
        partner = context(m.code, settings).settings
        checks += [(partner, field, f"LIENTHONG_{m.code.upper()}_{field.upper()}", who, False)
                   for field, who in m.networks.items()]
    for obj, field, env, who, allow_loopback in checks:
        if field not in obj.model_fields_set:
            reasons.append(f"{env} is not set: in production the networks of {who} are configured "
                           f"explicitly (JSON list of CIDR blocks{'; [] for no proxy' if allow_loopback else ''}), "
                           f"never defaulted")
            continue
        for entry in getattr(obj, field):
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                reasons.append(f"{env}: {entry!r} is not a CIDR block")
                continue
            why = _too_open(net, allow_loopback)
            if why:
                reasons.append(f"{env}: {entry} admits {why}")
    return reasons


def _too_open(net: ipaddress.IPv4Network | ipaddress.IPv6Network, allow_loopback: bool) -> str:
    if net.prefixlen == 0:
        return "every address"
    if not allow_loopback and net.overlaps(ipaddress.ip_network("127.0.0.0/8" if net.version == 4 else "::1/128")):
        return "loopback (behind a proxy on the same host that is everyone)"
    if net.version == 6 and net.overlaps(ipaddress.ip_network("::ffff:0:0/96")):
        return "IPv4-mapped addresses (loopback and private ranges among them)"
    if net.network_address.is_link_local or net.network_address.is_unspecified or net.network_address.is_multicast:
        return "link-local, unspecified or multicast addresses"
    for block in PRIVATE_BLOCKS:
        # typeshed: supernet_of takes a network of its own version, which the version check ensures (mypy can't see it)
        if net.version == block.version and (net == block or net.supernet_of(block)):  # type: ignore[arg-type]
            return f"the whole private block {block} (name the subnet you mean)"
    return ""


# -- documents -------------------------------------------------------------------------------------

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def _document_reasons(settings: Settings) -> list[str]:
    """Reasons the result-document allowlist is unsafe: loopback or link-local hosts or networks
    (``hub.documents.unsafe_document_settings``, which also judges the allowed networks)."""
    from hub.documents import unsafe_document_settings

    return unsafe_document_settings(settings)


# -- the checks ------------------------------------------------------------------------------------

def production_problems(settings: Settings) -> list[str]:
    """Every reason ``settings`` are unsafe for production (empty: safe). Reads key files, never prints them."""
    sandbox = _sandbox_values(settings)
    return (_key_reasons(settings, sandbox) + _secret_reasons(settings, sandbox) + _network_reasons(settings)
            + _document_reasons(settings) + _partner_reasons(settings))


def _vault_reasons(settings: Settings, engine: Engine) -> list[str]:
    """Vault credentials (the sandbox seeds them) that hold a built-in sandbox value."""
    from hub.plugins import manifests
    from hub.vault.envelope import VaultError
    from hub.vault.store import Vault

    sandbox, vault, reasons = _sandbox_values(settings), Vault(engine, settings), []
    secret = [f"{m.code}.{what}" for m in manifests() for what, (_, field) in m.credentials.items()
              if field in m.secret_settings or what in m.secret_settings]  # not the ids and codes
    for name in secret:
        try:
            value = vault.get(name)
        except VaultError as exc:
            reasons.append(f"vault credential {name}: {exc}")
            continue
        if value is not None and value in sandbox:
            reasons.append(f"vault credential {name} holds a built-in sandbox value; set the real one with "
                           f"'lienthong credentials set {name}'")
    return reasons


def process_name(role: str) -> str:
    """Who a process is, for ``key_fingerprints.first_by``: role, host and pid."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


def check_startup(settings: Settings, engine: Engine, role: str) -> None:
    """Run before serving or working. Production: :class:`UnsafeSettings` with every reason; then, in
    every profile, the key set's fingerprints are recorded or compared (:class:`KeysDiffer`)."""
    from hub.keyset import fingerprints
    from hub.store.fingerprints import record_or_compare
    from hub.store.tables import key_fingerprints

    production = settings.profile == "production"
    if production:
        reasons = production_problems(settings)
        if reasons:
            raise UnsafeSettings(reasons)
    try:
        migrated = inspect(engine).has_table(key_fingerprints.name)
    except SQLAlchemyError as exc:
        if production:
            raise StartRefused("the hub cannot check its key set against the database:",
                               [f"database unreachable ({type(exc).__name__})"]) from None
        log.warning("key set not checked: database unreachable (%s)", type(exc).__name__)
        return
    if not migrated:
        if production:
            raise StartRefused("the hub cannot check its key set against the database:",
                               ["table key_fingerprints is missing: run 'lienthong db upgrade'"])
        log.warning("key set not checked: the database is not migrated (lienthong db upgrade)")
        return
    try:
        found = fingerprints(settings)
    except MissingKey as exc:
        raise StartRefused("a key is missing:", [str(exc)]) from None
    record_or_compare(engine, found, process_name(role))
    if production:
        reasons = _vault_reasons(settings, engine)
        if reasons:
            raise UnsafeSettings(reasons)


def check_or_exit(settings: Settings, role: str) -> None:
    """:func:`check_startup` for the command line: on refusal, print every reason and exit 2."""
    from hub.runtime import engine_for
    from hub.store.fingerprints import KeysDiffer

    engine = engine_for(settings)
    try:
        check_startup(settings, engine, role)
    except (StartRefused, KeysDiffer) as exc:
        print(f"lienthong {role}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        engine.dispose()
