"""What analysing a call gives: the transcript made ready to keep (:class:`Prepared`) and, once
scored, the whole analysis (:class:`CallAnalysis`)."""

from __future__ import annotations

from dataclasses import dataclass

from speechqa.contracts import Transcript
from speechqa.pipeline.conversation import Measures
from speechqa.pipeline.sentiment import SentimentSummary
from speechqa.redaction import Redaction
from speechqa.rules.scorecard import Evaluation


@dataclass(frozen=True)
class Prepared:
    """A transcript redacted, measured and its sentiment summarised: all a call keeps of its
    recording, before a ruleset scores it."""

    said: Transcript
    """The transcript as heard, personal data and all (never stored or shown)."""
    redaction: Redaction | None
    """What redaction found and the transcript with it tagged; None when redaction is off."""
    measures: Measures
    """The conversation measures (talk, silence, overtalk, interruptions, rates) of ``said``:
    words per minute count the words that were said, not the tags."""
    sentiment: SentimentSummary
    """The sentiment summary: per role, the mean turn score by quarter and overall, and the
    customer's shift."""

    @property
    def transcript(self) -> Transcript:
        """The transcript as stored, printed and scored: redacted when redaction is on."""
        return self.redaction.transcript if self.redaction is not None else self.said

    def scored(self, evaluation: Evaluation) -> CallAnalysis:
        return CallAnalysis(self.said, self.redaction, self.measures, self.sentiment, evaluation)


@dataclass(frozen=True)
class CallAnalysis(Prepared):
    """A call's analysis: the prepared transcript and what its ruleset says about it."""

    evaluation: Evaluation
