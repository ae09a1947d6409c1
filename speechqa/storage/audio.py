"""Where recordings live: a folder on this machine, or an S3-compatible bucket for many machines.

On one machine the API and the workers share the data dir and the recordings sit in its
``audio/`` folder. On many machines nothing is shared but PostgreSQL, Redis and an object store
(S3, MinIO, Ceph, or GCS and Azure behind an S3 gateway): ``SPEECHQA_AUDIO_STORE=s3://bucket/
prefix`` puts every recording there. A call row's ``audio_path`` is the recording's key in the
store (``ab/abcdef...wav``), the same in both, so existing data needs no migration.

Everything that reads, writes or removes a recording goes through :class:`AudioStore`: ingest
puts the upload before the call row is committed, the audio route streams byte ranges, clips
decode from a seekable reader, the worker transcribes a local copy, deletion and retention
delete. ``put`` and ``delete`` take any key, so derived copies (a redacted recording) can be
stored beside the original. A store that cannot be written or reached raises
:class:`~speechqa.errors.StorageUnavailable`, a 503 the client may retry.

The S3 backend uses boto3: its managed transfer uploads large files in parts (above
``multipart_threshold``) and downloads them in parallel ranges. The endpoint, region and
credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_REGION``, ``AWS_ENDPOINT_URL_S3``, ``~/.aws/config``, an instance role), or the endpoint
from ``SPEECHQA_S3_ENDPOINT_URL``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import urlsplit

from speechqa.errors import StorageUnavailable
from speechqa.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
MULTIPART_THRESHOLD = 64 * 1024 * 1024
"""Files over this size are uploaded in parts (of this size), several at once."""

_UNWRITABLE = (
    "The recording could not be stored (the audio store is full, not writable or not "
    "reachable); nothing was kept. Try again later."
)
_UNREADABLE = "The audio store cannot be reached; try again later."


class AudioStore(Protocol):
    """Recordings by key. Keys are relative paths such as ``ab/abcdef.wav``."""

    @property
    def spool_dir(self) -> Path:
        """A local folder for files on their way into or out of the store (an upload being
        received, a worker's copy of a recording): this process's own, see ``process_spool``."""
        ...

    def put(self, key: str, source: Path) -> None:
        """Store the file at ``source`` under ``key``; the file is taken: gone once this returns.

        On failure (StorageUnavailable) nothing is stored and ``source`` is still there.
        """
        ...

    def size(self, key: str) -> int | None:
        """The stored object's size in bytes, or None when there is none under ``key``."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A seekable binary reader of the recording (for decoding a clip)."""
        ...

    def stream(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of the recording, in chunks."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The recording's own file when the store is a folder on this machine, else None."""
        ...

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the recording, for as long as the ``with`` block lasts."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; nothing there is not an error."""
        ...


class LocalAudioStore:
    """Recordings as files below a folder: the data dir's ``audio/`` on one machine."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def spool_dir(self) -> Path:
        # Same file system: the upload is renamed into place.
        return process_spool(self.root / "incoming")

    def _path(self, key: str) -> Path:
        path = self.root / key
        if ".." in Path(key).parts or Path(key).is_absolute():
            raise ValueError(f"not a store key: {key!r}")
        return path

    def put(self, key: str, source: Path) -> None:
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            log.error("the audio store cannot be written: %s", exc)
            if final.exists() and not source.exists():
                shutil.move(final, source)  # moved but not made durable: give it back
            raise StorageUnavailable(_UNWRITABLE) from exc

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def stream(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self._path(key).open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := f.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self._path(key)  # already local: no copy

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3AudioStore:
    """Recordings as objects in an S3-compatible bucket, below ``prefix``."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        spool_dir: Path,
        *,
        endpoint_url: str | None = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
    ) -> None:
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._spool_dir = spool_dir
        self.client = _client(endpoint_url)
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_threshold
        )

    def __repr__(self) -> str:
        return f"S3AudioStore(s3://{self.bucket}/{self.prefix})"

    @property
    def spool_dir(self) -> Path:
        return process_spool(self._spool_dir)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, source: Path) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(source), self.bucket, self._key(key), Config=self.transfer)
        except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
            log.error("the audio store %r cannot be written: %s", self, exc)
            raise StorageUnavailable(_UNWRITABLE) from exc
        source.unlink(missing_ok=True)

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise _unreachable(self, exc) from exc
        except Exception as exc:
            raise _unreachable(self, exc) from exc
        return int(head["ContentLength"])

    def open(self, key: str) -> BinaryIO:
        size = self.size(key)
        if size is None:
            raise FileNotFoundError(f"{self!r} has no {key!r}")
        return io.BufferedReader(_RangeReader(self, key, size), buffer_size=CHUNK)

    def stream(self, key: str, start: int, end: int) -> Iterator[bytes]:
        body = self._get(key, start, end)  # now: an unreachable store is a 503, not a cut body

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return chunks()

    def _get(self, key: str, start: int, end: int) -> Any:
        try:
            return self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}"
            )["Body"]
        except Exception as exc:
            raise _unreachable(self, exc) from exc

    def local_path(self, key: str) -> Path | None:
        return None

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        spool = self.spool_dir
        spool.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=spool, suffix=Path(key).suffix)
        os.close(fd)
        path = Path(name)
        try:
            try:
                self.client.download_file(
                    self.bucket, self._key(key), str(path), Config=self.transfer
                )
            except Exception as exc:
                raise _unreachable(self, exc) from exc
            yield path
        finally:
            path.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise _unreachable(self, exc) from exc


