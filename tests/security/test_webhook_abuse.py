"""Hostile webhook traffic against the real ``syncd run`` (a subprocess) and the emulator.

Each case gets a clear answer (401, 400, 404, 408, 413, or 200 without effect) and nothing
is fetched or written: the emulator's request counter stands still and the folder keeps
its bytes. Forged deliveries are also covered by tests/e2e/test_daemon_live.py; these add
missing and altered signatures, replays of genuine deliveries, slow and oversized bodies.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from e2e.daemon_support import file_of, request_total, until

from syncd.daemon.receiver import sign_body

from .support import (
    Daemon,
    files_outside,
    http,
    page_reads,
    quiet,
    result_of,
    snapshot_tree,
    write_config,
)

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

JSON = {"Content-Type": "application/json"}


class Rig:
    def __init__(self, root: Path, emu: Any, daemon: Daemon) -> None:
        self.root, self.emu, self.daemon = root, emu, daemon

    def page_ids(self) -> list[str]:
        return self.emu.call(
            lambda: [c.id for c in self.emu.store.all_content("page") if c.status == "current"]
        )

    def post(self, target: str, body: bytes, headers: dict[str, str] | None = None):
        return http(self.daemon.address, "POST", target, body, {**JSON, **(headers or {})})

    def assert_nothing_happens(self, total: int, folder: dict[str, bytes]) -> None:
        """No request reached Confluence and the folder kept its bytes."""
        assert quiet(self.emu, 1.0) == total, "the daemon contacted Confluence"
        assert snapshot_tree(self.daemon.folder) == folder
        assert files_outside(self.root, self.allowed()) == []

    def allowed(self) -> list[Path]:
        d = self.daemon
        return [d.folder, d.state_dir, d.config, *self.root.glob("daemon-*.log")]


@pytest.fixture(scope="module")
def world_traversable_root() -> Iterator[Path]:
    """A root other users may traverse, so the control socket's own modes are what keeps
    them out (pytest's tmp_path sits in a 0700 directory)."""
    root = Path(tempfile.mkdtemp(prefix="syncd-security-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


# The receiver's time limits for the rigs (defaults 10 s and 15 s): short, so the slowloris
# test waits seconds, not the defaults; long enough for any honest request on loopback.
BODY_TIMEOUT = 4.0
IDLE_TIMEOUT = 6.0


def _start(root: Path, flavor: str, *, config_mode: int = 0o600) -> Iterator[Rig]:
    root.mkdir(parents=True, exist_ok=True)
    with server.ThreadedEmulator(flavor=flavor, pages=3, space="DEMO") as emu:
        timeouts = {"body_timeout": f"{BODY_TIMEOUT:g}s", "idle_timeout": f"{IDLE_TIMEOUT:g}s"}
        config = write_config(root, emu, mode=config_mode, webhook=timeouts)
        daemon = Daemon(config)
        try:
            daemon.wait_ready()
            yield Rig(root, emu, daemon)
            assert daemon.stop() == 0, daemon.log()
            assert "Traceback" not in daemon.log()
        finally:
            daemon.stop()


@pytest.fixture(scope="module")
def dc(world_traversable_root: Path) -> Iterator[Rig]:
    # The config holds a literal token and is readable by others (0644): `syncd run`
    # must warn about it (checked below) and run anyway.
    yield from _start(world_traversable_root / "dc", "dc", config_mode=0o644)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from _start(tmp_path_factory.mktemp("cloud"), "cloud")


def dc_body(page_id: str, version: int = 99, event: str = "page_updated") -> bytes:
    doc = {
        "timestamp": int(time.time() * 1000),
        "event": event,
        "userKey": "ff80",
        "page": {"id": int(page_id), "version": version, "spaceKey": "DEMO"},
    }
    return json.dumps(doc).encode()


# ---- Data Center: signatures -------------------------------------------------------------


def test_dc_missing_forged_and_altered_signatures_are_401_and_fetch_nothing(dc: Rig) -> None:
    secret = dc.daemon.secret()
    page = dc.page_ids()[1]
    body = dc_body(page)
    other = dc_body(page, version=100)
    total, folder = quiet(dc.emu, 0.5), snapshot_tree(dc.daemon.folder)
    cases = {
        "missing": {},
        "empty": {"X-Hub-Signature": ""},
        "bare prefix": {"X-Hub-Signature": "sha256="},
        "other secret": {"X-Hub-Signature": sign_body("guessed-secret", body)},
        "other body": {"X-Hub-Signature": sign_body(secret, other)},
        "sha1 form": {"X-Hub-Signature": "sha1=" + sign_body(secret, body)[7:]},
        "truncated": {"X-Hub-Signature": sign_body(secret, body)[:-2]},
        "raw secret": {"X-Hub-Signature": secret},
        "wrong header": {"X-Hub-Signature-256": sign_body(secret, body)},
    }
    for name, headers in cases.items():
        code, answer = dc.post("/hook", body, headers)
        assert code == 401, (name, answer)
        assert result_of(answer) == "unauthorized"
    # the signature is checked before the body is parsed: a forged non-JSON body is 401, not 400
    assert dc.post("/hook", b"{not json", {"X-Hub-Signature": "sha256=00"})[0] == 401
    dc.assert_nothing_happens(total, folder)
    assert "rejected (401)" in dc.daemon.log()
    assert secret not in dc.daemon.log()


def test_dc_replayed_delivery_is_acknowledged_without_a_second_pull(dc: Rig) -> None:
    _, raw, headers = _capture_delivery(dc, dc.page_ids()[2], "replay-marker")
    signature = headers["X-Hub-Signature"]

    total, folder = quiet(dc.emu, 1.0), snapshot_tree(dc.daemon.folder)
    reads = page_reads(dc.emu)
    for _ in range(3):  # the same signed bytes, posted again later
        code, answer = dc.post("/hook", raw, {"X-Hub-Signature": signature})
        assert code == 200, answer
        assert result_of(answer) in ("duplicate", "stale")
    dc.assert_nothing_happens(total, folder)
    assert page_reads(dc.emu) == reads


def test_dc_malformed_json_is_400_and_fetches_nothing(dc: Rig) -> None:
    secret = dc.daemon.secret()
    total, folder = quiet(dc.emu, 0.5), snapshot_tree(dc.daemon.folder)
    bodies = {
        "truncated": b'{"event": "page_updated", "page": {"id": 1',
        "not an object": b"[1, 2, 3]",
        "not utf-8": b'{"event": "\xff\xfe"}',
        "empty": b"",
        "deep nesting": b'{"a":' * 60_000 + b"1" + b"}" * 60_000,
    }
    for name, body in bodies.items():
        code, answer = dc.post("/hook", body, {"X-Hub-Signature": sign_body(secret, body)})
        assert code == 400, (name, answer)
        assert result_of(answer) == "malformed JSON"
    # Well-formed but hostile fields: ids that are not ids are ignored, never requested.
    for page in ("../../rest/api/space", "1 OR 1=1", "9" * 70, {"$ne": 1}, None):
        body = json.dumps({"event": "page_updated", "page": {"id": page}}).encode()
        code, answer = dc.post("/hook", body, {"X-Hub-Signature": sign_body(secret, body)})
        assert code == 200 and result_of(answer) == "ignored", (page, answer)
    dc.assert_nothing_happens(total, folder)
    assert dc.daemon.proc.poll() is None


def _capture_delivery(rig: Rig, page: str, marker: str) -> tuple[str, bytes, dict[str, str]]:
    """Edit ``page`` in Confluence, wait for the pull, and return what the emulator sent:
    (target with its query string, the exact body bytes, the signature header if any)."""
    rig.emu.call(lambda: rig.emu.store.edit(page, f"<p>{marker}</p>"))
    until(
        lambda: (f := file_of(rig.daemon.folder, page)) and marker in f.read_text(),
        what="the genuine delivery's pull",
    )

    def delivered() -> dict[str, Any] | None:
        for d in reversed(rig.emu.call(lambda: list(rig.emu.deliveries))):
            if str(d["payload"].get("page", {}).get("id")) == page and d["status"] == 200:
                return d
        return None

    delivery = until(delivered, what="the delivery in the emulator's log")
    url = urlsplit(delivery["url"])
    target = url.path + (f"?{url.query}" if url.query else "")
    # The emulator sends compact JSON; these are the bytes it signed.
    raw = json.dumps(delivery["payload"], separators=(",", ":")).encode()
    headers = {}
    if "X-Hub-Signature" in delivery["headers"]:
        headers["X-Hub-Signature"] = delivery["headers"]["X-Hub-Signature"]
        assert sign_body(rig.daemon.secret(), raw) == headers["X-Hub-Signature"]
    return target, raw, headers


def pulls_logged(daemon: Daemon, page: str) -> int:
    return len(re.findall(rf"syncd\.daemon: pulled .* page {page} ->", daemon.log()))


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
def test_replay_after_a_restart_pulls_nothing(flavor: str, tmp_path: Path) -> None:
    """The in-memory replay cache is gone after a restart. A Cloud payload names its
    version, which the state already has: stale. A Data Center payload names none: one
    GET confirms the page is unchanged (docs/reliability §3.2), and nothing is pulled."""
    with server.ThreadedEmulator(flavor=flavor, pages=2) as emu:
        config = write_config(tmp_path, emu)
        rig = Rig(tmp_path, emu, Daemon(config))
        try:
            rig.daemon.wait_ready()
            page = rig.page_ids()[1]
            target, raw, headers = _capture_delivery(rig, page, "before-restart")
            assert rig.daemon.stop() == 0
            rig.daemon = Daemon(config)
            rig.daemon.wait_ready()
            writes = sum(
                n
                for r, n in emu.call(lambda: dict(emu.requests)).items()
                if not r.startswith("GET")
            )
            reads, folder = page_reads(emu), snapshot_tree(rig.daemon.folder)
            quiet(emu, 0.5)
            reads = page_reads(emu)
            for _ in range(2):
                code, answer = rig.post(target, raw, headers)
                assert code == 200, answer
            quiet(emu, 1.0)
            assert page_reads(emu) - reads <= (0 if flavor == "cloud" else 1)
            assert (
                sum(
                    n
                    for r, n in emu.call(lambda: dict(emu.requests)).items()
                    if not r.startswith("GET")
                )
                == writes
            )
            assert snapshot_tree(rig.daemon.folder) == folder
            assert pulls_logged(rig.daemon, page) == 0
        finally:
            rig.daemon.stop()


# ---- hostile content arriving live -----------------------------------------------------------


def test_hostile_titles_arriving_by_webhook_stay_inside(dc: Rig) -> None:
    """The targeted pull a webhook triggers names files as safely as a full sync."""
    titles = ["../../live-escape", "/etc/live-passwd", "LPT1", "..", "nul\x00live\x1b[0m"]
    store = dc.emu.store
    ids = [dc.emu.call(lambda t=t: store.create_page("DEMO", t, "<p>live</p>").id) for t in titles]
    first = ids[0]
    ids.append(
        dc.emu.call(lambda: store.create_page("DEMO", "../kid", "<p>k</p>", parent_id=first).id)
    )
    for page_id in ids:
        until(lambda p=page_id: file_of(dc.daemon.folder, p), what=f"page {page_id} on disk")
    dc.emu.call(lambda: store.edit(ids[1], "<p>renamed</p>", title="../../../renamed-escape"))
    until(
        lambda: (f := file_of(dc.daemon.folder, ids[1])) and "renamed" in f.read_text(),
        what="the rename on disk",
    )
    quiet(dc.emu, 0.5)
    assert files_outside(dc.root, dc.allowed()) == []
    for page_id in ids:
        path = file_of(dc.daemon.folder, page_id)
        assert path is not None and dc.daemon.folder in path.resolve().parents


def test_links_to_outside_are_never_uploaded_by_the_watcher(dc: Rig, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Leak.md").write_text("---\ntitle: Leak in linked folder\n---\nsecret one\n")
    (outside / "secret.md").write_text("---\ntitle: Leak by link\n---\nsecret two\n")
    folder = dc.daemon.folder
    (folder / "Linked").symlink_to(outside, target_is_directory=True)
    (folder / "Leak by link.md").symlink_to(outside / "secret.md")
    (outside / "secret.md").write_text("---\ntitle: Leak by link\n---\nsecret three\n")
    # Control: a plain file saved after the links is uploaded, so the watcher was looking.
    (folder / "Plain new page.md").write_text("---\ntitle: Plain new page\n---\nhello\n")

    def titles() -> set[str]:
        return dc.emu.call(lambda: {c.title for c in dc.emu.store.all_content("page")})

    until(lambda: "Plain new page" in titles(), what="the plain file uploaded")
    quiet(dc.emu, 0.5)
    assert not {"Leak in linked folder", "Leak by link"} & titles()
    bodies = dc.emu.call(lambda: [c.body for c in dc.emu.store.all_content("page")])
    assert not any("secret" in body for body in bodies)
    assert (outside / "Leak.md").read_text().endswith("secret one\n")
    assert sorted(os.listdir(outside)) == ["Leak.md", "secret.md"]


# ---- size and time bounds ------------------------------------------------------------------


def test_oversized_bodies_are_413_whether_declared_or_streamed(dc: Rig) -> None:
    secret = dc.daemon.secret()
    total, folder = quiet(dc.emu, 0.5), snapshot_tree(dc.daemon.folder)
    pad = "x" * (2 * 1024 * 1024)
    big = json.dumps({"event": "page_updated", "page": {"id": 1}, "pad": pad}).encode()
    # declared by Content-Length, even with a valid signature
    code, answer = dc.post("/hook", big, {"X-Hub-Signature": sign_body(secret, big)})
    assert code == 413 and result_of(answer) == "body too large"
    # streamed in chunks with no length up front
    chunk = b"x" * 65536
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    code, answer = dc.post("/hook", chunked, {"Transfer-Encoding": "chunked"})
    assert code == 413
    # a compression bomb: 64 MiB that travels as ~64 KiB; the cap counts inflated bytes
    bomb = gzip.compress(b'{"event":"page_updated","pad":"' + b"a" * (64 << 20) + b'"}', 6)
    assert len(bomb) < 1024 * 1024
    peak = _peak_rss_mib(dc.daemon.proc.pid)
    code, answer = dc.post(
        "/hook", bomb, {"Content-Encoding": "gzip", "X-Hub-Signature": sign_body(secret, bomb)}
    )
    assert code == 413 and result_of(answer) == "body too large"
    if peak is not None:
        assert _peak_rss_mib(dc.daemon.proc.pid) - peak < 48  # never inflated in full
    # request heads larger than the server reads, and garbage that is not HTTP: 400, and
    # one warning line (the port may face the internet), not a traceback per request
    for _ in range(3):
        code, _ = dc.post("/hook", b"{}", {"X-Padding": "p" * 200_000})
        assert code in (400, 413, 431)
        assert http(dc.daemon.address, "POST", "/hook?" + "q" * 20_000)[0] in (400, 414)
    dc.assert_nothing_happens(total, folder)
    log = dc.daemon.log()
    assert "malformed HTTP request rejected" in log
    assert "Traceback" not in log and log.count("malformed HTTP request") == 1
    assert "body larger than" in dc.daemon.log()


def _peak_rss_mib(pid: int) -> int | None:
    """The process's peak resident memory (Linux), None elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _slow_client(address: tuple[str, int], head: bytes) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    sock.sendall(head)
    sock.setblocking(False)
    return sock


def _dribble(sock: socket.socket, byte: bytes) -> bytes | None:
    """Send one byte; what the server answered (b"" = closed), or None if nothing yet."""
    try:
        sock.sendall(byte)
    except OSError:
        return b""
    try:
        return sock.recv(4096)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def test_slow_bodies_and_headers_are_cut_off_and_never_tie_up_the_daemon(dc: Rig) -> None:
    """Slowloris: one byte a second. The body read times out (408, after webhook.body_timeout)
    and a request head that never ends is dropped (after webhook.idle_timeout), while
    genuine deliveries keep flowing meanwhile."""
    slow_body = _slow_client(
        dc.daemon.address,
        b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4096\r\n\r\n{",
    )
    slow_head = _slow_client(dc.daemon.address, b"POST /hook HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    page = dc.page_ids()[1]
    try:
        # Meanwhile a genuine change is delivered and pulled at once.
        dc.emu.call(lambda: dc.emu.store.edit(page, "<p>during-slowloris</p>"))
        until(
            lambda: (f := file_of(dc.daemon.folder, page)) and "during-slowloris" in f.read_text(),
            within=BODY_TIMEOUT * 0.9,
            what="a genuine delivery while slow clients hold connections",
        )
        assert dc.daemon.status() is not None
        # Served meanwhile: neither slow client has had an answer yet.
        assert _dribble(slow_body, b" ") is None and _dribble(slow_head, b"X") is None
        answers: dict[str, tuple[float, bytes]] = {}
        deadline = started + IDLE_TIMEOUT + 10
        while len(answers) < 2 and time.monotonic() < deadline:
            for name, sock, byte in (("body", slow_body, b" "), ("head", slow_head, b"X")):
                if name not in answers and (got := _dribble(sock, byte)) is not None:
                    answers[name] = (time.monotonic() - started, got)
            time.sleep(1.0)  # the attacker's pace, not synchronisation
    finally:
        slow_body.close()
        slow_head.close()
    assert set(answers) == {"body", "head"}, f"still open after {deadline - started:g} s: {answers}"
    # Each cut off by its own limit: not before it, and soon after (one byte a second).
    body_at, body_answer = answers["body"]
    assert body_answer.startswith(b"HTTP/1.1 408"), body_answer
    assert BODY_TIMEOUT - 0.5 < body_at < BODY_TIMEOUT + 4
    head_at, head_answer = answers["head"]
    assert head_answer == b"" and IDLE_TIMEOUT - 0.5 < head_at < IDLE_TIMEOUT + 4
    assert f"body not received within {BODY_TIMEOUT:g}s" in dc.daemon.log()


def test_shutdown_is_not_held_up_by_a_slow_client(tmp_path: Path) -> None:
    with server.ThreadedEmulator(flavor="dc", pages=0) as emu:
        daemon = Daemon(write_config(tmp_path, emu))
        try:
            daemon.wait_ready()
            sock = _slow_client(
                daemon.address, b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{"
            )
            until(lambda: "ready:" in daemon.log())
            started = time.monotonic()
            assert daemon.stop(within=8) == 0
            assert time.monotonic() - started < 5
            sock.close()
        finally:
            daemon.stop()


# ---- what the webhook port serves ----------------------------------------------------------


def test_webhook_port_does_not_serve_the_control_api(dc: Rig) -> None:
    for method, target in (
        ("GET", "/status"),
        ("POST", "/status"),
        ("GET", "/hook/../status"),
        ("GET", "/sync"),
        ("POST", "/sync"),
    ):
        code, body = http(dc.daemon.address, method, target)
        assert code in (404, 405), (method, target, code)
        assert b"running" not in body and str(dc.daemon.folder).encode() not in body
    code, body = http(dc.daemon.address, "GET", "/health")
    assert code == 200
    health = json.loads(body)
    assert set(health) <= {"status", "uptime", "mode", "last_event_age"}


# ---- the control socket ----------------------------------------------------------------------


NOBODY = 65534


def _connect_as(uid: int, path: Path) -> str:
    """Connect to a Unix socket from a forked child running as ``uid``: "connected",
    "denied" or "error <errno>"."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: stdlib calls only, then _exit
        outcome = b"error setuid"
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(3)
            try:
                sock.connect(os.fspath(path))
                outcome = b"connected"
            except PermissionError:
                outcome = b"denied"
            except OSError as exc:
                outcome = b"error %d" % exc.errno
        finally:
            os.write(write_end, outcome)
            os._exit(0)
    os.close(write_end)
    try:
        os.waitpid(pid, 0)
        return os.read(read_end, 100).decode()
    finally:
        os.close(read_end)


def test_control_socket_is_owner_only(dc: Rig) -> None:
    sock_path = dc.daemon.state_dir / "control.sock"
    st_dir, st_sock = os.stat(dc.daemon.state_dir), os.stat(sock_path)
    assert stat.S_ISSOCK(st_sock.st_mode)
    assert stat.S_IMODE(st_dir.st_mode) == 0o700
    assert stat.S_IMODE(st_sock.st_mode) == 0o600
    assert st_dir.st_uid == st_sock.st_uid == os.getuid()
    secret_file = dc.daemon.state_dir / "webhook-secret"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) & 0o077 == 0
    status = dc.daemon.status()  # the owner gets in, and sees no secret
    assert status is not None
    assert dc.daemon.secret() not in json.dumps(status) and "demo-token" not in json.dumps(status)

    if sys.platform == "win32" or os.geteuid() != 0:
        pytest.skip("connecting as another user needs root to setuid in a child")
    # Positive control: the other user can reach a socket open to all in the same place.
    probe_path = dc.root / "open.sock"
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.bind(os.fspath(probe_path))
        probe_path.chmod(0o777)
        probe.listen(1)
        assert _connect_as(NOBODY, probe_path) == "connected"
    finally:
        probe.close()
        probe_path.unlink(missing_ok=True)
    assert _connect_as(NOBODY, sock_path) == "denied"
    # The socket's own mode is a second lock: with the directory opened up it still refuses.
    dc.daemon.state_dir.chmod(0o755)
    try:
        assert _connect_as(NOBODY, sock_path) == "denied"
    finally:
        dc.daemon.state_dir.chmod(0o700)
    assert dc.daemon.status() is not None


# ---- the configuration -------------------------------------------------------------------------


def test_run_warns_about_a_literal_token_readable_by_others(dc: Rig) -> None:
    log = dc.daemon.log()
    assert "readable by other users" in log and "confluence.token" in log
    assert "chmod 600" in log
    assert "demo-token" not in log


# ---- Cloud: the URL token ------------------------------------------------------------------------


def test_cloud_wrong_or_missing_token_is_401_and_nothing_changes(cloud: Rig) -> None:
    secret = cloud.daemon.secret()
    page = cloud.page_ids()[1]
    body = json.dumps(
        {"page": {"id": page, "version": 99, "spaceKey": "DEMO"}, "timestamp": 1}
    ).encode()
    total, folder = quiet(cloud.emu, 0.5), snapshot_tree(cloud.daemon.folder)
    targets = [
        "/hook?event=page_updated",
        "/hook?event=page_updated&token=",
        "/hook?event=page_updated&token=guess",
        f"/hook?event=page_updated&token={secret[:-1]}",
        f"/hook?event=page_updated&token={secret}x",
        f"/hook?event=page_updated&token={secret.upper()}",
        f"/hook?event=page_updated&Token={secret}",
        f"/hook/{secret}?event=page_updated",
    ]
    for target in targets:
        code, answer = cloud.post(target, body)
        assert code in (401, 404), (target, code, answer)
    code, _ = cloud.post(
        "/hook?event=page_updated", body, {"Authorization": f"Bearer {secret}", "X-Token": secret}
    )
    assert code == 401
    code, _ = cloud.post(
        "/hook?event=page_updated", body, {"X-Hub-Signature": sign_body(secret, body)}
    )
    assert code == 401
    cloud.assert_nothing_happens(total, folder)
    status = cloud.daemon.status()
    assert status is not None and status["last_event_at"] is None
    assert secret not in json.dumps(status)  # the callback URL's token is not shown
    assert secret not in cloud.daemon.log()

    # Control: the right token gets the same body through, and the page is read.
    reads = page_reads(cloud.emu)
    code, answer = cloud.post(f"/hook?event=page_updated&token={secret}", body)
    assert code == 200 and result_of(answer) == "accepted"
    until(lambda: page_reads(cloud.emu) > reads, within=5, what="the page read")
    assert request_total(cloud.emu) > total
