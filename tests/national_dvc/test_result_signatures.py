"""Signed results (connectors/national_dvc/results/): before the national portal is told of a result, each
of its PDF documents is fetched (with the document safeguards and its SHA-256) and its PAdES signature
checked with pyHanko against the configured authorities; the province flags or refuses what does not hold,
and the dossier's trace shows who signed.

Real parts: a certificate authority made at test time with ``cryptography``, PDFs signed with pyHanko,
served by a loopback HTTP server, the portal simulator (a process, shared by the session), a hub on SQLite
with its API and console over loopback."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from sqlalchemy import select

from connectors.national_dvc.connector import NationalDvcConnector
from connectors.national_dvc.results.trust import load, unsafe
from connectors.national_dvc.results.verify import check
from hub.access.accounts import add_account
from hub.context import context
from hub.edge.app import create_app
from hub.messages.models import MESSAGE_ADAPTER, Envelope
from hub.store.engine import reading
from hub.store.tables import result_signatures
from tests.conftest import Hub, make_settings, seed_hub
from tests.connectors.national_dvc_samples import _envelope, code, submitted
from tests.support import Portal, RedisServer, ThreadedServer, client

NOW = datetime.now(timezone.utc)
SIGNER, ORG = "Nguyễn Văn An", "UBND tỉnh Quảng Ninh"


# --- a certificate authority, signers and PDFs, made once for the module (EC P-256: fast) ----------------


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False, data_encipherment=False,
                         key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def _cert(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey,
          ca: bool, start: datetime, end: datetime) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_usage(ca), critical=True).sign(issuer_key, hashes.SHA256()))


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, cn: str) -> "Authority":
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(cn, "Ban Cơ yếu Chính phủ")
        return cls(key, _cert(name, key, name, key, True, NOW - timedelta(days=30), NOW + timedelta(days=3650)))

    def signer(self, cn: str, org: str, start: datetime | None = None, end: datetime | None = None) -> signers.SimpleSigner:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name(cn, org), key, self.cert.subject, self.key, False, start or NOW - timedelta(days=1),
                     end or NOW + timedelta(days=365))
        return signers.SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
            signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
            cert_registry=SimpleCertificateStore.from_certs(
                [asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))]))

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def tiny_pdf() -> bytes:
    """A one-page PDF written with pyHanko's writer."""
    writer = PdfFileWriter()
    box = generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 595, 842)])
    writer.insert_page(generic.DictionaryObject({generic.NameObject("/Type"): generic.NameObject("/Page"),
                                                 generic.NameObject("/MediaBox"): box}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed(pdf: bytes, signer: signers.SimpleSigner, field: str = "KySo") -> bytes:
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), signers.PdfSignatureMetadata(field_name=field),
                           signer=signer)
    return bytes(out.getvalue())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Pki:
    trust_dir: Path
    good: bytes  # signed by a signer the trusted authority certified
    untrusted: bytes  # signed by a key certified by an authority nobody configured
    broken: bytes  # the good PDF with a signed byte changed afterwards
    unsigned: bytes
    expired: bytes  # signed by a trusted authority's signer whose certificate had expired
    authority: Authority  # the trusted one


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    trusted, stranger = Authority.make("Root CA thử nghiệm"), Authority.make("CA tự lập")
    trust_dir = tmp_path_factory.mktemp("trust")
    (trust_dir / "root-ca.pem").write_bytes(trusted.pem())
    (trust_dir / "README.txt").write_text("not a certificate: ignored (only .pem .crt .cer .der are read)")
    pdf = tiny_pdf()
    good = signed(pdf, trusted.signer(SIGNER, ORG))
    box = b"/MediaBox [ 0 0 595 842 ]"
    assert box in good
    broken = good.replace(box, b"/MediaBox [ 0 0 842 595 ]", 1)  # the same length: only the signed digest differs
    expired = signed(pdf, trusted.signer("Trần Thị Bình", ORG, NOW - timedelta(days=60), NOW - timedelta(days=30)))
    return Pki(trust_dir, good, signed(pdf, stranger.signer("Kẻ giả mạo", "Không ai")), broken, pdf, expired, trusted)


# --- a document server, the portal simulator, a hub -------------------------------------------------


