"""Document fetches that cannot be turned into a probe (issue #12, docs/security/documents.md).

Each test is an attack on ``GET /v1/messages/{id}/documents/{index}``, whose URL a partner chooses:
learning a file's digest to fetch it under a second message, reaching loopback or private
addresses through an allowlisted name, holding the hub with a slow server, a huge body, a
redirect, or a name that resolves differently the second time (DNS rebinding). Real servers on
loopback throughout; where a name must resolve to a chosen address, the test passes the fetch a
resolver (DNS is the one thing a test cannot point), and the real server proves where the hub dialled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import socket
import ssl
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from hub.config import Settings
from hub.document_addresses import refusal
from hub.documents import DocumentRefused, DocumentUnavailable, fetch_verified, unsafe_document_settings
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub, make_settings
from tests.factories import T0, dossier_code, submitted
from tests.support import RedisServer, wait_until

SECRET = b"root:x:0:0:internal file the hub can reach and the partner cannot\n" * 50
NAME = "documents.example.gov.vn"  # not in any DNS the test machine can reach: only a pinned dial works


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Raw:
    """A real TCP server on 127.0.0.1 that runs ``script(conn, request_head)`` per connection and
    notes each request's ``Host`` header and path."""

    def __init__(self, script: Callable[[socket.socket, bytes], None], tls: ssl.SSLContext | None = None) -> None:
        self.script, self.tls = script, tls
        self.hosts: list[str] = []
        self.paths: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            lines = head.split(b"\r\n")
            self.paths.append(lines[0].split(b" ")[1].decode())
            self.hosts += [ln.split(b":", 1)[1].strip().decode() for ln in lines[1:] if ln.lower().startswith(b"host:")]
            self.script(conn, head)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


def answer(status: str, body: bytes, headers: dict[str, str] | None = None) -> Callable[[socket.socket, bytes], None]:
    def script(conn: socket.socket, _: bytes) -> None:
        fields = {"Content-Length": str(len(body)), "Content-Type": "application/pdf", **(headers or {})}
        conn.sendall(f"HTTP/1.1 {status}\r\n".encode() + b"".join(f"{k}: {v}\r\n".encode() for k, v in fields.items())
                     + b"Connection: close\r\n\r\n" + body)
    return script


def trickle(phase: str) -> Callable[[socket.socket, bytes], None]:
    """A byte every 0.5 s: in the headers (never finishing them) or in a 1000-byte body."""
    def script(conn: socket.socket, _: bytes) -> None:
        if phase == "headers":
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            conn.sendall(b"a")
            time.sleep(0.5)
    return script


@pytest.fixture
def servers() -> Iterator[list[Raw]]:
    made: list[Raw] = []
    yield made
    for s in made:
        s.close()


def serve(servers: list[Raw], script: Callable[[socket.socket, bytes], None], tls: ssl.SSLContext | None = None) -> Raw:
    servers.append(Raw(script, tls))
    return servers[-1]


def doc_settings(**over: Any) -> Settings:
    """Sandbox-profile document settings (loopback allowed) with ``over`` applied."""
    return Settings(**{"document_hosts": ["127.0.0.1", "localhost", NAME], "document_timeout": 5.0, **over})


def pinned(*answers: list[str]) -> Any:
    """A resolver answering ``answers`` in turn (the last one from then on), counting its calls."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]
    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


# --- the digest oracle -----------------------------------------------------------------------


@pytest.fixture
def settings(db_url: str, redis_server: RedisServer, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The hub's settings; a test changes them with ``@pytest.mark.parametrize("settings", [{...}], indirect=True)``."""
    redis_server.flush()
    return make_settings(db_url, redis_server.url, tmp_path, **getattr(request, "param", {}))


def post_result(motcua: httpx.Client, url: str, digest: str) -> str:
    assert motcua.post("/v1/messages", json=submitted(1)).status_code == 202
    message = {"message_id": str(uuid.uuid4()), "type": "result.issued", "source": "motcua",
               "occurred_at": T0.isoformat(), "dossier_code": dossier_code(1),
               "payload": {"agency_id": "000.00.00.H49", "issued_at": T0.isoformat(), "documents": [
                   {"document_id": "GT-0", "name": "Giấy tờ", "url": url, "sha256": digest}]}}
    r = motcua.post("/v1/messages", json=message)
    assert r.status_code == 202, r.text
    return message["message_id"]


