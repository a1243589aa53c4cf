"""From a canonical message to the request a ministry system receives, and sending it.

:func:`render` runs the adapter's mapping for the message's type and checks the result against the
wire format (the JSON Schema file the mapping names, or the WSDL through zeep): what ``lienthong
ministry try`` prints and what the connector sends are the same object, :class:`Outgoing`.
:class:`Wire` holds one adapter version's HTTP client, authentication and SOAP client.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

import httpx
import orjson
from jsonschema import Draft202012Validator

from connectors.ministry_apps.answers import Answer
from connectors.ministry_apps.auth import http_auth, secret_getter, wsse
from connectors.ministry_apps.outgoing import Outgoing
from connectors.ministry_apps.templates import MappingError, tree, value
from hub.seam import Context

if TYPE_CHECKING:
    from connectors.ministry_apps.registry import Loaded

Fetch = Callable[[str, str], bytes]


def _document(fetch: Fetch | None) -> Callable[[Any], bytes]:
    def raw_document(doc: Any) -> bytes:
        if not isinstance(doc, Mapping) or not doc.get("url") or not doc.get("sha256"):
            raise MappingError("document", "a document is fetched by its url and sha256; this one lacks them")
        if fetch is None:
            raise MappingError("document", "documents are not fetched here")
        return fetch(str(doc["url"]), str(doc["sha256"]))
    return raw_document


def base_context(loaded: "Loaded", extra: Mapping[str, Any], fetch: Fetch | None = None) -> dict[str, Any]:
    """What every template of an adapter sees: ``adapter`` (code, name, agency_id), ``now`` (ISO 8601,
    UTC), ``document(d)`` (base64 text, for JSON), ``raw_document(d)`` (bytes, for SOAP's base64Binary),
    and ``extra``."""
    a = loaded.adapter
    raw = _document(fetch)
    return {"adapter": {"code": a.code, "name": a.name, "agency_id": a.agency_id, "base_url": loaded.base_url},
            "now": datetime.now(timezone.utc).isoformat(), "raw_document": raw,
            "document": lambda doc: base64.b64encode(raw(doc)).decode("ascii"), **extra}


def request_of(loaded: "Loaded", spec: Any, context: dict[str, Any], where: str) -> Outgoing:
    """A REST request (``adapter.Request``) rendered over ``context``."""
    path = str(value(spec.path, context, f"{where}.path"))
    url = path if path.startswith(("http://", "https://")) else loaded.base_url.rstrip("/") + "/" + path.lstrip("/")
    headers = {k: str(value(v, context, f"{where}.headers.{k}")) for k, v in spec.headers.items()}
    query = tree(spec.query, context, f"{where}.query") if spec.query else {}
    body = tree(spec.json_body, context, f"{where}.json") if spec.json_body is not None else None
    text = str(value(spec.text, context, f"{where}.text")) if spec.text is not None else None
    if spec.content_type:
        headers["Content-Type"] = spec.content_type
    return Outgoing(spec.method, url, headers, query, body, text)


def render(loaded: "Loaded", message: Mapping[str, Any], fetch: Fetch | None = None) -> Outgoing:
    """The request for canonical ``message`` (its JSON form), checked against the wire format; raises
    :class:`MappingError` naming the place that failed."""
    msg_type = str(message["type"])
    send = loaded.adapter.send.get(msg_type)
    if send is None:
        raise MappingError("send", f"the adapter maps no {msg_type}")
    where = f"send.{msg_type}"
    context = base_context(loaded, {"m": message}, fetch)
    for name, template in send.let.items():
        context[name] = value(template, context, f"{where}.let.{name}")
    if send.request is not None:
        out = request_of(loaded, send.request, context, f"{where}.request")
        validator = loaded.validators.get(msg_type)
        if validator is not None:
            _meets(validator, out.json if out.json is not None else _parsed(out.text), f"{where}.request.json")
        return out
    args = tree(send.args, context, f"{where}.args") if send.args is not None else {}
    if not isinstance(args, dict):
        raise MappingError(f"{where}.args", "the arguments of a SOAP operation are a mapping")
    out = Outgoing(operation=send.operation, args=args)
    if loaded.soap is not None:
        loaded.soap.check(out)
    return out


def _parsed(text: str | None) -> Any:
    try:
        return orjson.loads(text or "")
    except orjson.JSONDecodeError as exc:
        raise MappingError("request.text", f"the wire schema is JSON but the body is not: {exc}") from None


def _meets(validator: Draft202012Validator, document: Any, where: str) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        at = "/".join(map(str, first.absolute_path)) or "(the body)"
        # the place is the failing key's (check names its line in the file), not the whole body's
        raise MappingError(".".join([where, *map(str, first.absolute_path)]),
                           f"the output does not meet the wire schema at {at}: {first.message}"[:400]
                           + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))


def kept(loaded: "Loaded", message: Mapping[str, Any]) -> dict[str, Any]:
    """What a case keeps from its hand-over (``send.<type>.keep``), for the pull."""
    send = loaded.adapter.send[str(message["type"])]
    context = base_context(loaded, {"m": message})
    for name, template in send.let.items():
        context[name] = value(template, context, f"send.{message['type']}.let.{name}")
    return {k: value(v, context, f"send.{message['type']}.keep.{k}") for k, v in send.keep.items()}


class Wire:
    """One adapter version's connections: an HTTP client with its authentication, and its SOAP client."""

    def __init__(self, loaded: "Loaded", ctx: Context | None) -> None:
        self.loaded = loaded
        self.secret = secret_getter(loaded.adapter, ctx)
        self.auth = http_auth(loaded.adapter, loaded.base_url, self.secret)
        self.http = httpx.Client(timeout=loaded.adapter.timeout, auth=self.auth,
                                 headers={"User-Agent": "lienthong-ministry/1"})
        self._soap: Any = None

    def send(self, out: Outgoing) -> Answer:
        """Send ``out``; the answer as it came (transport errors raise ``httpx.TransportError``)."""
        if out.operation is not None:
            if self.loaded.soap is None:
                raise MappingError("soap", "a SOAP operation without soap: in the adapter")
            if self._soap is None:
                self._soap = self.loaded.soap.service(wsse(self.loaded.adapter, self.secret), self.loaded.adapter.timeout)
            return self.loaded.soap.call(self._soap, out)
        content = None if out.json is not None or out.text is None else out.text.encode("utf-8")
        response = self.http.request(out.method, out.url, params=dict(out.query) or None, headers=dict(out.headers),
                                     json=out.json, content=content)
        return answer_of(response)

    def close(self) -> None:
        self.http.close()


def answer_of(response: httpx.Response) -> Answer:
    """An HTTP response as an :class:`Answer` (its JSON if it is JSON)."""
    try:
        doc = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        doc = None
    return Answer(response.status_code, doc, response.text[:20_000], headers=dict(response.headers))
