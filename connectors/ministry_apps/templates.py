"""The mapping language of adapters: YAML trees whose strings are Jinja2 templates, run sandboxed.

A string that is one expression, ``"{{ m.payload.fees }}"``, keeps the expression's type (a number,
a list, a mapping, null): the tree becomes JSON of the right shape without quoting games. Any other
string renders as text. A key whose value comes out null is left out (most wire formats want an
absent key, not null). Undefined names are errors (``StrictUndefined``): a misspelt field fails at
``check`` time, not silently at the ministry.

Filters, beside Jinja2's own: ``local(fmt)`` (an ISO 8601 time as Vietnam time, strftime format),
``from_local(fmt)`` (a Vietnam-time text back to ISO 8601 with +07:00), ``b64`` (bytes or text as
base64), ``agency`` (the agency id a dossier code starts with), ``digest`` (sha256 hex of text).
Functions the context gives: ``document(d)`` (an attachment or result document, by its ``url`` and
``sha256``, fetched with the hub's safeguards, as base64) and, in a login, ``secret(name)``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping

import orjson
from jinja2 import StrictUndefined, TemplateError, Undefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.seam import DocumentFailed

VIETNAM = timezone(timedelta(hours=7), "ICT")
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.S)


class MappingError(Exception):
    """A template failed: ``where`` names the place in the adapter (``send.dossier.submitted.json.module``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


def _local(value: Any, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(VIETNAM).strftime(fmt)


def _from_local(value: Any, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    return datetime.strptime(str(value).strip(), fmt).replace(tzinfo=VIETNAM).isoformat()


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def _tojson(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _agency(code: Any) -> str:
    return str(code).split("-", 1)[0]


def _digest(value: Any) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The sandboxed environment every adapter template runs in (no attribute of Python internals, no
    mutation of what it is given)."""
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(local=_local, from_local=_from_local, b64=_b64, tojson=_tojson, agency=_agency, digest=_digest)
    return env


@lru_cache(maxsize=4096)
def _compiled(text: str) -> tuple[Callable[..., Any], bool]:
    env = environment()
    match = _ONE_EXPRESSION.match(text)
    if match and "{{" not in match.group("expr") and "{%" not in text:
        return env.compile_expression(match.group("expr"), undefined_to_none=False), True
    return env.from_string(text).render, False


def compile_check(text: str) -> None:
    """Raise ``jinja2.TemplateSyntaxError`` if ``text`` is not a template (``check`` names its line)."""
    env = environment()
    match = _ONE_EXPRESSION.match(text)
    if match and "{{" not in match.group("expr") and "{%" not in text:
        env.compile_expression(match.group("expr"))
    else:
        env.parse(text)


def names_used(text: str) -> set[str]:
    """Top-level names a template reads (for ``check``: a name the context lacks is a mistake)."""
    from jinja2 import meta

    env = environment()
    match = _ONE_EXPRESSION.match(text)
    source = text if not (match and "{{" not in match.group("expr")) else "{{" + match.group("expr") + "}}"
    ast: nodes.Template = env.parse(source)
    return set(meta.find_undeclared_variables(ast))


def value(text: str, context: Mapping[str, Any], where: str) -> Any:
    """One template's value (typed when it is one expression)."""
    try:
        fn, native = _compiled(text)
        out = fn(**context)
    except (MappingError, DocumentFailed):  # a document that may not be fetched is not the mapping's mistake
        raise
    except TemplateError as exc:
        raise MappingError(where, f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a filter or an expression failed on this message: the mapping's fault
        raise MappingError(where, f"{type(exc).__name__}: {exc}") from None
    if native and isinstance(out, Undefined):
        raise MappingError(where, f"{text.strip()} is undefined")
    return out


def truth(text: str, context: Mapping[str, Any], where: str) -> bool:
    """A condition template: true, or text that reads as true (``true``, ``1``, ``yes``)."""
    out = value(text, context, where)
    if isinstance(out, str):
        return out.strip().lower() in ("true", "1", "yes")
    return bool(out)


def tree(node: Any, context: Mapping[str, Any], where: str) -> Any:
    """A YAML tree with every string rendered; keys whose value comes out null are left out."""
    if isinstance(node, str):
        return value(node, context, where)
    if isinstance(node, dict) and "$each" in node:
        return _each(node, context, where)
    if isinstance(node, dict):
        out = {}
        for key, child in node.items():
            rendered = tree(child, context, f"{where}.{key}")
            if rendered is not None:
                out[str(key)] = rendered
        return out
    if isinstance(node, list):
        return [tree(child, context, f"{where}.{i}") for i, child in enumerate(node)]
    return node


def _each(node: dict[str, Any], context: Mapping[str, Any], where: str) -> list[Any]:
    """``{$each: <list>, as: <name>, do: <tree>}``: the tree rendered once per item (a loop, which a
    single expression cannot write)."""
    extra = set(node) - {"$each", "as", "do"}
    if extra or "do" not in node:
        raise MappingError(where, "a loop is {$each: <list>, as: <name>, do: <tree>}" + (f"; not {sorted(extra)}" if extra else ""))
    items = tree(node["$each"], context, f"{where}.$each")
    if items is None:
        return []
    if not isinstance(items, list):
        raise MappingError(f"{where}.$each", f"a loop runs over a list, not {type(items).__name__}")
    name = str(node.get("as", "item"))
    return [tree(node["do"], {**context, name: item, "loop_index": i}, f"{where}.do") for i, item in enumerate(items)]


def strings(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every string of a tree with its place (``check`` compiles each)."""
    if isinstance(node, str):
        return [(where, node)]
    if isinstance(node, dict):
        return [s for key, child in node.items() for s in strings(child, f"{where}.{key}" if where else str(key))]
    if isinstance(node, list):
        return [s for i, child in enumerate(node) for s in strings(child, f"{where}.{i}")]
    return []
