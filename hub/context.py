"""What the hub gives each partner (:class:`hub.seam.Context`): its settings, credentials, signer, cursors."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Callable, Sequence

import httpx
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hub.config import Settings, get_settings
from hub.plugins import destinations, manifest, manifests
from hub.plugins import partner_settings as plugin_settings
from hub.routing import RoutingTable, routes_for
from hub.seam import Connector, DocumentFailed, IntakeRule, Manifest, Member, Refused, Unavailable, provide_contexts
from hub.store.engine import reading
from hub.store.tables import partner_cursors

MAX_CURSOR = 400
_lock = threading.Lock()
_contexts: dict[tuple[int, str], "PartnerContext"] = {}


class DbCursor:
    """A cursor row in ``partner_cursors``."""

    def __init__(self, engine: Engine, partner: str, name: str) -> None:
        self.engine, self.partner, self.name = engine, partner, name

    def get(self) -> str | None:
        with reading(self.engine) as conn:
            return conn.execute(select(partner_cursors.c.value).where(
                partner_cursors.c.partner_code == self.partner, partner_cursors.c.name == self.name)).scalar()

    def set(self, value: str, conn: Connection | None = None) -> None:
        if len(value) > MAX_CURSOR:
            raise ValueError(f"a cursor holds at most {MAX_CURSOR} characters")
        now = datetime.now(timezone.utc)
        where = (partner_cursors.c.partner_code == self.partner, partner_cursors.c.name == self.name)
        if conn is not None:  # inside the caller's transaction (one job runs at a time: no racing insert)
            if not conn.execute(update(partner_cursors).where(*where).values(value=value, updated_at=now)).rowcount:
                conn.execute(partner_cursors.insert().values(partner_code=self.partner, name=self.name, value=value,
                                                             updated_at=now))
            return
        with self.engine.begin() as conn:
            if conn.execute(update(partner_cursors).where(*where).values(value=value, updated_at=now)).rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(partner_cursors.insert().values(partner_code=self.partner, name=self.name, value=value,
                                                             updated_at=now))
        except IntegrityError:  # another process created it meanwhile: ours is the later value
            with self.engine.begin() as conn:
                conn.execute(update(partner_cursors).where(*where).values(value=value, updated_at=now))


class PartnerContext:
    """One partner's :class:`~hub.seam.Context` under the hub's ``settings``. Its own settings are
    ``partner_settings`` if given, else read from the environment (``LIENTHONG_<PARTNER>_*``) with the
    hub's ``LIENTHONG_PARTNER_SETTINGS`` entry for it over them."""

    def __init__(self, m: Manifest, settings: Settings, partner_settings: Any = None, engine: Engine | None = None,
                 code: str | None = None) -> None:
        self.manifest = m
        self.code = code or m.code  # a member's own code (hub.seam.Member), with its manifest's settings
        self.hub = settings
        self.settings = partner_settings if partner_settings is not None else plugin_settings(m.code, settings)
        self._engine = engine

    @cached_property
    def engine(self) -> Engine:
        if self._engine is None:
            from hub.runtime import engine_for

            self._engine = engine_for(self.hub)
        return self._engine

    def credential(self, name: str, fallback: str | None = None) -> str | None:
        from hub.vault.store import credential

        return credential(self.hub, f"{self.code}.{name}", fallback)

    def put_credential(self, name: str, value: str) -> None:
        from hub.vault.store import Vault

        Vault(self.engine, self.hub).put(f"{self.code}.{name}", value, actor="sandbox")

    def signer(self) -> httpx.Auth:
        from hub.signatures.signer import hub_signer

        return hub_signer(self.hub)

    def cursor(self, name: str) -> DbCursor:
        return DbCursor(self.engine, self.code, name)

    def submit(self, message: dict[str, Any], *, types: Sequence[str]) -> str:
        """Accept ``message`` from this partner outside a request (a scheduled pull): validated, routed and
        stored with its deliveries, as the edge does; the relay hands them to the workers."""
        return self.submit_many([message], types=types)[0]

    def submit_many(self, messages: Sequence[dict[str, Any]], *, types: Sequence[str],
                    then: Callable[[Connection, list[str]], None] | None = None) -> list[str]:
        """:meth:`submit` for a batch, in one transaction; ``then(conn, verdicts)`` writes the partner's
        own rows (and its cursor) in that same transaction."""
        from pydantic import ValidationError

        from hub.messages.models import MESSAGE_ADAPTER
        from hub.store.intake import IntakeResult, Prepared, StoreUnavailable, accept

        table = routing_table(self.hub)
        prepared: list[Prepared] = []
        for index, message in enumerate(messages):
            try:
                msg = MESSAGE_ADAPTER.validate_python(message)
            except ValidationError as exc:
                raise Refused("validation", f"message {index}: "
                              f"{str(exc.errors(include_url=False, include_input=False))[:500]}") from None
            if msg.source != self.code or msg.type not in types:
                raise Refused("forbidden", f"{self.code} may send only {', '.join(types)} as itself")
            canonical = msg.model_dump(mode="json")
            destinations = table.destinations(msg.type, msg.source, canonical)
            if not destinations:
                raise Refused("no-route", f"no route for type {msg.type!r} from {msg.source!r}")
            intake_rules(self.hub).check(msg)  # raises the rule's Refused
            prepared.append(Prepared.of(msg, canonical, destinations))

        def also(conn: Connection, results: list[IntakeResult]) -> None:
            if then is not None:
                then(conn, [r.verdict for r in results])

        try:
            results = accept(self.engine, prepared, then=also) if prepared else []
            if not prepared and then is not None:
                with self.engine.begin() as conn:
                    then(conn, [])
        except (StoreUnavailable, SQLAlchemyError) as exc:
            raise Unavailable(type(exc).__name__) from None
        return [r.verdict for r in results]

    def admin_action(self, conn: Any, actor: str, action: str, target: str, before: Any = None, after: Any = None,
                     client_ip: str = "") -> None:
        from hub.access.actions import record

        record(conn, actor, action, target, before, after, client_ip)

    def member(self, code: str) -> "PartnerContext":
        found = members(self.hub).get(code)
        if found is None or found[0] is not self.manifest:
            raise LookupError(f"{code!r} is not a member of {self.manifest.code!r}")
        return context(code, self.hub)

    def alert(self, rule: str, subject: str, detail: str, *, at: Any = None, severity: str = "warning") -> bool:
        from hub.alerts.rules import Finding
        from hub.alerts.store import raise_findings

        when = at if isinstance(at, datetime) else datetime.now(timezone.utc)
        opened = raise_findings(self.engine, [Finding(f"{self.code}.{rule}"[:40], subject[:120], severity, detail, when)])
        return bool(opened)

    def fetch_document(self, url: str, sha256: str) -> bytes:
        from hub.documents import DigestMismatch, DocumentRefused, DocumentUnavailable, fetch_verified

        try:
            return fetch_verified(url, sha256, settings=self.hub).content
        except (DocumentRefused, DigestMismatch) as exc:
            raise DocumentFailed(str(exc), permanent=True) from None
        except DocumentUnavailable as exc:
            raise DocumentFailed(str(exc), permanent=False) from None


