"""MaXacThuc: SHA-256 hex of the pipe-joined fields, the shared secret last (connectors/national_dvc/payment/checksum.py).

Known answers are computed here by hand from the field lists of the specification (and two fixed
hex literals, checked with ``sha256sum``), not with the code under test.
"""

from __future__ import annotations

import hashlib

import pytest

from connectors.national_dvc.payment import checksum
from connectors.national_dvc.payment.callback import reply
from tests.connectors.payment_samples import SECRET, callback

INIT = {
    "LoaiBanTin": "INIT", "PhienBan": "1.0.6", "MaDoiTac": "000.00.00.H49", "MaThamChieu": "HS0001", "SoTien": "150000",
    "LoaiHinhThanhToan": "PAY", "MaKenhThanhToan": "1", "MaThietBi": "1", "NgonNgu": "vi", "MaTienTe": "VND",
    "MaNganHang": "", "ThongTinGiaoDich": "Thanh toán hồ sơ 000.00.00.H49-261123-0001",
    "ThoiGianGD": "20261123101500", "Ip": "10.0.0.5",
}


def by_hand(*values: str) -> str:
    return hashlib.sha256("|".join(values).encode("utf-8")).hexdigest()


def test_init_checksum_is_sha256_hex_of_the_specified_fields_then_the_secret() -> None:
    expected = by_hand("INIT", "1.0.6", "000.00.00.H49", "HS0001", "150000", "PAY", "1", "1", "vi", "VND", "",
                       "Thanh toán hồ sơ 000.00.00.H49-261123-0001", "20261123101500", "10.0.0.5", "bí-mật")
    assert checksum.compute("INIT", INIT, "bí-mật") == expected
    assert expected == "b30287a1119c66403ee80522c4efab7406429bbbf860527b08aa1107e7656e03"


def test_callback_checksum_matches_a_fixed_known_answer() -> None:
    body = callback()
    assert body["MaXacThuc"] == by_hand(
        "CONFIRM", "00", "000.00.00.H49", "HS2611230001-01", "150000", "VND", "GD7F3A0C11B2", "NCB", "20261123101500",
        "Thanh toán hồ sơ 000.00.00.H49-261123-0001", SECRET)
    assert body["MaXacThuc"] == "94e07f89cc0238b781566d2579a21ab9d30e8f34ec9137a70bdb98a6908d8582"


def test_query_checksum_covers_type_version_partner_reference_and_time() -> None:
    query = {"LoaiBanTin": "QUERY", "PhienBan": "1.0.6", "MaDoiTac": "P", "MaThamChieu": "R", "ThoiGianGD": "20261123101500",
             "Ip": "ignored", "SoTien": "ignored"}
    assert checksum.compute("QUERY", query, "s") == by_hand("QUERY", "1.0.6", "P", "R", "20261123101500", "s")


def test_reply_checksum_covers_code_partner_reference_and_time_but_not_the_free_text() -> None:
    answer = reply("00", callback(), SECRET)
    assert answer["MaXacThuc"] == by_hand("00", "000.00.00.H49", "HS2611230001-01", "20261123101500", SECRET)
    assert answer["MoTaLoi"] == "Thành công"


def test_amounts_sent_as_numbers_check_like_their_digits() -> None:
    as_text = callback()
    as_number = {**as_text, "SoTien": 150000}
    assert checksum.verify("CALLBACK", as_number, SECRET)


def test_upper_case_hex_is_accepted() -> None:
    body = callback()
    assert checksum.verify("CALLBACK", {**body, "MaXacThuc": body["MaXacThuc"].upper()}, SECRET)


@pytest.mark.parametrize("field", checksum.FIELDS["CALLBACK"])
def test_changing_any_covered_callback_field_breaks_the_checksum(field: str) -> None:
    body = callback()
    body[field] = str(body[field]) + "9"
    assert not checksum.verify("CALLBACK", body, SECRET)


def test_another_secret_or_a_missing_checksum_does_not_verify() -> None:
    assert not checksum.verify("CALLBACK", callback(secret="other"), SECRET)
    body = callback()
    del body["MaXacThuc"]
    assert not checksum.verify("CALLBACK", body, SECRET)
    assert not checksum.verify("CALLBACK", {**callback(), "MaXacThuc": "é" * 64}, SECRET)


def test_text_is_checksummed_as_sent_without_unicode_normalisation() -> None:
    nfc = callback(ThongTinGiaoDich="Thanh toán")
    nfd = {**nfc, "ThongTinGiaoDich": "Thanh toa\u0301n"}  # the same words, decomposed
    assert not checksum.verify("CALLBACK", nfd, SECRET)
