"""Rules of the security officers' pages (hub/console/audit.py), on a real hub over HTTP:

- an auditor finds one citizen's look-ups by their ID (blind index) and no other citizen's; the ID
  is posted, never in a URL of the page (links, form actions, htmx), and shown masked outside the
  input it was typed in; records come newest first, and the next page of such a search is posted too;
- opening a look-up's content needs a reason (422 without), then shows it escaped and is recorded
  twice: an access record of kind ``decrypt`` and the admin action ``audit.decrypt`` with the reason;
- acknowledging an alert changes it and is recorded; a form without its CSRF token changes nothing;
- a verification runs in the background to its end, with progress, reports an intact chain, and
  names the first problem after a record is changed in the database; each is an admin action;
- an export is a zip the offline verifier accepts, recorded; the download serves only those zips
  (no path traversal, no other file of the folder);
- only auditors open these pages; bad input is a 4xx page, never a 500.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from connectors.population_db.population import sample
from hub.access.keys import issue_key
from hub.alerts.rules import Finding
from hub.alerts.store import raise_findings
from hub.audit.bundle import exports_dir, verify_bundles
from hub.audit.seal import seal
from hub.citizens.officers import register
from hub.config import Settings
from hub.console import audit as pages
from hub.edge.rules import RULES
from hub.store.engine import reading
from hub.store.tables import access_records, admin_actions, alerts
from tests.console.conftest import PASSWORD, PEOPLE, Console, Person
from tests.population import PopulationSim
from tests.support import access_record, client, wait_until, with_partner
from tests.test_audit_chain import rec

AGENCY = "000.00.00.H49"
PURPOSE = "Xác minh nhân thân để giải quyết hồ sơ cấp bản sao trích lục hộ tịch"
LOOKUP_SCOPES = {"endpoints": ["intake", "read", "lookup"], "lookups": ["*"]}
URL_ATTRIBUTES = re.compile(r'\b(?:href|action|src|hx-get|hx-post|formaction)="([^"]*)"')
HX = {"HX-Request": "true"}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The hub's settings, pointed at the population database simulator when a test asks for it."""
    if "population_sim" not in request.fixturenames:
        return settings
    sim: PopulationSim = request.getfixturevalue("population_sim")
    return with_partner(settings, "population_db", url=sim.url, timeout=5.0)


def look_up(console: Console, key: str, id_number: str, **fields: Any) -> int:
    """One real citizen look-up (through the hub, to the simulator); its access record's id."""
    body = {"officer_code": "CB-0042", "purpose": PURPOSE, "dossier_code": f"{AGENCY}-261123-0001",
            "id_number": id_number, **fields}
    tag = uuid.uuid4().hex
    with client(console.url, key) as c:
        answer = c.post("/v1/citizens/lookup", json=body, headers={"X-Request-Id": tag})
    assert answer.status_code == 200, answer.text
    return int(access_record(console.hub.engine, tag).id)


def lookup_key(console: Console) -> str:
    hub = console.hub
    register(hub.engine, "motcua", "CB-0042", "Cán bộ một cửa", AGENCY, tier="whole_agency", actor="test")
    return issue_key(hub.engine, "motcua", hub.settings.effective_key_pepper, "look-ups", scopes=LOOKUP_SCOPES)


def urls(html: str) -> list[str]:
    return URL_ATTRIBUTES.findall(html)


def rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-record="(\d+)"', html)]


def actions_named(console: Console, action: str) -> list[Any]:
    with reading(console.hub.engine) as conn:
        return list(conn.execute(select(admin_actions).where(admin_actions.c.action == action)
                                 .order_by(admin_actions.c.id)).all())


def seal_everything(console: Console) -> None:
    """Seal every record written so far (past the sealer's grace) and sign the head."""
    console.app.state.access_log.flush()
    seal(console.hub.engine, console.hub.settings, force_checkpoint=True,
         now=datetime.now(timezone.utc) + timedelta(minutes=10))


# --- access records ---------------------------------------------------------------------------------


