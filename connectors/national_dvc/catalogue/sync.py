"""The catalogue sync: read the national catalogue, store what changed, tell the one-stop system.

One run (:func:`sync`): ``LayDanhSachTTHC``, then ``LayThuTuc`` for each procedure listed
(``catalogue_concurrency`` calls in flight, threads over the one keep-alive client), then
``LayDanhMucCoQuan`` and ``LayDanhMucLinhVuc``. Each procedure whose normalised content differs
from the version held gets a new version; a published procedure missing from the list is withdrawn.
Each new version is one canonical ``catalogue.changed`` notice (``catalogue-<code>-v<n>``, subject
``procedure:<code>``) stored by ``ctx.submit_many`` with the version and its history row in the SAME
transaction (batches of :data:`BATCH`): a crash loses or doubles nothing, and the next run, finding
the stored digests, sends only what is still new.

The job (:data:`JOB`) runs every ``catalogue_job_every`` seconds: it syncs when the night's moment
(``catalogue_sync_at``, Asia/Ho_Chi_Minh) passed since its last run (so a hub down at that hour
syncs when it is back, and a new hub waits for its first night or ``lienthong catalogue sync``), or
``catalogue_sync_interval`` seconds after the last sync when that is set; then it checks late fee
changes (``alerts.py``).
"""

from __future__ import annotations

import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable

from pydantic import ValidationError

from connectors.national_dvc.catalogue import model
from connectors.national_dvc.catalogue.store import Held, Version, held, replace_directory, write
from connectors.national_dvc.catalogue.wire import CoQuanAnswer, DanhSachTTHCAnswer, LinhVucAnswer, ThuTucAnswer
from connectors.national_dvc.client import DvcClient, DvcError
from connectors.national_dvc.wire_types import HANOI
from hub.seam import Context, Job, Refused, Unavailable, tables

log = logging.getLogger(__name__)

BATCH = 200  #: versions stored per transaction
NIGHT_CURSOR = "catalogue-job-at"  #: when the job last looked (ISO, UTC)
SYNCED_CURSOR = "catalogue-synced-at"  #: when the last sync ended (ISO, UTC)
Progress = Callable[[int, int], None]  #: (procedures read, procedures listed)

_clients: "weakref.WeakKeyDictionary[Any, DvcClient]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class SyncFailed(Exception):
    """The sync stopped (the portal refused or could not be read, the hub's store is unavailable)."""


@dataclass
class Report:
    """What one sync did."""

    listed: int = 0
    read: int = 0
    changed: dict[str, list[str]] = field(default_factory=dict)  #: code -> changes of its new version
    failed: dict[str, str] = field(default_factory=dict)  #: code -> why LayThuTuc failed (kept as held)
    agencies: int = 0
    fields: int = 0
    seconds: float = 0.0


def client_of(ctx: Context) -> DvcClient:
    """The portal client of ``ctx`` (one per context, kept between runs: its session and connections)."""
    with _lock:
        found = _clients.get(ctx)
        if found is None:
            s = ctx.settings
            found = _clients[ctx] = DvcClient(s.adapter_url, s.username, ctx.credential("password", s.password) or "",
                                              s.madonvi, s.timeout, auth=ctx.signer() if s.sign_requests else None)
        return found


def _result(client: DvcClient, service: str, fields: dict[str, Any], answer: Any) -> Any:
    try:
        _, data = client.read(service, fields)
        return answer.model_validate(data).result
    except DvcError as exc:
        raise SyncFailed(f"{service}: {exc.reason}") from None
    except ValidationError as exc:
        raise SyncFailed(f"{service}: unreadable answer ({exc.error_count()} error(s))") from None


def fetch(client: DvcClient, codes: list[str], concurrency: int,
          progress: Progress | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """``LayThuTuc`` of each code, ``concurrency`` at a time: the normalised contents, and the failures."""
    contents: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}

    def one(code: str) -> dict[str, Any]:
        items = _result(client, "LayThuTuc", {"maTTHC": code}, ThuTucAnswer)
        if not items:
            raise SyncFailed(f"LayThuTuc {code}: empty result")
        return model.normalise(items[0])

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="catalogue") as pool:
        futures = {pool.submit(one, code): code for code in codes}
        for done, future in enumerate(as_completed(futures), 1):
            code = futures[future]
            try:
                contents[code] = future.result()
            except SyncFailed as exc:
                failed[code] = str(exc)
            if progress is not None:
                progress(done, len(codes))
    return contents, failed


def plan(stored: dict[str, Held], listed: list[str], contents: dict[str, dict[str, Any]], failed: dict[str, str],
         now: datetime) -> list[tuple[Version, dict[str, Any] | None]]:
    """The new versions (and their notices, None when there is nothing to tell) from what was read."""
    out: list[tuple[Version, dict[str, Any] | None]] = []

    def add(code: str, content: dict[str, Any], before: Held | None) -> None:
        changes, fee_channels, detail = model.diff(before.content if before else None, content)
        version = (before.version if before else 0) + 1
        if before is not None and not changes:
            changes = ["details"]  # the content differs in what no kind names (kept all the same)
        decision, decided_on = model.decision_of(content)
        message = model.notice(content, version, changes, fee_channels, now) if changes else None
        out.append((Version(code, version, model.digest(content), content, changes, fee_channels, detail, decision,
                            decided_on.isoformat() if decided_on else None, message["message_id"] if message else None,
                            now), message))

    for code in listed:
        content = contents.get(code)
        if content is None:
            continue  # its LayThuTuc failed: kept as held, read again next time
        before = stored.get(code)
        if before is not None and before.digest == model.digest(content):
            continue
        add(code, content, before)
    present = set(listed)
    for code, before in sorted(stored.items()):
        if code not in present and before.published:  # no longer listed: withdrawn, citing what LayThuTuc says
            add(code, {**contents.get(code, before.content), "published": False}, before)
    return out


