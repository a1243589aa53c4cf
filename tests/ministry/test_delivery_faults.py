"""Delivering to ministry systems end to end (the API, a worker process, the simulators), when things go wrong.

A mapping that fails on a message at delivery time dead-letters that delivery with a reason naming the
place, and the worker goes on delivering the next message to another adapter. The civil-status
registry busy once: retried, then delivered; its token expired mid-run: renewed, no dead letter. An
attachment carried as base64 is fetched with the result-document safeguards: from a host outside
``document_hosts`` (or with another digest) it is a dead letter saying a document could not be carried;
from a host that does not answer it is transient; from an allowed host with its digest the ministry
receives the bytes. A ministry system that is down
(nothing listening) is transient, and the message is delivered once it is back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import select

from connectors.ministry_apps.simulators import generic
from hub.context import connector
from hub.edge.app import create_app
from hub.seam import MESSAGE_ADAPTER
from hub.store.engine import reading
from hub.store.tables import deliveries, delivery_attempts, messages
from tests.conftest import Hub, seed_hub
from tests.factories import dossier_code, submitted
from tests.ministry.conftest import SHIPPED, Sims, make_folder, ministry_settings, write
from tests.support import Process, RedisServer, ThreadedServer, client, free_port, wait_until

PDF = b"%PDF-1.4\n% to khai dang ky khai sinh\n%%EOF\n"
GENERIC = """
code: {code}
name: Generic ministry ({code})
base_url: {url}
receives:
  - type: dossier.submitted
    when: {{payload.procedure_code: ["{procedure}"]}}
send:
  dossier.submitted:
    request:
      path: /inbox/{code}
      json:
        maHoSo: "{{{{ m.dossier_code }}}}"
{fields}
"""
FIELDS = {
    "docs": """        tep:
          $each: "{{ m.payload.attachments }}"
          as: file
          do: {ten: "{{ file.name }}", noiDung: "{{ document(file) }}"}""",
    "broken_map": '        soHoKhau: "{{ m.payload.so_ho_khau }}"',
    "next_one": '        ten: "{{ m.payload.applicant.name }}"',
    "comes_back": '        ten: "{{ m.payload.applicant.name }}"',
}
PROCEDURES = {"docs": "9.000001", "broken_map": "9.000002", "next_one": "9.000003", "comes_back": "9.000004"}


class Documents:
    """A real document server on loopback: ``GET /tep/<name>`` is :data:`PDF`; the paths asked are noted."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.app = FastAPI()

        @self.app.get("/tep/{name}")
        async def tep(name: str) -> Response:
            self.asked.append(name)
            return Response(PDF, media_type="application/pdf")


@dataclass
class Line:
    hub: Hub
    motcua: httpx.Client
    worker: Process
    documents: Documents
    documents_port: int
    comes_back: ThreadedServer  # the system that is down: made, not started
    comes_back_app: FastAPI  # its generic ministry (``state.sim``: what it received)


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, sims_server: Sims) -> Iterator[Line]:
    redis_server.flush()
    tmp = tmp_path_factory.mktemp("delivery-faults")
    folder = make_folder(tmp / "adapters")
    civil = (SHIPPED / "civil_status.yaml").read_text(encoding="utf-8")
    civil = civil.replace("${LIENTHONG_CIVIL_STATUS_URL:-http://127.0.0.1:8131/hotich}", f"{sims_server.url}/hotich")
    write(folder, "civil_status.yaml", civil.replace("  every: 5\n", "  every: 86400\n"))  # its pull stays out of the way
    comes_back_app = generic.create_app()
    comes_back = ThreadedServer(comes_back_app)
    for code, fields in FIELDS.items():
        url = comes_back.url if code == "comes_back" else sims_server.generic
        write(folder, f"{code}.yaml", GENERIC.format(code=code, url=url, procedure=PROCEDURES[code], fields=fields))
    (tmp / "routes.yaml").write_text("routes: []\n")  # only the adapters' own rules: no delivery elsewhere
    settings = ministry_settings(tmp, redis_server.url, folder, routes_file=tmp / "routes.yaml",
                                 retry_schedule=[0.2, 0.4, 0.8, 1.6, 3.2],
                                 document_hosts=["127.0.0.1"], document_allowed_networks=["127.0.0.0/8"])
    hub = seed_hub(settings, tmp)
    documents = Documents()
    with ThreadedServer(documents.app).start() as served, ThreadedServer(create_app(settings)).start() as api, \
            client(api.url, hub.keys["motcua"]) as motcua:
        worker = hub.worker()
        try:
            yield Line(hub, motcua, worker, documents, served.port, comes_back, comes_back_app)
        finally:
            for process in hub.processes:
                process.stop()
            if comes_back.server.started:
                comes_back.stop()
            hub.engine.dispose()


