"""The adapters folder: each ``*.yaml`` file one ministry system, read again whenever the folder changes.

:func:`load` turns one file into a :class:`Loaded` adapter (its schema checked, every template
compiled, its wire schemas and WSDL read) or raises :class:`Broken` with the line of each mistake.
:class:`Registry` keeps the folder's good adapters; it looks at the folder at most once a second
(names, sizes and modification times of every file under it), so a file added, edited or removed
takes effect in the API and the workers within about a second, with no restart. A file that breaks
keeps its last good version in service and is reported (``lienthong ministry list``, the log).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson
from jinja2 import TemplateSyntaxError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from connectors.ministry_apps.adapter import Adapter
from connectors.ministry_apps.soap import SoapSide
from connectors.ministry_apps.source import Source, SourceError, expand, read
from connectors.ministry_apps.templates import compile_check, strings
from hub.seam import Member

log = logging.getLogger(__name__)
RESCAN_SECONDS = 1.0
MAX_FILE_BYTES = 512 * 1024


@dataclass(frozen=True)
class Mistake:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class Broken(Exception):
    """An adapter file that cannot be used; ``mistakes`` each name a line."""

    def __init__(self, path: Path, mistakes: list[Mistake]) -> None:
        super().__init__(f"{path.name}: " + "; ".join(map(str, mistakes)))
        self.path, self.mistakes = path, mistakes


@dataclass(eq=False)
class Loaded:
    """One adapter file, ready: the adapter, its base URL with the environment read, its wire schemas'
    validators by message type, its SOAP side, and where it came from."""

    adapter: Adapter
    path: Path
    source: Source
    base_url: str
    validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    soap: SoapSide | None = None
    member: Member | None = None

    def sibling(self, name: str) -> Path:
        return (self.path.parent / name).resolve()


def _pydantic_mistakes(source: Source, exc: ValidationError) -> list[Mistake]:
    out = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        where = ".".join(map(str, loc))
        message = error["msg"].removeprefix("Value error, ")
        out.append(Mistake(source.line(loc), f"{where}: {message}" if where else message))
    return out


_UNION_TAGS = {"none", "key_header", "basic", "oauth_client_credentials", "login", "ws_security"}


def _templates(adapter: Adapter, source: Source) -> list[Mistake]:
    """Every template of the file compiled; a syntax error names its line in the file."""
    raw = source.data
    out = []
    for where, text in strings({k: raw[k] for k in ("auth", "send", "answer", "pull", "callbacks") if k in raw}):
        try:
            compile_check(text)
        except TemplateSyntaxError as exc:
            out.append(Mistake(source.line_of(where) + max((exc.lineno or 1) - 1, 0),
                               f"{where}: template error: {exc.message}"))
    return out


def load(path: Path, env: dict[str, str] | None = None) -> Loaded:
    """Read, check and prepare one adapter file; raises :class:`Broken`."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise Broken(path, [Mistake(1, f"an adapter file is at most {MAX_FILE_BYTES} bytes")])
        source = read(path.read_text(encoding="utf-8"))
    except SourceError as exc:
        raise Broken(path, [Mistake(exc.line or 1, exc.message)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Broken(path, [Mistake(1, f"cannot read it: {exc}")]) from None
    try:
        adapter = Adapter.model_validate(source.data)
    except ValidationError as exc:
        raise Broken(path, _pydantic_mistakes(source, exc)) from None
    mistakes = _templates(adapter, source)
    try:
        base_url = expand(adapter.base_url, env)
    except ValueError as exc:
        mistakes.append(Mistake(source.line(("base_url",)), f"base_url: {exc}"))
        base_url = ""
    loaded = Loaded(adapter, path, source, base_url)
    for msg_type, send in adapter.send.items():
        if send.schema_file:
            line = source.line(("send", msg_type, "schema"))
            try:
                schema = orjson.loads(loaded.sibling(send.schema_file).read_bytes())
                Draft202012Validator.check_schema(schema)
                loaded.validators[msg_type] = Draft202012Validator(schema)
            except OSError:
                mistakes.append(Mistake(line, f"send.{msg_type}.schema: no file {send.schema_file} beside the adapter"))
            except (orjson.JSONDecodeError, SchemaError) as exc:
                mistakes.append(Mistake(line, f"send.{msg_type}.schema: not a JSON Schema: {str(exc)[:200]}"))
    if adapter.soap is not None:
        mistakes.extend(_soap(loaded, env))
    if mistakes:
        raise Broken(path, mistakes)
    return loaded


def _soap(loaded: Loaded, env: dict[str, str] | None) -> list[Mistake]:
    spec = loaded.adapter.soap
    assert spec is not None
    source = loaded.source
    wsdl = spec.wsdl if "://" in spec.wsdl else str(loaded.sibling(spec.wsdl))
    try:
        address = expand(spec.address, env) if spec.address else None
        loaded.soap = SoapSide(wsdl, address, spec.service, spec.port)
        offered = loaded.soap.operations()
    except Exception as exc:  # noqa: BLE001 - zeep raises many kinds for a WSDL it cannot read
        return [Mistake(source.line(("soap", "wsdl")), f"soap.wsdl: cannot read the WSDL: {type(exc).__name__}: "
                                                       f"{str(exc)[:200]}")]
    return [Mistake(source.line(("send", t, "operation")), f"send.{t}.operation: the WSDL has no operation "
                                                           f"{s.operation!r} (it has {', '.join(sorted(offered))})")
            for t, s in loaded.adapter.send.items() if s.operation is not None and s.operation not in offered]


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        return tuple(sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size)
                            for p in folder.rglob("*") if p.is_file()))
    except OSError:
        return ()


