"""Credential names: the rule every name follows, and the well-known credentials the connectors use.

A name is a dotted path, lower case: ``<owner>.<what>`` (``national_dvc.password``,
``signing.hmac.<keyid>``). Any name that matches :data:`NAME` may be stored; the well-known ones
below are listed by ``lienthong credentials list`` even before they are set.
"""

from __future__ import annotations

import re
from typing import NamedTuple

NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_:-]+)+$")
MAX_NAME = 120


class WellKnown(NamedTuple):
    description: str
    setting: str  # the Settings field holding its sandbox/test default (the fallback), if the hub has one


WELL_KNOWN: dict[str, WellKnown] = {
    "national_dvc.password": WellKnown("Password of the hub's account on the national portal (DVCQG) adapter",
                                       "dvc_password"),
    "population_db.client_id": WellKnown("OAuth client id towards the provincial platform in front of the population "
                                         "database", "population_db_client_id"),
    "population_db.client_secret": WellKnown("OAuth client secret towards the population database's platform",
                                             "population_db_client_secret"),
    "population_db.ma_dvc": WellKnown("MaDVC: the province's service code issued by the population database",
                                      "population_db_ma_dvc"),
    "population_db.ma_tich_hop": WellKnown("MaTichHop: the integration code issued by the population database",
                                           "population_db_ma_tich_hop"),
    "postal_vnpost.client_secret": WellKnown("OAuth client secret of the hub's VNPost account", "postal_client_secret"),
    "payment.secret": WellKnown("Shared secret of the national payment platform's MaXacThuc checksums", "payment_secret"),
}


def check_name(name: str) -> str:
    """``name`` if it is a valid credential name; raises ``ValueError`` naming the rule otherwise."""
    if len(name) > MAX_NAME or not NAME.match(name):
        raise ValueError(f"name: a credential name is lower-case dotted words, e.g. national_dvc.password "
                         f"(pattern {NAME.pattern}, at most {MAX_NAME} characters)")
    return name
