"""Settings of the population database: ``LIENTHONG_POPULATION_DB_<NAME>``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.seam import PartnerSettings, partner_settings


class PopulationDbSettings(PartnerSettings):
    """SOAP 1.1 behind an OAuth client_credentials token; the account and codes are vault credentials
    (``population_db.*``) whose sandbox fallbacks are the fields below."""

    model_config = partner_settings("population_db")

    url: str = Field("http://127.0.0.1:8104/dancuquocgia",
                     description="Population database SOAP endpoint (overrides the WSDL's address).")
    token_url: str = Field("", description="OAuth token endpoint (client_credentials, Basic auth); "
                                           "empty: /oauth/token on the database's host.")
    timeout: float = Field(5.0, description="Seconds before a population database call counts as timed out.")
    concurrency: int = Field(8, ge=1, le=64, description="Look-ups one API process sends to the population database at "
                                                         "once; more wait their turn (within the timeout's budget).")
    client_id: str = Field("lienthong", description="OAuth client id (fallback of vault credential "
                                                    "population_db.client_id; the simulator's).")
    client_secret: str = Field("sandbox-population-secret", description="OAuth client secret (fallback of vault "
                               "credential population_db.client_secret; the simulator's).")
    ma_dvc: str = Field("000.00.00.H49", description="MaDVC (fallback of vault credential population_db.ma_dvc; "
                                                     "the simulator's).")
    ma_tich_hop: str = Field("LGSP-SANDBOX-01", description="MaTichHop (fallback of vault credential "
                                                            "population_db.ma_tich_hop; the simulator's).")
    wsse: Literal["off", "sign", "sign_and_verify"] = Field(
        "off", description="WS-Security: off, sign (requests signed with the hub's key) or sign_and_verify (answers "
                           "must carry the database's valid XML signature too)."
    )
    wsse_key_file: str = Field(
        "", description="The hub's WS-Security RSA key (PEM); empty: keys/wsse/hub-key.pem, generated on first run."
    )
    wsse_cert_file: str = Field(
        "", description="The hub's WS-Security certificate (PEM); empty: keys/wsse/hub-cert.pem, generated on first run."
    )
    wsse_partner_cert: str = Field(
        "", description="Certificate (PEM) the database signs its answers with; empty: the simulator's, "
                        "keys/wsse/population-db-sim-cert.pem."
    )