LEGACY_SPOOL_AGE_S = 24 * 3600
"""Spool files of versions before per-process folders have no owner to check: removed when
older than this."""


def process_spool(root: Path) -> Path:
    """This process's spool folder below ``root``: ``<host>.<pid>``. Several processes (the API,
    ``speechqa serve``'s workers, workers on other machines sharing a data dir) each spool in
    their own, so that one starting can tell which leftovers belong to no living process."""
    return root / f"{socket.gethostname()}.{os.getpid()}"


def clean_spool(store: AudioStore) -> int:
    """Remove what processes that died (kill -9, a crash, a power cut) left in the spool: the
    folders of this host's processes that no longer run, and files from before per-process
    folders once a day old. Folders of living processes and of other hosts stay. Returns how
    many folders and files were removed."""
    root = store.spool_dir.parent
    host = socket.gethostname()
    removed = 0
    try:
        children = list(root.iterdir())
    except FileNotFoundError:
        return 0
    for child in children:
        owner, _, pid = child.name.rpartition(".")
        try:
            if child.is_dir() and owner == host and pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(child, ignore_errors=True)
            elif child.is_file() and child.stat().st_mtime < time.time() - LEGACY_SPOOL_AGE_S:
                child.unlink(missing_ok=True)
            else:
                continue
        except OSError:
            continue
        removed += 1
    if removed:
        log.info("removed %d spool leftover(s) of processes that died, in %s", removed, root)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


@lru_cache(maxsize=4)
def _client(endpoint_url: str | None) -> S3Client:
    """One S3 client per endpoint and process (thread-safe; making one takes ~0.25 s)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 3},
        # MinIO, Ceph and other self-hosted servers are addressed by path, not by host name.
        s3={"addressing_style": "path"} if endpoint_url else None,
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)


class _RangeReader(io.RawIOBase):
    """A seekable view of an object: each read is one ranged GetObject."""

    def __init__(self, store: S3AudioStore, key: str, size: int) -> None:
        self.store, self.key, self.length, self.pos = store, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.pos >= self.length or not len(view):
            return 0
        end = min(self.length, self.pos + len(view)) - 1
        body = self.store._get(self.key, self.pos, end)
        try:
            data = body.read()
        finally:
            body.close()
        view[: len(data)] = data
        self.pos += len(data)
        return len(data)


def _status(exc: Any) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = exc.response.get("Error", {}).get("Code")
    return 404 if code in ("404", "NoSuchKey", "NotFound") else status


def _unreachable(store: S3AudioStore, exc: Exception) -> StorageUnavailable:
    log.error("the audio store %r cannot be read: %s", store, exc)
    return StorageUnavailable(_UNREADABLE)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def audio_store(settings: Settings) -> AudioStore:
    """The store ``settings`` name, made once per process (an S3 client is not cheap)."""
    return _store(
        settings.audio_store, settings.audio_dir, settings.data_dir, settings.s3_endpoint_url
    )


@lru_cache(maxsize=8)
def _store(url: str, audio_dir: Path, data_dir: Path, endpoint_url: str | None) -> AudioStore:
    if not url or url == "local":
        return LocalAudioStore(audio_dir)
    parts = urlsplit(url)
    return S3AudioStore(
        parts.netloc, parts.path, data_dir / "spool", endpoint_url=endpoint_url or None
    )
