"""Rule: every message the console shows is in both catalogues, Vietnamese and English, translated;
times are written the Vietnamese way in Asia/Ho_Chi_Minh, numbers with Vietnamese separators."""

from __future__ import annotations

from datetime import datetime, timezone

from hub.console import i18n
from hub.console.messages import extracted, read


def test_every_message_id_of_the_sources_is_translated_in_both_catalogues() -> None:
    ids = extracted()
    assert len(ids) > 40, "the extractor found the console's messages"
    for lang in i18n.LANGUAGES:
        cat = read(lang)
        missing = sorted(m for m in ids if cat.get(m) is None or not cat.get(m).string)  # type: ignore[union-attr]
        assert not missing, f"{lang}: untranslated or absent ({len(missing)}), run 'make messages' and translate: {missing[:15]}"


def test_the_vietnamese_catalogue_is_really_vietnamese() -> None:
    """A copy of the English ids would pass the test above; most Vietnamese strings differ from their id."""
    cat = read("vi")
    same = [m.id for m in cat if m.id and m.string == m.id]
    assert len(same) < len(list(cat)) * 0.05, f"untranslated copies: {same[:10]}"


def test_times_are_shown_in_vietnam_time_day_first() -> None:
    i18n.use("vi")
    assert i18n.moment(datetime(2026, 12, 1, 17, 5, 9, tzinfo=timezone.utc)) == "02/12/2026 00:05:09"
    assert i18n.moment("2026-12-01T01:00:00+00:00") == "01/12/2026 08:00:00"
    assert i18n.day("2026-12-01T20:00:00+00:00") == "02/12/2026"


def test_numbers_use_vietnamese_separators_and_english_ones_when_switched() -> None:
    i18n.use("vi")
    assert i18n.number(1234567) == "1.234.567"
    assert i18n.number(1234.5, 1) == "1.234,5"
    i18n.use("en")
    assert i18n.number(1234567) == "1,234,567"
    i18n.use("vi")


def test_translation_follows_the_language_switch() -> None:
    i18n.use("vi")
    assert i18n._("Sign in") == "Đăng nhập"
    i18n.use("en")
    assert i18n._("Sign in") == "Sign in"
    i18n.use("xx")  # an unknown language falls back to Vietnamese
    assert i18n._("Sign in") == "Đăng nhập"
