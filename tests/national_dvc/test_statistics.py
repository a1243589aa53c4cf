"""Monthly statistics of a hand-built February 2027 (tests/national_dvc/statistics_month.py), by each
seed's definition of on time, with Tết and a swap Saturday inside the month.

Rules: every DongBoThongKeHoSo field of each agency, and each line of the breakdown per field and
channel, is the hand-counted value; seed 000 Đ14.3 judges by the end of the working day before the
appointment and its hour, seed 004 Đ14.4 by date; an online dossier filed outside office hours counts
from the next working day (into the next month too); a supplement pause not in the one-stop system's
due date extends it by its office time, the swap Saturday included; a dossier never accepted is in no
figure; percentages are rounded half up to two decimals and the two shares add up to 100.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy import Engine

from connectors.national_dvc.dossiers import dossiers
from connectors.national_dvc.settings import NationalDvcSettings
from connectors.national_dvc.statistics.calendar import calendar, put
from connectors.national_dvc.statistics.monthly import Month, compute, percent, read, render
from tests.conftest import migrate
from tests.national_dvc.statistics_month import SWAP, UNIT_B, A, B

FEBRUARY = Month(2027, 2)
NAME_A = "Sở Tư pháp tỉnh Quảng Ninh"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from tests.national_dvc.statistics_month import store

    url = f"sqlite:///{tmp_path_factory.mktemp('stats') / 'hub.db'}"
    migrate(url)
    e = store(url)
    put(e, SWAP, "test", lambda conn, before, after: None)
    yield e
    e.dispose()


def settings(rule: str) -> NationalDvcSettings:
    return NationalDvcSettings(statistics_rule=rule, statistics_agency_names={A: NAME_A})  # type: ignore[arg-type]


def counts(received: int, carried: int, on_time: int, late: int, open_in_time: int, open_late: int,
           pct: tuple[str, str, str, str]) -> dict[str, str]:
    """The wire's figures, written the way a clerk would tally them."""
    return {"SoNhanTrongKy": str(received), "SoTonKyTruoc": str(carried), "TongSoXuLy": str(received + carried),
            "TongDaXuLy": str(on_time + late), "TongXuLyDungHan": str(on_time), "PhanTramXuLyDungHan": pct[0],
            "TongXuLyTreHan": str(late), "PhanTramXuLyTreHan": pct[1], "TongChuaXuLy": str(open_in_time + open_late),
            "TongChuaXuLyTrongHan": str(open_in_time), "PhanTramChuaXuLyTrongHan": pct[2],
            "TongChuaXuLyTreHan": str(open_late), "PhanTramChuaXuLyTreHan": pct[3]}


def record(agency: str, name: str, rule: str, figures: dict[str, str]) -> dict[str, str]:
    return {"Thang": "2", "Nam": "2027", **figures, "GhiChu": f"Cách tính đúng hạn: {rule}", "Madonvi": agency,
            "TenDonVi": name, "LoaiThongKe": "1"}


# Agency A: received D2 D3 D4 D5 D6 D8 = 6 (D5 filed 31 Jan 20:00 counts from 1 Feb; D7 never accepted);
# carried D1 D10 = 2; done D1 D2 D3 D4 D6 D10 = 6; open D8 (in time), D5 (late).
# 000-14.3: D3 late -> 5 on time, 1 late: 5/6 = 83.333 -> 83.33, 100 - 83.33 = 16.67. 004-14.4: 6 on time, 0 late.
# Agency B: received D11 D12 = 2 (D13 counts from 1 March); done D12 late; open D11 late.
B_FIGURES = counts(2, 0, 0, 1, 0, 1, ("0.00", "100.00", "0.00", "100.00"))
EXPECTED = {
    "000-14.3": [record(A, NAME_A, "000-14.3", counts(6, 2, 5, 1, 1, 1, ("83.33", "16.67", "50.00", "50.00"))),
                 record(B, UNIT_B, "000-14.3", B_FIGURES)],
    "004-14.4": [record(A, NAME_A, "004-14.4", counts(6, 2, 6, 0, 1, 1, ("100.00", "0.00", "50.00", "50.00"))),
                 record(B, UNIT_B, "004-14.4", B_FIGURES)],
}
# The breakdown: A/F1/in person D1 D2 D3 D6 D8 D10 (early: D1 D10 by both); A/F1/online D4 D5 (D4 early by 004 only).
BREAKDOWN = {
    "000-14.3": [(A, "F1", "1", counts(4, 2, 4, 1, 1, 0, ("80.00", "20.00", "100.00", "0.00")), "2"),
                 (A, "F1", "2", counts(2, 0, 1, 0, 0, 1, ("100.00", "0.00", "0.00", "100.00")), "0"),
                 (B, "F3", "3", B_FIGURES, "0")],
    "004-14.4": [(A, "F1", "1", counts(4, 2, 5, 0, 1, 0, ("100.00", "0.00", "100.00", "0.00")), "2"),
                 (A, "F1", "2", counts(2, 0, 1, 0, 0, 1, ("100.00", "0.00", "0.00", "100.00")), "1"),
                 (B, "F3", "3", B_FIGURES, "0")],
}


