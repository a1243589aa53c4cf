"""Each way an adapter signs in to a ministry system, proved against a real server over loopback.

``none``, ``key_header``, ``basic``, OAuth 2.0 client credentials (the client proved by HTTP Basic or in
the form, the scope sent, the token kept), ``login`` (a session or a token carried in a header, fetched
again once when the system has forgotten it) against the generic and civil-status simulators, and
WS-Security (a digest UsernameToken; a wrong password is a SOAP fault, a permanent refusal) against
the SOAP simulator. A secret comes from the environment variable the adapter names before its sandbox
value; a secret set nowhere makes the delivery transient, named, and never shows a secret's value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.ministry_apps.connector import AdapterConnector
from connectors.ministry_apps.outbound import Wire
from connectors.ministry_apps.registry import Loaded, load
from hub.context import PartnerContext
from hub.plugins import manifest
from hub.seam import MESSAGE_ADAPTER, Outcome
from tests.conftest import make_settings
from tests.factories import status_changed
from tests.ministry.conftest import SHIPPED, Sims, canonical, run, write

INBOX = """
receives:
  - type: status.changed
send:
  status.changed:
    request:
      path: /inbox/status
      json: {maHoSo: "{{ m.dossier_code }}", trangThai: "{{ m.payload.status }}"}
"""


def adapter(folder: Path, sims: Sims, auth: str, secrets: str = "", code: str = "generic_auth") -> Loaded:
    """An adapter of the generic ministry's inbox with ``auth`` (YAML), loaded."""
    text = f"code: {code}\nname: Generic ministry ({code})\nbase_url: {sims.generic}\n{secrets}\nauth: {auth}\n{INBOX}"
    return load(write(folder, f"{code}.yaml", text))


def inbox(sims: Sims) -> list[dict[str, Any]]:
    return [r for r in sims.requests() if r["path"] == "/generic/inbox/status"]


def test_no_auth_sends_no_credential_and_the_open_system_takes_it(folder: Path, sims: Sims) -> None:
    loaded = adapter(folder, sims, "{kind: none}")
    answer, verdict = run(loaded, Wire(loaded, None), status_changed())
    assert (answer.status, verdict.outcome) == (200, "ok")
    [request] = inbox(sims)
    assert request["authorized"] is True and request["credentials"] == {}
    assert json.loads(request["body"]) == {"maHoSo": status_changed()["dossier_code"], "trangThai": 4}


def test_a_key_header_carries_its_prefix_and_secret_in_the_named_header(folder: Path, sims: Sims) -> None:
    sims.configure(auth="api_key", api_key_header="X-Bo-Key", api_key="Token k-123")
    secrets = "secrets:\n  key: {sandbox: k-123}"
    loaded = adapter(folder, sims, "{kind: key_header, header: X-Bo-Key, prefix: 'Token ', secret: key}", secrets)
    assert run(loaded, Wire(loaded, None), status_changed())[1].outcome == "ok"
    [request] = inbox(sims)
    assert request["authorized"] is True and request["credentials"] == {"x-bo-key": True}

    wrong = adapter(folder, sims, "{kind: key_header, header: X-Bo-Key, secret: key}", secrets, code="no_prefix")
    answer, verdict = run(wrong, Wire(wrong, None), status_changed())
    assert (answer.status, verdict.outcome) == (401, "permanent"), "the same key without its prefix is refused"


def test_basic_auth_proves_the_user_and_the_secret(folder: Path, sims: Sims) -> None:
    sims.configure(auth="basic", username="lienthong", password="basic-pw")
    loaded = adapter(folder, sims, "{kind: basic, username: lienthong, secret: pw}", "secrets:\n  pw: {sandbox: basic-pw}")
    assert run(loaded, Wire(loaded, None), status_changed())[1].outcome == "ok"
    [request] = inbox(sims)
    assert request["authorized"] is True and request["credentials"] == {"authorization": True}

    wrong = adapter(folder, sims, "{kind: basic, username: lienthong, secret: pw}", "secrets:\n  pw: {sandbox: other}",
                    code="basic_wrong")
    assert run(wrong, Wire(wrong, None), status_changed())[0].status == 401


