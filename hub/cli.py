"""``lienthong``: run the hub's parts separately and operate it from a shell."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from connectors.population_db.cli import app as population_db_simulator
from connectors.sim_signatures import JWKS_HELP
from connectors.simulators import simulators
from hub.citizens.cli import app as officers_app
from hub.config import get_settings
from hub.signatures.cli import app as signing_app
from hub.vault.cli import app as credentials_app

app = typer.Typer(help="lienthong – the provincial integration hub (LGSP).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
messages_app = typer.Typer(help="Messages, deliveries and dead letters.", no_args_is_help=True)
routes_app = typer.Typer(help="The routing table.", no_args_is_help=True)
partners_app = typer.Typer(help="Partners (registered systems).", no_args_is_help=True)
keys_app = typer.Typer(help="Partner API keys.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the canonical messages and wire formats.", no_args_is_help=True)
sim_app = typer.Typer(help="Partner simulators for the sandbox and the tests.", no_args_is_help=True)
limits_app = typer.Typer(help="Rate-limit policies (in force on every hub process within seconds).", no_args_is_help=True)
accounts_app = typer.Typer(help="People's accounts: admin, operator, auditor.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: access records, hash chain, alerts.", no_args_is_help=True)
keyset_app = typer.Typer(help="The hub's own key set, shared by every replica (keys/README.md).", no_args_is_help=True)
for sub, name in ((db_app, "db"), (messages_app, "messages"), (routes_app, "routes"), (partners_app, "partners"),
                  (keys_app, "keys"), (schemas_app, "schemas"), (sim_app, "simulator"), (limits_app, "limits"),
                  (accounts_app, "accounts"), (audit_app, "audit"), (keyset_app, "keyset")):
    app.add_typer(sub, name=name)
app.add_typer(officers_app, name="officers")
app.add_typer(credentials_app, name="credentials")
app.add_typer(signing_app, name="signing")
sim_app.add_typer(simulators)  # payment, motcua
sim_app.add_typer(population_db_simulator)  # population-db


@app.callback()
def _every_command() -> None:
    """Every command's log records are masked (no citizen ID, key or token), whoever configures logging."""
    from hub.log_mask import install

    install()


def _logging(level: str = "INFO") -> None:
    from hub.log_mask import install

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per partner call is noise
    install()  # and on the handler just configured


def _engine():  # noqa: ANN202 - a SQLAlchemy Engine
    from hub.runtime import engine_for

    return engine_for(get_settings())


