"""The partner seam: what a partner can be, and what the hub gives it. Connectors import only this module.

A partner is one folder under ``connectors/`` whose ``manifest`` module exports ``MANIFEST``, a
:class:`Manifest`. The hub loops over the manifests (``hub/plugins.py``) for everything a partner
brings, in the four shapes partners really have:

* **outbound delivery** (:class:`Connector`): the worker hands it canonical messages, queued,
  ordered per dossier and retried; it answers one :class:`Outcome` per message;
* **inbound** (:class:`InboundRoute`): a route the partner calls or pushes to; the handler turns what
  arrives into canonical messages through the intake path (:meth:`Inbound.submit`);
* **synchronous look-up** (:class:`Lookups`): request and answer within one call, never queued;
* **scheduled pull** (:class:`Job`): a feed or a catalogue read every few seconds, with a durable
  :class:`Cursor`.

Beside these, a manifest names its settings class (its own ``LIENTHONG_<CODE>_`` prefix, see
:func:`partner_settings`), its vault credentials, its problem types, its wire schemas, its CLI
commands, its simulator and its sandbox seed. Each partner gets a :class:`Context` from the hub:
its settings, its credentials, the hub's signer, its cursors. Nothing here imports a partner, and
this module imports nothing of the hub above the store, so every layer may use it. Connectors import
this module and the canonical messages (``hub.messages``), nothing else of the hub: what they need
of its machinery is re-exported here (``generated_secret`` and ``MissingKey`` for development keys,
``tables`` and ``reading`` for the rows a partner keeps, such as payments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ClassVar, Literal, Mapping, Protocol, Sequence, runtime_checkable

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.config import CidrList, MissingKey, generated_secret
from hub.messages.codes import DossierCode, Text
from hub.messages.lookups import (
    CitizenOut,
    CitizenQueryIn,
    CitizensOut,
    OfficerContext,
    VerifyIn,
    VerifyOut,
)
from hub.messages.models import MESSAGE_ADAPTER, DossierEnvelope, Envelope, Notice
from hub.messages.outcome import Outcome, OutcomeKind, in_order
from hub.store import tables
from hub.store.engine import reading

if TYPE_CHECKING:
    import httpx
    import typer
    from sqlalchemy import Engine

    from hub.config import Settings

__all__ = [
    "CidrList", "CitizenOut", "CitizenQueryIn", "CitizensOut", "Connector", "Context", "Cursor", "DocumentFailed",
    "DossierCode", "DossierEnvelope", "Envelope", "Inbound", "InboundRoute", "IntakeRule", "Job", "LookupFault",
    "LookupOperation", "LookupTimeout", "LookupUnavailable", "Lookups", "MESSAGE_ADAPTER", "Manifest", "Member",
    "MissingKey", "Notice", "OfficerContext", "Outcome", "OutcomeKind", "PartnerSettings", "Refused", "Reply",
    "SandboxInfo", "SandboxSeed", "SeedPartner", "Simulator", "Text", "Unavailable", "VerifyIn", "VerifyOut",
    "generated_secret", "hub_engine", "hub_settings", "in_order", "partner_context", "partner_settings", "reading",
    "provide_contexts", "tables",
]

def hub_settings() -> "Settings":
    """The process's hub settings (``LIENTHONG_*``)."""
    from hub.config import get_settings

    return get_settings()


def hub_engine() -> "Engine":
    """A new engine on the hub's database (``LIENTHONG_DATABASE_URL``) for a partner's own commands
    (:attr:`Manifest.commands`), which run without a :class:`Context`; the caller disposes of it."""
    from hub.store.engine import make_engine

    return make_engine(hub_settings().effective_database_url)


_context_provider: "Callable[[str], Context] | None" = None


def provide_contexts(provider: "Callable[[str], Context]") -> None:
    """Install the hub's maker of partner contexts (``hub.context`` does it when imported)."""
    global _context_provider
    _context_provider = provider


def partner_context(code: str) -> "Context":
    """Partner ``code``'s :class:`Context` under the process's settings, for a partner's own commands
    (``lienthong catalogue sync``), which need what a job has (``submit_many``, cursors, credentials)."""
    if _context_provider is None:
        raise RuntimeError("no partner contexts in this process (hub.context is not loaded)")
    return _context_provider(code)


# -- outbound delivery ---------------------------------------------------------------------------

