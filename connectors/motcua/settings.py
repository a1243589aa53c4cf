"""Settings of the one-stop system's endpoint: ``LIENTHONG_MOTCUA_<NAME>``."""

from __future__ import annotations

from pydantic import Field

from hub.seam import PartnerSettings, partner_settings


class MotcuaSettings(PartnerSettings):
    """Where and how the hub posts the messages routed to the one-stop system."""

    model_config = partner_settings("motcua")

    callback_url: str = Field("http://127.0.0.1:8103/lienthong/messages",
                              description="Where the hub posts messages routed to the one-stop system (motcua).")
    timeout: float = Field(5.0, description="Seconds before a post to the one-stop system counts as timed out.")
    sign_requests: bool = Field(
        False, description="Sign posts to the one-stop system with the hub's key (HTTP Message Signatures, RFC 9421)."
    )
