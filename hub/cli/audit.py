"""``lienthong audit``: the audit trail (access records, hash chain, alerts)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from hub.cli.helpers import audit_guard, get_engine, guard, parse_time, print_json
from hub.config import get_settings

if TYPE_CHECKING:
    from audit.verify_bundle import Report

app = typer.Typer(help="The audit trail: access records, hash chain, alerts.", no_args_is_help=True)


@app.command("detect")
def audit_detect(dry_run: bool = typer.Option(False, help="Only print the findings; raise no alerts."),
                 since_minutes: int = typer.Option(60, help="How far back the event rules (off-hours look-ups, new "
                                                            "addresses) look.")) -> None:
    """Run the detection rules once and print their findings (workers run them every LIENTHONG_ALERT_INTERVAL s)."""
    from datetime import datetime, timedelta, timezone

    from hub.alerts.rules import detect
    from hub.alerts.store import raise_findings

    engine, now = get_engine(), datetime.now(timezone.utc)
    findings = guard(lambda: detect(engine, get_settings(), now=now, since=now - timedelta(minutes=since_minutes)))
    opened = [] if dry_run else raise_findings(engine, findings)
    print_json({"findings": [f.view() for f in findings], "opened": [a["id"] for a in opened]})


def _verdict(report: Report) -> None:
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


@app.command("seal")
def audit_seal(checkpoint: bool = typer.Option(False, help="Sign a checkpoint at the head even if none is due.")) -> None:
    """Seal the access records written so far into the hash chain (one pass; workers run it continuously)."""
    from dataclasses import asdict

    from hub.audit.seal import seal

    print_json(asdict(audit_guard(lambda: seal(get_engine(), get_settings(), force_checkpoint=checkpoint))))


@app.command("verify")
def audit_verify(since: Optional[str] = typer.Option(None, help="Only the records from this ISO time (UTC if no offset)."),
                 until: Optional[str] = typer.Option(None, help="Only the records before this ISO time.")) -> None:
    """Walk the hash chain, check every signed checkpoint; exit 0 if intact, 1 with the first problem."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from hub.audit.seal import anchor
    from hub.audit.verify import verify
    from hub.store.engine import reading

    bar = Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task: list[TaskID] = []

    def progress(done: int, total: int) -> None:
        if not task and total >= 20_000:  # a bar only for long runs
            bar.start()
            task.append(bar.add_task("verify", total=total))
        if task:
            bar.update(task[0], completed=done)

    engine, settings = get_engine(), get_settings()
    try:
        report = audit_guard(lambda: verify(engine, settings, parse_time(since), parse_time(until), progress=progress))
    finally:
        bar.stop()
    with reading(engine) as conn:
        start_seq, start_hash = anchor(conn)
    if start_seq:
        typer.echo(f"chain in the database starts at the archive anchor: seq {start_seq}, hash {start_hash}")
    if report.ok and report.unsealed:
        typer.echo(f"{report.unsealed} newer records are not sealed yet (the next sealer pass chains them)")
    _verdict(report)


@app.command("export")
def audit_export(out: Optional[Path] = typer.Option(None, help="Folder to write the bundle (directory and .tar.gz) "
                                                               "into; default: exports/ in LIENTHONG_VAR_DIR."),
                 since: Optional[str] = typer.Option(None, help="From this ISO time (back to the checkpoint before it)."),
                 until: Optional[str] = typer.Option(None, help="Up to this ISO time (on to the checkpoint after it).")) -> None:
    """Export sealed records, checkpoints and public keys as a bundle anyone can verify offline."""
    from hub.audit.bundle import export

    folder = audit_guard(lambda: export(get_engine(), get_settings(), out, parse_time(since), parse_time(until)))
    typer.echo(folder)
    typer.echo(folder.with_name(folder.name + ".tar.gz"))


@app.command("verify-bundle")
def audit_verify_bundle(paths: list[Path] = typer.Argument(..., help="Bundles (directories or .tar.gz), oldest first."),
                        trust: list[str] = typer.Option([], help="Accept only checkpoints signed by this key id "
                                                                 "(repeatable).")) -> None:
    """Verify bundles offline, as verify_bundle.py does; in order, each must start where the previous ended."""
    from hub.audit.bundle import verify_bundles

    _verdict(verify_bundles(paths, trust or None))


@app.command("archive")
def audit_archive(before: str = typer.Option(..., help="Archive the records older than this ISO time."),
                  out: Optional[Path] = typer.Option(None, help="Folder to write the archive bundle into; default: "
                                                                "archive/ in LIENTHONG_VAR_DIR.")) -> None:
    """Move old sealed records into a verified bundle, then delete them and anchor the chain there."""
    from dataclasses import asdict

    from hub.audit.archive import archive

    print_json(asdict(audit_guard(lambda: archive(get_engine(), get_settings(), parse_time(before), out))))


@app.command("key")
def audit_key(jwk: bool = typer.Option(False, help="Print the public key as a JWK instead of PEM.")) -> None:
    """The audit signing key's id and public key (to publish to auditors)."""
    from hub.audit.keys import load_key, public_jwk, public_pem

    key = audit_guard(lambda: load_key(get_settings()))
    if jwk:
        print_json(public_jwk(key.public))
        return
    typer.echo(f"key id: {key.key_id}")
    typer.echo(public_pem(key.public), nl=False)


@app.command("rotate-key")
def audit_rotate_key(new_key: Optional[Path] = typer.Option(None, "--from", help="Install this Ed25519 PEM instead of "
                                                                                  "generating one.")) -> None:
    """Retire the audit signing key (its public key is kept to verify old checkpoints) and start a new one."""
    from hub.access.actions import cli_actor
    from hub.audit.keys import retired_dir, rotate
    from hub.keyset import audit_checkpoint_fingerprint
    from hub.store.fingerprints import record_rotation

    settings = get_settings()
    old, new = audit_guard(lambda: rotate(settings, new_key))
    with get_engine().begin() as conn:  # every hub process must bring the new key from now on (hub/safety.py)
        record_rotation(conn, "audit_checkpoint_key", audit_checkpoint_fingerprint(settings), cli_actor())
    typer.echo(f"retired {old} (public key kept in {retired_dir(settings)}); now signing with {new}")
