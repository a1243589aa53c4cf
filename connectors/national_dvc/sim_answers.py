"""The simulated portal's answers for its parts (``simulator.py`` imports the parts, so they cannot
import it): the wire answer, and a ``"02"`` message naming the field path and the rule that failed."""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import ValidationError


def answer(error_code: str, message: str) -> dict[str, str]:
    return {"error_code": error_code, "message": message}


def describe(error: ValidationError, body: dict[str, Any]) -> str:
    """``Yêu cầu: trường data[0].TyLeHaiLong không hợp lệ (quy tắc pattern: ...)``."""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".") or "(gốc)"
    return f"Yêu cầu: trường {path} không hợp lệ (quy tắc {error.validator}: {error.message})"
