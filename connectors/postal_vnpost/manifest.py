"""The postal operator (VNPost) as a partner of the hub: registered, with its settings and credentials.

Only its contract exists so far (``interface.py``): it has no connector, route or simulator yet, so
no routing rule may send it anything (``lienthong routes check`` refuses one).
"""

from __future__ import annotations

from pydantic import Field

from hub.seam import Manifest, PartnerSettings, SandboxSeed, SeedPartner, partner_settings


class PostalVnpostSettings(PartnerSettings):
    """The hub's account at VNPost (``LIENTHONG_POSTAL_VNPOST_<NAME>``)."""

    model_config = partner_settings("postal_vnpost")

    url: str = Field("http://127.0.0.1:8105", description="VNPost API base URL.")
    client_id: str = Field("lienthong", description="OAuth client id of the hub's VNPost account.")
    client_secret: str = Field("", description="OAuth client secret: the fallback of vault credential "
                                               "postal_vnpost.client_secret.")


MANIFEST = Manifest(
    code="postal_vnpost",
    name="Bưu điện tỉnh (VNPost)",
    kind="postal",
    settings=PostalVnpostSettings,
    credentials={"client_secret": ("OAuth client secret of the hub's VNPost account", "client_secret")},
    seed=SandboxSeed(partners=(SeedPartner("postal_vnpost", "Bưu điện tỉnh (VNPost)", "postal"),)),
    secret_settings=("client_secret",),
)