@runtime_checkable
class Connector(Protocol):
    """A destination the worker delivers canonical messages to."""

    #: Most messages handed to one ``deliver`` call.
    max_batch: ClassVar[int]

    def deliver(self, messages: Sequence[Envelope]) -> list[Outcome]:
        """Deliver ``messages`` in the given order; one outcome per message, same order.

        Must not raise for partner errors: classify them. Messages of one dossier come in the order
        they must take effect; after a transient failure, send nothing later of the same call.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


# -- what the hub gives a partner ------------------------------------------------------------------


class PartnerSettings(BaseSettings):
    """Base of a partner's settings class; make one with :func:`partner_settings`."""

    model_config = SettingsConfigDict(extra="ignore")


def partner_settings(code: str) -> SettingsConfigDict:
    """The ``model_config`` of partner ``code``'s settings: environment prefix ``LIENTHONG_<CODE>_``."""
    return SettingsConfigDict(env_prefix=f"LIENTHONG_{code.upper()}_", extra="ignore")


class Cursor(Protocol):
    """A durable position in a partner's feed (kept in the hub's database, survives restarts)."""

    def get(self) -> str | None:
        """The last position saved, or None before the first."""
        ...

    def set(self, value: str, conn: Any = None) -> None:
        """Save ``value``; the next :meth:`get`, in any process, returns it. With ``conn`` (a
        connection of :meth:`Context.submit_many`'s ``then``), inside that transaction."""
        ...


class DocumentFailed(Exception):
    """A document could not be given to the partner (:meth:`Context.fetch_document`): ``reason`` is
    generic (never the remote server's status, headers or content); ``permanent`` when fetching
    again cannot help (a URL the hub may not fetch, a digest that does not match)."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


class Context(Protocol):
    """What the hub gives one partner: its settings, credentials, the hub's signer and its cursors."""

    code: str  #: the partner's code (its manifest's)
    settings: Any  #: this partner's settings (an instance of its manifest's settings class)
    hub: "Settings"  #: the hub's own settings (keys_dir, var_dir, max_body_bytes...), read only

    @property
    def engine(self) -> "Engine":
        """The hub's database (for a partner's own records, such as payments)."""
        ...

    def credential(self, name: str, fallback: str | None = None) -> str | None:
        """Vault credential ``<code>.<name>``, else ``fallback``. Raises what the vault raises."""
        ...

    def put_credential(self, name: str, value: str) -> None:
        """Set vault credential ``<code>.<name>`` (the sandbox's set-up; an admin action by ``sandbox``)."""
        ...

    def signer(self) -> "httpx.Auth":
        """The hub's RFC 9421 signer for outbound calls (its current key)."""
        ...

    def cursor(self, name: str) -> Cursor:
        """The partner's durable cursor ``name``."""
        ...

    def submit(self, message: dict[str, Any], *, types: Sequence[str]) -> str:
        """Accept ``message`` from this partner outside a request (a scheduled pull's events): validated,
        routed, stored with its deliveries. ``created``, ``duplicate`` or ``conflict``; raises
        :class:`Refused` or :class:`Unavailable`."""
        ...

    def submit_many(self, messages: Sequence[dict[str, Any]], *, types: Sequence[str],
                    then: Callable[[Any, list[str]], None] | None = None) -> list[str]:
        """:meth:`submit` for a batch, stored in one transaction: one verdict per message, in order
        (``created``, ``duplicate`` or ``conflict``). ``then(conn, verdicts)`` writes the partner's own
        rows (``tables``) and its cursor (``cursor.set(value, conn)``) in that same transaction: all or
        nothing. A message the canonical model refuses raises :class:`Refused` naming its index, and
        nothing of the batch is stored."""
        ...

    def admin_action(self, conn: Any, actor: str, action: str, target: str, before: Any = None, after: Any = None,
                     client_ip: str = "") -> None:
        """Record an admin's change of this partner's data in ``conn``'s transaction (the change's own),
        as the hub records its own admin actions (``before``/``after`` free of secrets)."""
        ...

    def member(self, code: str) -> "Context":
        """The context of ``code``, one of this partner's members (:class:`Member`); LookupError otherwise."""
        ...

    def alert(self, rule: str, subject: str, detail: str, *, at: Any = None, severity: str = "warning") -> bool:
        """Raise (or refresh) the alert ``<code>.<rule>`` about ``subject`` (e.g. ``procedure:1.001234``),
        listed to security officers with the hub's own alerts and, while open, on the operators'
        overview (partners' alerts); one open alert per rule and
        subject, newer evidence (``at``, aware datetime, default now) updating it. True when newly opened.
        ``detail`` must hold no secret and no citizen ID."""
        ...

    def fetch_document(self, url: str, sha256: str) -> bytes:
        """The document at ``url`` whose SHA-256 is ``sha256``, fetched with the safeguards of result
        documents (``LIENTHONG_DOCUMENT_*``: allowed hosts and addresses, no redirects, one time budget,
        a size limit, the digest checked before the bytes are returned). Raises :class:`DocumentFailed`."""
        ...


