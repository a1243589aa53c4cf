"""The ministry systems simulators (civil status, land, SOAP, generic REST), each served as a real
HTTP server on loopback: what they accept, what they refuse and how they answer, as their partners do."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import zeep
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jsonschema import Draft202012Validator
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from connectors.ministry_apps.simulators import create_app
from connectors.ministry_apps.simulators.civil_status import WIRE, validator
from tests.support import Process, ThreadedServer, free_port, wait_port, wait_until

CIVIL = {"userName": "lienthong", "password": "sandbox-civil-password"}
LAND_SECRET = "sandbox-land-callback-secret"
SOAP_USER, SOAP_PASSWORD = "lienthong", "sandbox-soap-password"
PREFIXES = ("/hotich", "/dat", "/soap", "/generic")
#: One client for the module: a new one per call would build a TLS context each time (tens of ms).
http = httpx.Client(timeout=10)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + b64(f"{user}:{secret}".encode())}


class StandInHub:
    """A tiny hub that records the land system's callbacks; it knows one secret and can fail on order."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.fail_next = 0
        self.url = ""
        self.app = FastAPI()

        @self.app.post("/v1/ministry/land/hooks/{event}/{secret}")
        async def hook(event: str, secret: str, request: Request) -> JSONResponse:
            self.posts.append({"event": event, "secret": secret, "body": await request.json()})
            if secret != LAND_SECRET:
                return JSONResponse({"status": {"success": False, "code": "404", "message": "Không tìm thấy"}}, 404)
            if self.fail_next > 0:
                self.fail_next -= 1
                return JSONResponse({"status": {"success": False, "code": "503", "message": "Bận"}}, 503)
            return JSONResponse({"status": {"success": True, "code": "200", "message": "OK"}})

    def events(self) -> list[str]:
        return [post["event"] for post in self.posts]


@pytest.fixture(scope="module")
def hub() -> Iterator[StandInHub]:
    stand_in = StandInHub()
    with ThreadedServer(stand_in.app).start() as server:
        stand_in.url = server.url
        yield stand_in


@pytest.fixture(scope="module")
def server(hub: StandInHub) -> Iterator[str]:
    with ThreadedServer(create_app(hub_url=hub.url, pace=0)).start() as running:
        yield running.url


@pytest.fixture
def sim(server: str, hub: StandInHub) -> str:
    """The simulator's base URL, every sub-app reset (pace 0: states move only by the controls)."""
    for prefix in PREFIXES:
        http.post(f"{server}{prefix}/_sim/reset").raise_for_status()
    hub.posts.clear()
    hub.fail_next = 0
    return server


# -- civil status -------------------------------------------------------------------------------------


