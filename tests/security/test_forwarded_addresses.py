"""One client address behind a REAL reverse proxy (nginx from the Debian packages, started by the
test): whatever forwarding headers a client forges, in however many lines, the hub sees the address
nginx saw, for the allowlist and in the access record, and the scheme and host nginx says for a
signed request's @target-uri. Each nginx style of tests/support.py:NGINX_STYLES: "merged" (one
X-Forwarded-For line), "appended" (the client's line first, the proxy's own line after it: reading
only the first line, the hub believed the client), "forwarded" (RFC 7239).

The proxy and the client are different loopback addresses: nginx connects to the hub from
127.0.0.1 (the trusted proxy), the client connects to nginx from 127.0.0.5."""

from __future__ import annotations

from typing import Callable, Iterator

import httpx
import orjson
import pytest
from sqlalchemy import select

from hub.access.keys import issue_key
from hub.edge.app import create_app
from hub.signatures.registry import set_policy
from hub.store.engine import reading
from hub.store.tables import access_records
from tests.conftest import Hub
from tests.factories import status_changed, submitted
from tests.support import NginxServer, ThreadedServer, wait_until
from tests.test_signatures_inbound import register

CLIENT, FORGED, PROXY = "127.0.0.5", "127.0.0.9", "127.0.0.1"
PUBLIC = "lienthong.tinh.gov.vn"

# What an attacker adds to its request; each style must ignore the other style's header entirely.
FORGERIES = {
    "one-line": [("X-Forwarded-For", FORGED), ("Forwarded", f"for={FORGED}")],
    "several-lines": [("X-Forwarded-For", FORGED), ("X-Forwarded-For", f"{PROXY}, {FORGED}"), ("X-Forwarded-For", FORGED),
                      ("Forwarded", f"for={FORGED}, for={PROXY}"), ("Forwarded", f"for={FORGED}")],
    "broken": [("Forwarded", f'for="{FORGED}'), ("X-Forwarded-For", f"{FORGED}, garbage")],
}


@pytest.fixture(params=["merged", "appended", "forwarded"])
def behind_nginx(request: pytest.FixtureRequest, hub: Hub,
                 nginx: Callable[..., NginxServer]) -> Iterator[tuple[Hub, NginxServer]]:
    """The hub trusting only 127.0.0.1 as its proxy, and nginx in front of it in one style."""
    style = request.param
    settings = hub.settings.model_copy(update={
        "trusted_proxies": [f"{PROXY}/32"], "forwarded_header": "forwarded" if style == "forwarded" else "x-forwarded"})
    with ThreadedServer(create_app(settings)).start() as api:
        yield hub, nginx(api.url, style)


def via(proxy: NginxServer, key: str) -> httpx.Client:
    """A partner client at 127.0.0.5 calling the hub through ``proxy``."""
    return httpx.Client(base_url=proxy.url, transport=httpx.HTTPTransport(local_address=CLIENT),
                        headers={"Authorization": f"ApiKey {key}"}, timeout=30)


def record(hub: Hub, request_id: str) -> object:
    def find() -> object:
        with reading(hub.engine) as conn:
            return conn.execute(select(access_records).where(access_records.c.request_id == request_id)).first()
    return wait_until(find, 10, what=f"access record {request_id}")


def test_a_forged_forwarded_address_behind_nginx_does_not_pass_an_allowlist(
        behind_nginx: tuple[Hub, NginxServer]) -> None:
    hub, proxy = behind_nginx
    pepper = hub.settings.effective_key_pepper
    for_forged = issue_key(hub.engine, "motcua", pepper, "forged", allowed_ips=[f"{FORGED}/32"])
    for_client = issue_key(hub.engine, "motcua", pepper, "client", allowed_ips=[f"{CLIENT}/32"])
    for seq, (forgery, headers) in enumerate(FORGERIES.items()):
        with via(proxy, for_forged) as c:
            refused = c.post("/v1/messages", json=submitted(2 * seq + 1), headers=headers)
        assert refused.status_code == 401, f"{forgery}: a key allowlisted for the forged {FORGED} got in"
        with via(proxy, for_client) as c:
            accepted = c.post("/v1/messages", json=submitted(2 * seq + 2), headers=headers)
        assert accepted.status_code == 202, f"{forgery}: {accepted.text}"
        for response, outcome in ((refused, "ip_not_allowed"), (accepted, "ok")):
            seen = record(hub, response.headers["x-request-id"])
            assert (seen.client_ip, seen.forwarded_for, seen.outcome) == (CLIENT, PROXY, outcome), forgery  # type: ignore[attr-defined]


def test_a_forged_forwarded_host_behind_nginx_does_not_change_the_signed_target_uri(
        behind_nginx: tuple[Hub, NginxServer]) -> None:
    hub, proxy = behind_nginx
    signer = register(hub)
    set_policy(hub.engine, "motcua", "required", actor="test")
    forged = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", PUBLIC),
              ("Forwarded", f'for={CLIENT};proto=https;host="{PUBLIC}"')]

    def send(c: httpx.Client, signed_for: str) -> httpx.Response:
        request = c.build_request("POST", f"{signed_for}/v1/messages", content=orjson.dumps(status_changed()),
                                  headers={"Content-Type": "application/json"})
        signer.sign(request)  # as the partner signs it: over the URL it says it called
        headers = [(k, v) for k, v in request.headers.multi_items() if k != "host"] + forged
        return c.send(c.build_request("POST", "/v1/messages", content=request.content, headers=headers))

    with via(proxy, hub.keys["motcua"]) as c:
        assert send(c, proxy.url).status_code == 202, "signed for the URL it called, through nginx: accepted"
        refused = send(c, f"https://{PUBLIC}")
    assert refused.status_code == 401 and refused.json()["type"] == "/problems/signature-rejected", \
        "a signature over a client-forged scheme and host must not verify"
