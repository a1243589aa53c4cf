"""The dossier status look-up (connectors/national_dvc/lookup/): the portal's TraCuuHoSo, partners'
status, the public JSON, page and QR code, over loopback HTTP against one hub for the module.

Each test that calls a public route comes from an address of its own (``X-Forwarded-For``, the
loopback peer being a trusted proxy here), so the per-address limits of one test never reach another.
"""

from __future__ import annotations

import itertools
import logging
import unicodedata
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import Engine, event, select

from connectors.national_dvc.lookup import qr
from connectors.national_dvc.lookup.mask import mask_name
from hub.access.accounts import add_account
from hub.edge.app import create_app
from hub.edge.inbound import _address_bucket
from hub.store.tables import access_records
from tests.conftest import Hub, make_settings, seed_hub
from tests.factories import dossier_code, status_changed, submitted
from tests.security.conftest import PASSWORD, sign_in
from tests.support import RedisServer, ThreadedServer, client, store_messages, wait_until

LIMIT = 5  # public look-ups a minute per address in this module
CITIZEN_ID, PHONE, EMAIL, STREET = "001190012345", "0912345678", "hang.nguyen@example.vn", "12 Phố Huế"
FULL_NAME = "Nguyễn Thị Hằng"
UNMASKED = ("Hằng", "Thị", CITIZEN_ID, PHONE, EMAIL, STREET)
KNOWN, FINISHED, STEPS_ONLY, UNKNOWN, XSS = dossier_code(1), dossier_code(2), dossier_code(3), dossier_code(9), dossier_code(4)
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def site(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, str, Any]]:
    tmp = tmp_path_factory.mktemp("lookup")
    settings = make_settings(f"sqlite:///{tmp / 'hub.db'}", redis_server.url, tmp, trusted_proxies=["127.0.0.1/32"],
                             partner_settings={"national_dvc": {"lookup_public_per_minute": LIMIT,
                                                                "lookup_qr_per_minute": LIMIT}})
    hub = seed_hub(settings, tmp)
    applicant = {"name": FULL_NAME, "subject_type": 1, "ids": [{"id_type": 1, "number": CITIZEN_ID}],
                 "phone": PHONE, "email": EMAIL, "address": STREET}

    def filed(seq: int, **payload: Any) -> dict[str, Any]:
        msg = submitted(seq)
        msg["payload"].update({"applicant": applicant, "field_code": "G09-TP02", "field_name": "Hộ tịch", **payload})
        return msg

    store_messages(settings.effective_database_url, [
        filed(1), status_changed(1, status=2, step=1), status_changed(1, status=4, step=5),
        filed(2), status_changed(2, status=4, step=5), status_changed(2, status=10, step=60),
        status_changed(3, status=4, step=5),
        filed(4, procedure_name="<script>alert('xss')</script> Đăng ký khai sinh")])
    app = create_app(settings)
    server = ThreadedServer(app).start()
    yield hub, server.url, app
    server.stop()
    hub.engine.dispose()