# -- inbound -------------------------------------------------------------------------------------


class Refused(Exception):
    """The hub refused what an inbound handler submitted: ``slug`` is the problem type (``validation``,
    ``no-route``, ``conflict``...), ``detail`` says why; ``field`` and ``rule``, when given, name the
    field and the rule (an :class:`IntakeRule`'s refusal names both)."""

    def __init__(self, slug: str, detail: str, *, field: str = "", rule: str = "") -> None:
        super().__init__(detail)
        self.slug, self.detail, self.field, self.rule = slug, detail, field, rule


class Unavailable(Exception):
    """The hub cannot take it now (its store is down): the partner should send again."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An inbound handler's answer, in the partner's own format."""

    status: int
    body: Any = None  #: JSON-serialisable, or bytes with ``media_type``
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class Inbound(Protocol):
    """One inbound call, as the hub gives it to the partner's handler (after the route's access rule)."""

    ctx: Context
    client_ip: str
    headers: Mapping[str, str]
    partner_code: str | None  #: the admitted key's partner; None on a public route or for a person
    actor: str  #: who calls, for records: ``person:<account>``, ``key:<id>@<partner>`` or ``anonymous``
    query: Mapping[str, str]  #: the query string's parameters (the last of a repeated one)
    path_params: Mapping[str, str]  #: the route path's ``{parameters}``
    base_url: str  #: the hub's address as this call reached it (``https://host[:port]``, no trailing slash)

    async def body(self, max_bytes: int | None = None) -> bytes:
        """The body, read once under ``max_bytes`` (default: the route's). Raises :class:`Refused`
        (``body-too-large``, ``unsupported-media-type``)."""
        ...

    async def submit(self, message: dict[str, Any], *, source: str, types: Sequence[str]) -> str:
        """Accept ``message`` from partner ``source`` (which may send only ``types``) through the
        intake path: validated, routed, stored with its deliveries. On a keyed route ``source`` must be
        the key's partner, on a public one the route's own partner. Returns ``created``,
        ``duplicate`` or ``conflict``; raises :class:`Refused` or :class:`Unavailable`."""
        ...

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker thread (database or other blocking calls)."""
        ...

    async def throttle(self, name: str, per_minute: int) -> None:
        """Charge this call to the client address's bucket ``name`` (``[a-z0-9-]``; per partner: two
        partners' buckets of one name are apart) allowing ``per_minute`` calls a minute, with the hub's
        own rate limiter (shared by every process through Redis). IPv6 addresses share a bucket per
        /64. Over the limit raises :class:`Refused` (``rate-limited``; the answer carries Retry-After
        and the RateLimit fields). A no-op when the hub's rate limits are off or ``per_minute`` < 1."""
        ...

    def note(self, outcome: str, summary: str = "") -> None:
        """What the access record of this call says: its outcome and a one-line summary."""
        ...

    def conceal(self, secret: str) -> None:
        """Keep ``secret`` (a secret segment of the path) out of the access record: written as ``***``."""
        ...


@dataclass(frozen=True)
class InboundRoute:
    """A route the partner calls or pushes to. ``route_class`` None: public (no credential; the handler
    checks its own proof, such as a checksum); a partner route class (``intake``, ``read``, ``ops``):
    a partner key scoped to it, and people with ``roles``; any other class (``admin``): people with
    ``roles`` only.
    ``body``: ``raw`` (read and size-limited before the handler), ``json`` (also checked to be UTF-8
    JSON before the handler: bad bytes are a 400 naming the rule; :meth:`Inbound.body` gives the
    bytes), ``callback`` (the handler reads it
    with :meth:`Inbound.body`, to answer refusals in its own format). ``openapi``: extra OpenAPI of the
    operation (``responses``, ``requestBody``...); ``own_errors``: refusals are in the partner's
    format, not problem+json."""

    method: str
    path: str
    handler: Callable[[Inbound], Awaitable[Reply]]
    summary: str
    route_class: str | None = None
    roles: tuple[str, ...] = ()  #: people with these roles may call too; a route class "admin" admits only them
    body: Literal["raw", "json", "callback", "none"] = "raw"
    max_bytes: int | None = 64 * 1024
    tag: str = "partners"
    openapi: Mapping[str, Any] = field(default_factory=dict)
    own_errors: bool = False


