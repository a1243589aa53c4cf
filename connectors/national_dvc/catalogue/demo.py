"""The sandbox's catalogue: synced once at start, before the other parts' demo traffic (the
one-stop demo's dossiers are then checked against it), then kept in step by the job (the sandbox
syncs every minute and its simulator changes the catalogue every minute)."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from hub.seam import SandboxInfo

log = logging.getLogger(__name__)


def demo(info: SandboxInfo, keys: Mapping[str, str] | Any, attempts: int = 20) -> None:
    """Sync once, trying again each second while the portal simulator is still starting."""
    import time

    from connectors.national_dvc.catalogue.sync import SyncFailed, sync

    for attempt in range(1, attempts + 1):
        try:
            report = sync(info.ctx)
            break
        except SyncFailed as exc:
            if attempt == attempts:
                log.warning("sandbox: catalogue sync failed: %s", exc)
                return
            time.sleep(1)
    log.info("sandbox: catalogue synced: %d procedures, %d new version(s)", report.listed, len(report.changed))
