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
