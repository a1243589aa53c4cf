"""Error paths of DvcClient, with the adapter mocked by respx (the happy paths run against the simulator)."""

from __future__ import annotations

import json
import logging
from typing import Iterator

import httpx
import pytest
import respx
from national_dvc_samples import code, status_changed, submitted

from connectors.national_dvc.client import (
    AlreadyExistsError,
    DvcClient,
    PermanentError,
    TransientError,
)
from connectors.national_dvc.mapping import to_wire
from connectors.national_dvc.wire import HoSoUpdate
from hub.messages.codes import DossierStatus

URL = "http://dvc.test/adapter"
PASSWORD = "mat-khau-bi-mat"
SESSION = "phien-bi-mat-1"
LOGIN_OK = {"session": SESSION, "error_code": 0}


@pytest.fixture
def adapter() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=URL, assert_all_called=False) as router:
        router.post("/login").respond(json=LOGIN_OK)
        yield router


@pytest.fixture
def client() -> Iterator[DvcClient]:
    dvc = DvcClient(URL, "lienthong", PASSWORD, "000.00.00.H49", timeout=1.0)
    yield dvc
    dvc.close()


def add_record() -> list[HoSoUpdate]:
    return [to_wire(submitted(code())).record]


def test_timeout_is_transient(adapter: respx.MockRouter, client: DvcClient) -> None:
    adapter.post("/DongBoHoSoMC").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="timed out"):
        client.sync_dossiers(add_record(), updating=False)


def test_connection_refused_is_transient_after_one_quick_retry(adapter: respx.MockRouter, client: DvcClient) -> None:
    route = adapter.post("/DongBoHoSoMC").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError, match="connection failed"):
        client.sync_dossiers(add_record(), updating=False)
    assert route.call_count == 2


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_server_errors_and_throttling_are_transient(adapter: respx.MockRouter, client: DvcClient, status: int) -> None:
    adapter.post("/DongBoHoSoMC").respond(status, text="Service Unavailable")
    with pytest.raises(TransientError) as error:
        client.sync_dossiers(add_record(), updating=False)
    assert error.value.http_status == status


@pytest.mark.parametrize("status", [400, 403, 404, 413])
def test_other_client_errors_are_permanent(adapter: respx.MockRouter, client: DvcClient, status: int) -> None:
    adapter.post("/DongBoHoSoMC").respond(status, text="Bad Request: thiếu trường")
    with pytest.raises(PermanentError, match="thiếu trường"):
        client.sync_dossiers(add_record(), updating=False)


def test_internal_error_99_is_transient(adapter: respx.MockRouter, client: DvcClient) -> None:
    adapter.post("/CapNhatTienDoHoSoMC").respond(json={"error_code": "99", "message": "Lỗi hệ thống"})
    with pytest.raises(TransientError, match="Lỗi hệ thống"):
        client.update_progress([to_wire(status_changed(code(), DossierStatus.ACCEPTED)).record])


def test_validation_rejection_is_permanent_with_the_partners_reason(adapter: respx.MockRouter, client: DvcClient) -> None:
    reason = f"Hồ sơ {code()} (data[0]): trường NgayTiepNhan không hợp lệ (quy tắc pattern)"
    adapter.post("/DongBoHoSoMC").respond(json={"error_code": "02", "message": reason})
    with pytest.raises(PermanentError) as error:
        client.sync_dossiers(add_record(), updating=False)
    assert reason in error.value.reason and error.value.error_code == "02"


def test_unknown_dossier_is_permanent(adapter: respx.MockRouter, client: DvcClient) -> None:
    adapter.post("/CapNhatTienDoHoSoMC").respond(json={"error_code": "04", "message": f"Không tìm thấy hồ sơ {code()}"})
    with pytest.raises(PermanentError, match="Không tìm thấy"):
        client.update_progress([to_wire(status_changed(code(), DossierStatus.ACCEPTED)).record])


def test_expired_session_leads_to_one_relogin_then_success(adapter: respx.MockRouter, client: DvcClient) -> None:
    login = adapter.post("/login").mock(
        side_effect=[httpx.Response(200, json=LOGIN_OK), httpx.Response(200, json={"session": "phien-2", "error_code": "00"})]
    )
    service = adapter.post("/DongBoHoSoMC").mock(
        side_effect=[
            httpx.Response(200, json={"error_code": "01", "message": "Phiên làm việc đã hết hạn"}),
            httpx.Response(200, json={"error_code": "00", "message": "Thành công"}),
        ]
    )

    answer = client.sync_dossiers(add_record(), updating=False)

    assert answer.ok
    assert login.call_count == 2 and service.call_count == 2
    assert [json.loads(c.request.content)["session"] for c in service.calls] == [SESSION, "phien-2"]


def test_session_still_invalid_after_relogin_is_transient(adapter: respx.MockRouter, client: DvcClient) -> None:
    login = adapter.post("/login").respond(json=LOGIN_OK)
    adapter.post("/DongBoHoSoMC").respond(json={"error_code": "01", "message": "Phiên không hợp lệ"})
    with pytest.raises(TransientError, match="still invalid"):
        client.sync_dossiers(add_record(), updating=False)
    assert login.call_count == 2  # one re-login, not a loop


def test_refused_login_is_transient(adapter: respx.MockRouter, client: DvcClient) -> None:
    adapter.post("/login").respond(json={"session": None, "error_code": "01", "message": "Sai mật khẩu"})
    with pytest.raises(TransientError, match="login refused"):
        client.sync_dossiers(add_record(), updating=False)


def test_add_answered_already_exists_is_resent_as_update(adapter: respx.MockRouter, client: DvcClient) -> None:
    def portal(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["isUpdating"] == "False":
            return httpx.Response(200, json={"error_code": "03", "message": f"Hồ sơ {code()} đã tồn tại"})
        return httpx.Response(200, json={"error_code": "00", "message": "Cập nhật thành công"})

    service = adapter.post("/DongBoHoSoMC").mock(side_effect=portal)

    answer = client.sync_dossiers(add_record(), updating=False)

    assert answer.ok and "đã tồn tại" in answer.message
    sent = [json.loads(c.request.content) for c in service.calls]
    assert [b["isUpdating"] for b in sent] == ["False", "True"]
    assert sent[0]["data"] == sent[1]["data"]


def test_already_exists_in_a_multi_record_add_is_left_to_the_caller(adapter: respx.MockRouter, client: DvcClient) -> None:
    adapter.post("/DongBoHoSoMC").respond(json={"error_code": "03", "message": f"Hồ sơ {code(1)} đã tồn tại"})
    records = [to_wire(submitted(code(n))).record for n in (1, 2)]
    with pytest.raises(AlreadyExistsError):
        client.sync_dossiers(records, updating=False)


def test_password_and_session_are_never_logged(
    adapter: respx.MockRouter, client: DvcClient, caplog: pytest.LogCaptureFixture
) -> None:
    adapter.post("/DongBoHoSoMC").mock(
        side_effect=[
            httpx.Response(200, json={"error_code": "01", "message": "hết hạn"}),
            httpx.Response(200, json={"error_code": "02", "message": "sai"}),
        ]
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentError) as error:
        client.sync_dossiers(add_record(), updating=False)
    logged = caplog.text + repr(client) + str(error.value)
    assert PASSWORD not in logged and SESSION not in logged
    assert "logged in" in caplog.text
