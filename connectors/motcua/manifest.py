"""The province's one-stop dossier system (hệ thống thông tin một cửa điện tử) as a partner of the hub.

It calls the hub with its key (``POST /v1/messages``, look-ups) and receives the messages routed to
it (``payment.confirmed``) at its own endpoint, one POST each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import typer

from connectors.motcua.cli import simulator
from connectors.motcua.settings import MotcuaSettings
from hub.messages.models import POSTAL_TYPES
from hub.seam import Context, Manifest, SandboxInfo, SandboxSeed, SeedPartner, Simulator

if TYPE_CHECKING:
    from connectors.motcua.connector import MotcuaConnector

AGENCY = "000.00.00.H49"
#: Demo officers of the one-stop system, one per rights tier: (MaCanBo, name, unit, tier).
OFFICERS = [
    ("CB-TP-001", "Nguyễn Thị Lan", "Phòng Tư pháp", "own_dossiers"),
    ("CB-TP-002", "Trần Văn Minh", "Phòng Tư pháp", "own_unit"),
    ("CB-VP-001", "Lê Quang Huy", "Văn phòng HĐND và UBND", "whole_agency"),
]


BANNER = """Send a dossier, then a status change, as the one-stop system:
  KEY=$(python3 -c "import json;print(json.load(open('{keys_file}'))['partners']['motcua']['api_key'])")
  curl -s -X POST {api}/v1/messages -H "Authorization: ApiKey $KEY" \\
       -H 'Content-Type: application/json' -d @docs/examples/dossier-submitted.json
  curl -s -X POST {api}/v1/messages -H "Authorization: ApiKey $KEY" \\
       -H 'Content-Type: application/json' -d @docs/examples/status-changed.json
Then follow it:  curl -s -H "Authorization: ApiKey $KEY" {api}/v1/dossiers/000.00.00.H49-261123-0001/trace
"""


def _connector(ctx: Context) -> MotcuaConnector:
    from connectors.motcua.connector import MotcuaConnector

    return MotcuaConnector.from_context(ctx)


def _demo(info: SandboxInfo, keys: Mapping[str, str]) -> None:
    from connectors.motcua.demo import feed

    callback = info.env.get("LIENTHONG_MOTCUA_CALLBACK_URL", "")
    feed(info.api_url, keys["motcua"], sim_url=callback.removesuffix("/lienthong/messages") or None)


def _commands() -> typer.Typer:
    app = typer.Typer(help="The one-stop system (motcua).", no_args_is_help=True)

    @app.command("demo")
    def demo(count: int = 5, url: str = "http://127.0.0.1:8000", interval: float = 0.0) -> None:
        """Send demo messages as the one-stop system, with the sandbox credentials in var/sandbox.json."""
        from connectors.motcua.demo import send
        from hub.seam import hub_settings

        send(hub_settings().var_dir, url, count, interval)

    return app


MANIFEST = Manifest(
    code="motcua",
    name="Hệ thống thông tin một cửa điện tử tỉnh",
    kind="one_stop",
    settings=MotcuaSettings,
    # payments, the post's events, and what ministry systems send back (connectors/ministry_apps/)
    accepts=frozenset({"payment.confirmed", "status.changed", "result.issued", "fee.notice", *POSTAL_TYPES,
                       "catalogue.changed", "question.asked", "payment.opened", "payment.receipt"}),
    connector=_connector,
    commands=_commands,
    simulator=Simulator(
        name="motcua", command=simulator, port=8103, title="Một cửa sim",
        hub_env=lambda url: {"LIENTHONG_MOTCUA_CALLBACK_URL": f"{url}/lienthong/messages"},
        args=lambda info: (["--jwks-url", f"{info.api_url}/.well-known/jwks.json"]
                           if info.flag("LIENTHONG_MOTCUA_SIGN_REQUESTS") else []),
    ),
    seed=SandboxSeed(
        # its sandbox key may also look citizens up (docs/CITIZENS.md), with the officers below
        partners=(SeedPartner("motcua", "Hệ thống thông tin một cửa điện tử tỉnh", "one_stop", AGENCY,
                              scopes={"endpoints": ["intake", "read", "lookup"], "lookups": ["*"]}),),
        env={"LIENTHONG_MOTCUA_SIGN_REQUESTS": "true"},
        officers=tuple((code, name, AGENCY, unit, tier) for code, name, unit, tier in OFFICERS),
        demo=_demo,
        banner=BANNER,
    ),
)
