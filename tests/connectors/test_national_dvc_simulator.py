"""NationalDvcConnector against the simulator over real HTTP (no mocks)."""

from __future__ import annotations

from typing import Any, Callable

import httpx
from national_dvc_samples import (
    code,
    fee_notice,
    payment_confirmed,
    result_issued,
    status_changed,
    submitted,
)

from connectors.national_dvc.connector import NationalDvcConnector
from hub.messages.codes import DossierStatus
from hub.plugins import manifest
from hub.seam import Connector

MakeConnector = Callable[..., NationalDvcConnector]


def sim_state(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_sim/state").json()


def sim_dossier(url: str, dossier_code: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_sim/dossiers/{dossier_code}").json()


def inject(url: str, **faults: Any) -> None:
    httpx.post(f"{url}/_sim/faults", json=faults).raise_for_status()


def test_submitted_dossier_then_status_changes_arrive_in_order(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    dossier = code(1)
    messages = [
        submitted(dossier),
        status_changed(dossier, DossierStatus.ACCEPTED, minutes=10, content="Tiếp nhận hồ sơ hợp lệ"),
        status_changed(dossier, DossierStatus.IN_PROGRESS, minutes=20, content="Chuyển phòng Tư pháp thẩm định"),
        status_changed(dossier, DossierStatus.DONE, minutes=30, content="Đã ký giấy khai sinh"),
    ]

    outcomes = dvc_connector().deliver(messages)

    assert [o.kind for o in outcomes] == ["ok"] * 4
    held = sim_dossier(dvc_sim, dossier)
    assert held["dossier"]["TenTTHC"] == "Đăng ký khai sinh"
    assert held["dossier"]["ChuHoSo"] == "Nguyễn Thị Hồng Nhung"
    assert [p["TrangThai"] for p in held["progress"]] == ["2", "4", "9"]
    calls = sim_state(dvc_sim)["counters"]["calls"]
    assert (calls["DongBoHoSoMC"], calls["CapNhatTienDoHoSoMC"]) == (1, 1)  # one call per run


def test_consecutive_records_of_one_call_go_in_chunks_of_ten(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    outcomes = dvc_connector().deliver([submitted(code(n)) for n in range(1, 13)])

    assert [o.kind for o in outcomes] == ["ok"] * 12
    state = sim_state(dvc_sim)
    assert state["counters"]["calls"]["DongBoHoSoMC"] == 2
    assert len(state["dossiers"]) == 12


def test_resent_progress_entry_has_one_effect(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    dossier = code(2)
    step = status_changed(dossier, DossierStatus.ACCEPTED)
    connector = dvc_connector()

    first = connector.deliver([submitted(dossier), step])
    again = connector.deliver([step])

    assert [o.kind for o in first + again] == ["ok", "ok", "ok"]
    progress = sim_dossier(dvc_sim, dossier)["progress"]
    assert len(progress) == 1
    assert progress[0]["received"] == 2
    assert sim_state(dvc_sim)["counters"]["duplicates"] == 1


def test_expired_session_is_cured_by_one_relogin(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    dossier = code(3)
    connector = dvc_connector()
    assert connector.deliver([submitted(dossier)])[0].kind == "ok"

    inject(dvc_sim, expire_sessions=True)
    outcome = connector.deliver([status_changed(dossier, DossierStatus.ACCEPTED)])[0]

    assert outcome.kind == "ok"
    assert sim_state(dvc_sim)["counters"]["calls"]["login"] == 2
    assert len(sim_dossier(dvc_sim, dossier)["progress"]) == 1


def test_failed_call_makes_its_run_and_everything_after_it_transient(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    dossier = code(4)
    connector = dvc_connector()
    connector.deliver([submitted(code(99))])  # logged in
    inject(dvc_sim, fail_next=1)

    outcomes = connector.deliver([submitted(dossier), status_changed(dossier, DossierStatus.ACCEPTED)])

    assert [o.kind for o in outcomes] == ["transient", "transient"]
    assert "503" in outcomes[0].detail
    assert sim_state(dvc_sim)["counters"]["calls"]["CapNhatTienDoHoSoMC"] == 0  # nothing sent past the failure
    retried = connector.deliver([submitted(dossier), status_changed(dossier, DossierStatus.ACCEPTED)])
    assert [o.kind for o in retried] == ["ok", "ok"]


def test_partner_down_gives_transient_outcomes(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    inject(dvc_sim, down=True)
    outcomes = dvc_connector().deliver([submitted(code(5)), submitted(code(6))])
    assert [o.kind for o in outcomes] == ["transient", "transient"]
    assert sim_state(dvc_sim)["dossiers"] == {}


def test_hung_call_past_the_client_timeout_is_transient(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    connector = dvc_connector(timeout=0.5)
    connector.deliver([submitted(code(98))])  # logged in
    inject(dvc_sim, hang_next=1)

    outcome = connector.deliver([submitted(code(7))])[0]

    assert outcome.kind == "transient"
    assert "timed out" in outcome.detail
    assert connector.deliver([submitted(code(7))])[0].kind == "ok"


def test_rejected_record_is_permanent_only_for_itself_in_a_batch(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    good_1, bad, good_2 = code(8), code(9), code(10)
    inject(dvc_sim, reject_dossiers=[bad])

    outcomes = dvc_connector().deliver([submitted(good_1), submitted(bad), submitted(good_2)])

    assert [o.kind for o in outcomes] == ["ok", "permanent", "ok"]
    assert bad in outcomes[1].detail and "MaHoSo" in outcomes[1].detail
    assert sorted(sim_state(dvc_sim)["dossiers"]) == [good_1, good_2]


def test_progress_for_a_dossier_the_portal_lacks_is_permanent(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    outcome = dvc_connector().deliver([status_changed(code(11), DossierStatus.ACCEPTED)])[0]
    assert outcome.kind == "permanent"
    assert "04" in outcome.detail and code(11) in outcome.detail


def test_add_of_an_existing_dossier_is_resent_as_update(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    existing, fresh = code(12), code(13)
    connector = dvc_connector()
    connector.deliver([submitted(existing)])

    outcomes = connector.deliver([submitted(existing, summary="Bổ sung tên cha"), submitted(fresh)])

    assert [o.kind for o in outcomes] == ["ok", "ok"]
    assert "đã tồn tại" in outcomes[0].detail
    held = sim_dossier(dvc_sim, existing)
    assert held["dossier"]["TrichYeuHoSo"] == "Bổ sung tên cha"
    assert held["updates"] == 1
    assert fresh in sim_state(dvc_sim)["dossiers"]


def test_connector_meets_the_hub_interface(dvc_connector: MakeConnector) -> None:
    connector = dvc_connector()
    assert isinstance(connector, Connector)
    assert connector.max_batch == 10
    assert manifest("national_dvc").accepts == {"dossier.submitted", "dossier.updated", "status.changed", "result.issued",
                                                "fee.notice", "question.answered", "rating.given"}


def test_message_with_no_portal_call_is_permanent_and_the_rest_still_goes(dvc_sim: str, dvc_connector: MakeConnector) -> None:
    payment = payment_confirmed(code(14))
    outcomes = dvc_connector().deliver([payment, submitted(code(14)), result_issued(code(14)), fee_notice(code(14))])

    assert [o.kind for o in outcomes] == ["permanent", "ok", "ok", "ok"]
    held = sim_dossier(dvc_sim, code(14))["dossier"]
    assert held["TrangThaiHoSo"] == "9" and held["DanhSachGiayToKetQua"][0]["GiayToId"] == "kq-1"
    assert held["DanhSachLePhi"] == [
        {"TenPhiLePhi": "Phí cấp bản sao trích lục", "MaPhiLePhi": "LP-BS", "Gia": 8000, "LoaiPhiLePhi": "2"}
    ]
