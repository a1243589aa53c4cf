"""The registry's settings: ``LIENTHONG_TIEMCHUNG_<NAME>``."""

from __future__ import annotations

from pydantic import Field

from hub.seam import PartnerSettings, partner_settings


class TiemchungSettings(PartnerSettings):
    """Where the registry is and how the hub talks to it."""

    model_config = partner_settings("tiemchung")

    url: str = Field("http://127.0.0.1:8190", description="The registry's API base URL.")
    token: str = Field("sandbox-tiemchung-token", description="Bearer token towards the registry: the fallback of vault "
                                                              "credential tiemchung.token (the simulator's).")
    timeout: float = Field(3.0, description="Seconds before a call to the registry counts as timed out.")
    poll_seconds: float = Field(1.0, description="Seconds between two reads of the registry's event feed.")
