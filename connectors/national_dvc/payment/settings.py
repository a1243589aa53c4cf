"""Settings of the national payment platform: ``LIENTHONG_NATIONAL_PAYMENT_<NAME>``."""

from __future__ import annotations

from pydantic import Field

from hub.seam import CidrList, PartnerSettings, partner_settings

CODE = "national_payment"  #: the platform's one name: partner code, source of its messages, settings, vault, schemas


class NationalPaymentSettings(PartnerSettings):
    """The province's account at the payment platform, and what the hub believes of its callbacks."""

    model_config = partner_settings(CODE)

    url: str = Field("http://127.0.0.1:8102", description="National payment platform base URL (INIT, QUERY, GET_BILL).")
    partner_code: str = Field("000.00.00.H49", description="MaDoiTac: the province's code at the payment platform.")
    secret: str = Field(
        "", description="Shared secret of the MaXacThuc checksums, used when vault credential national_payment.secret is "
                        "not set. No default: without either, every callback is refused (MaLoi 99, HTTP 503)."
    )
    timeout: float = Field(5.0, description="Seconds before a call to the payment platform counts as timed out.")
    callback_networks: CidrList = Field(
        ["127.0.0.1/32", "::1/128"], description="Networks the payment platform's callbacks may come from (JSON list)."
    )
    # A callback's ThoiGianGD (covered by its checksum) must be this close to the hub's clock, so an old
    # genuine callback cannot be replayed later; a resend of a payment already recorded as paid is
    # answered "00" whatever its age (records.py).
    callback_window_seconds: int = Field(
        900, ge=1, le=7 * 86400, description="Seconds a callback's ThoiGianGD may be before or after the hub's clock "
                                             "(else refused: MaLoi 06, outcome payment_refused:outside_window)."
    )

    # The payment loop (loop.py): INIT for an online fee notice, QUERY for a payment whose callback
    # is late (a lost callback is caught up), GET_BILL for the receipt of a paid one.
    init_ip: str = Field("127.0.0.1", min_length=1, description="Ip of the INITs the hub sends for online fee notices "
                                                                 "(the one-stop system does not give the citizen's).")
    expiry_seconds: int = Field(
        7 * 86400, ge=60, description="Seconds a payment page stays open when the fee notice has no due_at; a payment "
                                      "still pending after it is closed (state expired).")
    query_after_seconds: int = Field(
        900, ge=0, description="Seconds after INIT with no callback before the hub asks QUERY (a lost callback is caught up).")
    query_every_seconds: int = Field(
        300, ge=0, description="Seconds between two QUERYs (or GET_BILLs) of one payment.")
    query_batch: int = Field(50, ge=1, le=1000, description="Most payments asked with QUERY (and GET_BILL) in one run.")
    reconcile_interval: float = Field(
        60.0, ge=0.1, description="Seconds between two runs of the reconciliation job (QUERY, then GET_BILL).")
