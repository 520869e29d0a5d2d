"""``calproxy login-link --email E`` prints the URL alone on its last line; only its hash
is stored."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import last_line, run


def test_login_link_prints_a_portal_url(tmp_path: Path) -> None:
    env = {"CALPROXY_PUBLIC_URL": "https://cal.acme.example"}
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme"))
    last_line(run(tmp_path, "user", "create", "--account", account, "--email", "ada@acme.example"))
    url = last_line(run(tmp_path, "login-link", "--email", "Ada@acme.example", env=env))
    prefix = "https://cal.acme.example/portal/login/"
    assert url.startswith(prefix) and len(url) - len(prefix) >= 43
    assert url[len(prefix):] not in (tmp_path / "cli.sqlite3").read_bytes().decode("latin-1")
    unknown = run(tmp_path, "login-link", "--email", "nobody@acme.example", env=env)
    assert unknown.returncode == 1 and "no user" in unknown.stderr


def test_user_sign_out_ends_every_session(tmp_path: Path) -> None:
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme"))
    last_line(run(tmp_path, "user", "create", "--account", account, "--email", "ada@acme.example"))
    assert last_line(run(tmp_path, "user", "sign-out", "--email", "ada@acme.example")) == "0"
    unknown = run(tmp_path, "user", "sign-out", "--email", "nobody@acme.example")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
