"""The hub's processes: ``api``, ``worker``, ``relay`` and ``sandbox``."""

from __future__ import annotations

import typer

from hub.cli.helpers import get_engine, print_json, setup_logging
from hub.config import get_settings

app = typer.Typer()  # no name: its commands are top-level ones


@app.command()
def api(host: str = "127.0.0.1", port: int = 8000, workers: int = typer.Option(1, help="uvicorn worker processes")) -> None:
    """Serve the HTTP API (the edge); refuses to start on unsafe production settings or another key set."""
    import uvicorn

    from hub.safety import check_or_exit

    check_or_exit(get_settings(), "api")  # every reason on stderr, exit 2 (each uvicorn worker checks again)
    # proxy_headers=False: the hub reads forwarding headers itself (hub/access/forwarded.py), only from
    # LIENTHONG_TRUSTED_PROXIES (uvicorn would otherwise believe them from any loopback peer).
    uvicorn.run("hub.edge.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, proxy_headers=False)


@app.command()
def worker(burst: bool = typer.Option(False, help="Stop when the queues are empty.")) -> None:
    """Deliver queued messages to partners (and run the relay); refuses to start like ``api``."""
    from hub.safety import check_or_exit
    from hub.worker import run_worker

    setup_logging()
    check_or_exit(get_settings(), "worker")
    run_worker(get_settings(), burst=burst)


@app.command()
def relay(once: bool = typer.Option(False, help="One sweep, then exit.")) -> None:
    """Re-enqueue pending, due and orphaned deliveries (workers already run one)."""
    from hub.queue.relay import Relay, sweep
    from hub.queue.signal import Notifier
    from hub.runtime import redis_for

    setup_logging()
    settings = get_settings()
    notifier = Notifier(redis_for(settings))
    if once:
        print_json({"woken": sweep(get_engine(), notifier)})
        return
    r = Relay(get_engine(), notifier, settings.relay_interval)
    r.run()


@app.command()
def sandbox(demo: bool = typer.Option(True, help="Feed demo messages so flows show at once.")) -> None:
    """Run the whole sandbox province: Redis, database, API, worker, simulators (Ctrl-C stops all)."""
    from hub.sandbox import run

    setup_logging()
    run(get_settings(), demo=demo)