@dataclass(frozen=True)
class IntakeRule:
    """A partner's rule on what the hub accepts, beyond the canonical model: ``check(ctx, message)`` is
    called for each message of ``types`` (already valid, its source checked, routed) before it is
    stored, at the edge and in :meth:`Context.submit`. It raises :class:`Refused` (``slug`` a problem
    type of the hub's or the partner's ``problems``, ``rule`` its own name) or returns. It runs in the
    request's event loop: keep it quick (a cached view, one indexed query)."""

    name: str
    types: frozenset[str]
    check: Callable[[Context, Any], None]


# -- synchronous look-up -------------------------------------------------------------------------


class LookupTimeout(Exception):
    """The partner did not answer in time."""


class LookupUnavailable(Exception):
    """The partner cannot be reached (or its answer could not be trusted)."""


class LookupFault(Exception):
    """The partner refused or failed the look-up; ``code`` is its fault code (may be shown if plain)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class LookupOperation:
    """One look-up: ``POST <prefix>/<name>`` with ``request`` (a :class:`CitizenQueryIn`: officer,
    purpose, dossier, ID), answered with ``answer``. ``ask(client, query, request_id)`` runs in a
    look-up thread and returns the answer as a dict; it raises the Lookup* errors."""

    name: str
    request: type[CitizenQueryIn]
    answer: type[BaseModel]
    ask: Callable[[Any, CitizenQueryIn, str], dict[str, Any]]
    summary: str
    description: str = ""


@dataclass(frozen=True)
class Lookups:
    """A partner's synchronous look-ups. ``client(ctx)`` builds the process's client once (it has
    ``close()``); ``concurrency(ctx)`` bounds the calls in flight; ``problems`` names the problem
    type of each failure (``timeout``, ``fault``, ``unavailable``)."""

    prefix: str
    operations: tuple[LookupOperation, ...]
    client: Callable[[Context], Any]
    problems: Mapping[Literal["timeout", "fault", "unavailable"], str]
    concurrency: Callable[[Context], int] = lambda ctx: 8
    tag: str = "lookups"
    called: str = "the partner"  #: how problems name it ("the population database did not answer in time")


# -- scheduled pull ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A scheduled pull: ``run(ctx)`` every ``every(ctx)`` seconds in the workers, one run at a time
    across every worker process. It keeps its place with ``ctx.cursor(...)``."""

    name: str
    run: Callable[[Context], None]
    every: Callable[[Context], float]


# -- simulator and sandbox -------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxInfo:
    """What the sandbox tells a simulator and a seed: where the API is, the environment every part
    runs with, and the partner's context."""

    api_url: str
    env: Mapping[str, str]
    ctx: Context

    def flag(self, name: str) -> bool:
        """The environment variable ``name`` read as a boolean setting (``true``, ``1``, ``yes``...)."""
        return self.env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Simulator:
    """The partner's simulator: ``lienthong simulator <name>`` runs ``command`` (a typer command
    function taking at least ``host`` and ``port``). In the sandbox it listens on ``port`` (or a
    free one); ``hub_env(url)`` gives the settings that point the hub at it, ``args(info)`` its
    extra command-line options, ``env(info)`` its environment (a secret it shares with the hub). ``state`` is its read-only state page."""

    name: str
    command: Callable[..., None]
    port: int
    hub_env: Callable[[str], dict[str, str]]
    args: Callable[[SandboxInfo], list[str]] = lambda info: []
    env: Callable[[SandboxInfo], dict[str, str]] = lambda info: {}  #: its own environment (secrets it shares)
    state: str = "/_sim/state"
    title: str = ""


