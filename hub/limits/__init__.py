"""Rate limits per key, partner and route class over several windows at once, shared through Redis (GCRA)."""

from hub.limits.decision import Check, Decision, Limit, LimitState
from hub.limits.limiter import RateLimiter

__all__ = ["Check", "Decision", "Limit", "LimitState", "RateLimiter"]
