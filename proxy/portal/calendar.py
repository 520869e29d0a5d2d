"""The week view of a calendar, and scheduling on it (DESIGN §9).

What the viewer sees comes from the read path of the JSON API: the owner and delegates get
the events ``GET /v1/users/{user}/events`` would answer (redacted for them), a colleague
gets the intervals of ``/freebusy`` titled only by show-as, an outsider a 404 page. Writes
go through :mod:`proxy.actions.calendar`, the code behind ``POST``, ``PATCH`` and
``DELETE .../events``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from aiohttp import web

from proxy.actions import calendar as actions
from proxy.actions.delegates import delegators
from proxy.actions.deps import Deps
from proxy.actions.target import OutsiderNotFound, Target, resolve_target
from proxy.core.access import Relation
from proxy.core.timeutil import to_utc, zone
from proxy.errors import BadRequest, CalproxyError, Conflict, Forbidden
from proxy.http.keys import AUDIT, STORE, deps
from proxy.notifications.routes import follow, parse_event_id, stream_changes
from proxy.notifications.subscribers import current_viewer
from proxy.operations.audit_http import record_refusal
from proxy.portal import week
from proxy.portal.asking import confirmation_page, confirmed
from proxy.portal.event_form import EventForm, blank_form, form_of_event, read_form
from proxy.portal.web import portal_user, posted_form, redirect, render
from proxy.redaction import VisibleEvent
from proxy.render.freebusy import freebusy_intervals
from proxy.store.records import User

NOTICES = {"scheduled": "Meeting scheduled.", "saved": "Meeting saved.",
           "deleted": "Meeting deleted."}


def _requested_start(request: web.Request) -> date | None:
    raw = request.query.get("start")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("The start of the week must be a date such as 2026-11-30.") from None


async def primary_zone(app_deps: Deps, owner: User) -> str | None:
    """The time zone of the owner's primary calendar, where the provider names one."""
    with contextlib.suppress(CalproxyError):
        for _, record in await app_deps.calendars.calendars(owner.id):
            if record.is_primary and record.time_zone:
                return record.time_zone
    return None


def zone_of(primary: str | None, seen: list[VisibleEvent]) -> str:
    """The owner's zone: the primary calendar's, else the one most of the owner's timed
    events are in (Graph and EWS name no calendar zone; every event names its own)."""
    if primary:
        return primary
    counts = Counter(v.time_zone for v in seen if v.time_zone and not v.all_day)
    return counts.most_common(1)[0][0] if counts else "UTC"


async def _seen(app_deps: Deps, target: Target, around: date) -> list[VisibleEvent]:
    """What the viewer may see from two days before ``around`` to nine days after (a
    week in any zone), through the read path of ``/events`` or, for a colleague,
    ``/freebusy`` (§3)."""
    start = datetime.combine(around - timedelta(days=2), time(0), tzinfo=UTC)
    end = start + timedelta(days=11)
    if target.relation is Relation.COLLEAGUE:
        return await actions.visible_busy(app_deps, target, start, end)
    return await actions.visible_events(app_deps, target, start, end)


def _blocks(busy_only: bool, seen: list[VisibleEvent]) -> tuple[
        list[week.Block], list[tuple[date, date, week.Block]]]:
    """Timed and all-day blocks: a colleague's are the merged free/busy intervals."""
    if busy_only:
        return [week.busy_block(s, e, k) for s, e, k in freebusy_intervals(seen)], []
    timed = [week.block_of(v) for v in seen if not v.all_day]
    all_day = [(_day(v.start), _day(v.end), week.block_of(v)) for v in seen if v.all_day]
    return timed, all_day


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


async def schedule_for_choices(app_deps: Deps, viewer: User) -> list[str]:
    """The viewer and every owner who lets the viewer schedule for them."""
    return [viewer.email] + [owner.email for d, owner in await delegators(app_deps, viewer)
                             if d.can_schedule]


def _refused(request: web.Request, exc: Exception, target: Target | None,
             write: bool, event_id: str | None = None) -> None:
    """Record a refusal on someone else's calendar, as the API does (DESIGN §12); pages
    show refusals in words, so they are recorded where they are caught."""
    record_refusal(request.app.get(AUDIT), exc, target, write, event_id)


async def _target(request: web.Request, ref: str, write: bool) -> Target:
    """``ref`` as the signed-in viewer sees it; an outsider's 404 is recorded."""
    try:
        return await resolve_target(deps(request.app).principals, portal_user(request), ref)
    except OutsiderNotFound as exc:
        _refused(request, exc, None, write)
        raise


