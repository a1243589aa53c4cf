"""Which pages each role sees: the console's menu, and where a person lands after sign-in.

The menu shows a page only to the roles its route admits (``hub/edge/rules.py``); a test checks the
two agree, so the menu never offers a page that would answer 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.console.i18n import N_


@dataclass(frozen=True, slots=True)
class Entry:
    path: str
    label: str  # a message id: translated when shown
    section: str


ROLE_LABELS = {"operator": N_("Operator"), "auditor": N_("Security officer"), "admin": N_("Administrator")}
SECTIONS = {"ops": N_("Operations"), "audit": N_("Security"), "admin": N_("Administration")}

MENU: tuple[Entry, ...] = (
    Entry("/console/overview", N_("Overview"), "ops"),
    Entry("/console/dead-letters", N_("Dead letters"), "ops"),
    Entry("/console/trace", N_("Dossier trace"), "ops"),
    Entry("/console/messages", N_("Messages"), "ops"),
    Entry("/console/audit/records", N_("Access records"), "audit"),
    Entry("/console/audit/alerts", N_("Alerts"), "audit"),
    Entry("/console/audit/chain", N_("Audit chain"), "audit"),
    Entry("/console/admin/partners", N_("Partners and keys"), "admin"),
    Entry("/console/admin/limits", N_("Rate limits"), "admin"),
    Entry("/console/admin/officers", N_("Officers"), "admin"),
    Entry("/console/admin/accounts", N_("Accounts"), "admin"),
    Entry("/console/admin/review", N_("Unused access"), "admin"),
    Entry("/console/admin/credentials", N_("Credentials"), "admin"),
)


def menu_for(role: str | None) -> list[Entry]:
    """The entries ``role`` may open, in menu order."""
    from hub.edge.rules import RULES

    return [e for e in MENU if role in RULES[("GET", e.path)].roles]


def home_of(role: str | None) -> str:
    """The first page of ``role``'s menu (the sign-in page for nobody)."""
    entries = menu_for(role)
    return entries[0].path if entries else "/console/login"
