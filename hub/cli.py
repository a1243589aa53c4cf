"""``lienthong``: run the hub's parts separately and operate it from a shell."""

from __future__ import annotations

import json
import logging
import sys
from typing import Optional

import typer

from hub.config import get_settings

app = typer.Typer(help="lienthong – the provincial integration hub (LGSP).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
messages_app = typer.Typer(help="Messages, deliveries and dead letters.", no_args_is_help=True)
routes_app = typer.Typer(help="The routing table.", no_args_is_help=True)
partners_app = typer.Typer(help="Partners (registered systems).", no_args_is_help=True)
keys_app = typer.Typer(help="Partner API keys.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the canonical messages and wire formats.", no_args_is_help=True)
sim_app = typer.Typer(help="Partner simulators for the sandbox and the tests.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (messages_app, "messages"), (routes_app, "routes"), (partners_app, "partners"),
                  (keys_app, "keys"), (schemas_app, "schemas"), (sim_app, "simulator")):
    app.add_typer(sub, name=name)


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per partner call is noise


def _engine():  # noqa: ANN202 - a SQLAlchemy Engine
    from hub.runtime import engine_for

    return engine_for(get_settings())


def _print(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@app.command()
def api(host: str = "127.0.0.1", port: int = 8000, workers: int = typer.Option(1, help="uvicorn worker processes")) -> None:
    """Serve the HTTP API (the edge)."""
    import uvicorn

    # proxy_headers=False: the hub reads X-Forwarded-For itself, only from LIENTHONG_TRUSTED_PROXIES
    # (uvicorn would otherwise believe it from any loopback peer and replace the client address).
    uvicorn.run("hub.edge.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, proxy_headers=False)


@app.command()
def worker(burst: bool = typer.Option(False, help="Stop when the queues are empty.")) -> None:
    """Deliver queued messages to partners (and run the relay)."""
    from hub.worker import run_worker

    _logging()
    run_worker(get_settings(), burst=burst)


@app.command()
def relay(once: bool = typer.Option(False, help="One sweep, then exit.")) -> None:
    """Re-enqueue pending, due and orphaned deliveries (workers already run one)."""
    from hub.queue.relay import Relay, sweep
    from hub.queue.signal import Notifier
    from hub.runtime import redis_for

    _logging()
    settings = get_settings()
    notifier = Notifier(redis_for(settings))
    if once:
        _print({"woken": sweep(_engine(), notifier)})
        return
    r = Relay(_engine(), notifier, settings.relay_interval)
    r.run()


@app.command()
def sandbox(demo: bool = typer.Option(True, help="Feed demo messages so flows show at once.")) -> None:
    """Run the whole sandbox province: Redis, database, API, worker, simulators (Ctrl-C stops all)."""
    from hub.sandbox import run

    _logging()
    run(get_settings(), demo=demo)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database schema."""
    from hub.store.migrate import upgrade

    upgrade(get_settings().effective_database_url, revision)
    typer.echo(f"database at {revision}")


@routes_app.command("check")
def routes_check() -> None:
    """Check the routing table against the connectors, message types and partners."""
    from connectors.registry import accepted_types
    from hub.messages import MESSAGE_TYPES
    from hub.partners import list_partners
    from hub.runtime import routes_for

    table = routes_for(get_settings())
    try:
        partners = [p["code"] for p in list_partners(_engine())]
    except Exception:  # noqa: BLE001 - the database may not exist yet; skip the partner check
        partners = None
    problems = table.check(accepted_types(), MESSAGE_TYPES, partners)
    for p in problems:
        typer.echo(f"ERROR {p}")
    typer.echo(f"{len(table.rules)} rules, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


@messages_app.command("show")
def messages_show(message_id: str, source: Optional[str] = None) -> None:
    """A message and its deliveries."""
    from hub.store.queries import find_messages

    found = find_messages(_engine(), message_id, source)
    if not found:
        typer.echo("not found", err=True)
        raise typer.Exit(1)
    _print(found)


@messages_app.command("trace")
def messages_trace(dossier_code: str) -> None:
    """Every message of a dossier in time order."""
    from hub.store.queries import trace

    _print(trace(_engine(), dossier_code))


@messages_app.command("dead")
def messages_dead(destination: Optional[str] = None, limit: int = 100) -> None:
    """List dead deliveries."""
    from hub.store.queries import dead_letters

    _print(dead_letters(_engine(), destination, 0, limit))


@messages_app.command("delivery")
def messages_delivery(delivery_id: int) -> None:
    """One delivery with every attempt."""
    from hub.store.queries import delivery_detail

    found = delivery_detail(_engine(), delivery_id)
    if found is None:
        typer.echo("not found", err=True)
        raise typer.Exit(1)
    _print(found)


@messages_app.command("replay")
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
    replayed = replay(_engine(), delivery_ids or None, destination)
    Notifier(redis_for(get_settings())).notify(sorted({d for _, d in replayed}))
    typer.echo(f"replayed {len(replayed)}: {' '.join(str(i) for i, _ in replayed)}")


@messages_app.command("flows")
def messages_flows() -> None:
    """Deliveries per destination and state."""
    from hub.store.queries import state_counts

    for dest, state, n in state_counts(_engine()):
        typer.echo(f"{dest:20} {state:10} {n}")


@partners_app.command("add")
def partners_add(code: str, name: str, kind: str, agency_id: Optional[str] = None) -> None:
    """Register a partner."""
    from hub.partners import add_partner

    add_partner(_engine(), code, name, kind, agency_id)
    typer.echo(f"partner {code} added")


@partners_app.command("list")
def partners_list() -> None:
    """Registered partners."""
    from hub.partners import list_partners

    _print(list_partners(_engine()))


@keys_app.command("issue")
def keys_issue(partner: str, label: str = "") -> None:
    """Issue an API key; it is printed once and stored only as a hash."""
    from hub.partners import issue_key

    typer.echo(issue_key(_engine(), partner, get_settings().effective_key_pepper, label))


@schemas_app.command("export")
def schemas_export(check: bool = typer.Option(False, help="Only report drift; exit 1 if any.")) -> None:
    """Write schemas/ from the models (or check it is current)."""
    from hub.messages import schema_export

    if check:
        drifted = schema_export.drift()
        for name in drifted:
            typer.echo(f"drifted: {name}")
        raise typer.Exit(1 if drifted else 0)
    for path in schema_export.export():
        typer.echo(path)


@sim_app.command("national-dvc")
def simulator_national_dvc(host: str = "127.0.0.1", port: int = 8101) -> None:
    """The national public-service portal adapter simulator."""
    import uvicorn

    from connectors.national_dvc.simulator import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)


@app.command()
def demo(count: int = 5, url: str = "http://127.0.0.1:8000", interval: float = 0.0) -> None:
    """Send demo messages as the one-stop system, with the sandbox credentials in var/sandbox.json."""
    from hub.demo import send

    send(get_settings(), url, count, interval)


if __name__ == "__main__":
    app()
