"""Every JSON Schema in ``schemas/`` that is generated: the canonical messages' and each partner's wire
format (its manifest's ``schemas``). ``lienthong schemas export`` (``make schemas``) writes them and
``--check`` reports drift; hand-written files there (a WSDL) are left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.messages import schema_export
from hub.plugins import manifests

SCHEMA_DIR = schema_export.SCHEMA_DIR


def documents() -> dict[str, dict[str, Any]]:
    """Path under ``schemas/`` -> schema, for the messages and every partner."""
    docs = {f"messages/{name}": schema for name, schema in schema_export.schemas().items()}
    for m in manifests():
        if m.schemas is not None:
            for path, schema in m.schemas().items():
                if path in docs:
                    raise ValueError(f"two schemas at schemas/{path} ({m.code})")
                docs[path] = schema
    return docs


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every generated schema under ``directory``; returns the paths written."""
    written = []
    for name, schema in documents().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema_export.render(schema), encoding="utf-8")
        written.append(path)
    return written


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """Paths of generated schemas that are missing or differ from the models."""
    return [name for name, schema in documents().items()
            if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != schema_export.render(schema)]
