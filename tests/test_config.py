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
