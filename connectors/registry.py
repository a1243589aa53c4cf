"""Which connectors the hub knows. Adding a partner = a folder plus one line here.

Each entry names a module that exposes ``CONNECTOR_CLASS`` (whose class attributes ``name``,
``accepts`` and ``max_batch`` describe it) and ``build(settings) -> Connector``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from connectors.base import Connector
from hub.config import Settings

REGISTRY: dict[str, str] = {
    "national_dvc": "connectors.national_dvc",
}


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(REGISTRY[name])
    except KeyError:
        raise LookupError(f"no connector named {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def accepted_types() -> dict[str, frozenset[str]]:
    """Destination name -> message types it accepts, for every registered connector."""
    return {name: _module(name).CONNECTOR_CLASS.accepts for name in REGISTRY}


def build(name: str, settings: Settings) -> Connector:
    """A ready connector for destination ``name``."""
    return _module(name).build(settings)
