"""Canonical message rules: identifier formats, NFC, status codes, and schema files in step with the models."""

from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from hub.messages import MESSAGE_ADAPTER
from hub.messages.codes import check_dossier_code, nfc_deep
from hub.messages.schema_export import drift
from tests.factories import status_changed, submitted


@pytest.mark.parametrize("code", ["000.00.00.H49-261123-0001", "000.20.31.G12-240229-9999"])
def test_dossier_code_accepts_agency_date_and_sequence(code: str) -> None:
    assert check_dossier_code(code) == code


@pytest.mark.parametrize("code", [
    "000.00.00.H49-230229-0001",  # 29 Feb in a common year
    "000.00.00.H49-261301-0001",  # month 13
    "000.00.00.H49-261123-001",   # 3-digit sequence
    "00.00.00.H49-261123-0001",   # short agency part
    "000.00.00.49-261123-0001",   # agency without its letter
])
def test_dossier_code_refuses_bad_shapes_and_impossible_dates(code: str) -> None:
    with pytest.raises(ValueError):
        check_dossier_code(code)


def test_status_codes_run_from_1_to_10() -> None:
    for status in range(1, 11):
        MESSAGE_ADAPTER.validate_python(status_changed(status=status))
    for status in (0, 11):
        with pytest.raises(ValidationError):
            MESSAGE_ADAPTER.validate_python(status_changed(status=status))


def test_occurred_at_needs_a_timezone() -> None:
    with pytest.raises(ValidationError):
        MESSAGE_ADAPTER.validate_python(submitted(occurred_at="2026-11-23T08:30:00"))


def test_personal_id_length_matches_its_type() -> None:
    msg = submitted()
    msg["payload"]["applicant"]["ids"] = [{"id_type": 1, "number": "123456789"}]
    with pytest.raises(ValidationError):
        MESSAGE_ADAPTER.validate_python(msg)


def test_text_is_normalised_to_nfc_everywhere() -> None:
    nfd = unicodedata.normalize("NFD", "Phường Hồng Hải")
    out = nfc_deep({"a": [nfd, {nfd: nfd}]})
    assert out == {"a": ["Phường Hồng Hải", {"Phường Hồng Hải": "Phường Hồng Hải"}]}
    msg = submitted()
    msg["payload"]["procedure_name"] = nfd
    assert MESSAGE_ADAPTER.validate_python(msg).payload.procedure_name == "Phường Hồng Hải"  # type: ignore[union-attr]


def test_result_documents_need_sha256_and_url() -> None:
    msg = {**submitted(), "type": "result.issued", "payload": {
        "agency_id": "000.00.00.H49", "issued_at": "2026-11-24T10:00:00+07:00",
        "documents": [{"document_id": "KQ1", "name": "Trích lục", "url": "https://motcua.example/kq/1.pdf", "sha256": "ab" * 32}]}}
    MESSAGE_ADAPTER.validate_python(msg)
    msg["payload"]["documents"][0]["sha256"] = "not-a-digest"
    with pytest.raises(ValidationError):
        MESSAGE_ADAPTER.validate_python(msg)


def test_schema_files_match_the_models() -> None:
    assert drift() == [], "schemas/messages drifted from hub/messages/models.py: run 'make schemas'"
