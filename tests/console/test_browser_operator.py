"""Rules, in a real browser: an operator sees a delivery appear live (the page polls, it is not
reloaded), replays a dead letter after confirming and sees it delivered, opens a dossier's trace with
its statuses in Vietnamese. Every page on the way has no serious or critical axe-core violation; each
step leaves a screenshot under var/screenshots/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.console.browser import assert_accessible, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, PEOPLE, Console
from tests.console.test_operators import portal, portal_module, send, settings, state_of  # noqa: F401 (fixtures)
from tests.factories import dossier_code, status_changed, submitted
from tests.support import Portal, wait_until


def live(page: Any, destination: str, field: str) -> Any:
    """The cell of the live table that shows ``field`` for ``destination``."""
    return page.locator(f'[data-testid="flows"] tr[data-destination="{destination}"] td[data-field="{field}"]')


def test_an_operator_watches_a_delivery_live_replays_a_dead_letter_and_reads_a_trace(
        console: Console, portal: Portal, chromium: Any) -> None:  # noqa: F811 (the imported fixture)
    page = new_page(chromium, console.url)
    sign_in(page, PEOPLE["operator"], PASSWORD)
    assert page.url.endswith("/console/overview")
    expect(live(page, "national_dvc", "delivered")).to_have_text("0")
    assert_accessible(page)

    # live: the page is not reloaded; the table polls itself
    first = send(console, submitted(seq=21), status_changed(seq=21, status=2, step=1))
    console.hub.worker()
    expect(live(page, "national_dvc", "delivered")).to_have_text("2", timeout=30_000)
    shot(page, "operator-overview")

    # a dead letter: the portal refuses the dossier for good
    code = dossier_code(22)
    portal.faults(reject_dossiers=[code])
    [dead] = send(console, submitted(seq=22))
    delivery_id = dead["deliveries"][0]["id"]
    wait_until(lambda: state_of(console, delivery_id) == "dead", 30, what="the portal's refusal")
    expect(live(page, "national_dvc", "dead")).to_have_text("1", timeout=30_000)
    page.get_by_role("link", name="Thông điệp gửi thất bại", exact=True).click()
    page.wait_for_url("**/console/dead-letters")
    assert_accessible(page)
    shot(page, "operator-dead-letters")
    page.goto(f"/console/dead-letters/{delivery_id}")
    assert "MaHoSo" in page.locator("main").inner_text(), "each attempt with the partner's answer"
    assert_accessible(page)
    shot(page, "operator-dead-letter")
    page.go_back()
    portal.faults(reject_dossiers=[])  # the cause is fixed
    page.locator(f"#pick-{delivery_id}").check()
    page.get_by_role("button", name=re.compile("Gửi lại các")).click()
    page.wait_for_url("**/console/dead-letters/replay")
    assert_accessible(page)
    shot(page, "operator-replay-confirm")
    page.get_by_role("button", name="Đồng ý, thực hiện").click()
    page.wait_for_url(re.compile(r".*/console/replays\?.*"))
    page.wait_for_selector(f'[data-delivery="{delivery_id}"][data-state="delivered"]', timeout=30_000)
    assert_accessible(page)
    shot(page, "operator-replayed")
    assert portal.dossier(code) is not None, "the portal has it now"

    # the trace, by its code, statuses by their Vietnamese names
    page.get_by_role("link", name="Vết hồ sơ", exact=True).click()
    page.get_by_label("Mã hồ sơ").fill(first[0]["dossier_code"])
    page.get_by_role("button", name="Xem hành trình").click()
    page.wait_for_selector('[data-testid="trace"]')
    statuses = page.locator('[data-testid="status"]').all_inner_texts()
    assert statuses == ["Mới (1)", "Đã tiếp nhận (2)"], "the dossier status codes by their Vietnamese names"
    assert_accessible(page)
    shot(page, "operator-trace")

    page.get_by_role("link", name="Thông điệp", exact=True).click()
    page.wait_for_url("**/console/messages")
    assert_accessible(page)
    shot(page, "operator-messages")
