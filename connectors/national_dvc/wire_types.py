"""What every wire model of the national portal shares, its own and its parts' (``wire.py`` imports the
parts' models for the schema export, so they cannot import it): Vietnam time, the answer code, the
fields of every service call."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, WithJsonSchema

from connectors.wire import AnswerModel, WireModel

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
OK = "00"


def _error_code(value: Any) -> Any:
    """Answers say ``"00"`` and sometimes ``0``: normalise numbers to two-digit strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}"
    return value


ErrorCode = Annotated[
    str,
    BeforeValidator(_error_code),
    WithJsonSchema({"type": ["string", "integer"], "description": '"00" (or 0) on success, else the failure code'}),
]


class ServiceCall(WireModel):
    """Fields every service call carries."""

    session: str = Field(min_length=1)
    madonvi: str = Field(min_length=1)


class ServiceAnswer(AnswerModel):
    """Answer to every service call: ``error_code`` "00" on success, else a reason in ``message``."""

    error_code: ErrorCode
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error_code == OK
