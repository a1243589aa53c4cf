"""What the hub gives each partner (:class:`hub.seam.Context`): its settings, credentials, signer, cursors."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Callable, Sequence

import httpx
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hub.config import Settings, get_settings
from hub.plugins import manifest
from hub.plugins import partner_settings as plugin_settings
from hub.seam import Connector, Manifest, Refused, Unavailable
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

    def __init__(self, m: Manifest, settings: Settings, partner_settings: Any = None, engine: Engine | None = None) -> None:
        self.manifest = m
        self.code = m.code
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
        from hub.routing import routes_for
        from hub.store.intake import IntakeResult, Prepared, StoreUnavailable, accept

        table = routes_for(self.hub)
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


def context(code: str, settings: Settings | None = None, **partner_settings: Any) -> PartnerContext:
    """Partner ``code``'s context under ``settings`` (default: the process's). With keyword
    arguments, a fresh context whose partner settings are built from them (tests); without, one
    cached per settings object."""
    settings = settings or get_settings()
    m = manifest(code)
    if partner_settings:
        merged = {**settings.partner_settings.get(code, {}), **partner_settings}
        return PartnerContext(m, settings, m.settings(**merged))
    key = (id(settings), code)
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None or ctx.hub is not settings:
            ctx = _contexts[key] = PartnerContext(m, settings)
        return ctx


def connector(code: str, settings: Settings) -> Connector:
    """A ready outbound connector for destination ``code``; LookupError if that partner delivers nothing."""
    m = manifest(code)
    if m.connector is None:
        raise LookupError(f"partner {code!r} takes no messages from the queue (its manifest has no connector)")
    return m.connector(context(code, settings))
