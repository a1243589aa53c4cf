"""Console pages for operators: the live overview of the flows, dead letters and their replay, a
dossier's trace across partners, and message search.

Every page reads through ``hub.store.queries`` (keyset pages, index-served filters); the replay form
calls the API's own replay (:func:`hub.edge.ops.replay_dead`, hence ``hub.queue.replay``), so a
replay from the console is the same change, recorded the same way. Live parts are htmx fragments
polled every 2 s that the full page also renders at first load, so everything works without
JavaScript; the chart is drawn by ``static/overview.js`` from ``/console/overview/chart``, with a
table of the same figures beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import urlencode

import orjson
from fastapi import Query
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hub.alerts.store import open_partner_alerts
from hub.console.i18n import N_, _
from hub.console.notices import NOTICES
from hub.console.render import SECURITY_HEADERS, fragment, page
from hub.console.routing import confirmation, confirmed, console_router, done, field, invalid, local_moment, values
from hub.edge.ops import replay_dead
from hub.edge.params import MAX_ID, After, OptionalId, RowId
from hub.edge.problems import Problem
from hub.messages import MESSAGE_TYPES
from hub.messages.codes import check_dossier_code
from hub.plugins import manifests
from hub.queue.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from hub.queue.replay import MAX_IDS
from hub.store import queries
from hub.store.tables import DEAD, DELIVERED, OPEN_STATES, PENDING, RETRYING, SENDING

router = console_router()

PAGE_SIZE = 50
CHART_BUCKET_SECONDS = 300
LAST_ERROR_WINDOW = timedelta(hours=24)  # the overview's "last error": the latest failed attempt in this window
ERROR_SHOWN = 160  # characters of an error shown in a table (the detail page shows all)
IDS_IN_URL = 200  # a destination's replay of more deliveries is watched by destination and moment, not by ids
CODE = re.compile(r"^[a-z0-9_]{2,40}$")  # a partner's code (hub/edge/admin.py)
LOCAL_MOMENT = r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?)?$"  # <input type="datetime-local">, or empty

#: TrangThaiHoSo, the dossier's status as the national portal numbers it (hub.messages.codes.DossierStatus).
STATUS_LABELS = {1: N_("New"), 2: N_("Accepted"), 3: N_("Not accepted"), 4: N_("In progress"),
                 5: N_("Supplement requested"), 6: N_("Financial obligation requested"), 7: N_("Withdrawn by the citizen"),
                 8: N_("Handling stopped"), 9: N_("Handling done"), 10: N_("Result returned")}
STATE_LABELS = {PENDING: N_("Waiting"), SENDING: N_("Sending"), RETRYING: N_("Waiting to retry"),
                DELIVERED: N_("Delivered"), DEAD: N_("Dead letter")}
OUTCOME_LABELS = {"ok": N_("Succeeded"), "transient": N_("Temporary failure"), "permanent": N_("Refused for good")}
BREAKER_LABELS = {CLOSED: N_("Closed (normal)"), OPEN: N_("Open (calls held)"), HALF_OPEN: N_("Half-open (trial call)"),
                  "unknown": N_("Unknown (Redis unreachable)")}
#: hub.messages.postal: the dossier's pickup by the post and its result by post, by state code.
PICKUP_LABELS = {0: N_("No pickup"), 1: N_("Pickup registered"), 2: N_("Being collected"),
                 3: N_("Handed over to the agency"), 4: N_("Pickup cancelled")}
RESULT_POST_LABELS = {0: N_("No result by post"), 1: N_("Offered"), 2: N_("Chosen by the citizen"),
                      3: N_("Handed to the post"), 4: N_("Delivered to the citizen")}
#: connectors/national_dvc/results/: the verdict on a result document's digital signature, by state.
SIGNATURE_LABELS = {"valid": N_("Signature valid"), "untrusted": N_("Signer not trusted"),
                    "expired": N_("Certificate not valid when signed"), "broken": N_("Signature broken (changed after signing)"),
                    "not-signed": N_("Not signed"), "not-pdf": N_("Not a PDF (not checked)"),
                    "unavailable": N_("Not checked (document unavailable)")}

NOTICES.update({
    "replayed": N_("The dead letters are being sent again. Their states below change as the workers deliver them."),
    "nothing-replayed": N_("Nothing was replayed: those deliveries are no longer dead letters."),
})

#: The label tables every operators' template may use.
LABELS: dict[str, Any] = {"STATUS_LABELS": STATUS_LABELS, "STATE_LABELS": STATE_LABELS,
                          "BREAKER_LABELS": BREAKER_LABELS, "OUTCOME_LABELS": OUTCOME_LABELS}


def short(text: str | None, limit: int = ERROR_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def time_range(start: str, end: str) -> tuple[datetime | None, datetime | None]:
    """The ``from`` and ``to`` fields of a filter form; 422 when ``to`` is not after ``from``."""
    since, until = local_moment("from", start), local_moment("to", end)
    if since and until and until <= since:
        raise invalid("to", "after_from", _("The end must be after the start."))
    return since, until


def partner_code(name: str, value: str) -> str | None:
    """A partner code field (None when empty); 422 when it cannot be one."""
    if not value:
        return None
    if not CODE.match(value):
        raise invalid(name, "partner_code", _("Not a partner code."))
    return value


def message_type(value: str) -> str | None:
    """A canonical message type (None when empty); 422 when the hub has no such type."""
    if value and value not in MESSAGE_TYPES:
        raise invalid("type", "message_type", _("Not a message type of the hub."))
    return value or None


def dossier_code(name: str, value: str) -> str:
    """A dossier code (hub.messages.codes.check_dossier_code); 422 with the rule's reason otherwise."""
    try:
        return check_dossier_code(value)
    except ValueError as exc:
        raise Problem("validation", _("Not a valid dossier code."),
                      [{"field": name, "rule": "dossier_code", "message": str(exc)}]) from None


