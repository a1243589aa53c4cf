"""The applicant's name as a look-up shows it: enough for the applicant to recognise their dossier,
too little to learn who filed it.

Rule (NFC first, so a letter with its diacritics is one character): the first word (the family
name: Nguyễn, Trần, Lê... a few dozen names cover most of the country) is kept whole; every later
word keeps its first letter and each of its other letters becomes ``*``. "Nguyễn Thị Hằng" is
"Nguyễn T** H***". A one-word name keeps only its first letter ("Hằng" -> "H***"). Spaces are
collapsed; nothing else of the applicant (ID numbers, phone, e-mail, address) is ever shown.
"""

from __future__ import annotations

import unicodedata

MASK = "*"


def _hide(word: str) -> str:
    return word[0] + MASK * (len(word) - 1)


def mask_name(name: str) -> str:
    """``name`` masked by the module's rule; "" for an empty name."""
    words = unicodedata.normalize("NFC", name).split()
    if not words:
        return ""
    if len(words) == 1:
        return _hide(words[0])
    return " ".join([words[0], *(_hide(w) for w in words[1:])])