MEMBERS_SECONDS = 0.5  # how long the members found are used before the manifests are asked again
_members: dict[int, tuple[float, Settings, dict[str, tuple[Manifest, Member]]]] = {}


def members(settings: Settings | None = None) -> dict[str, tuple[Manifest, Member]]:
    """Every member (``hub.seam.Member``) of every manifest that has some, by code, with its manifest.
    The manifests are asked again after MEMBERS_SECONDS (they answer from their own configuration,
    which they read again when it changes): the intake routes every message with them."""
    settings = settings or get_settings()
    now = time.monotonic()
    cached = _members.get(id(settings))
    if cached is not None and cached[0] > now and cached[1] is settings:
        return cached[2]
    found: dict[str, tuple[Manifest, Member]] = {}
    for m in manifests():
        if m.members is not None:
            for member in m.members(context(m.code, settings)):
                found.setdefault(member.code, (m, member))
    _members[id(settings)] = (now + MEMBERS_SECONDS, settings, found)
    return found


def all_destinations(settings: Settings | None = None) -> dict[str, frozenset[str]]:
    """Destination -> types it accepts: every partner's (``hub.plugins.destinations``) and every member's."""
    out = dict(destinations())
    for code, (_, member) in members(settings).items():
        out.setdefault(code, member.accepts if member.connector is not None else frozenset())
    return out


_tables: dict[tuple[int, tuple[int, ...]], RoutingTable] = {}
_last: dict[int, tuple[RoutingTable, dict[str, Any], RoutingTable]] = {}


