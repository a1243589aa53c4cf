"""A deterministic population of fictional citizens, for the simulator, the tests and the sandbox.

``generate(n, seed)`` always gives the same citizens for the same arguments (a seeded
``random.Random``, no clock): households of a head, often a spouse, children, sometimes an elderly
parent, sharing a family name (wives keep their own, as in Việt Nam), a permanent residence and,
for most, the same current residence.

* Names: Vietnamese, with diacritics, in NFC; middle and given names by gender.
* ``SoDinhDanh``: 12 digits shaped like a chip-based ID card (CCCD): 3-digit province code of
  birth registration, 1 digit for century and gender (0/1: male/female born 1900-1999, 2/3:
  born 2000-2099), the last 2 digits of the birth year, 6 random digits, unique.
* ``SoCMND``: the old 9-digit card number, for about half the citizens born before 2000.
* ``GioiTinh``: ``"1"`` male, ``"2"`` female. ``NgayThangNamSinh``: ``Nam`` (yyyy) and
  ``NgayThangNam`` (yyyyMMdd); a few elderly citizens have only their birth year registered.
* Residences: province / district / ward codes of a small table of real units, and a detail line.

``sample(seed, index)`` picks one citizen, ``find_index(predicate)`` the first of a kind (e.g. one
whose household head is someone else), ``citizen(seed, id_number)`` one by ID.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from connectors.population_db.interface import BirthDate, Citizen, FullName, RelatedPerson, Residence

DEFAULT_SEED = 6
DEFAULT_SIZE = 2000
MALE, FEMALE = "1", "2"
REFERENCE_YEAR = 2025  # "today" for ages, fixed so the population never changes

# (family name, weight in per cent, roughly the national shares)
FAMILY_NAMES = [
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 3.0), ("Huỳnh", 2.1), ("Phan", 4.5),
    ("Vũ", 2.0), ("Võ", 1.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0),
    ("Lý", 0.5), ("Đinh", 0.8), ("Trương", 0.8), ("Đoàn", 0.7), ("Lâm", 0.5), ("Mai", 0.5), ("Trịnh", 0.5),
    ("Cao", 0.4), ("Lương", 0.4), ("Hà", 0.4), ("Tạ", 0.3), ("Phùng", 0.3), ("Quách", 0.2), ("Kiều", 0.2),
    ("Chu", 0.2), ("Lưu", 0.2), ("Thái", 0.2),
]
MIDDLE = {
    MALE: ["Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công", "Xuân", "Gia", "Anh", "Ngọc", "Tuấn",
           "Trọng", "Đình", "Bá", "Quốc", "Mạnh", "Thanh", "Hoàng"],
    FEMALE: ["Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Bảo", "Khánh", "Kim", "Diệu",
             "Hồng", "Mỹ", "Thùy", "Hải", "Lan", "Quỳnh"],
}
GIVEN = {
    MALE: ["Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Giang", "Hải", "Hiếu", "Hòa", "Hoàng", "Hùng",
           "Huy", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân", "Phong",
           "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm", "Thắng", "Thành", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn",
           "Tùng", "Việt", "Vinh", "Vũ", "Đông", "Lực"],
    FEMALE: ["Anh", "Ánh", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng", "Huyền",
             "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương",
             "Quỳnh", "Tâm", "Thảo", "Thủy", "Thư", "Trang", "Trinh", "Uyên", "Vân", "Vy", "Yến", "Xuân"],
}
STREETS = ["Trần Hưng Đạo", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung", "Phan Chu Trinh",
           "Hùng Vương", "Điện Biên Phủ", "Nguyễn Trãi", "Lê Duẩn", "Bạch Đằng", "Nguyễn Văn Cừ", "Hạ Long",
           "Cao Thắng", "Võ Thị Sáu"]
VILLAGES = ["Đông", "Tây", "Nam", "Bắc", "Thượng", "Hạ", "Trung", "Tân Lập", "Yên Bình", "Hòa Bình"]


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    kind: str  # "phường" or "xã"


@dataclass(frozen=True)
class District:
    code: str
    wards: tuple[Ward, ...]


# Province code -> districts. Codes follow the national list of administrative units; the
# province of the sandbox (Quảng Ninh, 22) is drawn most often.
PROVINCES: dict[str, tuple[District, ...]] = {
    "01": (District("001", (Ward("00001", "Phúc Xá", "phường"), Ward("00004", "Trúc Bạch", "phường"))),
           District("002", (Ward("00037", "Phúc Tân", "phường"), Ward("00040", "Đồng Xuân", "phường"),
                            Ward("00043", "Hàng Mã", "phường"))),
           District("005", (Ward("00157", "Nghĩa Đô", "phường"), Ward("00160", "Nghĩa Tân", "phường")))),
    "22": (District("193", (Ward("06652", "Hà Khánh", "phường"), Ward("06655", "Hà Phong", "phường"),
                            Ward("06658", "Hà Khẩu", "phường"), Ward("06661", "Cao Xanh", "phường"),
                            Ward("06664", "Giếng Đáy", "phường"), Ward("06679", "Hồng Gai", "phường"))),
           District("195", (Ward("06757", "Ka Long", "phường"), Ward("06760", "Trần Phú", "phường"),
                            Ward("06793", "Hải Xuân", "xã"))),
           District("205", (Ward("07069", "Mạo Khê", "phường"), Ward("07093", "Yên Thọ", "xã"),
                            Ward("07096", "Bình Dương", "xã")))),
    "31": (District("303", (Ward("11296", "Quán Toan", "phường"), Ward("11299", "Hùng Vương", "phường"))),),
    "38": (District("380", (Ward("14755", "Hàm Rồng", "phường"), Ward("14758", "Đông Thọ", "phường"))),),
    "40": (District("412", (Ward("16681", "Đông Vĩnh", "phường"), Ward("16684", "Hà Huy Tập", "phường"))),),
    "46": (District("474", (Ward("19753", "Phú Thuận", "phường"), Ward("19756", "Phú Bình", "phường"))),),
    "48": (District("492", (Ward("20227", "Thanh Bình", "phường"), Ward("20230", "Thuận Phước", "phường"))),),
    "79": (District("760", (Ward("26734", "Tân Định", "phường"), Ward("26737", "Đa Kao", "phường"),
                            Ward("26740", "Bến Nghé", "phường"))),),
    "92": (District("916", (Ward("31117", "Cái Khế", "phường"), Ward("31120", "An Hòa", "phường"))),),
}
PROVINCE_WEIGHTS = {"22": 40, "01": 15, "79": 12, "31": 7, "38": 6, "40": 6, "46": 5, "48": 5, "92": 4}
BIG_CITIES = ("01", "79", "48")  # where those who live away from home mostly are


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def century_gender_digit(year: int, gender: str) -> str:
    """The CCCD's 4th digit: 0/1 male/female born in the 1900s, 2/3 in the 2000s (and so on by century)."""
    return str((year // 100 - 19) * 2 + (0 if gender == MALE else 1))


@dataclass
class _Person:
    """A citizen under construction; links are indexes into the population."""

    gender: str
    family: str
    year: int
    province: str
    home: Residence
    current: Residence
    head: int = -1
    father: int = -1
    mother: int = -1
    spouse: int = -1


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.used_cmnd: set[str] = set()
        self.families = [name for name, _ in FAMILY_NAMES]
        self.family_weights = [weight for _, weight in FAMILY_NAMES]

    # -- drawing -------------------------------------------------------------------------------

    def family(self) -> str:
        return self.rng.choices(self.families, self.family_weights)[0]

    def province(self) -> str:
        return self.rng.choices(list(PROVINCE_WEIGHTS), list(PROVINCE_WEIGHTS.values()))[0]

    def residence(self, province: str) -> Residence:
        district = self.rng.choice(PROVINCES[province])
        ward = self.rng.choice(district.wards)
        if ward.kind == "xã":
            detail = f"Thôn {self.rng.choice(VILLAGES)}, xã {ward.name}"
        elif self.rng.random() < 0.4:
            detail = f"Tổ {self.rng.randint(1, 40)}, khu {self.rng.randint(1, 12)}, phường {ward.name}"
        else:
            detail = f"Số {self.rng.randint(1, 350)} đường {self.rng.choice(STREETS)}, phường {ward.name}"
        return Residence(MaTinhThanh=province, MaQuanHuyen=district.code, MaPhuongXa=ward.code, ChiTiet=nfc(detail))

    def id_number(self, province: str, year: int, gender: str) -> str:
        prefix = f"0{province}{century_gender_digit(year, gender)}{year % 100:02d}"
        while True:
            number = f"{prefix}{self.rng.randrange(1_000_000):06d}"
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def cmnd(self) -> str:
        while True:
            number = f"{self.rng.randrange(10_000_000, 400_000_000):09d}"
            if number not in self.used_cmnd:
                self.used_cmnd.add(number)
                return number

    # -- households ----------------------------------------------------------------------------

    def household(self, start: int) -> list[_Person]:
        """One household; member 0 is the head. Indexes in links are global (``start`` + position)."""
        rng = self.rng
        province = self.province()
        home = self.residence(province)
        away = rng.random() < 0.15  # the whole household lives elsewhere now (work, study)
        current = self.residence(rng.choice(BIG_CITIES)) if away else home
        head_gender = MALE if rng.random() < 0.75 else FEMALE
        head_year = rng.randint(1948, 2001)
        family = self.family()
        members = [_Person(head_gender, family, head_year, province, home, current)]
        if rng.random() < 0.8:  # a spouse, of the other gender, a few years apart
            other = FEMALE if head_gender == MALE else MALE
            members.append(_Person(other, self.family(), head_year + rng.randint(-3, 6), province, home, current,
                                   spouse=start))
            members[0].spouse = start + 1
        if rng.random() < 0.15 and head_year >= 1965:  # an elderly parent of the head
            members.append(_Person(rng.choice((MALE, FEMALE)), family, head_year - rng.randint(22, 35), province,
                                   home, current))
            elder = start + len(members) - 1
            if members[-1].gender == MALE:
                members[0].father = elder
            else:
                members[0].mother = elder
        father = start if head_gender == MALE else (start + 1 if len(members) > 1 and members[1].spouse == start else -1)
        mother = start if head_gender == FEMALE else (start + 1 if len(members) > 1 and members[1].spouse == start else -1)
        children_family = family if head_gender == MALE or father < 0 else members[1].family
        youngest_parent = max(m.year for m in members[:2])
        for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3))):
            year = youngest_parent + rng.randint(20, 38)
            if year > REFERENCE_YEAR:
                continue
            child_current = self.residence(rng.choice(BIG_CITIES)) if year <= 2005 and rng.random() < 0.2 else current
            members.append(_Person(rng.choice((MALE, FEMALE)), children_family, year, province, home, child_current,
                                   father=father, mother=mother))
        for member in members:
            member.head = start
        return members

    def citizens(self, n: int) -> list[Citizen]:
        people: list[_Person] = []
        while len(people) < n:
            people.extend(self.household(len(people)))
        del people[n:]
        records = [self.record(p) for p in people]
        for person, record in zip(people, records):
            for field, index in (("ChuHo", person.head), ("Cha", person.father), ("Me", person.mother),
                                 ("VoChong", person.spouse)):
                if 0 <= index < n:
                    setattr(record, field, related(records[index]))
        return records

    def record(self, p: _Person) -> Citizen:
        rng = self.rng
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        year_only = p.year < 1950 and rng.random() < 0.3
        return Citizen(
            SoDinhDanh=self.id_number(p.province, p.year, p.gender),
            SoCMND=self.cmnd() if p.year < 2000 and rng.random() < 0.5 else None,
            HoVaTen=FullName(Ho=p.family, ChuDem=rng.choice(MIDDLE[p.gender]), Ten=rng.choice(GIVEN[p.gender])),
            GioiTinh=p.gender,
            NgayThangNamSinh=BirthDate(Nam=str(p.year), NgayThangNam=None if year_only else f"{p.year}{month:02d}{day:02d}"),
            ThuongTru=p.home,
            NoiOHienTai=p.current,
        )


