"""The intake writer (hub/edge/writers.py): the write runs in a child process of the API process.

Rules: a message answered 202 is stored; a group whose writer died is answered 503
store-unavailable and may be sent again safely (the same message_id is stored once); a dead
child is replaced; the child never outlives its API process; the thread writer serves alike.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from hub.edge.app import create_app
from hub.store.tables import messages
from tests.conftest import Hub, client
from tests.factories import status_changed
from tests.support import ThreadedServer, wait_until


def _stored(hub: Hub, message_id: str) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages).where(messages.c.message_id == message_id)).scalar_one()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_writer_killed_mid_write_gives_503_and_the_resend_is_stored_once(hub: Hub) -> None:
    app = create_app(hub.settings)
    with ThreadedServer(app).start() as server, client(server.url, hub.keys["motcua"]) as motcua:
        assert motcua.post("/v1/messages", json=status_changed(message_id="w-1")).status_code == 202
        proc = app.state.committer.writer._proc
        os.kill(proc.pid, signal.SIGSTOP)  # the next group reaches a writer that never answers
        answers: list[httpx.Response] = []
        sender = threading.Thread(target=lambda: answers.append(motcua.post("/v1/messages", json=status_changed(message_id="w-2"))))
        sender.start()
        time.sleep(0.5)
        assert not answers, "a message must not be answered before its write commits"
        os.kill(proc.pid, signal.SIGKILL)
        sender.join(10)
        [answer] = answers
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/store-unavailable"
        assert answer.headers["retry-after"] == "1"
        again = motcua.post("/v1/messages", json=status_changed(message_id="w-2"))  # a new child takes over
        assert again.status_code in (200, 202)
        assert app.state.committer.writer._proc.pid != proc.pid
    assert _stored(hub, "w-1") == 1 and _stored(hub, "w-2") == 1


def test_a_dead_writer_is_replaced_before_the_next_group(hub: Hub) -> None:
    app = create_app(hub.settings)
    with ThreadedServer(app).start() as server, client(server.url, hub.keys["motcua"]) as motcua:
        assert motcua.post("/v1/messages", json=status_changed(message_id="d-1")).status_code == 202
        proc = app.state.committer.writer._proc
        proc.kill()
        wait_until(lambda: proc.poll() is not None, 5, what="the writer to die")
        assert motcua.post("/v1/messages", json=status_changed(message_id="d-2")).status_code == 202
    assert _stored(hub, "d-2") == 1


def test_the_writer_process_ends_with_its_api_process(hub: Hub) -> None:
    app = create_app(hub.settings)
    with ThreadedServer(app).start() as server, client(server.url, hub.keys["motcua"]) as motcua:
        assert motcua.post("/v1/messages", json=status_changed(message_id="e-1")).status_code == 202
        pid = app.state.committer.writer._proc.pid
        assert _alive(pid)
    wait_until(lambda: not _alive(pid), 10, what="the writer to exit after the app stopped")


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_either_writer_stores_and_answers_duplicates(hub: Hub, writer: str) -> None:
    app = create_app(hub.settings.model_copy(update={"intake_writer": writer}))
    with ThreadedServer(app).start() as server, client(server.url, hub.keys["motcua"]) as motcua:
        first = motcua.post("/v1/messages", json=status_changed(message_id=f"t-{writer}"))
        second = motcua.post("/v1/messages", json=status_changed(message_id=f"t-{writer}"))
        assert (first.status_code, second.status_code) == (202, 200)
        assert first.json()["deliveries"] == second.json()["deliveries"]
    assert _stored(hub, f"t-{writer}") == 1
