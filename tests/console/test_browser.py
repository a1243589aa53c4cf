"""Rules, in a real browser (Debian's Chromium): people sign in through the form and see Vietnamese
pages; a form posted without its CSRF token is refused; a partner key opens no page; every page
visited has no serious or critical axe-core violation. Each test leaves a screenshot under var/."""

from __future__ import annotations

import re
from typing import Any

from tests.console.browser import assert_accessible, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, PEOPLE, Console


def test_the_sign_in_page_is_vietnamese_first_accessible_and_switches_to_english(console: Console, chromium: Any) -> None:
    page = new_page(chromium, console.url)
    page.goto("/console/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Đăng nhập bảng điều khiển"
    assert_accessible(page)
    shot(page, "login-vi")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the console"
    assert_accessible(page)
    shot(page, "login-en")


def test_a_partner_key_opens_no_console_page(console: Console, chromium: Any) -> None:
    page = new_page(chromium, console.url, extra_http_headers={"Authorization": f"ApiKey {console.hub.keys['motcua']}"})
    page.goto("/console/overview")
    assert "/console/login" in page.url, "the key is ignored: the browser is sent to sign in"
    shot(page, "partner-key-refused")


def test_a_form_posted_without_its_csrf_token_is_refused(console: Console, chromium: Any) -> None:
    page = new_page(chromium, console.url)
    sign_in(page, PEOPLE["operator"], PASSWORD)
    page.evaluate("document.querySelectorAll('form[action=\"/console/logout\"] input[name=csrf_token]')"
                  ".forEach(e => e.remove())")  # what a cross-site form would send: no token
    with page.expect_response(re.compile(r".*/console/logout$")) as answer:
        page.get_by_role("button", name="Đăng xuất", exact=True).click()
    assert answer.value.status == 403
    assert page.get_by_role("alert").first.inner_text().startswith("Biểu mẫu đã hết hạn")
    shot(page, "csrf-refused")
    page.goto("/console/overview")
    assert page.url.endswith("/console/overview"), "still signed in: the forged sign-out did nothing"