@pytest.mark.parametrize("rule", ["000-14.3", "004-14.4"])
def test_a_hand_built_february_with_tet_and_a_swap_saturday_matches_the_hand_count(engine: Engine, rule: str) -> None:
    s = settings(rule)
    stats = read(engine, s, calendar(s, engine), FEBRUARY)
    assert stats.records == EXPECTED[rule]
    got = [(r["Madonvi"], r["MaLinhVuc"], r["KenhThucHien"], {k: r[k] for k in B_FIGURES}, r["SoSomHan"])
           for r in stats.breakdown]
    assert got == BREAKDOWN[rule]
    assert {r["TenLinhVuc"] for r in stats.breakdown} == {"Lĩnh vực F1", "Lĩnh vực F3"}


def test_without_the_swap_saturday_the_paused_dossier_is_late(engine: Engine) -> None:
    s = settings("004-14.4")
    cal = calendar(s, engine)
    plain = type(cal)(cal.hours, cal.cutoff, {})
    a = compute(dossiers(engine, until=FEBRUARY.end), plain, FEBRUARY, "004-14.4", {A: NAME_A}).records[0]
    assert (a["TongXuLyDungHan"], a["TongXuLyTreHan"]) == ("5", "1")  # D6's due stays 23 Feb 17:00


def test_an_online_dossier_filed_on_the_last_sunday_counts_in_the_next_month(engine: Engine) -> None:
    s = settings("000-14.3")
    march = read(engine, s, calendar(s, engine), Month(2027, 3))
    b = next(r for r in march.records if r["Madonvi"] == B)
    # D13 received in March; D11 carried from February and done 1 March 08:00, after its due: late
    assert (b["SoNhanTrongKy"], b["SoTonKyTruoc"], b["TongXuLyTreHan"], b["TongChuaXuLy"]) == ("1", "1", "1", "1")


def test_the_csv_has_one_line_per_agency_field_and_channel(engine: Engine) -> None:
    s = settings("000-14.3")
    lines = render(read(engine, s, calendar(s, engine), FEBRUARY), "csv").decode().splitlines()
    assert lines[0].startswith("Thang,Nam,Madonvi,MaLinhVuc,TenLinhVuc,KenhThucHien,SoNhanTrongKy")
    assert lines[1].startswith(f"2,2027,{A},F1,Lĩnh vực F1,1,4,2,6,5,4,2,80.00,1,20.00") and len(lines) == 4


def test_percentages_are_rounded_half_up_to_two_decimals() -> None:
    assert [percent(1, 3), percent(2, 3), percent(1, 8), percent(0, 0), percent(7, 7)] == \
        ["33.33", "66.67", "12.50", "0.00", "100.00"]
    assert percent(1, 800) == "0.13"  # 0.125 rounds up


def test_a_month_is_yyyy_mm() -> None:
    assert str(Month.parse("2027-02")) == "2027-02" and Month.parse("2027-01").previous() == Month(2026, 12)
    for bad in ("2027-13", "2027-2", "27-02", "february"):
        with pytest.raises(ValueError):
            Month.parse(bad)
    assert FEBRUARY.start.isoformat() == "2027-02-01T00:00:00+07:00" and FEBRUARY.end == Month(2027, 3).start