class Files:
    """A real HTTP server on loopback: path -> body (404 otherwise); counts the requests it got."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.hits = 0
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                files.hits += 1
                body = files.routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, name: str, body: bytes) -> str:
        self.routes[f"/kq/{name}"] = body
        return f"http://127.0.0.1:{self.server.server_address[1]}/kq/{name}"


@pytest.fixture(scope="module")
def files(pki: Pki) -> Iterator[Files]:
    f = Files()
    yield f
    f.server.shutdown()
    f.server.server_close()


@pytest.fixture(scope="module")
def hub(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for the module, on SQLite (the rows are few; tests/test_migrations.py checks both databases)."""
    tmp = tmp_path_factory.mktemp("hub")
    h = seed_hub(make_settings(f"sqlite:///{tmp / 'hub.db'}", redis_server.url, tmp), tmp)
    yield h
    h.engine.dispose()


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[str]:
    server = ThreadedServer(create_app(hub.settings)).start()
    yield server.url
    server.stop()


@pytest.fixture
def connect(hub: Hub, portal: Portal, pki: Pki) -> Iterator[Any]:
    """Connectors to the (reset) portal simulator under a policy; closed after the test."""
    made: list[NationalDvcConnector] = []

    def make(policy: str, trust: str | None = None) -> NationalDvcConnector:
        ctx = context("national_dvc", hub.settings, adapter_url=portal.url, timeout=3.0, result_signatures=policy,
                      result_trust_roots=str(pki.trust_dir) if trust is None else trust)
        made.append(NationalDvcConnector.from_context(ctx))
        return made[-1]

    yield make
    for c in made:
        c.close()


_seq = iter(range(100, 10_000))


def result(dossier: str, documents: list[tuple[str, str, bytes]], hub_api: str | None = None,
           key: str | None = None) -> Envelope:
    """A ``result.issued`` naming ``documents`` (id, url, the bytes whose SHA-256 it states); stored in the
    hub through its API when ``hub_api`` is given (so that the trace lists it)."""
    body = _envelope("result.issued", dossier, {
        "agency_id": "000.00.00.H49", "issued_at": NOW.isoformat(), "status": 9, "note": "Trả kết quả điện tử",
        "documents": [{"document_id": d, "name": f"Giấy tờ {d}", "component_code": "KQ1", "url": url, "sha256": sha(data)}
                      for d, url, data in documents]})
    if hub_api is not None:
        with client(hub_api, key) as motcua:
            assert motcua.post("/v1/messages", json=body).status_code == 202
    return MESSAGE_ADAPTER.validate_python(body)


def fresh(connector: NationalDvcConnector) -> str:
    """A new dossier, known to the portal (a result updates a dossier the portal has)."""
    dossier = code(next(_seq))
    assert [o.kind for o in connector.deliver([submitted(dossier)])] == ["ok"]
    return dossier


def checks(hub: Hub, dossier: str) -> list[Any]:
    with reading(hub.engine) as conn:
        return list(conn.execute(select(result_signatures).where(result_signatures.c.dossier_code == dossier)
                                 .order_by(result_signatures.c.id)).all())


def portal_results(portal: Portal, dossier: str) -> Any:
    return (portal.dossier(dossier) or {}).get("dossier", {}).get("DanhSachGiayToKetQua")


# --- the policy at delivery ----------------------------------------------------------------------------


def test_a_pdf_signed_under_a_trusted_authority_is_sent_and_the_trace_names_its_signer(
        hub: Hub, api: str, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("refuse")
    dossier = fresh(connector)
    message = result(dossier, [("kq-1", files.serve("good.pdf", pki.good), pki.good)], api, hub.keys["motcua"])

    assert [o.kind for o in connector.deliver([message])] == ["ok"]

    assert portal_results(portal, dossier)[0]["TenGiayTo"] == "Giấy tờ kq-1"
    [row] = checks(hub, dossier)
    assert (row.state, row.intact, row.trusted, row.valid, row.reason) == ("valid", True, True, True, "")
    assert row.signer == f"{SIGNER} ({ORG})" and row.issuer.startswith("Root CA thử nghiệm")
    assert row.sha256 == sha(pki.good) and abs(row.signed_at - NOW) < timedelta(minutes=5)
    with client(api, hub.keys["ops"]) as ops:
        trace = ops.get(f"/v1/dossiers/{dossier}/trace").json()
    [shown] = [m for m in trace["messages"] if m["type"] == "result.issued"]
    assert [(s["document_id"], s["state"], s["signer"], s["valid"]) for s in shown["signatures"]] == [
        ("kq-1", "valid", f"{SIGNER} ({ORG})", True)]

    add_account(hub.engine, "vanhanh", "Vận Hành", "operator", "correct horse battery", actor="test")
    with httpx.Client(base_url=api, timeout=30, follow_redirects=False) as person:
        form = person.get("/console/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        assert person.post("/console/login", data={"username": "vanhanh", "password": "correct horse battery",
                                                   "csrf_token": token}).status_code == 303
        page = person.get("/console/trace", params={"code": dossier})
        assert page.status_code == 200
        assert "Chữ ký hợp lệ" in page.text and f"người ký <span data-testid=\"signer\">{SIGNER} ({ORG})" in page.text
        person.cookies.set("lt_lang", "en")
        assert "Signature valid" in person.get("/console/trace", params={"code": dossier}).text