class Registry:
    """The good adapters of one folder, by code, kept in step with the folder."""

    def __init__(self, folder: Path, make_member: Callable[[Loaded], Member]) -> None:
        self.folder = folder
        self._make_member = make_member
        self._lock = threading.Lock()
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._checked = 0.0
        self._by_file: dict[Path, Loaded] = {}
        self.problems: dict[str, Broken] = {}

    def adapters(self) -> dict[str, Loaded]:
        """Every good adapter by code (the folder looked at again if a second has passed)."""
        now = time.monotonic()
        if now - self._checked >= RESCAN_SECONDS:
            with self._lock:
                if now - self._checked >= RESCAN_SECONDS:
                    self._rescan()
                    self._checked = time.monotonic()
        out: dict[str, Loaded] = {}
        for loaded in sorted(self._by_file.values(), key=lambda x: x.path.name):
            out.setdefault(loaded.adapter.code, loaded)
        return out

    def get(self, code: str) -> Loaded | None:
        return self.adapters().get(code)

    def reload(self) -> None:
        """Look at the folder now."""
        with self._lock:
            self._rescan()
            self._checked = time.monotonic()

    def _rescan(self) -> None:
        signature = _signature(self.folder)
        if signature == self._seen:
            return
        self._seen = signature
        files = sorted(self.folder.glob("*.yaml")) if self.folder.is_dir() else []
        kept: dict[Path, Loaded] = {}
        problems: dict[str, Broken] = {}
        codes: dict[str, Path] = {}
        for path in files:
            try:
                loaded = load(path)
            except Broken as broken:
                problems[path.name] = broken
                log.error("ministry adapter %s is broken (its last good version, if any, stays in service): %s",
                          path.name, "; ".join(map(str, broken.mistakes))[:1000])
                if path in self._by_file:
                    kept[path] = self._by_file[path]
                continue
            other = codes.get(loaded.adapter.code)
            if other is not None:
                problems[path.name] = Broken(path, [Mistake(loaded.source.line(("code",)),
                                                            f"code {loaded.adapter.code!r} is already {other.name}'s")])
                continue
            codes[loaded.adapter.code] = path
            previous = self._by_file.get(path)
            if previous is not None and previous.source.data == loaded.source.data and previous.base_url == loaded.base_url:
                kept[path] = previous  # unchanged: the same object (routing tables are cached by identity)
                continue
            loaded.member = self._make_member(loaded)
            kept[path] = loaded
            log.info("ministry adapter %s loaded from %s", loaded.adapter.code, path.name)
        self._by_file, self.problems = kept, problems

    def members(self) -> tuple[Member, ...]:
        return tuple(loaded.member for loaded in self.adapters().values() if loaded.member is not None)


_registries: dict[Path, Registry] = {}
_registries_lock = threading.Lock()


def registry_for(folder: Path, make_member: Callable[[Loaded], Member]) -> Registry:
    """The process's registry of ``folder`` (one per folder)."""
    folder = folder.resolve()
    with _registries_lock:
        found = _registries.get(folder)
        if found is None:
            found = _registries[folder] = Registry(folder, make_member)
        return found
