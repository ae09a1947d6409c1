"""Audio silencing: which stretches of which channel the redacted copy of a recording makes
silent, so no one hears what the transcript no longer shows. Writing the copy is
``speechqa.calls.recordings.write_redacted``."""

from __future__ import annotations

from speechqa.contracts import Silence, Word
from speechqa.redaction.spans import Redaction
from speechqa.redaction.tags import tag_type

TOUCHING_S = 0.05
"""A kept word that ends (starts) this close to a span's start (end) touches it: ASR put no
pause between them, so where one ends inside the audio is not known."""


def silences(result: Redaction, padding_s: float) -> list[Silence]:
    """Where the redacted copy of the recording is silent, for each span.

    ASR word times are off by a few tenths of a second (the first digit's onset falls before
    its word), so the speaker's channel is silenced from the end of the last kept word before
    the span to the start of the first kept word after it; a kept word that touches the span is
    silenced too, as the boundary lies somewhere inside it. With no kept word on that side (the
    call's edges) the silence reaches to the edge of the speech VAD heard there. It is never
    less than the span's words ``padding_s`` wider on each side, which every channel gets as
    well, since the other party's line can carry an echo. In a mono call, or one whose channels
    carry the same mix, the one line is everyone's, so every word bounds it.
    """
    t = result.transcript
    sides = ("left", "right")
    channel: dict[str, int] = {}
    if t.channels and t.source_channels >= 2 and not t.identical_channels:
        channel = {role: sides.index(side) for side, role in t.channels.items() if side in sides}
    kept: dict[int | None, list[Word]] = {}
    for u in t.utterances:
        line = channel.get(u.speaker)
        for w in u.words:
            if tag_type(w.word) is None:
                kept.setdefault(line, []).append(w)
                if line is not None:
                    kept.setdefault(None, []).append(w)
    out: list[Silence] = []
    for span in result.spans:
        line = channel.get(span.speaker)
        start, end = max(0.0, span.start - padding_s), span.end + padding_s
        words = kept.get(line, [])
        speech = (
            t.speech.get(span.speaker, [])
            if line is not None
            else [iv for ivs in t.speech.values() for iv in ivs]
        )
        before = max((w for w in words if w.start < span.start), key=lambda w: w.end, default=None)
        after = min((w for w in words if w.end > span.end), key=lambda w: w.start, default=None)
        if before is None:
            lo = min((iv.start for iv in speech if iv.start <= span.start < iv.end), default=start)
        else:
            lo = before.start if before.end >= span.start - TOUCHING_S else before.end
        if after is None:
            hi = max((iv.end for iv in speech if iv.start < span.end <= iv.end), default=end)
        else:
            hi = after.end if after.start <= span.end + TOUCHING_S else after.start
        out.append(Silence(min(lo, start), max(hi, end), line))
        if line is not None:
            out.append(Silence(start, end, None))
    return out