def test_a_digest_probe_learns_no_digest_size_or_content(
        hub: Hub, motcua: httpx.Client, servers: list[Raw], caplog: pytest.LogCaptureFixture) -> None:
    internal = serve(servers, answer("200 OK", SECRET))
    mid = post_result(motcua, internal.url("/etc/passwd"), "0" * 64)  # a guess: the probe
    rid = uuid.uuid4().hex
    with caplog.at_level(logging.INFO):
        r = motcua.get(f"/v1/messages/{mid}/documents/0", headers={"X-Request-Id": rid})
    assert r.status_code == 502 and r.json()["type"] == "/problems/document-digest-mismatch"
    assert (r.json()["message_id"], r.json()["document_index"]) == (mid, 0)
    assert internal.paths == ["/etc/passwd"]  # it was fetched, and yet:
    for leak in (sha(SECRET), str(len(SECRET)), "root:x"):
        assert leak not in r.text, leak
    hub_log = " ".join(rec.getMessage() for rec in caplog.records if rec.name.startswith("hub."))
    assert "digest mismatch" in hub_log  # the fact is logged; the log is no oracle either
    for leak in (sha(SECRET), str(len(SECRET)), "root:x"):
        assert leak not in hub_log, leak
    assert sha(SECRET) not in caplog.text

    def record() -> Any:
        with reading(hub.engine) as conn:
            return conn.execute(select(access_records).where(access_records.c.caller_request_id == rid)).first()

    row = wait_until(record, 5, what="the access record")
    assert row.outcome == "document-digest-mismatch"
    assert sha(SECRET) not in " ".join(str(v) for v in row)


@pytest.mark.parametrize("status", ["404 Secret Path Missing", "500 Internal Token abc123", "302 Found"])
def test_an_error_answer_repeats_nothing_of_the_remote_server(
        motcua: httpx.Client, servers: list[Raw], status: str) -> None:
    internal = serve(servers, answer(status, b"secret-body-bytes", {"X-Internal-Token": "secret-header",
                                                                   "Location": "http://127.0.0.1/x"}))
    mid = post_result(motcua, internal.url("/admin"), sha(SECRET))
    r = motcua.get(f"/v1/messages/{mid}/documents/0")
    assert r.status_code == 502 and r.json()["type"] == "/problems/document-unavailable"
    code, reason = status.split(" ", 1)
    detail = r.json()["detail"].replace(str(mid), "<message>")  # a random id may contain "302"
    for leak in (code, reason, "secret-body-bytes", "secret-header", "Location"):
        assert leak not in detail, leak


# --- the addresses behind an allowlisted name ------------------------------------------------


@pytest.mark.parametrize("settings", [{"document_hosts": ["localhost"], "document_allowed_networks": []}], indirect=True)
def test_an_allowlisted_name_resolving_to_loopback_is_refused_without_an_allowing_network(
        motcua: httpx.Client, servers: list[Raw]) -> None:
    internal = serve(servers, answer("200 OK", SECRET))
    mid = post_result(motcua, internal.url("/secret", host="localhost"), sha(SECRET))
    r = motcua.get(f"/v1/messages/{mid}/documents/0")
    assert r.status_code == 502 and r.json()["type"] == "/problems/document-unavailable"
    assert "resolves to an address the hub does not fetch" in r.json()["detail"] and "127.0.0.1" not in r.json()["detail"]
    assert internal.paths == []  # never contacted


def test_an_allowlisted_name_resolving_to_loopback_is_fetched_when_a_network_allows_it(servers: list[Raw]) -> None:
    internal = serve(servers, answer("200 OK", SECRET))
    url = internal.url("/doc.pdf", host="localhost")
    with pytest.raises(DocumentRefused):
        fetch_verified(url, sha(SECRET), settings=doc_settings(document_allowed_networks=[]))
    with pytest.raises(DocumentRefused):  # ::1 too is an address of localhost, and only 127/8 is allowed
        fetch_verified(url, sha(SECRET), settings=doc_settings(document_allowed_networks=["127.0.0.0/8"]),
                       resolver=pinned(["127.0.0.1", "::1"]))
    assert internal.paths == []
    got = fetch_verified(url, sha(SECRET), settings=doc_settings(document_allowed_networks=["127.0.0.0/8", "::1/128"]))
    assert got.content == SECRET


