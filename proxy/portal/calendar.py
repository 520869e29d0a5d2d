"""The week view of a calendar, and scheduling on it (DESIGN §9).

What the viewer sees comes from the read path of the JSON API: the owner and delegates get
the events ``GET /v1/users/{user}/events`` would answer (redacted for them), a colleague
gets the intervals of ``/freebusy`` titled only by show-as, an outsider a 404 page. Writes
go through :mod:`proxy.actions.calendar`, the code behind ``POST``, ``PATCH`` and
``DELETE .../events``.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

from aiohttp import web

from proxy.actions import calendar as actions
from proxy.actions.delegates import delegators
from proxy.actions.deps import Deps
from proxy.core.access import Relation
from proxy.core.timeutil import to_utc, zone
from proxy.errors import BadRequest, CalproxyError, Conflict, Forbidden
from proxy.http.keys import deps
from proxy.portal import week
from proxy.portal.asking import confirmation_page, confirmed
from proxy.portal.event_form import EventForm, blank_form, form_of_event, read_form
from proxy.portal.web import portal_user, posted_form, redirect, render
from proxy.redaction import VisibleEvent
from proxy.render.freebusy import freebusy_intervals
from proxy.store.records import User

NOTICES = {"scheduled": "Meeting scheduled.", "saved": "Meeting saved.",
           "deleted": "Meeting deleted."}


def _start_of(request: web.Request, zone_name: str) -> date:
    raw = request.query.get("start")
    if raw is None:
        return week.monday_of(datetime.now(zone(zone_name)).date())
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("The start of the week must be a date such as 2026-11-30.") from None


async def owner_zone(app_deps: Deps, owner: User) -> str:
    """The owner's time zone: their primary calendar's (UTC when unknown)."""
    with contextlib.suppress(CalproxyError):
        for _, record in await app_deps.calendars.calendars(owner.id):
            if record.is_primary and record.time_zone:
                return record.time_zone
    return "UTC"


async def _blocks(app_deps: Deps, target: actions.Target, start: datetime,
                  end: datetime) -> tuple[list[week.Block], list[tuple[date, date, week.Block]]]:
    """Timed and all-day blocks of the window, as the viewer may see them (§3)."""
    if target.relation is Relation.COLLEAGUE:
        busy = await actions.visible_busy(app_deps, target, start, end)
        return [week.busy_block(s, e, k) for s, e, k in freebusy_intervals(busy)], []
    visible = await actions.visible_events(app_deps, target, start, end)
    timed = [week.block_of(v) for v in visible if not v.all_day]
    all_day = [(_day(v.start), _day(v.end), week.block_of(v)) for v in visible if v.all_day]
    return timed, all_day


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


async def schedule_for_choices(app_deps: Deps, viewer: User) -> list[str]:
    """The viewer and every owner who lets the viewer schedule for them."""
    return [viewer.email] + [owner.email for d, owner in await delegators(app_deps, viewer)
                             if d.can_schedule]


async def week_page(request: web.Request, form: EventForm | None = None,
                    status: int = 200) -> web.Response:
    viewer = portal_user(request)
    app_deps = deps(request.app)
    target = await actions.resolve_target(app_deps.principals, viewer, request.match_info["user"])
    zone_name = await owner_zone(app_deps, target.owner)
    first = _start_of(request, zone_name)
    start, end = week.week_bounds(first, zone(zone_name))
    problem: str | None = None
    timed: list[week.Block] = []
    all_day: list[tuple[date, date, week.Block]] = []
    try:
        timed, all_day = await _blocks(app_deps, target, start, end)
    except (Conflict, Forbidden) as exc:
        problem = exc.message
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
    }, status=status)


async def schedule(request: web.Request) -> web.Response:
    """``Schedule a meeting``: create it on the chosen calendar ("Schedule for")."""
    viewer = portal_user(request)
    app_deps = deps(request.app)
    form = read_form(posted_form(request))
    try:
        target = await actions.resolve_target(app_deps.principals, viewer, form.schedule_for)
        draft = form.draft(creating=True)
        await actions.create_event(app_deps, target, draft, None)
    except CalproxyError as exc:
        form.refused(exc)
        return await week_page(request, form, status=exc.status)
    monday = week.monday_of(date.fromisoformat(form.values["date"]))
    return redirect(f"/portal/calendar/{target.owner.email}?start={monday}&done=scheduled")


async def _editable(request: web.Request) -> tuple[actions.Target, VisibleEvent, str]:
    viewer = portal_user(request)
    app_deps = deps(request.app)
    target = await actions.resolve_target(app_deps.principals, viewer, request.match_info["user"])
    _, visible = await actions.find_event(app_deps, target, request.match_info["id"])
    if not visible.can_edit:
        raise Forbidden("You may not change this event.")
    return target, visible, await owner_zone(app_deps, target.owner)


async def edit_page(request: web.Request) -> web.Response:
    target, visible, zone_name = await _editable(request)
    return _edit(request, target, form_of_event(visible, zone_name, target.owner.email))


def _edit(request: web.Request, target: actions.Target, form: EventForm,
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
    await actions.delete_event(deps(request.app), target, visible.id)
    return redirect(back + "&done=deleted")


