"""One exception hierarchy with stable codes.

Every error speechqa raises on purpose is a :class:`SpeechQAError`. Its ``code`` is stable and
documented; the API and the web pages map codes to HTTP statuses in one place
(``speechqa_service/http.py``), the CLI prints the message. Messages are written for the person
who sent the input.
"""

from __future__ import annotations

from typing import Any


class SpeechQAError(Exception):
    """Base of every deliberate speechqa error."""

    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(SpeechQAError):
    """Input that is malformed: bad JSON, a missing field, a bad value."""

    code = "invalid_input"


class InvalidMetadata(InvalidInput):
    code = "invalid_metadata"


class UnsupportedMedia(SpeechQAError):
    """The upload is not audio we can read (or claims a type we do not accept)."""

    code = "unsupported_media"


class EmptyAudio(InvalidInput):
    code = "empty_audio"


class UploadTooLarge(SpeechQAError):
    code = "upload_too_large"


class AudioDecodeError(SpeechQAError):
    """The audio could not be decoded, or decoded to nothing usable."""

    code = "audio_decode_error"


class NoSpeech(AudioDecodeError):
    """The recording decodes but holds no speech (silence or noise only)."""

    code = "no_speech"


class AudioTooLong(SpeechQAError):
    code = "audio_too_long"


class NotFound(SpeechQAError):
    code = "not_found"


class Conflict(SpeechQAError):
    code = "conflict"


class Gone(SpeechQAError):
    """The thing existed but was removed (a recording deleted by retention)."""

    code = "gone"


class RangeNotSatisfiable(SpeechQAError):
    """A byte range or time span that lies outside the recording."""

    code = "range_not_satisfiable"

    def __init__(self, message: str, size: int | None) -> None:
        super().__init__(message, details={"size": size} if size is not None else None)
        self.size = size


class NotStored(SpeechQAError):
    """The database refused to commit a change (a constraint checked at commit, for example):
    nothing of it was stored, and the person who asked is told so instead of a success."""

    code = "not_stored"


class Unauthorized(SpeechQAError):
    code = "unauthorized"


class Forbidden(SpeechQAError):
    code = "forbidden"


class TooManyRequests(SpeechQAError):
    """The client must slow down (for example after many wrong API keys)."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class ModelUnavailable(SpeechQAError):
    """A model file or runtime is missing; raised at load time, not mid-call."""

    code = "model_unavailable"


class ServiceUnavailable(SpeechQAError):
    """A backing service (database, Redis) cannot be reached."""

    code = "service_unavailable"


class StorageUnavailable(ServiceUnavailable):
    """The audio store cannot be written (full, not writable); the client may retry."""

    code = "storage_unavailable"
