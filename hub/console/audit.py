"""Console pages for security officers: access records, look-up content, alerts, the audit chain.

Each page calls its API twin's domain function (``hub/edge/audit.py``, ``hub/edge/admin.py``): the
search :func:`hub.audit.search.search`, the recorded decryption :func:`hub.audit.search.open_content`,
:func:`hub.alerts.store.acknowledge`, :func:`hub.audit.verify.verify` (in the background,
:mod:`hub.console.verify_jobs`) and :func:`hub.audit.bundle.export_zip`.

A citizen ID is only ever posted (``POST /console/audit/records``): the search form always posts,
and a search without one is sent back to ``GET`` with its filters in the query (bookmarkable). The
result page shows the ID masked, except in the input the officer typed it in; its next page is a
button of that same form, so the ID is neither in a URL nor a second time in the page.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from hub.access.principal import Principal
from hub.alerts import store as alerts
from hub.alerts.rules import RULES as ALERT_RULES
from hub.audit import bundle
from hub.audit.seal import chain_state
from hub.audit.search import REASON_LENGTH, Filters, find, open_content, search
from hub.console import i18n
from hub.console.i18n import N_, _
from hub.console.notices import NOTICES
from hub.console.render import SECURITY_HEADERS, fragment, page
from hub.console.routing import console_router, done, field, form_of, local_path
from hub.console.verify_jobs import JOB_ID, VerifyJob, VerifyJobs
from hub.edge.admin import actor_of, run_store
from hub.edge.params import MAX_ID, RowId
from hub.edge.problems import Problem, field_errors

router = console_router()
PAGE_SIZE = 50
RECORDS = "/console/audit/records"
ALERTS = "/console/audit/alerts"
CHAIN = "/console/audit/chain"

KINDS = {"request": N_("Request"), "lookup": N_("Citizen look-up"), "decrypt": N_("Content opened"),
         "message_read": N_("Message read"), "cli": N_("Command line")}
ALERT_STATES = {"open": N_("Open"), "acknowledged": N_("Acknowledged")}
RULE_LABELS = {"auth_failures_ip": N_("Failed sign-ins from one address"),
               "auth_failures_key": N_("Failed uses of one key"),
               "lookup_off_hours": N_("Look-ups outside office hours"),
               "lookup_volume": N_("Unusual number of look-ups"),
               "new_address": N_("Key used from a new address"),
               "traffic_spike": N_("Traffic spike"),
               "unused_credentials": N_("Unused keys and accounts")}

NOTICES.update({
    "alert-acknowledged": N_("The alert was acknowledged."),
    "audit-exported": N_("The audit bundle was exported: download it below."),
    "verify-already-running": N_("A verification was already running: here is its progress."),
})


# --- form values -----------------------------------------------------------------------------------


def _blank(value: Any) -> Any:
    """An empty form field is no filter."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _local_time(value: Any) -> Any:
    """A ``datetime-local`` value (``2026-01-31T08:00``, seconds optional) in Vietnam time."""
    value = _blank(value)
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value):
        raise ValueError("a date and time such as 2026-01-31T08:00")
    return datetime.fromisoformat(value).replace(tzinfo=i18n.ZONE)


def _local_day(value: Any) -> Any:
    """A ``date`` value (``2026-01-31``): that day's start in Vietnam time."""
    value = _blank(value)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date such as 2026-01-31")
    return datetime.combine(date.fromisoformat(value), time(), tzinfo=i18n.ZONE)


def _citizen_id(value: str) -> str:
    """A 12-digit personal ID, spaces, dots and dashes allowed between the digits (never echoed)."""
    digits = re.sub(r"[\s.\-]", "", value)
    if not re.fullmatch(r"\d{12}", digits):
        raise ValueError("a personal ID number of 12 digits")
    return digits


def masked(citizen_id: str) -> str:
    """``079203004567`` as ``079*******67``: enough to tell searches apart, not to read the number."""
    return citizen_id[:3] + "*" * (len(citizen_id) - 5) + citizen_id[-2:]


Blank = BeforeValidator(_blank)
LocalTime = Annotated[datetime | None, BeforeValidator(_local_time)]


