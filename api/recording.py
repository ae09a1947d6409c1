"""A stored recording as an HTTP response, with the byte ranges a seeking player asks for.

A recording in a local folder is sent by Starlette's ``FileResponse`` (ranges, ``ETag``,
``Last-Modified``); one in a bucket is streamed from a ranged GetObject, so the API process never
holds a copy. The web pages' player uses the same response.
"""

from __future__ import annotations

from fastapi.responses import FileResponse, Response, StreamingResponse

from speechqa.calls.recordings import Recording, byte_range, check_range


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
