"""The data contracts between stages: what a transcript is made of.

Every stage, storage and the call document speak these plain dataclasses, so no module has to
import another stage (or the pipeline) just to name a word or an utterance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REDACTION_TYPES = (
    "CARD_NUMBER",
    "CARD_EXPIRY",
    "SECURITY_CODE",
    "ACCOUNT",
    "DOB",
    "SSN",
    "PHONE",
    "EMAIL",
    "ADDRESS",
    "NAME",
)
"""Kinds of personal data the redaction stage replaces by a ``[TYPE]`` word."""


@dataclass(slots=True)
class Word:
    """One recognised word with its times (plain slots: transcripts hold thousands)."""

    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Interval:
    """A stretch of audio in seconds, e.g. where VAD heard speech."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Silence:
    """A stretch the redacted copy of a recording makes silent, on one channel (0 left, 1 right)
    or on every channel (None)."""

    start: float
    end: float
    channel: int | None = None


@dataclass(frozen=True)
class Sentiment:
    """negative / neutral / positive, and a score in [-1, 1] (p(positive) - p(negative))."""

    label: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "score": self.score}


NEUTRAL = Sentiment("neutral", 0.0)


@dataclass(frozen=True)
class ChannelTranscript:
    """The words heard on one channel, attributed to one speaker, and where it has speech."""

    speaker: str
    words: list[Word]
    language: str
    speech: list[Interval] = field(default_factory=list)
    speech_s: float = 0.0


@dataclass(frozen=True)
class Utterance:
    """One speaker's words between pauses or sentence ends."""

    id: int
    speaker: str
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    sentiment: Sentiment | None = None


@dataclass(frozen=True)
class Transcript:
    """A call's transcript with what was learnt about its audio."""

    duration_s: float
    source_channels: int
    channels: dict[str, str] | None
    """Role per channel for a stereo call (``{"left": ..., "right": ...}``), None for mono."""
    language: str
    utterances: list[Utterance]
    speech: dict[str, list[Interval]] = field(default_factory=dict)
    """Each speaker's speech intervals from VAD (for talk time, silence and overlap)."""
    roles_estimated: bool = False
    """True when roles come from speaker separation of a mono call, not from the channel map."""
    identical_channels: bool = False

    def speech_lists(self) -> dict[str, list[list[float]]]:
        """The speech intervals as plain ``[start, end]`` lists, as stored with the call."""
        return {k: [[iv.start, iv.end] for iv in v] for k, v in self.speech.items()}