def _local_input(at: datetime | None) -> str:
    """A moment as a ``datetime-local`` input shows it (Vietnam time)."""
    if at is None:
        return ""
    local = at.astimezone(i18n.ZONE)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


OptionalId = Annotated[Annotated[int, Field(ge=0, le=MAX_ID)] | None, Blank]


class TimeRange(BaseModel):
    """A ``[since, until)`` range of ``datetime-local`` fields, either end open."""

    model_config = ConfigDict(extra="ignore")
    since: LocalTime = None
    until: LocalTime = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("the end of the time range must come after its start")
        return self


class RecordSearch(TimeRange):
    """The search form's filters (the query of ``GET``, the fields of ``POST``); empty means any."""

    key_id: OptionalId = None
    partner: Annotated[Annotated[str, Field(max_length=40)] | None, Blank] = None
    account: Annotated[Annotated[str, Field(max_length=60)] | None, Blank] = None
    ip: Annotated[Annotated[str, Field(max_length=45)] | None, Blank] = None
    outcome: Annotated[Annotated[str, Field(max_length=40)] | None, Blank] = None
    route: Annotated[Annotated[str, Field(max_length=200)] | None, Blank] = None
    status: Annotated[Annotated[int, Field(ge=100, le=599)] | None, Blank] = None
    kind: Annotated[Literal["request", "lookup", "decrypt", "message_read", "cli"] | None, Blank] = None
    request_id: Annotated[Annotated[str, Field(max_length=100)] | None, Blank] = None
    before: OptionalId = None  # the page of records older than this id (newest first)

    def filters(self, citizen_id: str | None = None) -> Filters:
        return Filters(**self.model_dump(exclude={"before", "citizen_id"}), citizen_id=citizen_id)

    def echo(self) -> dict[str, str]:
        """The filters as the form's inputs show them (``before`` left out)."""
        plain = self.model_dump(exclude={"before", "since", "until", "citizen_id"})
        out = {k: "" if v is None else str(v) for k, v in plain.items()}
        return {**out, "since": _local_input(self.since), "until": _local_input(self.until)}


class CitizenSearch(RecordSearch):
    citizen_id: Annotated[Annotated[str, Field(max_length=30), AfterValidator(_citizen_id)] | None, Blank] = None


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    state: Annotated[Literal["open", "acknowledged"] | None, Blank] = None
    rule: Annotated[Annotated[str, Field(max_length=40, pattern=r"^[a-z_]+$")] | None, Blank] = None
    after: OptionalId = None


class ExportForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    since: Annotated[datetime | None, BeforeValidator(_local_day)] = None


M = TypeVar("M", bound=BaseModel)


def posted(request: Request, model: type[M]) -> M:
    """The posted form as ``model``; a 422 page naming each bad field (values never echoed)."""
    try:
        return model.model_validate({k: v[0] for k, v in form_of(request).items() if v})
    except ValidationError as exc:
        raise Problem("validation", _("Some fields are not valid."),
                      field_errors(exc.errors(include_url=False, include_input=False), strip_tag=False)) from None


def invalid(name: str, rule: str, message: str) -> Problem:
    return Problem("validation", _("Some fields are not valid."), [{"field": name, "rule": rule, "message": message}])


# --- access records -----------------------------------------------------------------------------


async def _results(request: Request, query: RecordSearch, citizen_id: str | None = None) -> Response:
    request.scope["state"]["summary"] = "audit search" + (" by citizen ID" if citizen_id else "")
    app = request.app
    items = await run_in_threadpool(lambda: search(app.state.engine, app.state.citizen_data, query.filters(citizen_id),
                                                   limit=PAGE_SIZE, before_id=query.before, newest_first=True))
    next_before = items[-1]["id"] if len(items) == PAGE_SIZE else None
    given = {k: v for k, v in query.echo().items() if v}
    next_link = None  # with a citizen ID, the next page is a button of the search form (a POST)
    if next_before is not None and citizen_id is None:
        next_link = f"{RECORDS}?" + urlencode({**given, "before": next_before})
    return page(request, "audit/records.html", title=_("Access records"), items=items, form=query.echo(),
                citizen_id=citizen_id or "", citizen_masked=masked(citizen_id) if citizen_id else "",
                next_before=next_before, next_link=next_link, paged=query.before is not None,
                first_query=urlencode(given), KINDS=KINDS)


