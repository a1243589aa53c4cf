"""``lienthong calendar add|remove|list`` and ``lienthong statistics send|show``."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Any, Optional

import typer

CODE = "national_dvc"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli:unknown"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("a day is YYYY-MM-DD", param_hint="DAY") from None


def _context() -> Any:
    from hub.seam import partner_context

    return partner_context(CODE)


def calendar_commands() -> typer.Typer:
    app = typer.Typer(name="calendar", no_args_is_help=True,
                      help="The working-day calendar: days worked or off beyond weekdays and Vietnam's holidays.")

    @app.command("add")
    def add(day: str = typer.Argument(..., help="The day, YYYY-MM-DD."),
            kind: str = typer.Option(..., "--kind", help="working (e.g. a swap Saturday) or off (a bridge day, an "
                                                        "extra day off)."),
            decision: str = typer.Option(..., "--decision", help="The decision that set it, e.g. 'Thông báo "
                                                                "6150/TB-BLĐTBXH'."),
            note: str = typer.Option("", "--note", help="Why, in a few words.")) -> None:
        """Add (or replace) a day of the table; recorded as an admin action."""
        import unicodedata

        from connectors.national_dvc.statistics.calendar import KINDS, DayException, put

        if kind not in KINDS:
            raise typer.BadParameter("working or off", param_hint="--kind")
        decision, note = unicodedata.normalize("NFC", decision.strip()), unicodedata.normalize("NFC", note.strip())
        if not decision or len(decision) > 300 or len(note) > 300:
            raise typer.BadParameter("1 to 300 characters", param_hint="--decision")
        ctx, actor = _context(), _actor()
        entry = DayException(_day(day), kind, decision, note)  # checked in KINDS

        def audit(conn: Any, before: Any, after: Any) -> None:
            ctx.admin_action(conn, actor, "calendar.day.put", f"{CODE}:{day}", before, after)

        before = put(ctx.engine, entry, actor, audit)
        typer.echo(f"{day}: {kind} ({decision})" + (f", was {before['kind']}" if before else ""))

    @app.command("remove")
    def remove_day(day: str = typer.Argument(..., help="The day, YYYY-MM-DD.")) -> None:
        """Remove a day from the table: it follows weekdays and holidays again."""
        from connectors.national_dvc.statistics.calendar import remove

        ctx, actor = _context(), _actor()

        def audit(conn: Any, before: Any, after: Any) -> None:
            ctx.admin_action(conn, actor, "calendar.day.remove", f"{CODE}:{day}", before, after)

        before = remove(ctx.engine, _day(day), audit)
        if before is None:
            typer.echo(f"{day} is not in the table", err=True)
            raise typer.Exit(1)
        typer.echo(f"{day} removed (was {before['kind']})")

    @app.command("list")
    def list_days(year: Optional[int] = typer.Option(None, help="Also show every day off of this year (weekends "
                                                                 "aside): holidays and the table's.")) -> None:
        """The table, and with --year that year's days off and days worked beyond weekdays."""
        from datetime import timedelta

        from connectors.national_dvc.statistics.calendar import calendar

        ctx = _context()
        cal = calendar(ctx.settings, ctx.engine)
        for entry in cal.exceptions.values():
            typer.echo(f"{entry.day}  {entry.kind:8} {entry.decision}" + (f"  ({entry.note})" if entry.note else ""))
        if year is not None:
            day = date(year, 1, 1)
            while day.year == year:
                worked, weekday = cal.is_working_day(day), day.weekday() < 5
                if worked != weekday or day in cal.exceptions:
                    why = cal.exceptions[day].decision if day in cal.exceptions else (cal.holiday(day) or "")
                    typer.echo(f"{day} {day:%a}  {'working' if worked else 'off':8} {why}")
                day += timedelta(days=1)
        typer.echo(f"office hours {ctx.settings.office_hours}; online dossiers after {ctx.settings.online_cutoff} "
                   "count from the next working day")

    return app


def _month(text: str) -> Any:
    from connectors.national_dvc.statistics.monthly import Month

    try:
        return Month.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from None


def statistics_commands() -> typer.Typer:
    app = typer.Typer(name="statistics", no_args_is_help=True,
                      help="Monthly processing statistics (DongBoThongKeHoSo) for the national portal.")

    @app.command("send")
    def send_month(month: str = typer.Option(..., "--month", help="YYYY-MM (Vietnam time).")) -> None:
        """Send a month's statistics to the portal now (again, if it was sent)."""
        from connectors.national_dvc.client import DvcError
        from connectors.national_dvc.statistics.send import send

        ctx, which = _context(), _month(month)
        try:
            stats = send(ctx, which, _actor())
        except DvcError as exc:
            typer.echo(f"the portal did not take {which}: {exc.reason}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{which}: {len(stats.records)} agencies sent ({stats.rule})")

    @app.command("show")
    def show(month: str = typer.Option(..., "--month", help="YYYY-MM (Vietnam time)."),
             fmt: str = typer.Option("json", "--format", help="json or csv.")) -> None:
        """A month's statistics as GET /v1/statistics/{month}.json (or .csv) gives them, and whether it was sent."""
        from connectors.national_dvc.statistics.monthly import render
        from connectors.national_dvc.statistics.send import sent, statistics

        if fmt not in ("json", "csv"):
            raise typer.BadParameter("json or csv", param_hint="--format")
        ctx, which = _context(), _month(month)
        typer.echo(render(statistics(ctx, which), "csv" if fmt == "csv" else "json"), nl=False)
        record = sent(ctx.engine, which)
        typer.echo(f"sent {record['times']}x, last {record['sent_at']} by {record['sent_by']}" if record
                   else "not sent yet", err=True)

    return app
