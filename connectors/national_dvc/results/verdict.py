"""What a check found: a document's verdict and its signatures (no pyHanko here: read by the screen,
the trace and the tests without loading it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

State = Literal["valid", "untrusted", "expired", "broken", "not-signed", "not-pdf", "unavailable"]


@dataclass(frozen=True)
class Signature:
    signer: str  #: subject common name (organisation)
    issuer: str
    signed_at: datetime | None
    intact: bool  #: the signed bytes are unchanged and the signature over them sound
    trusted: bool  #: the signer chains to a configured authority
    valid: bool  #: intact, trusted and the certificate valid at the signing time
    reason: str  #: why not valid ("" when valid)


@dataclass(frozen=True)
class Verdict:
    """A document's verdict: ``state`` and, for a signed PDF, its signatures (several: each must hold)."""

    state: State
    reason: str = ""
    signatures: tuple[Signature, ...] = field(default_factory=tuple)

    @property
    def signer(self) -> str | None:
        return "; ".join(s.signer for s in self.signatures) or None

    @property
    def issuer(self) -> str | None:
        return "; ".join(s.issuer for s in self.signatures) or None

    @property
    def signed_at(self) -> datetime | None:
        times = [s.signed_at for s in self.signatures if s.signed_at is not None]
        return max(times) if times else None

    def all(self, what: str) -> bool | None:
        return all(getattr(s, what) for s in self.signatures) if self.signatures else None
