"""Redaction: personal data in the words is replaced by its type before anything is stored.

PCI DSS forbids keeping card numbers in transcripts and recordings, and GDPR asks to keep no more
personal data than needed, so the worker redacts between transcription and storage: search, the
call document, exports, clips and webhooks then only ever see ``[CARD_NUMBER]``.

It works on what ASR writes when people read numbers out: digits written as numbers or as words
("four one one one", "double five", "oh"), teens, tens and hundreds ("nineteen eighty"), groups
that run over pauses and turns. A digit run is a card number when Luhn says so; otherwise its type
comes from the nearest cue before it, said by either party ("can I have your account number",
"date of birth", "security code", "the last four digits"). Spoken e-mail addresses
("john dot smith at gmail dot com"), street addresses ("forty two Maple Avenue") and names after
"my name is" are found by patterns; a spaCy NER model adds names and places when one is installed.

Each span becomes one word, ``[TYPE]``, from the first redacted word's start to the last one's
end, so the transcript stays aligned with the audio, and the spans (type, speaker, times) are
returned for the audio to be silenced.

The package knows no rulesets: the caller chooses the types (``Ruleset.redaction_types``, the
ruleset's ``redact:`` over the deployment's ``SPEECHQA_REDACT``) and calls :func:`redact_with`.

- :mod:`~speechqa.redaction.tags`: the ``[TYPE]`` words and their types (what rules match);
- :mod:`~speechqa.redaction.lexicon`: the cue words and the words of dates, streets, names;
- :mod:`~speechqa.redaction.words`: the call's words in time order, as the finders read them;
- :mod:`~speechqa.redaction.spoken`: numbers as people read them out and ASR writes them;
- finders: :mod:`~speechqa.redaction.cues`, :mod:`~speechqa.redaction.numeric` (cards by
  Luhn, numbers typed by their cue, dates), :mod:`~speechqa.redaction.emails`,
  :mod:`~speechqa.redaction.addresses`, :mod:`~speechqa.redaction.names`,
  :mod:`~speechqa.redaction.ner` (a spaCy model, loaded once);
- :mod:`~speechqa.redaction.finding`: all finders, overlaps settled, spans per utterance;
- :mod:`~speechqa.redaction.rewrite`: the transcript rewrite and the entry points;
- :mod:`~speechqa.redaction.audio`: the stretches of the recording to silence.
"""

from speechqa.redaction.audio import silences
from speechqa.redaction.finding import find
from speechqa.redaction.ner import Entities, load_ner
from speechqa.redaction.rewrite import apply, redact, redact_with, text
from speechqa.redaction.spans import RedactedSpan, Redaction
from speechqa.redaction.tags import NUMERIC_TYPES, TYPES, tag_type

__all__ = [
    "NUMERIC_TYPES",
    "TYPES",
    "Entities",
    "RedactedSpan",
    "Redaction",
    "apply",
    "find",
    "load_ner",
    "redact",
    "redact_with",
    "silences",
    "tag_type",
    "text",
]
