"""No personal data or secrets in logs: every log record is masked before any handler sees it.

:func:`mask` rewrites a text so that it holds

- no citizen ID number: a run of exactly 12 digits (or 4+4+4 split by a space, dot or dash) keeps
  its first 4 and last 2 digits, ``001095001234`` -> ``0010******34``;
- no partner key or session token: ``lt_live_...`` -> ``lt_live_***``, ``lt_sess_...`` -> ``lt_sess_***``;
- no credential in an ``Authorization`` header (``Authorization: ***``, as a header line or a
  ``'authorization': '...'`` pair in a dict's repr) nor after ``Bearer`` / ``ApiKey``.

:func:`install` makes every record of the process pass through :class:`MaskingFilter`: through
the log record factory (so every handler, pytest's caplog and uvicorn's included, gets the masked
record), and as a filter on the handlers already configured. The filter renders the record
first (``msg % args``, the exception's traceback, the stack), masks the text, and stores it back
with no arguments: a secret in an argument or in an exception's text cannot slip through a
formatter that renders it later.
"""

from __future__ import annotations

import logging
import re
from typing import Any

CITIZEN_ID = re.compile(r"(?<![0-9A-Za-z])([0-9]{4})[ .-]?([0-9]{2})[0-9]{2}[ .-]?[0-9]{2}([0-9]{2})(?![0-9A-Za-z])")
SECRET_TOKEN = re.compile(r"\b(lt_live_|lt_sess_)[A-Za-z0-9_\-]+")
AUTH_HEADER = re.compile(r"(?i)(\bauthorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+")
SCHEME_TOKEN = re.compile(r"(?i)\b(bearer|apikey)(\s+)[A-Za-z0-9._~+/=\-]{6,}")


def mask_citizen_id(match: re.Match[str]) -> str:
    return f"{match.group(1)}******{match.group(3)}"


def mask(text: str) -> str:
    """``text`` without citizen IDs, keys, tokens or Authorization values (see the module docstring)."""
    if not text:
        return text
    text = AUTH_HEADER.sub(r"\1***", text)
    text = SCHEME_TOKEN.sub(r"\1\2***", text)
    text = SECRET_TOKEN.sub(r"\1***", text)
    return CITIZEN_ID.sub(mask_citizen_id, text)


class MaskingFilter(logging.Filter):
    """Renders a record's message, traceback and stack, masks them, and keeps only the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_masked", False):
            return True
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # Its formatter unpacks the arguments (client, method, path, version, status): mask each.
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
            record._masked = True
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: log what there is rather than fail
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
            # The traceback is kept as text only: a formatter must not render the exception again.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        record._masked = True
        return True


_FILTER = MaskingFilter()
_installed = False


def install(*loggers: str) -> None:
    """Mask every log record of this process from now on (idempotent); also adds the filter to the
    handlers of the root logger, uvicorn's loggers and ``loggers``, as they are configured now."""
    global _installed
    if not _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _FILTER.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", *loggers):
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
