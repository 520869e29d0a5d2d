"""The Graph hook parser on the bodies Graph sends, and on the ones it never would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.notifications.push.graph_hook import MAX_ITEMS, parse_graph
from proxy.notifications.push.notices import Handshake, Kind, MalformedNotice, Notice

SUB_A, SUB_B = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", "0d8a3e5b-9e8c-4c7a-8d2f-3b1f2a9c6e11"


def change(sub: str = SUB_A, state: Any = "secret-a", kind: str = "updated") -> dict[str, Any]:
    path = "Users/6e1f/Events/AAMkAGI2"
    return {"subscriptionId": sub, "subscriptionExpirationDateTime":
            "2026-12-08T11:00:00.0000000Z", "clientState": state, "changeType": kind,
            "resource": path, "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
            "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "@odata.id": path,
                             "@odata.etag": 'W/"DwAAABYAAAA"', "id": "AAMkAGI2"}}


def lifecycle(sub: str = SUB_A, event: str = "missed", state: str = "secret-a") -> dict[str, Any]:
    return {"subscriptionId": sub, "subscriptionExpirationDateTime":
            "2026-12-08T11:00:00.0000000Z", "tenantId": "84bd", "clientState": state,
            "lifecycleEvent": event}


def parse(*items: Any, lifecycle_url: bool = False) -> list[Notice]:
    parsed = parse_graph({}, json.dumps({"value": list(items)}).encode(), lifecycle_url)
    assert isinstance(parsed, list)
    return parsed


@pytest.mark.parametrize("lifecycle_url", [False, True])
def test_the_handshake_on_both_urls_answers_the_decoded_token(lifecycle_url: bool) -> None:
    token = "Validation: Testing client application reachability +/%25 ü"
    parsed = parse_graph({"validationToken": token}, b"", lifecycle_url)
    assert parsed == Handshake(token)


@pytest.mark.parametrize("token", ["", "x" * 2000])
def test_an_empty_or_huge_token_is_refused(token: str) -> None:
    with pytest.raises(MalformedNotice):
        parse_graph({"validationToken": token}, b"", False)


def test_a_batch_across_subscriptions_with_lifecycle_items_mixed_in() -> None:
    notices = parse(change(SUB_A), change(SUB_B, "secret-b", "created"),
                    lifecycle(SUB_B, "reauthorizationRequired", "secret-b"),
                    lifecycle(SUB_A, "subscriptionRemoved"))
    assert notices == [Notice(SUB_A, "secret-a", Kind.CHANGE),
                       Notice(SUB_B, "secret-b", Kind.CHANGE),
                       Notice(SUB_B, "secret-b", Kind.REAUTHORIZE),
                       Notice(SUB_A, "secret-a", Kind.REMOVED)]


def test_duplicates_become_one_notice() -> None:
    notices = parse(change(), change(kind="created"), change(kind="deleted"), change(),
                    lifecycle(), lifecycle())
    assert notices == [Notice(SUB_A, "secret-a", Kind.CHANGE),
                       Notice(SUB_A, "secret-a", Kind.MISSED)]


def test_a_client_state_longer_than_graph_allows_keeps_no_secret() -> None:
    assert parse(change(state="s" * 129)) == [Notice(SUB_A, None, Kind.CHANGE)]
    assert parse(change(state="s" * 128)) == [Notice(SUB_A, "s" * 128, Kind.CHANGE)]
    assert parse(change(state=None)) == [Notice(SUB_A, None, Kind.CHANGE)]


@pytest.mark.parametrize("odd", [
    7, "text", {"changeType": "updated"}, change(sub=""), change(sub="a\u0000b"),
    change(sub="x" * 300), change(state=5), change(kind="moved"),
    {**lifecycle(), "changeType": "updated"}, lifecycle(event="unheard"),
])
def test_an_odd_item_is_skipped_and_the_rest_acted_on(odd: Any) -> None:
    assert parse(odd, change(SUB_B, "secret-b")) == [Notice(SUB_B, "secret-b", Kind.CHANGE)]
    with pytest.raises(MalformedNotice):
        parse(odd)


@pytest.mark.parametrize("body", [
    b"", b"not json", b"\xff\xfe", b"[]", b'"value"', b'{"value": {}}', b'{"value": []}',
    b'{"items": [1]}', json.dumps({"value": [change()] * (MAX_ITEMS + 1)}).encode(),
])
def test_a_malformed_envelope_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedNotice) as raised:
        parse_graph({}, body, False)
    assert raised.value.status == 400 and raised.value.code == "invalid_notification"
