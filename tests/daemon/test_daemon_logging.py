"""Daemon logging: plain and JSON lines, verbosity, secrets never written."""

from __future__ import annotations

import io
import json
import logging

import pytest

from syncd.daemon.logging_setup import SecretRedactor, setup_logging

TOKEN = "ATATT3xFfGF0-very-secret-token"
SECRET = 'wh-"secret"\\x'


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    syncd = logging.getLogger("syncd")
    saved = (root.level, list(root.handlers), syncd.level, list(syncd.handlers))
    yield
    for h in list(root.handlers):
        if h not in saved[1]:
            root.removeHandler(h)
    for h in list(syncd.handlers):
        if h not in saved[3]:
            syncd.removeHandler(h)
    root.setLevel(saved[0])
    syncd.setLevel(saved[2])


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_parse_with_extra_fields(restore_logging):
    out = io.StringIO()
    setup_logging(fmt="json", stream=out)
    log = logging.getLogger("syncd.daemon.test")
    log.info("pulled %s", "Setup.md", extra={"page_id": "123", "version": 7})
    log.warning("multi\nline message")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    docs = [json.loads(line) for line in lines(out)]
    assert len(docs) == 3  # one line per event, even with newlines and tracebacks
    first = docs[0]
    assert first["level"] == "info" and first["logger"] == "syncd.daemon.test"
    assert first["msg"] == "pulled Setup.md"
    assert first["page_id"] == "123" and first["version"] == 7
    assert first["ts"].endswith("+00:00")
    assert docs[1]["msg"] == "multi\nline message"
    assert "ValueError: boom" in docs[2]["exc"]


def test_plain_format_one_event_per_line(restore_logging):
    out = io.StringIO()
    setup_logging(fmt="plain", stream=out, journald=False)
    logging.getLogger("syncd.x").info(
        "webhook page_updated", extra={"page_id": "9", "title": "A B"}
    )
    (line,) = lines(out)
    assert ' INFO    syncd.x: webhook page_updated page_id=9 title="A B"' in line


def test_journald_plain_has_priority_prefix_and_no_timestamp(restore_logging):
    out = io.StringIO()
    setup_logging(fmt="plain", stream=out, journald=True)
    logging.getLogger("syncd.x").warning("switching to polling")
    logging.getLogger("syncd.x").error("failed")
    assert lines(out) == ["<4>syncd.x: switching to polling", "<3>syncd.x: failed"]


def test_verbosity_levels(restore_logging):
    out = io.StringIO()
    setup_logging(stream=out, verbosity=0)
    logging.getLogger("syncd.a").debug("hidden")
    logging.getLogger("httpx").info("library chatter hidden")
    logging.getLogger("syncd.a").info("shown")
    assert len(lines(out)) == 1
    out2 = io.StringIO()
    setup_logging(stream=out2, verbosity=1)
    logging.getLogger("syncd.a").debug("detail")
    logging.getLogger("httpx").info("still hidden")
    assert [line.endswith("detail") for line in lines(out2)] == [True]
    out3 = io.StringIO()
    setup_logging(stream=out3, verbosity=2)
    logging.getLogger("httpx").debug("everything")
    assert len(lines(out3)) == 1
    # re-running setup replaces its handler instead of duplicating output
    assert out.getvalue().count("\n") == 1


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_secrets_never_logged(restore_logging, fmt):
    out = io.StringIO()
    redactor = setup_logging(fmt=fmt, stream=out, secrets=[TOKEN, None, ""])
    redactor.add(SECRET)  # added at runtime, e.g. a generated webhook secret
    log = logging.getLogger("syncd.secret")
    log.info("token is %s", TOKEN)
    log.info("secret %s", SECRET, extra={"cfg": {"secret": SECRET}})
    log.info("GET https://h/webhook/page_updated?event=x&token=abcdef123 200")
    log.info("headers %s", {"Authorization": "Basic ZGVtbzpkZW1vLXRva2Vu"})
    log.info("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig")
    log.info("body sha256=%s", "a" * 64)  # content hashes are diagnostics, not secrets
    try:
        raise RuntimeError(f"auth failed with {TOKEN}")
    except RuntimeError:
        log.exception("oops")
    text = out.getvalue()
    for leaked in (TOKEN, "abcdef123", "ZGVtbzpkZW1vLXRva2Vu", "eyJhbGciOiJIUzI1NiJ9"):
        assert leaked not in text
    assert SECRET not in text and json.dumps(SECRET)[1:-1] not in text
    assert "***" in text
    assert "token=***" in text and "event=x" in text
    assert "sha256=" + "a" * 64 in text
    if fmt == "json":
        for line in lines(out):
            json.loads(line)


def test_redactor_short_values_ignored_and_longest_first():
    r = SecretRedactor(["ab", "abcdef", "abcdefgh"])
    assert r.redact("xx abcdefgh abcdef ab") == "xx *** *** ab"


def test_bad_format_rejected():
    with pytest.raises(ValueError):
        setup_logging(fmt="xml")


def test_recent_errors_for_status_are_bounded_and_redacted(restore_logging):
    from syncd.daemon.control import format_status
    from syncd.daemon.logging_setup import RecentErrors

    recent = RecentErrors(capacity=3)
    redactor = setup_logging(stream=io.StringIO(), recent=recent)
    redactor.add(TOKEN)
    log = logging.getLogger("syncd.sync")
    log.info("not an error")
    for i in range(5):
        log.warning("429 from server (%d), token %s", i, TOKEN)
    log.error("first line\nsecond line")
    items = recent.as_list()
    assert len(items) == 3
    assert [i["level"] for i in items] == ["warning", "warning", "error"]
    assert items[-1]["message"] == "first line"
    assert items[0]["message"] == "429 from server (3), token ***"
    assert items[0]["at"].endswith("Z")
    text = format_status({"running": True, "errors": items})
    assert "429 from server (4), token ***" in text and TOKEN not in text
    # setting up again replaces, not duplicates, the collector
    setup_logging(stream=io.StringIO(), recent=recent)
    log.warning("once")
    assert [i["message"] for i in recent.as_list()].count("once") == 1
