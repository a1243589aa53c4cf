"""WS-Security towards the population database (issue #5): signed requests, verified answers."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Callable, Iterator

import lxml.etree
import pytest
import xmlsec
from lxml import etree
from zeep.wsse.signature import MemorySignature
from zeep.wsse.utils import get_security_header

from connectors.population_db import population
from connectors.population_db.client import SoapPopulationClient
from connectors.population_db.errors import PopulationFault, PopulationSignatureInvalid
from connectors.population_db.interface import CitizenQuery
from connectors.population_db.wsse import (
    HUB_IDENTITY,
    SOAP_ENV,
    SignatureInvalid,
    dev_identity,
    identity_paths,
    sign_envelope,
    verify_envelope,
)
from hub.config import Settings
from hub.context import context
from tests.population import PopulationSim

Factory = Callable[..., SoapPopulationClient]
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
BODY = f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><a xmlns="urn:x">Nguyễn Thị Thuỷ</a></s:Body></s:Envelope>'


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keys folder with the hub's development identity, made as the hub makes it on first run."""
    directory = tmp_path_factory.mktemp("keys")
    dev_identity(directory / "wsse", HUB_IDENTITY)
    dev_identity(directory / "wsse", "stranger")
    return directory


@pytest.fixture(scope="module")
def signing_sim(keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PopulationSim]:
    """A simulator that requires requests signed by the hub's certificate and signs its answers."""
    sim = PopulationSim(tmp_path_factory.mktemp("wsse-sim"), keys_dir=keys, sign_answers=True,
                        client_cert=identity_paths(keys / "wsse", HUB_IDENTITY)[1], name="wsse-sim").start()
    yield sim
    sim.stop()


@pytest.fixture
def make_client(signing_sim: PopulationSim, keys: Path, tmp_path: Path) -> Iterator[Factory]:
    signing_sim.reset()
    made: list[SoapPopulationClient] = []

    def make(**overrides: object) -> SoapPopulationClient:
        hub = Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", keys_dir=keys)
        values: dict[str, object] = {"wsse": "sign_and_verify", **signing_sim.settings(), **overrides}
        made.append(SoapPopulationClient.from_context(context("population_db", hub, **values)))
        return made[-1]

    yield make
    for c in made:
        c.close()


def query(index: int = 0) -> CitizenQuery:
    return CitizenQuery(request_id=f"YC-WSSE-{index}", officer_id="CB-0001",
                        id_number=population.sample(index=index).SoDinhDanh)


def signed(key: bytes, cert: bytes) -> etree._Element:
    envelope = etree.fromstring(BODY)
    sign_envelope(envelope, key, cert)
    return envelope


def test_xmlsec_and_lxml_share_one_libxml2() -> None:
    assert xmlsec.get_libxml_version() == lxml.etree.LIBXML_VERSION, "pin lxml and xmlsec as a pair (pyproject.toml)"


def test_signed_request_verifies_at_the_simulator_and_signed_answer_at_the_client(
        make_client: Factory, signing_sim: PopulationSim) -> None:
    assert make_client().lookup(query(3)).CongDan == [population.sample(index=3)]
    counters = signing_sim.state()["counters"]
    assert counters["signatures_verified"] == 1 and counters["signatures_refused"] == 0
    assert counters["answers_signed"] == 1


def test_unsigned_request_is_refused_by_a_database_requiring_signatures(make_client: Factory,
                                                                        signing_sim: PopulationSim) -> None:
    with pytest.raises(PopulationFault) as caught:
        make_client(wsse="off").lookup(query())
    assert caught.value.code == "CHU_KY_KHONG_HOP_LE"
    assert signing_sim.state()["counters"]["signatures_refused"] == 1


def test_request_signed_with_another_key_is_refused(make_client: Factory, keys: Path) -> None:
    key, cert = identity_paths(keys / "wsse", "stranger")
    with pytest.raises(PopulationFault) as caught:
        make_client(wsse_key_file=str(key), wsse_cert_file=str(cert)).lookup(query())
    assert caught.value.code == "CHU_KY_KHONG_HOP_LE"