def lookup_operations() -> list[str]:
    """The look-up operations every partner's manifest declares (the population database's, ...)."""
    return sorted({op.name for m in manifests() if m.lookups is not None for op in m.lookups.operations})


def json_answer(content: Any) -> Response:
    """A JSON answer with the console's headers (never cached)."""
    return Response(orjson.dumps(content), media_type="application/json", headers=SECURITY_HEADERS)


def destinations_of(request: Request, *seen: Iterable[str]) -> list[str]:
    """Every destination of the routing table, and any other seen in the data, sorted."""
    known: set[str] = set(request.app.state.routes.all_destinations())
    for more in seen:
        known.update(more)
    return sorted(known)


# --- the overview --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flow:
    """One row of the overview: a destination's deliveries now."""

    destination: str
    delivered_last_minute: int
    pending: int
    sending: int
    retrying: int
    dead: int
    lag_seconds: float
    breaker: str
    last_error: dict[str, Any] | None


def breaker_states(request: Request, destinations: list[str]) -> dict[str, str]:
    """Each destination's circuit as the workers share it in Redis ("unknown" when Redis is down)."""
    s = request.app.state.settings
    try:
        return {d: Breaker(request.app.state.redis, d, s.breaker_threshold, s.breaker_open_seconds).state()
                for d in destinations}
    except (RedisError, OSError):
        return dict.fromkeys(destinations, "unknown")


def read_flows(request: Request) -> list[Flow]:
    """The overview's rows (blocking: database and Redis)."""
    engine, now = request.app.state.engine, datetime.now(timezone.utc)
    backlog = queries.backlog(engine, now)
    recent = queries.delivered_since(engine, now - timedelta(minutes=1))
    failures = queries.last_failures(engine, now - LAST_ERROR_WINDOW)
    names = destinations_of(request, backlog.counts, recent, failures)
    circuits = breaker_states(request, names)
    rows = []
    for d in names:
        counts = backlog.counts.get(d, {})
        rows.append(Flow(d, recent.get(d, 0), counts.get(PENDING, 0), counts.get(SENDING, 0), counts.get(RETRYING, 0),
                         counts.get(DEAD, 0), backlog.lag.get(d, 0.0), circuits[d], failures.get(d)))
    return rows


@router.get("/console/overview")
async def overview(request: Request, hours: int = Query(6, ge=1, le=24)) -> Response:
    """The flows now (the live table), and throughput and failures over the last ``hours``."""
    flows = await run_in_threadpool(read_flows, request)
    chart = await run_in_threadpool(queries.throughput, request.app.state.engine, hours, CHART_BUCKET_SECONDS)
    totals = {d: (sum(chart.delivered[d]), sum(chart.failed[d])) for d in sorted(chart.delivered)}
    partner_alerts = await run_in_threadpool(open_partner_alerts, request.app.state.engine)
    return page(request, "ops/overview.html", title=_("Overview"), flows=flows, hours=hours, totals=totals,
                partner_alerts=partner_alerts, short=short, **LABELS)


@router.get("/console/overview/live")
async def overview_live(request: Request) -> Response:
    """The live table alone: what the overview polls every 2 s."""
    flows = await run_in_threadpool(read_flows, request)
    return fragment(request, "ops/flows.html", flows=flows, short=short, **LABELS)


