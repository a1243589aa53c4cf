"""Languages of the console: Vietnamese by default, English by a switch; Vietnamese times and numbers.

Messages are gettext catalogues (``locale/<lang>/LC_MESSAGES/messages.po``, Babel's format),
compiled in memory at start (no ``.mo`` files to keep in step). The message ids are English; the
Vietnamese catalogue translates each, the English one confirms each, and a test fails on an id missing
from either (``tests/console/test_catalogues.py``). ``make messages`` extracts the ids and updates both.

The language of the current request is a context variable set by :func:`use`, so templates
(``{{ _("...") }}``) and Python code (``_("...")``) translate alike.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "lt_lang"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
LOCALE_DIR = Path(__file__).parent / "locale"
#: The way Vietnamese administrative documents write a moment: day/month/year, 24-hour clock, in
#: both languages (Babel's ``dd/MM/yyyy HH:mm:ss``: all digits, so ``strftime`` writes it).
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
DATE_FORMAT = "dd/MM/yyyy"

_current: ContextVar[str] = ContextVar("console_language", default=DEFAULT)


@lru_cache(maxsize=None)
def catalogue(lang: str) -> Translations:
    """The compiled catalogue of ``lang`` (one of :data:`LANGUAGES`)."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        cat = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    return Translations(fp=buf, domain="messages")


def language_of(cookie: str | None) -> str:
    """The request's language: the switch's cookie, else Vietnamese (English only when asked for)."""
    return cookie if cookie in LANGUAGES else DEFAULT


def use(lang: str) -> None:
    """Translate the rest of this request (this context) into ``lang``."""
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return catalogue(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues without translating it now (a table of labels)."""
    return message


def moment(value: datetime | str | None) -> str:
    """A moment as Vietnamese write it, in Asia/Ho_Chi_Minh: ``01/12/2026 14:05:09``; '' for None."""
    if value is None or value == "":
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)  # the store keeps UTC
    # Babel's format_datetime gives the same text, but took 25 µs a call: 2,500 moments (the
    # officers page with its review) cost 60 ms of the page (docs/PERFORMANCE.md, issue 15).
    return at.astimezone(ZONE).strftime(TIME_FORMAT)


def day(value: date | datetime | str | None) -> str:
    """A date as ``01/12/2026`` (a moment is taken in Asia/Ho_Chi_Minh)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        value = at.astimezone(ZONE).date()
    return value.strftime("%d/%m/%Y")


def number(value: int | float | None, digits: int = 0) -> str:
    """A number with the language's separators (Vietnamese: ``1.234.567,5``)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_current.get())
