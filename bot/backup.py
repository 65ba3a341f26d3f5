"""``taizhang backup --out DIR`` and ``taizhang restore DIR``.

A backup folder holds the database (SQLite through its online backup API, so the bot may keep
running; PostgreSQL through ``pg_dump --format=custom``), every evidence file referenced by the
database in the store's own ``ab/cd/<sha256>`` layout, and ``manifest.json`` with the sha256 of
each file. The manifest is written last: a folder without it is not a finished backup.
A restore verifies every sha256 first and only goes into an empty database and an empty store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, make_url, select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import Attachment, ProgressReport
from storage.objects import LocalObjects, ObjectStore

MANIFEST = "manifest.json"
FORMAT = "taizhang-backup/1"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on (the message is for the operator)."""


@dataclass(frozen=True)
class Outcome:
    """What a backup or restore did."""

    reports: int
    files: int
    missing: list[str]
    folder: Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _blob_path(sha: str) -> str:
    return f"{sha[:2]}/{sha[2:4]}/{sha}"


def _pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore`` on PATH, else the newest under /usr/lib/postgresql (Debian)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"找不到 {name}：PostgreSQL 数据库的备份与恢复需要 PostgreSQL 客户端工具"
        f"（Debian/Ubuntu：apt install postgresql-client，版本不低于服务器）"
    )


def _pg_command(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} 失败：{result.stderr.strip()[:500]}")


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while other connections write."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(name)


def _referenced_files(session: Session) -> list[tuple[str, str]]:
    """(sha256, stored path) of every attachment, one per content."""
    seen: dict[str, str] = {}
    for sha, stored in session.execute(select(Attachment.sha256, Attachment.stored_path).order_by(Attachment.id)):
        seen.setdefault(sha, stored)
    return sorted(seen.items())


def _count_reports(session: Session) -> int:
    return len(session.scalars(select(ProgressReport.id)).all())


def _locate(files_dir: Path, sha: str, stored: str) -> Path:
    path = Path(stored)
    if not path.is_absolute():
        path = files_dir / path
    return path if path.is_file() else files_dir / _blob_path(sha)


def backup(database_url: str, files_dir: Path, out: Path, now: datetime, store: ObjectStore | None = None) -> Outcome:
    """Write a complete backup folder (see the module docstring); ``store``: S3 evidence, if used."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} 不是空目录：请换一个新目录")
    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    if _is_sqlite(database_url):
        source = _sqlite_path(database_url)
        if not source.is_file():
            raise BackupError(f"数据库文件 {source} 不存在")
        dump = out / SQLITE_FILE
        _sqlite_copy(source, dump)
        engine = "sqlite"
    else:
        dump = out / PG_FILE
        target, env = _pg_command(database_url)
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump), "--dbname", target], env)
        engine = "postgresql"
    entries.append({"path": dump.name, "sha256": _sha256(dump), "size": dump.stat().st_size})
    # The evidence store is append-only, so listing after the dump copies every file the dump refers to.
    database = Database(database_url)
    try:
        files = database.call(_referenced_files)
        reports = database.call(_count_reports)
        revision = database.revisions()[0]
    finally:
        database.dispose()
    missing: list[str] = []
    for sha, stored in files:
        relative = f"files/{_blob_path(sha)}"
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        if store is not None and not isinstance(store, LocalObjects):
            try:
                store.fetch(stored, out / relative)
            except OSError:
                missing.append(sha)
                continue
        else:
            source_file = _locate(files_dir, sha, stored)
            if not source_file.is_file():
                missing.append(sha)
                continue
            shutil.copyfile(source_file, out / relative)
        digest = _sha256(out / relative)
        if digest != sha:
            missing.append(sha)  # the stored copy is damaged: say so rather than back up wrong bytes
            (out / relative).unlink()
            continue
        entries.append({"path": relative, "sha256": digest, "size": (out / relative).stat().st_size})
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "database": {"engine": engine, "file": dump.name, "revision": revision},
        "counts": {"progress_reports": reports, "attachments": len(files)},
        "files": entries,
        "missing": missing,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return Outcome(reports, len(files) - len(missing), missing, out)


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} 里没有 {MANIFEST}：不是完整的备份")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不认识的备份格式：{manifest.get('format')}")
    damaged = [
        entry["path"]
        for entry in manifest["files"]
        if not (folder / entry["path"]).is_file() or _sha256(folder / entry["path"]) != entry["sha256"]
    ]
    if damaged:
        raise BackupError(f"备份已损坏，{len(damaged)} 个文件与清单的 sha256 不符：{'、'.join(damaged[:5])}")
    return manifest


def _database_is_empty(url: str) -> bool:
    if _is_sqlite(url):
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    database = Database(url)
    try:
        return not inspect(database.engine).get_table_names()
    finally:
        database.dispose()


def _repoint(session: Session, files_dir: Path, store: ObjectStore | None) -> None:
    """Stored paths name the old store: point them at the restored copies (relative ones stay)."""
    remote = store is not None and not isinstance(store, LocalObjects)
    for row in session.scalars(select(Attachment)):
        if remote and store is not None:
            row.stored_path = store.location(_blob_path(row.sha256))
        elif Path(row.stored_path).is_absolute() or row.stored_path.startswith("s3://"):
            row.stored_path = _blob_path(row.sha256)  # relative to TAIZHANG_FILES_DIR


def restore(folder: Path, database_url: str, files_dir: Path, store: ObjectStore | None = None) -> Outcome:
    """Restore a backup folder into an empty database and an empty evidence store
    (an S3 store is content-addressed: objects already there are simply kept)."""
    manifest = _read_manifest(folder)
    if not _database_is_empty(database_url):
        raise BackupError("目标数据库不是空的：恢复只能进入新建的空数据库")
    remote = store is not None and not isinstance(store, LocalObjects)
    if not remote and files_dir.exists() and any(p.is_file() for p in files_dir.rglob("*")):
        raise BackupError(f"材料目录 {files_dir} 不是空的：恢复只能进入空目录")
    engine = manifest["database"]["engine"]
    dump = folder / manifest["database"]["file"]
    if engine == "sqlite":
        if not _is_sqlite(database_url):
            raise BackupError("这是 SQLite 备份，目标是 PostgreSQL：请先恢复到 SQLite，再迁移")
        target = _sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(dump, target)
    else:
        if _is_sqlite(database_url):
            raise BackupError("这是 PostgreSQL 备份，目标是 SQLite：请恢复到 PostgreSQL 数据库")
        target_url, env = _pg_command(database_url)
        _run([_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", target_url, str(dump)], env)
    copied = 0
    for entry in manifest["files"]:
        if not entry["path"].startswith("files/"):
            continue
        key = entry["path"].removeprefix("files/")
        if remote and store is not None:
            store.put(folder / entry["path"], key)  # uploads; the backup folder keeps its copy
        else:
            destination = files_dir / key
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / entry["path"], destination)
        copied += 1
    database = Database(database_url)
    try:
        database.upgrade()  # a backup from an older version is brought up to date
        database.call(_repoint, files_dir, store)
        reports = database.call(_count_reports)
    finally:
        database.dispose()
    return Outcome(reports, copied, list(manifest.get("missing", [])), folder)
