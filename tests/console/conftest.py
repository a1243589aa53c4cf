"""The console served by a real hub over loopback, and people signed in to it the way a browser is.

``console`` starts the app (the same ``create_app`` the hub serves) on a migrated, seeded hub with
one account per role; ``console.person(role)`` is an httpx client that signed in through the
sign-in form (its cookie jar holds the session; ``.csrf`` is the token its forms carry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import httpx
import pytest
from fastapi import FastAPI

from hub.access.accounts import add_account
from hub.edge.app import create_app
from tests.conftest import Hub
from tests.support import ThreadedServer

PASSWORD = "correct horse battery"
PEOPLE = {"operator": "vanhanh", "auditor": "kiemtra", "admin": "quantri"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Person(httpx.Client):
    """A signed-in browser-like client: cookies kept, redirects not followed, ``csrf`` for its forms."""

    csrf: str = ""

    def submit(self, path: str, data: dict[str, object] | list[tuple[str, str]] | None = None,
               csrf: bool = True, **kwargs: object) -> httpx.Response:
        """POST a console form (with the session's CSRF token unless ``csrf`` is False); a list of pairs
        repeats a field (checkboxes)."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            pairs.append(("csrf_token", self.csrf))
        form: dict[str, list[str]] = {}
        for k, v in pairs:
            form.setdefault(str(k), []).append(str(v))
        return self.post(path, data=form, **kwargs)  # type: ignore[arg-type]


@dataclass
class Console:
    url: str
    hub: Hub
    app: FastAPI
    people: list[Person] = field(default_factory=list)

    def anonymous(self) -> Person:
        c = Person(base_url=self.url, timeout=30, follow_redirects=False)
        self.people.append(c)
        return c

    def person(self, role: str, password: str = PASSWORD) -> Person:
        """Sign ``role``'s account in through the sign-in form."""
        c = self.anonymous()
        form = c.get("/console/login")
        assert form.status_code == 200, form.text
        token = CSRF_FIELD.search(form.text)
        assert token, "the sign-in form carries a CSRF token"
        answer = c.post("/console/login", data={"username": PEOPLE[role], "password": password,
                                                "csrf_token": token.group(1)})
        assert answer.status_code == 303, answer.text
        home = c.get(answer.headers["location"])
        assert home.status_code == 200, home.text
        found = CSRF_META.search(home.text)
        assert found, "a signed-in page carries the session's CSRF token"
        c.csrf = found.group(1)
        return c


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """Console tests run on SQLite; the pages' queries run on both databases in tests/test_ops_queries.py
    and tests/test_audit_records.py, and on PostgreSQL at full size in bench/console_pages.py."""
    return sqlite_url


@pytest.fixture
def console(hub: Hub) -> Iterator[Console]:
    for role, name in PEOPLE.items():
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    app = create_app(hub.settings)
    server = ThreadedServer(app).start()
    c = Console(server.url, hub, app)
    yield c
    for p in c.people:
        p.close()
    server.stop()


from tests.console.browser import chromium  # noqa: E402,F401  (the session's browser, for test_browser*.py)
