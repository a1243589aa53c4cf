"""Inbound HTTP message signatures through the real API over loopback: a signed intake is accepted;
every signed component tampered with, a replay, an unknown, revoked or mis-declared key, a stale
signature are each refused with 401 naming the check, store nothing and leave an access record;
each of the four algorithms works; a partner rotates its key without a refused request."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import func, select

from hub.edge.app import create_app
from hub.signatures.jwk import b64url, public_jwk
from hub.signatures.nonces import NonceBook, NonceStoreDown
from hub.signatures.registry import add_key, revoke_key, set_policy
from hub.signatures.signer import MessageSigner
from hub.store.engine import reading
from hub.store.tables import access_records, admin_actions, messages
from tests.conftest import Hub
from tests.factories import status_changed, submitted
from tests.support import ThreadedServer, client, free_port, wait_until


def register(hub: Hub, alg: str = "ed25519", kid: str | None = None, partner: str = "motcua") -> MessageSigner:
    """A new key of ``alg`` registered for ``partner``; the signer that uses it."""
    kid = kid or f"{partner}-{alg}-{secrets.token_hex(3)}"
    if alg == "hmac-sha256":
        secret = secrets.token_bytes(32)
        add_key(hub.engine, hub.settings, partner, {"kty": "oct", "k": b64url(secret), "kid": kid}, actor="test")
        return MessageSigner(alg, kid, secret)
    key: Any = {"ed25519": lambda: ed25519.Ed25519PrivateKey.generate(),
                "ecdsa-p256-sha256": lambda: ec.generate_private_key(ec.SECP256R1()),
                "rsa-pss-sha512": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)}[alg]()
    add_key(hub.engine, hub.settings, partner, public_jwk(key, kid), actor="test")
    return MessageSigner(alg, kid, key)


def stored(hub: Hub) -> int:
    with reading(hub.engine) as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def outcomes(hub: Hub) -> list[str]:
    with reading(hub.engine) as conn:
        return [r.outcome for r in conn.execute(select(access_records.c.outcome).order_by(access_records.c.id))]


def build(c: httpx.Client, body: dict[str, Any] | None = None, path: str = "/v1/messages", method: str = "POST",
          content_type: str = "application/json") -> httpx.Request:
    content = orjson.dumps(body if body is not None else status_changed())
    return c.build_request(method, path, content=content, headers={"Content-Type": content_type})


def signed(c: httpx.Client, signer: MessageSigner, body: dict[str, Any] | None = None, **kw: Any) -> httpx.Request:
    request = build(c, body)
    signer.sign(request, **kw)
    return request


def resend(c: httpx.Client, original: httpx.Request, *, content: bytes | None = None, path: str = "/v1/messages",
           **headers: str) -> httpx.Response:
    """Send ``original``'s signed headers again, on ``path``, with ``content`` and ``headers`` changed."""
    keep = {k: v for k, v in original.headers.items() if k in ("content-type", "content-digest", "signature-input", "signature")}
    keep.update({k.replace("_", "-"): v for k, v in headers.items()})
    return c.send(c.build_request("POST", path, content=content if content is not None else original.content, headers=keep))


def refused(r: httpx.Response, rule: str) -> None:
    assert r.status_code == 401, r.text
    problem = r.json()
    assert problem["type"] == "/problems/signature-rejected"
    assert problem["errors"][0]["rule"] == rule, problem


@pytest.fixture
def signer(hub: Hub) -> MessageSigner:
    s = register(hub)
    set_policy(hub.engine, "motcua", "required", actor="test")
    return s


def test_signed_intake_is_accepted_and_stored(signer: MessageSigner, motcua: httpx.Client, hub: Hub) -> None:
    r = motcua.send(signed(motcua, signer))
    assert r.status_code == 202, r.text
    assert stored(hub) == 1


def _tampered_method(c: httpx.Client, s: MessageSigner) -> httpx.Response:
    put = build(c, method="PUT")  # signed as PUT, sent as POST
    s.sign(put)
    return resend(c, put)


def _tampered_target(c: httpx.Client, s: MessageSigner) -> httpx.Response:
    other = c.build_request("POST", "/v1/messages:batch", content=orjson.dumps(status_changed()),
                            headers={"Content-Type": "application/json"})
    s.sign(other)  # signed for another URL
    return resend(c, other, content=other.content)


def _tampered_body(c: httpx.Client, s: MessageSigner) -> httpx.Response:
    r = signed(c, s)
    return resend(c, r, content=orjson.dumps(status_changed()))


