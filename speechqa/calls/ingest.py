"""Ingest stage: validate a submitted recording and its metadata, store both, durably.

The audio is streamed to a local spool file with a size limit and hashed on the way, probed,
then put in the audio store (the data dir's folder, or a bucket); the call row is committed only
after the store holds the recording, so an accepted recording is never lost. The same
``external_id`` with the same audio is the same call (idempotent); with other audio, a conflict.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa.errors import (
    Conflict,
    EmptyAudio,
    InvalidMetadata,
    StorageUnavailable,
    UnsupportedMedia,
    UploadTooLarge,
)
from speechqa.pipeline import audio
from speechqa.rules import versions
from speechqa.settings import ROLES, Settings
from speechqa.storage.audio import audio_store
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call, CallStatus, utcnow

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024

# Declared types we accept; the content itself is checked by probing it with FFmpeg.
_ACCEPTED_TYPES = {"application/octet-stream", "application/ogg", "video/mp4", "video/webm"}


class CallMetadata(BaseModel):
    """The metadata an upstream system sends with a recording."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    agent_id: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(None, min_length=1, max_length=200)
    agent_name: str | None = Field(None, max_length=200)
    team: str | None = Field(None, max_length=200)
    started_at: datetime | None = None
    direction: Literal["inbound", "outbound", "internal"] | None = None
    channels: dict[Literal["left", "right"], str] | None = None
    language: str | None = Field(None, max_length=20)
    ruleset: str | None = Field(None, max_length=200)
    tags: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    outcome: str | None = Field(None, max_length=200)

    @field_validator("channels")
    @classmethod
    def _roles(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if set(value) != {"left", "right"}:
            raise ValueError(
                "give both 'left' and 'right', e.g. {'left': 'agent', 'right': 'customer'}"
            )
        for role in value.values():
            if role not in ROLES:
                raise ValueError(f"channel roles are {' and '.join(ROLES)}, not {role!r}")
        if value["left"] == value["right"]:
            raise ValueError("left and right must carry different roles")
        return value


MAX_METADATA_BYTES = 64 * 1024
MAX_METADATA_DEPTH = 8


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _check_values(value: Any, depth: int = 0) -> None:
    """No NUL characters (databases refuse them) and no deep nesting in any key or value."""
    if depth > MAX_METADATA_DEPTH:
        raise InvalidMetadata(f"The metadata nests deeper than {MAX_METADATA_DEPTH} levels.")
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidMetadata("The metadata contains a NUL character.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(key, depth + 1)
            _check_values(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_values(item, depth + 1)


def parse_metadata(raw: str | bytes | None) -> CallMetadata:
    """Parse and validate the metadata JSON, with every problem in the error's details."""
    if raw is None or (isinstance(raw, str | bytes) and not raw.strip()):
        raise InvalidMetadata("The 'metadata' field is required: a JSON object with 'agent_id'.")
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_METADATA_BYTES:
        raise InvalidMetadata(
            f"The metadata is {size} bytes; at most {MAX_METADATA_BYTES} are accepted."
        )
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidMetadata(f"The metadata is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise InvalidMetadata("The metadata must be a JSON object.")
    _check_values(data)
    try:
        return CallMetadata.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "metadata", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise InvalidMetadata(f"The metadata is invalid: {summary}.", details=problems) from exc


@dataclass(frozen=True)
class StoredUpload:
    """An upload written to a local spool file, not yet in the audio store nor a call."""

    path: Path
    sha256: str
    size: int
    filename: str | None
    content_type: str | None


def check_content_type(content_type: str | None) -> None:
    """Reject declared types that are clearly not audio (the bytes are probed later)."""
    if not content_type:
        return
    base = content_type.split(";")[0].strip().lower()
    if base.startswith("audio/") or base in _ACCEPTED_TYPES:
        return
    raise UnsupportedMedia(
        f"Content type {base!r} is not audio; send the recording as audio/* "
        "(WAV, MP3, OGG/Opus, FLAC, M4A) or application/octet-stream."
    )


def receive(
    chunks: Iterable[bytes],
    settings: Settings,
    *,
    filename: str | None = None,
    content_type: str | None = None,
) -> StoredUpload:
    """Stream an upload to a spool file, enforcing the size limit, hashing as it goes."""
    check_content_type(content_type)
    incoming = audio_store(settings).spool_dir
    try:
        incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=incoming, suffix=".part")
    except OSError as exc:
        raise _unwritable(exc) from exc
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise UploadTooLarge(
                        f"The upload is over the limit of {settings.max_upload_bytes} bytes."
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise EmptyAudio("The audio file is empty (0 bytes).")
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise _unwritable(exc) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredUpload(path, digest.hexdigest(), size, filename, content_type)


def _unwritable(exc: OSError) -> StorageUnavailable:
    log.error("the upload cannot be spooled: %s", exc)
    return StorageUnavailable(
        "The recording could not be stored (the audio store is full or not writable); "
        "nothing was kept. Try again later."
    )


def read_file(fileobj: BinaryIO) -> Iterable[bytes]:
    while chunk := fileobj.read(CHUNK):
        yield chunk


def find_existing(session: Session, external_id: str | None, sha256: str) -> Call | None:
    """The call already stored under ``external_id``; Conflict if its audio differs."""
    if external_id is None:
        return None
    existing = session.scalar(select(Call).where(Call.external_id == external_id))
    if existing is not None and existing.audio_sha256 != sha256:
        raise Conflict(
            f"A call with external_id {external_id!r} exists with different audio.",
            details={"call_id": existing.id},
        )
    return existing


@dataclass(frozen=True)
class Submission:
    call: Call
    created: bool


def submit(
    session: Session, meta: CallMetadata, upload: StoredUpload, settings: Settings
) -> Submission:
    """Turn a stored upload into a call row (or find the existing one); the caller commits.

    The audio is in the store before this returns, so committing the session makes the call
    durable. The upload's spool file is removed in every case.
    """
    try:
        existing = find_existing(session, meta.external_id, upload.sha256)
        if existing is not None:
            upload.path.unlink(missing_ok=True)
            return Submission(existing, created=False)
        info = audio.probe(upload.path, max_duration_s=settings.max_duration_s)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise

    call_id = uuid.uuid4().hex
    suffix = _suffix(info.format_name)
    key = f"{call_id[:2]}/{call_id}{suffix}"
    store = audio_store(settings)
    try:
        store.put(key, upload.path)
    finally:
        upload.path.unlink(missing_ok=True)
    try:
        _ensure_agent(session, meta)
        call = _call_row(call_id, meta, upload, info, key)
        session.add(call)
        session.flush()
    except BaseException:
        _delete_quietly(settings, key)  # the row will not be committed
        raise
    return Submission(call, created=True)


def _ensure_agent(session: Session, meta: CallMetadata) -> None:
    """Create the agent if it is new; concurrent uploads for a new agent do not collide."""
    values = {
        "id": meta.agent_id,
        "name": meta.agent_name,
        "team": meta.team,
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert_(Agent).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    changes = {k: v for k, v in (("name", meta.agent_name), ("team", meta.team)) if v is not None}
    if changes:
        session.execute(update(Agent).where(Agent.id == meta.agent_id).values(**changes))


def _call_row(
    call_id: str,
    meta: CallMetadata,
    upload: StoredUpload,
    info: audio.AudioInfo,
    key: str,
) -> Call:
    return Call(
        id=call_id,
        external_id=meta.external_id,
        agent_id=meta.agent_id,
        team=meta.team,
        started_at=meta.started_at,
        direction=meta.direction,
        channels=dict(meta.channels) if meta.channels else None,
        language=meta.language,
        ruleset=meta.ruleset,
        tags=list(meta.tags),
        outcome=meta.outcome,
        extra=dict(meta.model_extra or {}),
        audio_path=key,
        audio_sha256=upload.sha256,
        audio_bytes=upload.size,
        content_type=upload.content_type,
        filename=upload.filename,
        format_name=info.format_name,
        source_channels=info.channels,
        sample_rate=info.sample_rate,
        duration_s=info.duration_s,
        status=CallStatus.QUEUED,
        progress=0.0,
    )


def discard_audio(call: Call, settings: Settings) -> None:
    """Remove a call's stored audio (when its row could not be committed)."""
    _delete_quietly(settings, call.audio_path)


def _delete_quietly(settings: Settings, key: str) -> None:
    """Remove audio whose call was not stored; an unreachable store leaves an orphan, logged."""
    try:
        audio_store(settings).delete(key)
    except StorageUnavailable:
        log.error("the audio %s has no call but could not be removed from the store", key)


@dataclass(frozen=True)
class Accepted:
    """A committed submission: the call and whether this request created it."""

    id: str
    external_id: str | None
    status: str
    created: bool


def accept(settings: Settings, upload: StoredUpload, meta: CallMetadata) -> Accepted:
    """Store the call (or find the existing one) and commit it, with its audio in place.

    A ruleset the metadata names must exist. The upload's file is used or removed, never left.
    """
    if meta.ruleset is not None:
        with session_scope(settings) as session:
            if not versions.exists(session, meta.ruleset):
                upload.path.unlink(missing_ok=True)
                raise InvalidMetadata(
                    f"The metadata names ruleset {meta.ruleset!r}, which does not exist."
                )
    sub: Submission | None = None
    try:
        with session_scope(settings) as session:
            sub = submit(session, meta, upload, settings)
            return Accepted(sub.call.id, sub.call.external_id, sub.call.status, sub.created)
    except Exception as exc:
        if sub is not None and sub.created:
            discard_audio(sub.call, settings)  # the row was not committed
        if not isinstance(exc, IntegrityError):
            raise
    # A concurrent request stored the same external_id between our lookup and our commit.
    with session_scope(settings) as session:
        existing = find_existing(session, meta.external_id, upload.sha256)
        if existing is None:
            raise Conflict("The call could not be stored; try again.")
        return Accepted(existing.id, existing.external_id, existing.status, False)


_EXTENSIONS = {"mov,mp4,m4a,3gp,3g2,mj2": ".m4a", "matroska,webm": ".webm"}


def _suffix(format_name: str) -> str:
    """The stored file's extension, from the container FFmpeg found in the bytes (``wav``,
    ``flac``, ``mp3``, ``ogg``, ...), never from the client's file name."""
    if format_name in _EXTENSIONS:
        return _EXTENSIONS[format_name]
    first = format_name.split(",")[0]
    return "." + first if first.isascii() and first.isalnum() and len(first) <= 8 else ".audio"
