"""The postal operator (VNPost) as a partner of the hub: its settings, credential, wire schemas and simulator.

The way back is wired: the tracking feed read after a durable cursor (``feed.py``, job ``tracking``),
events pushed to ``POST /v1/postal/events`` (``push.py``), both through one mapping (``events.py``),
and the status-code table's admin routes (``codes_api.py``).
"""

from __future__ import annotations

from typing import Any

from connectors.postal_vnpost.cli import simulator
from connectors.postal_vnpost.codes_api import ROUTES as CODE_ROUTES
from connectors.postal_vnpost.feed import FEED
from connectors.postal_vnpost.push import PROBLEMS as PUSH_PROBLEMS
from connectors.postal_vnpost.push import ROUTE as PUSH_ROUTE
from connectors.postal_vnpost.settings import SANDBOX_SECRET, PostalVnpostSettings
from hub.seam import Manifest, SandboxInfo, SandboxSeed, SeedPartner, Simulator

__all__ = ["MANIFEST", "PostalVnpostSettings"]

PREFIX = "LIENTHONG_POSTAL_VNPOST_"


def _schemas() -> dict[str, dict[str, Any]]:
    from connectors.postal_vnpost.wire import schema_files

    return schema_files()


def _hub_env(url: str) -> dict[str, str]:
    """The settings that point the hub at a simulator listening at ``url``."""
    return {f"{PREFIX}TOKEN_URL": f"{url}/oauth/token", f"{PREFIX}ORDER_URL": f"{url}/api/orders",
            f"{PREFIX}CANCEL_URL": f"{url}/api/orders/cancel", f"{PREFIX}TRACKING_URL": f"{url}/api/tracking",
            f"{PREFIX}PRICE_URL": f"{url}/api/price"}


def _simulator_env(info: SandboxInfo) -> dict[str, str]:
    """The simulator's account secret: the one the hub will use (vault, else the setting)."""
    secret = info.ctx.credential("client_secret", info.ctx.settings.client_secret) or SANDBOX_SECRET
    return {"VNPOST_SIM_CLIENT_SECRET": secret}


MANIFEST = Manifest(
    code="postal_vnpost",
    name="Bưu điện tỉnh (VNPost)",
    kind="postal",
    settings=PostalVnpostSettings,
    credentials={"client_secret": ("OAuth client secret of the hub's VNPost account", "client_secret")},
    schemas=_schemas,
    problems=PUSH_PROBLEMS,
    routes=(PUSH_ROUTE, *CODE_ROUTES),
    jobs=(FEED,),
    simulator=Simulator(name="postal-vnpost", command=simulator, port=8105, title="VNPost sim", hub_env=_hub_env,
                        env=_simulator_env),
    seed=SandboxSeed(partners=(SeedPartner("postal_vnpost", "Bưu điện tỉnh (VNPost)", "postal"),)),
    secret_settings=("client_secret",),
)
