"""A real editor against the real daemon (issue 14): vim, in tmux, saves a page file with
each ``backupcopy`` setting while ``syncd run`` watches the folder.

Vim's three ways of writing: ``yes`` overwrites the file in place, ``no`` writes a new file
and renames it over the old one (new inode), ``auto`` picks one after probing the folder
with a file named ``4913``; around every write it keeps a swap file (``.name.md.swp``) and a
backup (``name.md~``).  Every save must reach the page, syncd must never rewrite the file
under vim (vim would then stop the next ``:w`` with "WARNING: The file has been changed
since reading it!!!"), and none of vim's own files may become a page or an attachment.

Each save appends a line right under the last paragraph: a soft line break, which before
issue 14 was read back joined and so rewrote the file just saved.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from syncd.emulator import server

from .daemon_support import Daemon, file_of, page_body, until, write_config

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("vim") and shutil.which("tmux")),
        reason="needs vim and tmux (Debian: apt-get install vim tmux)",
    ),
]

BODY = (
    "<p>First paragraph, written in Confluence.</p>"
    "<p>The last paragraph; the editor adds lines right under it.</p>"
)
# What vim says when the file changed under it: at :w, and at :checktime (W11 / W12).
VIM_WARNINGS = re.compile(r"changed since reading it|W1[12]:|has changed since editing")


class Vim:
    """vim in a tmux session on a private socket."""

    def __init__(self, tmp: Path, file: Path) -> None:
        self.socket = str(tmp / "tmux.sock")
        # No vimrc and no viminfo: the defaults, swap file next to the file (directory=.).
        command = f"vim -u NONE -U NONE -N -i NONE --cmd 'set directory=.' '{file.name}'"
        self.tmux("new-session", "-d", "-s", "ed", "-x", "160", "-y", "40", "-c", str(file.parent),
                  command)  # fmt: skip
        until(lambda: file.name in self.screen(), 15, "vim to open the file")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> str:
        text = self.tmux("capture-pane", "-p", "-t", "ed")
        return text

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "ed", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "ed", "-l", text)

    def command(self, text: str) -> None:
        self.keys("Escape")
        self.type(":" + text)
        self.keys("Enter")

    def run(self, command: str, tag: str) -> None:
        """Run an Ex command and wait until vim has done it (it then echoes ``tag``).  A
        warning prompt stops vim before the echo: that fails at once, with the screen."""
        self.command(f"{command} | echo 'done-{tag}'")

        def done() -> bool:
            screen = self.screen()
            assert not VIM_WARNINGS.search(screen), f"vim warned:\n{screen}"
            return f"done-{tag}" in screen

        until(done, 20, f"vim to run {command!r}")

    def close(self) -> None:
        try:
            self.command("qa!")
        finally:
            subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


def _pushes(daemon: Daemon, page_id: str) -> int:
    return len(re.findall(rf"syncd\.daemon: pushed .* page {page_id} ->", daemon.log()))


def test_vim_saves_reach_the_page_and_the_file_is_never_rewritten_under_it(tmp_path) -> None:
    with server.ThreadedEmulator(flavor="cloud", pages=1, space="DEMO") as emu:
        page_id = emu.call(lambda: emu.store.create_page("DEMO", "Vim Notes", BODY).id)
        config = write_config(tmp_path, emu)
        with Daemon(config) as daemon:
            daemon.wait_ready()
            path = until(lambda: file_of(daemon.folder, page_id), 20, "the page file")
            vim = Vim(tmp_path, path)
            try:
                lines = []
                for n, mode in enumerate(["yes", "no", "auto", "auto"]):
                    line = f"Line {n} saved with backupcopy={mode}."
                    lines.append(line)
                    pushed = _pushes(daemon, page_id)
                    vim.command(f"set backupcopy={mode}")
                    # Vim re-checks the file's time stamp: it warns if syncd touched it.
                    vim.run("checktime", f"{n}-checked")
                    before_save = time.time_ns()
                    vim.keys("G", "o")
                    vim.type(line)
                    vim.run("w", f"{n}-saved")

                    def reached(line: str = line) -> bool:
                        return line in page_body(emu, page_id)

                    until(reached, 60, f"the save with backupcopy={mode} to reach the page")
                    until(lambda p=pushed: _pushes(daemon, page_id) > p, 30, "the push record")
                    # The appended lines are soft breaks in the page's last paragraph.
                    stored = page_body(emu, page_id)
                    assert "under it.\n" + "\n".join(lines) + "</p>" in stored, stored
                    # The file is what vim wrote: syncd did not replace it (its own writes
                    # are dated 3 s back, so a rewrite would predate the save).
                    assert path.read_text(encoding="utf-8").endswith(
                        "under it.\n" + "\n".join(lines) + "\n"
                    )
                    assert path.stat().st_mtime_ns >= before_save - 1_000_000_000
                vim.run("checktime", "last-checked")
                vim.run("w", "last-saved")
            finally:
                vim.close()
            # vim's swap files, backups and 4913 probe never became pages or attachments.
            titles = emu.call(lambda: [c.title for c in emu.store.all_content()])
            files = emu.call(
                lambda: [
                    a.filename
                    for c in emu.store.all_content()
                    for a in emu.store.attachments_of(c.id)
                ]
            )
            vim_files = re.compile(r"^\d+$|\.sw[a-p]$|~$|^\.")
            assert not [t for t in titles + files if vim_files.search(t)], (titles, files)
            assert not re.search(r"4913|\.swp|\.md~", daemon.log()), daemon.log()[-3000:]
