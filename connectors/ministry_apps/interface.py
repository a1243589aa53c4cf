"""Contract of the ministry software connector: per-ministry configuration and the client operation.

One generic connector delivers canonical messages to any ministry system that takes JSON over
HTTPS. What differs between ministries is configuration (:class:`MinistryApp`): base URL, the
message types it takes and the path each is posted to, authentication, timeout and batch size.

Proposed wire format (to settle with the first ministry): ``POST {base_url}{path}`` with the
canonical message as the JSON body (the schemas the hub publishes under ``/schemas/messages/``),
``Idempotency-Key: <source>:<message_id>``; a 2xx answer means the ministry has it, optionally with
its own reference (:class:`MinistryReceipt`).

Secrets are never written in the configuration: it names the environment variable that holds them.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol, Union, runtime_checkable

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from hub.messages.models import Envelope

#: Canonical messages the connector can deliver; each ministry takes a subset (``MinistryApp.accepts``).
ACCEPTS: frozenset[str] = frozenset(
    {"dossier.submitted", "dossier.updated", "status.changed", "fee.notice", "payment.confirmed", "result.issued"}
)

EnvName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", description="Name of an environment variable")]


class Config(BaseModel):
    """Base of configuration models: unknown keys are mistakes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoAuth(Config):
    """No authentication (a ministry reached over a private network only)."""

    kind: Literal["none"] = "none"


class ApiKeyAuth(Config):
    """A static key sent in a header."""

    kind: Literal["api_key"] = "api_key"
    header: str = Field("X-API-Key", min_length=1)
    key_env: EnvName


class BasicAuth(Config):
    """HTTP Basic authentication."""

    kind: Literal["basic"] = "basic"
    username: str = Field(min_length=1)
    password_env: EnvName


class OAuthClientCredentials(Config):
    """OAuth 2.0 ``client_credentials`` grant; the token is sent as ``Authorization: Bearer``."""

    kind: Literal["oauth_client_credentials"] = "oauth_client_credentials"
    token_url: AnyHttpUrl
    client_id: str = Field(min_length=1)
    client_secret_env: EnvName
    scope: str | None = None


Auth = Annotated[Union[NoAuth, ApiKeyAuth, BasicAuth, OAuthClientCredentials], Field(discriminator="kind")]


class MinistryApp(Config):
    """One ministry system: where it is, what it takes, how the hub proves who it is."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="Destination name in routes.yaml")
    name: str = Field(min_length=1, max_length=200)
    agency_id: str | None = Field(None, pattern=r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$", description="e.g. 000.00.00.G12")
    base_url: AnyHttpUrl
    accepts: frozenset[str] = Field(min_length=1)
    paths: dict[str, str] = Field(default_factory=dict, description="Message type -> path; default /messages")
    auth: Auth = Field(default_factory=NoAuth)
    timeout: float = Field(10.0, gt=0, description="Seconds before a call counts as timed out")
    max_batch: int = Field(1, ge=1, le=50, description="Messages per deliver call")

    @model_validator(mode="after")
    def _types_are_deliverable(self) -> "MinistryApp":
        unknown = (self.accepts | set(self.paths)) - ACCEPTS
        if unknown:
            raise ValueError(f"message types this connector cannot deliver: {', '.join(sorted(unknown))}")
        stray = set(self.paths) - self.accepts
        if stray:
            raise ValueError(f"paths given for types not accepted: {', '.join(sorted(stray))}")
        return self


class MinistryApps(Config):
    """The whole configuration file: every ministry system, each a destination of its own."""

    ministries: list[MinistryApp] = Field(default_factory=list)

    @model_validator(mode="after")
    def _codes_unique(self) -> "MinistryApps":
        codes = [m.code for m in self.ministries]
        doubled = sorted({c for c in codes if codes.count(c) > 1})
        if doubled:
            raise ValueError(f"ministry codes used twice: {', '.join(doubled)}")
        return self


class MinistryReceipt(BaseModel):
    """A ministry's 2xx answer; every field optional, extra ones kept."""

    model_config = ConfigDict(extra="allow")

    reference: str | None = Field(None, description="The ministry's own id for what it received")


@runtime_checkable
class MinistryAppClient(Protocol):
    """What the ministry connector needs from its HTTP client, one per configured ministry."""

    app: MinistryApp

    def deliver(self, message: Envelope) -> MinistryReceipt:
        """POST ``message`` to the path configured for its type; the ministry's receipt on 2xx.

        Sending the same message again must be harmless (the Idempotency-Key repeats). Timeouts,
        refused connections, HTTP 5xx, 408 and 429 raise an error the connector classifies as
        transient; any other 4xx raises one classified as permanent, with the answer's reason.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
