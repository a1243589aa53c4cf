"""The population database (CSDLQG về dân cư) as a partner of the hub: synchronous look-ups only."""

from __future__ import annotations

from connectors.population_db.cli import simulator
from connectors.population_db.lookups import LOOKUPS
from connectors.population_db.settings import PopulationDbSettings
from hub.seam import Context, Manifest, SandboxInfo, SandboxSeed, SeedPartner, Simulator


def _simulator_args(info: SandboxInfo) -> list[str]:
    """The simulator's WS-Security options matching the hub's ``LIENTHONG_POPULATION_DB_WSSE`` (the
    hub's development certificate is made now, so that the simulator can trust it)."""
    ctx = info.ctx
    if ctx.settings.wsse == "off":
        return []
    from connectors.population_db.client import signer_from_settings
    from connectors.population_db.wsse import HUB_IDENTITY, identity_paths

    signer_from_settings(ctx)  # creates keys/wsse/hub-*.pem unless files are configured
    keys = ctx.hub.keys_dir
    cert = ctx.settings.wsse_cert_file or str(identity_paths(keys / "wsse", HUB_IDENTITY)[1])
    args = ["--client-cert", cert, "--keys-dir", str(keys)]
    return args + (["--sign-answers"] if ctx.settings.wsse == "sign_and_verify" else [])


def _safety(ctx: Context) -> list[str]:
    s, reasons = ctx.settings, []
    if s.wsse != "off":
        if not (s.wsse_key_file and s.wsse_cert_file):
            reasons.append("LIENTHONG_POPULATION_DB_WSSE is on but LIENTHONG_POPULATION_DB_WSSE_KEY_FILE / _CERT_FILE "
                           "are not set: the self-signed development identity is not used in production")
        if s.wsse == "sign_and_verify" and not s.wsse_partner_cert:
            reasons.append("LIENTHONG_POPULATION_DB_WSSE_PARTNER_CERT is not set: answers would be checked against "
                           "the simulator's certificate")
    return reasons


MANIFEST = Manifest(
    code="population_db",
    name="Cơ sở dữ liệu quốc gia về dân cư",
    kind="population_db",
    settings=PopulationDbSettings,
    credentials={
        "client_id": ("OAuth client id towards the provincial platform in front of the population database", "client_id"),
        "client_secret": ("OAuth client secret towards the population database's platform", "client_secret"),
        "ma_dvc": ("MaDVC: the province's service code issued by the population database", "ma_dvc"),
        "ma_tich_hop": ("MaTichHop: the integration code issued by the population database", "ma_tich_hop"),
    },
    problems={
        "population-db-fault": (502, "The population database refused or failed the look-up"),
        "population-db-unavailable": (502, "The population database could not be reached"),
        "population-db-timeout": (504, "The population database did not answer in time"),
    },
    lookups=LOOKUPS,
    simulator=Simulator(
        name="population-db", command=simulator, port=8104, title="Dân cư sim",
        hub_env=lambda url: {"LIENTHONG_POPULATION_DB_URL": f"{url}/dancuquocgia",
                             "LIENTHONG_POPULATION_DB_TOKEN_URL": f"{url}/oauth/token"},
        args=_simulator_args,
    ),
    seed=SandboxSeed(partners=(SeedPartner("population_db", "Cơ sở dữ liệu quốc gia về dân cư", "population_db"),)),
    safety=_safety,
    secret_settings=("client_secret",),
)
