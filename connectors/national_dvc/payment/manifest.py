"""The national payment platform (Nền tảng thanh toán trên Cổng DVC quốc gia): the payment loop.

Its callbacks reach the hub (``inbound.py``); its connector opens the payment of each online fee
notice (INIT) and its job asks QUERY for late callbacks and GET_BILL for receipts (``loop.py``).

Its one name is ``national_payment`` (partner code, source of ``payment.confirmed``, settings prefix
``LIENTHONG_NATIONAL_PAYMENT_``, vault ``national_payment.*``, ``schemas/national_payment/``). It lives
in the national portal's folder because it is the portal's platform, and is exported by that
folder's manifest module beside the portal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from connectors.national_dvc.cli import payment_simulator
from connectors.national_dvc.payment.inbound import ROUTE
from connectors.national_dvc.payment.loop import RECONCILE
from connectors.national_dvc.payment.settings import CODE, NationalPaymentSettings
from hub.seam import Context, Manifest, SandboxInfo, SandboxSeed, SeedPartner, Simulator

if TYPE_CHECKING:
    from connectors.national_dvc.payment.loop import PaymentConnector


def _connector(ctx: Context) -> "PaymentConnector":
    from connectors.national_dvc.payment.loop import PaymentConnector

    return PaymentConnector.from_context(ctx)


def _schemas() -> dict[str, dict[str, Any]]:
    from connectors.national_dvc.payment.wire import schema_files

    return schema_files()


def _health(ctx: Context) -> str:
    from connectors.national_dvc.payment.secret import payment_callbacks_state

    return payment_callbacks_state(ctx)


def _start(ctx: Context) -> None:
    from connectors.national_dvc.payment.secret import warn_if_missing

    warn_if_missing(ctx)


def _setup(ctx: Context) -> None:
    from connectors.national_dvc.payment.secret import seed_secret

    seed_secret(ctx)  # the hub and the simulator read the same one


def _demo(info: SandboxInfo, keys: Mapping[str, str]) -> None:
    from connectors.national_dvc.payment.demo import demo

    demo(info, keys)


def _simulator_env(info: SandboxInfo) -> dict[str, str]:
    from connectors.national_dvc.payment.secret import payment_secret

    return {"PAYMENT_SIM_SECRET": payment_secret(info.ctx)}


MANIFEST = Manifest(
    code=CODE,
    name="Nền tảng thanh toán trên Cổng DVC quốc gia",
    kind="payment_platform",
    settings=NationalPaymentSettings,
    accepts=frozenset({"fee.notice"}),
    connector=_connector,
    jobs=(RECONCILE,),
    credentials={"secret": ("Shared secret of the national payment platform's MaXacThuc checksums", "")},
    routes=(ROUTE,),
    schemas=_schemas,
    simulator=Simulator(
        name="payment", command=payment_simulator, port=8102, title="Payment sim",
        hub_env=lambda url: {"LIENTHONG_NATIONAL_PAYMENT_URL": url},
        args=lambda info: ["--callback-url", f"{info.api_url}/v1/payments/callback",
                           "--partner-code", info.ctx.settings.partner_code],
        env=_simulator_env,
    ),
    seed=SandboxSeed(
        partners=(SeedPartner(CODE, "Nền tảng thanh toán trên Cổng DVC quốc gia", "payment_platform", keyless=True),),
        setup=_setup, demo=_demo,
        # the sandbox catches up a lost callback within about half a minute
        env={"LIENTHONG_NATIONAL_PAYMENT_QUERY_AFTER_SECONDS": "20", "LIENTHONG_NATIONAL_PAYMENT_QUERY_EVERY_SECONDS": "10",
             "LIENTHONG_NATIONAL_PAYMENT_RECONCILE_INTERVAL": "5"},
    ),
    health=_health,
    start=_start,
    secret_settings=("secret",),
    networks={"callback_networks": "payment callbacks"},
)
