"""Which connectors the hub knows. Adding a partner = a folder plus one line here.

Each entry names a class implementing :class:`connectors.base.Connector`; its class attributes
``name``, ``accepts`` and ``max_batch`` describe it, and ``from_settings(settings)`` builds it.
"""

from __future__ import annotations

import importlib

from connectors.base import Connector
from hub.config import Settings

REGISTRY: dict[str, str] = {
    "national_dvc": "connectors.national_dvc.connector:NationalDvcConnector",
    "motcua": "connectors.motcua.connector:MotcuaConnector",
    "population_db": "connectors.population_db.connector:PopulationDbConnector",
}


def connector_class(name: str) -> type[Connector]:
    """The class registered for destination ``name``."""
    try:
        module, _, cls = REGISTRY[name].partition(":")
    except KeyError:
        raise LookupError(f"no connector named {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    return getattr(importlib.import_module(module), cls)


def accepted_types() -> dict[str, frozenset[str]]:
    """Destination name -> message types it accepts, for every registered connector."""
    return {name: connector_class(name).accepts for name in REGISTRY}


def build(name: str, settings: Settings) -> Connector:
    """A ready connector for destination ``name``."""
    return connector_class(name).from_settings(settings)
