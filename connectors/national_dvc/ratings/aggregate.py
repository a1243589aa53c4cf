"""Monthly aggregates of ratings: counts per level and whole percentages that add up to 100.

Percentages are rounded by the largest-remainder method (Hamilton): each level gets the floor of its
exact share, and the points left go to the levels with the largest remainders (ties: very satisfied,
then satisfied, then not satisfied). Rounding each share on its own could give 99% or 101% in total
(1/3 each: 33+33+33); this gives 34+33+33. Hand-written: five lines, no library does it on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from connectors.national_dvc.ratings.wire import RatingRecord
from connectors.national_dvc.wire_types import HANOI

LEVELS = ("very_satisfied", "satisfied", "not_satisfied")


def month_of(at: datetime) -> str:
    """``YYYY-MM`` of ``at`` (aware) in Asia/Ho_Chi_Minh: a rating at 23:30 UTC on the 31st counts in the next month."""
    return at.astimezone(HANOI).strftime("%Y-%m")


def wire_month(month: str) -> str:
    """``2026-11`` -> ``11-2026`` (``NgayTongHop``, month without its leading zero)."""
    year, m = month.split("-")
    return f"{int(m)}-{year}"


def percentages(counts: tuple[int, int, int]) -> tuple[int, int, int]:
    """Whole percentages of ``counts`` summing to exactly 100 (largest remainder; ties in level order)."""
    total = sum(counts)
    if total <= 0:
        raise ValueError("no ratings to share out")
    floors = [c * 100 // total for c in counts]
    remainders = [c * 100 % total for c in counts]
    for index in sorted(range(3), key=lambda i: (-remainders[i], i))[: 100 - sum(floors)]:
        floors[index] += 1
    return floors[0], floors[1], floors[2]


@dataclass(frozen=True)
class Aggregate:
    """One month's ratings of one procedure at one unit."""

    month: str
    procedure_code: str
    unit: str
    counts: tuple[int, int, int]  #: very satisfied, satisfied, not satisfied

    @property
    def total(self) -> int:
        return sum(self.counts)

    def record(self) -> RatingRecord:
        very, satisfied, not_satisfied = percentages(self.counts)
        return RatingRecord(MaTTHC=self.procedure_code, MaDonVi=self.unit, NgayTongHop=wire_month(self.month),
                            TongSoNguoiDanhGia=str(self.total), TyLeRatHaiLong=f"{very}%", TyLeHaiLong=f"{satisfied}%",
                            TyLeKhongHaiLong=f"{not_satisfied}%")


def aggregate(month: str, rows: Iterable[tuple[str, str, str, int]]) -> list[Aggregate]:
    """``rows`` of (procedure, unit, level, count), e.g. a GROUP BY's, as aggregates sorted by procedure and unit."""
    found: dict[tuple[str, str], list[int]] = {}
    for procedure, unit, level, count in rows:
        found.setdefault((procedure, unit), [0, 0, 0])[LEVELS.index(level)] += count
    return [Aggregate(month, p, u, (c[0], c[1], c[2])) for (p, u), c in sorted(found.items())]
