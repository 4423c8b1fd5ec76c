"""Configuration: every error names its key and line; defaults, env vars, permissions."""

from __future__ import annotations

import logging
import os
import textwrap
from pathlib import Path

import pytest

from syncd import paths
from syncd.config import (
    Config,
    ConfigError,
    config_error_exit,
    load_config,
    parse_config,
    parse_duration,
    parse_listen,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV = {"CONFLUENCE_API_TOKEN": "tok-123", "SYNCD_WEBHOOK_SECRET": "s3cret"}

MINIMAL = """\
confluence:
  base_url: https://example.atlassian.net/wiki
  space: DOCS
  email: me@example.com
  token: ${CONFLUENCE_API_TOKEN}
local:
  path: ~/docs/DOCS
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    p.chmod(mode)
    return p


def error_for(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(p, env=ENV if env is None else env)
    err = info.value
    assert "\n" not in str(err)
    assert str(p) in str(err)
    return err


def test_example_file_loads_every_key() -> None:
    cfg = load_config(PROJECT_ROOT / "config.example.yaml", env=ENV)
    assert isinstance(cfg, Config)
    assert cfg.confluence.token == "tok-123"
    assert cfg.webhook.secret == "s3cret"
    assert cfg.confluence.deployment == "auto"
    assert cfg.webhook.silence_timeout == 900
    assert cfg.webhook.body_timeout == 10 and cfg.webhook.idle_timeout == 15
    assert cfg.poll.interval == 60 and cfg.poll.full_scan == 6 * 3600
    assert cfg.sync.debounce == 1 and cfg.sync.on_conflict == "merge"
    assert cfg.local.path == Path.home() / "docs" / "DOCS"
    assert cfg.state_dir == paths.default_state_dir("DOCS")


def test_example_file_documents_every_schema_key() -> None:
    import yaml

    from syncd.config import SCHEMA, TOP_LEVEL_SCALARS

    text = (PROJECT_ROOT / "config.example.yaml").read_text()
    data = yaml.safe_load(text)
    for section, keys in SCHEMA.items():
        assert set(data[section]) == set(keys), section
    assert set(TOP_LEVEL_SCALARS) <= set(data)
    # each key line is preceded by a comment line
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped.endswith(":") is False:
            assert lines[i - 1].strip().startswith("#"), f"undocumented: {line!r}"


def test_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), env=ENV)
    assert cfg.webhook.enabled is True
    assert (cfg.webhook.host, cfg.webhook.port) == ("127.0.0.1", 8765)
    assert cfg.webhook.public_url == "http://127.0.0.1:8765/webhook"
    assert cfg.webhook.path == "/webhook"
    assert cfg.webhook.secret is None
    assert cfg.webhook.unregister_on_exit is False
    assert cfg.poll.interval == 60.0
    assert cfg.sync.max_delete == 10 and cfg.sync.attachments and not cfg.sync.blog_posts
    assert cfg.sync.handler is None
    assert cfg.confluence.root_page is None
    assert cfg.state_dir == paths.default_state_dir("DOCS")
    assert cfg.log_dir == paths.default_log_dir()
    assert cfg.warnings == ()


def test_default_paths_come_from_platformdirs() -> None:
    import platformdirs

    assert paths.default_config_path() == (
        Path(platformdirs.user_config_dir("syncd", appauthor=False)) / "config.yaml"
    )
    assert paths.default_state_dir("X") == (
        Path(platformdirs.user_state_dir("syncd", appauthor=False)) / "X"
    )


def test_objects_are_frozen_and_repr_hides_secrets(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), env=ENV)
    with pytest.raises(AttributeError):
        cfg.sync.debounce = 3  # type: ignore[misc]
    assert "tok-123" not in repr(cfg)


def test_public_url_follows_listen(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL + "webhook:\n  listen: 0.0.0.0:9000\n"), env=ENV)
    assert cfg.webhook.public_url == "http://0.0.0.0:9000/webhook"
    cfg = load_config(
        write(tmp_path, MINIMAL + "webhook:\n  public_url: https://hooks.example.com/x/y\n"),
        env=ENV,
    )
    assert cfg.webhook.public_url == "https://hooks.example.com/x/y"
    assert cfg.webhook.path == "/x/y"


def test_env_expansion_and_default(tmp_path: Path) -> None:
    text = MINIMAL.replace("~/docs/DOCS", "${DOCS_ROOT}/space") + (
        "webhook:\n  secret: ${NOT_SET:-fallback}\n"
    )
    cfg = load_config(write(tmp_path, text), env={**ENV, "DOCS_ROOT": "/srv/docs"})
    assert cfg.local.path == Path("/srv/docs/space")
    assert cfg.webhook.secret == "fallback"


def test_dollar_escape_is_literal(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, MINIMAL.replace("${CONFLUENCE_API_TOKEN}", "'a$${B}c'")), env={}
    )
    assert cfg.confluence.token == "a${B}c"


def test_missing_env_var_names_key_and_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL, env={})
    assert err.key == "confluence.token" and err.line == 5
    assert "CONFLUENCE_API_TOKEN" in str(err) and "confluence.token" in str(err)
    assert ":5:" in str(err)


def test_unknown_key_names_key_and_line_with_suggestion(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL + "webhook:\n  enabled: true\n  silence_timout: 5m\n")
    assert (err.key, err.line) == ("webhook.silence_timout", 10)
    assert "silence_timeout" in err.message


def test_unknown_section(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL + "polling:\n  interval: 5s\n")
    assert (err.key, err.line) == ("polling", 8)


@pytest.mark.parametrize(
    ("snippet", "key", "fragment"),
    [
        ("webhook:\n  enabled: maybe\n", "webhook.enabled", "true or false"),
        ("sync:\n  max_delete: ten\n", "sync.max_delete", "whole number"),
        ("sync:\n  max_delete: true\n", "sync.max_delete", "boolean"),
        ("sync:\n  max_delete: -1\n", "sync.max_delete", "negative"),
        ("sync:\n  attachments: 1\n", "sync.attachments", "true or false"),
        ("webhook:\n  listen: [1, 2]\n", "webhook.listen", "host:port"),
        ("webhook:\n  listen: localhost\n", "webhook.listen", "host:port"),
        ("webhook:\n  listen: 'h:99999'\n", "webhook.listen", "port"),
        ("webhook:\n  public_url: ftp://x\n", "webhook.public_url", "http"),
        ("sync:\n  on_conflict: ours\n", "sync.on_conflict", "merge | keep-both"),
        ("sync:\n  new_directories: dirs\n", "sync.new_directories", "auto | folder | page"),
        ("webhook:\n  silence_timeout: 15 minutes\n", "webhook.silence_timeout", "duration"),
        ("webhook:\n  silence_timeout: 0s\n", "webhook.silence_timeout", "longer than zero"),
        ("webhook:\n  body_timeout: 0s\n", "webhook.body_timeout", "longer than zero"),
        ("webhook:\n  idle_timeout: soon\n", "webhook.idle_timeout", "duration"),
        ("poll:\n  interval: 5x\n", "poll.interval", "duration"),
        ("poll:\n  full_scan: -3\n", "poll.full_scan", "non-negative"),
        ("sync:\n  debounce: yes\n", "sync.debounce", "duration"),
        ("sync: []\n", "sync", "mapping"),
        ("state_dir: 5\n", "state_dir", "path"),
    ],
)
def test_bad_values_name_key_and_line(
    tmp_path: Path, snippet: str, key: str, fragment: str
) -> None:
    err = error_for(tmp_path, MINIMAL + snippet)
    assert err.key == key
    assert fragment in err.message
    expected_line = 8 + snippet.count("\n") - 1 if "\n  " in snippet else 8
    assert err.line == expected_line
    assert f":{expected_line}: {key}:" in str(err)


def test_bad_enum_deployment(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL.replace("space: DOCS", "space: DOCS\n  deployment: server"))
    assert (err.key, err.line) == ("confluence.deployment", 4)
    assert "auto | cloud | datacenter" in str(err)


def test_new_directories_folder_needs_cloud(tmp_path: Path) -> None:
    text = MINIMAL.replace("space: DOCS", "space: DOCS\n  deployment: datacenter")
    err = error_for(tmp_path, text + "sync:\n  new_directories: folder\n")
    assert err.key == "sync.new_directories" and "Data Center has no folders" in err.message
    cfg = load_config(write(tmp_path, MINIMAL + "sync:\n  new_directories: page\n"), env=ENV)
    assert cfg.sync.new_directories == "page"
    assert load_config(write(tmp_path, MINIMAL), env=ENV).sync.new_directories == "auto"


def test_missing_required_key_and_section(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL.replace("  space: DOCS\n", ""))
    assert err.key == "confluence.space" and err.line == 1
    err = error_for(tmp_path, MINIMAL.split("local:")[0])
    assert err.key == "local" and "missing section" in err.message
    err = error_for(tmp_path, MINIMAL.split("local:")[0] + "local:\n")
    assert (err.key, err.line) == ("local.path", 6)


def test_cloud_requires_email(tmp_path: Path) -> None:
    text = MINIMAL.replace("  email: me@example.com\n", "  deployment: cloud\n")
    err = error_for(tmp_path, text)
    assert err.key == "confluence.email"


def test_duplicate_key(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL + "sync:\n  debounce: 1s\n  debounce: 2s\n")
    assert (err.key, err.line) == ("sync.debounce", 10)
    assert "line 9" in err.message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL + "sync:\n  debounce: [1s\n")
    assert err.line is not None and err.line >= 9
    assert "invalid YAML" in str(err)


def test_yaml_tags_are_not_constructed(tmp_path: Path) -> None:
    err = error_for(tmp_path, MINIMAL + "state_dir: !!python/object/apply:os.system ['true']\n")
    assert "invalid YAML" in str(err)


def test_empty_and_missing_file(tmp_path: Path) -> None:
    err = error_for(tmp_path, "")
    assert "empty" in str(err)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_tilde_and_relative_paths(tmp_path: Path) -> None:
    text = MINIMAL + "sync:\n  handler: hooks/on-change.sh\nstate_dir: ~/state\n"
    cfg = load_config(write(tmp_path, text), env=ENV)
    assert cfg.sync.handler == tmp_path / "hooks" / "on-change.sh"
    assert cfg.state_dir == Path.home() / "state"
    assert cfg.local.path == Path.home() / "docs" / "DOCS"


def test_root_page_and_ipv6_listen(tmp_path: Path) -> None:
    text = MINIMAL.replace("space: DOCS", "space: DOCS\n  root_page: 12345") + (
        "webhook:\n  listen: '[::1]:8800'\n"
    )
    cfg = load_config(write(tmp_path, text), env=ENV)
    assert cfg.confluence.root_page == "12345"
    assert (cfg.webhook.host, cfg.webhook.port) == ("::1", 8800)
    assert cfg.webhook.public_url == "http://[::1]:8800/webhook"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_literal_token_in_world_readable_file_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    literal = MINIMAL.replace("${CONFLUENCE_API_TOKEN}", "plain-token")
    with caplog.at_level(logging.WARNING, logger="syncd.config"):
        cfg = load_config(write(tmp_path, literal, mode=0o644), env={})
    assert len(cfg.warnings) == 1
    assert "confluence.token" in cfg.warnings[0] and "chmod 600" in cfg.warnings[0]
    assert any("readable by other users" in r.message for r in caplog.records)

    assert load_config(write(tmp_path, literal, mode=0o600), env={}).warnings == ()
    # a token from the environment is fine even in a readable file
    assert load_config(write(tmp_path, MINIMAL, mode=0o644), env=ENV).warnings == ()


def test_config_error_exit_prints_one_line_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = ConfigError("webhook.silence_timeout", 12, "bad duration '5x'", "/etc/syncd.yaml")
    with pytest.raises(SystemExit) as info:
        config_error_exit(err)
    assert info.value.code == 2
    out = capsys.readouterr().err
    assert out == "syncd: /etc/syncd.yaml:12: webhook.silence_timeout: bad duration '5x'\n"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),
        ("60s", 60),
        ("6h", 21600),
        ("1s", 1),
        ("500ms", 0.5),
        (30, 30),
        (2.5, 2.5),
        ("1h30m", 5400),
        ("1d", 86400),
        ("45", 45),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "m", "5 parsecs", "1m5", True, None, "-5s", "nan"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_listen(":9000") == ("127.0.0.1", 9000)
    assert parse_listen("[::]:80") == ("::", 80)
    with pytest.raises(ValueError):
        parse_listen("::1:80")


def test_parse_config_without_file() -> None:
    cfg = parse_config(MINIMAL, env=ENV)
    assert cfg.source is None and cfg.confluence.space == "DOCS"


def test_state_dir_inside_the_folder_is_refused(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("~/docs/DOCS", str(tmp_path / "docs"))
        + f"state_dir: {tmp_path}/docs/state\n"
    )
    err = error_for(tmp_path, text)
    assert (err.key, err.line) == ("state_dir", 8)
    assert "inside the synced folder" in err.message
    hidden = text.replace("docs/state", "docs/.syncd/state")
    assert load_config(write(tmp_path, hidden), env=ENV).state_dir == tmp_path / "docs/.syncd/state"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("0", "between 1 and 256"), ("1000", "between 1 and 256"), ("many", "whole number")],
)
def test_max_connections_is_checked_and_named(tmp_path: Path, value: str, fragment: str) -> None:
    text = MINIMAL.replace("space: DOCS", f"space: DOCS\n  max_connections: {value}")
    err = error_for(tmp_path, text)
    assert (err.key, err.line) == ("confluence.max_connections", 4)
    assert fragment in err.message


def test_max_connections_reaches_the_client_settings(tmp_path: Path) -> None:
    from syncd.sync.engine import connection_settings

    text = MINIMAL.replace("space: DOCS", "space: DOCS\n  max_connections: 4")
    settings = connection_settings(parse_config(text, env=ENV))
    assert settings.max_connections == 4 and settings.concurrency == 4


# ---- the API gateway (scoped tokens) -------------------------------------------------

GATEWAY = "https://api.atlassian.com/ex/confluence/1324a887-45db-1bf4-1e99-ef0ff456d421"


def test_api_url_is_the_gateway_and_keeps_the_site(tmp_path: Path) -> None:
    text = MINIMAL.replace("  space: DOCS\n", f"  space: DOCS\n  api_url: {GATEWAY}/wiki/\n")
    cfg = load_config(write(tmp_path, text), env=ENV)
    assert cfg.confluence.api_url == GATEWAY  # /wiki and the slash dropped
    assert cfg.confluence.base_url == "https://example.atlassian.net/wiki"
    assert cfg.confluence.via_gateway


def test_api_url_that_is_not_the_gateway_names_the_key(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  space: DOCS\n", "  space: DOCS\n  api_url: https://example.atlassian.net/wiki\n"
    )
    err = error_for(tmp_path, text)
    assert err.key == "confluence.api_url" and err.line == 4
    assert "api.atlassian.com/ex/confluence/<cloudId>" in str(err)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("  email: me@example.com\n", ""), "confluence.email", "required with the API gateway"),
        (
            ("  space: DOCS\n", "  space: DOCS\n  deployment: datacenter\n"),
            "confluence.base_url",
            "Cloud only",
        ),
    ],
)
def test_a_gateway_base_url_needs_cloud_and_an_email(tmp_path: Path, change, key, words) -> None:
    text = MINIMAL.replace("https://example.atlassian.net/wiki", GATEWAY).replace(*change)
    err = error_for(tmp_path, text)
    assert err.key == key and words in str(err)
