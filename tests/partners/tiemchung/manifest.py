"""The vaccination registry's manifest: everything the hub needs to know about it, in one place."""

from __future__ import annotations

from hub.seam import Context, Manifest, SandboxSeed, SeedPartner, Simulator
from tests.partners.tiemchung.events import FEED, ROUTE
from tests.partners.tiemchung.settings import TiemchungSettings
from tests.partners.tiemchung.simulator import simulator


def _connector(ctx: Context):  # noqa: ANN202 - a TiemchungConnector
    from tests.partners.tiemchung.connector import TiemchungConnector

    return TiemchungConnector.from_context(ctx)


MANIFEST = Manifest(
    code="tiemchung",
    name="Hệ thống quản lý tiêm chủng",
    kind="vaccination_registry",
    settings=TiemchungSettings,
    accepts=frozenset({"status.changed"}),
    connector=_connector,
    credentials={"token": ("Bearer token of the hub at the vaccination registry", "token")},
    problems={"tiemchung-unreachable": (502, "The vaccination registry could not be reached")},
    routes=(ROUTE,),
    jobs=(FEED,),
    simulator=Simulator(name="tiemchung", command=simulator, port=8190, title="Tiêm chủng sim",
                        hub_env=lambda url: {"LIENTHONG_TIEMCHUNG_URL": url}),
    seed=SandboxSeed(partners=(SeedPartner("tiemchung", "Hệ thống quản lý tiêm chủng", "vaccination_registry",
                                           scopes={"endpoints": ["intake"], "types": ["status.changed"]}),)),
    secret_settings=("token",),
)
