"""Benchmark: a ruleset scored on the ASR transcript against the same ruleset on the reference text.

For every sample call with reference text (``examples/``, ``tests/data/``) and the real
recordings in ``../shared/data/audio/`` (reference text from their README), the script
transcribes the audio as the service does (default settings: tiny.en, its beam size, VAD per
channel, redaction), builds the reference transcript from the reference turns (words spread
evenly over each turn, sentiment scored by the same model, the same redaction and the same
VAD-measured conversation figures, so only the words differ), and scores both with the ruleset.

It prints, per call, the automatic score on ASR and on the reference, the items whose answer
differs (with what the ASR heard where the reference's evidence was) and, per rule, the calls
where it fired on one side only: a rule firing on ASR but not on the reference is a false hit.
The baseline is the same ruleset with exact matching (no fuzzy, no ASR tolerance), printed
first, so each figure stands beside what exact matching gives on the same transcripts.

Transcripts are computed once and kept in ``bench/out/rules_on_asr/`` (keyed by the audio's
hash and the ASR settings); ``--fresh`` transcribes again.

    python -m bench.rules_on_asr [--ruleset FILE] [--fresh] [--verbose]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench.common import ROOT
from speechqa.analysis import redact
from speechqa.contracts import Interval, Sentiment, Transcript, Utterance, Word
from speechqa.pipeline.conversation import Measures, conversation
from speechqa.rules.ruleset import Ruleset, default_ruleset_text, load_ruleset
from speechqa.scoring import score_transcript
from speechqa.settings import Settings

CACHE = ROOT / "bench" / "out" / "rules_on_asr"
SHARED = next(
    (
        p / "shared" / "data" / "audio" / "faster-whisper"
        for p in ROOT.parents
        if (p / "shared" / "data" / "audio" / "faster-whisper").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "audio" / "faster-whisper",
)
REAL = {  # the shared recordings' reference text (../shared/data/audio/README.md)
    "jfk.flac": {
        "speaker_1": "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country."
    },
    "stereo_diarization.wav": {
        "agent": "He began a confused complaint against the wizard, who had vanished behind the "
        "curtain on the left.",
        "customer": "The horizon seems extremely distant.",
    },
}


@dataclass(frozen=True)
class Call:
    name: str
    audio: Path
    reference: Transcript


def reference_transcript(path: Path) -> Transcript:
    """A call's reference turns as a transcript: words spread evenly over each turn."""
    ref = json.loads(path.read_text())
    utterances = []
    speech: dict[str, list[Interval]] = {}
    for i, turn in enumerate(ref["turns"]):
        tokens = turn["text"].split()
        t0 = turn["start"]
        step = (turn["end"] - t0) / len(tokens)
        words = [
            Word(tok, round(t0 + k * step, 3), round(t0 + (k + 1) * step, 3), 1.0)
            for k, tok in enumerate(tokens)
        ]
        utterances.append(Utterance(i, turn["speaker"], t0, turn["end"], turn["text"], words))
        speech.setdefault(turn["speaker"], []).append(Interval(turn["start"], turn["end"]))
    return Transcript(ref["duration_s"], 2, ref["channels"], "en", utterances, speech)


def real_reference(asr: Transcript, texts: dict[str, str]) -> Transcript:
    """A shared recording's reference: each speaker's text spread over the time ASR heard them."""
    utterances: list[Utterance] = []
    for speaker, text in texts.items():
        heard = [u for u in asr.utterances if u.speaker == speaker]
        if not heard:
            continue
        start, end = heard[0].start, heard[-1].end
        tokens = text.split()
        step = (end - start) / len(tokens)
        words = [
            Word(t, round(start + k * step, 3), round(start + (k + 1) * step, 3), 1.0)
            for k, t in enumerate(tokens)
        ]
        utterances.append(Utterance(len(utterances), speaker, start, end, text, words))
    return replace(asr, utterances=utterances)


def calls() -> list[Call]:
    found = []
    for folder in (ROOT / "examples", ROOT / "tests" / "data"):
        for ref in sorted(folder.glob("*.json")):
            audio = ref.parent / json.loads(ref.read_text())["audio"]
            if audio.exists():
                found.append(Call(ref.stem, audio, reference_transcript(ref)))
    return found


def _cache_key(audio: Path, settings: Settings, hotwords: list[str]) -> str:
    h = hashlib.sha256(audio.read_bytes())
    h.update(
        json.dumps(
            [settings.asr_model, settings.asr_beam_size, settings.asr_compute_type, hotwords]
        ).encode()
    )
    return h.hexdigest()[:16]


def _to_json(t: Transcript) -> dict[str, Any]:
    return asdict(t)


def _from_json(d: dict[str, Any]) -> Transcript:
    utterances = [
        Utterance(
            u["id"],
            u["speaker"],
            u["start"],
            u["end"],
            u["text"],
            [Word(**w) for w in u["words"]],
            Sentiment(**u["sentiment"]) if u["sentiment"] else None,
        )
        for u in d["utterances"]
    ]
    speech = {k: [Interval(**iv) for iv in v] for k, v in d["speech"].items()}
    return Transcript(**{**d, "utterances": utterances, "speech": speech})


