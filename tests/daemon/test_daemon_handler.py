"""The sync.handler hook with real small scripts."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from syncd.daemon.handler import AppliedChange, HandlerRunner, handler_env, parse_command

CHANGE = AppliedChange(
    event_type="page_updated",
    direction="pull",
    page_id="12345",
    title="Setup — “quoted”",
    space_key="DOCS",
    version=7,
    path="Guides/Setup.md",
)


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def test_records_stdin_json_and_env(tmp_path):
    out = tmp_path / "out.json"
    rec = script(
        tmp_path,
        "record.py",
        "import json, os, sys\n"
        f"doc = json.load(sys.stdin)\n"
        f"doc['env'] = {{k: v for k, v in os.environ.items() if k.startswith(('SYNCD', 'MY_'))}}\n"
        f"open({str(out)!r}, 'w').write(json.dumps(doc))\n",
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SYNCD_CONFLUENCE_TOKEN": "t0ken",
        "SYNCD_WEBHOOK_SECRET": "s3cret",
        "MY_TOKEN_COPY": "Bearer the-api-token-value",
        "MY_SLACK_TOKEN": "xoxb-kept",
        "MY_SETTING": "kept",
        "NOTIFY_SOCKET": "/run/x",
    }
    runner = HandlerRunner(rec, timeout=10, env=env, secrets=["the-api-token-value"])
    result = await runner.run_once(CHANGE)
    assert result.ok, result
    doc = json.loads(out.read_text())
    assert doc["eventType"] == "page_updated" and doc["direction"] == "pull"
    assert doc["page"] == {
        "id": "12345",
        "title": "Setup — “quoted”",
        "spaceKey": "DOCS",
        "version": 7,
        "path": "Guides/Setup.md",
    }
    assert doc["env"] == {
        "MY_SLACK_TOKEN": "xoxb-kept",  # the user's own variables are the script's business
        "MY_SETTING": "kept",
        "SYNCD_EVENT": "page_updated",
        "SYNCD_PAGE_ID": "12345",
    }


async def test_failing_script_is_logged_not_raised(tmp_path, caplog):
    bad = script(
        tmp_path,
        "fail.py",
        "import sys\nsys.stderr.write('cannot reach chat server\\n')\nsys.exit(3)\n",
    )
    runner = HandlerRunner(bad, timeout=10)
    with caplog.at_level(logging.WARNING, logger="syncd.daemon.handler"):
        result = await runner.run_once(CHANGE)
    assert result.returncode == 3 and not result.ok
    assert result.stderr_tail == "cannot reach chat server"
    assert runner.failures == 1
    assert "exited 3 for page_updated of page 12345: cannot reach chat server" in caplog.text


async def test_slow_script_is_killed_with_its_children(tmp_path, caplog):
    pid_file = tmp_path / "child.pid"
    slow = script(
        tmp_path,
        "slow.py",
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    )
    runner = HandlerRunner(slow, timeout=1.0, kill_grace=2.0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="syncd.daemon.handler"):
        result = await runner.run_once(CHANGE)
    assert result.timed_out and not result.ok
    assert time.monotonic() - started < 8
    assert runner.timeouts == 1
    assert "timed out" in caplog.text
    child_pid = int(pid_file.read_text())
    # the grandchild got the group kill too (bounded wait for the kernel to reap it)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child_pid):  # noqa: ASYNC110 (bounded)
        await asyncio.sleep(0.02)
    assert not _alive(child_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped by its dead parent's reaper yet) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_script_ignoring_stdin_is_fine(tmp_path):
    quiet = script(tmp_path, "quiet.py", "import sys\nsys.stdin.close()\n")
    result = await HandlerRunner(quiet, timeout=10).run_once(CHANGE)
    assert result.ok


async def test_missing_executable_is_logged_not_raised(tmp_path, caplog):
    runner = HandlerRunner([str(tmp_path / "does-not-exist")], timeout=5)
    with caplog.at_level(logging.WARNING, logger="syncd.daemon.handler"):
        result = await runner.run_once(CHANGE)
    assert result.error and not result.ok
    assert "could not start" in caplog.text


async def test_runs_are_serialized_in_order(tmp_path):
    log_file = tmp_path / "runs.log"
    lock_dir = tmp_path / "lock"
    rec = script(
        tmp_path,
        "serial.py",
        "import json, os, sys, time\n"
        "doc = json.load(sys.stdin)\n"
        f"os.mkdir({str(lock_dir)!r})  # fails if another run is inside\n"
        "time.sleep(0.05)\n"
        f"open({str(log_file)!r}, 'a').write(doc['page']['id'] + '\\n')\n"
        f"os.rmdir({str(lock_dir)!r})\n",
    )
    runner = HandlerRunner(rec, timeout=10, max_pending=10)
    for i in range(5):
        assert runner.submit(AppliedChange("page_updated", "push", str(i)))
    async with asyncio.timeout(20):
        await runner.join()
    await runner.close()
    assert log_file.read_text().split() == ["0", "1", "2", "3", "4"]
    assert runner.failures == 0 and runner.runs == 5


async def test_bounded_queue_drops_instead_of_piling_up(tmp_path, caplog):
    gate = tmp_path / "gate"
    started = tmp_path / "started"
    waiter = script(
        tmp_path,
        "wait.py",
        "import os, sys, time\n"
        "sys.stdin.read()\n"
        f"open({str(started)!r}, 'a').write('x')\n"
        f"while not os.path.exists({str(gate)!r}):\n"
        "    time.sleep(0.01)\n",
    )
    runner = HandlerRunner(waiter, timeout=20, max_pending=2)
    with caplog.at_level(logging.WARNING, logger="syncd.daemon.handler"):
        accepted = [runner.submit(AppliedChange("page_updated", "pull", str(i))) for i in range(6)]
    assert accepted == [True, True, False, False, False, False]
    assert runner.dropped == 4
    assert "falling behind" in caplog.text
    gate.touch()
    async with asyncio.timeout(20):
        await runner.join()
    await runner.close()
    assert started.read_text() == "xx"  # never more than the bounded number of runs


async def test_close_cancels_a_running_script(tmp_path):
    slow = script(tmp_path, "slow.py", "import time\ntime.sleep(60)\n")
    runner = HandlerRunner(slow, timeout=60, kill_grace=2)
    runner.submit(CHANGE)
    started = time.monotonic()
    await runner.close(drain_timeout=0.2)
    assert time.monotonic() - started < 6


def test_parse_command(tmp_path):
    exe = tmp_path / "with space.sh"
    exe.write_text("")
    assert parse_command(str(exe)) == [str(exe)]
    assert parse_command("python3 /x/notify.py --quiet") == ["python3", "/x/notify.py", "--quiet"]
    assert parse_command(exe) == [str(exe)]
    with pytest.raises(ValueError):
        HandlerRunner("")


def test_handler_env_strips_syncd_secrets_and_notify():
    env = handler_env(
        {
            "HOME": "/h",
            "CONFLUENCE_API_TOKEN": "x",
            "SYNCD_WEBHOOK_SECRET": "y",
            "NOTIFY_SOCKET": "/s",
            "WATCHDOG_USEC": "1",
            "OTHER": "has tok-123456 inside",
            "GITHUB_TOKEN": "kept",
        },
        secrets=["tok-123456", None, ""],
    )
    assert env == {"HOME": "/h", "GITHUB_TOKEN": "kept"}