def test_an_auditor_finds_one_citizens_look_ups_by_id_never_in_a_url_and_masked_on_the_page(
        console: Console, population_sim: PopulationSim, monkeypatch: pytest.MonkeyPatch) -> None:
    key = lookup_key(console)
    bich, other = sample(index=3).SoDinhDanh, sample(index=4).SoDinhDanh
    assert bich and other and bich != other
    hers = [look_up(console, key, bich), look_up(console, key, bich)]
    theirs = look_up(console, key, other)
    auditor = console.person("auditor")

    typed = f"{bich[:4]} {bich[4:8]} {bich[8:]}"  # as officers type it, in groups
    found = auditor.submit("/console/audit/records", {"citizen_id": typed, "kind": "lookup"})
    assert found.status_code == 200, found.text
    assert rows(found.text) == hers[::-1] and theirs not in rows(found.text), "her look-ups (newest first), no one else's"
    assert pages.masked(bich) in found.text and pages.masked(bich) == bich[:3] + "*******" + bich[-2:]
    assert found.text.count(bich) == 1, "the ID is once in the page..."
    assert re.search(rf'<input id="f-citizen" name="citizen_id"[^>]*value="{bich}">', found.text), \
        "only the input it was typed in holds the ID"
    for url in urls(found.text):
        digits = re.sub(r"\D", "", url)
        assert bich not in digits and bich[:6] not in url, url
    search = wait_until(lambda: [r for r in _records_at(console, "/console/audit/records") if r.method == "POST"],
                        what="the search's access record")
    assert search[0].summary == "audit search by citizen ID" and bich not in search[0].path

    # newest first: the next page is a button of the same posted form, with before= the last id shown
    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    first = auditor.submit("/console/audit/records", {"citizen_id": bich})
    assert rows(first.text) == [hers[1]]
    button = re.search(r'<button type="submit" form="search" name="before" value="(\d+)"', first.text)
    assert button and int(button.group(1)) == hers[1]
    second = auditor.submit("/console/audit/records", {"citizen_id": bich, "before": button.group(1)})
    assert rows(second.text) == [hers[0]]

    # without a citizen ID the form's post comes back as a GET of the same filters, paged by links
    plain = auditor.submit("/console/audit/records", {"kind": "lookup", "partner": "motcua", "citizen_id": " "})
    assert plain.status_code == 303 and plain.headers["location"] == "/console/audit/records?partner=motcua&kind=lookup"
    listed = auditor.get(plain.headers["location"])
    assert rows(listed.text) == [theirs]
    link = re.search(r'<a href="([^"]+)" rel="next"', listed.text)
    assert link and f"before={theirs}" in link.group(1)
    older = auditor.get(link.group(1).replace("&amp;", "&"))
    assert rows(older.text) == [hers[1]] and 'href="/console/audit/records?partner=motcua&amp;kind=lookup">' in older.text, \
        "the next page holds the older records, and a link back to the first page"

    monkeypatch.undo()  # pages of 50 again
    # a time range is Vietnam time (read as UTC, an hour ago would be six hours ahead: nothing found)
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).astimezone(pages.i18n.ZONE).strftime("%Y-%m-%dT%H:%M")
    assert rows(auditor.get(f"/console/audit/records?kind=lookup&since={hour_ago}").text) == [theirs, *hers[::-1]]
    assert rows(auditor.get(f"/console/audit/records?kind=lookup&until={hour_ago}").text) == []

    refused = auditor.submit("/console/audit/records", {"citizen_id": "07920300456"})  # 11 digits
    assert refused.status_code == 422 and "07920300456" not in refused.text and "citizen_id" in refused.text


def _records_at(console: Console, path: str) -> list[Any]:
    console.app.state.access_log.flush()
    with reading(console.hub.engine) as conn:
        return list(conn.execute(select(access_records).where(access_records.c.path == path)
                                 .order_by(access_records.c.id)).all())


