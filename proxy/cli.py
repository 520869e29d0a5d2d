"""The ``calproxy`` command line: serve, demo, and administration.

Administration commands print the created id or token alone on their last line, so
scripts can take ``| tail -n1``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from proxy.config import ConfigError, Settings, load_settings
from proxy.core.policy import apply_patch, load_policy, stored_form
from proxy.errors import CalproxyError
from proxy.logs import configure_logging
from proxy.store.records import Role

if TYPE_CHECKING:
    from proxy.store.sql import SqlStore

log = logging.getLogger("calproxy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="calproxy", description=__doc__)
    parser.add_argument("--config", help="a TOML file of settings (environment wins)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the server")
    demo = sub.add_parser("demo", help="run everything embedded, with seeded users")
    demo.add_argument("--port", type=int, default=None,
                      help="port to listen on (default CALPROXY_PORT, else 8080)")
    demo.add_argument("--once", action="store_true",
                      help="seed, print the session, run the sample requests and exit")
    account = sub.add_parser("account", help="accounts").add_subparsers(dest="action",
                                                                          required=True)
    create_account = account.add_parser("create", help="create an account")
    create_account.add_argument("--name", required=True)
    create_account.add_argument("--domain", action="append", default=[],
                                help="an allowed email domain (repeatable)")
    user = sub.add_parser("user", help="users").add_subparsers(dest="action", required=True)
    create_user = user.add_parser("create", help="create a user")
    create_user.add_argument("--account", required=True)
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--admin", action="store_true")
    sign_out = user.add_parser("sign-out", help="end every portal session of the user "
                               "(prints how many)")
    sign_out.add_argument("--email", required=True)
    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action",
                                                                     required=True)
    create_token = token.add_parser("create", help="issue an API token (printed once)")
    create_token.add_argument("--email", required=True)
    revoke_token = token.add_parser("revoke", help="revoke an API token")
    revoke_token.add_argument("--token", required=True)
    login_link = sub.add_parser("login-link", help="a one-time portal sign-in URL "
                                "(valid 10 minutes, printed once)")
    login_link.add_argument("--email", required=True)
    secret = sub.add_parser("secret", help="the secret key").add_subparsers(dest="action",
                                                                           required=True)
    secret.add_parser("rotate", help="re-encrypt every stored secret under the first key of "
                      "CALPROXY_SECRET_KEY; prints the number rewritten")
    return parser


class _Unreadable(CalproxyError):
    """Some stored secrets open with no key: reported after the count is printed."""

    def __init__(self, message: str, printed: str) -> None:
        super().__init__(message)
        self.printed = printed


async def _rotate(store: SqlStore) -> str:
    rotation = await store.rotate_secrets()
    print(f"re-encrypted {rotation.rewritten} stored secret(s) under the first key of "
          f"CALPROXY_SECRET_KEY ({rotation.current} already were)")
    if rotation.unreadable:
        raise _Unreadable(
            f"{rotation.unreadable} stored secret(s) open with no key in CALPROXY_SECRET_KEY "
            "and were left untouched: add the key they were encrypted with and run "
            "`calproxy secret rotate` again", str(rotation.rewritten))
    return str(rotation.rewritten)


async def _admin(settings: Settings, args: argparse.Namespace) -> str:
    """Run one administration command against the store; return what to print."""
    from proxy.store.sql import open_store

    store = await open_store(settings)
    try:
        if args.command == "account":
            policy = load_policy({})
            if args.domain:
                policy = apply_patch(policy, {"allowed_domains": {"value": args.domain}})
            return (await store.create_account(args.name, stored_form(policy))).id
        if args.command == "user" and args.action == "create":
            role = Role.ADMIN if args.admin else Role.MEMBER
            return (await store.create_user(args.account, args.email, role)).id
        if args.command == "token" and args.action == "revoke":
            if not await store.revoke_token(args.token):
                raise CalproxyError("no such token (unknown or already revoked)")
            return "revoked"
        if args.command == "secret":
            return await _rotate(store)
        user = await store.get_user_by_email(args.email.lower())
        if user is None:
            raise CalproxyError(f"no user with email {args.email}")
        if args.command == "user":  # sign-out: every browser of theirs, at once
            return str(await store.end_user_portal_sessions(user.id))
        if args.command == "login-link":
            from proxy.portal.signin import LINK_LIFETIME, login_link_url

            return login_link_url(settings, await store.create_login_link(user.id,
                                                                          LINK_LIFETIME))
        return await store.create_token(user.id)
    finally:
        await store.close()


def _serve(settings: Settings) -> None:
    from proxy.http.app import create_app
    from proxy.store.sql import open_store

    async def app_factory() -> web.Application:
        return create_app(settings, await open_store(settings), scheduler=True)

    web.run_app(app_factory(), host=settings.host, port=settings.port,
                access_log=None,  # the app's own access middleware logs each request
                print=lambda text: log.info("calproxy listening on %s", settings.base_url))


def demo_base(args: argparse.Namespace) -> Settings:
    """Host, port and public URL for the demo, read like ``serve`` reads them (environment
    over the TOML file; no secret needed); ``--port`` wins over ``CALPROXY_PORT``."""
    settings = load_settings(toml_path=args.config, require_secret=False)
    return settings if args.port is None else settings.with_overrides(port=args.port)


def _log_format(args: argparse.Namespace) -> str:
    """``CALPROXY_LOG_FORMAT`` before anything else runs (a bad value: text, and the
    configuration error is reported by the command itself)."""
    try:
        return load_settings(toml_path=args.config, require_secret=False).log_format
    except ConfigError:
        return "text"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log_format = _log_format(args)
    configure_logging(logging.INFO, log_format)
    try:
        if args.command == "demo":
            from proxy.demo import run_demo

            return run_demo(demo_base(args), once=args.once)
        settings = load_settings(toml_path=args.config)
        if args.command == "serve":
            _serve(settings)
            return 0
        result = asyncio.run(_admin(settings, args))
        print(result)
        return 0
    except ConfigError as exc:
        _complain(f"configuration error: {exc}", log_format)
        return 2
    except CalproxyError as exc:
        if isinstance(exc, _Unreadable):
            print(exc.printed)
        _complain(exc.message, log_format)
        return 1


def _complain(message: str, log_format: str) -> None:
    """A failure on stderr: a plain sentence, or a JSON line like every other."""
    if log_format == "json":
        log.error("%s", message)
    else:
        print(f"calproxy: {message}", file=sys.stderr)

