"""Finding online-meeting links in free text (locations, bodies)."""

from __future__ import annotations

import re

from proxy.core.model import Conference, ConferenceProvider

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+", re.IGNORECASE)
_KINDS: tuple[tuple[ConferenceProvider, re.Pattern[str]], ...] = (
    (ConferenceProvider.ZOOM, re.compile(r"^https?://([\w-]+\.)*zoom(gov)?\.us/", re.I)),
    (ConferenceProvider.TEAMS, re.compile(
        r"^https?://(teams\.microsoft\.com|teams\.live\.com)/", re.I)),
    (ConferenceProvider.MEET, re.compile(r"^https?://meet\.google\.com/", re.I)),
)


def conference_kind(url: str) -> ConferenceProvider:
    for kind, pattern in _KINDS:
        if pattern.match(url):
            return kind
    return ConferenceProvider.OTHER


def find_meeting_link(*texts: str | None) -> Conference | None:
    """The first Zoom, Teams or Meet URL in ``texts``, in order; other URLs are ignored."""
    for text in texts:
        for match in _URL.finditer(text or ""):
            url = match.group(0).rstrip(".,;:!?")
            kind = conference_kind(url)
            if kind is not ConferenceProvider.OTHER:
                return Conference(kind, url)
    return None


def strip_urls(text: str) -> str:
    """``text`` with every URL removed (feeds at ``limited`` detail show locations so)."""
    return re.sub(r"\s{2,}", " ", _URL.sub("", text)).strip(" ,;")
