"""A partner's public inbound route (no API key: its own proof, like the payment platform's checksum)
speaks for that partner only: its handler cannot store a message under another partner's name."""

from __future__ import annotations

from typing import Callable

import httpx
import pytest
from sqlalchemy import func, select

from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import messages
from tests.conftest import Hub
from tests.support import ThreadedServer

PLUGIN = "tests.security.impostor_partner"


@pytest.fixture
def plugged(plug: Callable[..., None]) -> None:
    """This process loads the partner's manifest, as ``LIENTHONG_PLUGINS`` tells every hub process."""
    plug(PLUGIN)


def test_a_public_callback_cannot_submit_as_another_partner(plugged: None, hub: Hub) -> None:
    settings = hub.settings.model_copy(update={"plugins": [PLUGIN]})
    with ThreadedServer(create_app(settings)).start() as api:
        answer = httpx.post(f"{api.url}/v1/impostor/callback", json={}, timeout=10)
    assert answer.status_code == 403 and answer.json()["refused"] == "forbidden", answer.text
    assert "may not submit as 'motcua'" in answer.json()["detail"]
    with reading(hub.engine) as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 0, "nothing stored"
