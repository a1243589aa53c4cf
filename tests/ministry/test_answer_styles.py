"""How an adapter reads a ministry system's answer into ok, transient or permanent, each style proved on
a real answer: scripted answers of the generic simulator (HTTP statuses and the ``5xx`` pattern, a
field and its values as the civil-status registry answers, phrases of a plain-text answer, Vietnamese,
NFD matching an NFC phrase, case ignored) and SOAP faults of the SOAP simulator (``soap:Server``, from
its ``busy_next``, transient; ``soap:Client`` permanent). The first rule whose conditions all hold
decides, the mapping's own rules before the adapter's; the defaults apply when none holds; ``reason``
and ``reference`` are rendered over the answer."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from connectors.ministry_apps.answers import Answer, Verdict
from connectors.ministry_apps.outbound import Wire
from connectors.ministry_apps.registry import Loaded, load
from tests.factories import status_changed, submitted
from tests.ministry.conftest import SHIPPED, Sims, run, write


def rest_adapter(folder: Path, sims: Sims, rules: str, mapping_rules: str = "[]") -> Loaded:
    """An adapter of the generic ministry's inbox whose ``answer`` rules are ``rules`` (YAML flow list)."""
    return load(write(folder, "answers.yaml", f"""
code: generic_answers
name: Generic ministry (answers)
base_url: {sims.generic}
receives:
  - type: status.changed
send:
  status.changed:
    request:
      path: /inbox/answers
      json: {{maHoSo: "{{{{ m.dossier_code }}}}"}}
    answer: {mapping_rules}
answer: {rules}
"""))


def answered(sims: Sims, loaded: Loaded, status: int, body: Any, content_type: str = "application/json") -> tuple[Answer, Verdict]:
    """The verdict on the answer the generic ministry is scripted to give next."""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    sims.script({"status": status, "body": text, "content_type": content_type})
    answer, verdict = run(loaded, Wire(loaded, None), status_changed())
    assert answer.status == status and sims.counters()["scripted"] >= 1, "the scripted answer came back"
    return answer, verdict


@pytest.mark.parametrize(("status", "outcome"), [(200, "ok"), (202, "ok"), (503, "transient"), (500, "transient"),
                                                 (408, "transient"), (429, "transient"), (400, "permanent"),
                                                 (404, "permanent"), (401, "permanent")])
def test_without_a_rule_that_holds_the_defaults_read_the_http_status(
        folder: Path, sims: Sims, status: int, outcome: str) -> None:
    loaded = rest_adapter(folder, sims, '[{field: never.there, then: permanent}]')
    _, verdict = answered(sims, loaded, status, {"x": 1})
    assert (verdict.outcome, verdict.reason) == (outcome, f"HTTP {status}")


@pytest.mark.parametrize(("status", "outcome"), [(502, "permanent"), (503, "permanent"), (429, "transient"), (200, "ok")])
def test_a_status_pattern_like_5xx_matches_the_whole_class(folder: Path, sims: Sims, status: int, outcome: str) -> None:
    loaded = rest_adapter(folder, sims, '[{http: ["5xx"], then: permanent, reason: "lỗi máy chủ {{ status }}"}]')
    _, verdict = answered(sims, loaded, status, {"x": 1})
    assert verdict.outcome == outcome
    if status >= 500:
        assert verdict.reason == f"HTTP {status}: lỗi máy chủ {status}"


CIVIL_RULES = """
  - {http: [200], field: status, in: ["1"], then: ok}
  - {http: [200], field: status, in: ["-1"], then: transient, reason: "{{ answer.errorDescription }}"}
  - {http: [200], field: status, in: ["0"], then: permanent, reason: "{{ answer.errorDescription }}"}"""


def test_the_civil_status_rules_are_the_shipped_adapters_own() -> None:
    shipped = (SHIPPED / "civil_status.yaml").read_text(encoding="utf-8")
    assert CIVIL_RULES.strip() in shipped


@pytest.mark.parametrize(("body", "outcome", "reason"), [
    ({"status": "1", "errorDescription": ""}, "ok", "HTTP 200"),
    ({"status": 1, "errorDescription": ""}, "ok", "HTTP 200"),  # compared as text
    ({"status": "-1", "errorDescription": "Hệ thống đang bận, vui lòng thử lại sau"}, "transient",
     "HTTP 200: Hệ thống đang bận, vui lòng thử lại sau"),
    ({"status": "0", "errorDescription": "Thiếu trường bắt buộc: maDonVi"}, "permanent", "HTTP 200: Thiếu trường bắt buộc: maDonVi"),
    ({"status": "7", "errorDescription": "?"}, "ok", "HTTP 200"),  # no rule holds: 2xx is ok
])
def test_a_field_and_its_values_decide_as_the_civil_status_registry_answers(
        folder: Path, sims: Sims, body: dict[str, Any], outcome: str, reason: str) -> None:
    loaded = rest_adapter(folder, sims, CIVIL_RULES)
    _, verdict = answered(sims, loaded, 200, body)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)


def test_every_condition_of_a_rule_must_hold(folder: Path, sims: Sims) -> None:
    loaded = rest_adapter(folder, sims, CIVIL_RULES)
    _, verdict = answered(sims, loaded, 500, {"status": "1"})  # the field says received, the status does not
    assert (verdict.outcome, verdict.reason) == ("transient", "HTTP 500")


