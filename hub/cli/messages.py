"""``lienthong messages``: messages, deliveries and dead letters."""

from __future__ import annotations

from typing import Optional

import typer

from hub.cli.helpers import get_engine, print_json
from hub.config import get_settings

app = typer.Typer(help="Messages, deliveries and dead letters.", no_args_is_help=True)


@app.command("show")
def messages_show(message_id: str, source: Optional[str] = None) -> None:
    """A message and its deliveries."""
    from hub.store.queries import find_messages

    found = find_messages(get_engine(), message_id, source)
    if not found:
        typer.echo("not found", err=True)
        raise typer.Exit(1)
    print_json(found)


@app.command("trace")
def messages_trace(dossier_code: str) -> None:
    """Every message of a dossier in time order."""
    from hub.store.queries import trace

    print_json(trace(get_engine(), dossier_code))


@app.command("dead")
def messages_dead(destination: Optional[str] = None, limit: int = 100) -> None:
    """List dead deliveries."""
    from hub.store.queries import dead_letters

    print_json(dead_letters(get_engine(), destination, 0, limit))


@app.command("delivery")
def messages_delivery(delivery_id: int) -> None:
    """One delivery with every attempt."""
    from hub.store.queries import delivery_detail

    found = delivery_detail(get_engine(), delivery_id)
    if found is None:
        typer.echo("not found", err=True)
        raise typer.Exit(1)
    print_json(found)


@app.command("replay")
def messages_replay(
    delivery_ids: list[int] = typer.Argument(None, help="Dead delivery ids; none means all of --destination."),
    destination: Optional[str] = typer.Option(None, help="Replay every dead delivery of this destination."),
) -> None:
    """Send dead deliveries again."""
    from hub.queue.signal import Notifier
    from hub.runtime import redis_for
    from hub.store.outbox import replay

    if not delivery_ids and not destination:
        typer.echo("give delivery ids or --destination", err=True)
        raise typer.Exit(2)
    replayed = replay(get_engine(), delivery_ids or None, destination)
    Notifier(redis_for(get_settings())).notify(sorted({d for _, d in replayed}))
    typer.echo(f"replayed {len(replayed)}: {' '.join(str(i) for i, _ in replayed)}")


@app.command("flows")
def messages_flows() -> None:
    """Deliveries per destination and state."""
    from hub.store.queries import state_counts

    for dest, state, n in state_counts(get_engine()):
        typer.echo(f"{dest:20} {state:10} {n}")
