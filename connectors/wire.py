"""Bases for partners' wire-format models, shared by every connector.

What the hub sends is strict (exact field names, nothing unknown); what a partner answers is
tolerant (partners add fields without notice). JSON Schema titles are the partner's own field names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


def _title(name: str, _info: object) -> str:
    return name


class WireModel(BaseModel):
    """Base of what the hub sends to a partner."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, field_title_generator=_title)


class AnswerModel(BaseModel):
    """Base of what a partner answers."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, field_title_generator=_title)
