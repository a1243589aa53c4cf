"""The contracts of the connectors still to build: wire models speak the partners' field names,
accepted types are canonical ones, and the client operations are runtime-checkable Protocols."""

from __future__ import annotations

import json
import unicodedata
from types import ModuleType

import pytest
from pydantic import ValidationError

from connectors.population_db import interface as population
from connectors.postal_vnpost import interface as postal
from hub.messages import MESSAGE_TYPES
from tests.connectors.postal_samples import FULL_ORDER

INTERFACES = [postal, population]  # the ministry systems' contract is their adapter schema (connectors/ministry_apps/adapter.py)


CONG_DAN = {
    "SoDinhDanh": "022190001234",
    "SoCMND": "100123456",
    "HoVaTen": {"Ho": "Trần", "ChuDem": "Văn", "Ten": "Đức"},
    "GioiTinh": "1",
    "NgayThangNamSinh": {"Nam": "1990", "NgayThangNam": "19900215"},
    "ThuongTru": {"MaTinhThanh": "22", "MaQuanHuyen": "193", "MaPhuongXa": "06652", "ChiTiet": "Tổ 5, khu 3"},
    "NoiOHienTai": {"MaTinhThanh": "01", "MaQuanHuyen": "001", "MaPhuongXa": "00001", "ChiTiet": "Ngõ 8 Hàng Bạc"},
    "ChuHo": {"SoDinhDanh": "022160009876", "HoVaTen": {"Ho": "Trần", "ChuDem": "Văn", "Ten": "Bình"}},
}


def roundtrip(model: type, sample: dict) -> dict:
    """Parse ``sample`` and write it back in the partner's names, through JSON text."""
    parsed = model.model_validate(json.loads(json.dumps(sample, ensure_ascii=False)))
    return json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True))


# --- VNPost -----------------------------------------------------------------------------------


def test_vnpost_order_keeps_partner_names_and_vietnamese_text() -> None:
    assert roundtrip(postal.Order, FULL_ORDER) == FULL_ORDER
    assert "Nguyễn Thị Thuỷ" in postal.Order.model_validate(FULL_ORDER).model_dump_json()


def test_vnpost_order_text_arrives_nfd_leaves_nfc() -> None:
    order = postal.Order.model_validate({**FULL_ORDER, "SenderName": unicodedata.normalize("NFD", "Nguyễn Thị Thuỷ")})
    assert order.SenderName == unicodedata.normalize("NFC", "Nguyễn Thị Thuỷ")


def test_vnpost_order_number_is_the_dossier_code() -> None:
    with pytest.raises(ValidationError):
        postal.Order.model_validate({**FULL_ORDER, "OrderNumber": "HS-0001"})


def test_vnpost_order_refuses_unknown_fields_and_negative_cod() -> None:
    with pytest.raises(ValidationError):
        postal.Order.model_validate({**FULL_ORDER, "SenderWard": "06652"})
    with pytest.raises(ValidationError):
        postal.Order.model_validate({**FULL_ORDER, "CODAmount": -1})


def test_vnpost_success_answer_is_status_100() -> None:
    answer = postal.OrderAnswer.model_validate({"Status": "100", "Message": "Thành công"})
    assert answer.Status == postal.SUCCESS_STATUS


def test_vnpost_token_answer_is_oauth_client_credentials() -> None:
    token = postal.TokenAnswer.model_validate({"access_token": "abc", "token_type": "bearer", "expires_in": 3600})
    assert token.access_token == "abc" and token.expires_in == 3600


def test_vnpost_tracking_page_reads_embedded_rh_doc() -> None:
    page = {
        "_embedded": {
            "rh:doc": [
                {
                    "_id": "6561a0c2f1",
                    "OrderNumber": "000.00.00.H49-261123-0001",
                    "ItemCode": "EE123456789VN",
                    "EventTime": "2026-11-23 09:15:00",
                    "POSID": "200000",
                    "StatusCode": "100",
                    "StatusMessage": "Đã nhận hàng",
                    "Notes": "Bưu tá Lê Văn Hùng",
                }
            ]
        }
    }
    parsed = postal.TrackingPage.model_validate(page)
    assert parsed.embedded.docs[0].StatusMessage == "Đã nhận hàng"
    assert roundtrip(postal.TrackingPage, page) == page
    assert postal.TrackingPage.model_validate({"_embedded": {"rh:doc": []}}).embedded.docs == []