def transcribe(audio: Path, settings: Settings, hotwords: list[str], fresh: bool) -> Transcript:
    """The service's transcript of ``audio``, from the cache when it has one."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{audio.stem}-{_cache_key(audio, settings, hotwords)}.json"
    if path.exists() and not fresh:
        return _from_json(json.loads(path.read_text()))
    from speechqa.pipeline.analysis import transcribe_call

    transcript = transcribe_call(audio, settings, hotwords=hotwords)
    path.write_text(json.dumps(_to_json(transcript)))
    return transcript


def with_sentiment(t: Transcript, settings: Settings) -> Transcript:
    from speechqa.pipeline import sentiment

    model = sentiment.load_model(settings.sentiment_model, settings.sentiment_threads)
    return replace(
        t, utterances=sentiment.score_utterances(model, t.utterances, settings.sentiment_courtesy)
    )


def scored(ruleset: Ruleset, t: Transcript, measured: Measures, settings: Settings) -> Any:
    """Score as the worker does: redact first, then the scoring step."""
    redacted = redact(t, ruleset, settings)
    if redacted is not None:
        t = redacted.transcript
    return score_transcript(ruleset, t.utterances, t.duration_s, measured).evaluation


def exact(ruleset: Ruleset) -> Ruleset:
    """The baseline: the same rules with exact matching only (no fuzzy, no ASR tolerance)."""
    text = ruleset.source
    data = __import__("yaml").safe_load(text)
    data.pop("matching", None)
    for rule in data["rules"]:
        rule.pop("fuzzy", None)
        rule.pop("misheard", None)
    return load_ruleset(__import__("yaml").safe_dump(data, sort_keys=False))


def heard(t: Transcript, speaker: str, start: float, end: float) -> str:
    """What ASR heard from ``speaker`` between two times (to explain a miss)."""
    words = [
        w.word
        for u in t.utterances
        if u.speaker == speaker
        for w in u.words
        if w.end > start - 0.3 and w.start < end + 0.3
    ]
    return " ".join(words)


@dataclass
class Tally:
    calls: int = 0
    asr_total: float = 0.0
    ref_total: float = 0.0
    items_differ: int = 0
    calls_differ: int = 0
    false_hits: int = 0
    misses: int = 0
    stray_hits: int = 0


def compare(
    label: str,
    ruleset: Ruleset,
    pairs: list[tuple[Call, Transcript, Transcript, Measures]],
    settings: Settings,
    verbose: bool,
) -> Tally:
    tally = Tally()
    print(f"\n== {label} ==")
    print(f"{'call':<24} {'ASR':>6} {'ref':>6} {'items differ':>13}  rules: false hits / misses")
    for call, asr, ref, measured in pairs:
        on_asr = scored(ruleset, asr, measured, settings)
        on_ref = scored(ruleset, ref, measured, settings)
        a_score = on_asr.score or {}
        r_score = on_ref.score or {}
        diffs = []
        for sa, sr in zip(a_score.get("sections", []), r_score.get("sections", []), strict=True):
            for ia, ir in zip(sa["items"], sr["items"], strict=True):
                if (ia["applicable"], ia["passed"]) != (ir["applicable"], ir["passed"]):
                    diffs.append((ia, ir))
        rules_a = {r.id: r for r in on_asr.rules}
        false_hits = [r.id for r in on_ref.rules if not r.matched and rules_a[r.id].matched]
        misses = [r.id for r in on_ref.rules if r.matched and not rules_a[r.id].matched]
        stray = []
        for r in on_ref.rules:
            for h in rules_a[r.id].hits:
                if r.matched and not any(
                    g.start - 1.5 <= h.start <= g.end + 1.5 and g.speaker == h.speaker
                    for g in r.hits
                ):
                    stray.append((r.id, h))
        va, vr = a_score.get("value"), r_score.get("value")
        tally.calls += 1
        tally.asr_total += va or 0.0
        tally.ref_total += vr or 0.0
        tally.items_differ += len(diffs)
        tally.calls_differ += bool(diffs)
        tally.false_hits += len(false_hits)
        tally.misses += len(misses)
        tally.stray_hits += len(stray)
        print(
            f"{call.name:<24} {va if va is not None else '-':>6} {vr if vr is not None else '-':>6}"
            f" {len(diffs):>13}  {', '.join(false_hits) or '-'} / {', '.join(misses) or '-'}"
        )
        for ia, ir in diffs:
            where = ""
            for h in ir["evidence"] or ia["evidence"]:
                where = f"; ASR heard {heard(asr, h['speaker'], h['start'], h['end'])!r}"
                where += f" where the reference has {h['text']!r}"
                break
            mark = f" [low confidence {ia['confidence']}]" if ia.get("low_confidence") else ""
            print(
                f"    {ia['item']}: ASR {_answer(ia)}{mark} ({ia['reason']}), "
                f"ref {_answer(ir)} ({ir['reason']}){where}"
            )
        if verbose:
            for rule_id, h in stray:
                print(f"    stray hit of {rule_id} on ASR at {h.start:.1f} s: {h.text!r}")
    n = tally.calls or 1
    print(
        f"{'mean':<24} {tally.asr_total / n:>6.1f} {tally.ref_total / n:>6.1f} "
        f"{tally.items_differ:>13}  rules: {tally.false_hits} false hits, {tally.misses} misses, "
        f"{tally.stray_hits} stray hits (ASR hits where the reference has none)"
    )
    return tally


def flags(
    ruleset: Ruleset,
    pairs: list[tuple[Call, Transcript, Transcript, Measures]],
    settings: Settings,
) -> None:
    """How many ASR answers the low-confidence mark flags: wrong ones (they differ from the
    reference's answer) and right ones, under several thresholds."""
    from speechqa.rules import scorecard

    shipped = scorecard.LOW_CONFIDENCE
    print(
        "\nlow-confidence mark on the ASR answers of rule items: a stretch is weak from this "
        f"share of words under {scorecard.UNSURE_WORD} (shipped: {shipped:.0%})"
    )
    refs = []
    for _call, _asr, ref, measured in pairs:
        r = scored(ruleset, ref, measured, settings).score or {}
        refs.append([i for sec in r.get("sections", []) for i in sec["items"]])
    for threshold in (0.2, 0.25, 0.34, 0.5, 0.67):
        scorecard.LOW_CONFIDENCE = threshold
        wrong = right = wrong_flagged = right_flagged = 0
        for (_call, asr, _ref, measured), ref_items in zip(pairs, refs, strict=True):
            a = scored(ruleset, asr, measured, settings).score or {}
            items = [i for sec in a.get("sections", []) for i in sec["items"]]
            for ia, ir in zip(items, ref_items, strict=True):
                if ia["confidence"] is None or not ia["applicable"]:
                    continue
                if (ia["applicable"], ia["passed"]) != (ir["applicable"], ir["passed"]):
                    wrong += 1
                    wrong_flagged += ia["low_confidence"]
                else:
                    right += 1
                    right_flagged += ia["low_confidence"]
        print(
            f"  {threshold:.0%} of words unsure: {wrong_flagged}/{wrong} wrong answers flagged, "
            f"{right_flagged}/{right} right answers flagged"
        )
    scorecard.LOW_CONFIDENCE = shipped


def _answer(item: dict[str, Any]) -> str:
    if not item["applicable"]:
        return "N/A"
    return "pass" if item["passed"] else "fail"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ruleset", type=Path, help="ruleset YAML (default: the shipped one)")
    parser.add_argument("--fresh", action="store_true", help="transcribe again (no cache)")
    parser.add_argument("--verbose", action="store_true", help="list stray hits too")
    args = parser.parse_args()
    settings = Settings()
    text = args.ruleset.read_text() if args.ruleset else default_ruleset_text()
    ruleset = load_ruleset(text)
    hotwords = ruleset.vocabulary()

    pairs = []
    todo: list[tuple[str, Path, Transcript | None]] = [
        (c.name, c.audio, c.reference) for c in calls()
    ]
    todo += [(p, SHARED / p, None) for p in REAL if (SHARED / p).exists()]
    for name, audio, reference in todo:
        asr = transcribe(audio, settings, hotwords, args.fresh)
        if reference is None:
            reference = real_reference(asr, REAL[name])
        measured = conversation(asr.speech_lists(), asr.utterances, asr.duration_s)
        call = Call(Path(name).stem, audio, reference)
        pairs.append((call, asr, with_sentiment(reference, settings), measured))
    print(
        f"{len(pairs)} calls; ASR: {settings.asr_model} beam {settings.asr_beam_size}; "
        f"ruleset '{ruleset.name}' ({args.ruleset or 'shipped default'})"
    )
    baseline = exact(ruleset)
    base = compare("baseline: exact matching", baseline, pairs, settings, args.verbose)
    now = compare("the ruleset as written", ruleset, pairs, settings, args.verbose)
    flags(ruleset, pairs, settings)
    clean = 0  # rules the ruleset's matching fires on the reference text and exact does not
    for call, _asr, ref, measured in pairs:
        a = {r.id: r.matched for r in scored(baseline, ref, measured, settings).rules}
        for r in scored(ruleset, ref, measured, settings).rules:
            if r.matched and not a[r.id]:
                clean += 1
                print(f"  {call.name}: '{r.id}' fires on the reference text only with tolerance")
    print(
        f"\nitems differing ASR vs reference: {now.items_differ} (baseline {base.items_differ}); "
        f"calls with a difference: {now.calls_differ}/{now.calls} (baseline {base.calls_differ}); "
        f"false hits {now.false_hits} (baseline {base.false_hits}); "
        f"stray hits {now.stray_hits} (baseline {base.stray_hits}); "
        f"rules firing on the reference text only through tolerant matching: {clean}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
