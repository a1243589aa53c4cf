"""``lienthong officers``: the officer registry from a shell (the same functions as the admin API)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import typer

from hub.cli.helpers import get_engine, guard, parse_time, print_json

app = typer.Typer(help="Officers who may look citizens up in the population database (MaCanBo).", no_args_is_help=True)
TIER_HELP = "own_dossiers (default) | own_unit | whole_agency"


def _do(fn: Callable[[Any, str], Any]) -> None:
    """Run ``fn(engine, actor)`` and print its result; refusals are messages (exit 2)."""
    from hub.access.actions import cli_actor

    print_json(guard(lambda: fn(get_engine(), cli_actor())))


@app.command("add")
def add(partner: str, officer_code: str, full_name: str, agency_id: str,
        unit: str = typer.Option("", help="Handling unit (department), as the dossiers name it."),
        tier: str = typer.Option("own_dossiers", help=TIER_HELP),
        valid_from: Optional[str] = typer.Option(None, help="ISO 8601; default now."),
        valid_until: Optional[str] = typer.Option(None, help="ISO 8601; default no end.")) -> None:
    """Register an officer of PARTNER (the one-stop system's code) for AGENCY_ID (e.g. 000.00.00.H49)."""
    from hub.citizens.officers import register

    start, end = parse_time(valid_from), parse_time(valid_until)
    _do(lambda engine, actor: register(engine, partner, officer_code, full_name, agency_id, unit=unit, tier=tier,
                                       valid_from=start, valid_until=end, actor=actor))


@app.command("list")
def list_(partner: Optional[str] = typer.Option(None, help="Only this partner's officers."),
          state: Optional[str] = typer.Option(None, help="active | disabled | revoked")) -> None:
    """Registered officers."""
    from hub.citizens.officers import list_officers

    _do(lambda engine, _actor: list_officers(engine, partner, state))


@app.command("set")
def set_(partner: str, officer_code: str,
         full_name: Optional[str] = typer.Option(None), agency_id: Optional[str] = typer.Option(None),
         unit: Optional[str] = typer.Option(None), tier: Optional[str] = typer.Option(None, help=TIER_HELP),
         valid_from: Optional[str] = typer.Option(None, help="ISO 8601"),
         valid_until: Optional[str] = typer.Option(None, help="ISO 8601"),
         state: Optional[str] = typer.Option(None, help="active | disabled"),
         reason: Optional[str] = typer.Option(None, help="Why (kept with the officer and in the admin action).")) -> None:
    """Change an officer; only the options given change."""
    from hub.citizens.officers import change

    given = {"full_name": full_name, "agency_id": agency_id, "unit": unit, "tier": tier, "state": state, "reason": reason,
             "valid_from": parse_time(valid_from), "valid_until": parse_time(valid_until)}
    changes = {k: v for k, v in given.items() if v is not None}
    _do(lambda engine, actor: change(engine, partner, officer_code, changes, actor=actor))


@app.command("revoke")
def revoke(partner: str, officer_code: str, reason: str = typer.Option("", help="Why.")) -> None:
    """Revoke an officer's right to look up (for good; registering again is a new grant)."""
    from hub.citizens.officers import revoke as revoke_officer

    _do(lambda engine, actor: revoke_officer(engine, partner, officer_code, reason, actor=actor))


@app.command("review")
def review(months: int = typer.Option(6, help="Without a look-up for this many months (3, 6 or 12)."),
           disable: bool = typer.Option(False, "--disable", help="Disable every officer listed.")) -> None:
    """List active officers without a look-up for N months (seed 001 Đ11.5); --disable disables them."""
    from hub.citizens.officers import disable_unused, unused

    if disable:
        _do(lambda engine, actor: {"months": months, "disabled": disable_unused(engine, months, actor=actor)})
    else:
        _do(lambda engine, _actor: {"months": months, "unused": unused(engine, months)})
