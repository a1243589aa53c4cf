"""What the simulated portal and its parts share (``simulator.py`` imports the parts, so they cannot
import it): the :class:`Part` protocol, the wire answer, and the ``"02"`` message naming the record,
the field path and the rule that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

from jsonschema.exceptions import ValidationError

if TYPE_CHECKING:
    from fastapi import FastAPI

Service = Callable[[dict[str, Any]], dict[str, Any]]


class Host(Protocol):
    """What a part sees of the simulated portal it is part of: its wire validators and its clock."""

    validators: dict[str, Any]
    clock: Callable[[], float]


@runtime_checkable
class Part(Protocol):
    """A part of the portal beyond dossiers and progress (catalogue, questions, ratings, statistics),
    simulated in its own module and plugged in by ``simulator.PARTS``. ``services``: service name ->
    handler of a call whose session is already checked (the body as posted; the wire answer, at least
    ``error_code`` and ``message``). ``routes(app)`` adds its own ``/_sim/<name>/...`` controls."""

    name: str
    services: dict[str, Service]

    def reset(self) -> None: ...

    def state(self) -> dict[str, Any]: ...

    def routes(self, app: "FastAPI") -> None: ...


def answer(error_code: str, message: str) -> dict[str, str]:
    return {"error_code": error_code, "message": message}


def describe(error: ValidationError, body: dict[str, Any], key: str = "MaHoSo", noun: str = "Hồ sơ") -> str:
    """A "02" message: the record (``noun`` and its ``key`` field, when the error is inside ``data[i]``),
    the field path and the rule that failed."""
    path = list(error.absolute_path)
    where = "Yêu cầu"
    if len(path) >= 2 and path[0] == "data" and isinstance(path[1], int):
        record = body["data"][path[1]]
        named = record.get(key) if isinstance(record, dict) else None
        where = f"{noun} {named or f'(không có {key})'} (data[{path[1]}])"
        path = path[2:]
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if name not in error.instance]
        path = [*path, missing[0]] if missing else path
    field_path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(gốc)"
    return f"{where}: trường {field_path} không hợp lệ (quy tắc {error.validator}: {error.message})"
