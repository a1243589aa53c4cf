"""Canonical messages -> VNPost orders and the postman's jobs (connectors/postal_vnpost/mapping.py), and the
per-agency postal configuration (settings.py)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from connectors.postal_vnpost.interface import Order
from connectors.postal_vnpost.mapping import (
    RESULT_WHAT,
    delivery_job,
    delivery_order,
    full_address,
    pickup_job,
    pickup_order,
    postal_event,
)
from connectors.postal_vnpost.settings import SANDBOX_AGENCY, SANDBOX_CUSTOMER, AgencyPost, PostalVnpostSettings
from connectors.postal_vnpost.simulator import load_order_validator
from hub.messages.models import MESSAGE_ADAPTER, DossierSubmitted, PostalAddress, ResultIssued
from tests.connectors.postal_samples import (
    CITIZEN_ID,
    COMPONENTS,
    PICKUP_ADDRESS,
    code,
    paper_result,
    pickup_dossier,
)

AGENCY = AgencyPost(customer_code="QNI0001", name="Bộ phận Một cửa UBND tỉnh Quảng Ninh", phone="02033835555",
                    address="Trung tâm Phục vụ hành chính công, phường Hồng Hà, thành phố Hạ Long",
                    province_code="22", district_code="193")
CITIZEN_LINE = "Số 12 đường Trần Hưng Đạo, Phường Hồng Gai, Thành phố Hạ Long, Tỉnh Quảng Ninh"


def dossier(raw: dict[str, Any]) -> DossierSubmitted:
    message = MESSAGE_ADAPTER.validate_python(raw)
    assert isinstance(message, DossierSubmitted)
    return message


def result(raw: dict[str, Any]) -> ResultIssued:
    message = MESSAGE_ADAPTER.validate_python(raw)
    assert isinstance(message, ResultIssued)
    return message


def nfd(value: Any) -> Any:
    """Every string of ``value`` in NFD, as some one-stop systems send Vietnamese."""
    return json.loads(unicodedata.normalize("NFD", json.dumps(value, ensure_ascii=False)))


def test_a_pickup_order_goes_from_the_citizen_to_the_agency_under_the_dossier_code() -> None:
    order = pickup_order(dossier(pickup_dossier()), AGENCY)
    assert order.model_dump(exclude_none=True) == {
        "CustomerCode": "QNI0001", "OrderNumber": code(1), "CODAmount": 35000,
        "SenderName": "Nguyễn Thị Thuỷ", "SenderAddress": CITIZEN_LINE, "SenderTel": "0912345678",
        "SenderProvince": "22", "SenderDistrict": "193", "SenderEmail": "thuy@example.vn",
        "SenderDesc": "Tờ khai đăng ký khai sinh; Bản sao giấy chứng sinh",
        "ReceiverName": AGENCY.name, "ReceiverAddress": AGENCY.address, "ReceiverTel": "02033835555",
        "ReceiverProvince": "22", "ReceiverDistrict": "193",
        "Description": "Hồ sơ TTHC: Cấp bản sao trích lục hộ tịch",
    }


def test_a_paper_result_goes_from_the_agency_to_the_citizen_under_the_code_with_kq() -> None:
    order = delivery_order(result(paper_result()), AGENCY)
    assert order.OrderNumber == f"{code(1)}-KQ"
    assert (order.SenderName, order.SenderAddress, order.SenderTel) == (AGENCY.name, AGENCY.address, AGENCY.phone)
    assert (order.ReceiverName, order.ReceiverAddress, order.ReceiverTel) == ("Nguyễn Thị Thuỷ", CITIZEN_LINE, "0912345678")
    assert (order.ReceiverProvince, order.ReceiverDistrict, order.ReceiverEmail) == ("22", "193", "thuy@example.vn")
    assert order.CODAmount == 12000 and order.SenderDesc == RESULT_WHAT
    assert order.Description == f"{RESULT_WHAT}, hồ sơ {code(1)}"


def test_both_orders_pass_the_schema_the_simulator_validates_with() -> None:
    validator = load_order_validator()
    for order in (pickup_order(dossier(pickup_dossier()), AGENCY), delivery_order(result(paper_result()), AGENCY)):
        errors = [e.message for e in validator.iter_errors(order.model_dump(mode="json", exclude_none=True))]
        assert errors == [], errors


@pytest.mark.parametrize("number", [f"{code(1)}-XX", f"{code(1)}-KQ-KQ", f"{code(1)}KQ", "HS-0001-KQ"])
def test_an_order_number_is_a_dossier_code_with_at_most_the_result_suffix(number: str) -> None:
    order = pickup_order(dossier(pickup_dossier()), AGENCY).model_dump(mode="json", exclude_none=True)
    with pytest.raises(ValidationError):
        Order.model_validate({**order, "OrderNumber": number})
    errors = list(load_order_validator().iter_errors({**order, "OrderNumber": number}))
    assert [e.validator for e in errors] == ["pattern"], "the regenerated schema refuses it too"


def test_the_postmans_jobs_say_whom_where_what_and_how_much() -> None:
    pickup = pickup_job(dossier(pickup_dossier()))
    assert pickup.as_json() == {"name": "Nguyễn Thị Thuỷ", "phone": "0912345678", "address": "Số 12 đường Trần Hưng Đạo",
                                "ward": "Phường Hồng Gai", "district": "Thành phố Hạ Long", "province": "Tỉnh Quảng Ninh",
                                "what": COMPONENTS, "cod_amount": 35000}
    delivery = delivery_job(result(paper_result(cod_amount=0)))
    assert (delivery.what, delivery.cod_amount, delivery.name) == ([RESULT_WHAT], 0, "Nguyễn Thị Thuỷ")


def test_no_citizen_id_reaches_an_order_or_a_job() -> None:
    message = dossier(pickup_dossier())
    assert CITIZEN_ID in message.model_dump_json(), "the sample does carry an identity number"
    written = [pickup_order(message, AGENCY).model_dump_json(), orjson.dumps(pickup_job(message).as_json()).decode(),
               delivery_order(result(paper_result()), AGENCY).model_dump_json(),
               orjson.dumps(delivery_job(result(paper_result())).as_json()).decode()]
    assert [w for w in written if CITIZEN_ID in w] == []


def test_vietnamese_sent_in_nfd_reaches_vnpost_and_the_job_in_nfc() -> None:
    message = dossier(nfd(pickup_dossier()))
    agency = AgencyPost.model_validate(nfd(AGENCY.model_dump()))
    texts = [pickup_order(message, agency).model_dump_json(), orjson.dumps(pickup_job(message).as_json()).decode(),
             delivery_order(result(nfd(paper_result())), agency).model_dump_json()]
    decoded = [json.loads(t) for t in texts]
    assert all(unicodedata.is_normalized("NFC", json.dumps(d, ensure_ascii=False)) for d in decoded)
    assert decoded[0]["SenderAddress"] == CITIZEN_LINE and decoded[0]["ReceiverName"] == AGENCY.name


def test_an_address_without_a_ward_leaves_no_empty_part() -> None:
    place = PostalAddress.model_validate({**PICKUP_ADDRESS, "ward_code": None, "ward_name": None})
    assert full_address(place) == "Số 12 đường Trần Hưng Đạo, Thành phố Hạ Long, Tỉnh Quảng Ninh"


def test_text_longer_than_vnposts_field_is_shortened_and_the_job_keeps_everything() -> None:
    components = [f"Thành phần hồ sơ số {i} " + "x" * 40 for i in range(60)]
    message = dossier(pickup_dossier(components=components))
    order = pickup_order(message, AGENCY)
    assert order.SenderDesc is not None and len(order.SenderDesc) == 1000 and order.SenderDesc.endswith("…")
    assert pickup_job(message).what == components


def test_a_dossier_without_pickup_or_a_result_without_post_is_no_order() -> None:
    plain = pickup_dossier()
    del plain["payload"]["pickup"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not a pickup dossier"):
        pickup_order(dossier(plain), AGENCY)
    with pytest.raises(ValueError, match="not a paper result by post"):
        delivery_order(result(paper_result(by_post=False)), AGENCY)


def test_the_booked_event_is_a_valid_canonical_message_named_after_its_order() -> None:
    from datetime import datetime, timezone

    at = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    event = postal_event("booked", dossier_code=code(1), agency_id=SANDBOX_AGENCY, leg="result",
                         order_number=f"{code(1)}-KQ", status="101", meaning="", at=at)
    message = MESSAGE_ADAPTER.validate_python(event)
    assert (message.message_id, message.source, message.type) == (f"vnpost-booked-{code(1)}-KQ", "postal_vnpost",
                                                                  "postal.booked")
    assert event["payload"]["operator_meaning"] == "Status 101", "VNPost said nothing: the status stands in"


# -- configuration ---------------------------------------------------------------------------------


def test_the_sandbox_agency_is_configured_at_the_simulators_customer_code() -> None:
    agency = PostalVnpostSettings().agencies[SANDBOX_AGENCY]
    assert agency.customer_code == SANDBOX_CUSTOMER and agency.client_id is None


def test_agencies_are_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_POSTAL_VNPOST_AGENCIES", json.dumps({"000.00.01.H49": {**AGENCY.model_dump(),
                                                                                          "client_id": "ha-long"}}))
    agencies = PostalVnpostSettings().agencies
    assert list(agencies) == ["000.00.01.H49"] and agencies["000.00.01.H49"].client_id == "ha-long"


@pytest.mark.parametrize("agencies", [{"H49": AGENCY.model_dump()},
                                      {SANDBOX_AGENCY: {**AGENCY.model_dump(), "customer_code": ""}},
                                      {SANDBOX_AGENCY: {**AGENCY.model_dump(), "password": "x"}}])
def test_a_malformed_agency_configuration_is_refused(agencies: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PostalVnpostSettings(agencies=agencies)
