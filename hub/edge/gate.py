"""The edge's access check, in order: client address → blocked address → credential → expiry →
IP allowlist → the route's rule (``hub/edge/rules.py``) → rate limit. Every refusal is a
problem+json answer; its reason goes into the request's access record (``hub/audit/recording.py``).

Unknown, expired, revoked, suspended and wrong-address credentials all get the same 401, so an
unauthenticated caller learns nothing about which it was; the access record keeps the real reason.
A valid credential calling outside its rule gets 403; over its limits, 429 with Retry-After.
Refused credentials (and refused signatures) are charged to the client address: past
``LIENTHONG_UNAUTHENTICATED_QUOTA`` per window the address gets 429 for
``LIENTHONG_UNAUTHENTICATED_BLOCK_SECONDS``, before any credential look-up (so key spraying costs
the database nothing), recorded as ``blocked:<reason>``.
"""

from __future__ import annotations

import time
from typing import Sequence

from fastapi import Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from hub.access.accounts import load_session_principal, touch_session
from hub.access.cache import MISS, CredentialCache
from hub.access.csrf import SESSION_COOKIE
from hub.access.forwarded import ForwardedReader
from hub.access.keys import load_key_principal
from hub.access.networks import allowed, in_any, parse_networks
from hub.access.policies import PolicyBook
from hub.access.principal import Principal
from hub.access.tokens import digest
from hub.audit.log import AccessLog
from hub.config import Settings
from hub.edge.problems import Problem
from hub.edge.rules import Rule
from hub.limits.decision import Check, Decision, Limit
from hub.limits.limiter import RateLimiter

CHALLENGE = {"WWW-Authenticate": 'ApiKey realm="lienthong", Bearer realm="lienthong"'}
Found = Principal | tuple[str, int | None, str | None]  # a principal, or (reason, key id, name) why not


