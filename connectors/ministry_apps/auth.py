"""How the hub proves who it is to a ministry system: each ``auth`` kind of an adapter as an ``httpx.Auth``.

Tokens (OAuth 2.0 client credentials, a login's session or token) are fetched when first needed,
kept until shortly before they expire, and fetched again once when the system refuses one (401, or
the login's ``renew_on``): a token that expires mid-run costs one extra request, never a delivery.
WS-Security is not HTTP auth: :func:`wsse` gives zeep's UsernameToken.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Generator

import httpx
import orjson

from connectors.ministry_apps.adapter import Adapter, Basic, KeyHeader, Login, NoAuth, OAuth, WsSecurity
from connectors.ministry_apps.templates import MappingError, tree, value
from hub.seam import Context

EARLY_SECONDS = 30  # a token is renewed this long before it says it expires


class SecretMissing(Exception):
    """A secret the adapter names is set nowhere (vault, environment, sandbox value)."""


def secret_getter(adapter: Adapter, ctx: Context | None) -> Callable[[str], str]:
    """``get(name)``: vault credential ``<code>.<name>``, else the secret's environment variable, else its
    sandbox value; raises :class:`SecretMissing`."""

    def get(name: str) -> str:
        spec = adapter.secrets.get(name)
        if spec is None:
            raise SecretMissing(f"secret {name!r} is not declared under secrets")
        found = ctx.credential(name) if ctx is not None else None
        if not found and spec.env:
            found = os.environ.get(spec.env)
        if not found:
            found = spec.sandbox
        if not found:
            raise SecretMissing(f"secret {name!r} is not set: vault credential {adapter.code}.{name}"
                                + (f" or {spec.env}" if spec.env else ""))
        return found

    return get


def _url(adapter_base: str, path: str) -> str:
    return path if path.startswith(("http://", "https://")) else adapter_base.rstrip("/") + "/" + path.lstrip("/")


class _TokenAuth(httpx.Auth):
    """A token fetched by a request of its own, renewed before expiry and once on refusal."""

    requires_response_body = True
    renew_on: frozenset[int] = frozenset({401})

    def __init__(self) -> None:
        self.token: str | None = None
        self.expires = 0.0

    def token_request(self) -> httpx.Request:
        raise NotImplementedError

    def read_token(self, response: httpx.Response) -> tuple[str, float]:
        raise NotImplementedError

    def apply(self, request: httpx.Request) -> None:
        raise NotImplementedError

    def _fresh(self) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self.token_request()
        if response.status_code >= 400:
            raise httpx.HTTPStatusError(f"the token request was refused: HTTP {response.status_code}",
                                        request=response.request, response=response)
        self.token, lifetime = self.read_token(response)
        self.expires = time.monotonic() + max(lifetime - EARLY_SECONDS, 1.0)

    def forget(self) -> None:
        self.token = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None or time.monotonic() >= self.expires:
            yield from self._fresh()
        self.apply(request)
        response = yield request
        if response.status_code in self.renew_on:
            yield from self._fresh()
            self.apply(request)
            yield request


class OAuthAuth(_TokenAuth):
    """OAuth 2.0 client credentials; the token goes as ``Authorization: Bearer``."""

    def __init__(self, spec: OAuth, base_url: str, secret: Callable[[str], str]) -> None:
        super().__init__()
        self.spec, self.url, self.secret = spec, _url(base_url, spec.token_url), secret

    def token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self.spec.scope:
            form["scope"] = self.spec.scope
        headers = {"Accept": "application/json"}
        if self.spec.client_auth == "form":
            form.update(client_id=self.spec.client_id, client_secret=self.secret(self.spec.secret))
        request = httpx.Request("POST", self.url, data=form, headers=headers)
        if self.spec.client_auth == "basic":
            request = next(httpx.BasicAuth(self.spec.client_id, self.secret(self.spec.secret)).auth_flow(request))
        return request

    def read_token(self, response: httpx.Response) -> tuple[str, float]:
        body = orjson.loads(response.content)
        return str(body["access_token"]), float(body.get("expires_in") or 300)

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"


class LoginAuth(_TokenAuth):
    """A login request whose answer gives a session or token, carried in a header of later calls."""

    def __init__(self, spec: Login, base_url: str, secret: Callable[[str], str]) -> None:
        super().__init__()
        self.spec, self.base_url, self.secret = spec, base_url, secret
        self.renew_on = frozenset(spec.renew_on)

    def token_request(self) -> httpx.Request:
        missing: list[SecretMissing] = []

        def secret(name: str) -> str:
            try:
                return self.secret(name)
            except SecretMissing as exc:  # a template wraps it as its own failure: raised as itself below
                missing.append(exc)
                raise

        context = {"secret": secret}
        r = self.spec.request
        try:
            body = tree(r.json_body, context, "auth.request.json") if r.json_body is not None else None
            return httpx.Request(r.method, _url(self.base_url, str(value(r.path, context, "auth.request.path"))),
                                 json=body, headers={k: str(value(v, context, f"auth.request.headers.{k}"))
                                                     for k, v in r.headers.items()})
        except MappingError:
            if missing:  # a secret not set yet is transient (set it, the delivery goes), not the mapping's mistake
                raise missing[0] from None
            raise

    def read_token(self, response: httpx.Response) -> tuple[str, float]:
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = None
        context = {"answer": answer, "text": response.text}
        token = value(self.spec.token, context, "auth.token")
        if not token:
            raise MappingError("auth.token", "the login's answer gave no token")
        return str(token), float(value(self.spec.lifetime, context, "auth.lifetime") or 300)

    def apply(self, request: httpx.Request) -> None:
        request.headers[self.spec.header] = str(value(self.spec.value, {"token": self.token}, "auth.value"))


class KeyAuth(httpx.Auth):
    def __init__(self, spec: KeyHeader, secret: Callable[[str], str]) -> None:
        self.spec, self.secret = spec, secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.spec.header] = self.spec.prefix + self.secret(self.spec.secret)
        yield request


def http_auth(adapter: Adapter, base: str, secret: Callable[[str], str]) -> httpx.Auth | None:
    """The ``httpx.Auth`` of the adapter's ``auth`` (None: no HTTP authentication); ``base`` is its
    ``base_url`` with the environment read."""
    spec: Any = adapter.auth
    if isinstance(spec, (NoAuth, WsSecurity)):
        return None
    if isinstance(spec, KeyHeader):
        return KeyAuth(spec, secret)
    if isinstance(spec, Basic):
        return httpx.BasicAuth(spec.username, secret(spec.secret))
    if isinstance(spec, OAuth):
        return OAuthAuth(spec, base, secret)
    if isinstance(spec, Login):
        return LoginAuth(spec, base, secret)
    raise TypeError(f"unknown auth {type(spec).__name__}")


def wsse(adapter: Adapter, secret: Callable[[str], str]) -> Any:
    """zeep's UsernameToken for ``auth: ws_security`` (None otherwise)."""
    spec = adapter.auth
    if not isinstance(spec, WsSecurity):
        return None
    from zeep.wsse.username import UsernameToken

    return UsernameToken(spec.username, secret(spec.secret), use_digest=spec.digest)
