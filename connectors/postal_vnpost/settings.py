"""Settings of the postal operator (VNPost): ``LIENTHONG_POSTAL_VNPOST_<NAME>``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.messages.codes import AGENCY_PATTERN
from hub.seam import PartnerSettings, Text, partner_settings

SIM = "http://127.0.0.1:8105"  #: where ``lienthong simulator postal-vnpost`` listens by default
SANDBOX_SECRET = "sandbox-vnpost-secret"  #: the simulator's client secret (refused in production)
SANDBOX_CUSTOMER = "LIENTHONG-SBX"  #: the simulator's customer code
SANDBOX_AGENCY = "000.00.00.H49"  #: the sandbox province's agency (connectors/motcua)
AgencyId = Annotated[str, Field(pattern=AGENCY_PATTERN)]


class AgencyPost(BaseModel):
    """One agency's VNPost account and address: the receiver of its pickups, the sender of its results."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_code: Text = Field(min_length=1, max_length=50, description="The agency's VNPost customer code (CustomerCode).")
    name: Text = Field(min_length=1, max_length=200, description="Who receives dossiers and sends results (the one-stop desk).")
    phone: Text = Field(min_length=1, max_length=20)
    address: Text = Field(min_length=1, max_length=500, description="Full postal address, as VNPost prints it.")
    province_code: Text = Field(min_length=1, max_length=20, description="VNPost province code.")
    district_code: Text = Field(min_length=1, max_length=20, description="VNPost district code.")
    client_id: Text | None = Field(None, min_length=1, max_length=100,
                                   description="OAuth client id of this agency's account; default the hub's (client_id).")


#: The sandbox agency's account at the simulator.
SANDBOX_AGENCIES: dict[str, AgencyPost] = {SANDBOX_AGENCY: AgencyPost(
    customer_code=SANDBOX_CUSTOMER, name="Bộ phận Một cửa UBND tỉnh Quảng Ninh", phone="02033835555",
    address="Trung tâm Phục vụ hành chính công tỉnh, phường Hồng Hà, thành phố Hạ Long, tỉnh Quảng Ninh",
    province_code="22", district_code="193")}


class PostalVnpostSettings(PartnerSettings):
    """The hub's account at VNPost (``LIENTHONG_POSTAL_VNPOST_<NAME>``); the defaults point at its simulator."""

    model_config = partner_settings("postal_vnpost")

    token_url: str = Field(f"{SIM}/oauth/token", description="OAuth token endpoint (client_credentials, Basic auth).")
    order_url: str = Field(f"{SIM}/api/orders", description="Create-order endpoint (POST JSON).")
    cancel_url: str = Field(f"{SIM}/api/orders/cancel", description="Cancel-order endpoint (GET ?CustomerCode=&OrderNumber=).")
    tracking_url: str = Field(f"{SIM}/api/tracking", description="Tracking feed endpoint (GET ?pagesize=&lastId=).")
    price_url: str = Field(f"{SIM}/api/price", description="Price query endpoint (POST JSON).")
    customer_code: str = Field(SANDBOX_CUSTOMER, description="The province's VNPost customer code (CustomerCode).")
    client_id: str = Field("lienthong", description="OAuth client id (customerKey) of the hub's VNPost account.")
    client_secret: str = Field(SANDBOX_SECRET, description="OAuth client secret (secretKey): the fallback of vault "
                                                           "credential postal_vnpost.client_secret (the simulator's).")
    timeout: float = Field(5.0, gt=0, description="Seconds before a call to VNPost counts as timed out.")
    feed_page_size: int = Field(200, ge=1, le=1000, description="Tracking events asked for per feed page (VNPost: at most 1000).")
    agencies: dict[AgencyId, AgencyPost] = Field(
        default_factory=lambda: dict(SANDBOX_AGENCIES),
        description="Per agency id (JSON object): its VNPost customer code, name, phone, address, province and "
                    "district codes, optional client id. An agency missing here gets no postal order.")
    tariff_file: str = Field("", description="YAML table of Circular 22/2017/TT-BTTTT's maximum fees shown beside a price "
                                             "quote; empty: the bundled tariff_22_2017.yaml (figures to confirm).")
    feed_interval: float = Field(5.0, gt=0, description="Seconds between two reads of the tracking feed (each read "
                                                        "takes every page waiting, up to a bound).")
