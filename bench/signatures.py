"""Intake with Ed25519 signature verification on against off, in one run (issue #5 B).

Both servers get the same pre-signed requests: one process each, alternating, ``alternate()`` and
wrk as the other intake measures (bench/common.py). "on" is the hub as shipped with the partner's policy
``required`` (parse, key look-up, library verification over @method @target-uri content-digest
content-type, Content-Digest check, nonce ``SET NX`` in Redis); "off" is the same hub treating the
policy as ``off`` (``bench/unsigned_hub.py``), which ignores the signature headers.

wrk's Lua cannot sign Ed25519, so before each wrk run this module writes a file of
``seconds x BENCH_SIGNED_RPS`` requests, each with its own message_id and nonce, signed with the
partner's key, and ``bench/post_signed.lua`` sends them, each once. Making the file is not timed.
To make it fast, the library prepares one signature base per file and each request's base is that
base with its own Content-Digest and nonce put in (the server verifies every one with the library);
signing itself is ``cryptography``'s Ed25519. ``python -m bench.signatures`` runs it alone.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import ContentDigest, HTTPMessageSigner
from http_message_signatures.algorithms import ED25519

from bench.common import alternate, setup_hub
from hub.runtime import engine_for
from hub.signatures.jwk import public_jwk
from hub.signatures.registry import add_key, set_policy
from hub.signatures.signer import COVERED, OutgoingRequest
from tests.factories import status_changed
from tests.support import RedisServer, settings_env

SIGNED_RPS = int(os.environ.get("BENCH_SIGNED_RPS", "3000"))
KEYID = "motcua-bench"
TARGET = "http://lienthong.bench/v1/messages"


class SignedRequests:
    """Files of signed intake requests, one per wrk run, in ``directory``."""

    def __init__(self, directory: Path, key: Ed25519PrivateKey) -> None:
        self.directory, self.key, self.count = directory, key, 0

    def file(self, seconds: int) -> dict[str, str]:
        """A new file for a run of ``seconds``; the wrk environment that names it."""
        first = orjson.dumps(status_changed())
        request = httpx.Request("POST", TARGET, content=first, headers={"Content-Type": "application/json"})
        nonce0, created = secrets.token_hex(12), datetime.now(timezone.utc).replace(microsecond=0)
        prepared = HTTPMessageSigner(signature_algorithm=ED25519).prepare(
            OutgoingRequest("POST", TARGET, request.headers), key_id=KEYID, created=created,
            expires=created + timedelta(hours=1), nonce=nonce0, label="sig", covered_component_ids=COVERED, body=first)
        digest0 = request.headers["content-digest"]
        self.count += 1
        path = self.directory / f"signed-{self.count}.txt"
        with path.open("w") as out:
            for _ in range(seconds * SIGNED_RPS):
                body = orjson.dumps(status_changed())
                digest, nonce = ContentDigest.create(body), secrets.token_hex(12)
                base = prepared.signature_base.replace(digest0.encode(), digest.encode()).replace(nonce0.encode(), nonce.encode())
                signature = base64.b64encode(self.key.sign(base)).decode()
                out.write(f"{digest}\tsig={prepared.signature_params.replace(nonce0, nonce)}\tsig=:{signature}:\t"
                          f"{body.decode()}\n")
        return {"LT_FILE": str(path)}


def bench_signatures(tmp: Path, redis: RedisServer) -> dict[str, Any]:
    """Served one process each, alternating: the figures of "on" and "off", and the share lost."""
    tmp = tmp / "signatures"
    settings, keys = setup_hub(tmp, redis, signature_max_skew_seconds=3600)  # files made minutes before use stay valid
    key = Ed25519PrivateKey.generate()
    engine = engine_for(settings)
    add_key(engine, settings, "motcua", public_jwk(key, KEYID), actor="bench")
    set_policy(engine, "motcua", "required", actor="bench")
    engine.dispose()
    pool = SignedRequests(tmp, key)
    summary = alternate({"off": ("bench.unsigned_hub:create_app", True), "on": ("hub.edge.app:create_app", True)},
                        settings_env(settings), "", keys["motcua"], tmp, script="post_signed.lua", per_run=pool.file)
    summary["lost"] = 1 - summary["on"]["rps"] / summary["off"]["rps"]  # type: ignore[index]
    return summary


def report(summary: dict[str, Any]) -> None:
    for name, label in (("off", "intake, signatures off"), ("on", "intake, Ed25519 verified")):
        r = summary[name]
        print(f"{label:28} {1:>5} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d}")
    print(f"Ed25519 signature verification (RFC 9421, nonce in Redis) costs {100 * summary['lost']:.0f}% of intake "
          "throughput")


if __name__ == "__main__":
    redis = RedisServer(fsync="everysec")
    redis.start()
    try:
        with tempfile.TemporaryDirectory(prefix="lt-bench-") as tmp:
            report(bench_signatures(Path(tmp), redis))
    finally:
        redis.remove()
