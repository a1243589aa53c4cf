"""Alert storage: findings become idempotent rows of ``alerts``, listed and acknowledged by auditors, counted in metrics.

One open alert per (rule, subject): a finding with newer evidence updates it (``last_at``, ``count``,
``detail``); otherwise a new alert is opened. A finding whose evidence is no newer than what any
alert for the same rule and subject already reported (open or acknowledged) changes nothing, so
repeated or overlapping passes, and every worker process running its own detector, never
duplicate an alert or count the same evidence twice. ``first_at``/``last_at`` are the times of the
evidence; ``count`` is how many times the rule found new evidence for the subject.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from prometheus_client import Counter, Gauge
from sqlalchemy import Connection, Engine, func, insert, select, update

from hub.access import actions
from hub.alerts.rules import RULES, Finding
from hub.store.engine import reading
from hub.store.queries import page_rows
from hub.store.tables import alerts

log = logging.getLogger(__name__)
STATES = ("open", "acknowledged")
RAISED = Counter("lienthong_alerts_raised_total", "Alerts opened by the detection rules (in this process)", ["rule"])
OPEN = Gauge("lienthong_alerts_open", "Open (unacknowledged) alerts in the alerts table, as of the last detection pass",
             ["rule"])
_LOCK_ID = 0x6C74_616C_6572_7473 & 0x7FFF_FFFF_FFFF_FFFF  # "ltalerts": serialises raising across processes


def view(row: Any) -> dict[str, Any]:
    """An alert as the API and CLI show it."""
    return {"id": row.id, "rule": row.rule, "subject": row.subject, "severity": row.severity, "detail": row.detail,
            "first_at": row.first_at.isoformat(), "last_at": row.last_at.isoformat(), "count": row.count,
            "state": row.state}


def _serialise(conn: Connection) -> None:
    """Hold a transaction-scoped lock so two detectors never open the same alert twice (SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_LOCK_ID)))


def raise_findings(engine: Engine, findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Record ``findings`` as alerts (see the module docstring); returns the alerts newly opened,
    each logged once as a WARNING and counted in ``lienthong_alerts_raised_total``."""
    findings = list(findings)
    if not findings:
        return []
    opened = []
    with engine.begin() as conn:
        _serialise(conn)
        for f in findings:
            rows = conn.execute(select(alerts).where(alerts.c.rule == f.rule, alerts.c.subject == f.subject)
                                .order_by(alerts.c.id.desc())).all()
            if any(r.last_at >= f.at for r in rows):
                continue  # this evidence was already reported
            current = next((r for r in rows if r.state == "open"), None)
            if current is not None:
                conn.execute(update(alerts).where(alerts.c.id == current.id)
                             .values(last_at=f.at, count=alerts.c.count + 1, detail=f.detail, severity=f.severity))
                continue
            inserted = conn.execute(insert(alerts).values(rule=f.rule, subject=f.subject, severity=f.severity,
                                                          detail=f.detail, first_at=f.at, last_at=f.at, count=1,
                                                          state="open")).inserted_primary_key
            assert inserted is not None  # a single-row INSERT always has one
            opened.append(view(conn.execute(select(alerts).where(alerts.c.id == inserted[0])).one()))
    for a in opened:
        RAISED.labels(a["rule"]).inc()
        log.warning("alert %d raised: %s %s [%s] %s", a["id"], a["rule"], a["subject"], a["severity"], a["detail"])
    return opened


def open_counts(engine: Engine) -> dict[str, int]:
    """Open alerts per rule (every known rule present, zero included)."""
    with reading(engine) as conn:
        counted: dict[str, int] = dict(conn.execute(select(alerts.c.rule, func.count()).where(alerts.c.state == "open")
                                                    .group_by(alerts.c.rule)).all())
    return {**{rule: 0 for rule in RULES}, **counted}


def refresh_gauge(engine: Engine) -> dict[str, int]:
    """Set ``lienthong_alerts_open{rule}`` from the table; returns the counts."""
    counts = open_counts(engine)
    for rule, n in counts.items():
        OPEN.labels(rule).set(n)
    return counts


def list_alerts(engine: Engine, after_id: int = 0, limit: int = 100, state: str | None = None,
                rule: str | None = None) -> list[dict[str, Any]]:
    """Alerts in id order, paged by id, optionally of one state and one rule."""
    if state is not None and state not in STATES:
        raise ValueError(f"state: one of {', '.join(STATES)}")
    return [view(r) for r in page_rows(engine, alerts, after_id, limit, state=state, rule=rule)]


def open_partner_alerts(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The open alerts partners raised (``Context.alert``: rule ``<partner>.<rule>``), newest evidence
    first: operational facts (a late fee change, an overdue question, a refused receipt) that operators
    act on. Their details hold no secret and no citizen ID (the seam's contract)."""
    with reading(engine) as conn:
        rows = conn.execute(select(alerts).where(alerts.c.state == "open", alerts.c.rule.like("%.%"))
                            .order_by(alerts.c.last_at.desc(), alerts.c.id.desc()).limit(limit)).all()
    return [view(r) for r in rows]


def acknowledge(engine: Engine, alert_id: int, *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Mark an alert acknowledged (an admin action with before and after); LookupError if unknown.
    Acknowledging an acknowledged alert changes and records nothing."""
    with engine.begin() as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise LookupError(f"no alert {alert_id}")
        if row.state == "acknowledged":
            return view(row)
        conn.execute(update(alerts).where(alerts.c.id == alert_id).values(state="acknowledged"))
        after = view(conn.execute(select(alerts).where(alerts.c.id == alert_id)).one())
        actions.record(conn, actor, "alert.acknowledge", f"alert:{alert_id}", view(row), after, client_ip)
    return after
