"""The generated population: realistic-looking, self-consistent and deterministic."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from connectors.population_db import population
from connectors.population_db.interface import Citizen

CITIZENS = population.shared()


def test_ids_are_twelve_unique_digits() -> None:
    ids = [c.SoDinhDanh for c in CITIZENS]
    assert len(CITIZENS) == population.DEFAULT_SIZE
    assert all(re.fullmatch(r"\d{12}", i) for i in ids) and len(set(ids)) == len(ids)


def id_parts_expected(citizen: Citizen) -> tuple[str, str, str]:
    """Province of registration, century-and-gender digit, birth year's last two digits."""
    assert citizen.NgayThangNamSinh is not None and citizen.ThuongTru is not None
    year = int(citizen.NgayThangNamSinh.Nam or 0)
    digit = (year // 100 - 19) * 2 + (0 if citizen.GioiTinh == population.MALE else 1)
    return f"0{citizen.ThuongTru.MaTinhThanh}", str(digit), f"{year % 100:02d}"


def test_id_encodes_province_century_gender_and_birth_year() -> None:
    for c in CITIZENS:
        assert (c.SoDinhDanh[:3], c.SoDinhDanh[3], c.SoDinhDanh[4:6]) == id_parts_expected(c), c.SoDinhDanh
    assert {c.SoDinhDanh[3] for c in CITIZENS} == {"0", "1", "2", "3"}  # both centuries, both genders


def test_birth_dates_are_real_dates_of_the_registered_year() -> None:
    for c in CITIZENS:
        born = c.NgayThangNamSinh
        assert born is not None and re.fullmatch(r"\d{4}", born.Nam or "")
        if born.NgayThangNam is not None:
            assert dt.datetime.strptime(born.NgayThangNam, "%Y%m%d").year == int(born.Nam or 0)
    assert any(c.NgayThangNamSinh and c.NgayThangNamSinh.NgayThangNam is None for c in CITIZENS)  # year-only records


def test_old_id_card_numbers_are_nine_digits_for_those_born_before_2000() -> None:
    holders = [c for c in CITIZENS if c.SoCMND]
    assert holders and all(re.fullmatch(r"\d{9}", c.SoCMND or "") for c in holders)
    assert all(int(c.NgayThangNamSinh.Nam or 0) < 2000 for c in holders if c.NgayThangNamSinh)


def test_names_are_vietnamese_in_nfc_with_diacritics() -> None:
    names = [population.full_name(c.HoVaTen) for c in CITIZENS]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert sum(not n.isascii() for n in names) / len(names) > 0.8
    assert sum(c.HoVaTen.Ho == "Nguyễn" for c in CITIZENS) / len(CITIZENS) > 0.25  # the commonest family name
    assert all(c.HoVaTen.ChuDem != "Thị" for c in CITIZENS if c.GioiTinh == population.MALE)


def test_households_link_to_members_of_the_population() -> None:
    by_id = {c.SoDinhDanh: c for c in CITIZENS}
    for c in CITIZENS:
        assert c.ChuHo is not None and c.ChuHo.SoDinhDanh in by_id
        head = by_id[c.ChuHo.SoDinhDanh]
        assert head.ThuongTru == c.ThuongTru and head.ChuHo is not None and head.ChuHo.SoDinhDanh == head.SoDinhDanh
        if c.VoChong is not None:
            spouse = by_id[c.VoChong.SoDinhDanh or ""]
            assert spouse.VoChong is not None and spouse.VoChong.SoDinhDanh == c.SoDinhDanh
            assert spouse.GioiTinh != c.GioiTinh
        if c.Cha is not None:
            father = by_id[c.Cha.SoDinhDanh or ""]
            assert father.GioiTinh == population.MALE and father.HoVaTen.Ho == c.HoVaTen.Ho
            assert int(father.NgayThangNamSinh.Nam or 0) < int(c.NgayThangNamSinh.Nam or 0)  # type: ignore[union-attr]


def test_residences_use_known_administrative_codes() -> None:
    for c in CITIZENS:
        for place in (c.ThuongTru, c.NoiOHienTai):
            assert place is not None and place.MaTinhThanh in population.PROVINCES
            district = next(d for d in population.PROVINCES[place.MaTinhThanh] if d.code == place.MaQuanHuyen)
            assert place.MaPhuongXa in {w.code for w in district.wards} and place.ChiTiet


def test_same_seed_same_population_other_seed_other_population() -> None:
    assert population.generate(300, seed=11) == population.generate(300, seed=11)
    assert population.generate(300, seed=11) != population.generate(300, seed=12)
    assert population.sample(11, 42, n=300) == population.generate(300, seed=11)[42]


def test_samples_are_copies_and_found_by_id() -> None:
    first = population.sample(index=5)
    first.HoVaTen.Ten = "Đổi"
    assert population.sample(index=5).HoVaTen.Ten != "Đổi"
    assert population.citizen(population.DEFAULT_SEED, population.sample(index=5).SoDinhDanh) == population.sample(index=5)
    assert population.citizen(population.DEFAULT_SEED, "000000000000") is None
