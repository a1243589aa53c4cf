"""A real browser for the console's tests: Debian's Chromium driven by Playwright, axe-core inside it.

Playwright's own browser download does not exist here: ``launch(executable_path="/usr/bin/chromium")``
with the flags that keep Chromium off the network. axe-core (``vendor/axe.min.js``, MPL-2.0, from the
npm registry) is injected into each page checked; a serious or critical violation fails the test.
Every scenario leaves a screenshot under ``var/screenshots/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("LIENTHONG_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--lang=vi-VN", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTH, HEIGHT = 1366, 768  # the screen


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module. Not per session: Playwright's sync API keeps an event
    loop running in the thread while it is open, and later tests of the same process that call
    ``asyncio.run`` would fail; closed with its module, it leaves nothing behind."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: 'make test' installs Debian's chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


def new_page(chromium: Any, base_url: str, **context: Any) -> Any:
    """A fresh browser context (its own cookies) at 1366x768, Vietnamese first."""
    ctx = chromium.new_context(base_url=base_url, viewport={"width": WIDTH, "height": HEIGHT}, locale="vi-VN",
                               timezone_id="Asia/Ho_Chi_Minh", **context)
    ctx.set_default_timeout(15_000)
    return ctx.new_page()


def sign_in(page: Any, username: str, password: str) -> None:
    """Sign in through the form, as a person types it."""
    page.goto("/console/login")
    page.get_by_label(re.compile("Tên đăng nhập|Username")).fill(username)
    page.get_by_label(re.compile("Mật khẩu|Password")).fill(password)
    page.get_by_role("button", name=re.compile("Đăng nhập|Sign in")).click()
    page.wait_for_url(re.compile(r".*/console/(?!login).*"))


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.evaluate(AXE)  # through DevTools, not a <script>: the console's CSP stays in force for the page
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any) -> None:
    found = serious_violations(page)
    assert not found, f"axe-core on {page.url}: {found}"


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as ``var/screenshots/<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
