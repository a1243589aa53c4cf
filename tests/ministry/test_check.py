"""``lienthong ministry check FILE`` names the line of each mistake, and ``try`` shows what would be sent.

Each broken adapter is a shipped one copied beside its wire schemas and samples, with one thing broken:
a YAML syntax error, a misspelt key, a template that does not compile, a template reading a field the
sample lacks, output the wire JSON Schema refuses, a ``receives`` type no ministry can receive, a wire
schema file that is missing. ``check`` prints ``FILE:LINE: place: what`` with the line that was broken
and exits 1; the shipped adapters check clean. ``try`` prints the method, the URL and the JSON body (or
the SOAP envelope) and never a secret's value.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from connectors.ministry_apps.check import PLACEHOLDER
from connectors.ministry_apps.cli import commands
from tests.ministry.conftest import SHIPPED, write

ADAPTERS = ["civil_status.yaml", "land.yaml", "soap_test.yaml"]


def cli(*args: str) -> Result:
    return CliRunner().invoke(commands(), list(args))


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_shipped_adapters_check_clean(name: str) -> None:
    result = cli("check", str(SHIPPED / name))
    assert result.exit_code == 0, result.output
    assert re.search(rf"{re.escape(str(SHIPPED / name))}: ok: \w+ .* sample\(s\) rendered", result.output), result.output
    assert "mistake" not in result.output


# (what is broken, the line as shipped, the line broken, what the message must name)
BREAKS = {
    "yaml-syntax": ("name: Phần mềm đăng ký, quản lý hộ tịch (Bộ Tư pháp)", "name: Phần mềm: hộ tịch",
                    "not YAML: mapping values are not allowed here"),
    "unknown-key": ("    opens_case: true", "    open_case: true", "send.dossier.submitted.open_case: Extra inputs are not permitted"),
    "template-syntax": ('        maHoSoMCDT: "{{ m.dossier_code }}"', '        maHoSoMCDT: "{{ m.dossier_code }"',
                        "send.dossier.submitted.request.json.maHoSoMCDT: template error: unexpected '}'"),
    "undefined-field": ('        maDonVi: "{{ m.payload.agency_id }}"', '        maDonVi: "{{ m.payload.agency }}"',
                        "send.dossier.submitted.request.json.maDonVi: {{ m.payload.agency }} is undefined "
                        "(on sample samples/birth.json)"),
    "wire-schema-refuses": ("""        ngayTiepNhan: "{{ m.payload.received_at | local('%d/%m/%Y %H:%M:%S') }}\"""",
                            '        ngayTiepNhan: "{{ m.payload.received_at }}"',
                            "send.dossier.submitted.request.json.ngayTiepNhan: the output does not meet the wire schema "
                            "at ngayTiepNhan: '2026-11-23T08:30:00+07:00' does not match"),
    "not-receivable": ("  - type: dossier.submitted\n    when:", "  - type: citizen.registered\n    when:",
                       "receives.0.type: a ministry system cannot receive citizen.registered"),
}


@pytest.mark.parametrize("broken", sorted(BREAKS))
def test_check_names_the_broken_line_and_the_place(folder: Path, broken: str) -> None:
    shipped, changed, named = BREAKS[broken]
    text = (SHIPPED / "civil_status.yaml").read_text(encoding="utf-8")
    assert text.count(shipped) == 1
    text = text.replace(shipped, changed)
    line = text[:text.index(changed)].count("\n") + 1
    path = write(folder, "civil_status.yaml", text)
    result = cli("check", str(path))
    assert result.exit_code == 1, result.output
    mistakes = [m for m in result.output.splitlines() if m.startswith(f"{path}:")]
    assert mistakes, result.output
    assert all(m.startswith(f"{path}:{line}: ") for m in mistakes), f"line {line} expected:\n{result.output}"
    assert named in mistakes[0], result.output
    assert result.output.rstrip().endswith(f"{len(mistakes)} mistake(s)")


