"""Graph contacts behind the API: delta rounds keep the mirror exact (issue 9 item 10)."""

from __future__ import annotations

from tests.api.conftest import Cloud

EXEC = "exec@acme.example"


async def _names(cloud: Cloud) -> list[str]:
    status, body, _ = await cloud.live.call("exec", "GET", "/v1/users/me/contacts")
    assert status == 200, body
    return sorted(c["display_name"] for c in body["contacts"])


async def test_deletions_leave_the_mirror_and_an_expired_token_recovers(cloud: Cloud) -> None:
    g = cloud.microsoft.graph
    folder = g.add_contact_folder(EXEC, "Board")
    ada = g.add_contact(EXEC, displayName="Ada Lovelace")
    grace = g.add_contact(EXEC, folder, displayName="Grace Hopper")
    g.add_contact(EXEC, folder, displayName="Alan Turing")
    await cloud.live.connect("exec", "graph")
    assert await _names(cloud) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]

    before = len(g.requests)
    assert await _names(cloud) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    contact_calls = [p for _, p in g.requests[before:] if "contact" in p.lower()]
    assert len(contact_calls) == 2 and all("$deltatoken" in p for p in contact_calls)

    g.delete_contact(EXEC, grace)  # reported by delta as @removed
    assert await _names(cloud) == ["Ada Lovelace", "Alan Turing"]

    g.expire_delta_tokens()
    g.delete_contact(EXEC, ada)  # never reported: the full round reconciles it away
    before = len(g.requests)
    assert await _names(cloud) == ["Alan Turing"]
    paths = [p for _, p in g.requests[before:] if "contact" in p.lower()]
    assert "$deltatoken" in paths[0]  # answered 410 SyncStateNotFound
    assert paths[1] == "/v1.0/me/contactFolders"  # then a full round from the top
    assert sum(p.endswith("/contacts/delta()") for p in paths) == 2
