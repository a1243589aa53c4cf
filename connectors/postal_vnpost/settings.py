"""Settings of the postal operator (VNPost): ``LIENTHONG_POSTAL_VNPOST_<NAME>``."""

from __future__ import annotations

from pydantic import Field

from hub.seam import PartnerSettings, partner_settings

SIM = "http://127.0.0.1:8105"  #: where ``lienthong simulator postal-vnpost`` listens by default
SANDBOX_SECRET = "sandbox-vnpost-secret"  #: the simulator's client secret (refused in production)


class PostalVnpostSettings(PartnerSettings):
    """The hub's account at VNPost (``LIENTHONG_POSTAL_VNPOST_<NAME>``); the defaults point at its simulator."""

    model_config = partner_settings("postal_vnpost")

    token_url: str = Field(f"{SIM}/oauth/token", description="OAuth token endpoint (client_credentials, Basic auth).")
    order_url: str = Field(f"{SIM}/api/orders", description="Create-order endpoint (POST JSON).")
    cancel_url: str = Field(f"{SIM}/api/orders/cancel", description="Cancel-order endpoint (GET ?CustomerCode=&OrderNumber=).")
    tracking_url: str = Field(f"{SIM}/api/tracking", description="Tracking feed endpoint (GET ?pagesize=&lastId=).")
    price_url: str = Field(f"{SIM}/api/price", description="Price query endpoint (POST JSON).")
    customer_code: str = Field("LIENTHONG-SBX", description="The province's VNPost customer code (CustomerCode).")
    client_id: str = Field("lienthong", description="OAuth client id (customerKey) of the hub's VNPost account.")
    client_secret: str = Field(SANDBOX_SECRET, description="OAuth client secret (secretKey): the fallback of vault "
                                                           "credential postal_vnpost.client_secret (the simulator's).")
    timeout: float = Field(5.0, gt=0, description="Seconds before a call to VNPost counts as timed out.")
    feed_page_size: int = Field(200, ge=1, le=1000, description="Tracking events asked for per feed page (VNPost: at most 1000).")
    feed_interval: float = Field(5.0, gt=0, description="Seconds between two reads of the tracking feed (each read "
                                                        "takes every page waiting, up to a bound).")
