"""Who is calling: a partner system (by API key) or a person (by session token)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.access.networks import Network
from hub.access.scopes import OPERATOR_ROLES, Scopes


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a credential, as the edge needs it on every request.

    ``expires_at`` (epoch seconds) is checked at each use, so a cached principal never outlives
    its key or session.
    """

    partner_code: str | None
    partner_kind: str | None
    key_id: int | None = None
    account: str | None = None
    role: str | None = None
    scopes: Scopes = Scopes()
    networks: tuple[tuple[Network, ...], ...] = ()  # every list must allow the address
    expires_at: float | None = None
    signatures: str = "off"  # the partner's signing policy: off | optional | required (hub/signatures)

    @property
    def is_person(self) -> bool:
        return self.account is not None

    @property
    def is_operator(self) -> bool:
        """May see every partner's messages and run operations: an operator or admin, or a key with
        the ``ops`` scope. Which routes each caller reaches is ``hub/edge/rules.py``'s table."""
        if self.is_person:
            return self.role in OPERATOR_ROLES
        return self.scopes.allows_route("ops")

    @property
    def who(self) -> str:
        """For logs and records: ``person:<account>`` or ``key:<id>@<partner>``; never a secret."""
        return f"person:{self.account}" if self.is_person else f"key:{self.key_id}@{self.partner_code}"