@pytest.mark.parametrize("client_auth", ["basic", "form"])
def test_oauth_client_credentials_fetch_one_token_with_the_scope_and_keep_it(
        folder: Path, sims: Sims, client_auth: str) -> None:
    sims.configure(auth="bearer", client_id="hub-client", client_secret="oauth-secret")
    loaded = adapter(folder, sims, f"{{kind: oauth_client_credentials, token_url: /oauth/token, client_id: hub-client, "
                                   f"secret: cs, scope: hoso.write, client_auth: {client_auth}}}",
                     "secrets:\n  cs: {sandbox: oauth-secret}")
    wire = Wire(loaded, None)
    token_calls: list[tuple[httpx.Request, dict[str, Any]]] = []

    def seen(response: httpx.Response) -> None:  # what the real token endpoint was sent and answered
        if response.request.url.path.endswith("/oauth/token"):
            response.read()
            token_calls.append((response.request, response.json()))

    wire.http.event_hooks["response"] = [seen]
    for step in (1, 2):
        assert run(loaded, wire, status_changed(step=step))[1].outcome == "ok"
    assert sims.counters()["tokens_issued"] == 1, "the token is kept for the next call"
    assert [r["authorized"] for r in inbox(sims)] == [True, True]
    [(request, answer)] = token_calls
    form = httpx.QueryParams(request.content.decode())
    assert answer["scope"] == "hoso.write" and form["scope"] == "hoso.write", "the scope is sent (and echoed)"
    assert form["grant_type"] == "client_credentials"
    if client_auth == "basic":
        assert request.headers["authorization"].startswith("Basic ") and "client_secret" not in form
    else:
        assert "authorization" not in request.headers
        assert (form["client_id"], form["client_secret"]) == ("hub-client", "oauth-secret")


def test_a_login_session_in_a_header_is_renewed_once_after_the_system_forgets_it(folder: Path, sims: Sims) -> None:
    sims.configure(auth="session", username="lienthong", password="login-pw")
    loaded = adapter(folder, sims, """
  kind: login
  request: {method: POST, path: /login, json: {username: lienthong, password: "{{ secret('pw') }}"}}
  token: "{{ answer.session }}"
  lifetime: "{{ answer.ttl }}"
  header: X-Session
  value: "{{ token }}"
""", "secrets:\n  pw: {sandbox: login-pw}")
    wire = Wire(loaded, None)
    assert run(loaded, wire, status_changed(step=1))[1].outcome == "ok"
    assert run(loaded, wire, status_changed(step=2))[1].outcome == "ok"
    assert sims.counters()["sessions_opened"] == 1, "the session is kept between calls"
    sims.post("/generic/_sim/faults", {"expire_tokens": True})
    assert run(loaded, wire, status_changed(step=3))[1].outcome == "ok", "a forgotten session costs no delivery"
    assert sims.counters()["sessions_opened"] == 2, "one more login, no more"
    assert [(r["authorized"], r["credentials"]) for r in inbox(sims)] == [
        (True, {"x-session": True}), (True, {"x-session": True}), (False, {"x-session": True}), (True, {"x-session": True})]


def death_dossier() -> dict[str, Any]:
    message: dict[str, Any] = json.loads((SHIPPED / "samples" / "death.json").read_text(encoding="utf-8"))
    return message


def test_a_login_token_as_bearer_is_renewed_once_after_the_registry_expires_it(sims: Sims) -> None:
    """The shipped civil-status adapter: a login whose token goes as ``Authorization: Bearer``."""
    loaded = load(SHIPPED / "civil_status.yaml", env={"LIENTHONG_CIVIL_STATUS_URL": f"{sims.url}/hotich"})
    wire = Wire(loaded, None)
    answer, verdict = run(loaded, wire, death_dossier())
    assert verdict.outcome == "ok" and answer.json == {"status": "1", "errorDescription": ""}
    sims.post("/hotich/_sim/faults", {"expire_tokens": True})
    answer, verdict = run(loaded, wire, death_dossier())
    assert verdict.outcome == "ok" and answer.json["errorDescription"] == "Hồ sơ đã được tiếp nhận trước đó"
    counters = sims.counters("/hotich")
    assert (counters["token_issued"], counters["unauthorized"], counters["received"]) == (2, 1, 1)


def business_dossier() -> dict[str, Any]:
    message: dict[str, Any] = json.loads((SHIPPED / "samples" / "business.json").read_text(encoding="utf-8"))
    message["payload"]["attachments"] = []
    return message