def _from_new_address(url: str, *, browser: bool = True) -> httpx.Client:
    """A client (a browser, unless told) that the hub sees coming from an address no other test used."""
    headers = {"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}
    if browser:
        headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def _portal(site: tuple[Hub, str, Any], body: Any, key: str | None = "national_dvc") -> httpx.Response:
    hub, url, _ = site
    with client(url, hub.keys[key] if key else None) as c:
        return c.post("/v1/dvcqg/TraCuuHoSo", json=body)


class Queries:
    """The statements any engine of this process (the hub's, the partner context's) runs against the
    messages table while it is watched."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.engine = Engine

    def __enter__(self) -> "Queries":
        event.listen(self.engine, "before_cursor_execute", self._saw)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._saw)

    def _saw(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM messages" in statement:
            self.seen.append(statement)


# -- the name, masked ------------------------------------------------------------------------------

def test_the_mask_keeps_the_family_name_and_the_first_letter_of_every_other_word() -> None:
    assert mask_name("Nguyễn Thị Hằng") == "Nguyễn T** H***"
    assert mask_name(unicodedata.normalize("NFD", "Nguyễn  Thị Hằng")) == "Nguyễn T** H***"  # NFD in: one letter each
    assert mask_name("Hằng") == "H***" and mask_name("Lê Na") == "Lê N*" and mask_name("  ") == ""


# -- the portal: TraCuuHoSo ------------------------------------------------------------------------

def test_the_portal_asks_tra_cuu_ho_so_and_is_answered_in_its_style_with_the_name_masked(site: Any) -> None:
    answer = _portal(site, {"mahoso": KNOWN, "service": "TraCuuHoSo"})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["error_code"] == "00"
    assert doc["data"] == {
        "MaHoSo": KNOWN, "ChuHoSo": "Nguyễn T** H***", "MaTTHC": "2.000477", "TenTTHC": "Cấp bản sao trích lục hộ tịch",
        "MaLinhVuc": "G09-TP02", "TenLinhVuc": "Hộ tịch", "NgayTiepNhan": "20261123083000", "NgayHenTra": "20261126083000",
        "TrangThaiHoSo": "4", "TenTrangThaiHoSo": "Đang xử lý"}
    assert not any(secret in answer.text for secret in UNMASKED)
    finished = _portal(site, {"mahoso": FINISHED}).json()["data"]
    assert finished["TrangThaiHoSo"] == "10" and finished["NgayKetThucXuLy"] == "20261123093000"


def test_the_portal_is_told_not_found_for_a_code_the_hub_never_saw_filed(site: Any) -> None:
    for code in (UNKNOWN, STEPS_ONLY):  # steps of a dossier whose record never came are not a dossier to show
        answer = _portal(site, {"mahoso": code})
        assert answer.status_code == 200 and answer.json()["error_code"] == "04" and "data" not in answer.json()


def test_a_malformed_mahoso_is_answered_02_and_reaches_no_query(site: Any) -> None:
    hub, url, _ = site
    with Queries() as queries, client(url, hub.keys["national_dvc"]) as portal:
        for body in ({"mahoso": "' OR 1=1 --"}, {"mahoso": 12}, {}, ["mahoso"], {"mahoso": "000.00.00.H49-261399-0001"}):
            answer = portal.post("/v1/dvcqg/TraCuuHoSo", json=body)
            assert answer.status_code == 400 and answer.json()["error_code"] == "02", body
        broken = portal.post("/v1/dvcqg/TraCuuHoSo", content=b"{not json", headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error_code"] == "02"
        huge = portal.post("/v1/dvcqg/TraCuuHoSo", json={"mahoso": KNOWN, "padding": "x" * 5000})
        assert huge.status_code == 413 and huge.json()["error_code"] == "02"  # read under 4 KiB, refused in its format
    assert queries.seen == []


def test_another_partners_read_key_may_not_pose_as_the_portal(site: Any) -> None:
    answer = _portal(site, {"mahoso": KNOWN}, key="motcua")
    assert answer.status_code == 403 and answer.json()["error_code"] == "05" and "data" not in answer.json()


def test_a_wrong_or_missing_key_is_refused_401_on_the_keyed_look_ups(site: Any) -> None:
    hub, url, _ = site
    for headers in ({}, {"Authorization": "ApiKey not-a-key"}):
        with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
            assert c.post("/v1/dvcqg/TraCuuHoSo", json={"mahoso": KNOWN}).status_code == 401
            refused = c.get(f"/v1/dossiers/{KNOWN}/status")
            assert refused.status_code == 401 and refused.json()["type"] == "/problems/unauthenticated"
            assert FULL_NAME not in refused.text


# -- partners --------------------------------------------------------------------------------------

def test_a_partner_reads_a_dossiers_status_with_the_name_masked(site: Any) -> None:
    hub, url, _ = site
    with client(url, hub.keys["motcua"]) as c:
        found = c.get(f"/v1/dossiers/{FINISHED}/status")
        assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
        assert found.json() == {
            "dossier_code": FINISHED, "agency_id": "000.00.00.H49", "applicant_name": "Nguyễn T** H***",
            "field_code": "G09-TP02", "field_name": "Hộ tịch", "procedure_code": "2.000477",
            "procedure_name": "Cấp bản sao trích lục hộ tịch", "channel": 2,
            "received_at": "2026-11-23T08:30:00+07:00", "due_at": "2026-11-26T08:30:00+07:00", "status": 10,
            "status_name": "Đã trả kết quả", "waiting_for_supplement": False, "finished_at": "2026-11-23T09:30:00+07:00"}
        missing = c.get(f"/v1/dossiers/{UNKNOWN}/status")
        assert missing.status_code == 404 and missing.json()["type"] == "/problems/lookup-not-found"
        bad = c.get("/v1/dossiers/H49-1/status")
        assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "dossier_code"


def test_an_operator_reads_a_dossiers_status_and_an_auditor_may_not(site: Any) -> None:
    hub, url, _ = site
    for name, role in (("olga", "operator"), ("audrey", "auditor")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    statuses = {}
    for name in ("olga", "audrey"):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {sign_in(url, name)}"}, timeout=30) as person:
            statuses[name] = person.get(f"/v1/dossiers/{KNOWN}/status")
    assert statuses["olga"].status_code == 200 and statuses["olga"].json()["applicant_name"] == "Nguyễn T** H***"
    assert statuses["audrey"].status_code == 403 and statuses["audrey"].json()["type"] == "/problems/forbidden"


# -- the public ------------------------------------------------------------------------------------

def test_the_public_look_up_shows_only_the_minimum_with_the_name_masked(site: Any) -> None:
    with _from_new_address(site[1]) as c:
        found = c.get(f"/v1/public/dossiers/{KNOWN}")
    assert found.status_code == 200, found.text
    assert found.json() == {"dossier_code": KNOWN, "applicant_name": "Nguyễn T** H***",
                            "procedure_name": "Cấp bản sao trích lục hộ tịch", "status": 4, "status_name": "Đang xử lý",
                            "received_at": "2026-11-23T08:30:00+07:00", "due_at": "2026-11-26T08:30:00+07:00",
                            "finished_at": None}
    assert not any(secret in found.text for secret in UNMASKED)
    assert found.headers["ratelimit-policy"] == f'"dossier-lookup";q={LIMIT};w=60'


def test_the_public_cannot_tell_a_dossier_seen_only_by_its_steps_from_one_that_does_not_exist(site: Any) -> None:
    with _from_new_address(site[1]) as c:
        steps, none = c.get(f"/v1/public/dossiers/{STEPS_ONLY}"), c.get(f"/v1/public/dossiers/{UNKNOWN}")
    assert steps.status_code == none.status_code == 404
    assert steps.json()["type"] == none.json()["type"] == "/problems/lookup-not-found"
    assert steps.json().keys() == none.json().keys()


def test_guessing_many_codes_from_one_address_gets_429_and_misses_count_too(site: Any) -> None:
    url = site[1]
    with _from_new_address(url) as guesser, _from_new_address(url) as neighbour:
        misses = [guesser.get(f"/v1/public/dossiers/{dossier_code(100 + n)}").status_code for n in range(LIMIT - 1)]
        assert misses == [404] * (LIMIT - 1)
        assert guesser.get("/v1/public/dossiers/not-a-code").status_code == 422  # a refused code counts as well
        limited = guesser.get(f"/v1/public/dossiers/{KNOWN}")  # even a real code, once over the limit
        assert limited.status_code == 429 and limited.json()["type"] == "/problems/rate-limited"
        assert int(limited.headers["retry-after"]) >= 1 and FULL_NAME not in limited.text
        page = guesser.get(f"/tra-cuu/{KNOWN}")  # the page shares the bucket
        assert page.status_code == 429 and "retry-after" in page.headers and "Nguyễn" not in page.text
        assert neighbour.get(f"/v1/public/dossiers/{KNOWN}").status_code == 200  # per address, not global


def test_addresses_of_one_ipv6_64_share_one_bucket() -> None:
    assert _address_bucket("2001:db8:1:2::1") == _address_bucket("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert _address_bucket("2001:db8:1:3::1") != _address_bucket("2001:db8:1:2::1")
    assert _address_bucket("::ffff:198.51.100.7") == "198.51.100.7" and _address_bucket("198.51.100.7") == "198.51.100.7"


def test_an_injection_looking_code_is_refused_422_naming_the_rule_without_a_query(site: Any) -> None:
    with Queries() as queries, _from_new_address(site[1]) as c:
        for code in ("000.00.00.H49-261123-0001' OR '1'='1", "%27%3B%20DROP%20TABLE%20messages%3B--", "x" * 300):
            refused = c.get(f"/v1/public/dossiers/{code}")
            assert refused.status_code == 422, refused.text
            assert refused.json()["type"] == "/problems/lookup-code"
            assert refused.json()["errors"] == [{"field": "dossier_code", "rule": "dossier_code",
                                                 "message": refused.json()["detail"]}]
        assert queries.seen == []
        assert c.get(f"/v1/public/dossiers/{UNKNOWN}").status_code == 404
    assert queries.seen, "a well-formed code is looked up (the watch sees queries)"


def test_the_page_a_qr_code_opens_renders_in_vietnamese_then_english(site: Any) -> None:
    with _from_new_address(site[1]) as c:
        vi, en = c.get(f"/tra-cuu/{KNOWN}"), c.get(f"/tra-cuu/{KNOWN}", params={"lang": "en"})
        missing, bad = c.get(f"/tra-cuu/{UNKNOWN}"), c.get("/tra-cuu/<img src=x onerror=alert(1)>")
    assert vi.status_code == en.status_code == 200 and vi.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in vi.text and "Tra cứu tình trạng hồ sơ" in vi.text and "Đang xử lý" in vi.text
    assert "Nguyễn T** H***" in vi.text and "23/11/2026 08:30" in vi.text
    assert '<html lang="en">' in en.text and "Being processed" in en.text and "Nguyễn T** H***" in en.text
    assert "script-src" not in vi.headers["content-security-policy"] and "default-src 'none'" in vi.headers["content-security-policy"]
    for page in (vi, en):
        assert not any(secret in page.text for secret in UNMASKED)
    assert missing.status_code == 404 and "Không tìm thấy hồ sơ" in missing.text
    assert bad.status_code == 422 and "<img" not in bad.text and "onerror" not in bad.text
    with _from_new_address(site[1], browser=False) as program:  # not a browser: the refusal is a problem
        answer = program.get(f"/tra-cuu/{UNKNOWN}")
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")


def test_a_procedure_name_carrying_markup_is_shown_as_text_on_the_page(site: Any) -> None:
    with _from_new_address(site[1]) as c:
        shown = c.get(f"/tra-cuu/{XSS}")
    assert shown.status_code == 200
    assert "<script>" not in shown.text and "&lt;script&gt;" in shown.text


def test_the_qr_code_is_the_segno_drawing_of_the_dossiers_page_address(site: Any) -> None:
    url = site[1]
    with _from_new_address(url) as c:
        png, svg = c.get(f"/v1/public/dossiers/{KNOWN}/qr.png"), c.get(f"/v1/public/dossiers/{KNOWN}/qr.svg")
        bad = c.get("/v1/public/dossiers/nope/qr.png")
    page = f"{url}/tra-cuu/{KNOWN}"
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and png.content == qr.image(page, "png")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert qr.make(page).designator and "max-age" in png.headers["cache-control"]
    assert bad.status_code == 422
    with _from_new_address(url) as c:  # the page the code opens is the one that shows the dossier
        assert c.get(page.removeprefix(url)).status_code == 200


def test_the_qr_code_opens_the_address_the_trusted_proxy_reports_when_none_is_configured(site: Any) -> None:
    with _from_new_address(site[1]) as c:
        drawn = c.get(f"/v1/public/dossiers/{KNOWN}/qr.png",
                      headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dichvucong.example.gov.vn"})
    assert drawn.status_code == 200
    assert drawn.content == qr.image(f"https://dichvucong.example.gov.vn/tra-cuu/{KNOWN}", "png")
    assert drawn.headers["cache-control"] == "private, max-age=3600"  # drawn from the request: not for shared caches
    assert qr.page_url("https://hub.example.vn/", KNOWN) == f"https://hub.example.vn/tra-cuu/{KNOWN}"


def test_no_look_up_writes_the_applicants_name_or_id_into_the_access_log_or_the_logs(site: Any,
                                                                                    caplog: pytest.LogCaptureFixture) -> None:
    hub, url, _ = site
    marker = uuid.uuid4().hex
    with caplog.at_level(logging.DEBUG):
        with _from_new_address(url) as c:
            c.get(f"/v1/public/dossiers/{KNOWN}", headers={"X-Request-Id": marker})
            c.get(f"/tra-cuu/{KNOWN}", headers={"X-Request-Id": marker})
        with client(url, hub.keys["national_dvc"]) as portal:
            portal.post("/v1/dvcqg/TraCuuHoSo", json={"mahoso": KNOWN}, headers={"X-Request-Id": marker})
            portal.get(f"/v1/dossiers/{KNOWN}/status", headers={"X-Request-Id": marker})

        def records() -> list[Any]:
            with hub.engine.connect() as conn:
                rows = conn.execute(select(access_records).where(access_records.c.caller_request_id == marker)).all()
            return rows if len(rows) == 4 else []

        rows = wait_until(records, 10, what="the look-ups' access records")
    assert sorted(r.outcome for r in rows) == ["ok"] * 4
    assert sorted(str(r.partner_code) for r in rows) == ["None", "None", "national_dvc", "national_dvc"]  # citizens claim no partner
    assert {r.summary for r in rows} >= {f"TraCuuHoSo {KNOWN}: status 4", f"public status of {KNOWN}: 4"}
    written = " ".join(str(value) for r in rows for value in r) + " ".join(r.getMessage() for r in caplog.records)
    assert not any(secret in written for secret in UNMASKED)


def test_the_look_ups_problem_types_are_registered_with_the_portal() -> None:
    from connectors.national_dvc.manifest import PORTAL

    assert PORTAL.problems["lookup-code"][0] == 422 and PORTAL.problems["lookup-not-found"][0] == 404
    assert {r.path for r in PORTAL.routes} >= {"/v1/dvcqg/TraCuuHoSo", "/tra-cuu/{dossier_code}"}


def test_the_templates_folder_ships_with_the_package() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "national_dvc/lookup/templates/*.html" in (root / "pyproject.toml").read_text(encoding="utf-8")
