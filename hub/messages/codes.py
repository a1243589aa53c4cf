"""Identifier formats from the regulations: agency identifiers and dossier codes.

Agency identifier (QCVN 102:2016): ``V1V2V3.Z1Z2.Y1Y2.MX1X2``, e.g. ``000.00.00.H49``.
Dossier code (seed 000 Đ6.3): ``<agency>-YYMMDD-XXXX``: reception date and a 4-digit daily sequence.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import IntEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

AGENCY_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
DOSSIER_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$"
OFFICER_CODE_PATTERN = r"^[A-Za-z0-9._@-]{1,60}$"  #: MaCanBo: an officer's code at their partner
PROCEDURE_PATTERN = r"^\d\.\d{6}(\.\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})?$"
_DOSSIER_RE = re.compile(DOSSIER_PATTERN)


def check_dossier_code(code: str) -> str:
    """Return ``code`` if it is a dossier code whose YYMMDD part is a real calendar date."""
    if not _DOSSIER_RE.match(code):
        raise ValueError("dossier code must look like V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX")
    yymmdd = code.split("-")[1]
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise ValueError(f"dossier code date {yymmdd} is not a real date (YYMMDD)") from None
    return code


def nfc(value: Any) -> Any:
    """NFC-normalise a string (Vietnamese text arrives in NFC or NFD); leave other values alone."""
    if isinstance(value, str) and not unicodedata.is_normalized("NFC", value):
        return unicodedata.normalize("NFC", value)
    return value


def nfc_deep(value: Any) -> Any:
    """NFC-normalise every string inside decoded JSON (dicts, lists, keys included)."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {nfc(k): nfc_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_deep(v) for v in value]
    return value


Text = Annotated[str, BeforeValidator(nfc)]
DossierCode = Annotated[str, AfterValidator(check_dossier_code)]


class DossierStatus(IntEnum):
    """``TrangThaiHoSo`` codes of the national portal."""

    NEW = 1
    ACCEPTED = 2
    NOT_ACCEPTED = 3
    IN_PROGRESS = 4
    SUPPLEMENT_REQUESTED = 5
    FINANCIAL_OBLIGATION = 6
    WITHDRAWN = 7
    STOPPED = 8
    DONE = 9
    RESULT_RETURNED = 10


class SubjectType(IntEnum):
    """``LoaiDoiTuong``: who the applicant is."""

    CITIZEN = 1
    BUSINESS = 2
    STATE_AGENCY = 3
    OTHER = 4


class Channel(IntEnum):
    """``KenhThucHien``: how the dossier was filed."""

    IN_PERSON = 1
    ONLINE = 2
    POSTAL = 3


class IdType(IntEnum):
    """``LoaiDinhDanh``: 1 = 12-digit personal ID, 2 = 9-digit old ID card."""

    PERSONAL_ID = 1
    OLD_ID_CARD = 2