def related(citizen: Citizen) -> RelatedPerson:
    """How a citizen appears as someone's ``ChuHo``, ``Cha``, ``Me`` or ``VoChong``."""
    return RelatedPerson(SoDinhDanh=citizen.SoDinhDanh, SoCMND=citizen.SoCMND, HoVaTen=citizen.HoVaTen.model_copy())


def full_name(name: FullName) -> str:
    """``Ho ChuDem Ten`` as one string."""
    return " ".join(part for part in (name.Ho, name.ChuDem, name.Ten) if part)


@lru_cache(maxsize=4)
def shared(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> tuple[Citizen, ...]:
    """``generate(n, seed)`` without copies: built once per process; the caller must not change them."""
    return tuple(_Generator(seed).citizens(n))


def generate(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> list[Citizen]:
    """``n`` citizens, the same for the same ``(n, seed)``; copies, free to change."""
    return [c.model_copy(deep=True) for c in shared(n, seed)]


def sample(seed: int = DEFAULT_SEED, index: int = 0, n: int = DEFAULT_SIZE) -> Citizen:
    """Citizen number ``index`` of ``generate(n, seed)`` (the simulator's population by default)."""
    return shared(n, seed)[index].model_copy(deep=True)


def find_index(predicate: Callable[[Citizen], bool], seed: int = DEFAULT_SEED, n: int = DEFAULT_SIZE) -> int:
    """The index of the first citizen of ``generate(n, seed)`` for whom ``predicate`` is true (``LookupError``
    if none), e.g. ``find_index(lambda c: c.SoCMND is None)``; then ``sample(seed, index)``."""
    for index, c in enumerate(shared(n, seed)):
        if predicate(c):
            return index
    raise LookupError("no citizen matches")


@lru_cache(maxsize=4)
def _index(n: int, seed: int) -> dict[str, Citizen]:
    return {c.SoDinhDanh: c for c in shared(n, seed)}


def citizen(seed: int, id_number: str, n: int = DEFAULT_SIZE) -> Citizen | None:
    """The citizen of ``generate(n, seed)`` with this ``SoDinhDanh``, or None."""
    found = _index(n, seed).get(id_number)
    return found.model_copy(deep=True) if found is not None else None
