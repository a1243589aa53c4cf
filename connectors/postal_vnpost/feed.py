"""The scheduled read of VNPost's tracking feed, after a durable cursor (job ``tracking``).

The cursor is the last ``_id`` the hub stored, kept in the database (``ctx.cursor("tracking")``).
Each page (``feed_page_size`` events, at most 1000) is stored in ONE transaction: its canonical
messages, its ``postal_events`` rows and the cursor, moved to the page's greatest ``_id``. A crash
anywhere leaves either all of a page or none of it, so a restart resumes where it stopped and
nothing is missed or stored twice (a page read again is deduplicated by event id and message id).

The cursor never moves back. A run stops on an empty page (nothing new, or a stalled feed), on a
page with nothing past the cursor (the same page served twice), on a short page (caught up) or
after :data:`PAGES_PER_RUN` pages; the next run, ``feed_interval`` seconds later, goes on.
"""

from __future__ import annotations

import logging
import weakref
from functools import partial

from sqlalchemy import Connection

from connectors.postal_vnpost.client import VnpostClient
from connectors.postal_vnpost.events import derived_key, event_key, is_oid, map_events, store
from connectors.postal_vnpost.interface import FIRST_LAST_ID, TrackingEvent
from hub.seam import Context, Cursor, Job

log = logging.getLogger(__name__)

CURSOR = "tracking"
PAGES_PER_RUN = 100  #: pages one run reads at most; the next run goes on
#: One client per partner context, kept between runs: its token lives as long as VNPost says.
_clients: "weakref.WeakKeyDictionary[Context, VnpostClient]" = weakref.WeakKeyDictionary()


def client_of(ctx: Context) -> VnpostClient:
    """The feed's VNPost client for ``ctx`` (made on first use)."""
    found = _clients.get(ctx)
    if found is None:
        found = _clients[ctx] = VnpostClient.from_context(ctx)
    return found


def keyed(events: list[TrackingEvent]) -> list[tuple[str, TrackingEvent]]:
    """``(event id, event)`` of a page's events: the ``_id``, or a digest of an event that has none."""
    return [(event_key(e) or derived_key(e), e) for e in events]


def read_feed(ctx: Context) -> None:
    """Read the feed after the cursor until it has nothing new (or :data:`PAGES_PER_RUN` pages)."""
    cursor = ctx.cursor(CURSOR)
    last = cursor.get() or FIRST_LAST_ID
    size = min(1000, ctx.settings.feed_page_size)
    client = client_of(ctx)
    stored = 0
    for _ in range(PAGES_PER_RUN):
        page = keyed(client.track(last, size).events)
        ids = {key for key, _ in page}
        top = max((key for key in ids if is_oid(key)), default=last)
        if not page or top <= last:
            break  # stalled, or served again: nothing past the cursor
        mapped = map_events(ctx.engine, ctx.code, page)
        result = store(ctx, mapped, "feed", also=partial(_move, cursor, top))
        stored += result.stored
        last = top
        if len(ids) < size:
            break  # a short page: caught up
    if stored:
        log.info("vnpost feed: %d new event(s), cursor at %s", stored, last)


def _move(cursor: Cursor, value: str, conn: Connection) -> None:
    """The cursor's move, in the page's transaction."""
    cursor.set(value, conn)


FEED = Job(CURSOR, read_feed, every=lambda ctx: float(ctx.settings.feed_interval))