@router.get(RECORDS)
async def records(request: Request, query: Annotated[RecordSearch, Query()]) -> Response:
    """The search form and the records matching the query's filters, newest first, a page at a time
    (``before``: the records older than that id)."""
    return await _results(request, query)


@router.post(RECORDS)
async def records_by_citizen(request: Request) -> Response:
    """The same search with a citizen ID (matched through the blind index); without one, the browser
    is sent to the ``GET`` page of those filters."""
    query = posted(request, CitizenSearch)
    if query.citizen_id is None:
        plain = {k: v for k, v in query.echo().items() if v and k != "citizen_id"}
        if query.before is not None:
            plain["before"] = str(query.before)
        return done(f"{RECORDS}?{urlencode(plain)}" if plain else RECORDS)
    return await _results(request, query, query.citizen_id)


async def _record(request: Request, record_id: int) -> dict[str, Any]:
    found = await run_in_threadpool(find, request.app.state.engine, record_id)
    if found is None:
        raise Problem("not-found", _("There is no access record %(id)s.") % {"id": record_id})
    return found


@router.get(RECORDS + "/{record_id}")
async def record(request: Request, record_id: RowId) -> Response:
    """Every field of one record; a form to open its look-up content, if it has some."""
    found = await _record(request, record_id)
    return page(request, "audit/record.html", title=_("Access record %(id)s") % {"id": record_id}, r=found,
                KINDS=KINDS, reason_length=REASON_LENGTH)


@router.post(RECORDS + "/{record_id}/content")
async def record_content(request: Request, record_id: RowId) -> Response:
    """Open a look-up's content for a stated reason: recorded as this request's access record (kind
    ``decrypt``) and as the admin action ``audit.decrypt`` with the reason, as the API's ``/content``."""
    who: Principal = request.scope["state"]["principal"]
    state = request.scope["state"]
    state["kind"], state["summary"] = "decrypt", f"decrypt record {record_id}"
    low, high = REASON_LENGTH
    reason = field(request, "reason", max_length=high)
    if len(reason) < low:
        raise invalid("reason", "min_length", _("Give the reason for opening it: %(low)s to %(high)s characters.")
                      % {"low": low, "high": high})
    found = await _record(request, record_id)
    try:
        content = await run_in_threadpool(open_content, request.app.state.engine, request.app.state.citizen_data,
                                          record_id, actor=who.who, client_ip=state.get("client_ip", ""), reason=reason)
    except ValueError:
        raise Problem("internal", _("The content does not decrypt under the audit key: it was altered, "
                                    "or sealed with another key.")) from None
    if content is None:
        raise Problem("not-found", _("Access record %(id)s has no look-up content.") % {"id": record_id})
    text = json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True)
    return page(request, "audit/content.html", title=_("Content of access record %(id)s") % {"id": record_id},
                r=found, content=text, reason=reason)


# --- alerts ---------------------------------------------------------------------------------------


@router.get(ALERTS)
async def alert_list(request: Request, query: Annotated[AlertQuery, Query()]) -> Response:
    """Alerts in id order, by state and rule, a page at a time; open ones can be acknowledged."""
    items = await run_store(alerts.list_alerts, request.app.state.engine, query.after or 0, PAGE_SIZE, query.state,
                            query.rule)
    filters: dict[str, str | int] = {k: v for k, v in (("state", query.state), ("rule", query.rule)) if v}
    next_link = f"{ALERTS}?" + urlencode({**filters, "after": items[-1]["id"]}) if len(items) == PAGE_SIZE else None
    rules = {code: RULE_LABELS.get(code, code) for code in ALERT_RULES}
    here = {**filters, **({"after": query.after} if query.after else {})}
    back = ALERTS + (f"?{urlencode(here)}" if here else "")  # this page again, without its notice
    return page(request, "audit/alerts.html", title=_("Alerts"), items=items, query=query, rules=rules,
                states=ALERT_STATES, next_link=next_link, back=back)