def test_a_field_without_values_holds_when_the_path_exists_and_gives_the_reference(folder: Path, sims: Sims) -> None:
    loaded = rest_adapter(folder, sims, '[{field: data.maHoSoDat, then: ok, reference: "{{ answer.data.maHoSoDat }}"}, '
                                        '{http: ["2xx"], then: permanent, reason: "không có mã hồ sơ"}]')
    _, verdict = answered(sims, loaded, 200, {"data": {"maHoSoDat": "DKDD-2026-000007"}})
    assert (verdict.outcome, verdict.reference) == ("ok", "DKDD-2026-000007")
    _, verdict = answered(sims, loaded, 200, {"data": None})
    assert (verdict.outcome, verdict.reason, verdict.reference) == ("permanent", "HTTP 200: không có mã hồ sơ", None)


def test_the_first_rule_that_holds_decides_and_the_mappings_own_come_first(folder: Path, sims: Sims) -> None:
    loaded = rest_adapter(folder, sims,
                          '[{field: status.success, in: [false], then: permanent, reason: "{{ answer.status.message }}"}, '
                          '{field: status.code, in: ["404"], then: transient}]',
                          mapping_rules='[{field: status.code, in: ["404"], then: ok, reason: "not ours"}]')
    _, verdict = answered(sims, loaded, 200, {"status": {"success": False, "code": "404", "message": "Không tìm thấy"}})
    assert (verdict.outcome, verdict.reason) == ("ok", "HTTP 200: not ours"), "the mapping's rule, before the adapter's"
    _, verdict = answered(sims, loaded, 200, {"status": {"success": False, "code": "400", "message": "Sai định dạng"}})
    assert (verdict.outcome, verdict.reason) == ("permanent", "HTTP 200: Sai định dạng"), "the adapter's first that holds"


def test_phrases_of_a_plain_text_answer_match_in_nfc_ignoring_case(folder: Path, sims: Sims) -> None:
    loaded = rest_adapter(folder, sims, '[{contains: ["hệ thống bận", "bảo trì"], then: transient, reason: "{{ text }}"}]')
    shouted = unicodedata.normalize("NFD", "HỆ THỐNG BẬN, VUI LÒNG THỬ LẠI")
    answer, verdict = answered(sims, loaded, 200, shouted, "text/plain; charset=utf-8")
    assert answer.json is None and answer.text == shouted != unicodedata.normalize("NFC", shouted), "NFD came as sent"
    assert verdict.outcome == "transient" and verdict.reason.startswith("HTTP 200: ")
    _, verdict = answered(sims, loaded, 200, "Đang bảo trì hệ thống", "text/plain; charset=utf-8")
    assert verdict.outcome == "transient"
    _, verdict = answered(sims, loaded, 200, "Đã tiếp nhận", "text/plain; charset=utf-8")
    assert (verdict.outcome, verdict.reason) == ("ok", "HTTP 200"), "no phrase: the default"


def test_a_reason_that_cannot_be_rendered_still_decides_and_says_so(folder: Path, sims: Sims) -> None:
    loaded = rest_adapter(folder, sims, '[{http: [200], then: permanent, reason: "{{ answer.loi.chiTiet }}"}]')
    _, verdict = answered(sims, loaded, 200, {"status": "0"})
    assert verdict.outcome == "permanent" and "reason unreadable" in verdict.reason


def soap_adapter(folder: Path, sims: Sims) -> Loaded:
    """The SOAP ministry's two operations: a hand-over and a status query, faults read by code."""
    return load(write(folder, "soap_answers.yaml", f"""
code: soap_answers
name: SOAP ministry (answers)
base_url: {sims.url}/soap
secrets:
  password: {{sandbox: sandbox-soap-password}}
auth: {{kind: ws_security, username: lienthong, secret: password}}
soap: {{wsdl: wire/hoso.wsdl, address: "{sims.url}/soap/hoso"}}
receives:
  - type: dossier.submitted
  - type: status.changed
send:
  dossier.submitted:
    operation: NhanHoSo
    args: {{maHoSo: "{{{{ m.dossier_code }}}}", maThuTuc: "{{{{ m.payload.procedure_code }}}}",
           tenThuTuc: "{{{{ m.payload.procedure_name }}}}", hoTenNguoiNop: "{{{{ m.payload.applicant.name }}}}",
           ngayNhan: "{{{{ m.payload.received_at }}}}"}}
  status.changed:
    operation: LayTrangThai
    args: {{maHoSo: "{{{{ m.dossier_code }}}}"}}
answer:
  - {{field: ketQua, in: [OK, DA_TON_TAI], then: ok, reference: "{{{{ answer.maBienNhan }}}}"}}
  - {{fault: ["soap:Server"], then: transient, reason: "{{{{ fault_text }}}}"}}
  - {{fault: ["soap:Client"], then: permanent, reason: "{{{{ fault }}}} {{{{ fault_text }}}}"}}
"""))


def test_a_soap_server_fault_from_a_busy_system_is_transient(folder: Path, sims: Sims) -> None:
    loaded = soap_adapter(folder, sims)
    sims.post("/soap/_sim/faults", {"busy_next": 1})
    wire = Wire(loaded, None)
    answer, verdict = run(loaded, wire, submitted())
    assert answer.fault is not None and answer.fault.endswith("Server")
    assert (verdict.outcome, verdict.reason) == ("transient", "SOAP fault soap:Server: Hệ thống tạm thời không phục vụ: "
                                                              "Hệ thống tạm thời không phục vụ")
    _, verdict = run(loaded, wire, submitted())  # not busy any more
    assert (verdict.outcome, verdict.reference) == ("ok", "BN-000001")


def test_a_soap_client_fault_is_permanent(folder: Path, sims: Sims) -> None:
    loaded = soap_adapter(folder, sims)
    answer, verdict = run(loaded, Wire(loaded, None), status_changed())  # a status query of a dossier it never had
    assert answer.fault is not None and answer.fault.endswith("Client")
    assert verdict.outcome == "permanent" and "Không tìm thấy hồ sơ" in verdict.reason
    assert sims.counters("/soap")["refused"] == 1
