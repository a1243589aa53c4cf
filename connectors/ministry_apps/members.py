"""Each adapter file as a member of the ministry partner (``hub.seam.Member``): its routes and its connector."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors.ministry_apps.registry import Loaded, Registry, registry_for
from connectors.ministry_apps.settings import SHIPPED
from hub.seam import Context, Member

if TYPE_CHECKING:
    from hub.seam import Connector

NOWHERE = Path("/nonexistent/lienthong-no-ministry-adapters")  # no folder: a registry with nothing in it


def registry(folder: Path) -> Registry:
    """The process's registry of ``folder``."""
    return registry_for(folder, lambda loaded: _member(folder, loaded))


def folder_of(configured: Path | None, profile: str) -> Path | None:
    """The adapters folder: the one configured; unset, the shipped adapters in the sandbox and none in
    production (a province names its own folder, with its own systems' addresses and secrets)."""
    if configured is not None:
        return Path(configured)
    return SHIPPED if profile != "production" else None


_of: dict[tuple[int, int], Registry] = {}


def of(ctx: Context) -> Registry:
    """The registry of ``ctx``'s adapters folder (an empty one when there is none), found once per settings."""
    key = (id(ctx.settings), id(ctx.hub))
    found = _of.get(key)
    if found is None:
        found = _of[key] = registry(folder_of(ctx.settings.folder, ctx.hub.profile) or NOWHERE)
    return found


def _member(folder: Path, loaded: Loaded) -> Member:
    code = loaded.adapter.code

    def connector(ctx: Context) -> "Connector":
        from connectors.ministry_apps.connector import AdapterConnector

        return AdapterConnector(ctx, lambda: registry(folder).get(code))

    return Member(code=code, name=loaded.adapter.name, kind=loaded.adapter.kind, accepts=loaded.adapter.accepts,
                  connector=connector, routes=loaded.adapter.routes())
