"""The command line: administration commands print the created id or token last."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CALPROXY_")}
    base.update({"CALPROXY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
                 "CALPROXY_SECRET_KEY": "cli-test-key"})
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "proxy", *args], capture_output=True,
                          text=True, env=base, timeout=60, check=False)


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_account_user_token(tmp_path: Path) -> None:
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme",
                            "--domain", "acme.example"))
    user = last_line(run(tmp_path, "user", "create", "--account", account,
                         "--email", "Ada@Acme.example", "--admin"))
    token = last_line(run(tmp_path, "token", "create", "--email", "ada@acme.example"))
    assert account and user and token.startswith("cp_")
    assert token not in (tmp_path / "cli.sqlite3").read_bytes().decode("latin-1")
    duplicate = run(tmp_path, "user", "create", "--account", account, "--email",
                    "ada@acme.example")
    assert duplicate.returncode == 1 and "Traceback" not in duplicate.stderr


def test_configuration_errors_name_the_variable(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--email", "x@y.z",
                 env={"CALPROXY_PORT": "eighty"})
    assert result.returncode == 2 and "CALPROXY_PORT" in result.stderr
    result = run(tmp_path, "serve", env={"CALPROXY_SECRET_KEY": ""})
    assert result.returncode == 2 and "CALPROXY_SECRET_KEY" in result.stderr
    result = run(tmp_path, "token", "create", "--email", "nobody@acme.example")
    assert result.returncode == 1 and "nobody@acme.example" in result.stderr


def test_token_revoke(tmp_path: Path) -> None:
    account = last_line(run(tmp_path, "account", "create", "--name", "Acme"))
    last_line(run(tmp_path, "user", "create", "--account", account, "--email", "b@acme.example"))
    token = last_line(run(tmp_path, "token", "create", "--email", "b@acme.example"))
    assert last_line(run(tmp_path, "token", "revoke", "--token", token)) == "revoked"
    again = run(tmp_path, "token", "revoke", "--token", token)
    assert again.returncode == 1 and "no such token" in again.stderr
    assert token not in again.stderr
