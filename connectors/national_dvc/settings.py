"""Settings of the national portal (DVCQG) adapter: ``LIENTHONG_NATIONAL_DVC_<NAME>``."""

from __future__ import annotations

from pydantic import Field

from hub.seam import PartnerSettings, partner_settings


class NationalDvcSettings(PartnerSettings):
    """The hub's account on the national portal's adapter and how it calls it."""

    model_config = partner_settings("national_dvc")

    adapter_url: str = Field("http://127.0.0.1:8101", description="National portal (DVCQG) adapter base URL.")
    username: str = Field("lienthong", description="Account on the national portal adapter.")
    password: str = Field("sandbox-password", description="Password on the adapter: the fallback of vault credential "
                                                          "national_dvc.password (the simulator's).")
    madonvi: str = Field("000.00.00.H49", description="Province agency code sent as madonvi.")
    timeout: float = Field(5.0, description="Seconds before a call to the national portal counts as timed out.")
    sign_requests: bool = Field(
        False, description="Sign calls to the national portal with the hub's key (HTTP Message Signatures, RFC 9421)."
    )
    # the status look-up (connectors/national_dvc/lookup/)
    lookup_public_per_minute: int = Field(
        30, ge=0, description="Public status look-ups (JSON, page) a minute per client address (IPv6: per /64); "
                              "404s count too; 0: no throttle.")
    lookup_qr_per_minute: int = Field(120, ge=0, description="QR code images a minute per client address.")
    lookup_public_base_url: str = Field(
        "", description="The hub's public address the QR codes open (https://dichvucong.example.gov.vn); "
                        "empty: the address each request reached.")