def _tampered_digest(c: httpx.Client, s: MessageSigner) -> httpx.Response:
    r = signed(c, s)
    body = orjson.dumps(status_changed())
    import hashlib
    return resend(c, r, content=body, content_digest=f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:")


def _tampered_content_type(c: httpx.Client, s: MessageSigner) -> httpx.Response:
    return resend(c, signed(c, s), content_type="application/json; charset=utf-8")


def _tampered_param(name: str, change: Callable[[str], str]) -> Callable[[httpx.Client, MessageSigner], httpx.Response]:
    def run(c: httpx.Client, s: MessageSigner) -> httpx.Response:
        r = signed(c, s)
        inputs = r.headers["signature-input"]
        start = inputs.index(f";{name}=") + len(name) + 2
        end = inputs.find(";", start)
        end = len(inputs) if end < 0 else end
        return resend(c, r, signature_input=inputs[:start] + change(inputs[start:end]) + inputs[end:])
    return run


def _tampered_signature(c: httpx.Client, s: MessageSigner) -> httpx.Response:
    r = signed(c, s)
    label, _, value = r.headers["signature"].partition("=:")
    raw = bytearray(base64.b64decode(value.rstrip(":")))
    raw[0] ^= 1
    return resend(c, r, signature=f"{label}=:{base64.b64encode(bytes(raw)).decode()}:")


TAMPERS = {
    "method": (_tampered_method, "bad_signature"),
    "target_uri": (_tampered_target, "bad_signature"),
    "body": (_tampered_body, "digest_mismatch"),
    "content_digest": (_tampered_digest, "bad_signature"),
    "content_type": (_tampered_content_type, "bad_signature"),
    "created": (_tampered_param("created", lambda v: str(int(v) - 1)), "bad_signature"),
    "keyid": (None, "bad_signature"),  # another registered key of the same partner, below
    "nonce": (_tampered_param("nonce", lambda v: '"' + secrets.token_urlsafe(8) + '"'), "bad_signature"),
    "signature": (_tampered_signature, "bad_signature"),
}


def test_each_tampered_component_is_refused_and_nothing_is_stored(signer: MessageSigner, motcua: httpx.Client,
                                                                  hub: Hub) -> None:
    other = register(hub)  # a second key of the same partner, for the keyid variation
    TAMPERS["keyid"] = (_tampered_param("keyid", lambda v: f'"{other.keyid}"'), "bad_signature")
    for name, (tamper, rule) in TAMPERS.items():
        assert tamper is not None
        r = tamper(motcua, signer)
        assert r.status_code == 401, (name, r.text)
        assert r.json()["errors"][0]["rule"] == rule, (name, r.json())
    assert stored(hub) == 0
    expected = [f"signature:{rule}" for _, rule in TAMPERS.values()]
    assert wait_until(lambda: [o for o in outcomes(hub) if o.startswith("signature:")] == expected, 5), outcomes(hub)


def test_replayed_request_is_refused(signer: MessageSigner, motcua: httpx.Client, hub: Hub) -> None:
    request = signed(motcua, signer)
    assert motcua.send(request).status_code == 202
    refused(resend(motcua, request), "replay")
    assert stored(hub) == 1
    assert wait_until(lambda: "signature:replay" in outcomes(hub), 5)


def test_unsigned_request_is_refused_when_signatures_are_required(signer: MessageSigner, motcua: httpx.Client,
                                                                  hub: Hub) -> None:
    refused(motcua.post("/v1/messages", json=status_changed()), "missing")
    refused(motcua.post("/v1/messages:batch", json={"messages": [status_changed()]}), "missing")
    assert stored(hub) == 0


def test_optional_policy_checks_a_signature_only_when_one_is_sent(signer: MessageSigner, motcua: httpx.Client,
                                                                  hub: Hub) -> None:
    set_policy(hub.engine, "motcua", "optional", actor="test")
    assert wait_until(lambda: motcua.post("/v1/messages", json=status_changed()).status_code == 202, 3)
    refused(_tampered_signature(motcua, signer), "bad_signature")
    assert motcua.send(signed(motcua, signer)).status_code == 202


def test_partner_with_policy_off_is_not_checked(hub: Hub, motcua: httpx.Client) -> None:
    r = motcua.post("/v1/messages", json=status_changed(), headers={"Signature-Input": "garbage((", "Signature": "x"})
    assert r.status_code == 202


def test_signed_batch_is_verified(signer: MessageSigner, motcua: httpx.Client, hub: Hub) -> None:
    request = motcua.build_request("POST", "/v1/messages:batch", content=orjson.dumps({"messages": [submitted(seq=7)]}),
                                   headers={"Content-Type": "application/json"})
    signer.sign(request)
    assert motcua.send(request).json()["accepted"] == 1
    refused(resend(motcua, request, path="/v1/messages:batch"), "replay")


@pytest.mark.parametrize("case, rule", [
    ("unknown key", "unknown_key"), ("another partner's key", "unknown_key"), ("malformed", "malformed"),
    ("no nonce", "malformed"), ("components missing", "components_missing"), ("alg mismatch", "alg_mismatch"),
    ("created too old", "created_skew"), ("created in the future", "created_skew"), ("expired", "expired"),
])
def test_bad_signature_inputs_are_refused_with_the_check_that_failed(case: str, rule: str, signer: MessageSigner,
                                                                    motcua: httpx.Client, hub: Hub) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    request = build(motcua)
    if case == "unknown key":
        MessageSigner("ed25519", "nobody-knows-me", ed25519.Ed25519PrivateKey.generate()).sign(request)
    elif case == "another partner's key":
        ops_key = register(hub, partner="ops")
        ops_key.sign(request)
    elif case == "malformed":
        signer.sign(request)
        request.headers["Signature-Input"] = "sig=(\"@method\";created=oops"
    elif case == "no nonce":
        signer.sign(request)
        inputs = request.headers["signature-input"]
        request.headers["Signature-Input"] = inputs[:inputs.index(";nonce=")]
    elif case == "components missing":
        signer.sign(request, covered=("@method", "@target-uri"))
    elif case == "alg mismatch":
        ec_key = register(hub, "ecdsa-p256-sha256")
        MessageSigner("ed25519", ec_key.keyid, ed25519.Ed25519PrivateKey.generate()).sign(request)
    elif case == "created too old":
        signer.sign(request, created=now - timedelta(seconds=hub.settings.signature_max_skew_seconds + 30))
    elif case == "created in the future":
        signer.sign(request, created=now + timedelta(seconds=hub.settings.signature_max_skew_seconds + 30))
    elif case == "expired":
        MessageSigner("ed25519", signer.keyid, signer.key, lifetime_seconds=-5).sign(request)
    refused(motcua.send(request), rule)
    assert stored(hub) == 0
    assert wait_until(lambda: f"signature:{rule}" in outcomes(hub), 5)


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256-sha256", "rsa-pss-sha512", "hmac-sha256"])
def test_each_supported_algorithm_is_accepted(alg: str, hub: Hub, motcua: httpx.Client) -> None:
    signer = register(hub, alg)
    set_policy(hub.engine, "motcua", "required", actor="test")
    r = motcua.send(signed(motcua, signer))
    assert r.status_code == 202, r.text


def test_revoked_key_is_refused_within_a_second(signer: MessageSigner, motcua: httpx.Client, hub: Hub) -> None:
    assert motcua.send(signed(motcua, signer)).status_code == 202
    revoke_key(hub.engine, "motcua", signer.keyid, actor="test")
    assert wait_until(lambda: motcua.send(signed(motcua, signer)).status_code == 401, 2)
    refused(motcua.send(signed(motcua, signer)), "revoked_key")


def test_partner_key_rotation_refuses_no_request(signer: MessageSigner, motcua: httpx.Client, hub: Hub) -> None:
    """The partner registers a new key, switches to it, and the old one is revoked, while it keeps sending."""
    current = [signer]
    statuses: list[int] = []
    stop = threading.Event()

    def send() -> None:
        with client(str(motcua.base_url), hub.keys["motcua"]) as c:
            while not stop.is_set():
                statuses.append(c.send(signed(c, current[0])).status_code)
                time.sleep(0.02)  # under the key's per-second limit: this test is about rotation, not limits

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert wait_until(lambda: len(statuses) >= 3, 10)
        new = register(hub)  # 1. register the new key
        current[0] = new  # 2. the partner switches to it
        seen = len(statuses)
        assert wait_until(lambda: len(statuses) >= seen + 3, 10)
        revoke_key(hub.engine, "motcua", signer.keyid, actor="test")  # 3. the old key is revoked
        time.sleep(2 * hub.settings.credential_cache_seconds + 0.2)  # every cache has seen the revocation
        seen = len(statuses)
        assert wait_until(lambda: len(statuses) >= seen + 3, 10)
    finally:
        stop.set()
        sender.join(10)
    assert set(statuses) == {202}, statuses
    refused(motcua.send(signed(motcua, signer)), "revoked_key")


def test_admin_api_registers_lists_and_revokes_keys_and_sets_the_policy(hub: Hub, api: str) -> None:
    from hub.access.accounts import add_account

    add_account(hub.engine, "alice", "Alice", "admin", "correct horse battery", actor="test")
    token = httpx.post(f"{api}/v1/auth/login", json={"username": "alice", "password": "correct horse battery"}).json()["token"]
    secret = b64url(secrets.token_bytes(32))
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}) as admin:
        key = ed25519.Ed25519PrivateKey.generate()
        r = admin.post("/v1/admin/partners/motcua/signing-keys", json={"jwk": public_jwk(key, "motcua-a")})
        assert r.status_code == 201 and r.json()["alg"] == "ed25519", r.text
        r = admin.post("/v1/admin/partners/motcua/signing-keys", json={"jwk": {"kty": "oct", "k": secret, "kid": "motcua-h"}})
        assert r.status_code == 201 and secret not in r.text  # the HMAC secret is write-only
        private = {**public_jwk(key, "motcua-b"), "d": "AAAA"}
        assert admin.post("/v1/admin/partners/motcua/signing-keys", json={"jwk": private}).status_code == 422
        assert admin.post("/v1/admin/partners/motcua/signing-keys",
                          json={"jwk": public_jwk(key, "motcua-a")}).status_code == 409
        assert admin.patch("/v1/admin/partners/motcua", json={"signatures": "required"}).json()["signatures"] == "required"
        assert admin.put("/v1/admin/partners/motcua/signing-policy", json={"signatures": "optional"}).status_code == 200
        listed = admin.get("/v1/admin/partners/motcua/signing-keys").json()["keys"]
        assert [k["keyid"] for k in listed] == ["motcua-a", "motcua-h"] and secret not in str(listed)
        assert admin.post("/v1/admin/partners/motcua/signing-keys/motcua-a:revoke").json()["state"] == "revoked"
    with reading(hub.engine) as conn:
        done = [r.action for r in conn.execute(select(admin_actions.c.action).order_by(admin_actions.c.id))]
    assert {"signing_key.add", "signing_key.revoke", "partner.update", "vault.set"} <= set(done)
    assert not any(secret in str(r) for r in done)


