"""The portal simulator's ``DongBoThongKeHoSo``: validated against the wire schema, kept per agency and month.

A call is checked whole (``schemas/national_dvc/DongBoThongKeHoSo.json``: every value a string, every
field present) before any record is kept; a bad one is answered ``"02"`` naming the record's Madonvi,
the field and the rule. A record replaces the one of the same agency and month (a month sent again).
State: ``statistics.records`` ("<Madonvi> <Nam>-<Thang>" -> the record and how many times it came).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from jsonschema.exceptions import best_match

from connectors.national_dvc.sim_parts import Host, Service, answer, describe
from connectors.national_dvc.statistics.wire import SERVICE


class StatisticsPart:
    """Keeps the statistics the hub sends."""

    name = "statistics"

    def __init__(self, adapter: Host) -> None:
        self.adapter = adapter
        self.services: dict[str, Service] = {SERVICE: self.sync}
        self.reset()

    def reset(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def sync(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        error = best_match(self.adapter.validators[SERVICE].iter_errors(body))
        if error is not None:
            return answer("02", describe(error, body, key="Madonvi", noun="Đơn vị"))
        for record in body["data"]:
            key = f"{record['Madonvi']} {record['Nam']}-{int(record['Thang']):02d}"
            times = self.records.get(key, {}).get("received", 0)
            self.records[key] = {"record": record, "received": times + 1}
        return answer("00", f"Đã tiếp nhận thống kê của {len(body['data'])} đơn vị")

    def state(self) -> dict[str, Any]:
        return {"calls": self.calls, "records": self.records}

    def routes(self, app: FastAPI) -> None:
        """No controls of its own (``/_sim/state`` shows it, ``/_sim/reset`` clears it)."""


def part(adapter: Host) -> StatisticsPart:
    return StatisticsPart(adapter)