def send(line: Line, message: dict[str, Any], to: str) -> str:
    answer = line.motcua.post("/v1/messages", json=message)
    assert answer.status_code == 202 and answer.json()["destinations"] == [to], answer.text
    return str(message["dossier_code"])


def dossier(seq: int, procedure: str, attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message = submitted(seq)
    message["payload"]["procedure_code"] = procedure
    if attachments is not None:
        message["payload"]["attachments"] = attachments
    return message


def birth(seq: int) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((SHIPPED / "samples" / "birth.json").read_text(encoding="utf-8"))
    message.update(message_id=str(uuid.uuid4()), dossier_code=dossier_code(seq))
    message["payload"]["attachments"] = []
    return message


@dataclass(frozen=True)
class Delivery:
    state: str
    attempts: list[tuple[str, str]]  # (outcome, detail) of each attempt
    last_error: str | None


def settled(line: Line, destination: str, code: str, timeout: float = 30) -> Delivery:
    """The delivery of dossier ``code``'s message to ``destination``, once delivered or dead."""

    def found() -> Delivery | None:
        with reading(line.hub.engine) as conn:
            row = conn.execute(select(deliveries).join(messages, messages.c.id == deliveries.c.message_pk)
                               .where(deliveries.c.destination == destination, messages.c.dossier_code == code)).first()
            if row is None or row.state not in ("delivered", "dead"):
                return None
            tried = conn.execute(select(delivery_attempts.c.outcome, delivery_attempts.c.detail)
                                 .where(delivery_attempts.c.delivery_id == row.id).order_by(delivery_attempts.c.attempt)).all()
        return Delivery(row.state, [(t.outcome, t.detail) for t in tried], row.last_error)

    found_delivery: Delivery = wait_until(found, timeout, what=f"the delivery of {code} to {destination}")
    return found_delivery


def bodies(sims: Sims, path: str) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in sims.requests() if r["path"] == path]


def test_a_mapping_that_fails_at_delivery_is_a_dead_letter_naming_the_place_and_the_worker_goes_on(
        line: Line, sims: Sims) -> None:
    broken = send(line, dossier(101, PROCEDURES["broken_map"]), "broken_map")
    after = send(line, dossier(102, PROCEDURES["next_one"]), "next_one")
    dead = settled(line, "broken_map", broken)
    assert dead.state == "dead" and len(dead.attempts) == 1, "permanent at once"
    assert dead.attempts[0] == ("permanent", "mapping failed (broken_map.yaml): send.dossier.submitted.request.json.soHoKhau: "
                                             "{{ m.payload.so_ho_khau }} is undefined")
    assert dead.last_error == f"permanent: {dead.attempts[0][1]}", "the dead letter's reason"
    assert settled(line, "next_one", after).state == "delivered"
    assert bodies(sims, "/generic/inbox/next_one") == [{"maHoSo": after, "ten": "Nguyễn Thị Hằng"}]
    assert bodies(sims, "/generic/inbox/broken_map") == [], "nothing of the failed mapping was sent"
    assert line.worker.proc is not None and line.worker.proc.poll() is None, "the worker still runs"


def test_a_busy_registry_is_retried_then_delivered(line: Line, sims: Sims) -> None:
    sims.post("/hotich/_sim/faults", {"busy_next": 1})
    code = send(line, birth(201), "civil_status")
    done = settled(line, "civil_status", code)
    assert done.state == "delivered"
    assert [outcome for outcome, _ in done.attempts] == ["transient", "ok"], done.attempts
    assert done.attempts[0][1] == "HTTP 200: Hệ thống đang bận, vui lòng thử lại sau"
    counters = sims.counters("/hotich")
    assert (counters["busy"], counters["received"]) == (1, 1)


