"""The signature library, as the hub uses it, against RFC 9421 Appendix B: the signature base of
every B.2 example byte for byte, B.2.5 (HMAC) and B.2.6 (Ed25519) signatures reproduced byte for
byte, the RSA-PSS (B.2.1 - B.2.3) and ECDSA (B.2.4) examples verified; and RFC 9530 Content-Digest."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import http_sf
import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from http_message_signatures import ContentDigest, HTTPMessageSigner, HTTPMessageVerifier, InvalidSignature

from hub.signatures.jwk import ALGORITHMS
from hub.signatures.verifier import ReceivedRequest, _OneKey

DATA = Path(__file__).parent / "data" / "rfc9421"
VECTORS = json.loads((DATA / "vectors.json").read_text())
EXAMPLES = VECTORS["examples"]


@dataclass
class Response:
    status_code: int
    headers: httpx.Headers
    request: ReceivedRequest


def message(kind: str, *signature: str) -> Any:
    request = ReceivedRequest(VECTORS["request"]["method"], VECTORS["request"]["url"],
                              httpx.Headers([tuple(h) for h in VECTORS["request"]["headers"]]))
    target = request if kind == "request" else Response(VECTORS["response"]["status"],
                                                        httpx.Headers([tuple(h) for h in VECTORS["response"]["headers"]]), request)
    if signature:
        target.headers["Signature-Input"], target.headers["Signature"] = signature
    return target


def key(name: str, private: bool = False) -> Any:
    raw = (DATA / name).read_bytes()
    if name.endswith(".b64"):
        return base64.b64decode(raw)
    return load_pem_private_key(raw, password=None) if private else load_pem_public_key(raw)


def parsed_input(example: dict[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
    [(label, (members, params))] = http_sf.parse(example["signature_input"].encode(), tltype="dictionary").items()
    return label, [http_sf.ser(m) for m in members], params


def prepare(name: str) -> Any:
    """The example's signature input prepared by the library, with the RFC's parameters."""
    example = EXAMPLES[name]
    label, covered, params = parsed_input(example)
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHMS[example["alg"]], key_resolver=None)
    msg = message(example["message"])
    prepared = signer.prepare(msg, key_id=params["keyid"], created=datetime.fromtimestamp(params["created"], timezone.utc),
                              nonce=params.get("nonce"), tag=params.get("tag"), label=label, include_alg=False,
                              covered_component_ids=covered, use_existing_digest=True)
    return prepared


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_signature_base_and_input_are_the_rfcs_byte_for_byte(name: str) -> None:
    prepared = prepare(name)
    example = EXAMPLES[name]
    assert prepared.signature_base == "\n".join(example["signature_base"]).encode()
    assert f"{prepared.label}={prepared.signature_params}" == example["signature_input"]


def test_b25_hmac_sha256_signature_is_the_rfcs_byte_for_byte() -> None:
    prepared = prepare("B.2.5")
    mac = ALGORITHMS["hmac-sha256"](shared_secret=key("test-shared-secret.b64")).sign(prepared.signature_base)
    assert f"sig-b25=:{base64.b64encode(mac).decode()}:" == EXAMPLES["B.2.5"]["signature"]


def test_b26_ed25519_signature_is_the_rfcs_byte_for_byte() -> None:
    prepared = prepare("B.2.6")
    sig = ALGORITHMS["ed25519"](private_key=key("test-key-ed25519.pem", private=True)).sign(prepared.signature_base)
    assert f"sig-b26=:{base64.b64encode(sig).decode()}:" == EXAMPLES["B.2.6"]["signature"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_published_signature_verifies_with_the_published_key(name: str) -> None:
    example = EXAMPLES[name]
    label, _, params = parsed_input(example)
    verifier = HTTPMessageVerifier(signature_algorithm=ALGORITHMS[example["alg"]],
                                   key_resolver=_OneKey(params["keyid"], key(example["key"])))
    verifier.max_clock_skew = timedelta(days=365 * 30)  # the examples were signed in 2021
    [result] = verifier.verify(message(example["message"], example["signature_input"], example["signature"]), max_age=None)
    assert result.label == label and result.parameters["keyid"] == params["keyid"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_published_signature_fails_when_the_message_changes(name: str) -> None:
    example = EXAMPLES[name]
    _, _, params = parsed_input(example)
    verifier = HTTPMessageVerifier(signature_algorithm=ALGORITHMS[example["alg"]],
                                   key_resolver=_OneKey(params["keyid"], key(example["key"])))
    verifier.max_clock_skew = timedelta(days=365 * 30)
    tampered = example["signature_input"].replace("1618884473", "1618884474")
    with pytest.raises(InvalidSignature):
        verifier.verify(message(example["message"], tampered, example["signature"]), max_age=None)


@pytest.mark.parametrize("kind", ["request", "response"])
def test_content_digest_of_the_rfc_messages_matches_their_bodies(kind: str) -> None:
    headers = dict(VECTORS[kind]["headers"])
    body = VECTORS[kind]["body"].encode()
    ContentDigest.verify(headers["Content-Digest"], body)  # sha-512 (RFC 9530)
    with pytest.raises(InvalidSignature):
        ContentDigest.verify(headers["Content-Digest"], body + b" ")
