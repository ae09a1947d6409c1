"""What redaction returns: the redacted transcript and where each piece of personal data was
said, for storage (the call's redactions) and for silencing the recording."""

from __future__ import annotations

from dataclasses import dataclass

from speechqa.contracts import Transcript


@dataclass(frozen=True)
class RedactedSpan:
    """Where personal data was said: its type, who said it, when, and in which utterance."""

    type: str
    speaker: str
    start: float
    end: float
    utterance: int

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "speaker": self.speaker,
            "start": self.start,
            "end": self.end,
            "utterance": self.utterance,
        }


@dataclass(frozen=True)
class Redaction:
    transcript: Transcript
    spans: list[RedactedSpan]
