"""National public-service portal (Cổng Dịch vụ công quốc gia, DVCQG) connector.

``build(settings)`` is the factory the hub registers; see README.md in this folder for the wire
format, error classification, mapping table and the simulator. Submodules are imported lazily so
``python -m connectors.national_dvc.wire`` and ``...simulator`` start clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.national_dvc.connector import NationalDvcConnector
    from hub.config import Settings


def build(settings: "Settings") -> "NationalDvcConnector":
    """The connector configured from ``settings.dvc_*``."""
    from connectors.national_dvc.connector import NationalDvcConnector

    return NationalDvcConnector.from_settings(settings)


def __getattr__(name: str) -> Any:
    if name == "NationalDvcConnector":
        from connectors.national_dvc.connector import NationalDvcConnector

        return NationalDvcConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NationalDvcConnector", "build"]