def test_a_pdf_signed_by_an_untrusted_key_is_flagged_sent_and_recorded_untrusted(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("flag")
    dossier = fresh(connector)
    message = result(dossier, [("kq-1", files.serve("forged.pdf", pki.untrusted), pki.untrusted)])

    assert [o.kind for o in connector.deliver([message])] == ["ok"]

    assert portal_results(portal, dossier), "flag: the result is sent all the same"
    [row] = checks(hub, dossier)
    assert (row.state, row.intact, row.trusted, row.valid) == ("untrusted", True, False, False)
    assert row.signer == "Kẻ giả mạo (Không ai)" and "does not chain to a trusted certificate authority" in row.reason


def test_a_pdf_signed_by_an_untrusted_key_is_refused_and_the_portal_never_hears_of_the_result(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("refuse")
    dossier = fresh(connector)
    message = result(dossier, [("kq-1", files.serve("good.pdf", pki.good), pki.good),
                               ("kq-2", files.serve("forged.pdf", pki.untrusted), pki.untrusted)])

    [outcome] = connector.deliver([message])

    assert outcome.kind == "permanent"
    assert "kq-2 (Giấy tờ kq-2) untrusted" in outcome.detail and "Kẻ giả mạo" in outcome.detail
    assert portal_results(portal, dossier) is None and portal.dossier(dossier)["dossier"]["TrangThaiHoSo"] == "1"
    assert [(r.document_id, r.state) for r in checks(hub, dossier)] == [("kq-1", "valid"), ("kq-2", "untrusted")]


def test_a_pdf_changed_after_signing_is_broken_though_its_sha256_matches(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("refuse")
    dossier = fresh(connector)
    # the attacker serves altered bytes and states their digest: the document check passes, the signature does not
    message = result(dossier, [("kq-1", files.serve("altered.pdf", pki.broken), pki.broken)])

    [outcome] = connector.deliver([message])

    assert outcome.kind == "permanent" and "kq-1 (Giấy tờ kq-1) broken" in outcome.detail
    assert portal_results(portal, dossier) is None
    [row] = checks(hub, dossier)
    assert (row.state, row.intact, row.valid, row.sha256) == ("broken", False, False, sha(pki.broken))
    assert row.signer == f"{SIGNER} ({ORG})", "the trace still says whose signature was broken"


def test_an_unsigned_pdf_is_refused_and_another_dossier_in_the_same_batch_still_goes(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("refuse")
    first, second = fresh(connector), fresh(connector)
    unsigned = result(first, [("kq-1", files.serve("unsigned.pdf", pki.unsigned), pki.unsigned)])
    good = result(second, [("kq-1", files.serve("good.pdf", pki.good), pki.good)])

    outcomes = connector.deliver([unsigned, good])

    assert [o.kind for o in outcomes] == ["permanent", "ok"]
    assert "not-signed: the PDF carries no digital signature" in outcomes[0].detail
    assert portal_results(portal, first) is None and portal_results(portal, second)
    [row] = checks(hub, first)
    assert (row.state, row.signer, row.intact) == ("not-signed", None, None)


def test_a_document_that_cannot_be_fetched_now_is_retried_and_nothing_after_it_is_sent(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("refuse")
    dossier, later = fresh(connector), fresh(connector)
    missing = result(dossier, [("kq-1", files.serve("good.pdf", pki.good).replace("good", "not-yet"), pki.good)])
    after = result(later, [("kq-1", files.serve("good.pdf", pki.good), pki.good)])

    outcomes = connector.deliver([missing, after])

    assert [o.kind for o in outcomes] == ["transient", "transient"]
    assert "kq-1 (Giấy tờ kq-1) cannot be checked" in outcomes[0].detail
    assert portal_results(portal, dossier) is None and portal_results(portal, later) is None
    assert checks(hub, dossier)[0].state == "unavailable" and checks(hub, later) == []


def test_a_document_whose_bytes_are_not_the_stated_sha256_is_refused_for_good(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("refuse")
    dossier = fresh(connector)
    swapped = result(dossier, [("kq-1", files.serve("swapped.pdf", pki.untrusted), pki.good)])

    [outcome] = connector.deliver([swapped])

    assert outcome.kind == "permanent" and "SHA-256" in outcome.detail
    assert portal_results(portal, dossier) is None


def test_a_retried_result_is_not_fetched_again_and_off_fetches_nothing(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal) -> None:
    connector = connect("flag")
    dossier = fresh(connector)
    message = result(dossier, [("kq-1", files.serve("cached.pdf", pki.good), pki.good)])
    before = files.hits
    connector.deliver([message])
    connector.deliver([message])  # as a retry would
    assert files.hits == before + 1, "the verdict is kept by SHA-256 (for this trust list)"
    assert len(checks(hub, dossier)) == 1, "one row per document, replaced by a new check"

    off = connect("off")
    other = fresh(off)
    assert [o.kind for o in off.deliver([result(other, [("kq-1", files.serve("off.pdf", pki.untrusted), pki.untrusted)])])] \
        == ["ok"]
    assert files.hits == before + 1 and checks(hub, other) == []


def test_a_trust_list_that_cannot_be_read_holds_results_back_for_now_under_refuse(
        hub: Hub, connect: Any, files: Files, pki: Pki, portal: Portal, tmp_path: Path) -> None:
    connector = connect("refuse", trust=str(tmp_path / "missing"))
    dossier = fresh(connector)
    [outcome] = connector.deliver([result(dossier, [("kq-1", files.serve("good.pdf", pki.good), pki.good)])])
    assert outcome.kind == "transient" and "does not exist" in outcome.detail


# --- the verdict, the trust list and the production check ------------------------------------------------


def test_a_certificate_expired_when_it_signed_is_trusted_but_not_valid(pki: Pki) -> None:
    verdict = check(pki.expired, load(str(pki.trust_dir)))
    assert verdict.state == "expired"
    [s] = verdict.signatures
    assert (s.intact, s.trusted, s.valid) == (True, True, False) and "was not valid when it signed" in s.reason


def test_content_appended_after_signing_breaks_the_signature_though_the_signed_bytes_are_intact(pki: Pki) -> None:
    # the attack: an incremental update that turns the signed page, leaving the signed revision untouched
    writer = IncrementalPdfFileWriter(io.BytesIO(pki.good))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page[generic.NameObject("/MediaBox")] = generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 842, 595)])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    verdict = check(out.getvalue(), load(str(pki.trust_dir)))
    assert verdict.state == "broken" and "changed after it was signed" in verdict.reason
    assert verdict.all("intact") is False


def test_a_second_trusted_signature_added_later_keeps_the_first_valid_and_both_signers_are_named(pki: Pki) -> None:
    two = signed(pki.good, pki.authority.signer("Lê Văn Cường", ORG), field="KySo2")
    verdict = check(two, load(str(pki.trust_dir)))
    assert verdict.state == "valid" and verdict.signer == f"{SIGNER} ({ORG}); Lê Văn Cường ({ORG})"


def test_a_document_that_is_not_a_pdf_is_recorded_as_such(pki: Pki) -> None:
    assert check(b"<?xml version='1.0'?><KetQua/>", load(str(pki.trust_dir))).state == "not-pdf"
    assert check(b"%PDF-1.7\n garbage", load(str(pki.trust_dir))).state == "broken"


def test_production_refuses_a_signature_policy_without_a_readable_trust_list(pki: Pki, tmp_path: Path) -> None:
    from connectors.national_dvc.settings import NationalDvcSettings

    assert unsafe(NationalDvcSettings(result_signatures="off")) == []
    assert unsafe(NationalDvcSettings(result_signatures="refuse", result_trust_roots=str(pki.trust_dir))) == []
    [reason] = unsafe(NationalDvcSettings(result_signatures="flag"))
    assert "RESULT_SIGNATURES is flag" in reason and "no trust list" in reason
    (tmp_path / "empty.pem").write_text("")
    assert "cannot be read as PEM or DER" in unsafe(NationalDvcSettings(result_signatures="refuse",
                                                                        result_trust_roots=str(tmp_path / "empty.pem")))[0]
    (tmp_path / "folder").mkdir()
    assert "holds no certificate" in unsafe(NationalDvcSettings(result_signatures="refuse",
                                                                result_trust_roots=str(tmp_path / "folder")))[0]