def test_tampered_signed_answer_is_refused_by_the_client(make_client: Factory, signing_sim: PopulationSim) -> None:
    client = make_client()
    signing_sim.faults(tamper_next=1)
    with pytest.raises(PopulationSignatureInvalid):
        client.lookup(query())
    assert client.lookup(query()).CongDan  # an intact answer passes again


def test_answer_signed_by_someone_else_is_refused(make_client: Factory, keys: Path) -> None:
    stranger = identity_paths(keys / "wsse", "stranger")[1]
    with pytest.raises(PopulationSignatureInvalid):
        make_client(wsse_partner_cert=str(stranger)).lookup(query())


def test_sign_mode_signs_requests_without_checking_answers(make_client: Factory, keys: Path,
                                                           signing_sim: PopulationSim) -> None:
    stranger = identity_paths(keys / "wsse", "stranger")[1]
    client = make_client(wsse="sign", wsse_partner_cert=str(stranger))
    assert client.lookup(query()).CongDan
    assert signing_sim.state()["counters"]["signatures_verified"] == 1


# -- the verifier's own rules, on envelopes in memory ------------------------------------------


def test_dev_identity_is_made_once_and_reused(tmp_path: Path) -> None:
    first = dev_identity(tmp_path, "hub")
    assert dev_identity(tmp_path, "hub") == first
    assert first[0].startswith(b"-----BEGIN PRIVATE KEY") and first[1].startswith(b"-----BEGIN CERTIFICATE")
    assert (tmp_path / "hub-key.pem").stat().st_mode & 0o777 == 0o600


def test_changed_body_is_refused(keys: Path) -> None:
    key, cert = dev_identity(keys / "wsse", HUB_IDENTITY)
    envelope = signed(key, cert)
    envelope.find(f"{{{SOAP_ENV}}}Body")[0].text = "Trần Văn Khác"
    with pytest.raises(SignatureInvalid):
        verify_envelope(envelope, cert)


def test_signature_not_covering_the_body_is_refused(keys: Path) -> None:
    key, cert = dev_identity(keys / "wsse", HUB_IDENTITY)
    envelope = signed(key, cert)
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    reference = envelope.xpath("//ds:Reference[@URI=$u]", namespaces={"ds": "http://www.w3.org/2000/09/xmldsig#"},
                               u="#" + body.get(f"{{{WSU_NS}}}Id"))[0]
    reference.getparent().remove(reference)
    with pytest.raises(SignatureInvalid, match="Body is not signed"):
        verify_envelope(envelope, cert)


def test_wrapped_body_with_a_duplicate_id_is_refused(keys: Path) -> None:
    key, cert = dev_identity(keys / "wsse", HUB_IDENTITY)
    envelope = signed(key, cert)
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    forged = copy.deepcopy(body)
    forged[0].text = "Lê Văn Giả"
    envelope.remove(body)
    envelope.append(forged)
    envelope.find(f"{{{SOAP_ENV}}}Header").append(body)  # the signed original, hidden in the header
    with pytest.raises(SignatureInvalid, match="expected exactly one"):
        verify_envelope(envelope, cert)


def test_weak_algorithms_are_refused(keys: Path) -> None:
    key, cert = dev_identity(keys / "wsse", HUB_IDENTITY)
    envelope = etree.fromstring(BODY)
    sign_envelope(envelope, key, cert)
    weak = etree.fromstring(BODY)
    security = get_security_header(weak)
    security.append(copy.deepcopy(envelope.find(f".//{{{WSU_NS}}}Timestamp")))
    MemorySignature(key, cert).apply(weak, {})  # zeep's defaults: RSA-SHA1, SHA-1 digests
    verify_envelope(envelope, cert)
    with pytest.raises(SignatureInvalid):
        verify_envelope(weak, cert)


def test_expired_signature_is_refused(keys: Path) -> None:
    key, cert = dev_identity(keys / "wsse", HUB_IDENTITY)
    envelope = signed(key, cert)
    verify_envelope(envelope, cert)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    with pytest.raises(SignatureInvalid, match="expired"):
        verify_envelope(envelope, cert, now=later)