def civil_token(sim: str) -> dict[str, str]:
    answer = http.post(f"{sim}/hotich/api/token", json=CIVIL)
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def birth(code: str = "000.00.00.H49-240101-0001", record: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    data = {"hoTen": "Nguyễn Văn An", "ngaySinh": "01/01/2024", "gioiTinh": "1", "noiSinh": "Bệnh viện Bãi Cháy",
            "hoTenMe": "Trần Thị Bình"} if record is None else record
    return {"module": "LTKS", "maHoSoMCDT": code, "maHoSoLT": "lt-7f3a", "maDonVi": "000.00.00.H49",
            "ngayTiepNhan": "02/01/2024 08:30:00", "data": json.dumps(data, ensure_ascii=False),
            "fileDinhKem": [{"tenFile": "to-khai.pdf", "noiDung": b64(b"%PDF-1.4 to khai")}], **fields}


def nhan(sim: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = http.post(f"{sim}/hotich/api/NhanDKHT", json=body, headers=headers)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def test_the_registry_issues_a_token_only_for_the_right_credentials(sim: str) -> None:
    good = http.post(f"{sim}/hotich/api/token", json=CIVIL)
    assert good.status_code == 200 and good.json()["expiresIn"] == 1800 and good.json()["token"]
    bad = http.post(f"{sim}/hotich/api/token", json={**CIVIL, "password": "wrong"})
    assert bad.status_code == 401
    assert bad.json() == {"status": "0", "errorDescription": "Sai tên đăng nhập hoặc mật khẩu"}


def test_the_registry_takes_a_valid_birth_dossier(sim: str) -> None:
    assert nhan(sim, birth(), civil_token(sim)) == {"status": "1", "errorDescription": ""}
    state = http.get(f"{sim}/hotich/_sim/state").json()
    assert state["counters"]["received"] == 1
    assert state["dossiers"] == {"000.00.00.H49-240101-0001": {"module": "LTKS", "trangThai": 1}}
    assert "Nguyễn" not in json.dumps(state, ensure_ascii=False)  # never the record's content


def test_the_registry_answers_a_known_dossier_again_as_already_received(sim: str) -> None:
    headers = civil_token(sim)
    nhan(sim, birth(), headers)
    assert nhan(sim, birth(), headers) == {"status": "1", "errorDescription": "Hồ sơ đã được tiếp nhận trước đó"}
    counters = http.get(f"{sim}/hotich/_sim/state").json()["counters"]
    assert (counters["received"], counters["duplicates"]) == (1, 1)


@pytest.mark.parametrize(("change", "field"), [
    ({"ngayTiepNhan": "2024-01-02T08:30:00"}, "ngayTiepNhan"),
    ({"maDonVi": "H49"}, "maDonVi"),
    ({"module": "LTXX"}, "module"),
    ({"maHoSoLT": None}, "maHoSoLT"),
    ({"fileDinhKem": [{"tenFile": "a.pdf", "noiDung": "không phải base64"}]}, "fileDinhKem[0].noiDung"),
])
def test_the_registry_refuses_a_body_that_breaks_the_schema_naming_the_field(sim: str, change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**birth(), **change}.items() if v is not None}
    answer = nhan(sim, body, civil_token(sim))
    assert answer["status"] == "0" and field in answer["errorDescription"]
    assert http.get(f"{sim}/hotich/_sim/state").json()["counters"]["refused"] == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"hoTen": "An", "ngaySinh": "01/01/2024", "gioiTinh": "1", "noiSinh": "Hạ Long"}, "data.hoTenMe hoặc data.hoTenCha"),
    ({"hoTen": "An", "ngaySinh": "2024-01-01", "gioiTinh": "1", "noiSinh": "Hạ Long", "hoTenCha": "B"}, "data.ngaySinh"),
    ({"hoTen": "An", "ngaySinh": "31/02/2024", "gioiTinh": "1", "noiSinh": "Hạ Long", "hoTenCha": "B"}, "data.ngaySinh"),
    ({"hoTen": "An", "ngaySinh": "01/01/2024", "gioiTinh": "nam", "noiSinh": "Hạ Long", "hoTenCha": "B"}, "data.gioiTinh"),
])
def test_the_registry_refuses_a_birth_record_that_lacks_or_breaks_a_field_naming_it(sim: str, data: dict[str, Any], field: str) -> None:
    answer = nhan(sim, birth(record=data), civil_token(sim))
    assert answer["status"] == "0" and field in answer["errorDescription"]


def test_the_registry_refuses_data_that_is_not_a_json_object_string(sim: str) -> None:
    answer = nhan(sim, {**birth(), "data": "[1, 2]"}, civil_token(sim))
    assert answer == {"status": "0", "errorDescription": "Trường data phải là chuỗi JSON của một đối tượng"}


def test_the_registry_refuses_a_death_record_without_a_12_digit_personal_number(sim: str) -> None:
    record = {"hoTen": "Lê Văn C", "ngayChet": "05/03/2024", "noiChet": "Hạ Long", "soDinhDanh": "12345"}
    answer = nhan(sim, {**birth(), "module": "LTKT", "data": json.dumps(record)}, civil_token(sim))
    assert answer["status"] == "0" and "data.soDinhDanh" in answer["errorDescription"]


def test_the_registry_refuses_calls_without_a_token_or_with_an_expired_one(sim: str) -> None:
    headers = civil_token(sim)
    expected = {"status": "0", "errorDescription": "Token không hợp lệ hoặc đã hết hạn"}
    missing = http.post(f"{sim}/hotich/api/NhanDKHT", json=birth())
    assert (missing.status_code, missing.json()) == (401, expected)
    http.post(f"{sim}/hotich/_sim/faults", json={"expire_tokens": True}).raise_for_status()
    expired = http.post(f"{sim}/hotich/api/NhanDKHT", json=birth(), headers=headers)
    assert (expired.status_code, expired.json()) == (401, expected)


