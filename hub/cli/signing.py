"""``lienthong signing``: partners' signing keys and policy, and the hub's own key ring.

    lienthong signing keys add PARTNER --jwk key.json | --pem public.pem [--kid ID] | --hmac-file secret
    lienthong signing keys list [PARTNER]
    lienthong signing keys revoke PARTNER KEYID
    lienthong signing policy PARTNER off|optional|required
    lienthong signing hub-keys list | rotate

Every change is an admin action (actor ``cli:<user>``). An HMAC secret goes to the vault and is
never printed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Optional

import typer

from hub.cli.helpers import get_engine, guard, print_json
from hub.config import get_settings

app = typer.Typer(help="HTTP message signatures (RFC 9421): partners' keys and policy, the hub's keys.",
                  no_args_is_help=True)
keys_app = typer.Typer(help="Partners' signing keys.", no_args_is_help=True)
hub_keys_app = typer.Typer(help="The hub's own signing keys (published at /.well-known/jwks.json).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(hub_keys_app, name="hub-keys")


def _jwk_from(jwk: Optional[Path], pem: Optional[Path], hmac_file: Optional[Path], kid: Optional[str]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from hub.signatures.jwk import b64url, public_jwk

    if sum(x is not None for x in (jwk, pem, hmac_file)) != 1:
        raise ValueError("give exactly one of --jwk, --pem, --hmac-file")
    found: dict[str, Any]
    if jwk is not None:
        found = json.loads(jwk.read_text(encoding="utf-8"))
    elif pem is not None:
        found = public_jwk(load_pem_public_key(pem.read_bytes()), kid or "")
    else:
        assert hmac_file is not None
        raw = hmac_file.read_bytes().strip()
        found = {"kty": "oct", "k": b64url(base64.b64decode(raw))}
    if kid:
        found["kid"] = kid
    elif not found.get("kid"):
        found.pop("kid", None)  # the RFC 7638 thumbprint becomes the keyid
    return found


@keys_app.command("add")
def keys_add(partner: str,
             jwk: Optional[Path] = typer.Option(None, "--jwk", exists=True, dir_okay=False, help="A public JWK (JSON file)."),
             pem: Optional[Path] = typer.Option(None, "--pem", exists=True, dir_okay=False, help="A public key (PEM)."),
             hmac_file: Optional[Path] = typer.Option(None, "--hmac-file", exists=True, dir_okay=False,
                                                      help="A shared HMAC-SHA256 secret, base64 (goes to the vault)."),
             kid: Optional[str] = typer.Option(None, help="The keyid the partner will send (default: the JWK's kid, "
                                                          "else its RFC 7638 thumbprint)."),
             not_after: Optional[str] = typer.Option(None, help="End of validity, ISO 8601 with zone.")) -> None:
    """Register a signing key for PARTNER."""
    from datetime import datetime

    from hub.access.actions import cli_actor
    from hub.signatures.registry import add_key

    settings = get_settings()
    found = guard(lambda: _jwk_from(jwk, pem, hmac_file, kid))
    until = datetime.fromisoformat(not_after) if not_after else None
    print_json(guard(lambda: add_key(get_engine(), settings, partner, found, not_after=until, actor=cli_actor())))


@keys_app.command("list")
def keys_list(partner: Optional[str] = typer.Argument(None)) -> None:
    """Registered signing keys (public parts only), of one partner or all."""
    from hub.signatures.registry import list_keys

    print_json(list_keys(get_engine(), partner))


@keys_app.command("revoke")
def keys_revoke(partner: str, keyid: str) -> None:
    """Revoke a key now; every hub process refuses it within about a second."""
    from hub.access.actions import cli_actor
    from hub.signatures.registry import revoke_key

    print_json(guard(lambda: revoke_key(get_engine(), partner, keyid, actor=cli_actor())))


@app.command("policy")
def policy(partner: str, value: str = typer.Argument(..., metavar="off|optional|required")) -> None:
    """Whether PARTNER signs: off (not checked), optional (checked when sent), required."""
    from hub.access.actions import cli_actor
    from hub.signatures.registry import set_policy

    print_json(guard(lambda: set_policy(get_engine(), partner, value, actor=cli_actor())))


@hub_keys_app.command("list")
def hub_keys_list() -> None:
    """The hub's key ring: each key's state (next, active, retired) and times."""
    from hub.signatures.hub_keys import HubKeyRing

    print_json(HubKeyRing.for_settings(get_settings()).describe())


@hub_keys_app.command("rotate")
def hub_keys_rotate() -> None:
    """Add a new hub key: published now, signing after LIENTHONG_SIGNING_PUBLISH_LEAD_SECONDS."""
    from hub.access.actions import cli_actor, record
    from hub.keyset import hub_ring_fingerprint
    from hub.signatures.hub_keys import HubKeyRing
    from hub.store.fingerprints import record_rotation

    settings = get_settings()
    ring = HubKeyRing.for_settings(settings)
    before = ring.describe()
    added = guard(ring.rotate)
    with get_engine().begin() as conn:
        record(conn, cli_actor(), "hub_signing_key.rotate", f"hub_signing_key:{added['kid']}", before, ring.describe())
        # the ring every hub process must bring from now on (checked at start-up, hub/safety.py)
        record_rotation(conn, "hub_signing_keys", hub_ring_fingerprint(settings), cli_actor())
    print_json(added)
