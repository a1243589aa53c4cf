"""The sandbox's month of statistics: once the demo one-stop system has filed a few dossiers, the
current month is computed and sent to the portal simulator (``/_sim/state`` shows it under
``statistics``; ``GET /v1/statistics/<month>.json`` answers it)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from hub.seam import SandboxInfo

log = logging.getLogger(__name__)
WAIT_SECONDS = 20.0  #: the demo files one dossier every 5 s: a few are in by then


def _send(info: SandboxInfo, wait: float) -> None:
    from connectors.national_dvc.client import DvcError
    from connectors.national_dvc.statistics.monthly import Month
    from connectors.national_dvc.statistics.send import send

    time.sleep(wait)
    month = Month.of(datetime.now(timezone.utc))
    try:
        stats = send(info.ctx, month, "sandbox")
    except (DvcError, OSError) as exc:
        log.warning("sandbox statistics of %s not sent: %s", month, exc)
        return
    log.info("sandbox statistics of %s sent: %d agencies", month, len(stats.records))


def demo(info: SandboxInfo, wait: float = WAIT_SECONDS) -> None:
    """Send the current month's statistics in the background after ``wait`` seconds (the other parts' demos go on)."""
    threading.Thread(target=_send, args=(info, wait), name="demo-statistics", daemon=True).start()
