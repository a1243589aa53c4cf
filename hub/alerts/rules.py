"""The detection rules: read-only functions of a bounded window of access records, each returning findings.

Seed 002 Đ11: every API access tracked to detect abnormal or unauthorised use.

Each rule is a small function of a :class:`Context` returning :class:`Finding` s. Rules read a
bounded time window through the indexes of ``access_records`` (``at``, ``key_id``, ``account``,
``client_ip``) and aggregate in the database; none loads the table.

Two kinds of window:

- *sliding* rules (``auth_failures_*``, ``lookup_volume``, ``traffic_spike``) look at a window ending
  at ``ctx.now`` whose length comes from their settings;
- *event* rules (``lookup_off_hours``, ``new_address``) look at ``[ctx.since, ctx.now]``: the
  detector passes the time of its previous pass (minus a margin for records written late).

A finding carries ``at``, the time of its newest evidence (an access record's ``at``, or a
credential's last use): raising (``hub/alerts/store.py``) ignores a finding no newer than what an
alert for the same rule and subject already reported, so overlapping windows never count twice.
Details name addresses, key ids, partner codes and account names, never a secret, an API key, a
request path (it may hold a citizen ID) or citizen data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, literal_column, or_, select

from hub.access.review import unused
from hub.config import Settings
from hub.store.engine import reading
from hub.store.tables import access_records as R

LOOKUP_PREFIX = "/v1/citizens/"  # route templates of population-database look-ups
SPIKE_BASELINE = timedelta(days=7)
SEVERITIES = ("info", "warning", "critical")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_LISTED = 5  # addresses or outcomes named in one detail


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: ``subject`` is ``ip:<address>``, ``key:<id>`` or ``account:<name>``."""

    rule: str
    subject: str
    severity: str
    detail: str
    at: datetime  # the newest evidence (UTC)

    def view(self) -> dict[str, Any]:
        return {"rule": self.rule, "subject": self.subject, "severity": self.severity, "detail": self.detail,
                "at": self.at.isoformat()}


@dataclass
class Context:
    """What a rule reads: an open read-only connection, the settings and the window.

    ``memo`` keeps slow-moving facts across passes: averages per subject and hour or day, and the
    addresses each key was last seen using.
    """

    engine: Engine
    conn: Connection
    settings: Settings
    now: datetime
    since: datetime
    memo: dict[tuple[Any, ...], float] = field(default_factory=dict)


Rule = Callable[[Context], list[Finding]]


