"""Result documents: the hub passes a document on only when its SHA-256 is the one its message names,
and fetches only from allowed hosts (a real local HTTP server serves good and tampered files)."""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select

from hub.config import Settings
from hub.documents import DigestMismatch, DocumentRefused, DocumentUnavailable, fetch_verified
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub, client
from tests.factories import T0, dossier_code, submitted
from tests.support import wait_until

PDF = b"%PDF-1.7\n" + "Quyết định cấp bản sao trích lục hộ tịch".encode() * 200
TAMPERED = PDF.replace(b"%PDF-1.7", b"%PDF-1.6")


class Files:
    """A real HTTP server on loopback: path -> (status, headers, body); counts the requests it got."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes, self.hits = routes, 0
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                files.hits += 1
                status, headers, body = files.routes.get(self.path, (404, {}, b"no such file"))
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def files() -> Iterator[Files]:
    pdf = {"Content-Type": "application/pdf"}
    f = Files({"/good.pdf": (200, pdf, PDF), "/tampered.pdf": (200, pdf, TAMPERED),
               "/moved.pdf": (302, {"Location": "/good.pdf"}, b"")})
    yield f
    f.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def result_issued(documents: list[dict[str, str]]) -> dict[str, Any]:
    return {"message_id": str(uuid.uuid4()), "type": "result.issued", "source": "motcua",
            "occurred_at": T0.isoformat(), "dossier_code": dossier_code(1),
            "payload": {"agency_id": "000.00.00.H49", "issued_at": T0.isoformat(), "documents": [
                {"document_id": f"GT-{i}", "name": f"Giấy tờ {i}", "url": d["url"], "sha256": d["sha256"]}
                for i, d in enumerate(documents)]}}


# --- fetching --------------------------------------------------------------------------------


def test_a_document_whose_digest_matches_is_returned_with_its_content_digest(settings: Settings, files: Files) -> None:
    doc = fetch_verified(files.url("/good.pdf"), sha(PDF), settings=settings)
    assert doc.content == PDF and doc.content_type == "application/pdf"
    assert doc.content_digest == f"sha-256=:{base64.b64encode(hashlib.sha256(PDF).digest()).decode()}:"


def test_a_tampered_document_raises_digest_mismatch_and_returns_nothing(settings: Settings, files: Files) -> None:
    with pytest.raises(DigestMismatch) as mismatch:
        fetch_verified(files.url("/tampered.pdf"), sha(PDF), settings=settings)
    assert sha(TAMPERED) not in str(mismatch.value) and not hasattr(mismatch.value, "actual")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x.pdf", "file:///etc/passwd", "http://user:pw@127.0.0.1/x.pdf",
                                 "http://169.254.169.254/latest/meta-data", "http://10.0.0.5/x.pdf"])
def test_only_http_urls_on_allowed_hosts_without_credentials_are_fetched(settings: Settings, url: str) -> None:
    with pytest.raises(DocumentRefused):
        fetch_verified(url, sha(PDF), settings=settings)


def test_a_host_outside_the_allowlist_is_never_contacted(settings: Settings, files: Files) -> None:
    only_ip = settings.model_copy(update={"document_hosts": ["127.0.0.1"]})
    with pytest.raises(DocumentRefused, match="host localhost"):
        fetch_verified(files.url("/good.pdf", host="localhost"), sha(PDF), settings=only_ip)
    assert files.hits == 0
    by_domain = settings.model_copy(update={"document_hosts": [".localhost"]})
    assert fetch_verified(files.url("/good.pdf", host="localhost"), sha(PDF), settings=by_domain).content == PDF


def test_redirects_errors_and_oversized_documents_are_unavailable(settings: Settings, files: Files) -> None:
    with pytest.raises(DocumentUnavailable, match="redirects are not followed"):
        fetch_verified(files.url("/moved.pdf"), sha(PDF), settings=settings)
    with pytest.raises(DocumentUnavailable, match="did not answer with the document"):
        fetch_verified(files.url("/missing.pdf"), sha(PDF), settings=settings)
    small = settings.model_copy(update={"document_max_bytes": len(PDF) - 1})
    with pytest.raises(DocumentUnavailable, match="larger than the hub's limit"):
        fetch_verified(files.url("/good.pdf"), sha(PDF), settings=small)


# --- the endpoint ----------------------------------------------------------------------------


@pytest.fixture
def result(hub: Hub, api: str, motcua: httpx.Client, files: Files) -> dict[str, Any]:
    message = result_issued([{"url": files.url("/good.pdf"), "sha256": sha(PDF)},
                             {"url": files.url("/tampered.pdf"), "sha256": sha(PDF)},
                             {"url": files.url("/missing.pdf"), "sha256": sha(PDF)}])
    assert motcua.post("/v1/messages", json=submitted(1)).status_code == 202
    r = motcua.post("/v1/messages", json=message)
    assert r.status_code == 202, r.text
    return message


def test_the_endpoint_answers_a_matching_document_with_content_digest(result: dict[str, Any], motcua: httpx.Client) -> None:
    r = motcua.get(f"/v1/messages/{result['message_id']}/documents/0")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(PDF).digest()).decode()}:"


def test_the_endpoint_refuses_a_tampered_document_with_502_and_records_why(
        hub: Hub, result: dict[str, Any], motcua: httpx.Client) -> None:
    rid = uuid.uuid4().hex
    r = motcua.get(f"/v1/messages/{result['message_id']}/documents/1", headers={"X-Request-Id": rid})
    assert r.status_code == 502 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/document-digest-mismatch"
    assert (r.json()["message_id"], r.json()["document_index"]) == (result["message_id"], 1)
    assert sha(TAMPERED) not in r.text and b"%PDF" not in r.content

    def record() -> Any:
        with reading(hub.engine) as conn:
            return conn.execute(select(access_records).where(access_records.c.caller_request_id == rid)).first()

    assert wait_until(record, 5, what="the access record").outcome == "document-digest-mismatch"


def test_unreachable_missing_and_foreign_documents(hub: Hub, api: str, result: dict[str, Any], motcua: httpx.Client) -> None:
    mid = result["message_id"]
    unavailable = motcua.get(f"/v1/messages/{mid}/documents/2")
    beyond = motcua.get(f"/v1/messages/{mid}/documents/3")
    with client(api, hub.keys["postal_vnpost"]) as stranger, client(api, hub.keys["national_dvc"]) as recipient:
        foreign = stranger.get(f"/v1/messages/{mid}/documents/0")
        routed = recipient.get(f"/v1/messages/{mid}/documents/0")
    with client(api, hub.keys["ops"]) as operator:
        seen = operator.get(f"/v1/messages/{mid}/documents/0")
    assert (unavailable.status_code, unavailable.json()["type"]) == (502, "/problems/document-unavailable")
    assert (beyond.status_code, beyond.json()["type"]) == (404, "/problems/not-found")
    assert foreign.status_code == 404  # neither sent it nor received it
    assert routed.status_code == 200 and routed.content == PDF  # the destination partner may fetch it
    assert seen.status_code == 200


def test_a_message_that_is_not_a_result_names_no_documents(hub: Hub, motcua: httpx.Client) -> None:
    message = submitted(2)
    assert motcua.post("/v1/messages", json=message).status_code == 202
    r = motcua.get(f"/v1/messages/{message['message_id']}/documents/0")
    assert r.status_code == 404 and "only result.issued" in r.json()["detail"]