def test_vnpost_price_query_is_public_administration_service() -> None:
    query = postal.PriceQuery(
        weight=500, isreturn=True, sender=postal.PlaceCode(provCode="22", distCode="193"),
        receiver=postal.PlaceCode(provCode="01", distCode="001"),
    )
    assert query.model_dump() == {
        "weight": 500, "mainSrv": "HCC", "isreturn": True,
        "sender": {"provCode": "22", "distCode": "193"}, "receiver": {"provCode": "01", "distCode": "001"},
    }


def test_vnpost_pickup_states() -> None:
    assert [int(s) for s in postal.PickupState] == [1, 2, 3, 4]
    assert postal.PickupState(3) is postal.PickupState.HANDED_OVER


# --- population database ----------------------------------------------------------------------


def test_population_answer_keeps_partner_names() -> None:
    collection = {"CongDan": [CONG_DAN]}
    assert roundtrip(population.CongdanCollection, collection) == collection
    parsed = population.CongdanCollection.model_validate(collection)
    assert parsed.CongDan[0].HoVaTen.Ten == "Đức"
    assert parsed.CongDan[0].ChuHo is not None and parsed.CongDan[0].ChuHo.SoDinhDanh == "022160009876"


def test_population_empty_answer_is_no_citizen() -> None:
    assert population.CongdanCollection.model_validate({}).CongDan == []


def test_population_request_carries_the_partner_keys() -> None:
    request = {
        "MaYeuCau": "req-0001", "MaDVC": "2.000477", "MaTichHop": "LGSP-H49", "MaCanBo": "canbo.hoa",
        "SoDinhDanh": "022190001234", "HoVaTen": "Trần Văn Đức", "NgayThangNamSinh": "15/02/1990",
    }
    assert roundtrip(population.CitizenRequest, request) == request
    with pytest.raises(ValidationError):
        population.CitizenRequest.model_validate({**request, "SoDinhDanh": "100123456"})


def test_population_caller_cannot_supply_integration_codes() -> None:
    with pytest.raises(ValidationError):
        population.CitizenQuery.model_validate(
            {"request_id": "r1", "officer_id": "canbo.hoa", "id_number": "022190001234", "MaTichHop": "X"}
        )


def test_population_operations_and_namespace() -> None:
    assert population.NAMESPACE == "http://dancuquocgia.bca"
    assert {op.value for op in population.Operation} == {
        "TraCuuThongTinCongDan", "XacThucThongTinCongDan", "XacMinhThongTinChuHo", "XacMinhThongTinNoiOHienTai",
    }


# --- every interface --------------------------------------------------------------------------


@pytest.mark.parametrize("module", INTERFACES, ids=lambda m: m.__name__)
def test_accepts_names_only_canonical_types(module: ModuleType) -> None:
    assert isinstance(module.ACCEPTS, frozenset)
    assert module.ACCEPTS <= MESSAGE_TYPES


PROTOCOLS = [
    (postal.VnpostClient, {"create_order", "track", "quote_price", "close"}),
    (population.PopulationDbClient, {"lookup", "verify", "household_head", "current_residence", "close"}),
]


@pytest.mark.parametrize(("protocol", "operations"), PROTOCOLS, ids=lambda p: getattr(p, "__name__", ""))
def test_client_operations_are_runtime_checkable_protocols(protocol: type, operations: set[str]) -> None:
    assert getattr(protocol, "_is_protocol", False) and getattr(protocol, "_is_runtime_protocol", False)
    assert operations <= set(dir(protocol))

    complete = type("Complete", (), {op: lambda self, *a: None for op in operations} | {"app": None})()
    assert isinstance(complete, protocol)
    partial = type("Partial", (), {op: lambda self, *a: None for op in sorted(operations)[1:]})()
    assert not isinstance(partial, protocol)
    assert not isinstance(object(), protocol)
