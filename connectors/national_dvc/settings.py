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