def test_a_token_expired_mid_run_is_renewed_without_a_dead_letter(line: Line, sims: Sims) -> None:
    first = send(line, birth(301), "civil_status")
    assert settled(line, "civil_status", first).state == "delivered"
    issued = sims.counters("/hotich")["token_issued"]
    sims.post("/hotich/_sim/faults", {"expire_tokens": True})
    second = send(line, birth(302), "civil_status")
    done = settled(line, "civil_status", second)
    assert (done.state, [outcome for outcome, _ in done.attempts]) == ("delivered", ["ok"]), "one attempt, no retry"
    counters = sims.counters("/hotich")
    assert counters["token_issued"] == issued + 1 and counters["received"] == 2
    assert set(sims.get("/hotich/_sim/state")["dossiers"]) == {first, second}


def attachment(line: Line, name: str, host: str = "127.0.0.1", digest: str | None = None) -> dict[str, Any]:
    return {"id": name, "name": f"{name}.pdf", "url": f"http://{host}:{line.documents_port}/tep/{name}.pdf",
            "sha256": digest or hashlib.sha256(PDF).hexdigest()}


@pytest.mark.parametrize(("host", "digest"), [("localhost", None), ("127.0.0.1", "0" * 64)],
                         ids=["host-not-allowed", "another-digest"])
def test_an_attachment_that_may_not_be_carried_is_a_dead_letter(line: Line, sims: Sims, host: str, digest: str | None) -> None:
    name = f"refused-{host}-{digest is None}"
    seq = 401 if digest is None else 402
    code = send(line, dossier(seq, PROCEDURES["docs"], [attachment(line, name, host, digest)]), "docs")
    dead = settled(line, "docs", code)
    assert dead.state == "dead" and [outcome for outcome, _ in dead.attempts] == ["permanent"]
    assert dead.attempts[0][1] == "a document could not be carried: " + (
        "the hub does not fetch documents from host localhost (not in its allowlist)" if digest is None
        else "the SHA-256 of the fetched bytes is not the one the message names")
    assert dead.last_error == f"permanent: {dead.attempts[0][1]}"
    assert bodies(sims, "/generic/inbox/docs") == []
    assert (f"{name}.pdf" in line.documents.asked) == (digest is not None), "a host not allowed is never asked"


def test_an_attachment_whose_host_does_not_answer_is_transient(line: Line, sims: Sims) -> None:
    """The adapter's connector as the worker builds it, here in the test's process: a document server that
    refuses the connection may answer later, so the delivery is tried again."""
    message = dossier(403, PROCEDURES["docs"], [attachment(line, "later")])
    message["payload"]["attachments"][0]["url"] = f"http://127.0.0.1:{free_port()}/tep/later.pdf"
    [outcome] = connector("docs", line.hub.settings).deliver([MESSAGE_ADAPTER.validate_python(message)])
    assert outcome.kind == "transient" and outcome.detail.startswith("a document could not be carried: "), outcome
    assert bodies(sims, "/generic/inbox/docs") == []


def test_an_attachment_from_an_allowed_host_with_its_digest_reaches_the_ministry_as_base64(line: Line, sims: Sims) -> None:
    code = send(line, dossier(501, PROCEDURES["docs"], [attachment(line, "to-khai")]), "docs")
    assert settled(line, "docs", code).state == "delivered"
    [body] = bodies(sims, "/generic/inbox/docs")
    assert body["maHoSo"] == code and [t["ten"] for t in body["tep"]] == ["to-khai.pdf"]
    assert base64.b64decode(body["tep"][0]["noiDung"]) == PDF
    assert "to-khai.pdf" in line.documents.asked


def test_a_ministry_system_that_is_down_is_transient_and_delivered_once_it_is_back(line: Line) -> None:
    code = send(line, dossier(601, PROCEDURES["comes_back"]), "comes_back")

    def failed_twice() -> bool:
        with reading(line.hub.engine) as conn:
            return len(conn.execute(select(delivery_attempts.c.detail).join(
                deliveries, deliveries.c.id == delivery_attempts.c.delivery_id).where(
                deliveries.c.destination == "comes_back")).all()) >= 2

    wait_until(failed_twice, 20, what="two failed attempts while it is down")
    line.comes_back.start()
    done = settled(line, "comes_back", code)
    assert done.state == "delivered" and done.attempts[-1][0] == "ok"
    assert {outcome for outcome, _ in done.attempts[:-1]} == {"transient"}
    assert all(detail == "the ministry system could not be reached: ConnectError" for _, detail in done.attempts[:-1])
    received = line.comes_back_app.state.sim.requests
    assert [json.loads(r["body"]) for r in received] == [{"maHoSo": code, "ten": "Nguyễn Thị Hằng"}]
