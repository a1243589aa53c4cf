"""Outbound signatures: the hub's key ring publishes a new key before it signs and keeps a retired
one until its signatures expire; /.well-known/jwks.json serves them; the national portal client's
and the one-stop connector's signatures verify at their simulators (which fetch the hub's JWKS),
and an unsigned call is refused there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from connectors.motcua.connector import MotcuaConnector
from connectors.motcua.simulator import PATH as MOTCUA_PATH
from connectors.motcua.simulator import create_app as motcua_app
from connectors.national_dvc.client import PermanentError
from connectors.national_dvc.connector import NationalDvcConnector
from connectors.national_dvc.simulator import create_app as simulator_app
from hub.signatures.hub_keys import HubKeyRing
from tests.conftest import Hub
from tests.connectors.payment_samples import confirmed
from tests.support import ThreadedServer, partner_ctx, with_partner


def kids(keys: list[dict]) -> list[str]:
    return [k["kid"] for k in keys]


def test_rotation_publishes_the_next_key_before_use_and_keeps_the_retired_one_until_its_signatures_expire(
        tmp_path: Path) -> None:
    ring = HubKeyRing(tmp_path / "hub-signing", lead_seconds=60, lifetime_seconds=300)
    old, _ = ring.active()
    t = ring.keys()[0].activates_at + 10
    new = ring.rotate(now=t)["kid"]
    assert kids(ring.published(t)) == [old, new]  # published at once...
    assert ring.active(t)[0] == old  # ...but not used yet
    assert ring.active(t + 59.9)[0] == old
    assert ring.active(t + 60)[0] == new
    assert [d["state"] for d in ring.describe(t + 61)] == ["retired", "active"]
    assert kids(ring.published(t + 60 + 299)) == [old, new]  # old signatures may still be valid
    assert kids(ring.published(t + 60 + 300)) == [new]
    with pytest.raises(ValueError):
        ring.rotate(now=t + 1)  # one next key at a time


def test_key_ring_survives_a_reload_from_disk(tmp_path: Path) -> None:
    first = HubKeyRing(tmp_path, 0, 300)
    kid, key = first.active()
    second = HubKeyRing(tmp_path, 0, 300)
    assert second.active()[0] == kid
    assert (tmp_path / f"{kid}.pem").stat().st_mode & 0o077 == 0  # private key file not readable by others


def test_jwks_endpoint_serves_every_published_key_without_credentials(hub: Hub, api: str) -> None:
    r = httpx.get(f"{api}/.well-known/jwks.json")
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    [first] = r.json()["keys"]
    assert first["kty"] == "OKP" and first["crv"] == "Ed25519" and "d" not in first
    added = HubKeyRing.for_settings(hub.settings).rotate()["kid"]  # as 'lienthong signing hub-keys rotate' does
    assert kids(httpx.get(f"{api}/.well-known/jwks.json").json()["keys"]) == [first["kid"], added]


def test_outbound_signature_verifies_at_the_simulator_before_and_after_rotation(hub: Hub, api: str) -> None:
    settings = hub.settings.model_copy(update={"signing_publish_lead_seconds": 0})
    with ThreadedServer(simulator_app(jwks_url=f"{api}/.well-known/jwks.json")).start() as portal:
        state = portal.server.config.app.state.adapter
        signed = NationalDvcConnector.from_context(
            partner_ctx(with_partner(settings, "national_dvc", adapter_url=portal.url, sign_requests=True), "national_dvc")).client
        signed.login()
        HubKeyRing.for_settings(settings).rotate()  # the new key signs at once (lead 0), the portal re-fetches
        signed.login()
        assert state.counters["signatures"] == {"verified": 2, "refused": 0}
        unsigned = NationalDvcConnector.from_context(
            partner_ctx(with_partner(settings, "national_dvc", adapter_url=portal.url), "national_dvc")).client
        with pytest.raises(PermanentError, match="401"):
            unsigned.login()
        assert state.counters["signatures"]["refused"] == 1


def test_the_one_stop_system_verifies_what_the_hub_signs_for_it_and_refuses_an_unsigned_post(hub: Hub, api: str) -> None:
    with ThreadedServer(motcua_app(jwks_url=f"{api}/.well-known/jwks.json")).start() as onestop:
        inbox = onestop.server.config.app.state.inbox
        settings = with_partner(hub.settings, "motcua", callback_url=f"{onestop.url}{MOTCUA_PATH}")
        signed = MotcuaConnector.from_context(partner_ctx(with_partner(settings, "motcua", sign_requests=True), "motcua"))
        unsigned = MotcuaConnector.from_context(partner_ctx(settings, "motcua"))
        try:
            assert [o.kind for o in signed.deliver([confirmed("GD-SIGNED")])] == ["ok"]
            [refused] = unsigned.deliver([confirmed("GD-UNSIGNED")])
        finally:
            signed.close()
            unsigned.close()
        assert refused.kind == "permanent" and "401" in refused.detail
        assert inbox.counters["signatures"] == {"verified": 1, "refused": 1}
        assert set(inbox.messages) == {"payment:GD-SIGNED"}


def test_a_simulator_that_cannot_read_the_hubs_keys_yet_answers_503_so_the_hub_tries_again(hub: Hub) -> None:
    """At the sandbox's start the worker may call before the API serves its JWKS: that is no verdict on
    the signature (401 would dead-letter the call), and no 500 with a traceback either."""
    from connectors.national_dvc.client import TransientError
    from tests.support import free_port

    with ThreadedServer(simulator_app(jwks_url=f"http://127.0.0.1:{free_port()}/.well-known/jwks.json")).start() as portal:
        client = NationalDvcConnector.from_context(partner_ctx(with_partner(
            hub.settings, "national_dvc", adapter_url=portal.url, sign_requests=True), "national_dvc")).client
        with pytest.raises(TransientError, match="503"):
            client.login()
        assert portal.server.config.app.state.adapter.counters["signatures"] == {"verified": 0, "refused": 0}
