"""Credential names: the rule every name follows, and the well-known credentials the partners use.

A name is a dotted path, lower case: ``<owner>.<what>`` (``<partner>.password``,
``signing.hmac.<keyid>``). Any name that matches :data:`NAME` may be stored; the well-known ones
(each partner's manifest names its own, ``<partner>.<what>``) are listed by
``lienthong credentials list`` even before they are set.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hub.plugins import credentials

NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_:-]+)+$")
MAX_NAME = 120


class WellKnown(NamedTuple):
    description: str
    partner: str  # the partner whose manifest names it
    setting: str  # the field of that partner's settings holding its sandbox/test fallback, or ""


def well_known() -> dict[str, WellKnown]:
    """Every partner's credentials, by name."""
    return {name: WellKnown(*spec) for name, spec in credentials().items()}


def check_name(name: str) -> str:
    """``name`` if it is a valid credential name; raises ``ValueError`` naming the rule otherwise."""
    if len(name) > MAX_NAME or not NAME.match(name):
        raise ValueError(f"name: a credential name is lower-case dotted words, e.g. <partner>.password "
                         f"(pattern {NAME.pattern}, at most {MAX_NAME} characters)")
    return name
