"""Chain verifications started from the console: one background thread at a time per process.

:meth:`VerifyJobs.start` runs :func:`hub.audit.verify.verify` in a thread and keeps its progress
(records walked of records to walk) and its :class:`~audit.verify_bundle.Report` in memory under a
random job id, for the progress page to poll. While one runs, starting another gives the running
one. When it ends (intact, a problem, or a failure to run), the verification is recorded as the
admin action ``audit.verify`` with its range and outcome. The last :data:`KEPT` jobs are remembered.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine

from hub.access import actions
from hub.audit.records import iso
from hub.audit.verify import Report, verify
from hub.config import Settings

log = logging.getLogger(__name__)
KEPT = 20
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)


@dataclass
class VerifyJob:
    """One verification: who asked, for which range, how far it got and what it found."""

    id: str
    actor: str
    client_ip: str
    since: datetime | None
    until: datetime | None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    done: int = 0
    total: int = 0
    report: Report | None = None
    failure: str | None = None  # the verification could not run (the database, the key files)
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def advance(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def outcome(self) -> dict[str, Any]:
        """The admin action's ``after``: the range asked for and checked, and the verdict."""
        out: dict[str, Any] = {"since": iso(self.since) if self.since else None,
                               "until": iso(self.until) if self.until else None}
        if self.report is None:
            return {**out, "ok": False, "failure": self.failure}
        r, p = self.report, self.report.problem
        return {**out, "ok": r.ok, "records": r.records, "checkpoints": r.checkpoints, "first_seq": r.start_seq + 1,
                "last_seq": r.last_seq, "unsealed": r.unsealed, "verdict": r.lines()[0],
                "problem": None if p is None else {"kind": p.kind, "seq": p.seq, "id": p.id, "detail": p.detail}}


class VerifyJobs:
    """The registry of one process (one application)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, VerifyJob] = OrderedDict()

    def get(self, job_id: str) -> VerifyJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self) -> VerifyJob | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.running), None)

    def latest(self) -> VerifyJob | None:
        with self._lock:
            return next(reversed(self._jobs.values()), None)

    def start(self, engine: Engine, settings: Settings, since: datetime | None, until: datetime | None, *,
              actor: str, client_ip: str = "") -> tuple[VerifyJob, bool]:
        """A new verification in its own thread, or the one already running; (job, started)."""
        with self._lock:
            current = next((j for j in self._jobs.values() if j.running), None)
            if current is not None:
                return current, False
            job = VerifyJob(secrets.token_urlsafe(16), actor, client_ip, since, until)
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT:
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(engine, settings, job), name=f"audit-verify-{job.id[:6]}",
                         daemon=True).start()
        return job, True

    @staticmethod
    def _run(engine: Engine, settings: Settings, job: VerifyJob) -> None:
        try:
            job.report = verify(engine, settings, job.since, job.until, progress=job.advance)
        except Exception as exc:  # noqa: BLE001 - said on the page and recorded; the thread ends cleanly
            job.failure = type(exc).__name__
            log.exception("audit verification %s failed to run", job.id)
        try:
            with engine.begin() as conn:
                actions.record(conn, job.actor, "audit.verify", "audit_chain", after=job.outcome(),
                               client_ip=job.client_ip)
        except Exception:  # noqa: BLE001 - the verdict is still shown; the log says the record is missing
            log.exception("audit verification %s could not be recorded", job.id)
        finally:
            job.finished_at = datetime.now(timezone.utc)