def store(ctx: Context, planned: list[tuple[Version, dict[str, Any] | None]]) -> None:
    """Each batch's notices, versions and history rows in one transaction."""
    for start in range(0, len(planned), BATCH):
        chunk = planned[start:start + BATCH]
        messages = [m for _, m in chunk if m is not None]

        def then(conn: Any, verdicts: list[str], chunk: list[tuple[Version, dict[str, Any] | None]] = chunk) -> None:
            for version, _ in chunk:
                write(conn, version)

        try:
            ctx.submit_many(messages, types=[model.TYPE], then=then)
        except Refused as exc:
            raise SyncFailed(f"the hub refused a catalogue notice ({exc.slug}): {exc.detail}") from None
        except Unavailable as exc:
            raise SyncFailed(f"the hub's store is unavailable: {exc}") from None


def sync(ctx: Context, *, now: datetime | None = None, progress: Progress | None = None,
         listing: Callable[[int], None] | None = None) -> Report:
    """One full sync (see the module's documentation); raises :class:`SyncFailed`."""
    import time as clock

    started = clock.perf_counter()
    now = now or datetime.now(timezone.utc)
    client = client_of(ctx)
    report = Report()
    items = _result(client, "LayDanhSachTTHC", {}, DanhSachTTHCAnswer)
    listed = list(dict.fromkeys(model.national_code(i.MATTHC) for i in items))
    report.listed = len(listed)
    stored = held(ctx.engine)
    if not listed and any(h.published for h in stored.values()):
        raise SyncFailed("LayDanhSachTTHC listed no procedure: not taken as every procedure withdrawn")
    present = set(listed)
    gone = [code for code, h in sorted(stored.items()) if h.published and code not in present]  # read for the decision
    if listing is not None:
        listing(len(listed) + len(gone))
    contents, report.failed = fetch(client, listed + gone, ctx.settings.catalogue_concurrency, progress)
    report.read = len(contents)
    agencies = _result(client, "LayDanhMucCoQuan", {}, CoQuanAnswer)
    fields = _result(client, "LayDanhMucLinhVuc", {}, LinhVucAnswer)
    planned = plan(stored, listed, contents, report.failed, now)
    store(ctx, planned)
    report.changed = {v.code: v.changes for v, _ in planned}
    report.agencies = replace_directory(ctx.engine, tables.catalogue_agencies,
                                        [{"code": a.MADONVI, "name": model._nfc(a.TENDONVI) or a.MADONVI,
                                          "level": a.CAPDONVI} for a in agencies], now)
    report.fields = replace_directory(ctx.engine, tables.catalogue_fields,
                                      [{"code": f.MALINHVUC, "name": model._nfc(f.TENLINHVUC) or f.MALINHVUC,
                                        "sector": f.MANGANH} for f in fields], now)
    report.seconds = clock.perf_counter() - started
    ctx.cursor(SYNCED_CURSOR).set(now.isoformat())
    if report.failed:
        log.warning("catalogue: %d procedure(s) could not be read (kept as held), e.g. %s", len(report.failed),
                    next(iter(report.failed.values())))
    log.info("catalogue: %d listed, %d new version(s) in %.1f s", report.listed, len(report.changed), report.seconds)
    return report


def due(ctx: Context, now: datetime) -> bool:
    """Whether the job syncs now: the night's moment passed since its last look, or the interval since the last sync."""
    s = ctx.settings
    looked = ctx.cursor(NIGHT_CURSOR).get()
    ctx.cursor(NIGHT_CURSOR).set(now.isoformat())
    if s.catalogue_sync_interval > 0:
        last = ctx.cursor(SYNCED_CURSOR).get()
        if last is None or now - datetime.fromisoformat(last) >= timedelta(seconds=s.catalogue_sync_interval):
            return True
    if looked is None:
        return False  # a hub's first look: its first night is the next one (or ``lienthong catalogue sync``)
    hour, minute = (int(p) for p in s.catalogue_sync_at.split(":"))
    local = now.astimezone(HANOI)
    moment = datetime.combine(local.date(), time(hour, minute), HANOI)
    if moment > local:
        moment -= timedelta(days=1)
    return datetime.fromisoformat(looked) < moment <= now


def run(ctx: Context, now: datetime | None = None) -> None:
    """The job: the sync when it is due, then the late fee changes."""
    from connectors.national_dvc.catalogue.alerts import check_late

    now = now or datetime.now(timezone.utc)
    if due(ctx, now):
        try:
            sync(ctx, now=now)
        except SyncFailed as exc:
            log.warning("catalogue: sync stopped: %s", exc)
    check_late(ctx, now)


JOB = Job("catalogue", run, every=lambda ctx: float(ctx.settings.catalogue_job_every))
