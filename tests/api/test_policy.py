"""Every rule of DESIGN §2, driven through the HTTP API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.conftest import Cloud, Live
from tests.api.helpers import events_of, seed


async def patch(live: Live, settings: dict[str, object], who: str = "admin") -> tuple[int, object]:
    status, body, _ = await live.call(who, "PATCH", "/v1/account/settings", json=settings)
    return status, body


async def sign_in(live: Live, who: str, version: str = "5.4.1") -> object:
    status, body, _ = await live.call(who, "POST", "/v1/me/sign-in",
                                      json={"client_version": version})
    assert status == 200, body
    return body["prompt"]


async def status_of(live: Live, who: str) -> tuple[str, str | None]:
    _, body, _ = await live.call(who, "GET", "/v1/me/integrations")
    [integration] = body["integrations"]
    return integration["status"], integration["reason"]


async def test_defaults_and_admin_only_patch(world: Live) -> None:
    status, body, _ = await world.call("exec", "GET", "/v1/account/settings")
    assert status == 200
    assert body["permissions"] == {"value": {"calendar": "write", "contacts": "read"},
                                   "locked": False}
    assert body["services"]["value"] == ["graph", "ews_o365", "exchange_ews",
                                         "exchange_mapi", "google"]
    assert (await patch(world, {"enabled": {"value": False}}, who="exec"))[0] == 403
    assert (await world.call("exec", "GET", "/v1/account/users"))[0] == 403
    status, users, _ = await world.call("admin", "GET", "/v1/account/users")
    assert status == 200 and len(users["users"]) == 5


async def test_rule1_unlocked_user_chooses_up_to_the_account(world: Live) -> None:
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations", json={
        "service": "graph", "permissions": {"calendar": "read", "contacts": "none"}})
    assert status == 201
    scopes = parse_qs(urlsplit(body["authorize_url"]).query)["scope"][0].split()
    assert sorted(scopes) == ["Calendars.Read", "User.Read", "offline_access"]
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations", json={
        "service": "graph", "permissions": {"calendar": "write", "contacts": "write"}})
    assert status == 403 and body["error"]["code"] == "permissions_not_allowed"


async def test_rule1_locked_value_is_forced(world: Live) -> None:
    await patch(world, {"permissions": {"value": {"calendar": "read", "contacts": "none"},
                                        "locked": True}})
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations", json={
        "service": "graph", "permissions": {"calendar": "write", "contacts": "read"}})
    assert status == 201
    scopes = parse_qs(urlsplit(body["authorize_url"]).query)["scope"][0].split()
    assert "Calendars.Read" in scopes and "Calendars.ReadWrite" not in scopes
    assert not any(s.startswith("Contacts") for s in scopes)


async def test_rule2_locking_suspends_differing_integrations(world: Live) -> None:
    seed(world, title="Board")
    await patch(world, {"permissions": {"value": {"calendar": "read", "contacts": "read"},
                                        "locked": True}})
    assert await status_of(world, "exec") == ("suspended", "policy_changed")
    status, body = await events_of(world, "exec")
    assert status == 409 and body["error"]["code"] == "reintegration_required"
    prompt = await sign_in(world, "exec")
    assert prompt["reason"] == "policy_changed" and prompt["service"] == "graph"
    assert prompt["authorize_url"].startswith(world.settings.ms_login_url)
    # re-integrating restores service (nothing was deleted upstream)
    await world.connect("exec")
    assert await status_of(world, "exec") == ("connected", None)
    assert (await events_of(world, "exec"))[1]["events"][0]["title"] == "Board"


async def test_rule2_locking_services_suspends_other_services(world: Live) -> None:
    await patch(world, {"services": {"value": ["google"], "locked": True}})
    assert await status_of(world, "exec") == ("suspended", "policy_changed")
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations",
                                       json={"service": "graph"})
    assert status == 403 and body["error"]["code"] == "service_not_allowed"


async def test_rule3_disabling_suspends_everything_and_refuses_new(world: Live) -> None:
    await patch(world, {"enabled": {"value": False}})
    assert await status_of(world, "exec") == ("suspended", "integration_disabled")
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations",
                                       json={"service": "graph"})
    assert status == 403 and body["error"]["code"] == "integration_disabled"
    assert (await events_of(world, "exec"))[0] == 409
    await patch(world, {"enabled": {"value": True}})
    assert await status_of(world, "exec") == ("connected", None)


async def test_rule4_domains(world: Live) -> None:
    status, body = await patch(world, {"allowed_domains": {"value": "Acme.example, other.org"}})
    assert status == 200
    assert body["allowed_domains"]["value"] == ["acme.example", "other.org"]
    assert await status_of(world, "exec") == ("connected", None)
    await patch(world, {"allowed_domains": {"value": ["other.org"]}})
    assert await status_of(world, "exec") == ("suspended", "domain_not_allowed")
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations",
                                       json={"service": "graph"})
    assert status == 403 and body["error"]["code"] == "domain_not_allowed"
    prompt = await sign_in(world, "exec")
    assert prompt["reason"] == "domain_not_allowed" and prompt["authorize_url"] is None
    await patch(world, {"allowed_domains": {"value": []}})
    assert await status_of(world, "exec") == ("connected", None)


async def test_rule5_sign_in_prompts(world: Live) -> None:
    assert await sign_in(world, "colleague") is None  # policy off
    await patch(world, {"prompt_o365_on_sign_in": {"value": "first_sign_in"}})
    prompt = await sign_in(world, "assistant")
    assert prompt["reason"] == "first_sign_in" and prompt["service"] == "graph"
    assert "code_challenge=" in prompt["authorize_url"]
    assert await sign_in(world, "assistant") is None  # only the first sign-in
    await patch(world, {"prompt_o365_on_sign_in": {"value": "every_sign_in"}})
    assert (await sign_in(world, "assistant"))["reason"] == "not_integrated"
    assert (await sign_in(world, "assistant"))["reason"] == "not_integrated"
    assert await sign_in(world, "exec") is None  # integrated
    assert await sign_in(world, "chief", "5.2.1") is None  # old client
    assert await sign_in(world, "chief", "5.10.0") is not None  # numeric comparison
    status, body, _ = await world.call("chief", "POST", "/v1/me/sign-in",
                                       json={"client_version": "five"})
    assert status == 400 and "client_version" in body["error"]["message"]


async def test_rule6_mapi_is_client_side_only(world: Live) -> None:
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations",
                                       json={"service": "exchange_mapi"})
    assert status == 422 and body["error"]["code"] == "service_client_side_only"


async def test_rule7_hybrid_mailbox_is_refused_at_callback(world: Live) -> None:
    from proxy.errors import Unprocessable

    _status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations",
                                       json={"service": "graph"})
    world.backend.fail_next = Unprocessable("hybrid mailbox; use exchange_ews",
                                            "hybrid_not_supported")
    async with world.http.get(body["authorize_url"]) as response:
        answer = await response.json()
    assert response.status == 422 and answer["error"]["code"] == "hybrid_not_supported"
    assert await status_of(world, "colleague") == ("error", "hybrid_not_supported")


async def test_rule8_ews_hosts(world: Live) -> None:
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations", json={
        "service": "exchange_ews", "ews_url": "https://mail.acme.example/EWS/Exchange.asmx",
        "username": "c", "password": "p"})
    assert status == 422 and body["error"]["code"] == "ews_host_not_allowed"
    status, body, _ = await world.call("colleague", "POST", "/v1/me/integrations", json={
        "service": "ews_o365"})
    assert status == 201 and any("graph" in w for w in body["warnings"])
    assert any("full access" in w for w in body["warnings"])


async def test_unknown_and_invalid_settings_are_named(world: Live) -> None:
    status, body = await patch(world, {"colour": {"value": 1}})
    assert status == 400 and "colour" in body["error"]["message"]
    status, body = await patch(world, {"services": {"value": ["graph", "lotus"]}})
    assert status == 400 and "services" in body["error"]["message"]
    status, body = await patch(world, {"permissions": {"value": {"calendar": "all"}}})
    assert status == 400 and "permissions" in body["error"]["message"]
    status, body = await patch(world, {"enabled": {"locked": "yes"}})
    assert status == 400 and "enabled.locked" in body["error"]["message"]


async def test_rule5_prompt_falls_back_to_ews_o365(world: Live) -> None:
    await patch(world, {"prompt_o365_on_sign_in": {"value": "every_sign_in"},
                        "services": {"value": ["ews_o365", "google"]}})
    prompt = await sign_in(world, "colleague")
    assert prompt["service"] == "ews_o365" and "EWS.AccessAsUser.All" in prompt["authorize_url"]
    _, listed, _ = await world.call("colleague", "GET", "/v1/me/integrations")
    [pending] = listed["integrations"]
    assert pending["status"] == "pending"
    assert pending["ews_url"] == "https://outlook.office365.com/EWS/Exchange.asmx"
    assert await sign_in(world, "colleague") is not None  # still prompted, no second record
    _, listed, _ = await world.call("colleague", "GET", "/v1/me/integrations")
    assert len(listed["integrations"]) == 1


async def test_rule8_plain_http_is_refused_unless_allowed(world: Live) -> None:
    await patch(world, {"ews_hosts": {"value": ["mail.acme.example"]}})
    body = {"service": "exchange_ews", "username": "c", "password": "p",
            "ews_url": "http://mail.acme.example/EWS/Exchange.asmx"}
    status, answer, _ = await world.call("colleague", "POST", "/v1/me/integrations", json=body)
    assert status == 422 and "https" in answer["error"]["message"]
    body["ews_url"] = "https://mail.acme.example/EWS/Exchange.asmx"
    status, answer, _ = await world.call("colleague", "POST", "/v1/me/integrations", json=body)
    assert status == 201 and answer["status"] == "connected"
    assert any("full access" in w for w in answer["warnings"])


async def test_odd_client_versions_are_refused_cleanly(world: Live) -> None:
    for version in ("5.²", "٣.٤", "5..1", "1" * 40, "."):
        status, body, _ = await world.call("chief", "POST", "/v1/me/sign-in",
                                           json={"client_version": version})
        assert status == 400 and "client_version" in body["error"]["message"], version


@pytest.mark.parametrize("mode", ["off", "every_sign_in"])
async def test_rule2_locking_services_away_prompts_for_an_allowed_one(cloud: Cloud,
                                                                      mode: str) -> None:
    """A user on Graph; the admin locks services to Google: the next sign-in prompts with
    reason policy_changed for Google, with its authorize URL, whatever
    prompt_o365_on_sign_in says; following it connects Google."""
    live = cloud.live
    await live.connect("exec", "graph")
    assert (await patch(live, {"prompt_o365_on_sign_in": {"value": mode}}))[0] == 200
    assert (await patch(live, {"services": {"value": ["google"], "locked": True}}))[0] == 200
    assert await status_of(live, "exec") == ("suspended", "policy_changed")
    prompt = await sign_in(live, "exec")
    assert prompt is not None and (prompt["service"], prompt["reason"]) == (
        "google", "policy_changed")
    assert prompt["authorize_url"].startswith(live.settings.google_auth_url + "?")
    async with live.http.get(prompt["authorize_url"]) as response:
        assert response.status == 200, await response.text()
    _, listed, _ = await live.call("exec", "GET", "/v1/me/integrations")
    assert sorted((i["service"], i["status"]) for i in listed["integrations"]) == [
        ("google", "connected"), ("graph", "suspended")]
