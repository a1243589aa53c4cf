"""JSON Schema of the canonical messages, generated from the models into ``schemas/messages/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from hub.messages.models import MESSAGE_ADAPTER, MESSAGE_CLASSES

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema: one per message type, plus ``message.json`` for the union of all."""
    out: dict[str, dict[str, Any]] = {}
    for cls in MESSAGE_CLASSES:
        msg_type = get_args(cls.model_fields["type"].annotation)[0]
        schema = cls.model_json_schema()
        schema["$id"] = f"/schemas/messages/{msg_type}.json"
        out[f"{msg_type}.json"] = schema
    union = MESSAGE_ADAPTER.json_schema()
    union["$id"] = "/schemas/messages/message.json"
    union["title"] = "Message"
    out["message.json"] = union
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(directory: Path = SCHEMA_DIR / "messages") -> list[Path]:
    """Write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def drift(directory: Path = SCHEMA_DIR / "messages") -> list[str]:
    """Names of schema files that are missing or differ from the models."""
    return [
        name
        for name, schema in schemas().items()
        if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != render(schema)
    ]
