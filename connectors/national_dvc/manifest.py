"""The national public-service portal (Cổng Dịch vụ công quốc gia, DVCQG) as a partner of the hub.

The hub mirrors the one-stop system's dossiers, progress, results and fees to the portal's adapter
(outbound, in chunks of 10). Beyond them, each part of the link has its own folder and adds here its
routes, jobs, intake rules and commands: the catalogue (``catalogue/``), the status look-up
(``lookup/``), ratings (``ratings/``), questions (``questions/``), statistics on the working-day
calendar (``statistics/``), signed results (``results/``). The portal's payment platform is a
partner of its own, in ``payment/``; this module exports both (``MANIFESTS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from connectors.national_dvc.catalogue import rule as catalogue_rule
from connectors.national_dvc.catalogue import sync as catalogue_sync
from connectors.national_dvc.cli import portal_simulator
from connectors.national_dvc.lookup.routes import PROBLEMS as LOOKUP_PROBLEMS
from connectors.national_dvc.lookup.routes import ROUTES as LOOKUP_ROUTES
from connectors.national_dvc.payment.manifest import MANIFEST as PAYMENT
from connectors.national_dvc.settings import NationalDvcSettings
from connectors.national_dvc.statistics.api import ROUTES as STATISTICS_ROUTES
from connectors.national_dvc.statistics.send import JOB as STATISTICS_JOB
from hub.seam import Context, InboundRoute, IntakeRule, Job, Manifest, SandboxInfo, SandboxSeed, SeedPartner, Simulator

if TYPE_CHECKING:
    from connectors.national_dvc.connector import NationalDvcConnector


BANNER = """The national portal (DVCQG simulator): its catalogue, questions, ratings, statistics and the public look-up.
  D=$(TZ=Asia/Ho_Chi_Minh date +%y%m%d); M=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m)
  curl -s {api}/v1/public/dossiers/000.00.00.H49-$D-1001        # a citizen's look-up (name masked)
  xdg-open {api}/tra-cuu/000.00.00.H49-$D-1001                  # its page (?lang=en); its QR code: .../qr.png
  lienthong catalogue history 2.000477                          # a procedure's versions and the decisions they cite
  lienthong statistics show --month $M; lienthong ratings show --month $M
"""


def _connector(ctx: Context) -> NationalDvcConnector:
    from connectors.national_dvc.connector import NationalDvcConnector

    return NationalDvcConnector.from_context(ctx)


def _schemas() -> dict[str, dict[str, Any]]:
    from connectors.national_dvc.wire import schema_files

    return schema_files()


def _commands() -> typer.Typer:
    """The parts' command groups, top-level (``lienthong catalogue sync``, ``lienthong ratings send``...)."""
    from connectors.national_dvc.catalogue.cli import commands as catalogue
    from connectors.national_dvc.ratings.cli import app as ratings
    from connectors.national_dvc.statistics.cli import calendar_commands, statistics_commands

    app = typer.Typer(no_args_is_help=True)
    app.add_typer(catalogue(), name="catalogue")
    app.add_typer(ratings, name="ratings")
    app.add_typer(calendar_commands())
    app.add_typer(statistics_commands())
    return app


def _safety(ctx: Context) -> list[str]:
    """What the parts find unsafe in production: signed results' trust list (``results/``)."""
    from connectors.national_dvc.results.trust import unsafe

    return unsafe(ctx.settings)


def _demo(info: SandboxInfo, keys: Any) -> None:
    """The parts' demo traffic: the catalogue first (the dossiers are checked against it), a month of
    statistics and of ratings in the background, then a citizen's question now and then."""
    from connectors.national_dvc.catalogue.demo import demo as catalogue
    from connectors.national_dvc.questions.demo import ask
    from connectors.national_dvc.ratings.demo import demo as ratings_demo
    from connectors.national_dvc.statistics.demo import demo as statistics_demo

    catalogue(info, keys)
    statistics_demo(info)  # in the background: a month of statistics once a few dossiers are in
    ratings_demo(info)  # in the background: the month's ratings once a few dossiers are rated
    ask(info)  # a question every 90 s, for as long as the sandbox runs


def _ratings_job(ctx: Context) -> None:
    from connectors.national_dvc.ratings.store import run_job

    run_job(ctx)


def _questions_job(ctx: Context) -> None:
    from connectors.national_dvc.questions.store import run_job

    run_job(ctx)


def _one_rating_per_dossier(ctx: Context, message: Any) -> None:
    from connectors.national_dvc.ratings.store import one_rating_per_dossier

    one_rating_per_dossier(ctx, message)


#: What the parts of the link add (issue 17): inbound routes, scheduled jobs, intake rules, problem types.
ROUTES: tuple[InboundRoute, ...] = (*LOOKUP_ROUTES, *STATISTICS_ROUTES)
JOBS: tuple[Job, ...] = (
    Job("ratings", _ratings_job, lambda ctx: float(ctx.settings.ratings_every)),
    Job("questions", _questions_job, lambda ctx: float(ctx.settings.questions_every)),
    STATISTICS_JOB,
    catalogue_sync.JOB,
)
RULES: tuple[IntakeRule, ...] = (
    catalogue_rule.RULE,
    IntakeRule("one_rating_per_dossier", frozenset({"rating.given"}), _one_rating_per_dossier),
)
PROBLEMS: dict[str, tuple[int, str]] = {**LOOKUP_PROBLEMS, **catalogue_rule.PROBLEMS,
                                        "rating-exists": (409, "This dossier has already been rated")}


PORTAL = Manifest(
    code="national_dvc",
    name="Cổng Dịch vụ công quốc gia",
    kind="national_portal",
    settings=NationalDvcSettings,
    accepts=frozenset({"dossier.submitted", "dossier.updated", "status.changed", "result.issued", "fee.notice",
                       "question.answered", "rating.given"}),
    connector=_connector,
    credentials={"password": ("Password of the hub's account on the national portal (DVCQG) adapter", "password")},
    schemas=_schemas,
    simulator=Simulator(
        name="national-dvc", command=portal_simulator, port=8101, title="Portal sim",
        hub_env=lambda url: {"LIENTHONG_NATIONAL_DVC_ADAPTER_URL": url},
        args=lambda info: ((["--jwks-url", f"{info.api_url}/.well-known/jwks.json"]
                            if info.flag("LIENTHONG_NATIONAL_DVC_SIGN_REQUESTS") else [])
                           + ["--catalogue-drift", "60"]),  # the sandbox's catalogue changes once a minute
    ),
    seed=SandboxSeed(
        partners=(SeedPartner("national_dvc", "Cổng Dịch vụ công quốc gia", "national_portal"),),
        # the hub signs what it sends to the portal, and its simulator checks it against the hub's keys
        env={"LIENTHONG_NATIONAL_DVC_SIGN_REQUESTS": "true",
             "LIENTHONG_NATIONAL_DVC_QUESTIONS_EVERY": "20",  # a question asked in the demo reaches the one-stop system soon
             # the catalogue synced every minute (besides nightly), looked at every 20 s
             "LIENTHONG_NATIONAL_DVC_CATALOGUE_SYNC_INTERVAL": "60", "LIENTHONG_NATIONAL_DVC_CATALOGUE_JOB_EVERY": "20"},
        demo=_demo,
        banner=BANNER,
    ),
    secret_settings=("password",),
    safety=_safety,
    routes=ROUTES,
    jobs=JOBS,
    intake_rules=RULES,
    problems=PROBLEMS,
    commands=_commands,
    command_name=None,
)

MANIFESTS = (PORTAL, PAYMENT)
