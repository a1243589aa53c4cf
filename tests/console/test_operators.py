"""Rules of the operators' pages: the overview shows the flows live (a real worker delivering to the
portal simulator moves its numbers); a dead letter replayed from the console is delivered, by the
API's own replay and only once confirmed; the trace names dossier statuses in Vietnamese; filters,
pages and bad input behave; an auditor opens none of these pages; partners' data is escaped."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select, update

from hub.config import Settings
from hub.console.i18n import ZONE
from hub.seam import Outcome
from hub.store import outbox
from hub.store.tables import deliveries
from tests.conftest import make_settings
from tests.console.conftest import Console, Person
from tests.factories import dossier_code, question_answered, status_changed, submitted
from tests.population import PopulationSim
from tests.support import Portal, RedisServer, client, wait_until, with_partner

ROW = re.compile(r'<tr data-destination="(?P<dest>[^"]+)">(?P<cells>.*?)</tr>', re.S)
CELL = re.compile(r'<td[^>]*data-field="(?P<name>[a-z-]+)"[^>]*>(?P<value>.*?)</td>', re.S)


@pytest.fixture(scope="module")
def portal_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """One national portal simulator for the module (its faults are reset by each test)."""
    p = Portal(tmp_path_factory.mktemp("portal")).start()
    yield p
    p.process.end()


@pytest.fixture
def portal(portal_module: Portal) -> Portal:
    portal_module.faults(down=False, reject_dossiers=[])
    return portal_module


@pytest.fixture
def settings(db_url: str, redis_server: RedisServer, tmp_path: Path, portal: Portal,
             request: pytest.FixtureRequest) -> Settings:
    """The console's hub, its national portal destination being the simulator (and its population
    database the simulator, for a test that asks for it)."""
    redis_server.flush()
    made = make_settings(db_url, redis_server.url, tmp_path, retry_schedule=[0.3, 0.3],
                         partner_settings={"national_dvc": {"adapter_url": portal.url}}, breaker_open_seconds=0.5)
    if "population_sim" in request.fixturenames:
        sim: PopulationSim = request.getfixturevalue("population_sim")
        made = with_partner(made, "population_db", url=sim.url, timeout=5.0)
    return made


def flows(person: Person) -> dict[str, dict[str, str]]:
    """The live fragment's table: destination -> field -> text shown."""
    answer = person.get("/console/overview/live")
    assert answer.status_code == 200, answer.text
    return {m["dest"]: {c["name"]: re.sub(r"<[^>]+>", "", c["value"]).strip() for c in CELL.finditer(m["cells"])}
            for m in ROW.finditer(answer.text)}


