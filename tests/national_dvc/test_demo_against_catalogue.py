"""The sandbox's demo traffic passes the hub's catalogue rule against the simulated catalogue: the
one-stop demo's procedures are published there and its fees are the catalogue's (a demo the hub
refuses would show nothing)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.motcua.demo import dossier_messages
from connectors.national_dvc.catalogue.rule import Snapshot, mismatch
from connectors.national_dvc.catalogue.simulator import DEFAULT_SEED, DEFAULT_SIZE, generate
from hub.messages.models import MESSAGE_ADAPTER


def _snapshot() -> Snapshot:
    published, fees = {}, {}
    for code, p in generate(DEFAULT_SIZE, DEFAULT_SEED).items():
        published[code] = p["TRANGTHAI"] == "1"
        fees[code] = {int(way["KENH"]): frozenset((f["MAPHILEPHI"], int(f["SOTIEN"]))
                                                  for t in way["THOIGIAN"] for f in t["PHILEPHI"])
                      for way in p["CACHTHUCTHUCHIEN"]}
    return Snapshot(1, published, fees)


def test_every_demo_dossier_and_fee_notice_matches_the_simulated_catalogue() -> None:
    snapshot = _snapshot()
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    checked = set()
    for seq in range(1001, 1031):
        for raw in dossier_messages(seq, now):
            msg = MESSAGE_ADAPTER.validate_python(raw)
            if msg.type in ("dossier.submitted", "fee.notice"):
                assert mismatch(snapshot, msg) is None, (seq, msg.type, mismatch(snapshot, msg))
                checked.add(msg.type)
    assert checked == {"dossier.submitted", "fee.notice"}, "the demo files dossiers and online fee notices"