@router.get("/console/overview/chart")
async def overview_chart(request: Request, hours: int = Query(6, ge=1, le=24)) -> Response:
    """Deliveries delivered and attempts failed per destination in 5-minute buckets over the last
    ``hours``: ``{hours, bucket_seconds, times: [epoch s], series: {destination: {delivered, failed}}}``."""
    chart = await run_in_threadpool(queries.throughput, request.app.state.engine, hours, CHART_BUCKET_SECONDS)
    series = {d: {"delivered": chart.delivered[d], "failed": chart.failed[d]} for d in sorted(chart.delivered)}
    return json_answer({"hours": hours, "bucket_seconds": chart.bucket_seconds, "times": chart.times, "series": series})


# --- dead letters --------------------------------------------------------------------------------------


@router.get("/console/dead-letters")
async def dead_letters(request: Request, destination: str = Query("", max_length=40),
                       kind: str = Query("", alias="type", max_length=40), reason: str = Query("", max_length=200),
                       start: str = Query("", alias="from", max_length=19, pattern=LOCAL_MOMENT),
                       end: str = Query("", alias="to", max_length=19, pattern=LOCAL_MOMENT),
                       after: After = 0) -> Response:
    """Dead letters, oldest first, filtered by destination, type, reason and when they died; pages by id."""
    dest, chosen = partner_code("destination", destination.strip()), message_type(kind.strip())
    died_from, died_to = time_range(start, end)
    items = await run_in_threadpool(lambda: queries.dead_letters(
        request.app.state.engine, dest, after, PAGE_SIZE, type=chosen, reason=reason.strip() or None,
        died_from=died_from, died_to=died_to))
    filters = {"destination": dest or "", "type": chosen or "", "reason": reason.strip(), "from": start, "to": end}
    following = None
    if len(items) == PAGE_SIZE:
        following = "/console/dead-letters?" + urlencode({**{k: v for k, v in filters.items() if v}, "after": items[-1]["id"]})
    return page(request, "ops/dead_letters.html", title=_("Dead letters"), items=items, filters=filters,
                destinations=destinations_of(request), types=MESSAGE_TYPES, following=following, after=after,
                short=short, max_ids=MAX_IDS, **LABELS)


@router.get("/console/dead-letters/{delivery_id}")
async def delivery(request: Request, delivery_id: RowId) -> Response:
    """One delivery: its message (envelope and body), every attempt, and a replay button when dead."""
    found = await run_in_threadpool(queries.delivery_detail, request.app.state.engine, delivery_id)
    if found is None:
        raise Problem("not-found", _("No such delivery."))
    message = found["message"]
    body = orjson.dumps(message["message"], option=orjson.OPT_INDENT_2).decode()
    return page(request, "ops/delivery.html", title=_("Delivery %(id)s") % {"id": delivery_id}, d=found,
                message=message, body=body, **LABELS)


def replay_ids(request: Request) -> list[int] | None:
    """The ``ids`` checkboxes as delivery ids (None when none is ticked); 422 when one is not an id or
    there are more than :data:`MAX_IDS`."""
    raw = values(request, "ids")
    if not raw:
        return None
    if len(raw) > MAX_IDS:
        raise invalid("ids", "max_items", _("Replay at most %(n)s deliveries at once.") % {"n": MAX_IDS})
    if not all(v.isascii() and v.isdigit() and int(v) <= MAX_ID for v in raw):
        raise invalid("ids", "delivery_id", _("Not a delivery id."))
    return sorted({int(v) for v in raw})


def watch(replayed: list[tuple[int, str]], destination: str | None, at: datetime) -> str:
    """Where to watch a replay's deliveries: by ids (a selection has at most :data:`MAX_IDS`), or, a
    large replay of a ``destination``'s dead letters made at ``at``, by destination and moment."""
    if destination and len(replayed) > IDS_IN_URL:
        return "/console/replays?" + urlencode({"destination": destination, "since": at.isoformat()})
    return "/console/replays?ids=" + ",".join(str(i) for i, _d in replayed)


@router.post("/console/dead-letters/replay")
async def replay(request: Request) -> Response:
    """Replay the ticked dead letters, or every dead letter of a destination, once confirmed; then
    watch them at ``/console/replays``. The same replay as ``POST /v1/dead-letters:replay``."""
    ids, destination = replay_ids(request), partner_code("destination", field(request, "destination", max_length=40))
    back = field(request, "back", max_length=2000) or "/console/dead-letters"
    if ids is None and destination is None:
        raise invalid("ids", "ids_or_destination", _("Tick at least one dead letter, or choose a destination."))
    if not confirmed(request):
        if ids is not None:
            question = _("Replay %(n)s dead letters?") % {"n": len(ids)}
        else:
            question = _("Replay every dead letter of %(destination)s?") % {"destination": destination}
        return confirmation(request, question, _("They are sent to their destination again, with a fresh retry "
                                                 "schedule. A partner that already took one may receive it twice."), back)
    at = datetime.now(timezone.utc)
    replayed = await replay_dead(request, ids, destination)
    if not replayed:
        return done(back, "nothing-replayed")
    return done(watch(replayed, destination if ids is None else None, at), "replayed")


