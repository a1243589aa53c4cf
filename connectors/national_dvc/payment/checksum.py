"""``MaXacThuc``: the payment platform's checksum of each message.

``MaXacThuc = hex(SHA-256(UTF-8("<field 1>|<field 2>|...|<field n>|<shared secret>")))``: the values
of a fixed list of fields, in that order, joined with ``|``, the shared secret last. The lists are
:data:`FIELDS`, the one place they are written down.

* INIT, QUERY and the callback: the platform's specification (v1.0.6) as the domain brief gives it.
  The QUERY order (``LoaiBanTin|PhienBan|MaDoiTac|MaThamChieu|ThoiGianGD``) and the lower-case hex
  are also what public one-stop integrations compute (a C# client of the platform builds QUERY and
  GET_BILL checksums from exactly these fields and prints the digest with ``x2``).
* GET_BILL: the same fields as QUERY (the same public client).
* REPLY (the province's answer to a callback): **our definition**, the specification publishes
  none: ``MaLoi|MaDoiTac|MaThamChieu|ThoiGianGD``, i.e. the reply's fields in order without the
  free text ``MoTaLoi``. Public clients echo the callback's own ``MaXacThuc`` instead; a platform
  that wants that can be served by changing this one list.

Values are taken exactly as they travel: strings as sent (no trimming, no Unicode normalisation),
integers in decimal, a missing field as the empty string. We send lower-case hex and accept either
case (some partner stacks print upper case; the digest is the same).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal, Mapping

Kind = Literal["INIT", "QUERY", "GET_BILL", "CALLBACK", "REPLY"]

FIELDS: dict[Kind, tuple[str, ...]] = {
    "INIT": ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan", "MaKenhThanhToan",
             "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip"),
    "QUERY": ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"),
    "GET_BILL": ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"),
    "CALLBACK": ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich", "MaNganHang",
                 "ThoiGianGD", "ThongTinGiaoDich"),
    "REPLY": ("MaLoi", "MaDoiTac", "MaThamChieu", "ThoiGianGD"),
}
FIELD = "MaXacThuc"


def _text(value: Any) -> str:
    """A field's value as it enters the checksum."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a JSON number 150000.0 is the amount 150000
    return str(value)


def compute(kind: Kind, message: Mapping[str, Any], secret: str) -> str:
    """The lower-case hex ``MaXacThuc`` of ``message`` (a wire dict) for its ``kind``."""
    if not secret:  # a checksum "under" the empty secret is one anybody can compute
        raise ValueError("no shared secret: set vault credential national_payment.secret")
    raw = "|".join([*(_text(message.get(name)) for name in FIELDS[kind]), secret])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def verify(kind: Kind, message: Mapping[str, Any], secret: str) -> bool:
    """True when ``message["MaXacThuc"]`` is the checksum of ``message`` (constant-time compare)."""
    given = message.get(FIELD)
    if not isinstance(given, str):
        return False
    expected = compute(kind, message, secret).encode("ascii")
    return hmac.compare_digest(given.lower().encode("utf-8"), expected)


def sign(kind: Kind, message: dict[str, Any], secret: str) -> dict[str, Any]:
    """``message`` with its ``MaXacThuc`` set; returns the same dict."""
    message[FIELD] = compute(kind, message, secret)
    return message
