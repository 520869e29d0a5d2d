"""ICS feeds: the pure renderer of a calendar's secret iCalendar URL.

A feed is what :func:`~proxy.redaction.redact` returned for the feed's audience
(:func:`audience_for`), written as RFC 5545 for Outlook, Google Calendar, Apple Calendar
and Thunderbird. :func:`render_feed` accepts nothing but
:class:`~proxy.redaction.VisibleEvent` values, so the type checker proves a feed cannot
bypass redaction. :mod:`~proxy.ics.plan` decides which VEVENTs a feed holds (series,
overrides, EXDATEs, UIDs), :mod:`~proxy.ics.fields` what each property says,
:mod:`~proxy.ics.writer` how values are escaped and folded, and :mod:`~proxy.ics.timezones`
keeps one VTIMEZONE per zone. :mod:`~proxy.ics.reference` writes the same plan with
``icalendar``'s component API: tests and the benchmark hold the fast writer against it.
No I/O happens here; HTTP, caching and ETags belong to the HTTP layer.
"""

from proxy.ics.feed import audience_for, redact_for_feed, render_feed

__all__ = ["audience_for", "redact_for_feed", "render_feed"]
