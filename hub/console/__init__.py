"""The operations console at ``/console``: server-rendered pages for operators, security officers and
admins, served by the hub's own process under the same access rules as the API (``hub/edge/rules.py``).

Pages are Jinja2 templates (``templates/``) in Vietnamese first, English by a switch, from Babel
catalogues (``locale/``); a little vendored JavaScript (htmx, uPlot under ``static/vendor``) and
nothing fetched from outside. Sign-in opens the same sessions as ``POST /v1/auth/login``, carried in
an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token the guard checks
(``hub/access/csrf.py``). Every change goes through the same store functions as its API twin, so it
is the same admin action.
"""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """Every router of the console's pages, for the application to include."""
    from hub.console import admin, audit, auth, operators

    return [auth.router, operators.router, audit.router, admin.router]
