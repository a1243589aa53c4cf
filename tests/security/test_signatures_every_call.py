"""Rule: a partner whose signing policy is ``required`` signs every request it makes (reads, document
fetches, replays), not only single-message intake; a request without a body signs without
``content-digest``."""

from __future__ import annotations

import httpx
import pytest

from hub.signatures.registry import set_policy
from hub.signatures.signer import MessageSigner
from tests.conftest import Hub
from tests.factories import status_changed
from tests.test_signatures_inbound import register

DOSSIER = status_changed()["dossier_code"]
# (method, path, body) of calls that are not single-message intake, one per route class a partner has
CALLS = [
    ("GET", "/v1/messages/m-anything", None),
    ("GET", f"/v1/dossiers/{DOSSIER}/trace", None),
    ("GET", "/v1/messages/m-anything/documents/0", None),
    ("GET", "/v1/dead-letters", None),
    ("POST", "/v1/deliveries/999999:replay", None),
    ("POST", "/v1/dead-letters:replay", {"ids": [999999]}),
]


@pytest.fixture
def ops_signer(hub: Hub) -> MessageSigner:
    """The operations partner must sign (its key reads and replays)."""
    signer = register(hub, partner="ops")
    set_policy(hub.engine, "ops", "required", actor="test")
    return signer


def request(c: httpx.Client, method: str, path: str, body: object) -> httpx.Request:
    return c.build_request(method, path, json=body) if body is not None else c.build_request(method, path)


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS])
def test_an_unsigned_read_or_replay_by_a_partner_that_must_sign_is_refused(
        ops_signer: MessageSigner, ops: httpx.Client, method: str, path: str, body: object) -> None:
    answer = ops.send(request(ops, method, path, body))
    assert answer.status_code == 401, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/signature-rejected" and problem["errors"][0]["rule"] == "missing"


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS])
def test_a_signed_call_passes_and_a_bodiless_one_signs_without_content_digest(
        ops_signer: MessageSigner, ops: httpx.Client, method: str, path: str, body: object) -> None:
    signed = request(ops, method, path, body)
    ops_signer.sign(signed)
    covered = signed.headers["signature-input"]
    assert ("content-digest" in covered) == (body is not None), covered
    answer = ops.send(signed)
    assert answer.status_code not in (401, 403), answer.text


def test_a_signed_read_cannot_be_replayed(ops_signer: MessageSigner, ops: httpx.Client) -> None:
    signed = request(ops, "GET", "/v1/dead-letters", None)
    ops_signer.sign(signed)
    assert ops.send(signed).status_code == 200
    again = ops.send(signed)
    assert again.status_code == 401 and again.json()["errors"][0]["rule"] == "replay"


def test_a_signed_read_sent_to_another_path_is_refused(ops_signer: MessageSigner, ops: httpx.Client) -> None:
    """The signature covers the target: a signed harmless read does not open another route."""
    signed = request(ops, "GET", "/v1/dead-letters", None)
    ops_signer.sign(signed)
    moved = ops.build_request("GET", "/v1/flows", headers={k: v for k, v in signed.headers.items()
                                                            if k in ("signature", "signature-input")})
    answer = ops.send(moved)
    assert answer.status_code == 401 and answer.json()["errors"][0]["rule"] == "bad_signature"


def test_a_refused_signature_is_charged_to_the_client_address(hub: Hub, ops_signer: MessageSigner, api: str) -> None:
    """Failed signatures count like unknown keys: past the threshold the address gets 429."""
    from hub.edge.app import create_app
    from tests.support import ThreadedServer, client

    strict = hub.settings.model_copy(update={"unauthenticated_quota": 3})
    with ThreadedServer(create_app(strict)).start() as server, client(server.url, hub.keys["ops"]) as c:
        statuses = [c.get("/v1/flows").status_code for _ in range(6)]
    assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}, statuses