async def week_page(request: web.Request, form: EventForm | None = None,
                    status: int = 200) -> web.Response:
    viewer = portal_user(request)
    app_deps = deps(request.app)
    target = await _target(request, request.match_info["user"], write=False)
    after = await _followed(request.app, target.owner.id)
    requested = _requested_start(request)
    problem: str | None = None
    seen: list[VisibleEvent] = []
    try:
        seen = await _seen(app_deps, target, requested or datetime.now(UTC).date())
    except (Conflict, Forbidden) as exc:
        _refused(request, exc, target, write=False)
        problem = exc.message
    zone_name = zone_of(await primary_zone(app_deps, target.owner), seen)
    first = requested or week.monday_of(datetime.now(zone(zone_name)).date())
    timed, all_day = _blocks(target.relation is Relation.COLLEAGUE, seen)
    owner_ref = target.owner.email
    return render(request, "week.html", {
        "owner": target.owner.email, "own": target.relation is Relation.SELF,
        "busy_only": target.relation is Relation.COLLEAGUE, "zone": zone_name,
        "week": week.lay_out(first, zone(zone_name), timed, all_day),
        "first": first, "last": first + timedelta(days=6),
        "previous": f"/portal/calendar/{owner_ref}?start={first - timedelta(days=7)}",
        "next": f"/portal/calendar/{owner_ref}?start={first + timedelta(days=7)}",
        "this_week": f"/portal/calendar/{owner_ref}",
        "problem": problem, "may_schedule": target.may_schedule,
        "choices": await schedule_for_choices(app_deps, viewer),
        "form": form or blank_form(first, zone_name, target.owner.email),
        "notice": NOTICES.get(request.query.get("done", "")),
        "changes": f"/portal/calendar/{owner_ref}/changes?after={after}",
    }, status=status)


async def _followed(app: web.Application, owner_id: str) -> int:
    """The newest change the page will show: its stream resumes after it (read before
    the events, and with the owner's changes tracked from here on), so that a change
    made while the page loads still refreshes it."""
    if not await app[STORE].is_watched(owner_id):
        await follow(app, owner_id)
    return await app[STORE].newest_change(owner_id)


async def week_changes(request: web.Request) -> web.StreamResponse:
    """The week view's change stream (DESIGN §11: the week may refresh itself from the
    stream): the API's stream of the signed-in viewer's view, resumed after ``after`` or,
    on a reconnect, after ``Last-Event-ID``. ``week.js`` refetches the week on each event."""
    viewer = portal_user(request)
    target = await _target(request, request.match_info["user"], write=False)
    seen = await current_viewer(request.app[STORE], viewer.id, target.owner.id)
    if seen is None:
        raise Forbidden("Your organisation's settings allow no calendar access.")
    last = parse_event_id(request.headers.get("Last-Event-ID", ""), "Last-Event-ID")
    if last is None:
        last = parse_event_id(request.query.get("after", ""), "after")
    return await stream_changes(request, viewer.id, target.owner.id, seen, last)


async def schedule(request: web.Request) -> web.Response:
    """``Schedule a meeting``: create it on the chosen calendar ("Schedule for")."""
    app_deps = deps(request.app)
    form = read_form(posted_form(request))
    target: Target | None = None
    try:
        target = await _target(request, form.schedule_for, write=True)
        draft = form.draft(creating=True)
        await actions.create_event(app_deps, target, draft, None)
    except CalproxyError as exc:
        if target is not None:
            _refused(request, exc, target, write=True)
        form.refused(exc)
        return await week_page(request, form, status=exc.status)
    monday = week.monday_of(date.fromisoformat(form.values["date"]))
    return redirect(f"/portal/calendar/{target.owner.email}?start={monday}&done=scheduled")


async def _editable(request: web.Request) -> tuple[Target, VisibleEvent, str]:
    """The event to edit or delete, if the viewer may change it (a refusal is recorded
    as a refused write, the edit page being the first step of one)."""
    event_id = request.match_info["id"]
    target = await _target(request, request.match_info["user"], write=True)
    try:
        _, visible = await actions.find_event(deps(request.app), target, event_id)
        if not visible.can_edit:
            raise Forbidden("You may not change this event.")
    except Forbidden as exc:
        _refused(request, exc, target, True, event_id)
        raise
    return target, visible, visible.time_zone or "UTC"


async def edit_page(request: web.Request) -> web.Response:
    target, visible, zone_name = await _editable(request)
    return _edit(request, target, form_of_event(visible, zone_name, target.owner.email))


def _edit(request: web.Request, target: Target, form: EventForm,
          status: int = 200) -> web.Response:
    return render(request, "event_edit.html", {
        "owner": target.owner.email, "form": form, "action": request.path,
        "back": f"/portal/calendar/{target.owner.email}?start="
                f"{week.monday_of(date.fromisoformat(form.values['date']))}"
        if form.values.get("date") else f"/portal/calendar/{target.owner.email}",
    }, status=status)


async def save_edit(request: web.Request) -> web.Response:
    target, visible, _ = await _editable(request)
    form = read_form(posted_form(request))
    try:
        draft = form.draft(creating=False, was_private=visible.sensitivity.is_private)
        await actions.update_event(deps(request.app), target, visible.id, draft)
    except CalproxyError as exc:
        _refused(request, exc, target, True, visible.id)
        form.refused(exc)
        return _edit(request, target, form, status=exc.status)
    monday = week.monday_of(date.fromisoformat(form.values["date"]))
    return redirect(f"/portal/calendar/{target.owner.email}?start={monday}&done=saved")


async def delete(request: web.Request) -> web.Response:
    target, visible, zone_name = await _editable(request)
    monday = week.monday_of(to_utc(visible.start, visible.time_zone).astimezone(
        zone(zone_name)).date())
    back = f"/portal/calendar/{target.owner.email}?start={monday}"
    if not confirmed(posted_form(request)):
        return confirmation_page(
            request, title="Delete this meeting?",
            paragraphs=["It is deleted from the calendar it is on, for everyone."],
            action=request.path, fields={}, confirm_label="Delete", cancel_href=back)
    try:
        await actions.delete_event(deps(request.app), target, visible.id)
    except Forbidden as exc:
        _refused(request, exc, target, True, visible.id)
        raise
    return redirect(back + "&done=deleted")


