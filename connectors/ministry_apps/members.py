"""Each adapter file as a member of the ministry partner (``hub.seam.Member``): its routes and its connector."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors.ministry_apps.registry import Loaded, Registry, registry_for
from hub.seam import Context, Member

if TYPE_CHECKING:
    from hub.seam import Connector


def registry(folder: Path) -> Registry:
    """The process's registry of ``folder``."""
    return registry_for(folder, lambda loaded: _member(folder, loaded))


def of(ctx: Context) -> Registry:
    """The registry of the folder ``ctx``'s settings name."""
    return registry(Path(ctx.settings.folder))


def _member(folder: Path, loaded: Loaded) -> Member:
    code = loaded.adapter.code

    def connector(ctx: Context) -> "Connector":
        from connectors.ministry_apps.connector import AdapterConnector

        return AdapterConnector(ctx, lambda: registry(folder).get(code))

    return Member(code=code, name=loaded.adapter.name, kind=loaded.adapter.kind, accepts=loaded.adapter.accepts,
                  connector=connector, routes=loaded.adapter.routes())
