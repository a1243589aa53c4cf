"""What an adapter file may say: one ministry system, as configuration (the schema ``check`` applies).

A file describes where the system is (``base_url``), how the hub proves who it is (``auth``), which
canonical messages it receives (``receives``, routing rules), how each becomes the system's request
(``send``: a mapping and the wire schema its output must meet), how its answers read (``answer``),
and the way back: status and results pulled on a schedule (``pull``) or pushed to the hub
(``callbacks``), each mapped to canonical messages (``emit``). connectors/ministry_apps/README.md
explains every key with the shipped adapters as examples.

Mappings are YAML trees whose strings are Jinja2 templates (:mod:`.templates`). Secrets are named,
never written: each comes from the vault (``<code>.<name>``), else an environment variable, else a
sandbox value that production refuses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The canonical types a ministry system can receive, and those its way back may produce.
RECEIVABLE = frozenset({"dossier.submitted", "dossier.updated", "status.changed", "fee.notice", "payment.confirmed",
                        "result.issued"})
EMITTABLE = frozenset({"status.changed", "result.issued", "fee.notice"})
Outcome = Literal["ok", "transient", "permanent"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
EnvName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
Tree = Any  # a YAML value whose strings are templates


class Config(BaseModel):
    """Unknown keys are mistakes (a misspelt key must not be ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(Config):
    """Where a secret comes from: vault credential ``<code>.<name>`` first, then ``env``, then ``sandbox``."""

    env: EnvName | None = None
    sandbox: str | None = Field(None, description="The sandbox's value (its simulator's); production refuses it")


# -- authentication --------------------------------------------------------------------------------


class NoAuth(Config):
    kind: Literal["none"] = "none"


class KeyHeader(Config):
    """A static key in a header."""

    kind: Literal["key_header"]
    header: str = Field("X-API-Key", min_length=1)
    secret: Name
    prefix: str = ""


class Basic(Config):
    """HTTP Basic."""

    kind: Literal["basic"]
    username: str = Field(min_length=1)
    secret: Name


class OAuth(Config):
    """OAuth 2.0 client credentials (RFC 6749 §4.4); the client authenticates by HTTP Basic or in the form."""

    kind: Literal["oauth_client_credentials"]
    token_url: str = Field(min_length=1, description="Absolute, or a path under base_url")
    client_id: str = Field(min_length=1)
    secret: Name
    scope: str | None = None
    client_auth: Literal["basic", "form"] = "basic"


class Request(Config):
    """One HTTP request: method, path under ``base_url`` (a template), headers, and a JSON body or a text one."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Tree] = Field(default_factory=dict)
    json_body: Tree = Field(None, alias="json")
    text: str | None = None
    content_type: str | None = None

    @model_validator(mode="after")
    def _one_body(self) -> "Request":
        if self.json_body is not None and self.text is not None:
            raise ValueError("give json or text, not both")
        return self


class Login(Config):
    """A login that returns a session or a token: ``request`` is sent first (and again when it expires or
    the system answers ``renew_on``); ``token`` reads it from the login's answer, ``header``/``value``
    carry it."""

    kind: Literal["login"]
    request: Request
    token: str = Field(min_length=1, description="Template over 'answer' (the login's JSON answer)")
    lifetime: str = Field("300", description="Template: seconds the token lasts")
    header: str = "Authorization"
    value: str = "Bearer {{ token }}"
    renew_on: list[int] = Field(default_factory=lambda: [401])


class WsSecurity(Config):
    """WS-Security UsernameToken in the SOAP header (OASIS 1.0): digest by default."""

    kind: Literal["ws_security"]
    username: str = Field(min_length=1)
    secret: Name
    digest: bool = True


Auth = Annotated[Union[NoAuth, KeyHeader, Basic, OAuth, Login, WsSecurity], Field(discriminator="kind")]


# -- reading answers -------------------------------------------------------------------------------


class Rule(Config):
    """One line of reading an answer: every condition given must hold; the first rule that holds decides.

    ``http``: statuses (``404``, ``"5xx"``); ``field``: a dotted path into the JSON answer, with ``in``
    (its value, compared as text, is one of these) or absent; ``fault``: SOAP fault codes (``"*"``:
    any fault); ``contains``: phrases of a plain-text answer (NFC, case ignored)."""

    http: list[int | str] | None = None
    field: str | None = None
    is_in: list[Any] | None = Field(None, alias="in")
    fault: list[str] | None = None
    contains: list[str] | None = None
    then: Outcome
    reason: str | None = Field(None, description="Template: what the delivery's record says (answer, status)")
    reference: str | None = Field(None, description="Template: the system's own id for what it received")

    @field_validator("http")
    @classmethod
    def _statuses(cls, value: list[int | str] | None) -> list[int | str] | None:
        for status in value or []:
            if not (isinstance(status, int) and 100 <= status <= 599) and status not in ("2xx", "3xx", "4xx", "5xx"):
                raise ValueError(f"an HTTP status is 100-599 or one of 2xx, 3xx, 4xx, 5xx, not {status!r}")
        return value


# -- the way out -----------------------------------------------------------------------------------


class Soap(Config):
    """A SOAP system: its WSDL (a file beside the adapter, or a URL), the address calls go to."""

    wsdl: str = Field(min_length=1)
    address: str | None = Field(None, description="Overrides the WSDL's soap:address (a template over env)")
    service: str | None = None
    port: str | None = None


class Send(Config):
    """How one canonical type becomes the system's request: REST (``request``) or a SOAP ``operation``
    with ``args``; ``let`` names values first; the output must meet ``schema`` (JSON Schema file, REST)
    or the WSDL (SOAP); ``answer`` reads the answer (before the adapter's own ``answer``)."""

    let: dict[str, str] = Field(default_factory=dict)
    request: Request | None = None
    operation: str | None = None
    args: Tree = None
    schema_file: str | None = Field(None, alias="schema")
    answer: list[Rule] = Field(default_factory=list)
    opens_case: bool = Field(False, description="A delivery ok opens a case the pull asks about")
    keep: dict[str, str] = Field(default_factory=dict, description="Templates kept with the case, for the pull")

    @model_validator(mode="after")
    def _one_way(self) -> "Send":
        if (self.request is None) == (self.operation is None):
            raise ValueError("give either request (REST) or operation (SOAP)")
        return self


class Receive(Config):
    """A routing rule: the messages of ``type`` from ``source`` (and ``when`` their fields match) come here."""

    type: list[str] | str
    source: list[str] | str = "motcua"
    when: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _receivable(cls, value: list[str] | str) -> list[str] | str:
        unknown = sorted(set([value] if isinstance(value, str) else value) - RECEIVABLE)
        if unknown:
            raise ValueError(f"a ministry system cannot receive {', '.join(unknown)} "
                             f"(it can: {', '.join(sorted(RECEIVABLE))})")
        return value


# -- the way back ----------------------------------------------------------------------------------


class Emit(Config):
    """A canonical message the way back produces, when ``when`` (a template) is true: ``message`` is its
    tree (``type``, ``dossier_code``, ``occurred_at``, ``payload``); ``id`` (a template) names the
    event, so the same event read twice is one message."""

    when: str = "true"
    id: str = Field(min_length=1)
    message: Tree

    @field_validator("message")
    @classmethod
    def _a_message(cls, value: Any) -> Any:
        if not isinstance(value, dict) or value.get("type") not in EMITTABLE:
            raise ValueError(f"message: a mapping whose type is one of {', '.join(sorted(EMITTABLE))}")
        return value


class Cases(Config):
    """Pull by case: ask about the open cases (those a delivery opened), ``batch`` at a time, grouped by
    ``group`` (a template over ``case``); a case ends at a ``final`` state."""

    batch: int = Field(50, ge=1, le=500)
    group: str = "all"
    key: str = Field(min_length=1, description="Template over 'item': the dossier code it answers about")
    state: str = Field(min_length=1, description="Template over 'item': its state")
    final: list[str] = Field(default_factory=list)


class Feed(Config):
    """Pull a feed after a durable cursor: ``next`` (a template over ``answer`` and ``cursor``) is the new place."""

    start: str = ""
    next: str = Field(min_length=1)


class Pull(Config):
    """Status and results read on a schedule: ``every`` seconds, ``request`` (a template over ``cases`` and
    ``group``, or ``cursor``), ``items`` (a template over ``answer``: the list of items), ``emit``."""

    every: float = Field(30.0, ge=0.2, le=86400)
    request: Request
    items: str = "{{ answer }}"
    cases: Cases | None = None
    feed: Feed | None = None
    answer: list[Rule] = Field(default_factory=list)
    emit: list[Emit] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_style(self) -> "Pull":
        if (self.cases is None) == (self.feed is None):
            raise ValueError("give either cases (ask about each open case) or feed (read after a cursor)")
        return self


class Reply(Config):
    """The hub's answer to a callback, in the system's format (a template over ``error``)."""

    status: int = Field(200, ge=200, le=599)
    json_body: Tree = Field(None, alias="json")


class Callbacks(Config):
    """Events the system pushes to ``/v1/ministry/<code>/hooks/<event>/<secret>`` (``auth: secret``) or
    ``/v1/ministry/<code>/push/<event>`` with its API key (``auth: key``); each event's ``emit``."""

    auth: Literal["secret", "key"]
    secret: Name | None = None
    events: dict[str, list[Emit]] = Field(min_length=1)
    ok: Reply = Field(default_factory=Reply)
    refused: Reply = Field(default_factory=lambda: Reply(status=400))
    unavailable: Reply = Field(default_factory=lambda: Reply(status=503))

    @model_validator(mode="after")
    def _secret_named(self) -> "Callbacks":
        if self.auth == "secret" and not self.secret:
            raise ValueError("auth secret: name the secret (secret: <name> of secrets)")
        for event in self.events:
            if not event.replace("_", "").isalnum():
                raise ValueError(f"event {event!r}: letters, digits and _ only (it is a path segment)")
        return self


class Adapter(Config):
    """One ministry system, as one file."""

    code: Name = Field(description="Destination and partner code, e.g. civil_status")
    name: str = Field(min_length=1, max_length=200)
    kind: str = "ministry_app"
    agency_id: str | None = Field(None, pattern=r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
    base_url: str = Field(min_length=1, description="The system's root; ${VAR:-default} is read from the environment")
    timeout: float = Field(10.0, gt=0, le=120)
    secrets: dict[Name, Secret] = Field(default_factory=dict)
    auth: Auth = Field(default_factory=NoAuth)
    soap: Soap | None = None
    receives: list[Receive] = Field(min_length=1)
    send: dict[str, Send] = Field(min_length=1)
    answer: list[Rule] = Field(default_factory=list)
    pull: Pull | None = None
    callbacks: Callbacks | None = None
    samples: list[str] = Field(default_factory=list, description="Files beside the adapter that check renders")

    @model_validator(mode="after")
    def _consistent(self) -> "Adapter":
        received = {t for r in self.receives for t in ([r.type] if isinstance(r.type, str) else r.type)}
        missing = sorted(received - set(self.send))
        if missing:
            raise ValueError(f"send: no mapping for {', '.join(missing)}, which receives routes here")
        stray = sorted(set(self.send) - received)
        if stray:
            raise ValueError(f"send: {', '.join(stray)} is mapped but receives routes none of it here")
        named = {a.secret for a in [self.auth] if hasattr(a, "secret")}
        if self.callbacks is not None and self.callbacks.secret:
            named.add(self.callbacks.secret)
        unknown = sorted(n for n in named if n not in self.secrets)
        if unknown:
            raise ValueError(f"secrets: {', '.join(unknown)} is used but not declared under secrets")
        soap = [t for t, s in self.send.items() if s.operation is not None]
        if soap and self.soap is None:
            raise ValueError(f"send {soap[0]}: a SOAP operation needs soap: {{wsdl: ...}}")
        if isinstance(self.auth, WsSecurity) and self.soap is None:
            raise ValueError("auth ws_security is for SOAP systems (give soap: {wsdl: ...})")
        return self

    @property
    def accepts(self) -> frozenset[str]:
        return frozenset(self.send)

    def routes(self) -> tuple[dict[str, Any], ...]:
        """Its routing rules (``receives``), in routes.yaml's format, to itself; and the way back to the
        one-stop system: what it emits goes to ``motcua``."""
        out = [{"type": r.type, "source": r.source, "when": r.when, "to": [self.code]} for r in self.receives]
        if self.pull is not None or self.callbacks is not None:
            out.append({"type": sorted(self.emitted()), "source": self.code, "to": ["motcua"]})
        return tuple(out)

    def emitted(self) -> set[str]:
        """The canonical types its way back produces."""
        emits = list(self.pull.emit if self.pull else [])
        for event in (self.callbacks.events.values() if self.callbacks else []):
            emits.extend(event)
        return {str(e.message["type"]) for e in emits}
