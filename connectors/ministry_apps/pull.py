"""The scheduled way back: each adapter's ``pull``, run by the workers (one run at a time across them).

Two styles, each with a durable place in the hub's database, so a restart resumes where it was:

* **cases** (the civil-status registry's ``LayKetQua``): the open cases, those a delivery opened
  (``send.<type>.opens_case``), are asked about ``batch`` at a time, least recently asked first;
  each item whose state differs from the case's last one emits its messages, and the new state is
  written in the same transaction as those messages; a ``final`` state closes the case.
* **feed**: read after the cursor; the page's messages and the new cursor (``feed.next``) are
  stored in one transaction.

When each adapter last pulled is kept as a cursor too (``pull-at``), so two workers do not pull one
system twice as often as it asks.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable

import httpx
import orjson
from sqlalchemy import Connection, select, update

from connectors.ministry_apps.answers import classify
from connectors.ministry_apps.auth import SecretMissing
from connectors.ministry_apps.emit import emitted
from connectors.ministry_apps.outbound import Wire, base_context, request_of
from connectors.ministry_apps.registry import Loaded, Registry
from connectors.ministry_apps.templates import MappingError, value
from hub.seam import Context, Refused, Unavailable, reading, tables

log = logging.getLogger(__name__)
FEED_PAGES_PER_RUN = 10


class PullFailed(Exception):
    """This run of a pull stopped (the system refused, a mapping failed); the next run tries again."""


_wires: dict[str, Wire] = {}


def _wire(loaded: Loaded, ctx: Context) -> Wire:
    wire = _wires.get(loaded.adapter.code)
    if wire is None or wire.loaded is not loaded:
        if wire is not None:
            wire.close()
        wire = _wires[loaded.adapter.code] = Wire(loaded, ctx)
    return wire


def run_all(ctx: Context, registry: Callable[[Context], Registry]) -> None:
    """One round: every adapter with a pull that is due (its ``every`` passed since its last run)."""
    for code, loaded in registry(ctx).adapters().items():
        if loaded.adapter.pull is None:
            continue
        try:
            member = ctx.member(code)
        except LookupError:
            continue
        last = member.cursor("pull-at")
        try:
            if time.time() - float(last.get() or 0) < loaded.adapter.pull.every:
                continue
            last.set(f"{time.time():.3f}")
            pull_once(loaded, member)
        except PullFailed as exc:
            log.warning("ministry %s: pull stopped: %s", code, exc)
        except Exception:  # noqa: BLE001 - one system's trouble must not stop the others' pulls
            log.exception("ministry %s: pull failed", code)


def _ask(loaded: Loaded, ctx: Context, context: dict[str, Any]) -> Any:
    """Send the pull's request over ``context``; the list of items of an ok answer."""
    pull = loaded.adapter.pull
    assert pull is not None
    try:
        answer = _wire(loaded, ctx).send(request_of(loaded, pull.request, context, "pull.request"))
    except (MappingError, SecretMissing) as exc:
        raise PullFailed(str(exc)) from None
    except (httpx.TransportError, httpx.HTTPStatusError) as exc:
        raise PullFailed(f"the system could not be reached: {type(exc).__name__}") from None
    verdict = classify([*pull.answer, *loaded.adapter.answer], answer, "pull.answer")
    if verdict.outcome != "ok":
        raise PullFailed(f"{verdict.outcome}: {verdict.reason}")
    try:
        items = value(pull.items, {**context, "answer": answer.json}, "pull.items")
    except MappingError as exc:
        raise PullFailed(str(exc)) from None
    if not isinstance(items, list):
        raise PullFailed(f"pull.items: the answer's items are not a list ({type(items).__name__})")
    return answer.json, items


def pull_once(loaded: Loaded, ctx: Context) -> int:
    """One pull of one adapter with the member's context; how many messages it stored."""
    pull = loaded.adapter.pull
    assert pull is not None
    return _cases(loaded, ctx) if pull.cases is not None else _feed(loaded, ctx)


