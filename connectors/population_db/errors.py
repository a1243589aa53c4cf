"""Errors of the population database client. Each ``message`` is safe to show a caller: it names
what went wrong in the hub's words, never the partner's internals, a secret or citizen data.

The edge maps them to problems: :class:`PopulationFault` -> 502 ``population-db-fault``,
:class:`PopulationUnavailable` -> 502 ``population-db-unavailable``, :class:`PopulationTimeout` ->
504 ``population-db-timeout``.
"""

from __future__ import annotations


class PopulationError(Exception):
    """Any failed call to the population database."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PopulationFault(PopulationError):
    """The database answered with a SOAP Fault. ``code`` is its ``MaLoi`` (or the SOAP faultcode)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class PopulationTimeout(PopulationError):
    """No answer within ``LIENTHONG_POPULATION_DB_TIMEOUT`` (the look-up may or may not have happened)."""


class PopulationUnavailable(PopulationError):
    """Unreachable, HTTP 5xx, token refused, or an answer the client cannot read."""


class PopulationSignatureInvalid(PopulationUnavailable):
    """The answer's XML signature is missing, does not verify, or has expired (WS-Security on)."""