@router.post(ALERTS + "/{alert_id}/acknowledge")
async def acknowledge(request: Request, alert_id: RowId) -> Response:
    """Acknowledge one alert (the admin action ``alert.acknowledge``), then back to the list."""
    actor, ip = actor_of(request)
    await run_store(alerts.acknowledge, request.app.state.engine, alert_id, actor=actor, client_ip=ip)
    return done(local_path(field(request, "back"), ALERTS), "alert-acknowledged")


# --- the chain --------------------------------------------------------------------------------------


def jobs_of(request: Request) -> VerifyJobs:
    """This process's verifications (one registry per application)."""
    state = request.app.state
    registry: VerifyJobs | None = getattr(state, "verify_jobs", None)
    if registry is None:
        registry = state.verify_jobs = VerifyJobs()
    return registry


@router.get(CHAIN)
async def chain(request: Request, export: str = Query("", max_length=100)) -> Response:
    """Where the chain stands, the latest verification, the forms to verify and to export, the exports."""
    settings = request.app.state.settings
    current = await run_in_threadpool(chain_state, request.app.state.engine)
    exports = await run_in_threadpool(bundle.exported_zips, settings)
    return page(request, "audit/chain.html", title=_("Audit chain"), chain=current, job=jobs_of(request).latest(),
                exports=exports, exported=export if export in exports else None)


@router.post(CHAIN + "/verify")
async def verify_chain(request: Request) -> Response:
    """Start verifying the chain (all of it, or the part covering the range) in the background."""
    span = posted(request, TimeRange)
    actor, ip = actor_of(request)
    app = request.app
    job, started = jobs_of(request).start(app.state.engine, app.state.settings, span.since, span.until,
                                          actor=actor, client_ip=ip)
    request.scope["state"]["summary"] = "audit chain verification" + ("" if started else " (already running)")
    return done(f"{CHAIN}/verify/{job.id}", None if started else "verify-already-running")


def _verdict(job: VerifyJob) -> str:
    """The report's verdict in the page's language (the wording of ``lienthong audit verify``)."""
    if job.report is None:
        return ""
    lines = job.report.lines()
    return lines[1] if i18n.current() == "vi" else lines[0]


@router.get(CHAIN + "/verify/{job_id}")
async def verification(request: Request, job_id: Annotated[str, Path(pattern=JOB_ID.pattern)]) -> Response:
    """A verification's progress, then its report; htmx polls the ``#verify-progress`` part every second."""
    job = jobs_of(request).get(job_id)
    if job is None:
        raise Problem("not-found", _("This verification is not known (the hub may have restarted)."))
    context: dict[str, Any] = {"job": job, "verdict": _verdict(job), "since": _local_input(job.since).replace("T", " "),
               "until": _local_input(job.until).replace("T", " ")}
    if request.headers.get("hx-request"):
        return fragment(request, "audit/verify_progress.html", headers={"Vary": "HX-Request"}, **context)
    return page(request, "audit/verify.html", title=_("Chain verification"), headers={"Vary": "HX-Request"}, **context)


@router.post("/console/audit/export")
async def export(request: Request) -> Response:
    """Export a bundle for the offline verifier as one zip, then back to the chain page with its link."""
    form = posted(request, ExportForm)
    actor, ip = actor_of(request)
    try:
        path, _manifest = await run_in_threadpool(bundle.export_zip, request.app.state.engine, request.app.state.settings,
                                                  form.since, actor=actor, client_ip=ip)
    except ValueError:
        raise invalid("since", "sealed_records", _("There are no sealed records to export from that date.")) from None
    request.scope["state"]["summary"] = f"audit export {path.name}"
    return done(f"{CHAIN}?{urlencode({'export': path.name})}", "audit-exported")


@router.get("/console/audit/exports/{name}")
async def exported(request: Request, name: str) -> Response:
    """A zip this console exported (only a name :data:`hub.audit.bundle.ZIP_NAME` allows, inside the exports folder)."""
    path = bundle.exported_zip(request.app.state.settings, name)
    if path is None:
        raise Problem("not-found", _("There is no such export."))
    request.scope["state"]["summary"] = f"audit export download {path.name}"
    return FileResponse(path, media_type="application/zip", filename=path.name, headers=SECURITY_HEADERS)