@dataclass(frozen=True)
class SeedPartner:
    """A partner row the sandbox registers; ``scopes`` of its API key (None: the default scopes;
    ``keyless``: it calls without a key, e.g. proved by a checksum)."""

    code: str
    name: str
    kind: str
    agency_id: str | None = None
    scopes: Mapping[str, Any] | None = None
    keyless: bool = False


@dataclass(frozen=True)
class SandboxSeed:
    """What the sandbox province holds of this partner: its rows and keys, the environment it sets
    (only where the operator did not), a one-time ``setup(ctx)`` (secrets, officers) and ``demo``
    traffic run in a thread (``demo(info, keys)``, keys: partner code -> sandbox API key). ``officers``
    are registered for the first partner (who may look citizens up, hub/citizens/)."""

    partners: tuple[SeedPartner, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    officers: tuple[tuple[str, str, str, str, str], ...] = ()  #: (MaCanBo, name, agency, unit, tier) of the first partner
    banner: str = ""  #: what ``make run`` prints about it ({api}, {keys_file} are filled in)
    setup: Callable[[Context], None] | None = None
    demo: Callable[[SandboxInfo, Mapping[str, str]], None] | None = None


# -- members: destinations a partner's configuration names -----------------------------------------


@dataclass(frozen=True, eq=False)
class Member:
    """A destination and partner that a manifest's configuration names, beyond the manifest itself: one
    ministry system per adapter file. The hub asks :attr:`Manifest.members` again whenever it routes,
    so a member added, changed or removed in the configuration needs no restart. A member has a
    :class:`Context` of its own (``code`` is the member's: its credentials ``<code>.<what>``, its
    cursors, ``submit`` as the member), with the settings of its manifest.

    ``routes``: routing rules in ``hub/routes.yaml``'s format (``to`` defaults to the member), added
    after the table's own; ``connector(ctx)``: its outbound connector, built with the member's context."""

    code: str
    name: str
    kind: str
    accepts: frozenset[str]
    connector: Callable[[Context], Connector] | None = None
    routes: tuple[Mapping[str, Any], ...] = ()


# -- the manifest --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per partner per process
class Manifest:
    """Everything the hub needs to know about one partner. ``code`` names it everywhere: folder,
    settings prefix, vault names (``<code>.<what>``), destination, partner row and schemas folder.

    ``connector(ctx)`` builds its outbound connector (None: it takes nothing from the queue) for
    ``accepts``; ``credentials`` maps vault names (without the ``<code>.`` prefix) to a description
    and the settings field holding the sandbox's fallback (or ""); ``problems``: problem type slug ->
    (HTTP status, title); ``schemas()``: path under ``schemas/`` -> generated JSON Schema (checked
    for drift); ``safety(ctx)``: reasons the production profile must refuse to start; ``health(ctx)``:
    a named state shown by ``/healthz`` (informative); ``secret_settings``: settings fields that
    hold secrets (refused in production when left at a sandbox value); ``networks``: settings fields
    holding CIDR lists of callers, which production requires set explicitly and not too wide.
    """

    code: str
    name: str
    kind: str
    settings: type[PartnerSettings]
    accepts: frozenset[str] = frozenset()
    connector: Callable[[Context], Connector] | None = None
    credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    problems: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    routes: tuple[InboundRoute, ...] = ()
    lookups: Lookups | None = None
    jobs: tuple[Job, ...] = ()
    schemas: Callable[[], dict[str, dict[str, Any]]] | None = None
    commands: Callable[[], "typer.Typer"] | None = None
    simulator: Simulator | None = None
    seed: SandboxSeed = field(default_factory=SandboxSeed)
    safety: Callable[[Context], list[str]] | None = None
    health: Callable[[Context], str] | None = None
    secret_settings: tuple[str, ...] = ()
    networks: Mapping[str, str] = field(default_factory=dict)  #: settings field (CIDR list) -> who it admits
    start: Callable[[Context], None] | None = None  #: once per API process at start-up (e.g. warn of a missing secret)
    #: ``lienthong <command_name> ...`` for ``commands`` (default: the code, with dashes); None: its
    #: commands and groups are the CLI's own (``lienthong catalogue sync``)
    command_name: str | None = ""
    members: Callable[[Context], Sequence[Member]] | None = None  #: destinations its configuration names (:class:`Member`)
    intake_rules: tuple[IntakeRule, ...] = ()  #: what it refuses at intake beyond the canonical model (:class:`IntakeRule`)
