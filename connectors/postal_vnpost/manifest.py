"""The postal operator (VNPost) as a partner of the hub: its settings, credential, wire schemas, simulator
and outbound connector.

The connector (``connector.py``) takes ``dossier.submitted`` (a pickup order), ``result.issued`` (the
delivery of a paper result) and ``status.changed`` (the receipt; cancelling the open orders of a
dossier that ends early); ``hub/routes.yaml`` sends them with ``when`` conditions, and the
canonical ``postal.*`` events it stores go to the one-stop system.
Its routes: the operator's own sync (``sync.py``, ``GET /v1/postal/pickups``), the price quote
(``quote.py``, ``POST /v1/postal/quote``) and the statistics (``statistics.py``, ``GET
/v1/postal/statistics``, also ``lienthong postal stats``).
The way back: the tracking feed read after a durable cursor (``feed.py``, job ``tracking``),
events pushed to ``POST /v1/postal/events`` (``push.py``), both through one mapping (``events.py``),
and the status-code table's admin routes (``codes_api.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from connectors.postal_vnpost import quote, statistics, sync
from connectors.postal_vnpost.cli import commands, simulator
from connectors.postal_vnpost.codes_api import ROUTES as CODE_ROUTES
from connectors.postal_vnpost.feed import FEED
from connectors.postal_vnpost.interface import ACCEPTS
from connectors.postal_vnpost.push import ROUTE as PUSH_ROUTE
from connectors.postal_vnpost.refusals import PROBLEMS
from connectors.postal_vnpost.settings import SANDBOX_AGENCIES, SANDBOX_CUSTOMER, SANDBOX_SECRET, PostalVnpostSettings
from hub.seam import Context, Manifest, SandboxInfo, SandboxSeed, SeedPartner, Simulator

if TYPE_CHECKING:
    from connectors.postal_vnpost.connector import PostalConnector

__all__ = ["MANIFEST", "PostalVnpostSettings"]

PREFIX = "LIENTHONG_POSTAL_VNPOST_"


def _schemas() -> dict[str, dict[str, Any]]:
    from connectors.postal_vnpost.wire import schema_files

    return schema_files()


def _connector(ctx: Context) -> PostalConnector:
    from connectors.postal_vnpost.connector import PostalConnector

    return PostalConnector.from_context(ctx)


def _safety(ctx: Context) -> list[str]:
    """Production refuses the sandbox's agency account: orders would go out under the simulator's customer code."""
    if ctx.settings.agencies == SANDBOX_AGENCIES:
        return [f"{PREFIX}AGENCIES is the sandbox's (customer code {SANDBOX_CUSTOMER}): set each agency's VNPost "
                "customer code and address"]
    return []


def _hub_env(url: str) -> dict[str, str]:
    """The settings that point the hub at a simulator listening at ``url``."""
    return {f"{PREFIX}TOKEN_URL": f"{url}/oauth/token", f"{PREFIX}ORDER_URL": f"{url}/api/orders",
            f"{PREFIX}CANCEL_URL": f"{url}/api/orders/cancel", f"{PREFIX}TRACKING_URL": f"{url}/api/tracking",
            f"{PREFIX}PRICE_URL": f"{url}/api/price"}


def _commands() -> typer.Typer:
    return commands(MANIFEST.code)


def _simulator_env(info: SandboxInfo) -> dict[str, str]:
    """The simulator's account secret: the one the hub will use (vault, else the setting)."""
    secret = info.ctx.credential("client_secret", info.ctx.settings.client_secret) or SANDBOX_SECRET
    return {"VNPOST_SIM_CLIENT_SECRET": secret}


#: The sandbox's simulated post moves a parcel's four hours in 24 seconds, read every 2 seconds.
SANDBOX_SPEED = "600"
BANNER = """The post (VNPost simulator): every third demo dossier is collected by post, its paper result delivered by post.
  PKEY=$(python3 -c "import json;print(json.load(open('{keys_file}'))['partners']['postal_vnpost']['api_key'])")
  curl -s -H "Authorization: ApiKey $PKEY" '{api}/v1/postal/pickups?since=0'      # the operator's own sync
  lienthong postal stats                                                           # pickups and results by post
"""

MANIFEST = Manifest(
    code="postal_vnpost",
    name="Bưu điện tỉnh (VNPost)",
    kind="postal",
    settings=PostalVnpostSettings,
    accepts=ACCEPTS,
    connector=_connector,
    safety=_safety,
    credentials={"client_secret": ("OAuth client secret of the hub's VNPost account", "client_secret")},
    schemas=_schemas,
    problems=PROBLEMS,
    routes=(PUSH_ROUTE, *CODE_ROUTES, sync.ROUTE, quote.ROUTE, statistics.ROUTE),
    jobs=(FEED,),
    commands=_commands,
    command_name="postal",
    simulator=Simulator(name="postal-vnpost", command=simulator, port=8105, title="VNPost sim", hub_env=_hub_env,
                        env=_simulator_env, args=lambda info: ["--speed", SANDBOX_SPEED]),
    seed=SandboxSeed(partners=(SeedPartner("postal_vnpost", "Bưu điện tỉnh (VNPost)", "postal"),),
                     env={f"{PREFIX}FEED_INTERVAL": "2"}, banner=BANNER),
    secret_settings=("client_secret",),
)
