"""The population database's citizen record (``CongdanCollection/CongDan``) as the hub's canonical
citizen (``hub/messages/lookups.py``): the mapping both ways of a look-up."""

from __future__ import annotations

import re

from connectors.population_db.interface import Citizen, CongdanCollection, RelatedPerson, Residence, VerifyResult

GENDERS = {"1": "male", "2": "female"}
_YYYYMMDD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def partner_birth_date(iso: str | None) -> str | None:
    """``1990-04-12`` -> ``19900412`` (the database's ``NgayThangNam``); a year stays a year."""
    return iso.replace("-", "") if iso else None


def _birth_date(c: Citizen) -> str | None:
    born = c.NgayThangNamSinh
    if born is None:
        return None
    full = _YYYYMMDD.match(born.NgayThangNam or "")
    return "-".join(full.groups()) if full else born.Nam or born.NgayThangNam


def _name(parts: list[str | None]) -> str:
    return " ".join(p for p in parts if p)


def _address(r: Residence | None) -> dict[str, str | None] | None:
    if r is None:
        return None
    return {"province_code": r.MaTinhThanh, "district_code": r.MaQuanHuyen, "ward_code": r.MaPhuongXa, "detail": r.ChiTiet}


def _person(p: RelatedPerson | None) -> dict[str, str | None] | None:
    if p is None:
        return None
    name = p.HoVaTen
    return {"id_number": p.SoDinhDanh, "old_id_number": p.SoCMND,
            "full_name": _name([name.Ho, name.ChuDem, name.Ten]) if name else None}


def citizen(c: Citizen) -> dict[str, object]:
    """``CongDan`` as :class:`CitizenOut` (a plain dict, ready for JSON)."""
    name = c.HoVaTen
    return {
        "id_number": c.SoDinhDanh, "old_id_number": c.SoCMND, "full_name": _name([name.Ho, name.ChuDem, name.Ten]),
        "family_name": name.Ho, "middle_name": name.ChuDem, "given_name": name.Ten,
        "gender": GENDERS.get(c.GioiTinh or "", c.GioiTinh), "birth_date": _birth_date(c),
        "permanent_address": _address(c.ThuongTru), "current_address": _address(c.NoiOHienTai),
        "household_head": _person(c.ChuHo), "father": _person(c.Cha), "mother": _person(c.Me), "spouse": _person(c.VoChong),
    }


def citizens(answer: CongdanCollection) -> dict[str, object]:
    """The answer of lookup, household and residence."""
    return {"citizens": [citizen(c) for c in answer.CongDan]}


def verified(answer: CongdanCollection) -> dict[str, object]:
    """The answer of verify: the database's verdict (``KetQuaXacThuc``), and nothing about the citizen."""
    return {"match": bool(answer.KetQuaXacThuc) if isinstance(answer, VerifyResult) else bool(answer.CongDan)}