# --- office hours ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeHours:
    zone: ZoneInfo
    opens: time
    closes: time
    days: frozenset[int]  # ISO weekdays, 1 = Monday

    def describe(self) -> str:
        days = sorted(self.days)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            span = f"{DAY_NAMES[days[0] - 1]}–{DAY_NAMES[days[-1] - 1]}"
        else:
            span = ", ".join(DAY_NAMES[d - 1] for d in days) or "no days"
        return f"{span} {self.opens:%H:%M}–{self.closes:%H:%M} {self.zone.key}"

    def off_ranges(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The parts of ``[start, end)`` outside office hours, as UTC ranges in time order."""
        out: list[tuple[datetime, datetime]] = []
        cursor = start
        day = start.astimezone(self.zone).date()
        while cursor < end and day <= end.astimezone(self.zone).date():
            if day.isoweekday() in self.days:
                opens = datetime.combine(day, self.opens, self.zone).astimezone(timezone.utc)
                closes = datetime.combine(day, self.closes, self.zone).astimezone(timezone.utc)
                if cursor < min(opens, end):
                    out.append((cursor, min(opens, end)))
                cursor = max(cursor, closes)
            day += timedelta(days=1)
        if cursor < end:
            out.append((cursor, end))
        return out


def office_hours(settings: Settings) -> OfficeHours:
    """The office hours the settings describe; ValueError names the setting that is wrong."""
    try:
        zone = ZoneInfo(settings.alert_timezone)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"alert_timezone: unknown time zone {settings.alert_timezone!r}") from exc
    try:
        first, last = (time.fromisoformat(part.strip()) for part in settings.alert_office_hours.split("-"))
    except ValueError as exc:
        raise ValueError("alert_office_hours: expected HH:MM-HH:MM, e.g. 07:30-17:30") from exc
    if first >= last:
        raise ValueError("alert_office_hours: the opening time must come before the closing time")
    if not all(1 <= d <= 7 for d in settings.alert_office_days):
        raise ValueError("alert_office_days: ISO weekdays, 1 (Monday) to 7 (Sunday)")
    return OfficeHours(zone, first, last, frozenset(settings.alert_office_days))


# --- helpers ---------------------------------------------------------------------------------------


def _lookups() -> ColumnElement[bool]:
    return R.c.route.startswith(LOOKUP_PREFIX, autoescape=True)


def _tally(pairs: Iterable[tuple[str, int]]) -> str:
    """``a×3, b×1`` (largest first, at most MAX_LISTED named)."""
    ordered = sorted(pairs, key=lambda p: (-p[1], p[0]))
    text = ", ".join(f"{name}×{n}" for name, n in ordered[:MAX_LISTED])
    return text + (f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else "")


def _subject(account: str | None, key_id: int | None) -> str:
    return f"account:{account}" if account else f"key:{key_id}"


def _local(at: datetime, settings: Settings) -> str:
    return at.astimezone(ZoneInfo(settings.alert_timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _remember(ctx: Context, memo_key: tuple[Any, ...], value: float) -> float:
    if memo_key not in ctx.memo:
        if len(ctx.memo) > 100_000:  # old hours and days are never asked again; addresses are asked again
            ctx.memo.clear()
        ctx.memo[memo_key] = value
    return ctx.memo[memo_key]


# --- rules -----------------------------------------------------------------------------------------


def _auth_failures(ctx: Context, rule: str, column: Any, threshold: int, severity: str) -> list[Finding]:
    """Subjects (values of ``column``) with at least ``threshold`` refused 401 answers in the window."""
    window = ctx.settings.alert_auth_window_seconds
    # ``status + 0`` keeps the planner on the ``at`` index: a minute of traffic is bounded, every 401
    # ever recorded is not (SQLite without statistics would pick the status index).
    where = and_(R.c.at > ctx.now - timedelta(seconds=window), R.c.at <= ctx.now, R.c.status + 0 == 401, R.c.outcome != "ok",
                 column != "" if column is R.c.client_ip else column.is_not(None))
    hits = ctx.conn.execute(
        select(column.label("subject"), func.count().label("n"), func.max(R.c.at).label("last"),
               func.count(R.c.client_ip.distinct()).label("ips"), func.count(R.c.key_id.distinct()).label("keys"),
               func.count(R.c.account.distinct()).label("accounts"), func.max(R.c.partner_code).label("partner"))
        .where(where).group_by(column).having(func.count() >= threshold)
    ).all()
    if not hits:
        return []
    outcomes: dict[Any, list[tuple[str, int]]] = {}
    for subject, outcome, n in ctx.conn.execute(
        select(column, R.c.outcome, func.count()).where(where, column.in_([h.subject for h in hits]))
        .group_by(column, R.c.outcome)
    ):
        outcomes.setdefault(subject, []).append((outcome, n))
    found = []
    for h in hits:
        if rule == "auth_failures_ip":
            subject = f"ip:{h.subject}"
            detail = (f"{h.n} refused credentials (401) from {h.subject} in {window} s, trying {h.keys} key(s) and "
                      f"{h.accounts} account(s): {_tally(outcomes.get(h.subject, []))}")
        else:
            subject = f"key:{h.subject}"
            detail = (f"{h.n} refused calls (401) with key {h.subject} of partner {h.partner or '?'} in {window} s, "
                      f"from {h.ips} address(es): {_tally(outcomes.get(h.subject, []))}")
        found.append(Finding(rule, subject, severity, detail, h.last))
    return found


def auth_failures_ip(ctx: Context) -> list[Finding]:
    """One client address refused (401) at least ``alert_auth_failures_ip`` times within the window:
    someone guessing keys or passwords."""
    return _auth_failures(ctx, "auth_failures_ip", R.c.client_ip, ctx.settings.alert_auth_failures_ip, "warning")


def auth_failures_key(ctx: Context) -> list[Finding]:
    """One key refused (401) at least ``alert_auth_failures_key`` times within the window: a key tried
    from places it may not be used from, or a revoked or expired key still in use (a leaked copy)."""
    return _auth_failures(ctx, "auth_failures_key", R.c.key_id, ctx.settings.alert_auth_failures_key, "critical")


def lookup_off_hours(ctx: Context) -> list[Finding]:
    """Population-database look-ups in ``[since, now]`` outside office hours, per person (or key)."""
    hours = office_hours(ctx.settings)
    ranges = hours.off_ranges(ctx.since, ctx.now + timedelta(microseconds=1))
    if not ranges:
        return []
    rows = ctx.conn.execute(
        select(R.c.account, R.c.key_id, func.max(R.c.partner_code).label("partner"), func.count().label("n"),
               func.sum(case((R.c.outcome == "ok", 0), else_=1)).label("refused"), func.max(R.c.at).label("last"))
        .where(or_(*(and_(R.c.at >= a, R.c.at < b) for a, b in ranges)), _lookups(),
               or_(R.c.account.is_not(None), R.c.key_id.is_not(None)))
        .group_by(R.c.account, R.c.key_id)
    ).all()
    merged: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = merged.setdefault(_subject(r.account, r.key_id), {"n": 0, "refused": 0, "last": r.last, "partners": set()})
        entry["n"] += r.n
        entry["refused"] += int(r.refused or 0)
        entry["last"] = max(entry["last"], r.last)
        entry["partners"].add(r.partner or "?")
    found = []
    for subject, e in sorted(merged.items()):
        refused = f" ({e['refused']} refused)" if e["refused"] else ""
        found.append(Finding(
            "lookup_off_hours", subject, "warning",
            f"{e['n']} population-database look-up(s) outside office hours ({hours.describe()}) by "
            f"{subject.replace(':', ' ', 1)} through partner {', '.join(sorted(e['partners']))}{refused}, "
            f"the last at {_local(e['last'], ctx.settings)}", e["last"]))
    return found


def lookup_volume(ctx: Context) -> list[Finding]:
    """A person's look-ups today (office time zone) above max(floor, factor × their daily average over
    the ``alert_history_days`` before today)."""
    s = ctx.settings
    zone = ZoneInfo(s.alert_timezone)
    today = datetime.combine(ctx.now.astimezone(zone).date(), time(0), zone).astimezone(timezone.utc)
    candidates = ctx.conn.execute(
        select(R.c.account, func.count().label("n"), func.max(R.c.at).label("last"),
               func.max(R.c.partner_code).label("partner"))
        .where(R.c.at >= today, R.c.at <= ctx.now, _lookups(), R.c.account.is_not(None))
        .group_by(R.c.account).having(func.count() > s.alert_lookup_floor)
    ).all()
    if not candidates:
        return []
    missing = [c.account for c in candidates if ("lookup_volume", c.account, today) not in ctx.memo]
    if missing:
        totals: dict[str, int] = dict(ctx.conn.execute(
            select(R.c.account, func.count())
            .where(R.c.at >= today - timedelta(days=s.alert_history_days), R.c.at < today, _lookups(),
                   R.c.account.in_(missing))
            .group_by(R.c.account)
        ).all())
        for account in missing:
            _remember(ctx, ("lookup_volume", account, today), totals.get(account, 0) / s.alert_history_days)
    found = []
    for c in candidates:
        average = ctx.memo[("lookup_volume", c.account, today)]
        limit = max(s.alert_lookup_floor, s.alert_lookup_factor * average)
        if c.n > limit:
            found.append(Finding(
                "lookup_volume", f"account:{c.account}", "critical",
                f"{c.n} population-database look-ups today by account {c.account} (partner {c.partner or '?'}), above "
                f"{limit:g} = max({s.alert_lookup_floor}, {s.alert_lookup_factor:g} × {average:.1f} a day over the last "
                f"{s.alert_history_days} days)", c.last))
    return found


def _at_least(ctx: Context, n: int, *where: ColumnElement[bool]) -> bool:
    """Whether at least ``n`` access records match ``where`` (stops counting at ``n``)."""
    if n <= 0:
        return True
    # Newest first: a known address or a key's history is usually found within its latest records.
    limited = select(literal_column("1").label("one")).select_from(R).where(*where).order_by(R.c.id.desc()).limit(n).subquery()
    return (ctx.conn.execute(select(func.count()).select_from(limited)).scalar() or 0) >= n


def new_address(ctx: Context) -> list[Finding]:
    """A key used successfully in ``[since, now]`` from an address it did not use in the
    ``alert_history_days`` before, when it made at least ``alert_new_address_history`` successful
    calls in that time (a new key's first addresses are not news)."""
    s = ctx.settings
    pairs = ctx.conn.execute(
        select(R.c.key_id, R.c.client_ip, func.min(R.c.at).label("first"), func.max(R.c.at).label("last"),
               func.count().label("n"), func.max(R.c.partner_code).label("partner"))
        .where(R.c.at >= ctx.since, R.c.at <= ctx.now, R.c.outcome == "ok", R.c.key_id.is_not(None), R.c.client_ip != "")
        .group_by(R.c.key_id, R.c.client_ip)
    ).all()
    news: dict[int, list[Any]] = {}
    history = timedelta(days=s.alert_history_days)
    for p in pairs:
        seen = ctx.memo.get(("new_address", p.key_id, p.client_ip))  # last use seen by an earlier pass
        ctx.memo[("new_address", p.key_id, p.client_ip)] = max(seen or 0.0, p.last.timestamp())
        if seen is not None and p.first.timestamp() - seen <= history.total_seconds():
            continue  # a known address, without asking the database
        earlier = (R.c.key_id == p.key_id, R.c.outcome == "ok", R.c.at < p.first, R.c.at >= p.first - history)
        if _at_least(ctx, 1, R.c.client_ip == p.client_ip, *earlier):
            continue  # a known address
        if not _at_least(ctx, s.alert_new_address_history, *earlier):
            continue  # too little history to call any address new
        news.setdefault(p.key_id, []).append(p)
    found = []
    for key_id, fresh in sorted(news.items()):
        fresh.sort(key=lambda p: p.first)
        named = ", ".join(f"{p.client_ip} ({p.n} call(s) from {_local(p.first, s)})" for p in fresh[:MAX_LISTED])
        more = f" and {len(fresh) - MAX_LISTED} more" if len(fresh) > MAX_LISTED else ""
        found.append(Finding(
            "new_address", f"key:{key_id}", "warning",
            f"key {key_id} of partner {fresh[0].partner or '?'} used from address(es) it did not use in the last "
            f"{s.alert_history_days} days: {named}{more}", max(p.first for p in fresh)))
    return found


def traffic_spike(ctx: Context) -> list[Finding]:
    """A key's requests in the last hour at least ``alert_spike_minimum`` and above
    ``alert_spike_factor`` × its hourly average over the 7 days before that hour."""
    s = ctx.settings
    candidates = ctx.conn.execute(
        select(R.c.key_id, func.count().label("n"), func.max(R.c.at).label("last"),
               func.max(R.c.partner_code).label("partner"))
        .where(R.c.at > ctx.now - timedelta(hours=1), R.c.at <= ctx.now, R.c.key_id.is_not(None))
        .group_by(R.c.key_id).having(func.count() >= s.alert_spike_minimum)
    ).all()
    if not candidates:
        return []
    # Baseline: the 7 days ending at the start of the hour before this one's, cached per key and
    # hour; it never overlaps the last hour.
    end = ctx.now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    missing = [c.key_id for c in candidates if ("traffic_spike", c.key_id, end) not in ctx.memo]
    if missing:
        totals: dict[str, int] = dict(ctx.conn.execute(
            select(R.c.key_id, func.count())
            .where(R.c.at >= end - SPIKE_BASELINE, R.c.at < end, R.c.key_id.in_(missing))
            .group_by(R.c.key_id)
        ).all())
        hours = SPIKE_BASELINE / timedelta(hours=1)
        for key_id in missing:
            _remember(ctx, ("traffic_spike", key_id, end), totals.get(key_id, 0) / hours)
    found = []
    for c in candidates:
        average = ctx.memo[("traffic_spike", c.key_id, end)]
        if c.n > s.alert_spike_factor * average:
            found.append(Finding(
                "traffic_spike", f"key:{c.key_id}", "warning",
                f"{c.n} requests in the last hour with key {c.key_id} of partner {c.partner or '?'}, above "
                f"{s.alert_spike_factor:g} × its hourly average {average:.1f} over 7 days (minimum "
                f"{s.alert_spike_minimum})", c.last))
    return found


def unused_credentials(ctx: Context) -> list[Finding]:
    """Working keys and active accounts unused for ``review_days`` (the periodic review,
    :func:`hub.access.review.unused`); the evidence time is the last use, so each is raised once."""
    days = ctx.settings.review_days
    found = unused(ctx.engine, days)
    out = []
    for k in found["keys"]:
        last = datetime.fromisoformat(k["last_used_at"] or k["created_at"])
        out.append(Finding("unused_credentials", f"key:{k['id']}", "info",
                           f"key {k['id']} of partner {k['partner']} ({k['label'] or 'no label'}) "
                           f"{'last used' if k['last_used_at'] else 'never used; issued'} {_local(last, ctx.settings)}, "
                           f"over {days} days ago: revoke it unless still needed", last))
    for a in found["accounts"]:
        last = datetime.fromisoformat(a["last_login_at"] or a["created_at"])
        out.append(Finding("unused_credentials", f"account:{a['username']}", "info",
                           f"{a['role']} account {a['username']} "
                           f"{'last signed in' if a['last_login_at'] else 'never signed in; created'} "
                           f"{_local(last, ctx.settings)}, over {days} days ago: disable it unless still needed", last))
    return out


RULES: dict[str, Rule] = {
    "auth_failures_ip": auth_failures_ip,
    "auth_failures_key": auth_failures_key,
    "lookup_off_hours": lookup_off_hours,
    "lookup_volume": lookup_volume,
    "new_address": new_address,
    "traffic_spike": traffic_spike,
    "unused_credentials": unused_credentials,
}


def detect(engine: Engine, settings: Settings, *, now: datetime | None = None, since: datetime | None = None,
           memo: dict[tuple[Any, ...], float] | None = None, rules: Iterable[str] | None = None) -> list[Finding]:
    """Run ``rules`` (default: all) once and return their findings.

    ``now`` defaults to the current time; ``since`` (the event rules' window start) to an hour before
    ``now``. Reads only; raising alerts is :func:`hub.alerts.store.raise_findings`.
    """
    now = now or datetime.now(timezone.utc)
    since = since or now - timedelta(hours=1)
    with reading(engine) as conn:
        ctx = Context(engine, conn, settings, now, since, {} if memo is None else memo)
        return [f for name in (rules or RULES) for f in RULES[name](ctx)]
