"""Reading an adapter file: YAML that remembers the line of every value, and ``${VAR:-default}`` in strings.

The line map lets ``lienthong ministry check`` name the line of each mistake: a pydantic error's
location (``send``, ``dossier.submitted``, ``path``) is looked up here. PyYAML gives node positions
only while composing, so the file is composed once and converted by hand (no library keeps them on
plain values).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

_ENV = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}")

Path = tuple[str | int, ...]


class SourceError(ValueError):
    """The file is not YAML (or not a mapping); ``line`` is 1-based, 0 when unknown."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message, self.line = message, line


@dataclass
class Source:
    """A decoded adapter file and the line of each value, by its path of keys and indexes."""

    data: dict[str, Any]
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """The line of the value at ``path``, or of its nearest parent that has one (1 at worst)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def line_of(self, where: str) -> int:
        """The line of a dotted place (``send.dossier.submitted.request.json``): keys may hold dots
        themselves (message types do), so the longest key that matches is taken at each level."""
        parts, path = where.split("."), list[str | int]()
        node: Any = self.data
        i = 0
        while i < len(parts):
            if isinstance(node, dict):
                for j in range(len(parts), i, -1):
                    key = ".".join(parts[i:j])
                    if key in node:
                        node, i = node[key], j
                        path.append(key)
                        break
                else:
                    break
            elif isinstance(node, list) and parts[i].isdigit() and int(parts[i]) < len(node):
                node = node[int(parts[i])]
                path.append(int(parts[i]))
                i += 1
            else:
                break
        return self.line(tuple(path))


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *anchor": the anchor's keys, under the explicit ones
                for source in value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]:
                    found = _convert(source, path, {})
                    if isinstance(found, dict):
                        merged = {**found, **merged}
                continue
            key = str(yaml.safe_load(yaml.serialize(key_node)))
            out[key] = _convert(value_node, (*path, key), lines)
        return {**merged, **out}
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def read(text: str) -> Source:
    """Decode adapter YAML; raises :class:`SourceError` with the line of a syntax error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark  # where the broken construct starts, when YAML says
        raise SourceError(f"not YAML: {exc.problem or exc}", mark.line + 1 if mark else 0) from None
    if not isinstance(node, yaml.MappingNode):
        raise SourceError("an adapter file is a YAML mapping (code, name, base_url, ...)", 1)
    lines: dict[Path, int] = {}
    data = _convert(node, (), lines)
    return Source(data, lines)


def expand(value: str, env: Mapping[str, str] | None = None) -> str:
    """``value`` with each ``${NAME}`` or ``${NAME:-default}`` replaced from the environment."""
    environ = os.environ if env is None else env

    def one(match: re.Match[str]) -> str:
        found = environ.get(match.group(1))
        if found:
            return found
        if match.group(2) is None:
            raise ValueError(f"environment variable {match.group(1)} is not set (and no ':-default' is given)")
        return match.group(2)

    return _ENV.sub(one, value)
