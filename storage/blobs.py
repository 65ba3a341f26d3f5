"""Evidence files: content-addressed storage by sha256, attachment rows.

A download goes to ``<files>/tmp/`` first; only a complete (its size equals what Telegram
announced), identified (``knowledge.filetypes``, by content) and fsynced file is renamed into
``<files>/ab/cd/<sha256>`` (atomic on one filesystem), so a crash leaves no half file in the
store, and the temp folder is emptied at start. Rows keep the path relative to the files
folder (``ab/cd/<sha256>``), so the store can move and any working directory finds it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.evidence_items import PAPER_MIME, PAPER_NAME
from knowledge.filetypes import ALLOWED_TYPES, MIMES, check_complete, identify, unsupported
from storage.models import Attachment, Indicator, Unit
from storage.objects import LocalObjects, ObjectStore, blob_key

MAX_TELEGRAM_DOWNLOAD = 20 * 1024 * 1024


def sanitise_name(name: str, fallback: str = "附件") -> str:
    """A safe display/storage name: no folders, no control characters, bounded length."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name).strip().strip(".")
    if not name:
        name = fallback
    stem, dot, suffix = name.rpartition(".")
    if dot and len(name) > 120:
        name = stem[: 110 - len(suffix)] + "." + suffix
    return name[:120]


@dataclass(frozen=True)
class StoredBlob:
    """A file in the content-addressed store (``stored_path`` relative to the files folder)."""

    sha256: str
    size: int
    kind: str
    mime: str
    stored_path: str
    already_stored: bool


class BlobStore:
    """Files under one folder, by sha256; temp downloads under ``tmp/``."""

    def __init__(
        self,
        root: Path,
        allowed: tuple[str, ...] = ALLOWED_TYPES,
        instance: str | None = None,
        objects: ObjectStore | None = None,
    ) -> None:
        self.root = root
        self.allowed = allowed
        self.tmp = root / "tmp" / (instance or instance_name())
        self.objects: ObjectStore = objects or LocalObjects(root)  # where finished files go

    def prepare(self) -> None:
        """Create this instance's temp folder; drop partial downloads left by a crash of this
        instance or of a dead process on this host. Other live instances' folders are theirs."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp.iterdir():
            if leftover.is_file():
                leftover.unlink()
        host = socket.gethostname()
        for folder in self.tmp.parent.iterdir():
            name, _, pid = folder.name.rpartition("-")
            if folder != self.tmp and folder.is_dir() and name == host and pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    def temp_path(self, token: str) -> Path:
        """Where a download in progress goes."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{token}.part"

    def commit(self, temp: Path, original_name: str, expected_size: int | None = None) -> StoredBlob:
        """Check, hash, fsync and move a finished download into the store (dedupe by sha256).

        ``expected_size`` is Telegram's ``file_size``: a shorter (or longer) download is refused.
        """
        try:
            size = temp.stat().st_size
            check_complete(sanitise_name(original_name), size, expected_size)
            kind = identify(temp, original_name)
            if kind not in self.allowed:
                raise unsupported(kind.upper())
            digest = hashlib.sha256()
            with temp.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
                os.fsync(handle.fileno())
            sha = digest.hexdigest()
            key = blob_key(sha)
            already = self.objects.put(temp, key)
            mime = MIMES.get(kind, "application/octet-stream")
            return StoredBlob(sha, size, kind, mime, self.objects.location(key), already)
        finally:
            if temp.exists():
                temp.unlink()


def instance_name() -> str:
    """This process's temp folder name: host and pid, so instances sharing a store never collide."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def add_attachment(
    session: Session,
    *,
    indicator: Indicator,
    unit: Unit,
    period: str,
    blob: StoredBlob,
    original_name: str,
    caption: str,
    telegram_file_id: str,
    telegram_file_unique_id: str,
    uploader_id: int,
    uploader_name: str,
    update_id: int | None,
    now: datetime,
) -> tuple[Attachment, bool]:
    """Record an attachment; (row, True) if the same content was already attached here."""
    existing = session.scalar(
        select(Attachment).where(
            Attachment.indicator_id == indicator.id,
            Attachment.period == period,
            Attachment.unit_id == unit.id,
            Attachment.sha256 == blob.sha256,
        )
    )
    if existing is not None:
        return existing, True
    row = Attachment(
        indicator_id=indicator.id,
        unit_id=unit.id,
        period=period,
        sha256=blob.sha256,
        size=blob.size,
        mime=blob.mime,
        original_name=sanitise_name(original_name),
        stored_path=blob.stored_path,
        caption=caption[:500],
        telegram_file_id=telegram_file_id,
        telegram_file_unique_id=telegram_file_unique_id,
        uploader_telegram_id=uploader_id,
        uploader_name=uploader_name,
        source_update_id=update_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, False


def attachment_for_update(session: Session, update_id: int, *, bot_id: int = 0) -> Attachment | None:
    """The attachment an update stored since its claim (None if it stored none)."""
    from storage.models import ProcessedUpdate

    claim = session.get(ProcessedUpdate, (bot_id, update_id))
    if claim is None:
        return None
    return session.scalar(
        select(Attachment)
        .where(Attachment.source_update_id == update_id, Attachment.created_at >= claim.processed_at)
        .order_by(Attachment.id.desc())
        .limit(1)
    )


def add_paper_entry(
    session: Session,
    *,
    indicator: Indicator,
    unit: Unit,
    period: str,
    note: str,
    uploader_id: int,
    uploader_name: str,
    update_id: int | None,
    now: datetime,
) -> Attachment:
    """Record that an indicator's evidence for a period is kept on paper (no file)."""
    row = Attachment(
        indicator_id=indicator.id,
        unit_id=unit.id,
        period=period,
        sha256="",
        size=0,
        mime=PAPER_MIME,
        original_name=PAPER_NAME,
        stored_path="",
        caption=note[:500],
        uploader_telegram_id=uploader_id,
        uploader_name=uploader_name,
        source_update_id=update_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def attachments_for(
    session: Session, indicator_id: int, period: str, unit_ids: list[int] | None = None
) -> list[Attachment]:
    """Evidence of an indicator for a period (one unit's, or all)."""
    query = select(Attachment).where(Attachment.indicator_id == indicator_id, Attachment.period == period)
    if unit_ids:
        query = query.where(Attachment.unit_id.in_(unit_ids))
    return list(session.scalars(query.order_by(Attachment.id)))