def test_target_uri_is_the_one_the_partner_called_behind_a_trusted_proxy(hub: Hub) -> None:
    signer = register(hub)
    set_policy(hub.engine, "motcua", "required", actor="test")
    behind = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "lienthong.tinh.gov.vn"}
    cases = ((["127.0.0.1/32"], 202), ([], 401))
    # both apps at once: each takes a while to start and stop (its intake writer process)
    servers = [ThreadedServer(create_app(hub.settings.model_copy(update={"trusted_proxies": trusted}))).start()
               for trusted, _ in cases]
    try:
        for server, (_, expected) in zip(servers, cases):
            with client(server.url, hub.keys["motcua"]) as c:
                request = c.build_request("POST", "https://lienthong.tinh.gov.vn/v1/messages",
                                          content=orjson.dumps(status_changed()), headers={"Content-Type": "application/json"})
                signer.sign(request)  # as the partner sent it, to the public URL
                sent = c.build_request("POST", "/v1/messages", content=request.content,
                                       headers={**{k: v for k, v in request.headers.items() if k != "host"}, **behind})
                assert c.send(sent).status_code == expected
    finally:
        for server in servers:
            server.stop()


def test_nonce_book_without_redis_remembers_per_process_or_denies() -> None:
    import asyncio

    down = f"redis://127.0.0.1:{free_port()}/0"

    async def run() -> None:
        local = NonceBook(down, 60, "local", timeout=0.2)
        assert await local.first_use("k", "n1") is True
        assert await local.first_use("k", "n1") is False
        assert await local.first_use("k", "n2") is True
        deny = NonceBook(down, 60, "deny", timeout=0.2)
        with pytest.raises(NonceStoreDown):
            await deny.first_use("k", "n1")

    asyncio.run(run())


def test_a_signature_the_hub_cannot_check_now_is_answered_503_with_retry_after(signer: MessageSigner, hub: Hub) -> None:
    """The nonce store down under the ``deny`` policy: 503 signature-unverifiable, Retry-After 1,
    nothing stored, the access record says ``signature:nonce_store_down``."""
    class Down:
        async def first_use(self, keyid: str, nonce: str) -> bool:
            raise NonceStoreDown("Redis is unreachable")

        def close(self) -> None:
            pass

    app = create_app(hub.settings)
    app.state.signatures.nonces = Down()
    with ThreadedServer(app).start() as server, client(server.url, hub.keys["motcua"]) as c:
        r = c.send(signed(c, signer))
    assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
    problem = r.json()
    assert problem["type"] == "/problems/signature-unverifiable" and "errors" not in problem, problem
    assert problem["detail"] == "the hub cannot check nonces now; send the request again"
    assert stored(hub) == 0
    assert wait_until(lambda: "signature:nonce_store_down" in outcomes(hub), 5), outcomes(hub)