def _print(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


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

    _logging()
    check_or_exit(get_settings(), "worker")
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
    from hub.routing import routes_for

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
def partners_add(code: str, name: str, kind: str, agency_id: Optional[str] = None,
                 allowed_ip: list[str] = typer.Option([], help="CIDR the partner may call from (repeatable).")) -> None:
    """Register a partner."""
    from hub.access.actions import cli_actor
    from hub.partners import add_partner

    _guard(lambda: add_partner(_engine(), code, name, kind, agency_id, allowed_ips=allowed_ip, actor=cli_actor()))
    typer.echo(f"partner {code} added")


@partners_app.command("list")
def partners_list() -> None:
    """Registered partners."""
    from hub.partners import list_partners

    _print(list_partners(_engine()))


@partners_app.command("set")
def partners_set(code: str, state: Optional[str] = typer.Option(None, help="active or suspended"),
                 name: Optional[str] = None, agency_id: Optional[str] = None,
                 allowed_ip: Optional[list[str]] = typer.Option(None, help="Replace the allowlist (repeatable).")) -> None:
    """Change a partner; suspending one stops all its keys."""
    from hub.access.actions import cli_actor
    from hub.partners import update_partner

    changes = {k: v for k, v in {"state": state, "name": name, "agency_id": agency_id, "allowed_ips": allowed_ip}.items()
               if v is not None}
    _print(_guard(lambda: update_partner(_engine(), code, changes, actor=cli_actor())))


@keys_app.command("issue")
def keys_issue(partner: str, label: str = "",
               types: Optional[list[str]] = typer.Option(None, help="Message types it may send (repeatable; default all)."),
               endpoints: Optional[list[str]] = typer.Option(None, help="intake, read, ops, lookup (repeatable)."),
               lookups: Optional[list[str]] = typer.Option(None, help="lookup, verify, household, residence."),
               expires_days: Optional[int] = typer.Option(None, help="Stop working after this many days."),
               allowed_ip: list[str] = typer.Option([], help="CIDR the key may be used from (repeatable).")) -> None:
    """Issue an API key; it is printed once and stored only as a hash."""
    from datetime import datetime, timedelta, timezone

    from hub.access.actions import cli_actor
    from hub.access.keys import issue_key

    scopes = {k: v for k, v in {"types": types, "endpoints": endpoints, "lookups": lookups}.items() if v}
    expires = datetime.now(timezone.utc) + timedelta(days=expires_days) if expires_days else None
    typer.echo(_guard(lambda: issue_key(_engine(), partner, get_settings().effective_key_pepper, label, scopes=scopes or None,
                                        expires_at=expires, allowed_ips=allowed_ip, actor=cli_actor())))


@keys_app.command("list")
def keys_list(partner: Optional[str] = None) -> None:
    """Keys with their state, scopes and last use (never their secrets)."""
    from hub.access.keys import list_keys

    _print(list_keys(_engine(), partner))


@keys_app.command("rotate")
def keys_rotate(key_id: int, grace_hours: float = typer.Option(24.0, help="How long the old key keeps working.")) -> None:
    """Issue a successor (printed once); the old key stops after the grace period."""
    from hub.access.actions import cli_actor
    from hub.access.keys import rotate_key

    secret, view = _guard(lambda: rotate_key(_engine(), key_id, get_settings().effective_key_pepper, int(grace_hours * 3600),
                                             actor=cli_actor()))
    typer.echo(f"new key {view['id']} (the old one works for {grace_hours} h):")
    typer.echo(secret)


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Stop a key now; every hub process refuses it within a second."""
    from hub.access.actions import cli_actor
    from hub.access.keys import revoke_key

    _print(_guard(lambda: revoke_key(_engine(), key_id, actor=cli_actor())))


@limits_app.command("list")
def limits_list() -> None:
    """Policies in the database, and the embedded default."""
    from hub.access.policies import list_policies

    _print({"policies": list_policies(_engine()), "default": get_settings().rate_limits_default})


@limits_app.command("set")
def limits_set(name: str, quota: int, window_seconds: int,
               counter: str = typer.Option("key", help="key: each key alone; partner: all of a partner's keys together"),
               partner: Optional[str] = typer.Option(None, help="Only this partner (default: every partner)."),
               key_id: Optional[int] = typer.Option(None, help="Only this key."),
               route_class: str = typer.Option("*", help="intake, read, ops, lookup, admin, audit or *")) -> None:
    """Create or change a policy, e.g. ``lienthong limits set per-second 20 1 --partner motcua``."""
    from hub.access.actions import cli_actor
    from hub.access.policies import set_policy

    _print(_guard(lambda: set_policy(_engine(), counter=counter, name=name, quota=quota, window_seconds=window_seconds,
                                     route_class=route_class, partner_code=partner, key_id=key_id, actor=cli_actor())))


@limits_app.command("delete")
def limits_delete(policy_id: int) -> None:
    """Remove a policy."""
    from hub.access.actions import cli_actor
    from hub.access.policies import delete_policy

    _print(_guard(lambda: delete_policy(_engine(), policy_id, actor=cli_actor())))


@accounts_app.command("add")
def accounts_add(username: str, display_name: str, role: str,
                 allowed_ip: list[str] = typer.Option([], help="Narrow where this person may sign in from (repeatable).")) -> None:
    """Create a person's account; the password is asked for (not echoed)."""
    from hub.access.accounts import add_account
    from hub.access.actions import cli_actor

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    _print(_guard(lambda: add_account(_engine(), username, display_name, role, password, allowed_ips=allowed_ip,
                                      actor=cli_actor())))


@accounts_app.command("list")
def accounts_list() -> None:
    """People's accounts (never their password hashes)."""
    from hub.access.accounts import list_accounts

    _print(list_accounts(_engine()))


@accounts_app.command("disable")
def accounts_disable(username: str) -> None:
    """Disable an account and end its sessions."""
    from hub.access.accounts import update_account
    from hub.access.actions import cli_actor

    _print(_guard(lambda: update_account(_engine(), username, {"state": "disabled"}, actor=cli_actor())))


@app.command()
def review(days: Optional[int] = typer.Option(None, help="Unused for this many days (default LIENTHONG_REVIEW_DAYS)."),
           disable: bool = typer.Option(False, help="Revoke the keys and disable the accounts listed.")) -> None:
    """List keys and accounts unused for N days (the regulations' periodic review); --disable acts on them."""
    from hub.access.actions import cli_actor
    from hub.access.review import disable_unused, unused

    days = days or get_settings().review_days
    _print(disable_unused(_engine(), days, actor=cli_actor()) if disable else unused(_engine(), days))


@audit_app.command("detect")
def audit_detect(dry_run: bool = typer.Option(False, help="Only print the findings; raise no alerts."),
                 since_minutes: int = typer.Option(60, help="How far back the event rules (off-hours look-ups, new "
                                                            "addresses) look.")) -> None:
    """Run the detection rules once and print their findings (workers run them every LIENTHONG_ALERT_INTERVAL s)."""
    from datetime import datetime, timedelta, timezone

    from hub.audit.alerts import raise_findings
    from hub.audit.detect import detect

    engine, now = _engine(), datetime.now(timezone.utc)
    findings = _guard(lambda: detect(engine, get_settings(), now=now, since=now - timedelta(minutes=since_minutes)))
    opened = [] if dry_run else raise_findings(engine, findings)
    _print({"findings": [f.view() for f in findings], "opened": [a["id"] for a in opened]})


def _guard(fn):  # noqa: ANN001, ANN202 - any store call
    """Run ``fn``; a ValueError or LookupError is printed and exits 2, without a traceback."""
    try:
        return fn()
    except (ValueError, LookupError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _when(text: Optional[str]):  # noqa: ANN202 - an aware datetime or None
    """An ISO 8601 time from the command line; without an offset it is UTC."""
    from datetime import datetime, timezone

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: not an ISO 8601 time: {text}", err=True)
        raise typer.Exit(2) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _audit_guard(fn):  # noqa: ANN001, ANN202 - any audit call
    """Like ``_guard``, and a missing or unreadable key file is an error message too."""
    try:
        return _guard(fn)
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _verdict(report) -> None:  # noqa: ANN001 - hub.audit.verify_bundle.Report
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("seal")
def audit_seal(checkpoint: bool = typer.Option(False, help="Sign a checkpoint at the head even if none is due.")) -> None:
    """Seal the access records written so far into the hash chain (one pass; workers run it continuously)."""
    from dataclasses import asdict

    from hub.audit.seal import seal

    _print(asdict(_audit_guard(lambda: seal(_engine(), get_settings(), force_checkpoint=checkpoint))))


@audit_app.command("verify")
def audit_verify(since: Optional[str] = typer.Option(None, help="Only the records from this ISO time (UTC if no offset)."),
                 until: Optional[str] = typer.Option(None, help="Only the records before this ISO time.")) -> None:
    """Walk the hash chain, check every signed checkpoint; exit 0 if intact, 1 with the first problem."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from hub.audit.seal import anchor
    from hub.audit.verify import verify
    from hub.store.engine import reading

    bar = Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task: list = []

    def progress(done: int, total: int) -> None:
        if not task and total >= 20_000:  # a bar only for long runs
            bar.start()
            task.append(bar.add_task("verify", total=total))
        if task:
            bar.update(task[0], completed=done)

    engine, settings = _engine(), get_settings()
    try:
        report = _audit_guard(lambda: verify(engine, settings, _when(since), _when(until), progress=progress))
    finally:
        bar.stop()
    with reading(engine) as conn:
        start_seq, start_hash = anchor(conn)
    if start_seq:
        typer.echo(f"chain in the database starts at the archive anchor: seq {start_seq}, hash {start_hash}")
    if report.ok and report.unsealed:
        typer.echo(f"{report.unsealed} newer records are not sealed yet (the next sealer pass chains them)")
    _verdict(report)


@audit_app.command("export")
def audit_export(out: Path = typer.Option(..., help="Folder to write the bundle (directory and .tar.gz) into."),
                 since: Optional[str] = typer.Option(None, help="From this ISO time (back to the checkpoint before it)."),
                 until: Optional[str] = typer.Option(None, help="Up to this ISO time (on to the checkpoint after it).")) -> None:
    """Export sealed records, checkpoints and public keys as a bundle anyone can verify offline."""
    from hub.audit.bundle import export

    folder = _audit_guard(lambda: export(_engine(), get_settings(), out, _when(since), _when(until)))
    typer.echo(folder)
    typer.echo(folder.with_name(folder.name + ".tar.gz"))


@audit_app.command("verify-bundle")
def audit_verify_bundle(paths: list[Path] = typer.Argument(..., help="Bundles (directories or .tar.gz), oldest first."),
                        trust: list[str] = typer.Option([], help="Accept only checkpoints signed by this key id "
                                                                 "(repeatable).")) -> None:
    """Verify bundles offline, as verify_bundle.py does; in order, each must start where the previous ended."""
    from hub.audit.bundle import verify_bundles

    _verdict(verify_bundles(paths, trust or None))


@audit_app.command("archive")
def audit_archive(before: str = typer.Option(..., help="Archive the records older than this ISO time."),
                  out: Path = typer.Option(..., help="Folder to write the archive bundle into.")) -> None:
    """Move old sealed records into a verified bundle, then delete them and anchor the chain there."""
    from dataclasses import asdict

    from hub.audit.archive import archive

    _print(asdict(_audit_guard(lambda: archive(_engine(), get_settings(), _when(before), out))))


@audit_app.command("key")
def audit_key(jwk: bool = typer.Option(False, help="Print the public key as a JWK instead of PEM.")) -> None:
    """The audit signing key's id and public key (to publish to auditors)."""
    from hub.audit.keys import load_key, public_jwk, public_pem

    key = _audit_guard(lambda: load_key(get_settings()))
    if jwk:
        _print(public_jwk(key.public))
        return
    typer.echo(f"key id: {key.key_id}")
    typer.echo(public_pem(key.public), nl=False)


@audit_app.command("rotate-key")
def audit_rotate_key(new_key: Optional[Path] = typer.Option(None, "--from", help="Install this Ed25519 PEM instead of "
                                                                                  "generating one.")) -> None:
    """Retire the audit signing key (its public key is kept to verify old checkpoints) and start a new one."""
    from hub.access.actions import cli_actor
    from hub.audit.keys import retired_dir, rotate
    from hub.keyset import audit_checkpoint_fingerprint
    from hub.store.fingerprints import record_rotation

    settings = get_settings()
    old, new = _audit_guard(lambda: rotate(settings, new_key))
    with _engine().begin() as conn:  # every hub process must bring the new key from now on (hub/safety.py)
        record_rotation(conn, "audit_checkpoint_key", audit_checkpoint_fingerprint(settings), cli_actor())
    typer.echo(f"retired {old} (public key kept in {retired_dir(settings)}); now signing with {new}")


@keyset_app.command("init")
def keyset_init(folder: Path = typer.Argument(..., help="The folder to write into (LIENTHONG_KEYS_DIR of every "
                                                         "replica); created mode 0700.")) -> None:
    """Write a full production key set (pepper, vault master key, audit keys, hub signing ring), mode 0600.

    Run once; refuses if any key of the set is already there. Prints file names and fingerprints, never a key.
    """
    from hub.keyset import KeysetExists, fingerprints, init

    settings = get_settings()
    try:
        written = init(folder, settings)
    except (KeysetExists, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(path)
    shared = settings.model_copy(update={"keys_dir": folder, "key_pepper": "", "vault_master_key": "",
                                         "audit_content_key": "", "audit_index_key": "", "audit_key_file": "",
                                         "profile": "production"})
    _print({"fingerprints": fingerprints(shared)})


@keyset_app.command("check")
def keyset_check() -> None:
    """The start-up check on its own: every reason the settings are unsafe (production), and whether this
    process's keys match the fingerprints the database records. Exit 0 when the hub would start."""
    from hub.keyset import fingerprints
    from hub.safety import check_or_exit, production_problems
    from hub.store.fingerprints import recorded

    settings = get_settings()
    check_or_exit(settings, "keyset-check")
    if settings.profile != "production":
        for reason in production_problems(settings):
            typer.echo(f"in production: {reason}")
    _print({"this process": fingerprints(settings), "database": _audit_guard(lambda: recorded(_engine()))})


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
def simulator_national_dvc(host: str = "127.0.0.1", port: int = 8101,
                           jwks_url: str = typer.Option("", help=JWKS_HELP),
                           password: str = typer.Option("sandbox-password", envvar="DVC_SIM_PASSWORD",
                                                        help="The account's password (from the environment, so "
                                                             "that it is not on the command line).")) -> None:
    """The national public-service portal adapter simulator."""
    import uvicorn

    from connectors.national_dvc.simulator import create_app

    uvicorn.run(create_app(password=password, jwks_url=jwks_url or None), host=host, port=port, log_level="warning",
                access_log=False)


@app.command()
def demo(count: int = 5, url: str = "http://127.0.0.1:8000", interval: float = 0.0) -> None:
    """Send demo messages as the one-stop system, with the sandbox credentials in var/sandbox.json."""
    from hub.demo import send

    send(get_settings(), url, count, interval)


if __name__ == "__main__":
    app()
