"""Configuration: typed, refused with the variable named, and documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import ConfigError, load_settings, schema

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_readme_table() -> None:
    for _, env, _, _ in schema():
        assert f"| `{env}` |" in README, env


def test_defaults_and_overrides() -> None:
    settings = load_settings({"CALPROXY_SECRET_KEY": "k", "CALPROXY_PORT": "9000",
                              "CALPROXY_EWS_ALLOW_HTTP": "true"})
    assert settings.port == 9000 and settings.ews_allow_http is True
    assert settings.base_url == "http://127.0.0.1:9000"
    assert settings.freshness_seconds == 60


@pytest.mark.parametrize(("name", "value"), [
    ("CALPROXY_PORT", "eighty"), ("CALPROXY_PORT", "70000"),
    ("CALPROXY_GRAPH_URL", "ftp://x"), ("CALPROXY_EWS_ALLOW_HTTP", "maybe"),
    ("CALPROXY_DATABASE_URL", "mysql://x"), ("CALPROXY_MIN_PROMPT_CLIENT_VERSION", "v5"),
])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"CALPROXY_SECRET_KEY": "k", name: value})


def test_secret_key_is_required() -> None:
    with pytest.raises(ConfigError, match="CALPROXY_SECRET_KEY"):
        load_settings({})


def test_toml_file_under_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "calproxy.toml"
    path.write_text('port = 9100\nhost = "0.0.0.0"\nsecret_key = "s"\n')
    settings = load_settings({"CALPROXY_PORT": "9200"}, toml_path=path)
    assert (settings.host, settings.port) == ("0.0.0.0", 9200)
    path.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="colour"):
        load_settings({}, toml_path=path)


@pytest.mark.parametrize(("given", "used"), [
    ("sqlite:///data/calproxy.db", "sqlite+aiosqlite:///data/calproxy.db"),
    ("sqlite+aiosqlite:///data/calproxy.db", "sqlite+aiosqlite:///data/calproxy.db"),
    ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
    ("postgresql://u:p@db:5432/cal", "postgresql+asyncpg://u:p@db:5432/cal"),
    ("postgres://u:p@db/cal?sslmode=require", "postgresql+asyncpg://u:p@db/cal?ssl=require"),
    ("postgresql+asyncpg://db/cal", "postgresql+asyncpg://db/cal"),
])
def test_database_urls_are_mapped_to_the_async_drivers(given: str, used: str) -> None:
    settings = load_settings({"CALPROXY_SECRET_KEY": "k", "CALPROXY_DATABASE_URL": given})
    assert settings.database_url == used


@pytest.mark.parametrize("value", [
    "mysql://u@db/cal", "garbage", "sqlite://relative.db", "postgres://",
    "postgresql+psycopg2://db/cal", "postgresql://u:secret@db:port/cal",
])
def test_other_database_urls_are_refused_with_the_accepted_forms(value: str) -> None:
    with pytest.raises(ConfigError, match="CALPROXY_DATABASE_URL") as caught:
        load_settings({"CALPROXY_SECRET_KEY": "k", "CALPROXY_DATABASE_URL": value})
    assert "postgres://" in str(caught.value) and "sqlite:///path" in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(("env", "enabled"), [
    ({}, False),  # auto, and the default public URL is http
    ({"CALPROXY_PUBLIC_URL": "https://cal.example.com"}, True),
    ({"CALPROXY_PUBLIC_URL": "https://cal.example.com", "CALPROXY_PUSH": "off"}, False),
    ({"CALPROXY_PUBLIC_URL": "http://cal.example.com", "CALPROXY_PUSH": "on"}, False),
    ({"CALPROXY_PUBLIC_URL": "http://127.0.0.1:9", "CALPROXY_PUSH": "on",
      "CALPROXY_PUSH_ALLOW_HTTP": "true"}, True),
    ({"CALPROXY_PUBLIC_URL": "http://127.0.0.1:9", "CALPROXY_PUSH_ALLOW_HTTP": "true"}, False),
])
def test_push_is_enabled_only_with_a_reachable_public_url(env: dict[str, str],
                                                          enabled: bool) -> None:
    assert load_settings({"CALPROXY_SECRET_KEY": "k", **env}).push_enabled is enabled


def test_push_mode_is_refused_unless_on_off_or_auto() -> None:
    with pytest.raises(ConfigError, match="CALPROXY_PUSH"):
        load_settings({"CALPROXY_SECRET_KEY": "k", "CALPROXY_PUSH": "sometimes"})
