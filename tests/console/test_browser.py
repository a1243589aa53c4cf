"""Rules, in a real browser (Debian's Chromium): people sign in through the form and see Vietnamese
pages; a form posted without its CSRF token is refused; a partner key opens no page; every page
visited has no serious or critical axe-core violation. Each test leaves a screenshot under var/."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.console.browser import assert_accessible, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, PEOPLE, Console
from tests.support import wait_until


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


def test_an_admin_issues_a_key_sees_it_once_and_revokes_it(console: Console, chromium: Any) -> None:
    page = new_page(chromium, console.url)
    sign_in(page, PEOPLE["admin"], PASSWORD)
    page.goto("/console/admin/partners")
    assert_accessible(page)
    shot(page, "admin-partners")
    page.get_by_role("link", name="motcua", exact=True).first.click()
    page.wait_for_url("**/console/admin/partners/motcua")
    assert_accessible(page)
    issue = page.get_by_test_id("key-issue")
    issue.get_by_label("Nhãn").fill("máy chủ một cửa số 2")
    issue.get_by_role("button", name="Cấp khóa").click()
    secret = page.get_by_test_id("new-secret").inner_text().strip()
    assert secret.startswith("lt_live_")
    assert_accessible(page)
    shot(page, "admin-key-issued")
    with httpx.Client(base_url=console.url, headers={"Authorization": f"ApiKey {secret}"}) as partner:
        assert partner.get("/v1/messages/none").status_code == 404, "the new key works"
        page.goto("/console/admin/partners/motcua")
        assert secret not in page.content(), "the secret is never shown again"
        card = page.locator("section.card", has_text="máy chủ một cửa số 2")
        card.get_by_role("button", name="Thu hồi").click()
        page.wait_for_url("**/revoke")
        shot(page, "admin-key-revoke-confirm")
        page.get_by_role("button", name="Đồng ý, thực hiện").click()
        page.wait_for_url("**/console/admin/partners/motcua**")
        assert page.get_by_role("status").inner_text().startswith("Đã thu hồi khóa")
        shot(page, "admin-key-revoked")
        wait_until(lambda: partner.get("/v1/messages/none").status_code == 401, 5, what="the revoked key refused")


def test_every_menu_page_of_every_role_is_accessible_in_both_languages(console: Console, chromium: Any) -> None:
    """axe-core finds no serious or critical violation on any page a role's menu offers, in
    Vietnamese and in English (the English pages come from the English catalogue, not the ids' chance)."""
    from hub.console.nav import menu_for

    for role, name in PEOPLE.items():
        page = new_page(chromium, console.url)
        sign_in(page, name, PASSWORD)
        for lang in ("vi", "en"):
            for entry in menu_for(role):
                page.goto(entry.path)
                assert page.locator("html").get_attribute("lang") == lang
                assert page.get_by_role("heading", level=1).count() == 1, f"{entry.path}: one h1"
                assert_accessible(page)
                shot(page, f"{role}-{lang}-{entry.path.rsplit('/', 1)[1]}")
            page.goto(f"/console/lang/en?next={menu_for(role)[0].path}")
        page.context.close()


def test_the_console_is_keyboard_navigable_with_a_visible_focus(console: Console, chromium: Any) -> None:
    """The first Tab reaches the skip link, which jumps into the page; Tab then walks the menu and every
    control, each showing where the focus is."""
    page = new_page(chromium, console.url)
    sign_in(page, PEOPLE["operator"], PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip", "the first Tab reaches the skip link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), "Tab goes on inside the page"
    page.goto("/console/dead-letters")
    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break  # the end of the page
        reached.append(page.evaluate("document.activeElement.textContent.trim().slice(0, 40) || document.activeElement.name"))
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", \
            page.evaluate("document.activeElement.outerHTML")
    assert {"Tổng quan", "Vết hồ sơ", "Lọc"} <= set(reached), reached
