"""VNPost orders as the tests send them: the required fields (``ORDER``) and every field (``FULL_ORDER``)."""

from __future__ import annotations

CUSTOMER = "QNI0001"
ORDER = {
    "CustomerCode": CUSTOMER,
    "OrderNumber": "000.00.00.H49-261123-0001",
    "CODAmount": 35000,
    "SenderName": "Nguyễn Thị Thuỷ",
    "SenderAddress": "Số 12 đường Trần Hưng Đạo, phường Hồng Gai",
    "SenderTel": "0912345678",
    "SenderProvince": "22",
    "SenderDistrict": "193",
    "ReceiverName": "Bộ phận Một cửa tỉnh Quảng Ninh",
    "ReceiverAddress": "Trung tâm Phục vụ hành chính công, phường Hồng Hà",
    "ReceiverTel": "02033835555",
    "ReceiverProvince": "22",
    "ReceiverDistrict": "193",
}
FULL_ORDER = {
    **ORDER,
    "SenderEmail": "thuy@example.vn",
    "Description": "Tờ khai đăng ký khai sinh; bản sao giấy chứng sinh",
    "ItemCode": "EE123456789VN",
}


# -- canonical messages the connector maps (hub -> VNPost) -----------------------------------------

AGENCY_ID = "000.00.00.H49"
CITIZEN_ID = "001190012345"  #: the applicant's identity number: never in an order or a job
AT = "2026-11-23T08:30:00+07:00"
PICKUP_ADDRESS = {
    "name": "Nguyễn Thị Thuỷ", "phone": "0912345678", "address": "Số 12 đường Trần Hưng Đạo",
    "province_code": "22", "province_name": "Tỉnh Quảng Ninh", "district_code": "193",
    "district_name": "Thành phố Hạ Long", "ward_code": "06652", "ward_name": "Phường Hồng Gai",
    "email": "thuy@example.vn",
}
COMPONENTS = ["Tờ khai đăng ký khai sinh", "Bản sao giấy chứng sinh"]


def code(seq: int = 1, agency: str = AGENCY_ID) -> str:
    """A dossier code of ``agency`` received on 23 Nov 2026."""
    return f"{agency}-261123-{seq:04d}"


def pickup_dossier(seq: int = 1, agency: str = AGENCY_ID, **pickup: object) -> dict[str, object]:
    """``dossier.submitted`` of a dossier filed through the post (channel 3): the post collects it."""
    return {
        "message_id": f"sub-{agency}-{seq}", "type": "dossier.submitted", "source": "motcua", "occurred_at": AT,
        "dossier_code": code(seq, agency),
        "payload": {
            "agency_id": agency, "procedure_code": "2.000477", "procedure_name": "Cấp bản sao trích lục hộ tịch",
            "applicant": {"name": "Nguyễn Thị Thuỷ", "subject_type": 1, "ids": [{"id_type": 1, "number": CITIZEN_ID}],
                          "phone": "0912345678"},
            "received_at": AT, "status": 1, "channel": 3,
            "pickup": {"address": PICKUP_ADDRESS, "components": COMPONENTS, "cod_amount": 35000, **pickup},
        },
    }


def paper_result(seq: int = 1, agency: str = AGENCY_ID, by_post: bool = True, cod_amount: int = 12000) -> dict[str, object]:
    """``result.issued`` of a paper result, to be delivered by post to the citizen (``by_post``)."""
    payload: dict[str, object] = {"agency_id": agency, "issued_at": AT, "status": 9, "paper": True,
                                  "cod_amount": cod_amount}
    if by_post:
        payload["by_post"] = PICKUP_ADDRESS
    return {"message_id": f"kq-{agency}-{seq}", "type": "result.issued", "source": "motcua", "occurred_at": AT,
            "dossier_code": code(seq, agency), "payload": payload}


def status_change(seq: int, status: int, agency: str = AGENCY_ID, receipt_number: str | None = None) -> dict[str, object]:
    """``status.changed`` of the dossier to ``status`` (2 accepted, 7 withdrawn...)."""
    payload: dict[str, object] = {"agency_id": agency, "status": status, "handled_at": AT,
                                  "handler_name": "Trần Văn Bình", "content": f"Trạng thái {status}"}
    if receipt_number:
        payload["receipt_number"] = receipt_number
    return {"message_id": f"st-{agency}-{seq}-{status}", "type": "status.changed", "source": "motcua",
            "occurred_at": AT, "dossier_code": code(seq, agency), "payload": payload}
