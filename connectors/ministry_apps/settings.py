"""Settings of the ministry software partner (``LIENTHONG_MINISTRY_APPS_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from hub.seam import PartnerSettings, partner_settings

SHIPPED = Path(__file__).resolve().parent / "adapters"


class MinistryAppsSettings(PartnerSettings):
    """Where the adapter files are; each ministry system's own settings are in its file."""

    model_config = partner_settings("ministry_apps")

    folder: Path | None = Field(None, description="The folder of adapter files (*.yaml, one ministry system each, "
                                                  "with their wire schemas beside them); read again when it "
                                                  "changes. Unset: the shipped adapters (civil status, land, SOAP "
                                                  "test) in the sandbox profile, none in production.")
    pull_seconds: float = Field(1.0, description="Seconds between two looks at which adapters' pulls are due.")
