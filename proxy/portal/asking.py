"""Asking first: Lock, Disconnect, Remove, Revoke and Delete confirm before they act.

With JavaScript, ``app.js`` opens a ``<dialog>`` and, on the confirming button, submits the
form with ``confirmed=yes``. Without it the form arrives unconfirmed and the handler
answers with :func:`confirmation_page`: the same question with the confirming button and
"Cancel". Nothing changes until a confirmed POST arrives.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from multidict import MultiDictProxy

from proxy.portal.web import render

CONFIRMED = "confirmed"


def confirmed(form: MultiDictProxy[str]) -> bool:
    return form.get(CONFIRMED) == "yes"


def confirmation_page(request: web.Request, *, title: str, paragraphs: list[str],
                      action: str, fields: Mapping[str, str], confirm_label: str,
                      cancel_href: str) -> web.Response:
    """The no-JavaScript confirmation: a page whose form repeats ``fields`` confirmed."""
    return render(request, "confirm.html", {
        "title": title, "paragraphs": paragraphs, "action": action,
        "fields": dict(fields), "confirm_label": confirm_label, "cancel_href": cancel_href})
