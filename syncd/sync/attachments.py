"""Attachments both ways, beside each page in ``<Title>.attachments/``.

Down: when a page is pulled (its version changed, or a hint named it), its
attachment list is read and every attachment whose version differs from the
recorded one is downloaded. A file the user changed since it was recorded is
not overwritten: the local version is uploaded instead.

Up: when a page is pushed or created, and on every full run for files whose
hash changed, each file in the page's attachments folder that is new or whose
sha256 differs from the record is uploaded (a new version when the name
exists), before the page body that references it.

Links are never followed: a file is read for an upload, or hashed, only when no
link is on its way (`atomic.read_inside`), so an attachments folder linked
elsewhere, or `key.txt -> ~/.ssh/id_rsa` inside it, is reported and never sent.
One attachment that cannot be downloaded (deleted meanwhile, a name the server
cannot serve) is reported by page and file and retried on the next run; the
page and its other attachments are synced regardless.

Records are matched by file name inside the page's current attachments folder,
so moving or renaming a page (which moves the folder along) needs no rewrite.

Deletions, both ways, are recoverable and guarded. An attachment that is no longer
current when its page's list is read was deleted in Confluence: the local file
goes to the local trash if it is unchanged since recorded (`syncd restore` brings
it back, and the next sync uploads it again), or is uploaded again if it was
edited (an edit beats a delete). A recorded file that is gone from its folder was
deleted locally: the attachment goes to the Confluence trash, unless Confluence
has a newer version, which is downloaded instead. A file that is only missing
because its folder is a link or unreadable, or because it still sits at its
recorded path (a page renamed without its folder), is not a deletion. Deletions
are collected first (`deletions`) and applied by `apply_deletions` once the run's
mass-deletion guard allows them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from syncd.confluence import ConfluenceClient, ConfluenceError, NotFound, stops_every_request
from syncd.confluence.models import Attachment
from syncd.local.atomic import (
    DirSyncs,
    UnsafePathError,
    atomic_write,
    move_to_trash,
    read_inside,
    resolve_inside,
    rmdir_inside,
    sha256_bytes,
)
from syncd.local.ignore import is_ignored_name
from syncd.local.layout import attachments_dir_of
from syncd.local.names import truncate_utf8
from syncd.local.write_batch import WriteBatch
from syncd.sync.records import AttachmentRecord
from syncd.sync.state import StateDB

log = logging.getLogger(__name__)

TRASHED_IDS_KEY = "attachments_trashed_remotely"
TRASHED_IDS_KEPT = 1000

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def safe_file_name(title: str, attachment_id: str) -> str:
    """An attachment's title as a file name that stays inside its folder."""
    name = _UNSAFE.sub("_", title).strip(" .")
    name = truncate_utf8(name, 200)
    if not name or is_ignored_name(name):
        name = f"attachment-{attachment_id}" + (f"-{name}" if name else "")
    return name


@dataclass(frozen=True)
class AttachmentDeletion:
    """A deletion to carry to the other side, held until the run's guard allows it.

    `side` is where something gets deleted: "local" (the file goes to the local trash,
    the attachment was deleted in Confluence) or "remote" (the attachment goes to the
    Confluence trash, the file was deleted locally).
    """

    side: Literal["local", "remote"]
    record: AttachmentRecord
    rel: str
    page_path: str

    def describe(self) -> str:
        if self.side == "local":
            return f"move {self.rel} to the local trash (deleted in Confluence)"
        return (
            f"move attachment {self.record.file_name!r} of {self.page_path} to the "
            "Confluence trash (deleted locally)"
        )


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


#: Attachments up to this size are downloaded into memory, bigger ones into a staging file.
HELD_IN_MEMORY = 1 << 20
#: Bytes held in memory at most by downloads waiting for their page; past it, staging.
HELD_AHEAD = 4 << 20