@router.get("/console/replays")
async def replays(request: Request, ids: str = Query("", max_length=MAX_IDS * 20, pattern=r"^(\d{1,19}(,\d{1,19})*)?$"),
                  destination: str = Query("", max_length=40), since: datetime | None = None) -> Response:
    """The deliveries of a replay and their states, live: the given ``ids``, or those of
    ``destination`` made before ``since`` and changed after it."""
    wanted = sorted({int(i) for i in ids.split(",") if i})
    if len(wanted) > MAX_IDS or any(i > MAX_ID for i in wanted):
        raise invalid("ids", "max_items", _("Replay at most %(n)s deliveries at once.") % {"n": MAX_IDS})
    dest = partner_code("destination", destination.strip())
    if not wanted and not (dest and since):
        raise invalid("ids", "ids_or_destination", _("Name the deliveries to watch."))
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    if wanted:
        rows = await run_in_threadpool(queries.deliveries_by_id, request.app.state.engine, wanted)
    else:
        assert dest is not None and since is not None
        rows = await run_in_threadpool(queries.deliveries_changed_since, request.app.state.engine, dest, since)
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in STATE_LABELS}
    live = any(r["state"] in OPEN_STATES for r in rows)
    context = {"rows": rows, "counts": counts, "live": live, "short": short, "self_url": request.url.path + "?" +
               urlencode({k: v for k, v in (("ids", ids), ("destination", dest or ""),
                                            ("since", since.isoformat() if since else "")) if v}), **LABELS}
    if request.headers.get("hx-request"):
        return fragment(request, "ops/replay_rows.html", **context)
    return page(request, "ops/replays.html", title=_("Replayed deliveries"), **context)


# --- a dossier's trace, message search ------------------------------------------------------------------


@router.get("/console/trace")
async def trace(request: Request, code: str = Query("", max_length=40)) -> Response:
    """Every message of a dossier across partners in time order, with their deliveries and the
    dossier's postal states; the form alone without ``code``."""
    code = code.strip()
    context: dict[str, Any] = {"code": code, "items": [], "timeline": [], "postal": None, "PICKUP_LABELS": PICKUP_LABELS,
                               "RESULT_POST_LABELS": RESULT_POST_LABELS, "SIGNATURE_LABELS": SIGNATURE_LABELS, **LABELS}
    if not code:
        return page(request, "ops/trace.html", title=_("Dossier trace"), **context)
    dossier_code("code", code)
    engine = request.app.state.engine
    context["items"] = await run_in_threadpool(queries.trace, engine, code, None)
    lookups = await run_in_threadpool(queries.dossier_lookups, engine, code, lookup_operations())
    if context["items"]:
        context["postal"] = await run_in_threadpool(queries.dossier_postal, engine, code)
    # one timeline: the messages and the look-ups made for the dossier, by the moment each happened
    context["timeline"] = sorted([("message", m["occurred_at"], m) for m in context["items"]]
                                 + [("lookup", lk["at"], lk) for lk in lookups], key=lambda e: datetime.fromisoformat(e[1]))
    return page(request, "ops/trace.html", status=200 if context["timeline"] else 404, title=_("Dossier trace"), **context)


@router.get("/console/messages")
async def messages(request: Request, kind: str = Query("", alias="type", max_length=40), source: str = Query("", max_length=40),
                   code: str = Query("", max_length=40),
                   start: str = Query("", alias="from", max_length=19, pattern=LOCAL_MOMENT),
                   end: str = Query("", alias="to", max_length=19, pattern=LOCAL_MOMENT),
                   before: OptionalId = None) -> Response:
    """Messages by type, source, dossier code and when the hub accepted them, newest first; pages by id."""
    chosen, src, code = message_type(kind.strip()), partner_code("source", source.strip()), code.strip()
    received_from, received_to = time_range(start, end)
    search = queries.MessageSearch(chosen, src, dossier_code("code", code) if code else None, received_from, received_to)
    items = await run_in_threadpool(queries.search_messages, request.app.state.engine, search, before, PAGE_SIZE)
    filters = {"type": chosen or "", "source": src or "", "code": code, "from": start, "to": end}
    following = None
    if len(items) == PAGE_SIZE:
        following = "/console/messages?" + urlencode({**{k: v for k, v in filters.items() if v}, "before": items[-1]["id"]})
    return page(request, "ops/messages.html", title=_("Messages"), items=items, filters=filters, types=MESSAGE_TYPES,
                following=following, first=before is None, **LABELS)
