"""The sandbox's catalogue: synced once at start, before the other parts' demo traffic (the
one-stop demo's dossiers are then checked against it), then kept in step by the job (the sandbox
syncs every minute and its simulator changes the catalogue every minute)."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from hub.seam import SandboxInfo

log = logging.getLogger(__name__)


def demo(info: SandboxInfo, keys: Mapping[str, str] | Any) -> None:
    from connectors.national_dvc.catalogue.sync import SyncFailed, sync

    try:
        report = sync(info.ctx)
    except SyncFailed as exc:
        log.warning("sandbox: catalogue sync failed: %s", exc)
        return
    log.info("sandbox: catalogue synced: %d procedures, %d new version(s)", report.listed, len(report.changed))