class AttachmentSync:
    def __init__(
        self,
        root: Path,
        db: StateDB,
        client: ConfluenceClient,
        staging: Path,
        observer: object | None = None,
        trash_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.db = db
        self.client = client
        self.staging = staging
        self.observer = observer
        self.trash_dir = trash_dir
        #: Where downloads owe their folder fsyncs while the executor groups its pulls
        #: (`syncd.sync.executor.durability`); None: each write fsyncs its folder.
        self.dirs: DirSyncs | None = None
        #: Likewise the downloads' files, renamed into place when the group closes.
        self.batch: WriteBatch | None = None
        #: One line per attachment that was skipped (the executor points this at its
        #: run's error list).
        self.errors: list[str] = []
        #: Attachments that could not be synced this run (the change-feed watermark
        #: stays where it is, so they are looked at again).
        self.failures = 0
        #: Deletions found this run, by attachment id, waiting for `apply_deletions`.
        self.deletions: dict[str, AttachmentDeletion] = {}
        #: Downloads started ahead of their page's turn (`prefetch`), by (id, version):
        #: each lands in a staging file that `pull` takes over.
        self._ahead: dict[tuple[str, int], asyncio.Task[bytes | str]] = {}
        #: Bytes of downloads held in memory (`_fetch`), until their page takes them.
        self._held = 0

    def prefetch(self, page_id: str, attachments: Iterable[Attachment]) -> None:
        """Start downloading, into staging files, the attachments `pull` will want for
        this page (current ones whose version the state does not hold), so that a run
        pulling many pages downloads several at a time while pages are applied in order.
        What `pull` then does not use is removed by `discard_prefetched`."""
        known = {r.attachment_id: r.version for r in self.db.attachments(page_id)}
        for att in attachments:
            key = (att.id, att.version)
            if att.status != "current" or known.get(att.id) == att.version or key in self._ahead:
                continue
            self._ahead[key] = asyncio.ensure_future(self._fetch(att))

    async def _fetch(self, att: Attachment) -> bytes | str:
        """The attachment's bytes, or a staging file holding them for a big (or unsized)
        one or when the bytes held ahead would pass `HELD_AHEAD`: memory stays bounded
        however many downloads run ahead."""
        size = att.size
        if size is None or size > HELD_IN_MEMORY or self._held + size > HELD_AHEAD:
            return await self._download_to_staging(att)
        self._held += size
        try:
            return await self.client.download_attachment(att, None)
        except BaseException:
            self._held -= size
            raise

    async def _download_to_staging(self, att: Attachment) -> str:
        self.staging.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.staging, prefix="att-")
        os.close(fd)
        try:
            # Scratch: read back at its page's turn and written durably into the folder.
            await self.client.download_attachment(att, tmp, durable=False)
        except BaseException:
            _remove(tmp)
            raise
        return tmp

    async def discard_prefetched(self) -> None:
        """Cancel downloads started ahead and remove the staging files nobody took."""
        tasks, self._ahead = list(self._ahead.values()), {}
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, str):  # finished before the cancel: nobody took it
                _remove(outcome)
        self._held = 0

    def _local(self, rel: str) -> tuple[str | None, os.stat_result | None]:
        try:
            st = os.stat(self.root / rel, follow_symlinks=False)
            return sha256_bytes(read_inside(self.root, rel)), st
        except OSError:
            return None, None

    def _page_name(self, page_id: str, page_path: str) -> str:
        record = self.db.get_page(page_id)
        return f"{record.title!r} ({page_path})" if record is not None else page_path

    async def pull(
        self,
        page_id: str,
        page_path: str,
        kind: str = "page",
        *,
        listed: list[Attachment] | None = None,
    ) -> list[str]:
        """Download new or changed attachments of a page; returns the paths written.

        `listed` is the page's attachment list when the caller fetched it already.
        """
        attachments = (
            listed if listed is not None else await self.client.list_attachments(page_id, kind=kind)  # type: ignore[arg-type]
        )
        known = {r.attachment_id: r for r in self.db.attachments(page_id)}
        folder = attachments_dir_of(page_path)
        written: list[str] = []
        current: set[str] = set()
        for att in attachments:
            if att.status != "current":
                continue
            current.add(att.id)
            name = safe_file_name(att.title, att.id)
            rel = f"{folder}/{name}"
            record = known.get(att.id)
            local_sha, _ = self._local(rel)
            if record is not None and record.version == att.version and local_sha == record.hash:
                continue
            if record is not None and local_sha is not None and local_sha != record.hash:
                continue  # edited locally since recorded: the upload side handles it
            if (
                record is not None
                and record.version == att.version
                and local_sha is None
                and self.deleted_locally(record, rel)
            ):
                continue  # deleted locally: the local-deletion step decides (guarded)
            try:
                data = await self._download(att)
                sha = sha256_bytes(data)
                if local_sha != sha:
                    if self.observer is not None:
                        self.observer.expect_write(rel, sha)  # type: ignore[attr-defined]
                    result = atomic_write(self.root, rel, data, dirs=self.dirs, batch=self.batch)
            except (ConfluenceError, OSError) as exc:
                if stops_every_request(exc):
                    raise
                # One attachment must not hold back the page or its other attachments.
                self.errors.append(
                    f"{self._page_name(page_id, page_path)}: attachment {att.title!r} "
                    f"not downloaded to {rel} ({exc}); retried on the next run"
                )
                log.warning("attachment %r of %s not downloaded: %s", att.title, page_path, exc)
                self.failures += 1
                continue
            if local_sha != sha:
                written.append(rel)
                size, mtime = result.size, result.mtime_ns
            else:
                _, st = self._local(rel)
                size, mtime = (st.st_size, st.st_mtime_ns) if st else (None, None)
            self.db.put_attachment(
                AttachmentRecord(page_id, att.id, name, att.version, rel, sha, size, mtime)
            )
        for record in known.values():
            if record.attachment_id not in current:
                await self._gone_remotely(page_id, page_path, record)
        return written

    async def _gone_remotely(self, page_id: str, page_path: str, record: AttachmentRecord) -> None:
        """A recorded attachment is no longer current in Confluence (trashed or purged)."""
        rel = f"{attachments_dir_of(page_path)}/{record.file_name}"
        local_sha, st = self._local(rel)
        if local_sha is None:
            self.db.delete_attachment(record.attachment_id)  # gone on both sides
            self.deletions.pop(record.attachment_id, None)
        elif local_sha == record.hash:
            self.deletions[record.attachment_id] = AttachmentDeletion(
                "local", record, rel, page_path
            )
        else:
            # Edited locally since recorded: an edit beats a delete, it goes back up.
            try:
                data = await asyncio.to_thread(read_inside, self.root, rel)
                att = await self._upload(page_id, record.file_name, data, record.attachment_id)
            except (ConfluenceError, OSError) as exc:
                if stops_every_request(exc):
                    raise
                self.failures += 1
                self.errors.append(
                    f"{self._page_name(page_id, page_path)}: {rel} was deleted in Confluence "
                    f"after you edited it; uploading it again failed ({exc}); retried on the "
                    "next run"
                )
                return
            with self.db.transaction():
                self.db.delete_attachment(record.attachment_id)
                self.db.put_attachment(
                    AttachmentRecord(
                        page_id,
                        att.id,
                        record.file_name,
                        att.version,
                        rel,
                        sha256_bytes(data),
                        st.st_size if st else None,
                        st.st_mtime_ns if st else None,
                    )
                )
            log.info("%s: deleted in Confluence but edited locally; uploaded again", rel)

    # ------------------------------------------------------------------ deletions

    def deleted_locally(self, record: AttachmentRecord, rel: str) -> bool:
        """True when the recorded file is really gone, not merely out of sight.

        Not a deletion: the file is there; its folder (or a folder on the way) is a link,
        not a folder, or unreadable; the file still sits at its recorded path (a page
        renamed or moved without its attachments folder).
        """
        folder = rel.rsplit("/", 1)[0]
        try:
            path = resolve_inside(self.root, folder)
            st = os.lstat(path)
        except FileNotFoundError:
            pass  # the whole folder was deleted
        except OSError:
            return False  # a link on the way, or unreadable
        else:
            if not stat.S_ISDIR(st.st_mode):
                return False
            try:
                os.listdir(path)
            except OSError:
                return False
        for candidate in {rel, record.local_path}:
            try:
                if os.path.lexists(resolve_inside(self.root, candidate)):
                    return False
            except OSError:
                return False
        return True

    async def check_local_deletions(
        self, page_id: str, page_path: str, kind: str, records: Iterable[AttachmentRecord]
    ) -> None:
        """Files deleted locally: queue the Confluence side's deletion, after one look at
        the page's attachment list (a newer version there is downloaded instead)."""
        folder = attachments_dir_of(page_path)
        gone = [r for r in records if self.deleted_locally(r, f"{folder}/{r.file_name}")]
        if not gone:
            return
        listed = await self.client.list_attachments(page_id, kind=kind)  # type: ignore[arg-type]
        by_id = {a.id: a for a in listed if a.status == "current"}
        changed = False
        for record in gone:
            att = by_id.get(record.attachment_id)
            if att is None:
                continue  # deleted in Confluence too: the pull below forgets it
            if att.version != record.version:
                changed = True  # a newer version beats the local delete: downloaded below
                continue
            self.deletions[record.attachment_id] = AttachmentDeletion(
                "remote", record, f"{folder}/{record.file_name}", page_path
            )
        if changed or any(r.attachment_id not in by_id for r in gone):
            await self.pull(page_id, page_path, kind, listed=listed)

    async def apply_deletions(
        self, deletions: Iterable[AttachmentDeletion]
    ) -> list[AttachmentDeletion]:
        """Carry out deletions the guard allowed; returns those done. Each is checked
        again first: a file edited or restored meanwhile is kept."""
        done: list[AttachmentDeletion] = []
        for d in deletions:
            try:
                if d.side == "local":
                    if not self._trash_local(d):
                        continue
                else:
                    if not self.deleted_locally(d.record, d.rel):
                        continue  # the file came back meanwhile
                    try:
                        await self.client.delete_attachment(d.record.attachment_id)
                    except NotFound:
                        pass  # already gone: forgetting it is still right
                    self.db.delete_attachment(d.record.attachment_id)
            except (ConfluenceError, OSError) as exc:
                if stops_every_request(exc):
                    raise
                self.failures += 1
                self.errors.append(f"{d.describe()}: failed ({exc}); retried on the next run")
                continue
            done.append(d)
        return done

    def _trash_local(self, d: AttachmentDeletion) -> bool:
        if self.trash_dir is None:
            return False
        sha, _ = self._local(d.rel)
        if sha is None:
            self.db.delete_attachment(d.record.attachment_id)
            return False
        if sha != d.record.hash:
            return False  # edited meanwhile: the next run uploads it again
        if self.observer is not None:
            self.observer.expect_delete(d.rel)  # type: ignore[attr-defined]
        move_to_trash(self.root, d.rel, self.trash_dir)
        with self.db.transaction():
            self.db.delete_attachment(d.record.attachment_id)
            trashed = self._trashed_ids()
            trashed[f"{d.record.page_id}/{d.record.file_name}"] = d.record.attachment_id
            self._save_trashed_ids(trashed)
        folder = d.rel.rsplit("/", 1)[0]
        rmdir_inside(self.root, folder)  # only when it is left empty
        return True

    async def _download(self, att: Attachment) -> bytes:
        started = self._ahead.pop((att.id, att.version), None)
        tmp = await started if started is not None else await self._fetch(att)
        if isinstance(tmp, bytes):
            self._held -= att.size or 0
            return tmp
        try:
            return await asyncio.to_thread(Path(tmp).read_bytes)
        finally:
            _remove(tmp)

    async def _same_in_confluence(
        self, remote: list[Attachment], name: str, data: bytes
    ) -> Attachment | None:
        """The page's attachment stored as `name` if its bytes are `data` (one download)."""
        for att in remote:
            if att.status != "current" or safe_file_name(att.title, att.id) != name:
                continue
            if att.size is not None and att.size != len(data):
                return None
            try:
                theirs = await self._download(att)
            except (ConfluenceError, OSError) as exc:
                if stops_every_request(exc):
                    raise
                return None
            return att if theirs == data else None
        return None

    async def _upload(
        self, page_id: str, name: str, data: bytes, attachment_id: str | None = None
    ) -> Attachment:
        """Upload bytes already read (never a path the client would open through a link).

        `attachment_id`: the attachment the file was, when it is in Confluence's trash
        (its name is still taken there), else one syncd trashed locally for this name.
        """
        self.staging.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.staging, prefix="up-")
        key = f"{page_id}/{name}"
        trashed = self._trashed_ids()
        attachment_id = attachment_id or trashed.get(key)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            att = await self.client.upload_attachment(
                page_id, tmp, filename=name, attachment_id=attachment_id
            )
        finally:
            _remove(tmp)
        if key in trashed:
            del trashed[key]
            self._save_trashed_ids(trashed)
        return att

    def _trashed_ids(self) -> dict[str, str]:
        """Attachments deleted in Confluence whose files syncd moved to the local trash,
        by "page id/file name": a file restored with `syncd restore` becomes a new version
        of that attachment (a new one would clash with the trashed one's name)."""
        raw = self.db.get_meta(TRASHED_IDS_KEY)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save_trashed_ids(self, ids: dict[str, str]) -> None:
        items = list(ids.items())[-TRASHED_IDS_KEPT:]
        self.db.set_meta(TRASHED_IDS_KEY, json.dumps(dict(items)) if items else None)

    async def push(
        self,
        page_id: str,
        page_path: str,
        kind: str = "page",
        files: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Upload new or changed files of the page's attachments folder.

        `files` (relative path -> sha256) comes from a scan; without it the folder is read.
        """
        folder = attachments_dir_of(page_path)
        try:
            resolve_inside(self.root, folder)
        except UnsafePathError:
            self.errors.append(
                f"{self._page_name(page_id, page_path)}: {folder} is a link (or inside one); "
                "its files are never uploaded (syncd does not read through links)"
            )
            return []
        if files is None:
            files = {}
            try:
                names = sorted(os.listdir(self.root / folder))
            except (FileNotFoundError, NotADirectoryError):
                names = []
            for name in names:
                if not is_ignored_name(name):
                    files[f"{folder}/{name}"] = ""
        by_name = {r.file_name: r for r in self.db.attachments(page_id)}
        uploaded: list[str] = []
        remote: list[Attachment] | None = None
        for rel, scanned in sorted(files.items()):
            name = rel[len(folder) + 1 :]
            if "/" in name:
                continue
            record = by_name.get(name)
            if record is not None and record.hash == scanned:
                continue
            try:
                data = await asyncio.to_thread(read_inside, self.root, rel)
            except UnsafePathError:
                self.errors.append(
                    f"{self._page_name(page_id, page_path)}: {rel} is a link; never uploaded "
                    "(syncd does not read through links)"
                )
                continue
            except OSError:
                continue  # a folder, or gone meanwhile
            sha = sha256_bytes(data)  # exactly the bytes sent
            if record is not None and record.hash == sha:
                continue
            _, st = self._local(rel)
            if record is None:
                # No record: a crash between a download and its record, or a lost state.
                # The same bytes already in Confluence are recorded, never uploaded again.
                if remote is None:
                    remote = await self.client.list_attachments(page_id, kind=kind)  # type: ignore[arg-type]
                same = await self._same_in_confluence(remote, name, data)
                if same is not None:
                    self.db.put_attachment(
                        AttachmentRecord(
                            page_id,
                            same.id,
                            name,
                            same.version,
                            rel,
                            sha,
                            st.st_size if st else None,
                            st.st_mtime_ns if st else None,
                        )
                    )
                    continue
            att = await self._upload(page_id, name, data)
            self.db.put_attachment(
                AttachmentRecord(
                    page_id,
                    att.id,
                    name,
                    att.version,
                    rel,
                    sha,
                    st.st_size if st else None,
                    st.st_mtime_ns if st else None,
                )
            )
            uploaded.append(rel)
        return uploaded