def _store(ctx: Context, loaded: Loaded, messages: list[dict[str, Any]], then: Callable[[Connection, list[str]], None]) -> None:
    try:
        ctx.submit_many(messages, types=sorted(loaded.adapter.emitted()), then=then)
    except Refused as exc:
        raise PullFailed(f"the hub refused a mapped message ({exc.slug}): {exc.detail}") from None
    except Unavailable as exc:
        raise PullFailed(f"the hub's store is unavailable: {exc}") from None


def _cases(loaded: Loaded, ctx: Context) -> int:
    pull = loaded.adapter.pull
    assert pull is not None and pull.cases is not None
    spec = pull.cases
    cases = tables.ministry_cases
    with reading(ctx.engine) as conn:
        rows = conn.execute(select(cases).where(cases.c.ministry == ctx.code, cases.c.closed_at.is_(None))
                            .order_by(cases.c.checked_at.is_not(None), cases.c.checked_at, cases.c.dossier_code)
                            .limit(spec.batch)).mappings().all()
    if not rows:
        return 0
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        case = {"dossier_code": row["dossier_code"], "state": row["state"], **orjson.loads(row["kept"] or "{}")}
        try:
            group = str(value(spec.group, {"case": case}, "pull.cases.group"))
        except MappingError as exc:
            raise PullFailed(str(exc)) from None
        groups.setdefault(group, []).append(case)
    stored = 0
    now = datetime.now(timezone.utc)
    final = set(spec.final)
    for group, members in groups.items():
        context = base_context(loaded, {"cases": members, "group": group, "dossiers": [c["dossier_code"] for c in members]})
        answer, items = _ask(loaded, ctx, context)
        by_code = {c["dossier_code"]: c for c in members}
        messages: list[dict[str, Any]] = []
        changes: dict[str, str] = {}
        for item in items:
            try:
                key = str(value(spec.key, {"item": item}, "pull.cases.key"))
                state = str(value(spec.state, {"item": item}, "pull.cases.state"))
                asked = by_code.get(key)
                if asked is None or state == asked["state"] or key in changes:
                    continue
                messages.extend(emitted(loaded.adapter.code, pull.emit,
                                        {**context, "answer": answer, "item": item, "case": asked, "state": state,
                                         "previous": asked["state"]}, "pull.emit"))
            except MappingError as exc:
                log.error("ministry %s: pull mapping of dossier %s failed (asked again next time): %s",
                          ctx.code, item.get("key", "?") if isinstance(item, dict) else "?", exc)
                continue
            changes[key] = state
        def then(conn: Connection, verdicts: list[str]) -> None:  # run by _store at once, in this iteration
            conn.execute(update(cases).where(cases.c.ministry == ctx.code,
                                             cases.c.dossier_code.in_(list(by_code)))  # noqa: B023
                         .values(checked_at=now))
            for code, state in changes.items():  # noqa: B023
                conn.execute(update(cases).where(cases.c.ministry == ctx.code, cases.c.dossier_code == code)
                             .values(state=state, closed_at=now if state in final else None))

        _store(ctx, loaded, messages, then)
        stored += len(messages)
    return stored


def _feed(loaded: Loaded, ctx: Context) -> int:
    pull = loaded.adapter.pull
    assert pull is not None and pull.feed is not None
    cursor = ctx.cursor("feed")
    stored = 0
    for _ in range(FEED_PAGES_PER_RUN):
        place = cursor.get() or pull.feed.start
        context = base_context(loaded, {"cursor": place})
        answer, items = _ask(loaded, ctx, context)
        messages: list[dict[str, Any]] = []
        for item in items:
            try:
                messages.extend(emitted(loaded.adapter.code, pull.emit, {**context, "answer": answer, "item": item},
                                        "pull.emit"))
            except MappingError as exc:
                raise PullFailed(f"{exc} (the cursor stays at {place!r})") from None
        try:
            following = str(value(pull.feed.next, {**context, "answer": answer, "items": items}, "pull.feed.next"))
        except MappingError as exc:
            raise PullFailed(str(exc)) from None
        if not items or following == place:
            return stored

        def then(conn: Connection, verdicts: list[str], following: str = following) -> None:
            cursor.set(following, conn)

        _store(ctx, loaded, messages, then)
        stored += len(messages)
    return stored