def send(console: Console, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    """Send messages as the one-stop system, through the API; their receipts."""
    with client(console.url, console.hub.keys["motcua"]) as motcua:
        receipts = []
        for m in messages:
            answer = motcua.post("/v1/messages", json=m)
            assert answer.status_code == 202, answer.text
            receipts.append(answer.json())
        return receipts


def kill(console: Console, detail: str = "MaHoSo bị từ chối", destination: str = "national_dvc") -> list[int]:
    """Make every due delivery to ``destination`` a dead letter, as a worker does when the partner
    refuses them for good (no worker runs in these tests)."""
    claimed = outbox.claim(console.hub.engine, destination, 100, 30)
    outbox.settle(console.hub.engine, [(c, Outcome.permanent(detail), 5) for c in claimed], [0.1], 0)
    return [c.id for c in claimed]


def state_of(console: Console, delivery_id: int) -> str:
    with console.hub.engine.connect() as conn:
        return str(conn.execute(select(deliveries.c.state).where(deliveries.c.id == delivery_id)).scalar_one())


def test_an_operator_sees_a_delivery_appear_in_the_live_fragment(console: Console, portal: Portal) -> None:
    operator = console.person("operator")
    page = operator.get("/console/overview")
    assert page.status_code == 200
    assert 'data-testid="flows"' in page.text and 'hx-get="/console/overview/live"' in page.text
    assert 'hx-trigger="every 2s"' in page.text, "the full page renders the table and polls it"
    before = flows(operator)
    assert set(before) >= {"national_dvc", "postal_vnpost", "motcua"}, "every destination of the routing table"
    assert before["national_dvc"]["delivered"] == "0" and before["national_dvc"]["breaker"] == "Đóng (bình thường)"
    [receipt] = send(console, submitted(seq=1))
    waiting = flows(operator)["national_dvc"]
    assert waiting["pending"] == "1" and waiting["delivered"] == "0", "accepted, no worker yet"
    console.hub.worker()
    wait_until(lambda: flows(operator)["national_dvc"]["delivered"] == "1", 30, what="the delivery in the live table")
    after = flows(operator)["national_dvc"]
    assert after["pending"] == "0" and after["dead"] == "0"
    assert portal.dossier(receipt["dossier_code"]) is not None, "the portal really has it"
    chart = operator.get("/console/overview/chart", params={"hours": 1}).json()
    assert len(chart["times"]) == 12 and chart["bucket_seconds"] == 300
    assert sum(chart["series"]["national_dvc"]["delivered"]) == 1
    totals = operator.get("/console/overview", params={"hours": 1}).text
    assert 'data-testid="throughput-totals"' in totals and 'role="img"' in totals


def test_replaying_a_dead_letter_through_the_console_delivers_it(console: Console, portal: Portal) -> None:
    code = dossier_code(7)
    portal.faults(reject_dossiers=[code])
    operator = console.person("operator")
    console.hub.worker()
    [receipt] = send(console, submitted(seq=7))
    delivery_id = receipt["deliveries"][0]["id"]
    wait_until(lambda: state_of(console, delivery_id) == "dead", 30, what="the portal's refusal")
    live = flows(operator)["national_dvc"]
    assert live["dead"] == "1" and "MaHoSo không hợp lệ" in live["last-error"], "the portal's own answer"
    listed = operator.get("/console/dead-letters", params={"destination": "national_dvc"}).text
    assert f'value="{delivery_id}"' in listed and code in listed
    portal.faults(reject_dossiers=[])  # the cause is fixed
    asked = operator.submit("/console/dead-letters/replay", [("ids", str(delivery_id))])
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    answer = operator.submit("/console/dead-letters/replay", [("ids", str(delivery_id)), ("confirm", "yes")])
    assert answer.status_code == 303
    watch = answer.headers["location"]
    assert watch.startswith(f"/console/replays?ids={delivery_id}")
    first = operator.get(watch)
    assert first.status_code == 200 and 'data-testid="replayed"' in first.text

    def shown_delivered() -> bool:
        fragment = operator.get(watch, headers={"HX-Request": "true"}).text
        return f'data-delivery="{delivery_id}" data-state="delivered"' in fragment and "hx-trigger" not in fragment

    wait_until(shown_delivered, 30, what="the replayed delivery shown delivered")
    assert state_of(console, delivery_id) == "delivered"
    assert portal.dossier(code) is not None


def test_replay_without_confirmation_only_asks_and_changes_nothing(console: Console) -> None:
    send(console, submitted(seq=2), submitted(seq=3))
    dead = kill(console)
    operator = console.person("operator")
    for form in ([("ids", str(i)) for i in dead], [("destination", "national_dvc")]):
        asked = operator.submit("/console/dead-letters/replay", form)
        assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
        assert all(f'value="{i}"' in asked.text for i in dead) or 'value="national_dvc"' in asked.text
        assert [state_of(console, i) for i in dead] == ["dead", "dead"], "nothing replayed before confirmation"
    forged = operator.submit("/console/dead-letters/replay", [("ids", str(dead[0])), ("confirm", "yes")], csrf=False)
    assert forged.status_code == 403 and state_of(console, dead[0]) == "dead", "no CSRF token, no replay"
    bad = operator.submit("/console/dead-letters/replay", [("ids", "12; drop table"), ("confirm", "yes")])
    assert bad.status_code == 422 and "<html" in bad.text
    nothing = operator.submit("/console/dead-letters/replay", [("confirm", "yes")])
    assert nothing.status_code == 422
    too_many = operator.submit("/console/dead-letters/replay", [("ids", str(i)) for i in range(1001)] + [("confirm", "yes")])
    assert too_many.status_code == 422 and [state_of(console, i) for i in dead] == ["dead", "dead"]
    # all of a destination, confirmed: both replayed, watched by id (or, a large replay, by destination and moment)
    before = datetime.now(ZONE)
    answer = operator.submit("/console/dead-letters/replay", [("destination", "national_dvc"), ("confirm", "yes")])
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/replays?ids=")
    assert [state_of(console, i) for i in dead] == ["pending", "pending"]
    watched = operator.get("/console/replays", params={"destination": "national_dvc", "since": before.isoformat()})
    assert watched.status_code == 200 and re.findall(r'data-delivery="(\d+)" data-state="pending"', watched.text) == [
        str(i) for i in dead]
    assert 'hx-trigger="every 2s"' in watched.text, "polled while any is waiting"
    assert operator.get("/console/replays").status_code == 422


def test_the_trace_names_dossier_statuses_in_vietnamese_and_a_bad_dossier_code_is_a_422_page(console: Console) -> None:
    send(console, submitted(seq=4), status_changed(seq=4, status=2, step=1), status_changed(seq=4, status=9, step=2))
    operator = console.person("operator")
    page = operator.get("/console/trace", params={"code": dossier_code(4)})
    assert page.status_code == 200
    for name in ("Mới", "Đã tiếp nhận", "Đã giải quyết xong"):
        assert name in page.text, name
    assert page.text.index("Mới") < page.text.index("Đã tiếp nhận") < page.text.index("Đã giải quyết xong"), "time order"
    assert "national_dvc" in page.text and "postal_vnpost" in page.text, "each destination and its delivery state"
    assert "Không thu gom" in page.text, "the dossier's derived postal states"
    operator.get("/console/lang/en")
    assert "Accepted" in operator.get("/console/trace", params={"code": dossier_code(4)}).text
    assert operator.get("/console/trace").status_code == 200, "the form alone"
    unknown = operator.get("/console/trace", params={"code": dossier_code(99)})
    assert unknown.status_code == 404 and dossier_code(99) in unknown.text
    for bad in ("abc", "000.00.00.H49-261332-0001", "<script>alert(1)</script>"):
        page = operator.get("/console/trace", params={"code": bad})
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html"), bad
        assert "<script>alert(1)</script>" not in page.text
    assert operator.get("/console/messages", params={"code": "abc"}).status_code == 422
    assert operator.get("/console/trace", params={"code": "x" * 41}).status_code == 422


def test_the_dead_letter_filters_work(console: Console) -> None:
    send(console, submitted(seq=5), status_changed(seq=5, status=4, step=1), submitted(seq=6))
    [a, b] = kill(console, "MaHoSo không hợp lệ")  # the two heads: seq 5's submitted, seq 6's submitted
    [c] = kill(console, "TrangThai sai")  # seq 5's status change (between them), once its head is dead
    operator = console.person("operator")

    def shown(**params: str) -> list[int]:
        page = operator.get("/console/dead-letters", params=params)
        assert page.status_code == 200, page.text
        return [int(i) for i in re.findall(r'<tr data-delivery="(\d+)"', page.text)]

    assert a < c < b and shown() == [a, c, b], "oldest first"
    assert shown(type="status.changed") == [c]
    assert shown(reason="không hợp lệ") == [a, b]
    assert shown(reason="TRANGTHAI") == [c], "any case"
    assert shown(destination="postal_vnpost") == []
    assert shown(after=str(a)) == [c, b], "keyset: after a delivery id"
    now = datetime.now(ZONE)
    assert shown(**{"from": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")}) == [a, c, b]
    assert shown(**{"to": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")}) == []
    with console.hub.engine.begin() as conn:  # a dead letter of last year
        conn.execute(update(deliveries).where(deliveries.c.id == a).values(updated_at=now - timedelta(days=365)))
    assert shown(**{"from": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}) == [c, b]
    for bad in ({"from": "2026-13-01T00:00"}, {"from": "yesterday"}, {"type": "no.such"}, {"destination": "Bad Code!"},
                {"from": "2026-11-02T00:00", "to": "2026-11-01T00:00"}, {"after": "-1"}):
        page = operator.get("/console/dead-letters", params=bad)
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html"), bad


def test_message_search_filters_and_pages_newest_first(console: Console) -> None:
    send(console, *[submitted(seq=10 + i) for i in range(3)], status_changed(seq=10, status=4))
    operator = console.person("operator")

    def shown(**params: str) -> list[str]:
        page = operator.get("/console/messages", params=params)
        assert page.status_code == 200, page.text
        return re.findall(r'<a href="/console/trace\?code=([^"]+)"', page.text)

    codes = [dossier_code(10 + i) for i in (0, 2, 1, 0)]
    assert shown() == codes, "newest first, each linking to its trace"
    assert shown(type="status.changed") == [dossier_code(10)]
    assert shown(code=dossier_code(11)) == [dossier_code(11)]
    assert shown(source="national_payment") == []
    page = operator.get("/console/messages").text
    assert "Chờ gửi" in page, "each message's delivery states"
    first = int(re.findall(r'<tr data-message="(\d+)"', page)[1])
    assert shown(before=str(first)) == codes[2:], "keyset: older than a message"


def test_the_overview_shows_operators_the_partners_open_alerts_and_not_the_hubs_security_ones(console: Console) -> None:
    from hub.alerts.rules import Finding
    from hub.alerts.store import acknowledge, raise_findings
    from hub.context import context

    ctx = context("national_dvc", console.hub.settings)
    assert ctx.alert("question_overdue", "question:HD-3", "question HD-3 to 000.00.00.H49 was due 01/12/2026 17:00")
    assert ctx.alert("fee_change_late", "procedure:2.000477", "fee change of 2.000477 <b>late</b>")
    [done] = raise_findings(console.hub.engine, [Finding("national_dvc.fee_change_late", "procedure:1.001193", "warning",
                                                         "acknowledged already", datetime.now(ZONE))])
    acknowledge(console.hub.engine, done["id"], actor="person:kiemtra")
    raise_findings(console.hub.engine, [Finding("auth_failures_ip", "ip:203.0.113.9", "warning", "security only",
                                                datetime.now(ZONE))])
    page = console.person("operator").get("/console/overview").text
    panel = page.split('data-testid="partner-alerts"', 1)[1].split("</section>", 1)[0]
    assert "national_dvc.question_overdue" in panel and "question:HD-3" in panel
    assert "&lt;b&gt;late&lt;/b&gt;" in panel, "a partner's text is escaped"
    assert "acknowledged already" not in panel and "security only" not in panel, "open partners' alerts only"


def test_a_notice_is_listed_without_a_dossier_link(console: Console) -> None:
    send(console, question_answered("HD-9"))
    page = console.person("operator").get("/console/messages", params={"type": "question.answered"})
    assert page.status_code == 200, page.text
    assert "question.answered" in page.text and "/console/trace?code=None" not in page.text
    assert "<td>—</td>" in page.text, "a notice has no dossier to trace"


def test_an_auditor_gets_403_on_every_operator_page(console: Console) -> None:
    auditor = console.person("auditor")
    for path in ("/console/overview", "/console/overview/live", "/console/overview/chart", "/console/dead-letters",
                 "/console/dead-letters/1", "/console/replays?ids=1", f"/console/trace?code={dossier_code(1)}",
                 "/console/messages"):
        assert auditor.get(path).status_code == 403, path
    send(console, submitted(seq=8))
    [dead] = kill(console)
    refused = auditor.submit("/console/dead-letters/replay", [("ids", str(dead)), ("confirm", "yes")])
    assert refused.status_code == 403 and state_of(console, dead) == "dead"
    with httpx.Client(base_url=console.url, timeout=30) as nobody:
        assert nobody.get("/console/dead-letters").status_code == 303, "anonymous: to the sign-in page"


def test_partners_data_with_script_tags_is_escaped_on_every_page(console: Console) -> None:
    evil = "<script>alert('x')</script>"
    message = submitted(seq=9)
    message["payload"]["procedure_name"] = evil
    [receipt] = send(console, message)
    [dead] = kill(console, f"partner said {evil}")
    operator = console.person("operator")
    for path in (f"/console/dead-letters/{dead}", "/console/dead-letters", "/console/overview/live",
                 f"/console/replays?ids={dead}", f"/console/trace?code={receipt['dossier_code']}"):
        page = operator.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
    detail = operator.get(f"/console/dead-letters/{dead}").text
    assert "&lt;script&gt;alert(" in detail, "the body is shown, escaped"
    assert "Nguyễn Thị Hằng" in detail and 'data-testid="attempts"' in detail


def test_the_trace_shows_the_look_ups_made_for_the_dossier_but_never_whom_about(
        console: Console, population_sim: PopulationSim) -> None:
    """The operator's one timeline includes the citizen look-ups made for the dossier (when, which
    operation, which officer through which system); the citizen stays with the security officers."""
    from connectors.population_db.population import sample
    from tests.console.test_audit import look_up, lookup_key

    [receipt] = send(console, submitted(seq=31))
    code = receipt["dossier_code"]
    key = lookup_key(console)
    citizen = sample(index=5).SoDinhDanh
    assert citizen
    look_up(console, key, citizen, dossier_code=code)
    look_up(console, key, citizen, dossier_code=dossier_code(32))  # another dossier's: not in this trace
    trace = console.person("operator").get("/console/trace", params={"code": code})
    assert trace.status_code == 200
    kinds = re.findall(r'<li data-type="([^"]+)">', trace.text)
    assert kinds == ["dossier.submitted", "lookup"], kinds
    item = trace.text.split('<li data-type="lookup">', 1)[1].split("</li>", 1)[0]
    assert "<code>lookup</code>" in item and "<code>CB-0042</code>" in item and "<code>motcua</code>" in item
    assert citizen not in trace.text, "never whom about"
