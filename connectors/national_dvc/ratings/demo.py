"""The sandbox's month of ratings: once the demo one-stop system has rated a few finished dossiers, the
current month's aggregates are sent to the portal simulator (``/_sim/state`` shows them under
``ratings``), as ``lienthong ratings send --month`` would; the monthly job sends ended months itself."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from hub.seam import SandboxInfo

log = logging.getLogger(__name__)
WAIT_SECONDS = 60.0  #: the demo rates every other finished dossier: a few ratings are in by then


def _send(info: SandboxInfo, wait: float) -> None:
    from connectors.national_dvc.client import DvcError
    from connectors.national_dvc.ratings.aggregate import month_of
    from connectors.national_dvc.ratings.store import portal_client, send_month

    time.sleep(wait)
    month = month_of(datetime.now(timezone.utc))
    client = portal_client(info.ctx)
    try:
        sent = send_month(info.ctx, client, month)
    except (DvcError, OSError) as exc:
        log.warning("sandbox ratings of %s not sent: %s", month, exc)
        return
    finally:
        client.close()
    log.info("sandbox ratings of %s: %s (%d ratings)", month, sent.detail, sent.ratings)


def demo(info: SandboxInfo, wait: float = WAIT_SECONDS) -> None:
    """Send the current month's ratings in the background after ``wait`` seconds."""
    threading.Thread(target=_send, args=(info, wait), name="demo-ratings", daemon=True).start()
