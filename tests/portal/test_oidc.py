"""Sign in with Microsoft and Google over real HTTP against the identity emulators: the
whole code flow, and every forged or stale ID token refused with nothing changed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.config import Settings
from proxy.http.app import create_app
from proxy.portal.oidc_flow import KEYS
from proxy.providers.memory import MemoryBackend
from proxy.store.records import Role
from proxy.store.sql import SqlStore, open_store
from tests.api.conftest import CLIENT_ID, CLIENT_SECRET, free_port, memory_registry
from tests.fixtures.google_emulator import GoogleEmulator
from tests.fixtures.ms_identity import MicrosoftIdentity
from tests.fixtures.oidc_keys import SigningKeys


@dataclass
class Idps:
    url: str
    store: SqlStore
    microsoft: MicrosoftIdentity
    google: GoogleEmulator
    http: aiohttp.ClientSession
    app: web.Application

    async def sign_in(self, provider: str) -> tuple[int, str, str]:
        """Click "Sign in with ..." and follow the redirects: (status, location, page)."""
        async with self.http.get(self.url + "/portal/sign-in") as page:
            html = await page.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token and f"Sign in with {provider.title()}" in html
        async with self.http.post(self.url + f"/portal/sign-in/{provider}",
                                  data={"csrf_token": token.group(1)},
                                  headers={"Sec-Fetch-Site": "same-origin"},
                                  allow_redirects=False) as started:
            assert started.status == 303
            authorize = started.headers["Location"]
        async with self.http.get(authorize, allow_redirects=False) as idp:
            assert idp.status == 302, await idp.text()
            callback = idp.headers["Location"]
        async with self.http.get(callback, allow_redirects=False) as done:
            return done.status, done.headers.get("Location", ""), await done.text()

    async def home(self) -> str:
        async with self.http.get(self.url + "/portal/", allow_redirects=False) as page:
            return await page.text() if page.status == 200 else ""


@pytest.fixture
async def idps(tmp_path: Path) -> AsyncIterator[Idps]:
    microsoft, google = MicrosoftIdentity(CLIENT_ID, CLIENT_SECRET), GoogleEmulator()
    ms_server = TestServer(microsoft.app(), host="127.0.0.1")
    google_server = TestServer(google.app(), host="127.0.0.1")
    await ms_server.start_server()
    await google_server.start_server()
    port = free_port()
    google_url = f"http://127.0.0.1:{google_server.port}"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'oidc.sqlite3'}", port=port,
        secret_key="oidc-test-key", ms_login_url=f"http://127.0.0.1:{ms_server.port}/common",
        ms_client_id=CLIENT_ID, ms_client_secret=CLIENT_SECRET,
        **GoogleEmulator.settings_overrides(google_url))
    store = await open_store(settings)
    account = await store.create_account("Acme", {})
    for email in ("exec@acme.example", "colleague@acme.example"):
        await store.create_user(account.id, email, Role.MEMBER)
    microsoft.add_user("exec@acme.example")
    microsoft.add_user("stranger@acme.example")
    google.add_user("colleague@acme.example", "Colleague")
    google.default_user = "colleague@acme.example"
    app = create_app(settings, store, memory_registry(MemoryBackend()))
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Idps(f"http://127.0.0.1:{port}", store, microsoft, google, http, app)
    await server.close()
    await ms_server.close()
    await google_server.close()


async def test_sign_in_with_microsoft_binds_the_identity(idps: Idps) -> None:
    status, location, _ = await idps.sign_in("microsoft")
    assert (status, location) == (303, "/portal/")
    assert "exec@acme.example" in await idps.home()
    user = await idps.store.get_user_by_email("exec@acme.example")
    assert user is not None and user.sign_in_count == 1  # recorded like the API's
    [(issuer, _)] = await idps.store.identities_of(user.id)
    assert issuer.endswith(f"/{idps.microsoft.tenant_id}/v2.0")


async def test_sign_in_with_google(idps: Idps) -> None:
    status, location, _ = await idps.sign_in("google")
    assert (status, location) == (303, "/portal/")
    assert "colleague@acme.example" in await idps.home()


async def test_an_unknown_email_is_told_and_nothing_is_created(idps: Idps) -> None:
    idps.microsoft.default_user = "stranger@acme.example"
    status, _, page = await idps.sign_in("microsoft")
    assert status == 403 and "stranger@acme.example" in page and "nothing was created" in page
    assert await idps.store.get_user_by_email("stranger@acme.example") is None
    assert await idps.home() == ""


@pytest.mark.parametrize(("provider", "forge", "words"), [
    ("microsoft", {"nonce": "not-this-flow"}, "nonce"),
    ("microsoft", {"aud": "another-app"}, "another application"),
    ("microsoft", {"iss": "https://login.microsoftonline.com/other-tenant/v2.0"}, "issuer"),
    ("microsoft", {"tid": "other-tenant"}, "issuer"),  # iss of one tenant, tid of another
    ("microsoft", {"exp": 1_000_000_000}, "expired"),
    ("microsoft", {"nonce": None}, "nonce"),
    ("google", {"iss": "https://evil.example"}, "issuer"),
    ("google", {"email_verified": False}, "verified email"),
    ("google", {"aud": "another-app"}, "another application"),
])
async def test_forged_id_tokens_are_refused(idps: Idps, provider: str,
                                            forge: dict[str, object], words: str) -> None:
    emulator = idps.microsoft if provider == "microsoft" else idps.google
    emulator.signing.forge = forge
    status, _, page = await idps.sign_in(provider)
    assert status == 403 and words in page and "Traceback" not in page
    assert await idps.home() == ""  # not signed in
    for email in ("exec@acme.example", "colleague@acme.example"):
        user = await idps.store.get_user_by_email(email)
        assert user is not None and await idps.store.identities_of(user.id) == []


async def test_a_token_signed_with_an_unpublished_key_is_refused(idps: Idps) -> None:
    idps.microsoft.signing.sign_with_stranger_key = True
    status, _, page = await idps.sign_in("microsoft")
    assert status == 403 and "did not verify" in page


async def test_an_unsigned_token_is_refused(idps: Idps) -> None:
    idps.google.signing.unsigned = True  # alg "none": never in the fixed algorithm list
    status, _, page = await idps.sign_in("google")
    assert status == 403 and "did not verify" in page


async def test_keys_are_cached_and_a_rotated_key_is_fetched(idps: Idps) -> None:
    assert (await idps.sign_in("microsoft"))[0] == 303
    idps.http.cookie_jar.clear()
    idps.microsoft.signing = SigningKeys()  # the provider rotates its key (a new kid)
    status, _, page = await idps.sign_in("microsoft")
    assert status == 403 and "does not publish" in page  # just fetched: not again so soon
    idps.app[KEYS].refetch_seconds = 0
    idps.http.cookie_jar.clear()
    assert (await idps.sign_in("microsoft"))[0] == 303  # the new key set is fetched


async def test_the_callback_in_another_browser_is_refused(idps: Idps) -> None:
    async with idps.http.get(idps.url + "/portal/sign-in") as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert token
    async with idps.http.post(idps.url + "/portal/sign-in/microsoft",
                              data={"csrf_token": token.group(1)},
                              headers={"Sec-Fetch-Site": "same-origin"},
                              allow_redirects=False) as started:
        authorize = started.headers["Location"]
    async with idps.http.get(authorize, allow_redirects=False) as idp:
        callback = idp.headers["Location"]
    async with aiohttp.ClientSession() as other, \
            other.get(callback, allow_redirects=False) as stolen:
        assert stolen.status == 403 and "another browser" in await stolen.text()
    async with idps.http.get(callback, allow_redirects=False) as late:
        assert late.status >= 400  # the flow was spent by the stolen attempt
    assert await idps.home() == ""


async def test_a_bound_user_cannot_be_taken_by_another_tenant_account(idps: Idps) -> None:
    assert (await idps.sign_in("microsoft"))[0] == 303
    idps.http.cookie_jar.clear()
    idps.microsoft.tenants["exec@acme.example"] = "attacker-tenant"
    idps.microsoft.subjects.clear()
    status, _, page = await idps.sign_in("microsoft")
    assert status == 403 and "another Microsoft account" in page