def test_a_busy_registry_answers_status_minus_one_over_http_200(sim: str) -> None:
    headers = civil_token(sim)
    http.post(f"{sim}/hotich/_sim/faults", json={"busy_next": 1}).raise_for_status()
    assert nhan(sim, birth(), headers) == {"status": "-1", "errorDescription": "Hệ thống đang bận, vui lòng thử lại sau"}
    assert nhan(sim, birth(), headers)["status"] == "1"


def test_a_registry_that_is_down_answers_503(sim: str) -> None:
    headers = civil_token(sim)
    http.post(f"{sim}/hotich/_sim/faults", json={"fail_next": 1}).raise_for_status()
    assert http.post(f"{sim}/hotich/api/NhanDKHT", json=birth(), headers=headers).status_code == 503


def lay_ket_qua(sim: str, headers: dict[str, str], *codes: str) -> list[dict[str, Any]]:
    answer = http.post(f"{sim}/hotich/api/LayKetQua", json={"maDinhDanhHoSo": list(codes), "maTinh": "22", "module": "LTKS"},
                        headers=headers)
    assert answer.status_code == 200
    result: list[dict[str, Any]] = answer.json()
    return result


def test_lay_ket_qua_reports_each_state_set_by_advance_and_omits_unknown_codes(sim: str) -> None:
    headers = civil_token(sim)
    nhan(sim, birth("HS-1"), headers)
    nhan(sim, birth("HS-2"), headers)
    first = lay_ket_qua(sim, headers, "HS-1", "HS-unknown")
    assert [item["maDinhDanhHoSo"] for item in first] == ["HS-1"] and first[0]["trangThai"] == 1
    assert first[0]["noiDungXuLy"] == "Đã tiếp nhận hồ sơ"
    datetime.strptime(first[0]["thoiGianThucHien"], "%d/%m/%Y %H:%M:%S")
    http.post(f"{sim}/hotich/_sim/advance", json={"maHoSoMCDT": "HS-1", "trangThai": 3}).raise_for_status()
    http.post(f"{sim}/hotich/_sim/advance", json={"maHoSoMCDT": "HS-2", "trangThai": 6, "noiDungXuLy": "Từ chối: sai tên"})
    items = {item["maDinhDanhHoSo"]: item for item in lay_ket_qua(sim, headers, "HS-1", "HS-2")}
    assert (items["HS-1"]["trangThai"], items["HS-1"]["noiDungXuLy"]) == (3, "Đang xử lý")
    assert (items["HS-2"]["trangThai"], items["HS-2"]["noiDungXuLy"]) == (6, "Từ chối: sai tên")
    assert "fileKetQua" not in items["HS-1"]


def test_the_result_file_of_a_registered_dossier_has_the_digest_ma_bam_names(sim: str) -> None:
    headers = civil_token(sim)
    nhan(sim, birth("HS-1"), headers)
    http.post(f"{sim}/hotich/_sim/advance", json={"maHoSoMCDT": "HS-1", "trangThai": 4}).raise_for_status()
    [item] = lay_ket_qua(sim, headers, "HS-1")
    assert item["trangThai"] == 4 and item["soDangKy"] and item["noiDungXuLy"] == "Đã có kết quả đăng ký khai sinh"
    [result] = item["fileKetQua"]
    assert result["duongDan"].startswith(f"{sim}/hotich/files/") and result["tenFile"].endswith(".pdf")
    content = http.get(result["duongDan"]).content
    assert content.startswith(b"%PDF") and hashlib.sha256(content).hexdigest() == result["maBam"]


def test_lay_ket_qua_refuses_more_than_100_codes_naming_the_field(sim: str) -> None:
    answer = http.post(f"{sim}/hotich/api/LayKetQua", json={"maDinhDanhHoSo": [str(i) for i in range(101)], "maTinh": "22",
                                                           "module": "LTKS"}, headers=civil_token(sim)).json()
    assert answer["status"] == "0" and "maDinhDanhHoSo" in answer["errorDescription"]


def test_on_the_pace_a_dossier_moves_1_3_4_and_reject_next_sends_one_to_6(sim: str) -> None:
    headers = civil_token(sim)
    http.post(f"{sim}/hotich/_sim/faults", json={"reject_next": 1}).raise_for_status()
    nhan(sim, birth("HS-rejected"), headers)
    nhan(sim, birth("HS-ok"), headers)
    http.post(f"{sim}/hotich/_sim/pace", json={"seconds": 0.05}).raise_for_status()

    def states() -> dict[str, int] | None:
        found = {item["maDinhDanhHoSo"]: item["trangThai"] for item in lay_ket_qua(sim, headers, "HS-rejected", "HS-ok")}
        return found if found["HS-ok"] == 4 else None

    assert wait_until(states, 5, what="HS-ok at 4") == {"HS-rejected": 6, "HS-ok": 4}


