"""Rules, in a real browser: a security officer finds the look-ups of one citizen ID (posted, never
in the address bar) and opens one, which asks for a reason; the alerts and the chain pages open.
Every page has no serious or critical axe-core violation; each step leaves a screenshot."""

from __future__ import annotations

from typing import Any

from connectors.population_db.population import sample
from tests.console.browser import assert_accessible, new_page, shot, sign_in
from tests.console.conftest import PASSWORD, PEOPLE, Console
from tests.console.test_audit import look_up, lookup_key, settings  # noqa: F401 (the population simulator's settings)
from tests.population import PopulationSim


def test_a_security_officer_finds_one_citizens_look_ups_and_opens_one_with_a_reason(
        console: Console, population_sim: PopulationSim, chromium: Any) -> None:
    key = lookup_key(console)
    citizen, other = sample(index=3).SoDinhDanh, sample(index=4).SoDinhDanh
    assert citizen and other
    hers = [look_up(console, key, citizen), look_up(console, key, citizen)]
    look_up(console, key, other)
    page = new_page(chromium, console.url)
    sign_in(page, PEOPLE["auditor"], PASSWORD)
    assert page.url.endswith("/console/audit/records")
    assert_accessible(page)
    page.get_by_label("Số định danh công dân").fill(citizen)
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_load_state()
    assert citizen not in page.url, "the ID is posted, never in the address bar"
    found = [int(r) for r in page.locator("tr[data-record]").evaluate_all("rows => rows.map(r => r.dataset.record)")]
    assert found == hers[::-1], "her two look-ups, newest first, and no one else's"
    assert_accessible(page)
    shot(page, "auditor-citizen-search")
    page.locator(f'tr[data-record="{hers[0]}"] a').first.click()
    page.wait_for_url(f"**/console/audit/records/{hers[0]}")
    assert_accessible(page)
    page.get_by_label("Lý do mở nội dung").fill("Công dân khiếu nại việc tra cứu thông tin cá nhân ngày hôm nay")
    page.get_by_role("button", name="Mở nội dung").click()
    page.wait_for_load_state()
    assert citizen in page.content(), "the decrypted look-up names the citizen it was about"
    assert_accessible(page)
    shot(page, "auditor-content-opened")
    for path in ("/console/audit/alerts", "/console/audit/chain"):
        page.goto(path)
        assert_accessible(page)
        shot(page, "auditor-" + path.rsplit("/", 1)[1])
