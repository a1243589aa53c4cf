"""The facts of a dossier, folded from the canonical messages the hub accepted (connectors/national_dvc/dossiers.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine

from connectors.national_dvc.dossiers import dossier, dossiers
from tests.conftest import migrate
from tests.factories import T0, dossier_code, status_changed, submitted
from tests.support import store_messages


def test_a_dossier_is_its_record_then_its_steps_in_the_order_they_happened_with_supplement_pauses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    migrate(url)
    # sent out of order: the fold follows occurred_at, not arrival
    store_messages(url, [status_changed(1, status=9, step=50), submitted(1), status_changed(1, status=2, step=1),
                         status_changed(1, status=5, step=10), status_changed(1, status=4, step=30), submitted(2)])
    engine = create_engine(url)
    found = dossier(engine, dossier_code(1))
    assert found is not None and found.known
    assert found.procedure_code == "2.000477" and found.applicant_name == "Nguyễn Thị Hằng" and found.channel == 2
    assert found.received_at == T0 and found.due_at == T0 + timedelta(days=3)
    assert found.status == 9 and found.status_name == "Đã xử lý xong"
    assert found.paused == [(T0 + timedelta(minutes=10), T0 + timedelta(minutes=30))]
    assert found.finished_at == T0 + timedelta(minutes=50)
    assert [s for _, s in found.steps] == [1, 2, 5, 4, 9]
    assert dossier(engine, dossier_code(3)) is None
    assert [d.code for d in dossiers(engine)] == [dossier_code(1), dossier_code(2)]
    assert [d.code for d in dossiers(engine, until=T0 + timedelta(seconds=1))] == [dossier_code(1), dossier_code(2)]
    before = list(dossiers(engine, until=T0 + timedelta(minutes=20)))
    assert before[0].status == 5 and before[0].paused == [(T0 + timedelta(minutes=10), None)]
    engine.dispose()