@pytest.mark.parametrize("address", ["10.0.0.5", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
                                     "0.0.0.0", "224.0.0.1", "240.0.0.1", "127.0.0.1", "[::1]", "[fc00::1]",
                                     "[fe80::1]", "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "[::]",
                                     "[64:ff9b::a00:5]", "[2002:a00:5::1]", "[ff02::1]"])
def test_a_literal_internal_address_is_refused_even_when_allowlisted(address: str) -> None:
    settings = doc_settings(document_hosts=[address.strip("[]")], document_allowed_networks=[])
    with pytest.raises(DocumentRefused, match="does not fetch documents from"):
        fetch_verified(f"http://{address}/latest/meta-data", sha(SECRET), settings=settings)


def test_a_name_with_one_public_and_one_internal_address_is_refused() -> None:
    resolver = pinned(["93.184.215.14", "10.0.0.5"])
    with pytest.raises(DocumentRefused):
        fetch_verified(f"http://{NAME}/doc.pdf", sha(SECRET), settings=doc_settings(document_allowed_networks=[]),
                       resolver=resolver)


def test_address_rules_name_the_range_and_honour_an_allowed_network() -> None:
    assert refusal("169.254.169.254", []) == "link-local"
    assert refusal("100.100.1.1", []) == "shared (CGNAT)"
    assert refusal("::ffff:10.1.2.3", []) == "private (as ::ffff:a01:203)"
    assert refusal("10.1.2.3", [ipaddress.ip_network("10.1.0.0/16")]) is None
    assert refusal("::ffff:10.1.2.3", [ipaddress.ip_network("10.1.0.0/16")]) is None
    assert refusal("93.184.215.14", []) is None and refusal("2606:2800:21f:cb07:6820:80da:af6b:8b2c", []) is None


# --- pinning: the hub dials the address it checked -------------------------------------------


def test_the_hub_dials_the_checked_address_and_never_looks_the_name_up_again(servers: list[Raw]) -> None:
    doc = serve(servers, answer("200 OK", SECRET))
    # Checked once as 127.0.0.1 (allowed); a second look-up would answer the metadata service.
    resolver = pinned(["127.0.0.1"], ["169.254.169.254"])
    got = fetch_verified(doc.url("/doc.pdf", host=NAME), sha(SECRET), settings=doc_settings(), resolver=resolver)
    assert got.content == SECRET
    assert resolver.calls == [NAME]  # one look-up
    assert doc.hosts == [f"{NAME}:{doc.port}"]  # the server saw the name while the hub dialled 127.0.0.1


def _tls_pair(tmp: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name`` only (no IP address), and a client context
    trusting its CA."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp / "leaf.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp / "leaf.pem", tmp / "leaf.key")
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


def test_https_to_the_pinned_address_verifies_the_certificate_against_the_name(
        servers: list[Raw], tmp_path: Path) -> None:
    server_ctx, trust = _tls_pair(tmp_path, NAME)
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda _sock, name, _ctx: sni.append(name)  # type: ignore[assignment]
    doc = serve(servers, answer("200 OK", SECRET), tls=server_ctx)
    got = fetch_verified(doc.url("/doc.pdf", host=NAME, scheme="https"), sha(SECRET), settings=doc_settings(),
                         resolver=pinned(["127.0.0.1"]), verify=trust)
    assert got.content == SECRET and sni == [NAME] and doc.hosts == [f"{NAME}:{doc.port}"]
    # The same server under another allowlisted name: its certificate does not name it, so no fetch.
    other = "other.example.gov.vn"
    with pytest.raises(DocumentUnavailable):
        fetch_verified(doc.url("/doc.pdf", host=other, scheme="https"), sha(SECRET),
                       settings=doc_settings(document_hosts=[other]), resolver=pinned(["127.0.0.1"]), verify=trust)


