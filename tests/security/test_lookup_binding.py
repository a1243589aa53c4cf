"""Look-ups bound to the dossier (issue #12), against the real application over loopback, with the
population-database simulator over real SOAP, on SQLite and PostgreSQL.

Rules checked, each as the attack it stops:
- ``officer:citizen_not_in_dossier``: an own-dossiers officer named in a dossier looks up someone
  who is not its applicant -> 403 naming the rule, recorded (findable by that citizen's ID); the
  dossier's applicant -> allowed; an own-unit officer's own-dossier path is bound the same way;
- the officer's own client (``officer_context``: IP, device, OS, browser, MAC) lands in the access
  record beside the calling server's address, is shown to auditors, and is covered by the hash chain
  (a record without it hashes as records did before the columns existed);
- a bogus officer IP (or a control character in a device field) -> 422 naming the field;
- ``dossier_code_agency``: a message whose dossier code starts with another agency than its
  ``agency_id`` -> 422 at intake (single and batch), so it cannot name an officer of that other
  agency on that agency's dossier and widen the officer's tier.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select, update

from audit import verify_bundle as standalone
from connectors.population_db.population import sample
from hub.access.accounts import add_account
from hub.access.keys import issue_key
from hub.audit.bundle import export
from hub.audit.crypto import CitizenData
from hub.audit.records import record_dict
from hub.audit.seal import seal
from hub.audit.verify import verify
from hub.citizens.officers import register
from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub, seed_hub
from tests.factories import status_changed, submitted
from tests.population import PopulationSim
from tests.support import ThreadedServer, access_record, client, with_partner

AGENCY = "000.00.00.H49"
OTHER_AGENCY = "000.00.01.H49"
PURPOSE = "Xác minh nhân thân để giải quyết hồ sơ cấp bản sao trích lục hộ tịch"
PASSWORD = "correct horse battery"
OFFICER_CONTEXT = {"ip": "10.20.30.41", "device": "Dell OptiPlex 7090", "os": "Windows 10",
                   "browser": "Chrome 120.0", "mac": "3c-52-82-1a-2b-3c"}


@dataclass
class Desk:
    """A hub wired to the simulator; a motcua key allowed to look up; dossier 1 filed with
    ``applicant`` as its applicant and naming own-dossiers officer ``CB-MINE``."""

    hub: Hub
    url: str
    key: str
    applicant: str
    stranger: str

    def call(self, op: str = "lookup", **fields: Any) -> httpx.Response:
        body = {"officer_code": "CB-MINE", "purpose": PURPOSE, "dossier_code": f"{AGENCY}-261123-0001",
                "id_number": self.applicant, **fields}
        request_id = uuid.uuid4().hex
        with client(self.url, self.key) as c:
            r = c.post(f"/v1/citizens/{op}", json=body, headers={"X-Request-Id": request_id})
        r.request_id = request_id  # type: ignore[attr-defined]
        return r

    def record(self, response: httpx.Response) -> Any:
        return access_record(self.hub.engine, response.request_id)  # type: ignore[attr-defined]

    def send(self, message: dict[str, Any], path: str = "/v1/messages") -> httpx.Response:
        with client(self.url, self.hub.keys["motcua"]) as c:
            return c.post(path, json=message)


def filed(seq: int, applicant: str, agency: str = AGENCY, **payload: Any) -> dict[str, Any]:
    """A dossier.submitted of dossier ``seq`` with ``applicant`` as its applicant."""
    message = submitted(seq=seq, dossier_code=f"{agency}-261123-{seq:04d}")
    message["payload"].update(agency_id=agency, applicant={"name": "Người Nộp Hồ Sơ",
                                                           "ids": [{"id_type": 1, "number": applicant}]}, **payload)
    return message


@pytest.fixture
def desk(settings: Any, population_sim: PopulationSim, tmp_path: Path) -> Iterator[Desk]:
    wired = with_partner(settings, "population_db", url=population_sim.url, timeout=2.0)
    hub = seed_hub(wired, tmp_path)
    key = issue_key(hub.engine, "motcua", wired.effective_key_pepper, "look-ups",
                    scopes={"endpoints": ["intake", "read", "lookup"], "lookups": ["*"]})
    register(hub.engine, "motcua", "CB-MINE", "Cán bộ Một Cửa", AGENCY, tier="own_dossiers", actor="test")
    server = ThreadedServer(create_app(wired)).start()
    try:
        d = Desk(hub, server.url, key, sample(index=3).SoDinhDanh, sample(index=4).SoDinhDanh)
        assert d.send(filed(1, d.applicant, officer_code="CB-MINE")).status_code == 202
        yield d
    finally:
        server.stop()
        hub.engine.dispose()


# --- officer:citizen_not_in_dossier ---------------------------------------------------------------


def test_an_own_dossiers_officer_looking_up_a_citizen_outside_the_dossier_is_refused_and_recorded(desk: Desk) -> None:
    for op in ("lookup", "household", "residence"):
        r = desk.call(op, id_number=desk.stranger)
        assert r.status_code == 403, (op, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        [error] = r.json()["errors"]
        assert (error["field"], error["rule"]) == ("id_number", "officer:citizen_not_in_dossier"), r.text
        assert desk.stranger not in r.text, "the refusal never echoes the ID"
        record = desk.record(r)
        assert (record.outcome, record.status, record.account, record.kind) == (
            "officer:citizen_not_in_dossier", 403, "CB-MINE", "lookup")
        assert record.citizen_index == CitizenData(desk.hub.settings).blind_index(desk.stranger), \
            "the refused look-up is findable by the ID that was asked for"
    # another dossier's applicant does not count either, even one the same officer handles
    assert desk.send(filed(2, desk.stranger, officer_code="SOMEONE-ELSE")).status_code == 202
    assert desk.call(id_number=desk.stranger).json()["errors"][0]["rule"] == "officer:citizen_not_in_dossier"


def test_an_own_dossiers_officer_may_look_up_the_dossiers_applicant(desk: Desk) -> None:
    r = desk.call()
    assert r.status_code == 200, r.text
    assert r.json()["citizens"][0]["id_number"] == desk.applicant
    assert desk.record(r).outcome == "ok"
    # a dossier.updated that names a second person makes them the dossier's citizen too
    update_ = filed(1, desk.stranger)
    update_["type"] = "dossier.updated"
    assert desk.send(update_).status_code == 202
    assert desk.call(id_number=desk.stranger).status_code == 200


def test_a_citizen_named_only_by_another_partners_messages_does_not_count(desk: Desk) -> None:
    with client(desk.url, desk.hub.keys["postal_vnpost"]) as postal:
        posted = filed(1, desk.stranger, officer_code="CB-MINE")
        posted["source"] = "postal_vnpost"
        postal.post("/v1/messages", json=posted)  # whatever the intake says, it must not widen motcua's officer
    r = desk.call(id_number=desk.stranger)
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "officer:citizen_not_in_dossier"


def test_an_own_unit_officers_own_dossier_right_is_bound_to_its_citizens_but_the_units_is_not(desk: Desk) -> None:
    register(desk.hub.engine, "motcua", "CB-UNIT", "Cán bộ Phòng", AGENCY, unit="Phòng Tư pháp", tier="own_unit",
             actor="test")
    # dossier 3: handled by another unit, but names CB-UNIT: bound to its applicant
    assert desk.send(filed(3, desk.applicant, officer_code="CB-UNIT", handling_unit="Phòng Tài chính")).status_code == 202
    third = f"{AGENCY}-261123-0003"
    assert desk.call(officer_code="CB-UNIT", dossier_code=third).status_code == 200
    stranger = desk.call(officer_code="CB-UNIT", dossier_code=third, id_number=desk.stranger)
    assert stranger.status_code == 403 and stranger.json()["errors"][0]["rule"] == "officer:citizen_not_in_dossier"
    # the dossier moves to CB-UNIT's unit: the unit's right covers whomever its handling needs
    moved = status_changed(seq=3, step=2)
    moved["payload"]["department"] = "Phòng Tư pháp"
    assert desk.send(moved).status_code == 202
    assert desk.call(officer_code="CB-UNIT", dossier_code=third, id_number=desk.stranger).status_code == 200


# --- the officer's own client in the access record ------------------------------------------------


def test_the_officers_reported_client_is_recorded_beside_the_servers_address(desk: Desk) -> None:
    r = desk.call(officer_context=OFFICER_CONTEXT)
    assert r.status_code == 200, r.text
    record = desk.record(r)
    assert (record.officer_ip, record.officer_device, record.officer_os, record.officer_browser, record.officer_mac) == (
        "10.20.30.41", "Dell OptiPlex 7090", "Windows 10", "Chrome 120.0", "3C:52:82:1A:2B:3C")
    assert record.client_ip == "127.0.0.1", "the calling server's own address stays the one the hub saw"
    refused = desk.call(id_number=desk.stranger, officer_context={"ip": "2001:0db8:0000::0007"})
    assert refused.status_code == 403
    assert desk.record(refused).officer_ip == "2001:db8::7", "a refused look-up keeps it too (compressed form)"
    plain = desk.record(desk.call())
    assert (plain.officer_ip, plain.officer_device, plain.officer_mac) == (None, None, None)

    add_account(desk.hub.engine, "audrey", "Audrey", "auditor", PASSWORD, actor="test")
    token = httpx.post(f"{desk.url}/v1/auth/login", json={"username": "audrey", "password": PASSWORD}).json()["token"]
    with httpx.Client(base_url=desk.url, headers={"Authorization": f"Bearer {token}"}) as audrey:
        found = audrey.post("/v1/audit/records:search", json={"officer_ip": "10.20.30.41"}).json()["items"]
    assert [f["id"] for f in found] == [record.id], "auditors search by the officer's address"
    assert (found[0]["officer_ip"], found[0]["officer_browser"], found[0]["client_ip"]) == (
        "10.20.30.41", "Chrome 120.0", "127.0.0.1"), "and see it beside the server's address"


def test_the_officers_client_is_covered_by_the_hash_chain_and_older_records_hash_as_before(desk: Desk,
                                                                                          tmp_path: Path) -> None:
    with_context = desk.record(desk.call(officer_context=OFFICER_CONTEXT))
    without = desk.record(desk.call())
    engine, settings = desk.hub.engine, desk.hub.settings
    seal(engine, settings.model_copy(update={"audit_seal_grace_seconds": 0}), force_checkpoint=True)
    assert verify(engine, settings).ok
    folder = export(engine, settings, tmp_path / "bundle")
    lines = [json.loads(x) for x in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(x.get("officer_ip") == "10.20.30.41" for x in lines), "the bundle carries the officer's address"
    assert standalone.verify_bundles([folder]).ok, "and the standalone verifier checks it"
    forged = (folder / "records.jsonl").read_text(encoding="utf-8").replace('"10.20.30.41"', '"10.20.30.99"')
    (folder / "records.jsonl").write_text(forged, encoding="utf-8")
    assert not standalone.verify_bundles([folder]).ok
    with reading(engine) as conn:
        row = conn.execute(select(access_records).where(access_records.c.id == without.id)).one()
    assert not any(name.startswith("officer_") for name in record_dict(row._mapping)), \
        "a record without an officer context hashes the columns of before migration 0009"
    for name, forged in (("officer_ip", "10.20.30.99"), ("officer_browser", "Firefox 1.0")):
        with engine.begin() as conn:
            conn.execute(update(access_records).where(access_records.c.id == with_context.id).values({name: forged}))
        report = verify(engine, settings)
        assert report.problem is not None and (report.problem.kind, report.problem.id) == ("changed", with_context.id), name
        with engine.begin() as conn:
            conn.execute(update(access_records).where(access_records.c.id == with_context.id)
                         .values({name: getattr(with_context, name)}))
    with engine.begin() as conn:  # a forger adding an address to a record that had none
        conn.execute(update(access_records).where(access_records.c.id == without.id).values(officer_ip="10.0.0.1"))
    report = verify(engine, settings)
    assert report.problem is not None and (report.problem.kind, report.problem.id) == ("changed", without.id)


@pytest.mark.parametrize("context, field", [
    ({"ip": "999.1.1.1"}, "officer_context.ip"),
    ({"ip": "10.0.0.1; DROP"}, "officer_context.ip"),
    ({"ip": "fe80::1%eth0"}, "officer_context.ip"),
    ({"ip": "1" * 46}, "officer_context.ip"),
    ({"device": "Dell"}, "officer_context.ip"),
    ({"ip": "10.0.0.1", "browser": "Chrome\r\nX-Injected: 1"}, "officer_context.browser"),
    ({"ip": "10.0.0.1", "os": "W" * 61}, "officer_context.os"),
    ({"ip": "10.0.0.1", "mac": "not-a-mac"}, "officer_context.mac"),
    ({"ip": "10.0.0.1", "shoe_size": 42}, "officer_context.shoe_size"),
])
def test_a_bogus_officer_context_is_refused_as_invalid(desk: Desk, context: dict[str, Any], field: str) -> None:
    r = desk.call(officer_context=context)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field], r.text
    assert desk.record(r).outcome == "validation"


def test_the_officers_device_text_is_stored_nfc(desk: Desk) -> None:
    nfd = unicodedata.normalize("NFD", "Máy Phòng Tư pháp")
    record = desk.record(desk.call(officer_context={"ip": "10.0.0.1", "device": nfd}))
    assert record.officer_device == unicodedata.normalize("NFC", nfd) != nfd


# --- dossier_code_agency ----------------------------------------------------------------------------


def test_a_message_filing_under_another_agencys_dossier_code_is_refused(desk: Desk) -> None:
    register(desk.hub.engine, "motcua", "CB-OTHER", "Cán bộ cơ quan khác", OTHER_AGENCY, tier="own_dossiers",
             actor="test")
    foreign = f"{OTHER_AGENCY}-261123-0009"
    # the attack: a message of agency H49 naming CB-OTHER and a citizen on a dossier code of agency 000.00.01
    forged = filed(9, desk.stranger, officer_code="CB-OTHER")
    forged["dossier_code"] = foreign
    single = desk.send(forged)
    assert single.status_code == 422, single.text
    assert [(e["field"], e["rule"]) for e in single.json()["errors"]] == [("dossier_code", "dossier_code_agency")]
    batch = desk.send({"messages": [forged]}, "/v1/messages:batch").json()
    [result] = batch["results"]
    assert result["status"] == 422 and batch["accepted"] == 0, batch
    assert [(e["field"], e["rule"]) for e in result["problem"]["errors"]] == [
        ("messages.0.dossier_code", "dossier_code_agency")]
    moved = status_changed(seq=9, dossier_code=foreign)
    moved["payload"]["officer_code"] = "CB-OTHER"
    r = desk.send(moved)
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "dossier_code_agency", r.text
    # so the other agency's officer gained nothing on that dossier
    refused = desk.call(officer_code="CB-OTHER", dossier_code=foreign, id_number=desk.stranger)
    assert refused.status_code == 403 and refused.json()["errors"][0]["rule"] == "officer:out_of_tier", refused.text
    # the same message with the agency's own code is accepted
    assert desk.send(filed(9, desk.stranger, agency=OTHER_AGENCY, officer_code="CB-OTHER")).status_code == 202
    assert desk.call(officer_code="CB-OTHER", dossier_code=foreign, id_number=desk.stranger).status_code == 200


def test_a_fault_code_that_could_be_an_id_number_is_not_passed_to_the_caller() -> None:
    """The population database's fault code goes back to the partner only when it is a plain code:
    a code carrying a citizen ID (or an old 9-digit ID card number) is withheld."""
    from hub.edge.lookups import plain_fault_code

    assert plain_fault_code("LOI_HE_THONG") and plain_fault_code("E:42")
    for leaky in ("001190012345", "CCCD_001190012345", "ID-123456789", "LOI <script>", ""):
        assert not plain_fault_code(leaky), leaky
