"""What the API and the web pages answer alike: the HTTP status of each core error, and a stored
recording as a response with the byte ranges a seeking player asks for.

A recording in a local folder is sent by Starlette's ``FileResponse`` (ranges, ``ETag``,
``Last-Modified``); one in a bucket is streamed from a ranged GetObject, so the API process never
holds a copy.
"""

from __future__ import annotations

from fastapi.responses import FileResponse, Response, StreamingResponse

from speechqa import errors as e
from speechqa.calls.recordings import Recording, byte_range, check_range

STATUS: dict[type[e.SpeechQAError], int] = {
    e.InvalidMetadata: 422,
    e.EmptyAudio: 400,
    e.InvalidInput: 422,
    e.UnsupportedMedia: 415,
    e.UploadTooLarge: 413,
    e.AudioDecodeError: 422,
    e.AudioTooLong: 422,
    e.NotFound: 404,
    e.Conflict: 409,
    e.Gone: 410,
    e.NotStored: 500,
    e.RangeNotSatisfiable: 416,
    e.Unauthorized: 401,
    e.Forbidden: 403,
    e.ServiceUnavailable: 503,
    e.TooManyRequests: 429,
    e.ModelUnavailable: 503,
}


def status_for(exc: e.SpeechQAError) -> int:
    """The HTTP status of a core error: that of its nearest class in :data:`STATUS`, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def recording_response(source: Recording, range_header: str | None) -> Response:
    """The whole recording (200) or the first range asked for (206); 416 past its end."""
    check_range(range_header, source.size)
    if source.path is not None:
        return FileResponse(source.path, media_type=source.media_type, filename=None)
    span = byte_range(range_header, source.size)
    first, last = span or (0, source.size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(last - first + 1)}
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{source.size}"
    return StreamingResponse(
        source.store.stream(source.key, first, last),
        status_code=206 if span is not None else 200,
        media_type=source.media_type,
        headers=headers,
    )