# -- land ---------------------------------------------------------------------------------------------


def land_token(sim: str) -> dict[str, str]:
    answer = http.post(f"{sim}/dat/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic("lienthong", "sandbox-land-client-secret"))
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer" and answer.json()["expires_in"] == 3600
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def land_dossier(code: str = "000.00.00.H49-240101-0002", **fields: Any) -> dict[str, Any]:
    return {"maHoSo": code, "maThuTuc": "1.004227", "tenThuTuc": "Đăng ký biến động quyền sử dụng đất",
            "ngayNhan": "2024-01-02T08:30:00", "nguoiNop": {"hoTen": "Phạm Thị Dung", "soGiayTo": "022190000123"},
            "thuaDat": [{"soTo": "12", "soThua": "345", "diaChi": "Phường Bãi Cháy, Hạ Long"}],
            "tepDinhKem": [{"tenTep": "don.pdf", "noiDung": b64(b"%PDF don")}], **fields}


def land_call(sim: str, name: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = http.post(f"{sim}/dat/api/{name}", json=body, headers=headers)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def test_land_issues_tokens_only_to_its_oauth_client(sim: str) -> None:
    land_token(sim)
    bad = http.post(f"{sim}/dat/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("lienthong", "wrong"))
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
    refused = http.post(f"{sim}/dat/api/tiepnhan", json=land_dossier())
    assert refused.status_code == 401
    assert refused.json() == {"data": None, "status": {"success": False, "code": "401", "message": "Unauthorized"}}


def test_land_takes_a_dossier_and_answers_a_repeat_with_the_same_land_id(sim: str) -> None:
    headers = land_token(sim)
    first = land_call(sim, "tiepnhan", land_dossier(), headers)
    assert first["status"] == {"success": True, "code": "200", "message": "Tiếp nhận thành công"}
    again = land_call(sim, "tiepnhan", land_dossier(), headers)
    assert again == first and first["data"]["maHoSoDat"]
    counters = http.get(f"{sim}/dat/_sim/state").json()["counters"]
    assert (counters["received"], counters["duplicates"]) == (1, 1)


@pytest.mark.parametrize(("change", "field"), [
    ({"ngayNhan": "02/01/2024 08:30:00"}, "ngayNhan"),
    ({"ngayNhan": "2024-01-02T08:30:00+07:00"}, "ngayNhan"),
    ({"thuaDat": []}, "thuaDat"),
    ({"nguoiNop": {"hoTen": "Phạm Thị Dung"}}, "nguoiNop.soGiayTo"),
    ({"tepDinhKem": [{"tenTep": "a", "noiDung": "@@"}]}, "tepDinhKem[0].noiDung"),
])
def test_land_answers_an_invalid_dossier_with_success_false_code_400_naming_the_field(
        sim: str, change: dict[str, Any], field: str) -> None:
    answer = land_call(sim, "tiepnhan", land_dossier(**change), land_token(sim))
    assert answer["data"] is None and answer["status"]["success"] is False and answer["status"]["code"] == "400"
    assert field in answer["status"]["message"]


def test_land_updates_of_an_unknown_dossier_are_code_404(sim: str) -> None:
    answer = land_call(sim, "capnhattrangthaitraketquahoso", {"maHoSo": "khong-co", "ngayTra": "2024-01-03T09:00:00"},
                       land_token(sim))
    assert answer["status"] == {"success": False, "code": "404", "message": "Không tìm thấy hồ sơ"}


def test_a_busy_land_system_answers_code_503_over_http_200(sim: str) -> None:
    headers = land_token(sim)
    http.post(f"{sim}/dat/_sim/faults", json={"busy_next": 1}).raise_for_status()
    assert land_call(sim, "tiepnhan", land_dossier(), headers)["status"] == {
        "success": False, "code": "503", "message": "Hệ thống đang bảo trì"}


def test_a_land_callback_reaches_the_hub_at_its_event_path_with_the_secret(sim: str, hub: StandInHub) -> None:
    land_call(sim, "tiepnhan", land_dossier("HS-9"), land_token(sim))
    answer = http.post(f"{sim}/dat/_sim/callback", json={"maHoSo": "HS-9", "event": "ChuyenHoSo"}).json()
    assert answer == {"status": 200, "body": {"status": {"success": True, "code": "200", "message": "OK"}}}
    [post] = hub.posts
    assert (post["event"], post["secret"]) == ("ChuyenHoSo", LAND_SECRET)
    assert post["body"]["maHoSo"] == "HS-9" and post["body"]["canBoXuLy"] and post["body"]["noiDung"]
    datetime.strptime(post["body"]["thoiGian"], "%Y-%m-%dT%H:%M:%S")
    events = http.get(f"{sim}/dat/_sim/state").json()["dossiers"]["HS-9"]["events"]
    assert events == [{"event": "ChuyenHoSo", "attempt": 1, "status": 200, "outcome": "ok"}]


def test_a_land_callback_with_a_wrong_secret_override_is_refused_by_the_hub(sim: str, hub: StandInHub) -> None:
    land_call(sim, "tiepnhan", land_dossier("HS-9"), land_token(sim))
    answer = http.post(f"{sim}/dat/_sim/callback", json={"maHoSo": "HS-9", "event": "KetThucHoSo", "secret": "sai"}).json()
    assert answer["status"] == 404 and answer["body"]["status"]["success"] is False
    assert hub.posts[0]["secret"] == "sai"


def test_on_the_pace_land_pushes_its_steps_in_order_waiting_for_the_supplement(sim: str, hub: StandInHub) -> None:
    headers = land_token(sim)
    http.post(f"{sim}/dat/_sim/faults", json={"supplement_next": 1, "tax_next": 1}).raise_for_status()
    land_call(sim, "tiepnhan", land_dossier("HS-9"), headers)
    http.post(f"{sim}/dat/_sim/pace", json={"seconds": 0.05}).raise_for_status()
    wait_until(lambda: "YeuCauBoSungHoSo" in hub.events(), 5, what="YeuCauBoSungHoSo")
    assert hub.events() == ["ChuyenHoSo", "YeuCauBoSungHoSo"]
    supplement = {"maHoSo": "HS-9", "ngayBoSung": "2024-01-05T10:00:00", "noiDung": "Bổ sung bản sao sổ đỏ", "tepDinhKem": []}
    assert land_call(sim, "capnhattrangthaibosunghoso", supplement, headers)["status"]["success"] is True
    wait_until(lambda: "KetThucHoSo" in hub.events(), 5, what="KetThucHoSo")
    assert hub.events() == ["ChuyenHoSo", "YeuCauBoSungHoSo", "NhanBoSungHoSo", "GuiKetQuaThue", "KetThucHoSo"]
    tax, done = hub.posts[3]["body"], hub.posts[4]["body"]
    assert isinstance(tax["soTien"], int) and done["soGiayChungNhan"]
    [result] = done["tepKetQua"]
    assert result["duongDan"].startswith(f"{sim}/dat/files/")
    assert hashlib.sha256(http.get(result["duongDan"]).content).hexdigest() == result["maBam"]


def test_a_failed_land_callback_is_retried_on_the_pace_each_attempt_recorded(sim: str, hub: StandInHub) -> None:
    land_call(sim, "tiepnhan", land_dossier("HS-9"), land_token(sim))
    hub.fail_next = 2
    http.post(f"{sim}/dat/_sim/pace", json={"seconds": 0.05}).raise_for_status()

    def recorded() -> list[dict[str, Any]] | None:  # the hub has the post before the simulator has its answer
        events: list[dict[str, Any]] = http.get(f"{sim}/dat/_sim/state").json()["dossiers"]["HS-9"]["events"]
        return events if events and events[-1]["event"] == "KetThucHoSo" else None

    events = wait_until(recorded, 5, what="KetThucHoSo recorded")
    assert [(e["event"], e["attempt"], e["status"], e["outcome"]) for e in events] == [
        ("ChuyenHoSo", 1, 503, "failed"), ("ChuyenHoSo", 2, 503, "failed"), ("ChuyenHoSo", 3, 200, "ok"),
        ("KetThucHoSo", 1, 200, "ok")]


# -- SOAP ---------------------------------------------------------------------------------------------


def soap_client(sim: str, password: str = SOAP_PASSWORD, **token: Any) -> zeep.Client:
    return zeep.Client(f"{sim}/soap/hoso?wsdl", wsse=UsernameToken(SOAP_USER, password, use_digest=True, **token))


def submit(client: zeep.Client, code: str = "HS-S1", **fields: Any) -> Any:
    values = {"maHoSo": code, "maThuTuc": "1.000001", "tenThuTuc": "Thủ tục thử nghiệm", "hoTenNguoiNop": "Hoàng Văn Em",
              "ngayNhan": datetime(2024, 1, 2, 8, 30), "tepDinhKem": [{"tenTep": "don.pdf", "noiDung": b"%PDF don"}], **fields}
    return client.service.NhanHoSo(**values)


def test_the_wsdl_names_this_server_as_the_service_address(sim: str) -> None:
    text = http.get(f"{sim}/soap/hoso?wsdl").text
    assert f'<soap:address location="{sim}/soap/hoso"/>' in text
    assert http.get(f"{sim}/soap/hoso").status_code == 404


def test_nhan_ho_so_with_a_username_token_digest_succeeds_and_again_is_da_ton_tai(sim: str) -> None:
    client = soap_client(sim)
    first = submit(client)
    assert first.ketQua == "OK" and first.maBienNhan
    again = submit(client)
    assert (again.ketQua, again.maBienNhan) == ("DA_TON_TAI", first.maBienNhan)
    status = client.service.LayTrangThai(maHoSo="HS-S1")
    assert (status.maHoSo, status.trangThai, status.moTa) == ("HS-S1", 1, "Đã tiếp nhận hồ sơ")
    assert status.thoiGian.utcoffset() == timedelta(hours=7)
    assert http.get(f"{sim}/soap/_sim/state").json()["received"] == ["HS-S1"]


def test_a_password_text_username_token_is_accepted(sim: str) -> None:
    client = zeep.Client(f"{sim}/soap/hoso?wsdl", wsse=UsernameToken(SOAP_USER, SOAP_PASSWORD))
    assert submit(client).ketQua == "OK"


def test_a_wrong_password_is_a_failed_authentication_fault(sim: str) -> None:
    with pytest.raises(Fault) as refused:
        submit(soap_client(sim, "wrong"))
    assert refused.value.code == "wsse:FailedAuthentication"


def test_a_request_without_a_security_header_is_a_failed_authentication_fault(sim: str) -> None:
    with pytest.raises(Fault) as refused:
        submit(zeep.Client(f"{sim}/soap/hoso?wsdl"))
    assert refused.value.code == "wsse:FailedAuthentication"


def test_a_replayed_nonce_is_refused(sim: str) -> None:
    client = soap_client(sim, nonce="the-same-nonce-twice")
    assert submit(client, "HS-A").ketQua == "OK"
    with pytest.raises(Fault) as refused:
        submit(client, "HS-B")
    assert refused.value.code == "wsse:FailedAuthentication" and "Nonce" in refused.value.message
    assert http.get(f"{sim}/soap/_sim/state").json()["counters"]["replays"] == 1


def test_a_digest_created_more_than_5_minutes_ago_is_refused(sim: str) -> None:
    with pytest.raises(Fault) as refused:
        submit(soap_client(sim, created=datetime.now(timezone.utc) - timedelta(minutes=6)))
    assert refused.value.code == "wsse:FailedAuthentication"


def test_a_busy_ministry_answers_a_soap_server_fault(sim: str) -> None:
    http.post(f"{sim}/soap/_sim/faults", json={"busy_next": 1}).raise_for_status()
    with pytest.raises(Fault) as refused:
        submit(soap_client(sim))
    assert (refused.value.code, refused.value.message) == ("soap:Server", "Hệ thống tạm thời không phục vụ")
    assert submit(soap_client(sim)).ketQua == "OK"


def test_an_empty_ma_ho_so_is_a_client_fault_naming_it(sim: str) -> None:
    with pytest.raises(Fault) as refused:
        submit(soap_client(sim), "")
    assert (refused.value.code, refused.value.message) == ("soap:Client", "Thiếu mã hồ sơ")


def test_a_body_that_is_not_xml_is_a_client_fault(sim: str) -> None:
    answer = http.post(f"{sim}/soap/hoso", content=b"{not xml", headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500 and b"<faultcode>soap:Client</faultcode>" in answer.content


def test_a_soap_ministry_that_is_down_answers_503_in_plain_text(sim: str) -> None:
    http.post(f"{sim}/soap/_sim/faults", json={"down": True}).raise_for_status()
    answer = http.post(f"{sim}/soap/hoso", content=b"<x/>")
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/plain")


def test_on_the_pace_a_soap_dossier_moves_1_2_9(sim: str) -> None:
    client = soap_client(sim)
    submit(client)
    http.post(f"{sim}/soap/_sim/pace", json={"seconds": 0.05}).raise_for_status()
    wait_until(lambda: http.get(f"{sim}/soap/_sim/state").json()["dossiers"]["HS-S1"]["trangThai"] == 9, 5, what="state 9")
    assert client.service.LayTrangThai(maHoSo="HS-S1").moTa == "Đã hoàn thành"


# -- generic ------------------------------------------------------------------------------------------


def configure(sim: str, **config: Any) -> None:
    http.post(f"{sim}/generic/_sim/config", json=config).raise_for_status()


def credentials(sim: str, auth: str, right: bool) -> dict[str, str]:
    """Headers carrying the right (or wrong) credentials of an auth style."""
    if auth == "api_key":
        return {"X-API-Key": "generic-key" if right else "wrong"}
    if auth == "basic":
        return basic("lienthong", "generic-password" if right else "wrong")
    if auth == "bearer":
        token = http.post(f"{sim}/generic/oauth/token", data={"grant_type": "client_credentials", "scope": "hoso"},
                           headers=basic("lienthong", "generic-secret"))
        assert token.json()["scope"] == "hoso" and token.json()["token_type"] == "Bearer"
        return {"Authorization": f"Bearer {token.json()['access_token'] if right else 'forged'}"}
    session = http.post(f"{sim}/generic/login", json={"username": "lienthong", "password": "generic-password"})
    assert session.json()["ttl"] == 600
    return {"X-Session": session.json()["session"] if right else "forged"}


@pytest.mark.parametrize("auth", ["api_key", "basic", "bearer", "session"])
def test_each_generic_auth_style_accepts_the_right_credentials_and_refuses_wrong_ones(sim: str, auth: str) -> None:
    configure(sim, auth=auth)
    good = http.post(f"{sim}/generic/inbox/hoso", json={"a": 1}, headers=credentials(sim, auth, True))
    assert (good.status_code, good.json()) == (200, {"ok": True, "id": "1"})
    bad = http.post(f"{sim}/generic/inbox/hoso", json={"a": 1}, headers=credentials(sim, auth, False))
    assert (bad.status_code, bad.json()) == (401, {"error": "unauthorized"})
    assert http.get(f"{sim}/generic/feed", headers=credentials(sim, auth, False)).status_code == 401
    assert http.get(f"{sim}/generic/feed", headers=credentials(sim, auth, True)).status_code == 200


def test_generic_wrong_client_or_login_credentials_are_401(sim: str) -> None:
    token = http.post(f"{sim}/generic/oauth/token", data={"grant_type": "client_credentials", "client_id": "lienthong",
                                                         "client_secret": "wrong"})
    assert (token.status_code, token.json()) == (401, {"error": "unauthorized"})
    by_form = http.post(f"{sim}/generic/oauth/token", data={"grant_type": "client_credentials", "client_id": "lienthong",
                                                           "client_secret": "generic-secret"})
    assert by_form.status_code == 200
    assert http.post(f"{sim}/generic/login", json={"username": "lienthong", "password": "x"}).status_code == 401


def test_expire_tokens_forgets_generic_tokens_and_sessions(sim: str) -> None:
    configure(sim, auth="session")
    headers = credentials(sim, "session", True)
    http.post(f"{sim}/generic/_sim/faults", json={"expire_tokens": True}).raise_for_status()
    assert http.put(f"{sim}/generic/inbox/x", content=b"{}", headers=headers).status_code == 401


def test_scripted_answers_come_back_in_order_then_the_default(sim: str) -> None:
    script = [{"status": 503, "body": "Bảo trì", "content_type": "text/plain; charset=utf-8"},
              {"status": 200, "body": '{"maLoi": "00", "moTa": "Thành công"}'}]
    http.post(f"{sim}/generic/_sim/script", json=script).raise_for_status()
    answers = [http.put(f"{sim}/generic/inbox/a/b", content=b"x") for _ in range(3)]
    assert (answers[0].status_code, answers[0].text, answers[0].headers["content-type"]) == (503, "Bảo trì", "text/plain; charset=utf-8")
    assert (answers[1].status_code, answers[1].json()) == (200, {"maLoi": "00", "moTa": "Thành công"})
    assert answers[2].json() == {"ok": True, "id": "1"}


def test_recorded_inbox_requests_say_only_whether_credentials_were_present(sim: str) -> None:
    configure(sim, auth="api_key", api_key_header="X-Ma-Khoa", api_key="k-123")
    http.post(f"{sim}/generic/inbox/hoso?v=2", content="Xin chào".encode(), headers={"X-Ma-Khoa": "k-123", "X-Trace": "t1"})
    [recorded] = http.get(f"{sim}/generic/_sim/requests").json()
    assert (recorded["method"], recorded["path"], recorded["query"], recorded["body"]) == ("POST", "/generic/inbox/hoso", "v=2",
                                                                                            "Xin chào")
    assert recorded["headers"]["x-trace"] == "t1" and "x-ma-khoa" not in recorded["headers"]
    assert recorded["credentials"] == {"x-ma-khoa": True} and "k-123" not in json.dumps(recorded)
    http.post(f"{sim}/generic/_sim/reset").raise_for_status()
    assert http.get(f"{sim}/generic/_sim/requests").json() == []


def test_the_generic_feed_pages_after_a_cursor(sim: str) -> None:
    http.post(f"{sim}/generic/_sim/events", json=[{"maHoSo": f"HS-{i}", "trangThai": i} for i in range(1, 6)]).raise_for_status()
    first = http.get(f"{sim}/generic/feed", params={"limit": 2}).json()
    assert [e["id"] for e in first["events"]] == [1, 2] and first["next"] == 2 and first["events"][0]["maHoSo"] == "HS-1"
    rest = http.get(f"{sim}/generic/feed", params={"after": first["next"], "limit": 10}).json()
    assert [e["id"] for e in rest["events"]] == [3, 4, 5] and rest["next"] == 5
    assert http.get(f"{sim}/generic/feed", params={"after": 5}).json() == {"events": [], "next": 5}


def test_a_generic_push_posts_to_the_hub_and_returns_its_answer(sim: str, hub: StandInHub) -> None:
    url = f"{hub.url}/v1/ministry/land/hooks/ChuyenHoSo/{LAND_SECRET}"
    answer = http.post(f"{sim}/generic/_sim/push", json={"url": url, "body": {"maHoSo": "G-1"}, "headers": {"X-A": "1"}}).json()
    assert answer == {"status": 200, "body": {"status": {"success": True, "code": "200", "message": "OK"}}}
    assert hub.posts[0]["body"] == {"maHoSo": "G-1"}


# -- the whole server, its schemas and its command ------------------------------------------------------------


def test_the_root_state_gathers_each_simulator(sim: str) -> None:
    state = http.get(f"{sim}/_sim/state").json()
    assert set(state) == {"civil_status", "land", "soap", "generic"}
    assert state["civil_status"]["counters"]["received"] == 0 and state["generic"]["auth"] == "none"


@pytest.mark.parametrize("path", sorted(WIRE.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_wire_schema_is_a_strict_draft_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema" and schema["additionalProperties"] is False
    assert not validator(path.name.removesuffix(".schema.json")).is_valid({})


def test_the_sample_bodies_of_these_tests_match_the_wire_schemas() -> None:
    assert validator("NhanDKHT").is_valid(birth())
    assert validator("NhanDKHT", "LTKS").is_valid(json.loads(birth()["data"]))
    assert validator("tiepnhan").is_valid(land_dossier())


def test_the_command_takes_its_secrets_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    code = "import typer; from connectors.ministry_apps.sim_command import ministry_simulator; typer.run(ministry_simulator)"
    env = {**os.environ, "MINISTRY_SIM_CIVIL_PASSWORD": "from-the-environment"}
    process = Process(["-c", code, "--port", str(port), "--pace", "0"], env, tmp_path / "sim.log").start()
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}"
        assert http.post(f"{url}/hotich/api/token", json=CIVIL).status_code == 401
        assert http.post(f"{url}/hotich/api/token", json={**CIVIL, "password": "from-the-environment"}).status_code == 200
        assert http.get(f"{url}/_sim/state").json()["soap"]["pace"] == 0
    finally:
        process.stop()
