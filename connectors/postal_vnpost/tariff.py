"""The maximum fees of Circular 22/2017/TT-BTTTT, shown beside VNPost's price quote (``quote.py``).

The table is data (``tariff_22_2017.yaml``, or the file setting ``tariff_file`` names): weight bands,
each with a maximum per zone. Its figures are placeholders the province must confirm against the
Circular's annex (the file says ``confirmed: false`` until it does, and every quote repeats it).
Nothing here reads the network.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

BUNDLED = Path(__file__).with_name("tariff_22_2017.yaml")
Zone = Literal["same_district", "same_province", "other_province"]


class Band(BaseModel):
    """One weight band: parcels up to ``up_to_grams``, the maximum of one leg per zone, in đồng."""

    model_config = ConfigDict(extra="forbid")

    up_to_grams: int = Field(gt=0)
    same_district: int = Field(gt=0)
    same_province: int = Field(gt=0)
    other_province: int = Field(gt=0)


class Tariff(BaseModel):
    """The whole table: where its figures come from, whether the province confirmed them, its bands."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    confirmed: bool
    service: Literal["HCC"] = "HCC"
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending(self) -> Tariff:
        limits = [b.up_to_grams for b in self.bands]
        if limits != sorted(set(limits)):
            raise ValueError("bands must be in ascending order of up_to_grams, each bound once")
        return self


@dataclass(frozen=True, slots=True)
class Maximum:
    """The Circular's maximum for one parcel: ``max_vnd`` for all its legs, its zone and weight band."""

    max_vnd: int
    zone: Zone
    weight_band: str
    legs: int
    source: str
    confirmed: bool

    def as_json(self) -> dict[str, Any]:
        return {"max_vnd": self.max_vnd, "zone": self.zone, "weight_band": self.weight_band, "legs": self.legs,
                "source": self.source, "confirmed": self.confirmed}


class TariffError(Exception):
    """The tariff file cannot be read or breaks the table's shape."""


_lock = threading.Lock()
_loaded: dict[Path, Tariff] = {}


def load(path: Path) -> Tariff:
    """The table in ``path`` (read once per path and process); :class:`TariffError` saying why not."""
    with _lock:
        found = _loaded.get(path)
        if found is not None:
            return found
        try:
            tariff = Tariff.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise TariffError(f"tariff file {path}: {exc.strerror or type(exc).__name__}") from None
        except yaml.YAMLError:
            raise TariffError(f"tariff file {path}: not YAML") from None
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top)"
            raise TariffError(f"tariff file {path}: {where}: {first['msg']}") from None
        _loaded[path] = tariff
        return tariff


def tariff_path(setting: str) -> Path:
    """The file setting ``tariff_file`` names; the bundled table when it is empty."""
    return Path(setting) if setting.strip() else BUNDLED


def zone(from_province: str, from_district: str, to_province: str, to_district: str) -> Zone:
    """The Circular's zone of a parcel between two places (VNPost's province and district codes)."""
    if from_province != to_province:
        return "other_province"
    return "same_district" if from_district == to_district else "same_province"


def maximum(tariff: Tariff, weight_grams: int, parcel_zone: Zone, legs: int = 1) -> Maximum | str:
    """The maximum for a parcel of ``weight_grams`` in ``parcel_zone`` over ``legs`` legs, or the reason
    the table does not apply (heavier than its last band)."""
    lower = 0
    for band in tariff.bands:
        if weight_grams <= band.up_to_grams:
            one_leg: int = getattr(band, parcel_zone)
            return Maximum(one_leg * legs, parcel_zone, f"{lower + 1}-{band.up_to_grams} g", legs, tariff.source,
                           tariff.confirmed)
        lower = band.up_to_grams
    return f"{weight_grams} g is above the table's last band ({lower} g): Circular 22/2017 sets no maximum here"
