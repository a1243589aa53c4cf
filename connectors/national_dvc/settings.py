"""Settings of the national portal (DVCQG) adapter: ``LIENTHONG_NATIONAL_DVC_<NAME>``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

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
    # ratings and questions (connectors/national_dvc/ratings/, questions/)
    question_answer_days: int = Field(
        3, ge=1, le=30, description="Working days an agency has to answer a citizen's question from the portal "
                                    "(seed 003 Đ16.2b: 3, 5 across sectors, at most 10; seed 004 Đ13.3b: 15).")
    questions_every: float = Field(300.0, gt=0, description="Seconds between two pulls of the portal's questions "
                                                             "(and checks of overdue ones).")
    ratings_every: float = Field(60.0, gt=0, description="Seconds between two runs of the ratings job (ended months "
                                                          "to send, operators' send requests).")

    # -- statistics on the working-day calendar (statistics/README.md) ---------------------------
    office_hours: str = Field("07:30-11:30,13:30-17:00", description="Office hours of a working day, Vietnam time "
                              "(Asia/Ho_Chi_Minh): spans HH:MM-HH:MM, comma separated, in order.")
    online_cutoff: str = Field("17:00", pattern=r"^\d{2}:\d{2}$", description="An online dossier filed at or after "
                               "this hour counts from the next working day (seed 004 Đ9.1).")
    statistics_rule: Literal["000-14.3", "004-14.4"] = Field(
        "000-14.3", description="How early / on time / late is judged: 000-14.3 by the end of the working day "
                                "before the appointment and the appointment hour; 004-14.4 by date.")
    statistics_interval: float = Field(3600.0, gt=0, description="Seconds between the monthly statistics job's "
                                                                 "checks (it sends a month once, after it ends).")
    statistics_agency_names: dict[str, str] = Field(
        default_factory=dict, description="TenDonVi per MADONVI for the statistics (JSON object); an agency not "
                                          "named is given its dossiers' handling unit, else its code.")

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        from connectors.national_dvc.statistics.calendar import parse_hours

        parse_hours(value)
        return value
    # Signed results (results/README.md): the PAdES signatures of a result's PDF documents.
    result_signatures: Literal["off", "flag", "refuse"] = Field(
        "off", description="Check the digital signatures of result PDFs before the portal is told of a result: off; "
                           "flag (send, record the check); refuse (a result with an unsigned, broken or untrusted "
                           "PDF is not sent: a dead letter). Production should set flag or refuse."
    )
    result_trust_roots: str = Field(
        "", description="Certificate authorities a result's signer must chain to: a PEM/DER file, or a folder of "
                        "*.pem, *.crt, *.cer, *.der files (e.g. the national digital signature root CA's)."
    )
    # the status look-up (connectors/national_dvc/lookup/)
    lookup_public_per_minute: int = Field(
        30, ge=0, description="Public status look-ups (JSON, page) a minute per client address (IPv6: per /64); "
                              "404s count too; 0: no throttle.")
    lookup_qr_per_minute: int = Field(120, ge=0, description="QR code images a minute per client address.")
    lookup_public_base_url: str = Field(
        "", description="The hub's public address the QR codes open (https://dichvucong.example.gov.vn); "
                        "empty: the address each request reached.")

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
