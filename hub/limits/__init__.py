"""Rate limits per key, partner and route class over several windows at once, shared through Redis (GCRA)."""

from hub.limits.limiter import Check, Decision, Limit, LimitState, RateLimiter

__all__ = ["Check", "Decision", "Limit", "LimitState", "RateLimiter"]
