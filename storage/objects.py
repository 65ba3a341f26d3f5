"""Where evidence files live: a local directory (default) or S3-compatible object storage.

One interface, two backends, chosen by ``TAIZHANG_FILES_URL``: unset → the local
``TAIZHANG_FILES_DIR``; ``s3://bucket/prefix`` → objects ``prefix/ab/cd/<sha256>`` through
boto3 (MinIO, 阿里云 OSS, 腾讯云 COS speak the same API; endpoint and keys come from the
standard ``AWS_ENDPOINT_URL``/``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_REGION``).
Keys are content addresses, so a put of an existing key is a no-op and instances never race.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from knowledge.records import EvidenceFile


def blob_key(sha256: str) -> str:
    """The store-relative key of a content: ``ab/cd/<sha256>``."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class ObjectStore(Protocol):
    """Content-addressed evidence storage."""

    def put(self, source: Path, key: str) -> bool:
        """Store ``source`` under ``key`` (the caller removes ``source``); True if it was already there."""
        ...

    def fetch(self, stored_path: str, destination: Path) -> None:
        """Copy a stored file (as recorded in ``attachments.stored_path``) to ``destination``."""
        ...

    def location(self, key: str) -> str:
        """What ``attachments.stored_path`` records for ``key``."""
        ...

    def probe(self) -> None:
        """Write, read back and delete a small object; raises ``OSError`` when that fails."""
        ...

    def describe(self) -> str:
        """Where the files go, for messages."""
        ...


class LocalObjects:
    """Files under a directory, renamed into place (atomic on one filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, source: Path, key: str) -> bool:
        target = self.root / key
        if target.exists():
            return True
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)
        return False

    def fetch(self, stored_path: str, destination: Path) -> None:
        path = Path(stored_path)
        shutil.copyfile(path if path.is_absolute() else self.root / path, destination)

    def location(self, key: str) -> str:
        return key  # relative to TAIZHANG_FILES_DIR: any working directory, a moved store still finds it

    def probe(self) -> None:
        probe = self.root / "tmp" / f".probe-{uuid.uuid4().hex}"
        probe.parent.mkdir(parents=True, exist_ok=True)
        try:
            payload = os.urandom(16)
            probe.write_bytes(payload)
            if probe.read_bytes() != payload:
                raise OSError("read back differs")
        finally:
            probe.unlink(missing_ok=True)

    def describe(self) -> str:
        return str(self.root.resolve())


class S3Objects:
    """Objects in one bucket under a prefix, through boto3 (a maintained S3 client, not hand-signed HTTP)."""

    def __init__(self, url: str, client: Any | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3:// URL: {url}")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        if client is None:
            import boto3

            client = boto3.client("s3")  # endpoint, region and keys from the standard AWS variables
        self.client = client

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise OSError(f"S3 {self.bucket}: {exc}") from exc
        return True

    def put(self, source: Path, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self._name(key)
        if self._exists(name):
            return True
        try:
            self.client.upload_file(str(source), self.bucket, name)
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"S3 upload to {self.bucket}/{name} failed: {exc}") from exc
        return False

    def fetch(self, stored_path: str, destination: Path) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        name = stored_path.removeprefix(f"s3://{self.bucket}/") if stored_path.startswith("s3://") else stored_path
        try:
            self.client.download_file(self.bucket, name, str(destination))
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"S3 download of {self.bucket}/{name} failed: {exc}") from exc

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def probe(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self._name(f"tmp/.probe-{uuid.uuid4().hex}")
        payload = os.urandom(16)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=payload)
            body = self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"S3 {self.bucket}: {exc}") from exc
        if body != payload:
            raise OSError(f"S3 {self.bucket}: read back differs")

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def open_store(files_url: str | None, files_dir: Path) -> ObjectStore:
    """The backend ``TAIZHANG_FILES_URL`` names, else the local files directory."""
    if files_url:
        return S3Objects(files_url)
    return LocalObjects(files_dir)


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def materialize(store: ObjectStore, files: list[EvidenceFile], folder: Path) -> list[EvidenceFile]:
    """Local copies of evidence kept in object storage, for zipping; local files are used in place.
    A file the store cannot deliver keeps its path and shows as missing in the bundle's list."""
    if isinstance(store, LocalObjects):
        return files
    local: list[EvidenceFile] = []
    for item in files:
        destination = folder / item.sha256
        try:
            if not destination.exists():
                store.fetch(item.stored_path, destination)
            local.append(replace(item, stored_path=str(destination)))
        except OSError:
            local.append(item)
    return local