def routing_table(settings: Settings | None = None) -> RoutingTable:
    """``LIENTHONG_ROUTES_FILE``'s table followed by the members' own rules, rebuilt only when either changed."""
    settings = settings or get_settings()
    base = routes_for(settings)
    current = members(settings)
    last = _last.get(id(settings))
    if last is not None and last[0] is base and last[1] is current:  # the hot path: nothing changed
        return last[2]
    found = [member for _, member in current.values()]
    key = (id(base), tuple(id(member) for member in found))
    table = _tables.get(key)
    if table is None:
        extra = [{"to": [member.code], **rule} for member in found for rule in member.routes]
        table = base.extended(extra)
        if len(_tables) > 32:  # old tables of files since edited
            _tables.clear()
        _tables[key] = table
    _last[id(settings)] = (base, current, table)
    return table


class LiveRoutes:
    """The routing table as it stands at each call (:func:`routing_table`): what the API routes with."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def destinations(self, msg_type: str, source: str, message: Any) -> tuple[str, ...]:
        return routing_table(self.settings).destinations(msg_type, source, message)

    def all_destinations(self) -> set[str]:
        return routing_table(self.settings).all_destinations()

    def check(self, connectors: Any, message_types: Any, partners: Any = None) -> list[str]:
        return routing_table(self.settings).check(connectors, message_types, partners)


def context(code: str, settings: Settings | None = None, **partner_settings: Any) -> PartnerContext:
    """Partner ``code``'s context under ``settings`` (default: the process's). With keyword
    arguments, a fresh context whose partner settings are built from them (tests); without, one
    cached per settings object."""
    settings = settings or get_settings()
    try:
        m, member = manifest(code), None
    except LookupError:
        found = members(settings).get(code)
        if found is None:
            raise
        m, member = found[0], code
    if partner_settings:
        merged = {**settings.partner_settings.get(m.code, {}), **partner_settings}
        return PartnerContext(m, settings, m.settings(**merged), code=member)
    key = (id(settings), code)
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None or ctx.hub is not settings or ctx.manifest is not m:
            ctx = _contexts[key] = PartnerContext(m, settings, code=member)
        return ctx


def connector(code: str, settings: Settings) -> Connector:
    """A ready outbound connector for destination ``code`` (a partner's or a member's); LookupError if it
    delivers nothing."""
    try:
        m = manifest(code)
    except LookupError:
        found = members(settings).get(code)
        if found is None or found[1].connector is None:
            raise LookupError(f"no destination named {code!r} delivers messages") from None
        return found[1].connector(context(code, settings))
    if m.connector is None:
        raise LookupError(f"partner {code!r} takes no messages from the queue (its manifest has no connector)")
    return m.connector(context(code, settings))


class IntakeRules:
    """The partners' intake rules (``Manifest.intake_rules``) by message type, each with its partner's
    context: a rule runs with its own partner's context whoever sends the message (the national
    portal's connector refuses a dossier whose procedure its catalogue does not publish)."""

    def __init__(self, rules: list[tuple[PartnerContext, IntakeRule]]) -> None:
        self._by_type: dict[str, list[tuple[PartnerContext, IntakeRule]]] = {}
        for ctx, rule in rules:
            for t in rule.types:
                self._by_type.setdefault(t, []).append((ctx, rule))

    def check(self, message: Any) -> None:
        """Raise the first rule's :class:`~hub.seam.Refused` for ``message`` (validated, routed), if any."""
        for ctx, rule in self._by_type.get(message.type, ()):
            rule.check(ctx, message)

    def __bool__(self) -> bool:
        return bool(self._by_type)


_rules: dict[int, tuple[Settings, IntakeRules]] = {}


def intake_rules(settings: Settings) -> IntakeRules:
    """Every manifest's intake rules, gathered once per settings object."""
    cached = _rules.get(id(settings))
    if cached is not None and cached[0] is settings:
        return cached[1]
    found = IntakeRules([(context(m.code, settings), rule) for m in manifests() for rule in m.intake_rules])
    if len(_rules) > 32:  # one settings object per process, but tests make many
        _rules.clear()
    _rules[id(settings)] = (settings, found)
    return found


provide_contexts(context)  # partners' own commands ask for theirs (hub.seam.partner_context)
