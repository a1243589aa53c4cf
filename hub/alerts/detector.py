"""The periodic pass: a worker thread that runs the rules every ``alert_interval`` s, raises their findings, refreshes the gauge.

Rules: ``hub/alerts/rules.py``. Several worker processes may each run one: raising is idempotent
(``hub/alerts/store.py``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.alerts.rules import Finding, detect, office_hours
from hub.alerts.store import raise_findings, refresh_gauge
from hub.config import Settings

log = logging.getLogger(__name__)
CATCH_UP = timedelta(hours=1)  # how far back the first pass's event rules look
LATE = timedelta(minutes=2)  # records may be written this long after their time; event windows overlap by it


class Detector(threading.Thread):
    """Runs :meth:`run_once` at start and then every ``interval`` seconds until :meth:`stop`; a failed
    pass is logged and retried at the next, never fatal."""

    def __init__(self, engine: Engine, settings: Settings, interval: float | None = None) -> None:
        super().__init__(name="detector", daemon=True)
        office_hours(settings)  # a wrong setting fails at start, not on every pass
        self.engine, self.settings = engine, settings
        self.interval = settings.alert_interval if interval is None else interval
        self.stopped = threading.Event()
        self.memo: dict[tuple[Any, ...], float] = {}
        self._since: datetime | None = None

    def run_once(self, now: datetime | None = None) -> list[Finding]:
        """One pass: detect, raise, refresh the gauge; returns the findings."""
        now = now or datetime.now(timezone.utc)
        since = self._since or now - CATCH_UP
        findings = detect(self.engine, self.settings, now=now, since=since, memo=self.memo)
        raise_findings(self.engine, findings)
        refresh_gauge(self.engine)
        self._since = now - LATE
        return findings

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.run_once()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("detection pass failed, will retry: %s", type(exc).__name__)
            except Exception:  # noqa: BLE001 - a bug in one pass must not end detection
                log.exception("detection pass failed, will retry")
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
