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
    # ratings and questions (connectors/national_dvc/ratings/, questions/)
    question_answer_days: int = Field(
        3, ge=1, le=30, description="Working days an agency has to answer a citizen's question from the portal "
                                    "(seed 003 Đ16.2b: 3, 5 across sectors, at most 10; seed 004 Đ13.3b: 15).")
    questions_every: float = Field(300.0, gt=0, description="Seconds between two pulls of the portal's questions "
                                                             "(and checks of overdue ones).")
    ratings_every: float = Field(60.0, gt=0, description="Seconds between two runs of the ratings job (ended months "
                                                          "to send, operators' send requests).")
