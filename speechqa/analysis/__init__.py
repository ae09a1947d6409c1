"""Analysing a call: the one place that chains the stages, from a recording to a stored, scored
call. Core code: no HTTP, no queue.

The stages, each a function of typed input (:mod:`speechqa.analysis.stages`):

1. ``transcribe``: decode, find speech, transcribe each channel, separate the speakers of a mono
   call, merge words into utterances and score their sentiment
   (:func:`speechqa.pipeline.analysis.transcribe_call`, with the ruleset's hints; the mono
   separation is its own function there, ``separate``);
2. ``redact``: find and tag personal data; the one decision of which types a call redacts (its
   ruleset's ``redact:``, else ``SPEECHQA_REDACT``), and ``audio_silences`` where the redacted
   copy of the recording is silent;
3. ``measure``: the conversation measures, of what was said;
4. ``summarise``: the sentiment summary, computed once here and stored with the call;
5. ``score``: the ruleset's evaluation (:func:`speechqa.scoring.score_transcript`);
6. store: :func:`speechqa.analysis.stored.save`, then :func:`speechqa.scoring.score_calls`
   in the same transaction.

``prepare`` runs 2-4 and gives a :class:`Prepared`; ``score`` turns it into a
:class:`CallAnalysis` (a frozen dataclass: the transcript as said, the redaction, the measures,
the sentiment summary, the evaluation).

Two entry points: :func:`analyse_recording` analyses a file and stores nothing
(``speechqa analyze``); :func:`speechqa.analysis.stored.analyse_call` runs a stored call by id
end to end (the worker's job, which only decides between retrying and failing).

The seams, for a caller that is not a finished recording (a live call, on the audio heard so
far): :func:`analyse` is every stage after transcription on any :class:`Transcript`, pure and
cheap enough to run again as the transcript grows; ``prepare`` and ``score`` can be run apart
(store what ``prepare`` gives, score later, as the stored path does); progress is reported
through a :class:`~speechqa.pipeline.analysis.StageProgress` callback, which the stored path
writes to the call row (:class:`~speechqa.analysis.stored.RowProgress`) and the CLI draws as a
bar.
"""

from speechqa.analysis.result import CallAnalysis, Prepared
from speechqa.analysis.stages import (
    analyse,
    analyse_recording,
    audio_silences,
    measure,
    prepare,
    redact,
    score,
    summarise,
    transcribe,
)

__all__ = [
    "CallAnalysis",
    "Prepared",
    "analyse",
    "analyse_recording",
    "audio_silences",
    "measure",
    "prepare",
    "redact",
    "score",
    "summarise",
    "transcribe",
]
