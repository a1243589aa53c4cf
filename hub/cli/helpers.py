"""What the command groups share: the engine, refusals as messages, JSON output, times, logging."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, overload

import typer

from hub.config import get_settings

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Engine

T = TypeVar("T")


def get_engine() -> Engine:
    """The database engine of the hub's settings."""
    from hub.runtime import engine_for

    return engine_for(get_settings())


def guard(fn: Callable[[], T], *also: type[Exception]) -> T:
    """Run ``fn``; a ValueError, LookupError (or one of ``also``) is printed and exits 2, without a traceback."""
    refusals: tuple[type[Exception], ...] = (ValueError, LookupError, *also)
    try:
        return fn()
    except refusals as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def audit_guard(fn: Callable[[], T]) -> T:
    """Like ``guard``, and a missing or unreadable key file is an error message too."""
    return guard(fn, OSError)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (non-ASCII kept, anything else as its ``str``)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@overload
def parse_time(text: str) -> datetime: ...
@overload
def parse_time(text: Optional[str]) -> Optional[datetime]: ...


def parse_time(text: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 time from the command line; without an offset it is UTC; not one exits 2."""
    from datetime import datetime, timezone

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: not an ISO 8601 time: {text}", err=True)
        raise typer.Exit(2) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr at ``level``, masked, for the long-running commands (worker, relay, sandbox)."""
    from hub.log_mask import install

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per partner call is noise
    install()  # and on the handler just configured
