"""The checked-in DVCQG wire schemas are exactly what wire.py generates."""

from __future__ import annotations

from pathlib import Path

from connectors.national_dvc.wire import SCHEMA_DIR, export_schemas


def test_wire_schemas_match_models(tmp_path: Path) -> None:
    fresh = {p.name: p.read_text("utf-8") for p in export_schemas(tmp_path)}
    checked_in = {p.name: p.read_text("utf-8") for p in SCHEMA_DIR.glob("*.json")}

    assert sorted(checked_in) == sorted(fresh), "run: lienthong schemas export"
    for name, text in fresh.items():
        assert checked_in[name] == text, f"schemas/national_dvc/{name} drifted; run: lienthong schemas export"
