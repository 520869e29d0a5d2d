"""The Google hook's header parser: what it believes enough to look up, and what is 400."""

from __future__ import annotations

import pytest

from proxy.notifications.push.google_hook import parse_google
from proxy.notifications.push.notices import Kind, MalformedNotice

GOOD = {"X-Goog-Channel-ID": "0f3c9a", "X-Goog-Channel-Token": "secret",
        "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "4711",
        "X-Goog-Resource-ID": "ret08u3rv24htgh289g",
        "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/x/events",
        "X-Goog-Channel-Expiration": "Tue, 08 Dec 2026 12:00:00 GMT"}


def test_a_change_message() -> None:
    notice = parse_google(GOOD)
    assert (notice.upstream_id, notice.secret, notice.kind, notice.resource_id) == (
        "0f3c9a", "secret", Kind.CHANGE, "ret08u3rv24htgh289g")


def test_sync_and_not_exists() -> None:
    sync = parse_google({**GOOD, "X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "1"})
    assert sync.kind is Kind.SYNC
    gone = parse_google({**GOOD, "X-Goog-Resource-State": "not_exists"})
    assert gone.kind is Kind.CHANGE


@pytest.mark.parametrize("token", [None, "", "t" * 257])
def test_a_token_google_could_not_send_is_no_secret(token: str | None) -> None:
    headers = {k: v for k, v in GOOD.items() if k != "X-Goog-Channel-Token"}
    if token is not None:
        headers["X-Goog-Channel-Token"] = token
    assert parse_google(headers).secret is None


def test_the_resource_id_and_uri_are_optional() -> None:
    headers = {k: v for k, v in GOOD.items() if not k.startswith("X-Goog-Resource-I")
               and k != "X-Goog-Resource-URI"}
    assert parse_google(headers).resource_id is None


@pytest.mark.parametrize("change", [
    {"X-Goog-Channel-ID": None},
    {"X-Goog-Channel-ID": ""},
    {"X-Goog-Channel-ID": "c" * 65},
    {"X-Goog-Channel-ID": "tab\there"},
    {"X-Goog-Resource-State": None},
    {"X-Goog-Resource-State": "updated"},
    {"X-Goog-Message-Number": None},
    {"X-Goog-Message-Number": "-1"},
    {"X-Goog-Message-Number": "٣"},
    {"X-Goog-Message-Number": "9" * 21},
    {"X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "2"},
])
def test_what_google_never_sends_is_malformed(change: dict[str, str | None]) -> None:
    headers = dict(GOOD)
    for key, value in change.items():
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    with pytest.raises(MalformedNotice) as caught:
        parse_google(headers)
    assert caught.value.status == 400 and caught.value.code == "invalid_notification"