class Gate:
    """Admits or refuses each call; one per hub process."""

    def __init__(self, settings: Settings, engine: Engine, limiter: RateLimiter | None, log: AccessLog,
                 policies: PolicyBook) -> None:
        self.pepper = settings.effective_key_pepper
        self.forwarded = ForwardedReader.from_settings(settings)  # the one reader of client addresses
        self.people_networks = parse_networks(settings.people_allowed_ips, "people_allowed_ips")
        self.scrape_networks = parse_networks(settings.metrics_scrape_networks, "metrics_scrape_networks")
        self.unauthenticated_limit = Limit("unauthenticated", settings.unauthenticated_quota,
                                           float(settings.unauthenticated_window_seconds))
        self.block_seconds = settings.unauthenticated_block_seconds
        self._blocked: dict[str, float] = {}  # address -> monotonic time its block ends
        ttl = settings.credential_cache_seconds
        self.keys: CredentialCache[Found] = CredentialCache(lambda d: load_key_principal(engine, d), ttl)
        idle = settings.session_idle_minutes * 60
        self.sessions: CredentialCache[Found] = CredentialCache(
            lambda d: load_session_principal(engine, d, self.people_networks, idle), ttl)
        self.limiter, self.log, self.policies = limiter, log, policies
        self.engine = engine
        self._touched: dict[str, float] = {}  # session digest -> monotonic time this process last wrote last_seen_at

    def client(self, request: Request) -> tuple[str, list[str]]:
        """The caller's address and the believed proxy chain (cached on the request)."""
        return self.client_of(request.scope)

    def client_of(self, scope: Scope) -> tuple[str, list[str]]:
        """:meth:`client` for a raw ASGI scope (hub/access/forwarded.py decides)."""
        state = scope.setdefault("state", {})
        if "client_ip" not in state:
            origin = self.forwarded.origin(scope)
            state["client_ip"], state["proxy_chain"] = origin.client, list(origin.chain)
        return state["client_ip"], state["proxy_chain"]

    def refuse(self, request: Request, reason: str, *, partner: str | None = None, key_id: int | None = None,
               account: str | None = None) -> None:
        """Note why the call is refused, and who it claimed to be, for its access record."""
        state = request.scope.setdefault("state", {})
        state["outcome"] = reason
        state["attempt"] = {"partner_code": partner, "key_id": key_id, "account": account}

    async def admit(self, request: Request, rule: Rule) -> Principal | None:
        """The caller, allowed by ``rule`` now (rate limit charged unless the handler charges it);
        None for an anonymous caller the rule lets in. Raises the refusing :class:`Problem`."""
        found = await self.authenticate(request, rule)
        if found is not None and rule.charge == "guard":
            await self.limit(request, found, rule.route_class)
        return found

    async def authenticate(self, request: Request, rule: Rule) -> Principal | None:
        """Every check but the rate limit: the caller, whose credential ``rule`` admits (None when the
        rule admits callers without one and none was sent)."""
        ip, _ = self.client(request)
        if rule.cookie:  # a console page: only the console's session cookie, never an Authorization header
            secret = request.cookies.get(SESSION_COOKIE, "").strip()
            scheme = "bearer"
        else:
            scheme, _, secret = request.headers.get("authorization", "").partition(" ")
            scheme, secret = scheme.lower(), secret.strip()
        if rule.anonymous or (not secret and rule.scrape and in_any(ip, self.scrape_networks)):
            return None  # a public route ignores any credential sent
        if self._blocked and self.blocked(ip):
            self.refuse(request, "blocked:unauthenticated")
            raise Problem("rate-limited", "too many refused credentials from this address; wait and try again",
                          headers={"Retry-After": str(self.block_seconds)})
        cache = self.keys if scheme == "apikey" else self.sessions if scheme == "bearer" else None
        if cache is None or not secret:
            await self._unauthenticated(request, "no_credential")
        assert cache is not None
        hashed = digest(secret, self.pepper)
        hit = cache.cached(hashed)
        found = await run_in_threadpool(cache.reload, hashed) if hit is MISS else hit
        if not isinstance(found, Principal):
            reason, key_id, name = found
            await self._unauthenticated(request, reason, key_id, name, person=cache is self.sessions)
        assert isinstance(found, Principal)
        if found.expires_at is not None and time.time() >= found.expires_at:
            await self._unauthenticated(request, "expired", found.key_id, found.partner_code or found.account,
                                        person=found.is_person)
        if not allowed(ip, *found.networks):
            await self._unauthenticated(request, "ip_not_allowed", found.key_id, found.partner_code or found.account,
                                        person=found.is_person)
        if not rule.admits(found):
            self.refuse(request, f"scope:{rule.route_class}", partner=found.partner_code, key_id=found.key_id,
                        account=found.account)
            raise Problem("forbidden", f"{'this account' if found.is_person else 'this key'} may not call "
                                       f"{rule.route_class} endpoints", route_class=rule.route_class)
        if found.key_id is not None:
            self.log.used(found.key_id)
        else:
            await self.touch(hashed)
        state = request.scope.setdefault("state", {})
        state["principal"], state["credential_digest"] = found, hashed
        return found

    async def touch(self, session_digest: str, every: float = 20.0) -> None:
        """Restart a session's idle timeout, writing at most once per ``every`` seconds per process."""
        now = time.monotonic()
        if now - self._touched.get(session_digest, -every) < every:
            return
        if len(self._touched) > 10_000:
            self._touched.clear()
        self._touched[session_digest] = now
        await run_in_threadpool(touch_session, self.engine, session_digest)

    def blocked(self, ip: str) -> bool:
        """Is ``ip`` refused for now, after too many refused credentials (this process's view)?"""
        until = self._blocked.get(ip)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        del self._blocked[ip]
        return False

    async def charge_refusal(self, request: Request, problem: Problem) -> Problem:
        """Charge a refused credential or signature to the client address; past the threshold the
        address is blocked for ``unauthenticated_block_seconds`` and the answer becomes a 429."""
        if self.limiter is None:
            return problem
        ip, _ = self.client(request)
        decision = await self.limiter.check([Check(f"unauthenticated:{ip}", self.unauthenticated_limit)])
        if decision.allowed:
            return problem
        if len(self._blocked) > 100_000:  # a flood of addresses: forget the oldest view rather than grow
            self._blocked.clear()
        self._blocked[ip] = time.monotonic() + self.block_seconds
        state = request.scope.setdefault("state", {})
        state["outcome"] = f"blocked:{state.get('outcome', problem.slug)}"[:60]
        return Problem("rate-limited", "too many refused credentials from this address; wait and try again",
                       headers={"Retry-After": str(self.block_seconds)})

    def checks(self, who: Principal, route_class: str) -> Sequence[Check]:
        """The rate-limit counters a call of ``route_class`` by ``who`` must pass (none when limits are off)."""
        return self.policies.checks(who, route_class) if self.limiter is not None else ()

    async def limit(self, request: Request, who: Principal, route_class: str) -> None:
        """Charge ``who``'s rate limits for this call; raises the 429 :class:`Problem` when over."""
        if self.limiter is not None:
            self.apply(request, who, await self.limiter.check(self.checks(who, route_class)))

    def apply(self, request: Request, who: Principal, decision: Decision) -> None:
        """Put ``decision``'s RateLimit fields on the answer; raise the 429 :class:`Problem` if it refuses."""
        headers = decision.headers()
        if headers:
            request.scope.setdefault("state", {})["response_headers"] = headers
        if not decision.allowed:
            self.refuse(request, "rate_limited", partner=who.partner_code, key_id=who.key_id, account=who.account)
            raise Problem("rate-limited", f"over the limit; retry in {headers.get('Retry-After', '1')} s")

    async def _unauthenticated(self, request: Request, reason: str, key_id: int | None = None, name: str | None = None,
                               person: bool = False) -> None:
        self.refuse(request, reason, key_id=key_id, partner=None if person else name, account=name if person else None)
        raise await self.charge_refusal(request, Problem(
            "unauthenticated", "send a valid credential: 'Authorization: ApiKey <key>' for partner systems, "
                               "'Authorization: Bearer <session token>' for people", headers=CHALLENGE))


def admitted(request: Request) -> Principal:
    """FastAPI dependency: the caller the guard admitted (``hub/edge/guard.py``)."""
    principal: Principal = request.scope["state"]["principal"]
    return principal
