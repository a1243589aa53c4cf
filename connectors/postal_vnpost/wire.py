"""JSON Schemas of VNPost's wire format, generated from the models of ``interface.py``.

``python -m connectors.postal_vnpost.wire`` regenerates ``schemas/postal_vnpost/``; the manifest's
``schemas`` hands them to ``lienthong schemas export`` (which also reports drift). The simulator
validates every order against ``schemas/postal_vnpost/order.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from connectors.national_dvc.wire import SCHEMA_ROOT, export_schemas, schema_documents
from connectors.postal_vnpost.interface import Order, OrderAnswer, PriceAnswer, PriceQuery, TokenAnswer, TrackingPage

SCHEMA_SUBDIR = "postal_vnpost"
SCHEMA_DIR = SCHEMA_ROOT / SCHEMA_SUBDIR  #: where the checked-in schema files live

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "token_answer": TokenAnswer,
    "order": Order,
    "order_answer": OrderAnswer,
    "tracking_page": TrackingPage,
    "price_query": PriceQuery,
    "price_answer": PriceAnswer,
}


def export(directory: Path = SCHEMA_ROOT) -> list[Path]:
    """Write ``<directory>/postal_vnpost/<name>.json`` for each model; return the paths written."""
    return export_schemas(directory, SCHEMA_MODELS, SCHEMA_SUBDIR)


def schema_files() -> dict[str, dict[str, Any]]:
    """Path under ``schemas/`` -> schema, for ``lienthong schemas export`` (the manifest's ``schemas``)."""
    return {f"{SCHEMA_SUBDIR}/{name}.json": schema for name, schema in schema_documents(SCHEMA_MODELS).items()}


if __name__ == "__main__":
    for path in export():
        print(path)
