"""Settings of the national portal (DVCQG) adapter: ``LIENTHONG_NATIONAL_DVC_<NAME>``."""

from __future__ import annotations

from typing import Literal

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

    # -- the catalogue (catalogue/README.md) --
    catalogue_sync_at: str = Field("02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                   description="Local time (Asia/Ho_Chi_Minh, HH:MM) after which the night's catalogue sync runs.")
    catalogue_sync_interval: float = Field(0.0, ge=0, description="Also sync the catalogue every so many seconds "
                                           "(0: only nightly; the sandbox syncs every minute).")
    catalogue_job_every: float = Field(300.0, gt=0, description="Seconds between the catalogue job's runs (each decides "
                                       "whether a sync is due, and checks the late fee changes).")
    catalogue_concurrency: int = Field(4, ge=1, le=32, description="LayThuTuc calls in flight during a sync.")
    catalogue_check: Literal["refuse", "warn", "off"] = Field(
        "refuse", description="Intake check of dossiers and fee notices against the catalogue: refuse, warn (accept, "
                              "log and count) or off.")
    catalogue_fee_days: int = Field(5, ge=1, description="Days after a fee decision by which the change must have "
                                    "reached the one-stop system (seed 000 Đ9.1, seed 001 Đ8).")
