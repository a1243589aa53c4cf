"""The portal simulator's ratings part: ``DongBoDanhGia`` validated (jsonschema) and stored per month,
procedure and unit (a later send of a month replaces its records); seen in ``GET /_sim/state`` under
``ratings``: ``{months: {"11-2026": {"<MaTTHC>|<MaDonVi>": record}}, calls, records}``."""

from __future__ import annotations

from typing import Any, Callable

from fastapi import FastAPI
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from connectors.national_dvc.ratings.wire import SERVICE, schema
from connectors.national_dvc.sim_parts import Host, answer, describe

Service = Callable[[dict[str, Any]], dict[str, Any]]


class RatingsPart:
    name = "ratings"

    def __init__(self, adapter: Host) -> None:
        raw = schema()
        self.validator = Draft202012Validator(raw)
        self.services: dict[str, Service] = {SERVICE: self.sync}
        self.reset()

    def reset(self) -> None:
        self.months: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls = 0
        self.records = 0

    def sync(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        error = best_match(self.validator.iter_errors(body))
        if error is not None:
            return answer("02", describe(error, body))
        for record in body["data"]:
            self.months.setdefault(record["NgayTongHop"], {})[f"{record['MaTTHC']}|{record['MaDonVi']}"] = dict(record)
        self.records += len(body["data"])
        return answer("00", f"Đã tiếp nhận {len(body['data'])} bản ghi đánh giá")

    def state(self) -> dict[str, Any]:
        return {"months": self.months, "calls": self.calls, "records": self.records}

    def routes(self, app: FastAPI) -> None:
        return None


def make(adapter: Host) -> RatingsPart:
    return RatingsPart(adapter)
