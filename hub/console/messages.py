"""The console's catalogues kept in step with its sources (``make messages``, ``tests/console``).

:func:`extracted` lists every message id the templates and Python modules use (Babel's extractors);
:func:`update` writes them into each language's ``messages.po``: ids already translated keep their
translation, new ones are added untranslated (the test then fails until someone translates them),
ids no longer used are dropped.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from hub.console.i18n import LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted() -> dict[str, list[str]]:
    """message id -> where it is used (``file:line``)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project="lienthong console")
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def update() -> dict[str, int]:
    """Bring every catalogue in step with the sources; how many ids each still lacks a translation for."""
    ids = extracted()
    missing: dict[str, int] = {}
    for lang in LANGUAGES:
        old = read(lang)
        new = Catalog(locale=lang, project="lienthong console", fuzzy=False)
        for msgid, where in sorted(ids.items()):
            known = old.get(msgid)
            string = known.string if known is not None and known.string else ""
            if lang == "en" and not string:
                string = msgid  # the ids are English: the English catalogue confirms each
            new.add(msgid, string, locations=[(w.rsplit(":", 1)[0], int(w.rsplit(":", 1)[1])) for w in where])
        missing[lang] = sum(1 for m in new if m.id and not m.string)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, new, width=120, omit_header=False, sort_output=True)
    return missing


def fill(lang: str, translations: dict[str, str]) -> int:
    """Set the translation of each given id that the catalogue has; how many were set."""
    cat = read(lang)
    done = 0
    for msgid, string in translations.items():
        message = cat.get(msgid)
        if message is not None and string:
            message.string, done = string, done + 1
    with po_path(lang).open("wb") as f:
        write_po(f, cat, width=120, sort_output=True)
    return done


if __name__ == "__main__":
    # python -m hub.console.messages                      update both catalogues from the sources
    # python -m hub.console.messages fill vi FILE.json    then set translations ({"id": "bản dịch"})
    import json
    import sys

    print(update())
    if len(sys.argv) == 4 and sys.argv[1] == "fill":
        print(fill(sys.argv[2], json.loads(Path(sys.argv[3]).read_text(encoding="utf-8"))), "set")
        print(update())
