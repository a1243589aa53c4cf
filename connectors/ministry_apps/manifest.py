"""Ministry software (phần mềm chuyên ngành) as partners of the hub: one adapter file per ministry system.

The manifest itself is the family; each adapter file of ``LIENTHONG_MINISTRY_APPS_FOLDER`` is a
member (``hub.seam.Member``): a destination and a partner of its own, with its routing rules, its
connector, its pull and its callbacks. The folder is read again when it changes: adding a ministry
system is adding a file (and registering its partner row, for its key), without a restart.
"""

from __future__ import annotations

import os

from connectors.ministry_apps.cli import commands
from connectors.ministry_apps.members import of as registry_of
from connectors.ministry_apps.settings import MinistryAppsSettings
from connectors.ministry_apps.sim_command import ministry_simulator
from hub.seam import Context, InboundRoute, Job, Manifest, Member, SandboxSeed, SeedPartner, Simulator


def _members(ctx: Context) -> tuple[Member, ...]:
    return registry_of(ctx).members()


def _pull(ctx: Context) -> None:
    from connectors.ministry_apps.pull import run_all

    run_all(ctx, registry_of)


def _safety(ctx: Context) -> list[str]:
    """Production refuses an adapter whose secret would fall back to its sandbox value."""
    reasons = []
    for code, loaded in registry_of(ctx).adapters().items():
        member = ctx.member(code)
        for name, spec in loaded.adapter.secrets.items():
            try:
                held = member.credential(name)
            except Exception:  # noqa: BLE001 - no vault to read yet (a check before the first migration): not held
                held = None
            if spec.sandbox and not held and not (spec.env and os.environ.get(spec.env)):
                reasons.append(f"ministry adapter {code}: secret {name} is the sandbox's value; set vault credential "
                               f"{code}.{name}" + (f" or {spec.env}" if spec.env else ""))
    return reasons


def _health(ctx: Context) -> str:
    found = registry_of(ctx)
    loaded, broken = found.adapters(), found.problems
    return f"{len(loaded)} adapters" + (f", broken: {', '.join(sorted(broken))}" if broken else "")


def _routes() -> tuple[InboundRoute, ...]:
    from connectors.ministry_apps.callbacks import handler

    own = {"responses": {"200": {"description": "The event is stored; the answer is in the ministry system's format"},
                         "400": {"description": "Not JSON (in the system's format)"},
                         "401": {"description": "No working API key (the keyed route)"},
                         "403": {"description": "Wrong secret, or a key that is not the ministry's"},
                         "404": {"description": "No such ministry adapter or event"},
                         "413": {"description": "Body over 256 KiB"},
                         "415": {"description": "Not a JSON body"},
                         "422": {"description": "The event does not map to a canonical message"},
                         "503": {"description": "The hub cannot store it now: send it again"}}}
    return (
        InboundRoute("POST", "/v1/ministry/{code}/hooks/{event}/{secret}", handler(registry_of, "secret"),
                     summary="A ministry system's callback, proved by the secret path segment its adapter names",
                     body="callback", max_bytes=256 * 1024, tag="ministry", openapi=own, own_errors=True),
        InboundRoute("POST", "/v1/ministry/{code}/push/{event}", handler(registry_of, "key"), route_class="intake",
                     summary="A ministry system's callback with its own API key", body="callback",
                     max_bytes=256 * 1024, tag="ministry", openapi=own, own_errors=True),
    )


MANIFEST = Manifest(
    code="ministry_apps",
    name="Phần mềm chuyên ngành của bộ",
    kind="ministry_app",
    settings=MinistryAppsSettings,
    routes=_routes(),
    jobs=(Job("ministry-pull", _pull, every=lambda ctx: float(ctx.settings.pull_seconds)),),
    members=_members,
    commands=commands,
    command_name="ministry",
    simulator=Simulator(
        name="ministry-apps", command=ministry_simulator, port=8131, title="Ministry sims",
        # one server, each system under its prefix; the land system calls the hub back
        hub_env=lambda url: {"LIENTHONG_CIVIL_STATUS_URL": f"{url}/hotich", "LIENTHONG_LAND_URL": f"{url}/dat",
                             "LIENTHONG_SOAP_TEST_URL": f"{url}/soap"},
        args=lambda info: ["--hub-url", info.api_url],
    ),
    safety=_safety,
    health=_health,
    seed=SandboxSeed(partners=(
        SeedPartner("civil_status", "Phần mềm đăng ký, quản lý hộ tịch (Bộ Tư pháp)", "ministry_app"),
        SeedPartner("land", "Hệ thống thông tin đất đai (Sở Tài nguyên và Môi trường)", "ministry_app"),
        SeedPartner("soap_test", "Hệ thống chuyên ngành thử nghiệm (SOAP)", "ministry_app"),
    )),
)