def test_a_record_shows_its_fields_and_its_content_opens_only_for_a_reason_which_is_recorded(
        console: Console, population_sim: PopulationSim) -> None:
    key = lookup_key(console)
    citizen = sample(index=5).SoDinhDanh
    assert citizen
    context = {"ip": "10.20.30.40", "device": "Dell OptiPlex 7090", "os": "Windows 10", "browser": "Chrome 120.0"}
    record_id = look_up(console, key, citizen, officer_context=context,
                        purpose="Xác minh hồ sơ <script>alert(1)</script> theo yêu cầu")
    auditor = console.person("auditor")

    detail = auditor.get(f"/console/audit/records/{record_id}")
    assert detail.status_code == 200
    for shown in ("CB-0042", "motcua", "/v1/citizens/lookup", "10.20.30.40", "Dell OptiPlex 7090", 'id="open-content"'):
        assert shown in detail.text, shown
    assert citizen not in detail.text, "the record page holds no citizen data"

    path = f"/console/audit/records/{record_id}/content"
    for reason in (None, "", "xem thử"):
        refused = auditor.submit(path, {} if reason is None else {"reason": reason})
        assert refused.status_code == 422 and "reason" in refused.text and citizen not in refused.text, reason
    assert auditor.submit(path, {"reason": "x" * 501}).status_code == 422
    assert auditor.submit(path, {"reason": "Thanh tra yêu cầu số 12/TTr"}, csrf=False).status_code == 403
    assert actions_named(console, "audit.decrypt") == [], "nothing opened without a reason or a token"

    reason = "Thanh tra tỉnh yêu cầu xác minh theo văn bản số 12/TTr"
    opened = auditor.submit(path, {"reason": reason}, headers={"X-Request-Id": "open-content-1"})
    assert opened.status_code == 200, opened.text
    shown = re.search(r'<pre id="content" data-testid="content"[^>]*>(.*?)</pre>', opened.text, re.S)
    assert shown and f"&#34;id_number&#34;: &#34;{citizen}&#34;" in shown.group(1), "pretty JSON, escaped"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in opened.text and "<script>alert(1)" not in opened.text
    [action] = actions_named(console, "audit.decrypt")
    assert (action.actor, action.target) == (f"person:{PEOPLE['auditor']}", f"access_record:{record_id}")
    assert json.loads(action.after) == {"reason": reason}
    recorded = access_record(console.hub.engine, "open-content-1")
    assert (recorded.kind, recorded.status, recorded.summary) == ("decrypt", 200, f"decrypt record {record_id}")
    assert recorded.account == PEOPLE["auditor"] and citizen not in recorded.path

    # the API twin opens it through the same function: the same admin action, no reason asked
    token = httpx.post(f"{console.url}/v1/auth/login", json={"username": PEOPLE["auditor"], "password": PASSWORD})
    api = httpx.get(f"{console.url}/v1/audit/records/{record_id}/content",
                    headers={"Authorization": f"Bearer {token.json()['token']}"})
    assert api.status_code == 200 and api.json()["content"]["request"]["id_number"] == citizen
    assert [a.after for a in actions_named(console, "audit.decrypt")][1] is None


# --- alerts -----------------------------------------------------------------------------------------