# --- one budget, one size limit, no redirects ------------------------------------------------


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_server_trickling_a_byte_every_half_second_is_cut_at_the_budget(servers: list[Raw], phase: str) -> None:
    slow = serve(servers, trickle(phase))
    started = time.monotonic()
    with pytest.raises(DocumentUnavailable, match="did not arrive within 1.5 s"):
        fetch_verified(slow.url("/doc.pdf"), sha(SECRET), settings=doc_settings(document_timeout=1.5))
    assert 1.4 < time.monotonic() - started < 2.2


@pytest.mark.parametrize("settings", [{"document_timeout": 1.5}], indirect=True)
def test_the_endpoint_answers_a_problem_when_the_budget_runs_out(motcua: httpx.Client, servers: list[Raw]) -> None:
    slow = serve(servers, trickle("body"))
    mid = post_result(motcua, slow.url("/doc.pdf"), sha(SECRET))
    started = time.monotonic()
    r = motcua.get(f"/v1/messages/{mid}/documents/0")
    assert time.monotonic() - started < 2.5
    assert r.status_code == 502 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/document-unavailable" and "within 1.5 s" in r.json()["detail"]


def test_an_oversized_document_is_refused_while_it_streams(servers: list[Raw]) -> None:
    def endless(conn: socket.socket, _: bytes) -> None:  # no Content-Length: only counting can stop it
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for _ in range(10_000):
            conn.sendall(b"x" * 65536)

    big, declared = serve(servers, endless), serve(servers, answer("200 OK", b"x" * 2000))
    limited = doc_settings(document_max_bytes=1000)
    started = time.monotonic()
    with pytest.raises(DocumentUnavailable, match="larger than the hub's limit of 1000 bytes"):
        fetch_verified(big.url("/huge"), sha(SECRET), settings=limited)
    assert time.monotonic() - started < 3  # cut, not read to its 655 MB end
    with pytest.raises(DocumentUnavailable, match="larger than the hub's limit of 1000 bytes"):
        fetch_verified(declared.url("/big"), sha(SECRET), settings=limited)


def test_a_redirect_to_an_internal_target_is_not_followed(servers: list[Raw]) -> None:
    target = serve(servers, answer("200 OK", SECRET))
    bouncer = serve(servers, answer("302 Found", b"", {"Location": target.url("/secret")}))
    with pytest.raises(DocumentUnavailable, match="redirects are not followed"):
        fetch_verified(bouncer.url("/doc.pdf"), sha(SECRET), settings=doc_settings())
    assert target.paths == []


# --- production ------------------------------------------------------------------------------


def test_production_fetches_nothing_until_configured_and_reports_loopback_allowances(servers: list[Raw]) -> None:
    doc = serve(servers, answer("200 OK", SECRET))
    production = Settings(profile="production")
    assert (production.document_hosts, production.document_allowed_networks) == ([], [])
    assert unsafe_document_settings(production) == []
    with pytest.raises(DocumentRefused):
        fetch_verified(doc.url("/doc.pdf"), sha(SECRET), settings=production)
    configured = Settings(profile="production", document_hosts=["127.0.0.1"])
    with pytest.raises(DocumentRefused):  # an allowlisted loopback address still needs an allowing network
        fetch_verified(doc.url("/doc.pdf"), sha(SECRET), settings=configured)
    assert doc.paths == []
    unsafe = Settings(profile="production", document_hosts=["localhost", "docs.example.gov.vn"],
                      document_allowed_networks=["127.0.0.0/8", "10.20.0.0/16", "0.0.0.0/0"])
    assert unsafe_document_settings(unsafe) == [
        "document allowlist admits loopback 127.0.0.0/8 (LIENTHONG_DOCUMENT_ALLOWED_NETWORKS)",
        "document allowlist admits unspecified, loopback, link-local 0.0.0.0/0 (LIENTHONG_DOCUMENT_ALLOWED_NETWORKS)",
        "document allowlist admits loopback host localhost (LIENTHONG_DOCUMENT_HOSTS)",
    ]
    assert unsafe_document_settings(Settings())  # the sandbox's own defaults would be unsafe in production