def test_check_names_the_line_of_a_wire_schema_file_that_is_missing(folder: Path) -> None:
    text = (SHIPPED / "civil_status.yaml").read_text(encoding="utf-8")
    path = write(folder, "civil_status.yaml", text)
    (folder / "wire" / "NhanDKHT.schema.json").unlink()
    line = text[:text.index("    schema: wire/NhanDKHT.schema.json")].count("\n") + 1
    result = cli("check", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:{line}: send.dossier.submitted.schema: no file wire/NhanDKHT.schema.json beside the adapter",
        "1 mistake(s)"], result.output


def test_check_of_a_good_copy_is_clean_so_each_break_alone_is_the_mistake(folder: Path) -> None:
    path = folder / "civil_status.yaml"
    shutil.copy(SHIPPED / "civil_status.yaml", path)
    result = cli("check", str(path))
    assert result.exit_code == 0, result.output


def printed_json(output: str) -> dict[str, Any]:
    """The JSON body ``try`` prints after its ``Content-Type: application/json`` line."""
    body: dict[str, Any] = json.loads(output.split("Content-Type: application/json\n", 1)[1])
    return body


def test_try_prints_the_request_of_a_message_and_never_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIENTHONG_CIVIL_STATUS_URL", raising=False)
    monkeypatch.setenv("LIENTHONG_CIVIL_STATUS_PASSWORD", "env-password-7731")
    result = cli("try", str(SHIPPED / "civil_status.yaml"), str(SHIPPED / "samples" / "birth.json"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "POST http://127.0.0.1:8131/hotich/api/NhanDKHT"
    assert "Authorization: (the login's token, fetched at send time)" in lines
    body = printed_json(result.output)
    assert (body["module"], body["maHoSoMCDT"], body["ngayTiepNhan"]) == ("LTKS", "000.00.00.H49-261123-0101",
                                                                         "23/11/2026 08:30:00")
    assert json.loads(body["data"])["hoTen"] == "Nguyễn Minh An"
    assert body["fileDinhKem"] == [{"tenFile": "To khai.pdf", "noiDung": base64.b64encode(PLACEHOLDER).decode()}]
    for secret in ("env-password-7731", "sandbox-civil-password"):
        assert secret not in result.output


def test_try_shows_oauth_and_key_auth_by_name_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_LAND_CLIENT_SECRET", "env-client-secret-5120")
    result = cli("try", str(SHIPPED / "land.yaml"), str(SHIPPED / "samples" / "land.json"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("POST ") and "/dat/api/tiepnhan\n" in result.output
    assert "Authorization: Bearer (an OAuth 2.0 token, fetched at send time)" in result.output
    assert printed_json(result.output)["thuaDat"][0]["soThua"] == "345"
    for secret in ("env-client-secret-5120", "sandbox-land-client-secret", "sandbox-land-callback-secret"):
        assert secret not in result.output

    path = write(folder, "keyed.yaml", """
code: keyed
name: A keyed ministry
base_url: http://127.0.0.1:9/api
secrets:
  key: {sandbox: key-value-4471}
auth: {kind: key_header, header: X-Bo-Key, secret: key}
receives:
  - type: dossier.submitted
send:
  dossier.submitted:
    request:
      method: PUT
      path: "/hoso/{{ m.dossier_code }}"
      json: {ten: "{{ m.payload.applicant.name }}"}
""")
    result = cli("try", str(path), str(SHIPPED / "samples" / "land.json"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["PUT http://127.0.0.1:9/api/hoso/000.00.00.H49-261123-0201",
                                              "X-Bo-Key: (secret key)"]
    assert printed_json(result.output) == {"ten": "Nguyễn Thị Hằng"} and "key-value-4471" not in result.output


def test_try_prints_a_soap_envelope_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIENTHONG_SOAP_TEST_URL", raising=False)
    result = cli("try", str(SHIPPED / "soap_test.yaml"), str(SHIPPED / "samples" / "business.json"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("SOAP NhanHoSo -> http://127.0.0.1:8131/soap/hoso\n")
    assert "WS-Security UsernameToken (lienthong, digest) in the SOAP header" in result.output
    assert "000.00.00.H49-261123-0301</" in result.output and base64.b64encode(PLACEHOLDER).decode() in result.output
    assert "sandbox-soap-password" not in result.output and "Password" not in result.output