def test_acknowledging_an_alert_changes_it_records_it_and_needs_the_forms_token(console: Console) -> None:
    now = datetime.now(timezone.utc)
    [raised] = raise_findings(console.hub.engine, [Finding("auth_failures_ip", "ip:203.0.113.9", "warning",
                                                           "12 failed sign-ins <script>alert(1)</script>", now)])
    auditor = console.person("auditor")
    listed = auditor.get("/console/audit/alerts?state=open")
    assert listed.status_code == 200 and f'data-alert="{raised["id"]}"' in listed.text
    assert "&lt;script&gt;" in listed.text and "<script>alert(1)" not in listed.text
    path = f"/console/audit/alerts/{raised['id']}/acknowledge"
    assert auditor.submit(path, {"back": "/console/audit/alerts?state=open"}, csrf=False).status_code == 403
    assert _alert_state(console, raised["id"]) == "open", "a forged form changed nothing"

    answer = auditor.submit(path, {"back": "/console/audit/alerts?state=open"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/audit/alerts?state=open&notice=alert-acknowledged"
    assert _alert_state(console, raised["id"]) == "acknowledged"
    [action] = actions_named(console, "alert.acknowledge")
    assert action.actor == PEOPLE["auditor"] and action.target == f"alert:{raised['id']}"
    back = auditor.get(answer.headers["location"])
    assert "Đã xác nhận cảnh báo." in back.text and f'data-alert="{raised["id"]}"' not in back.text
    done = auditor.get("/console/audit/alerts?state=acknowledged&rule=auth_failures_ip")
    assert f'data-alert="{raised["id"]}"' in done.text and path not in done.text, "no button once acknowledged"
    assert auditor.submit("/console/audit/alerts/999999/acknowledge").status_code == 404
    assert auditor.get("/console/audit/alerts?state=closed").status_code == 422


def _alert_state(console: Console, alert_id: int) -> str:
    with reading(console.hub.engine) as conn:
        return str(conn.execute(select(alerts.c.state).where(alerts.c.id == alert_id)).scalar())


# --- the chain --------------------------------------------------------------------------------------


def _verified(auditor: Person, form: dict[str, str] | None = None) -> str:
    """Start a verification and follow its progress part (as htmx does) to the end; the final part."""
    started = auditor.submit("/console/audit/chain/verify", form or {})
    assert started.status_code == 303 and started.headers["location"].startswith("/console/audit/chain/verify/")
    job = started.headers["location"]
    full = auditor.get(job)
    assert full.status_code == 200 and 'id="verify-progress"' in full.text and "<progress" in full.text

    def finished() -> str | None:
        part = auditor.get(job, headers=HX).text
        return None if 'data-state="running"' in part else part
    part = wait_until(finished, 20, interval=0.1, what="the verification's end")
    assert not part.lstrip().startswith("<!doctype") and "hx-trigger" not in part, "a finished part polls no more"
    return part


def test_a_verification_runs_to_its_end_reports_an_intact_chain_then_the_changed_record(console: Console) -> None:
    auditor = console.person("auditor")
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    with console.hub.engine.begin() as conn:  # enough of a chain for a walk to take a moment
        conn.execute(insert(access_records), [rec(since, i) for i in range(3000)])
    seal_everything(console)
    state = auditor.get("/console/audit/chain")
    assert state.status_code == 200 and 'data-testid="chain-state"' in state.text and "Verify now" not in state.text
    assert "Kiểm tra ngay" in state.text and re.search(r"<dt>[^<]+\(seq\)</dt><dd>3\.0\d\d</dd>", state.text)

    first = auditor.submit("/console/audit/chain/verify", {})
    again = auditor.submit("/console/audit/chain/verify", {"since": "2026-01-01T00:00"})
    assert again.headers["location"] == first.headers["location"] + "?notice=verify-already-running", \
        "one verification at a time: the second request is shown the running one"
    wait_until(lambda: 'data-state="running"' not in auditor.get(first.headers["location"], headers=HX).text, 30,
               what="the first verification's end")

    intact = _verified(auditor)
    assert 'data-state="ok"' in intact and "nhật ký kiểm toán nguyên vẹn" in intact
    bar = re.search(r'<progress id="verify-bar" max="(\d+)" value="(\d+)"', intact)
    assert bar and bar.group(1) == bar.group(2) and int(bar.group(1)) >= 3000, "the bar ends full"
    ok = actions_named(console, "audit.verify")[-1]
    outcome = json.loads(ok.after)
    assert ok.actor == PEOPLE["auditor"] and outcome["ok"] is True and outcome["problem"] is None
    assert outcome["records"] == int(bar.group(1)) and outcome["since"] is None

    with console.hub.engine.begin() as conn:
        victim = conn.execute(select(access_records.c.id, access_records.c.seq).where(access_records.c.seq == 2)).one()
        conn.execute(update(access_records).where(access_records.c.id == victim.id).values(summary="nothing happened"))
    tampered = _verified(auditor, {"since": "", "until": ""})
    assert 'data-state="problem"' in tampered and "BỊ CAN THIỆP" in tampered
    assert re.search(r"<dd><code>changed</code></dd>\s*<dt>[^<]+</dt><dd>2</dd>", tampered)
    assert f'href="/console/audit/records/{victim.id}"' in tampered
    bad = json.loads(actions_named(console, "audit.verify")[-1].after)
    assert bad["ok"] is False and bad["problem"]["kind"] == "changed" and bad["problem"]["seq"] == 2

    assert auditor.submit("/console/audit/chain/verify", {"since": "2026-02-01T00:00", "until": "2026-01-01T00:00"}
                          ).status_code == 422, "a range that ends before it starts"
    assert auditor.get("/console/audit/chain/verify/" + "x" * 22).status_code == 404
    assert auditor.get("/console/audit/chain/verify/..%2F..").status_code in (404, 422)


def test_an_export_is_a_zip_the_offline_verifier_accepts_and_is_recorded(console: Console, tmp_path: Path) -> None:
    auditor = console.person("auditor")
    auditor.get("/console/audit/records")
    seal_everything(console)
    today = datetime.now(timezone.utc).astimezone(pages.i18n.ZONE).date() - timedelta(days=1)
    answer = auditor.submit("/console/audit/export", {"since": today.isoformat()})
    assert answer.status_code == 303, answer.text
    name = re.fullmatch(r"/console/audit/chain\?export=([^&]+)&notice=audit-exported", answer.headers["location"])
    assert name
    chain = auditor.get(answer.headers["location"])
    assert f'href="/console/audit/exports/{name.group(1)}"' in chain.text
    download = auditor.get(f"/console/audit/exports/{name.group(1)}")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(io.BytesIO(download.content)) as bundle:
        bundle.extractall(unzipped)
    [folder] = list(unzipped.iterdir())
    report = verify_bundles([folder])
    assert report.ok, report.lines()
    assert [p.name for p in exports_dir(console.hub.settings).iterdir()] == [name.group(1)], "no staging left behind"
    [action] = actions_named(console, "audit.export")
    after = json.loads(action.after)
    assert action.actor == PEOPLE["auditor"] and after["file"] == name.group(1) and after["records"] == report.records
    assert after["since"] is not None

    refused = auditor.submit("/console/audit/export", {"since": "2026-13-40"})
    assert refused.status_code == 422
    assert auditor.submit("/console/audit/export", {"since": "2999-01-01"}).status_code == 422, "nothing sealed then"


def test_the_exports_download_serves_only_the_consoles_zips_never_a_path_outside(console: Console) -> None:
    settings = console.hub.settings
    folder = exports_dir(settings)
    folder.mkdir(parents=True)
    (settings.var_dir / "secret.zip").write_bytes(b"SECRET-OUTSIDE")
    (folder / "lienthong-audit-000000000001-000000000009.tar.gz").write_bytes(b"SECRET-CLI-BUNDLE")
    (folder / "audit-bundle-20260101T000000Z-aaaaaaaaaaaa.zip").symlink_to(settings.var_dir / "secret.zip")
    auditor = console.person("auditor")
    attempts = ["../secret.zip", "..%2Fsecret.zip", "%2e%2e%2fsecret.zip", "%2E%2E/secret.zip", "..%5Csecret.zip",
                "%2Fetc%2Fpasswd", "/etc/passwd", "..", "lienthong-audit-000000000001-000000000009.tar.gz",
                "audit-bundle-20260101T000000Z-aaaaaaaaaaaa.zip", "audit-bundle-20260101T000000Z-aaaaaaaaaaaa.zip%00.txt"]
    for name in attempts:
        answer = auditor.get(httpx.URL(console.url + "/console/audit/exports/" + name))
        assert answer.status_code in (404, 422), (name, answer.status_code)
        assert b"SECRET" not in answer.content and b"root:" not in answer.content, name


# --- who, and bad input -------------------------------------------------------------------------------


def _audit_routes() -> list[tuple[str, str]]:
    filled = {"{record_id}": "1", "{alert_id}": "1", "{job_id}": "a" * 22,
              "{name}": "audit-bundle-20260101T000000Z-aaaaaaaaaaaa.zip"}
    out = []
    for method, path in RULES:
        if path.startswith("/console/audit"):
            for hole, value in filled.items():
                path = path.replace(hole, value)
            out.append((method, path))
    return out


def test_an_operator_gets_403_on_every_audit_page_and_form_and_an_admin_on_every_page(console: Console) -> None:
    routes = _audit_routes()
    assert len(routes) == 11
    operator, admin = console.person("operator"), console.person("admin")
    for method, path in routes:
        answer = operator.get(path) if method == "GET" else operator.submit(path, {"reason": "x" * 20})
        assert answer.status_code == 403, (method, path, answer.status_code)
        if method == "GET":
            assert admin.get(path).status_code == 403, path
    assert actions_named(console, "alert.acknowledge") == [] and actions_named(console, "audit.export") == []


def test_bad_input_is_a_422_or_404_page_never_a_500(console: Console) -> None:
    auditor = console.person("auditor")
    for query in ("key_id=abc", "status=99", "since=yesterday", "before=-1", f"before={2**63}", "kind=hack",
                  "until=2026-01-01T00:00&since=2026-02-01T00:00", "route=" + "r" * 201):
        answer = auditor.get(f"/console/audit/records?{query}")
        assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html"), query
    assert auditor.get("/console/audit/records/abc").status_code == 422
    assert auditor.get("/console/audit/records/999999").status_code == 404
    assert auditor.submit("/console/audit/records/999999/content", {"reason": "Kiểm tra theo yêu cầu số 1"}).status_code == 404
    ok = auditor.get("/console/audit/records?kind=&key_id=&since=2026-01-01T08:00&status=")
    assert ok.status_code == 200 and 'value="2026-01-01T08:00"' in ok.text, "empty fields are no filter; times come back"
