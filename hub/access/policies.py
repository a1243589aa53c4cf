"""Rate-limit policies: data in the ``rate_policies`` table, editable without a restart.

A policy says "``quota`` calls per ``window_seconds``", named (``per-second``, ``daily``...), for a
``counter`` that is either each key alone (``key``) or all of a partner's keys together
(``partner``), for one route class or all (``*``). For a key, the most specific policies win:
those set for the key itself, else those set for its partner, else the hub-wide ones (rows with
no partner), else the embedded default from configuration. Partner counters apply in addition.
People's sessions count like keys, per account, under the hub-wide and default policies.

Every hub process reloads the table every few seconds (:meth:`PolicyBook.refresh`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from hub.access import actions
from hub.access.principal import Principal
from hub.access.scopes import ROUTE_CLASSES
from hub.limits.decision import Check, Limit
from hub.store.engine import reading
from hub.store.tables import rate_policies

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")


@dataclass(frozen=True, slots=True)
class Policy:
    """One ``rate_policies`` row, as the book keeps it in memory."""

    id: int
    counter: str
    partner_code: str | None
    key_id: int | None
    route_class: str
    limit: Limit


def parse_defaults(text: str) -> tuple[Limit, ...]:
    """``"per-second=100/1,daily=500000/86400"`` → limits; ValueError on anything else."""
    limits = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        found = re.fullmatch(r"([a-z0-9-]+)=(\d+)/(\d+)", part)
        if not found:
            raise ValueError(f"rate limit {part!r}: write name=quota/window_seconds, e.g. per-second=20/1")
        limits.append(Limit(found.group(1), int(found.group(2)), float(found.group(3))))
    return tuple(limits)


class PolicyBook:
    """The policies of every partner and key, kept in memory and refreshed from the database."""

    def __init__(self, engine: Engine, defaults: tuple[Limit, ...], refresh_seconds: float = 2.0) -> None:
        self.engine, self.defaults, self.refresh_seconds = engine, defaults, refresh_seconds
        self._policies: list[Policy] = []
        self._memo: dict[tuple[str | None, int | None, str | None, str], tuple[Check, ...]] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Reload the table now."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(rate_policies).order_by(rate_policies.c.id)).all()
        policies = [Policy(r.id, r.counter, r.partner_code, r.key_id, r.route_class,
                           Limit(r.name, r.quota, float(r.window_seconds))) for r in rows]
        with self._lock:
            if policies != self._policies:
                self._memo = {}
            self._policies, self._loaded = policies, time.monotonic()

    def refresh_if_stale(self) -> None:
        if time.monotonic() - self._loaded >= self.refresh_seconds:
            self.refresh()

    def checks(self, who: Principal, route_class: str) -> tuple[Check, ...]:
        """The counters one call of ``route_class`` by ``who`` must pass (memoised until the next refresh)."""
        memo_key = (who.account, who.key_id, who.partner_code, route_class)
        found = self._memo.get(memo_key)
        if found is None:
            found = self._memo[memo_key] = tuple(self._checks(who, route_class))
        return found

    def _checks(self, who: Principal, route_class: str) -> list[Check]:
        policies = self._policies
        applies = [p for p in policies if p.route_class in (route_class, "*")]
        if who.is_person:
            subject = f"account:{who.account}"
            chosen = [p for p in applies if p.counter == "key" and p.partner_code is None and p.key_id is None]
            return self._as_checks(subject, route_class, chosen)
        own = [p for p in applies if p.counter == "key" and p.key_id == who.key_id]
        partner = [p for p in applies if p.counter == "key" and p.key_id is None and p.partner_code == who.partner_code]
        hub_wide = [p for p in applies if p.counter == "key" and p.key_id is None and p.partner_code is None]
        checks = self._as_checks(f"key:{who.key_id}", route_class, own or partner or hub_wide)
        together = [p for p in applies if p.counter == "partner" and p.partner_code == who.partner_code] or \
                   [p for p in applies if p.counter == "partner" and p.partner_code is None]
        for p in together:
            bucket = f"partner:{who.partner_code}:{p.route_class}"
            checks.append(Check(bucket, Limit(f"partner-{p.limit.name}", p.limit.quota, p.limit.window)))
        return checks

    def _as_checks(self, subject: str, route_class: str, chosen: list[Policy]) -> list[Check]:
        if not chosen:
            return [Check(f"{subject}:*", limit) for limit in self.defaults]
        return [Check(f"{subject}:{p.route_class}", p.limit) for p in chosen]


def set_policy(engine: Engine, *, counter: str, name: str, quota: int, window_seconds: int, route_class: str = "*",
               partner_code: str | None = None, key_id: int | None = None, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Create or change the policy for that subject and name; ValueError names the bad field."""
    if counter not in ("key", "partner"):
        raise ValueError("counter: key or partner")
    if counter == "partner" and key_id is not None:
        raise ValueError("key_id: only for counter=key")
    if route_class != "*" and route_class not in ROUTE_CLASSES:
        raise ValueError(f"route_class: one of {', '.join(ROUTE_CLASSES)} or *")
    if not NAME.match(name):
        raise ValueError("name: lower-case letters, digits and '-', e.g. per-second")
    if quota < 1 or window_seconds < 1:
        raise ValueError("quota and window_seconds: 1 or more")
    where = (rate_policies.c.counter == counter, rate_policies.c.route_class == route_class, rate_policies.c.name == name,
             rate_policies.c.partner_code.is_(None) if partner_code is None else rate_policies.c.partner_code == partner_code,
             rate_policies.c.key_id.is_(None) if key_id is None else rate_policies.c.key_id == key_id)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        before = conn.execute(select(rate_policies).where(*where)).first()
        if before is None:
            conn.execute(insert(rate_policies).values(counter=counter, partner_code=partner_code, key_id=key_id,
                                                      route_class=route_class, name=name, quota=quota,
                                                      window_seconds=window_seconds, updated_at=now))
        else:
            conn.execute(update(rate_policies).where(rate_policies.c.id == before.id)
                         .values(quota=quota, window_seconds=window_seconds, updated_at=now))
        row = conn.execute(select(rate_policies).where(*where)).one()
        view = _view(row)
        actions.record(conn, actor, "limit.set", f"limit:{row.id}", _view(before) if before else None, view, client_ip)
    return view


def delete_policy(engine: Engine, policy_id: int, *, actor: str, client_ip: str = "") -> dict[str, Any]:
    with engine.begin() as conn:
        row = conn.execute(select(rate_policies).where(rate_policies.c.id == policy_id)).first()
        if row is None:
            raise LookupError(f"no rate-limit policy {policy_id}")
        conn.execute(delete(rate_policies).where(rate_policies.c.id == policy_id))
        actions.record(conn, actor, "limit.delete", f"limit:{policy_id}", _view(row), None, client_ip)
    return _view(row)


def list_policies(engine: Engine) -> list[dict[str, Any]]:
    with reading(engine) as conn:
        return [_view(r) for r in conn.execute(select(rate_policies).order_by(rate_policies.c.id)).all()]


def _view(r: Any) -> dict[str, Any]:
    return {"id": r.id, "counter": r.counter, "partner": r.partner_code, "key_id": r.key_id, "route_class": r.route_class,
            "name": r.name, "quota": r.quota, "window_seconds": r.window_seconds}
