"""Citizen look-ups through the hub, over real SOAP to the population-database simulator on loopback:
the canonical answers, the officer's registration, validity and tier, the key's look-up scopes, the
partner's faults and timeouts, the access records auditors search, and no citizen data in clear."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import MetaData, select

from connectors.population_db.interface import Citizen
from connectors.population_db.population import full_name, sample
from hub.access.accounts import add_account
from hub.access.keys import issue_key
from hub.citizens.officers import change, register, revoke
from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import officers
from tests.conftest import Hub, seed_hub
from tests.factories import status_changed, submitted
from tests.population import PopulationSim
from tests.support import ThreadedServer, access_record, client, with_partner

PASSWORD = "correct horse battery"
AGENCY = "000.00.00.H49"
PURPOSE = "Xác minh nhân thân để giải quyết hồ sơ cấp bản sao trích lục hộ tịch"
LOOKUP_SCOPES = {"endpoints": ["intake", "read", "lookup"], "lookups": ["*"]}


def dossier(seq: int) -> str:
    return f"{AGENCY}-261123-{seq:04d}"


@dataclass
class Lookups:
    """A hub wired to the simulator, a motcua key allowed to look up, and one known citizen."""

    hub: Hub
    url: str
    sim: PopulationSim
    key: str
    person: Citizen

    def call(self, op: str = "lookup", key: str | None = None, **fields: Any) -> httpx.Response:
        body = {"officer_code": "CB-ALL", "purpose": PURPOSE, "dossier_code": dossier(1),
                "id_number": self.person.SoDinhDanh, **fields}
        request_id = uuid.uuid4().hex
        with client(self.url, key or self.key) as c:
            r = c.post(f"/v1/citizens/{op}", json={k: v for k, v in body.items() if v is not None},
                       headers={"X-Request-Id": request_id})
        r.request_id = request_id  # type: ignore[attr-defined]
        return r

    def record(self, response: httpx.Response) -> Any:
        return access_record(self.hub.engine, response.request_id)  # type: ignore[attr-defined]

    def send(self, message: dict[str, Any]) -> None:
        with client(self.url, self.hub.keys["motcua"]) as c:
            r = c.post("/v1/messages", json=message)
        assert r.status_code == 202, r.text


def officer(hub: Hub, code: str, tier: str = "whole_agency", **over: Any) -> None:
    register(hub.engine, "motcua", code, f"Cán bộ {code}", over.pop("agency_id", AGENCY), tier=tier, actor="test", **over)


@pytest.fixture
def lookups(settings: Any, population_sim: PopulationSim, tmp_path: Path) -> Iterator[Lookups]:
    wired = with_partner(settings, "population_db", url=population_sim.url, timeout=1.0)
    hub = seed_hub(wired, tmp_path)
    key = issue_key(hub.engine, "motcua", wired.effective_key_pepper, "look-ups", scopes=LOOKUP_SCOPES)
    officer(hub, "CB-ALL")
    server = ThreadedServer(create_app(wired)).start()
    try:
        yield Lookups(hub, server.url, population_sim, key, sample(index=3))
    finally:
        server.stop()
        hub.engine.dispose()


# --- round trips -----------------------------------------------------------------------------------


def test_a_look_up_answers_the_canonical_citizen_and_is_never_cached(lookups: Lookups) -> None:
    person = lookups.person
    r = lookups.call("lookup")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    [found] = r.json()["citizens"]
    assert found["id_number"] == person.SoDinhDanh and found["full_name"] == full_name(person.HoVaTen)
    assert (found["family_name"], found["given_name"]) == (person.HoVaTen.Ho, person.HoVaTen.Ten)
    assert found["gender"] == {"1": "male", "2": "female"}[person.GioiTinh or ""]
    born = person.NgayThangNamSinh
    assert born is not None and found["birth_date"].replace("-", "") == (born.NgayThangNam or born.Nam)
    assert person.ThuongTru is not None and found["permanent_address"] == {
        "province_code": person.ThuongTru.MaTinhThanh, "district_code": person.ThuongTru.MaQuanHuyen,
        "ward_code": person.ThuongTru.MaPhuongXa, "detail": person.ThuongTru.ChiTiet}
    assert "CongDan" not in r.text and "SoDinhDanh" not in r.text, "the partner's wire format never reaches the caller"
    record = lookups.record(r)
    assert (record.kind, record.outcome, record.account, record.route) == ("lookup", "ok", "CB-ALL", "/v1/citizens/lookup")
    assert record.citizen_index and record.content.startswith("v1:")
    assert person.SoDinhDanh not in record.summary and record.summary == f"citizens.lookup for dossier {dossier(1)}"


def test_verify_answers_only_whether_id_name_and_birth_date_match(lookups: Lookups) -> None:
    person = lookups.person
    born = person.NgayThangNamSinh
    assert born is not None and born.NgayThangNam
    iso = f"{born.NgayThangNam[:4]}-{born.NgayThangNam[4:6]}-{born.NgayThangNam[6:]}"
    right = lookups.call("verify", full_name=full_name(person.HoVaTen), birth_date=iso)
    assert right.status_code == 200 and right.json() == {"match": True}, right.text
    wrong = lookups.call("verify", full_name="Tên Không Đúng", birth_date=iso)
    assert wrong.status_code == 200 and wrong.json() == {"match": False}
    missing = lookups.call("verify", birth_date=iso)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "full_name"


def test_household_and_residence_answer_the_head_and_the_current_address(lookups: Lookups) -> None:
    person = lookups.person
    [head] = lookups.call("household").json()["citizens"]
    assert person.ChuHo is not None and head["household_head"]["id_number"] == person.ChuHo.SoDinhDanh
    [here] = lookups.call("residence").json()["citizens"]
    assert person.NoiOHienTai is not None and here["current_address"]["ward_code"] == person.NoiOHienTai.MaPhuongXa


# --- who may look up ---------------------------------------------------------------------------------


def test_refused_officers_get_403_naming_the_rule_and_leave_a_record(lookups: Lookups) -> None:
    hub = lookups.hub
    now = datetime.now(timezone.utc)
    officer(hub, "CB-OFF")
    change(hub.engine, "motcua", "CB-OFF", {"state": "disabled", "reason": "nghỉ phép"}, actor="test")
    officer(hub, "CB-GONE")
    revoke(hub.engine, "motcua", "CB-GONE", "chuyển công tác", actor="test")
    officer(hub, "CB-OLD", valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1))
    officer(hub, "CB-SOON", valid_from=now + timedelta(days=1))
    officer(hub, "CB-ELSE", agency_id="000.00.01.H49")
    cases = {"CB-NOBODY": "officer:unregistered", "CB-OFF": "officer:disabled", "CB-GONE": "officer:revoked",
             "CB-OLD": "officer:expired", "CB-SOON": "officer:not_yet_valid", "CB-ELSE": "officer:out_of_tier"}
    for code, rule in cases.items():
        r = lookups.call("lookup", officer_code=code)
        assert r.status_code == 403, (code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["rule"] == rule and lookups.person.SoDinhDanh not in r.text
        record = lookups.record(r)
        assert (record.outcome, record.account, record.status) == (rule, code, 403)
        assert record.citizen_index, "a refused look-up is still findable by the citizen's ID"


def test_an_officer_belongs_to_the_partner_that_registered_them(lookups: Lookups) -> None:
    hub = lookups.hub
    register(hub.engine, "postal_vnpost", "CB-POST", "Cán bộ bưu điện", AGENCY, tier="whole_agency", actor="test")
    r = lookups.call("lookup", officer_code="CB-POST")
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "officer:unregistered"


def test_whole_agency_tier_covers_every_dossier_of_its_agency_and_no_other(lookups: Lookups) -> None:
    assert lookups.call("lookup", dossier_code=dossier(7)).status_code == 200, "a dossier the hub never saw"
    other = lookups.call("lookup", dossier_code="000.00.02.H49-261123-0001")
    assert other.status_code == 403 and other.json()["errors"][0]["rule"] == "officer:out_of_tier"


def test_own_unit_tier_follows_the_dossiers_latest_handling_unit(lookups: Lookups) -> None:
    officer(lookups.hub, "CB-UNIT", tier="own_unit", unit="Phòng Tư pháp")
    lookups.send(submitted(seq=2, payload={**submitted()["payload"], "handling_unit": "Phòng Tài chính"}))
    lookups.send(submitted(seq=3, payload={**submitted()["payload"], "handling_unit": "  phòng TƯ PHÁP "}))
    assert lookups.call("lookup", officer_code="CB-UNIT", dossier_code=dossier(2)).status_code == 403
    assert lookups.call("lookup", officer_code="CB-UNIT", dossier_code=dossier(3)).status_code == 200, \
        "units compare case-folded and trimmed"
    # the dossier moved to the officer's unit
    lookups.send(status_changed(seq=2, step=2, payload={**status_changed(step=2)["payload"], "department": "Phòng Tư pháp"}))
    assert lookups.call("lookup", officer_code="CB-UNIT", dossier_code=dossier(2)).status_code == 200
    unknown = lookups.call("lookup", officer_code="CB-UNIT", dossier_code=dossier(9))
    assert unknown.status_code == 403 and "no handling unit" in unknown.json()["detail"]


def test_own_dossiers_tier_needs_a_message_of_the_dossier_naming_the_officer(lookups: Lookups) -> None:
    officer(lookups.hub, "CB-MINE", tier="own_dossiers")
    applicant = {"name": "Người Nộp", "ids": [{"id_type": 1, "number": lookups.person.SoDinhDanh}]}
    lookups.send(submitted(seq=4, payload={**submitted()["payload"], "applicant": applicant}))
    refused = lookups.call("lookup", officer_code="CB-MINE", dossier_code=dossier(4))
    assert refused.status_code == 403 and refused.json()["errors"][0]["rule"] == "officer:out_of_tier"
    lookups.send(status_changed(seq=4, payload={**status_changed()["payload"], "officer_code": "CB-MINE"}))
    assert lookups.call("lookup", officer_code="CB-MINE", dossier_code=dossier(4)).status_code == 200
    assert lookups.call("lookup", officer_code="CB-MINE", dossier_code=dossier(5)).status_code == 403


def test_a_look_up_without_a_purpose_is_refused_as_invalid(lookups: Lookups) -> None:
    for purpose in (None, "", "xem"):
        r = lookups.call("lookup", purpose=purpose)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "purpose", r.text
        assert lookups.record(r).outcome == "validation"
    bad_id = lookups.call("lookup", id_number="12345")
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "id_number"


def test_a_key_without_the_look_up_scope_is_refused(lookups: Lookups) -> None:
    hub = lookups.hub
    plain = lookups.call("lookup", key=hub.keys["motcua"])
    assert plain.status_code == 403 and lookups.record(plain).outcome == "scope:lookup"
    only_lookup = issue_key(hub.engine, "motcua", hub.settings.effective_key_pepper, "lookup only",
                            scopes={"endpoints": ["lookup"], "lookups": ["lookup"]})
    assert lookups.call("lookup", key=only_lookup).status_code == 200
    verify = lookups.call("verify", key=only_lookup, full_name="Ai Đó", birth_date="1990-01-01")
    assert verify.status_code == 403 and verify.json()["errors"][0]["rule"] == "scope:lookup.verify"
    assert lookups.record(verify).outcome == "scope:lookup.verify"


def test_the_officers_last_look_up_is_noted_for_the_review(lookups: Lookups) -> None:
    def last() -> Any:
        with reading(lookups.hub.engine) as conn:
            return conn.execute(select(officers.c.last_lookup_at).where(officers.c.officer_code == "CB-ALL")).scalar()
    assert last() is None
    assert lookups.call("lookup").status_code == 200
    assert last() is not None


# --- the partner failing -------------------------------------------------------------------------------


def test_a_soap_fault_is_a_502_and_a_timeout_a_504_each_recorded(lookups: Lookups) -> None:
    lookups.sim.faults(fault_next=1)
    fault = lookups.call("lookup")
    assert fault.status_code == 502 and fault.json()["type"] == "/problems/population-db-fault", fault.text
    assert fault.json()["fault_code"] == "LOI_HE_THONG", "the partner's plain error code, nothing else of it"
    assert "soap" not in fault.text.lower() and "Traceback" not in fault.text
    assert lookups.record(fault).outcome == "population-db-fault"
    lookups.sim.faults(hang_next=1, hang_seconds=3.0)
    slow = lookups.call("lookup")
    assert slow.status_code == 504 and slow.json()["type"] == "/problems/population-db-timeout", slow.text
    record = lookups.record(slow)
    assert record.outcome == "population-db-timeout" and record.citizen_index


# --- auditors and citizen data ---------------------------------------------------------------------------


def test_an_auditor_finds_every_look_up_of_one_id_and_reads_its_content(lookups: Lookups) -> None:
    hub = lookups.hub
    person = lookups.person
    done = [lookups.call("lookup"), lookups.call("household"), lookups.call("lookup", officer_code="CB-NOBODY")]
    other = lookups.call("lookup", id_number=sample(index=4).SoDinhDanh)
    ids = [lookups.record(r).id for r in done]
    lookups.record(other)
    add_account(hub.engine, "audrey", "Audrey", "auditor", PASSWORD, actor="test")
    token = httpx.post(f"{lookups.url}/v1/auth/login", json={"username": "audrey", "password": PASSWORD}).json()["token"]
    with httpx.Client(base_url=lookups.url, headers={"Authorization": f"Bearer {token}"}) as audrey:
        found = audrey.post("/v1/audit/records:search", json={"citizen_id": person.SoDinhDanh}).json()["items"]
        assert [f["id"] for f in found] == ids
        opened = audrey.get(f"/v1/audit/records/{ids[0]}/content").json()["content"]
    assert opened["request"]["id_number"] == person.SoDinhDanh and opened["request"]["purpose"] == PURPOSE
    assert opened["request"]["officer_code"] == "CB-ALL" and opened["operation"] == "lookup"
    assert opened["answer"]["citizens"][0]["full_name"] == full_name(person.HoVaTen)


def _every_row(hub: Hub) -> str:
    meta = MetaData()
    meta.reflect(hub.engine)
    rows: list[Any] = []
    with reading(hub.engine) as conn:
        for table in meta.sorted_tables:
            rows.extend(tuple(r) for r in conn.execute(select(table)))
    return repr(rows)


def test_no_id_number_name_or_address_in_clear_in_logs_rows_files_or_metrics(
        lookups: Lookups, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    person = lookups.person
    secrets = [person.SoDinhDanh, full_name(person.HoVaTen)]
    assert person.ThuongTru is not None and person.ThuongTru.ChiTiet
    secrets.append(person.ThuongTru.ChiTiet)
    assert lookups.call("lookup").status_code == 200
    assert lookups.call("household").status_code == 200
    assert lookups.call("lookup", officer_code="CB-NOBODY").status_code == 403
    lookups.sim.faults(fault_next=1)
    assert lookups.call("lookup").status_code == 502
    last = lookups.call("residence")
    lookups.record(last)  # every record written
    metrics = httpx.get(f"{lookups.url}/metrics").text
    assert "lienthong_citizen_lookups_total" in metrics
    rows = _every_row(lookups.hub)
    assert "v1:" in rows, "the content is there, encrypted"
    files = b""
    if lookups.hub.settings.effective_database_url.startswith("sqlite"):
        db = Path(lookups.hub.settings.effective_database_url.removeprefix("sqlite:///"))
        for path in (db, db.with_name(db.name + "-wal")):
            if path.exists():
                files += path.read_bytes()
        assert len(files) > 10_000
    out, err = capfd.readouterr()
    for secret in secrets:
        assert secret not in caplog.text, "logs"
        assert secret not in out and secret not in err, "the server's output"
        assert secret not in metrics, "metrics"
        assert secret not in rows, "database rows"
        assert secret.encode() not in files, "the database file"


def test_messages_without_officer_code_keep_the_canonical_body_they_had_before_the_field() -> None:
    from hub.messages.models import MESSAGE_ADAPTER

    for message in (submitted(), status_changed()):
        payload = MESSAGE_ADAPTER.validate_python(message).model_dump(mode="json")["payload"]
        assert "officer_code" not in payload, "a resent old message must hash as before (idempotency)"
    named = status_changed(payload={**status_changed()["payload"], "officer_code": "CB-1"})
    assert MESSAGE_ADAPTER.validate_python(named).model_dump(mode="json")["payload"]["officer_code"] == "CB-1"