def soap_adapter(sims: Sims) -> Loaded:
    return load(SHIPPED / "soap_test.yaml", env={"LIENTHONG_SOAP_TEST_URL": f"{sims.url}/soap"})


def test_ws_security_signs_with_a_digest_username_token(sims: Sims) -> None:
    loaded = soap_adapter(sims)
    answer, verdict = run(loaded, Wire(loaded, None), business_dossier())
    assert (verdict.outcome, verdict.reference) == ("ok", "BN-000001"), verdict
    assert answer.json["ketQua"] == "OK"
    ministry = sims.app.state.sims["soap"]
    assert len(ministry.nonces) == 1, "a PasswordDigest token carries a nonce (a PasswordText one would not)"
    assert sims.counters("/soap")["auth_failed"] == 0


def test_ws_security_with_a_wrong_password_is_a_failed_authentication_fault_and_permanent(
        sims: Sims, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_SOAP_TEST_PASSWORD", "not-the-password")
    loaded = soap_adapter(sims)
    answer, verdict = run(loaded, Wire(loaded, None), business_dossier())
    assert answer.fault is not None and answer.fault.endswith("FailedAuthentication"), answer
    assert verdict.outcome == "permanent" and "FailedAuthentication" in verdict.reason
    assert "not-the-password" not in verdict.reason
    assert sims.get("/soap/_sim/state")["received"] == [] and sims.counters("/soap")["auth_failed"] == 1


def test_a_secret_comes_from_its_environment_variable_before_its_sandbox_value(
        folder: Path, sims: Sims, monkeypatch: pytest.MonkeyPatch) -> None:
    sims.configure(auth="api_key", api_key="from-the-environment")
    secrets = "secrets:\n  key: {env: MTEST_GENERIC_KEY, sandbox: the-sandbox-value}"
    loaded = adapter(folder, sims, "{kind: key_header, secret: key}", secrets)
    monkeypatch.delenv("MTEST_GENERIC_KEY", raising=False)
    assert run(loaded, Wire(loaded, None), status_changed())[0].status == 401, "unset: the sandbox value, refused here"
    monkeypatch.setenv("MTEST_GENERIC_KEY", "from-the-environment")
    assert run(loaded, Wire(loaded, None), status_changed())[1].outcome == "ok"
    assert [r["authorized"] for r in inbox(sims)] == [False, True]


def connector_for(loaded: Loaded, tmp_path: Path) -> AdapterConnector:
    """The adapter's connector with a real member context (a database not migrated: no vault yet)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", "redis://127.0.0.1:9/0", tmp_path)
    ctx = PartnerContext(manifest("ministry_apps"), settings, code=loaded.adapter.code)
    return AdapterConnector(ctx, lambda: loaded)


@pytest.mark.parametrize("style", ["basic", "login"])
def test_a_secret_set_nowhere_is_transient_names_the_secret_and_shows_no_secret_value(
        folder: Path, sims: Sims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str) -> None:
    monkeypatch.delenv("MTEST_CLIENT_KEY", raising=False)
    monkeypatch.setenv("MTEST_PASSWORD", "pw-value-9f3a")
    sims.configure(auth="session")
    secrets = "secrets:\n  password: {env: MTEST_PASSWORD}\n  client_key: {env: MTEST_CLIENT_KEY}"
    auth = "{kind: basic, username: lienthong, secret: client_key}" if style == "basic" else """
  kind: login
  request:
    path: /login
    headers: {X-Client-Key: "{{ secret('client_key') }}"}
    json: {username: lienthong, password: "{{ secret('password') }}"}
  token: "{{ answer.session }}"
  header: X-Session
  value: "{{ token }}"
"""
    loaded = adapter(folder, sims, auth, secrets)
    [outcome] = connector_for(loaded, tmp_path).deliver([MESSAGE_ADAPTER.validate_python(canonical(status_changed()))])
    assert isinstance(outcome, Outcome) and outcome.kind == "transient", outcome
    assert "client_key" in outcome.detail and "MTEST_CLIENT_KEY" in outcome.detail, outcome.detail
    assert "pw-value-9f3a" not in outcome.detail
    counters = sims.counters()
    assert (counters["inbox"], counters["sessions_opened"], counters["unauthorized"]) == (0, 0, 0), "nothing was sent"
