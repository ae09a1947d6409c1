"""Example clips for coaching: the moments where agents did something well, or should have.

A coach asks for good or bad examples of a rule, a scorecard item or a KPI, and gets clips
(call, speaker, start, end, text, why it was chosen), clearest first:

1. **confirmed by a reviewer**: the call's submitted review gives the item the same answer;
   a call whose review contradicts the example is never offered;
2. **clear**: the mean recognition confidence of the words in the clip (what the coach will
   hear is what the transcript says), less a penalty for clips shorter than 2 s or longer than
   15 s (a whole, short turn plays best in a session);
3. **recent** among equals;
4. **varied agents**: no agent appears twice before every agent with an example appears once.

Good examples of a rule are its hits in calls where its item scored; bad ones are misses, with
the moment it should have happened (the rule's window, e.g. the last 30 s for a closing; the
minute after the complaint for empathy; between the script steps around it), and hits of
rules that must not occur (forbidden language). KPI examples play the moment that shows the
number: the longest silence, the customer's most negative or positive turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.calls import repository
from speechqa.coaching.library import clip_url
from speechqa.contracts import NEUTRAL, Utterance
from speechqa.errors import InvalidInput
from speechqa.pipeline.conversation import silences
from speechqa.rules import versions
from speechqa.rules.matching import Hit, Window
from speechqa.rules.ruleset import ItemSpec, Ruleset
from speechqa.rules.scorecard import Evaluation, Scorecard, item_result, item_specs
from speechqa.scoring import evaluations
from speechqa.storage.tables import Call, CallStats, CallStatus, KpiEvent

Quality = Literal["good", "bad"]
SCAN_CALLS = 500
"""How many of the newest calls in scope are searched for examples."""
CLIP_MAX_S = 30.0
CLIP_PAD_S = 2.0
MAX_LIMIT = 50
KPI_MOMENTS: dict[str, tuple[Quality, ...]] = {
    "silence_ratio": ("bad",),
    "silence_s": ("bad",),
    "longest_silence_s": ("bad",),
    "customer_sentiment_shift": ("good", "bad"),
    "customer_sentiment": ("good", "bad"),
}
"""The KPIs with a moment to play, and for which quality (no silence has no moment)."""


@dataclass(frozen=True)
class ExampleQuery:
    quality: Quality
    rule: str | None = None
    item: str | None = None
    """A scorecard item's key (``"2.0"``: section 2, item 0) in ``ruleset``."""
    kpi: str | None = None
    ruleset: str | None = None
    agent_id: str | None = None
    team: str | None = None
    limit: int = 10


@dataclass(frozen=True)
class Example:
    call_id: str
    agent_id: str
    team: str | None
    at: datetime
    speaker: str | None
    start: float
    end: float
    text: str
    reason: str
    confirmed: bool
    """A submitted review gives the item the same answer."""
    confidence: float | None
    """Mean recognition confidence of the clip's words."""
    audio_url: str | None
    """Plays just this span (a WAV clip); None when retention removed the recording (the
    transcript stays)."""

    @property
    def audio(self) -> bool:
        return self.audio_url is not None


@dataclass(frozen=True)
class _Target:
    """What one example stands for in a call's ruleset: a rule, and the item scoring it."""

    rule: str | None
    key: str | None
    item: ItemSpec | None


def find(session: Session, principal: Principal, query: ExampleQuery) -> list[Example]:
    """The clearest examples for ``query`` among the newest calls the principal may see; an
    agent or team named that the principal does not see is unknown (NotFound)."""
    access.require(principal, Action.COACH)
    if query.team is not None:
        access.see_team(principal, query.team)
    if query.agent_id is not None:
        access.agent_for(session, principal, query.agent_id)
    needs_hit = _check(session, query)
    candidates = _candidates(session, principal, query, needs_hit)
    if query.kpi is not None:
        found = _kpi_examples(session, query, candidates)
    else:
        found = _rule_examples(session, query, candidates)
    return _varied(found, query.limit)


def _check(session: Session, query: ExampleQuery) -> bool:
    """Refuse a query that cannot have examples; True when every example is a rule's hit."""
    given = [n for n in ("rule", "item", "kpi") if getattr(query, n) is not None]
    if len(given) != 1:
        raise InvalidInput(
            "Ask for examples of one 'rule', 'item' or 'kpi'.", details={"parameter": "rule"}
        )
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' is 1 to {MAX_LIMIT}.", details={"parameter": "limit"})
    if query.kpi is not None:
        moments = KPI_MOMENTS.get(query.kpi)
        if moments is None:
            known = ", ".join(KPI_MOMENTS)
            raise InvalidInput(
                f"KPI {query.kpi!r} has no moment to play; examples exist for "
                f"{known}. Use 'rule' or 'item' for the rest.",
                details={"parameter": "kpi"},
            )
        if query.quality not in moments:
            raise InvalidInput(
                f"{query.kpi} has no moment to play for quality={query.quality} "
                "(a call without a problem has no moment that shows it).",
                details={"parameter": "quality"},
            )
        return False
    rulesets = [query.ruleset] if query.ruleset else [n["name"] for n in versions.names(session)]
    if query.ruleset is not None and not versions.exists(session, query.ruleset):
        raise InvalidInput(f"No ruleset {query.ruleset!r}.", details={"parameter": "ruleset"})
    targets = [t for name in rulesets for t in _targets(versions.get(session, name), query)]
    if not targets:
        what = f"rule {query.rule!r}" if query.rule else f"item {query.item!r}"
        where = f"ruleset {query.ruleset!r}" if query.ruleset else "any ruleset"
        param = "rule" if query.rule else "item"
        raise InvalidInput(f"No {what} in {where}.", details={"parameter": param})
    forbidden = all(t.item is not None and t.item.expect == "absent" for t in targets)
    if query.quality == "good" and forbidden:
        raise InvalidInput(
            "This rule must not occur: a call without it has no moment to play. "
            "Ask for quality=bad to hear where it did.",
            details={"parameter": "quality"},
        )
    return query.rule is not None and (query.quality == "good" or forbidden)


def _targets(ruleset: Ruleset, query: ExampleQuery) -> list[_Target]:
    items = item_specs(ruleset)
    if query.item is not None:
        return [_Target(item.rule, key, item) for key, item in items if key == query.item]
    if query.rule is None or query.rule not in ruleset.rules:
        return []
    scoring = [_Target(query.rule, key, item) for key, item in items if item.rule == query.rule]
    return scoring or [_Target(query.rule, None, None)]


@dataclass(frozen=True)
class _Candidate:
    call: Call
    at: datetime
    values: dict[str, Any]


def _candidates(
    session: Session, principal: Principal, query: ExampleQuery, needs_hit: bool
) -> list[_Candidate]:
    stmt: Select[tuple[Call, datetime, dict[str, Any]]] = (
        select(Call, CallStats.at, CallStats.values)
        .join(CallStats, CallStats.call_id == Call.id)
        .where(Call.status == CallStatus.DONE)
    )
    stmt = stmt.where(access.calls(principal))
    if query.agent_id is not None:
        stmt = stmt.where(CallStats.agent_id == query.agent_id)
    if query.team is not None:
        stmt = stmt.where(CallStats.team == query.team)
    if query.ruleset is not None:
        named = Call.ruleset == query.ruleset
        default = query.ruleset == versions.DEFAULT
        stmt = stmt.where(Call.ruleset.is_(None) | named if default else named)
    if needs_hit:
        hit = select(KpiEvent.call_id).where(KpiEvent.counter == f"rule:{query.rule}")
        stmt = stmt.where(Call.id.in_(hit))
    if query.kpi is not None:
        stmt = stmt.where(CallStats.values[query.kpi].as_float().is_not(None))
    stmt = stmt.order_by(CallStats.at.desc(), Call.id).limit(SCAN_CALLS)
    return [_Candidate(call, at, values) for call, at, values in session.execute(stmt)]


# -- rules and items ----------------------------------------------------------------------


def _rule_examples(
    session: Session, query: ExampleQuery, candidates: Sequence[_Candidate]
) -> list[tuple[float, Example]]:
    by_id = {c.call.id: c for c in candidates}
    counted = evaluations.counted(session, list(by_id))
    automatic = evaluations.loaded(session, [c.id for c in counted.values()])
    reviewed = evaluations.review_results(session, [c.review_id for c in counted.values()])
    rulesets: dict[tuple[str, int], Ruleset] = {}
    wanted: list[tuple[_Candidate, Evaluation, Ruleset, _Target, bool, list[Hit]]] = []
    for call_id, chosen in counted.items():
        version = (chosen.ruleset, chosen.version)
        if version not in rulesets:
            rulesets[version] = versions.get(session, chosen.ruleset, chosen.version or None)
        ruleset = rulesets[version]
        result = automatic[chosen.id]
        final = reviewed.get(chosen.review_id) if chosen.review_id else None
        for target in _targets(ruleset, query):
            verdict = _verdict(result, final, target, query.quality)
            if verdict is not None:
                confirmed, hits = verdict
                wanted.append((by_id[call_id], result, ruleset, target, confirmed, hits))
    turns = _utterances(session, {c.call.id for c, *_ in wanted})
    out: list[tuple[float, Example]] = []
    for candidate, result, ruleset, target, confirmed, hits in wanted:
        call_turns = turns.get(candidate.call.id, [])
        if hits:  # the call's clearest hit
            clips = [_hit_clip(candidate, call_turns, hit, target, confirmed) for hit in hits]
            out.append(max(clips, key=lambda c: c[0]))
        else:
            out.append(_missed_clip(candidate, call_turns, result, ruleset, target, confirmed))
    return out


def _verdict(
    result: Evaluation, final: Scorecard | None, target: _Target, quality: Quality
) -> tuple[bool, list[Hit]] | None:
    """Whether a call is an example of ``target`` for ``quality``: (confirmed, hits to play;
    none for a miss), or None."""
    rule_result = next((r for r in result.rules if r.id == target.rule), None)
    if target.key is None or target.item is None:
        if rule_result is None:
            return None
        matched = rule_result.matched
        if matched != (quality == "good"):
            return None
        return False, list(rule_result.hits) if matched else []
    automatic = item_result(result.score, target.key)
    if automatic is None or not automatic.applicable:
        return None
    reviewed = item_result(final, target.key) if final else None
    answer = reviewed if reviewed is not None else automatic
    if not answer.applicable or answer.passed != (quality == "good"):
        return None
    absent = target.item.expect == "absent"
    if quality == "good" and absent:
        return None
    confirmed = reviewed is not None
    if quality == "good" or absent:
        hits = list(automatic.evidence)
        if not hits:  # a reviewer's answer against the machine's: no moment to play
            return None
        return confirmed, hits
    return confirmed, []


def _utterances(session: Session, call_ids: set[str]) -> dict[str, list[Utterance]]:
    return repository.utterances_of(session, sorted(call_ids)) if call_ids else {}


def _hit_clip(
    candidate: _Candidate,
    turns: Sequence[Utterance],
    hit: Hit,
    target: _Target,
    confirmed: bool,
) -> tuple[float, Example]:
    """The turn holding the hit (trimmed around the hit when the turn is long)."""
    turn = next((t for t in turns if t.id == hit.utterance), None)
    start, end = hit.start, hit.end
    if turn is not None and turn.end - turn.start <= CLIP_MAX_S:
        start, end = turn.start, turn.end
    else:
        start, end = max(0.0, start - CLIP_PAD_S * 2), end + CLIP_PAD_S * 2
    speaker = (hit.speaker or (turn.speaker if turn else "")) or None
    what = f"'{target.rule}' said: \u201c{hit.text}\u201d"
    if target.item is not None and target.item.expect == "absent":
        what = f"'{target.rule}' must not occur, and did: \u201c{hit.text}\u201d"
    return _example(candidate, turns, start, end, speaker, what, confirmed)


def _missed_clip(
    candidate: _Candidate,
    turns: Sequence[Utterance],
    result: Evaluation,
    ruleset: Ruleset,
    target: _Target,
    confirmed: bool,
) -> tuple[float, Example]:
    """Where a missed rule should have been said."""
    duration = candidate.call.duration_s or (turns[-1].end if turns else 0.0)
    rule = ruleset.rules.get(target.rule or "")
    item = target.item
    hits = {r.id: r.hits for r in result.rules}
    start, end, where = 0.0, min(duration, CLIP_MAX_S), "no window is set: the first 30 s"
    if item is not None and item.when is not None and hits.get(item.when):
        t0 = min(h.start for h in hits[item.when])
        span = item.within or CLIP_MAX_S
        start, end = t0, min(duration, t0 + min(span, CLIP_MAX_S))
        where = f"after '{item.when}' at {t0:.1f} s"
    elif rule is not None and rule.window is not None:
        start, end = _window_clip(rule.window, duration)
        where = f"its window, {start:.1f}-{end:.1f} s"
    elif ruleset.spec.script and target.rule in ruleset.spec.script.steps:
        start, end, where = _between_steps(ruleset, target.rule or "", hits, duration)
    speaker = rule.speaker if rule is not None and rule.speaker != "any" else None
    what = f"'{target.rule}' was not said; the clip is where it belonged ({where})"
    return _example(candidate, turns, start, end, speaker, what, confirmed)


def _window_clip(window: Window, duration: float) -> tuple[float, float]:
    lo, hi = window.bounds(duration)
    hi = min(hi, duration)
    if window.last is not None:  # the end of the call matters most: play up to it
        return max(lo, hi - CLIP_MAX_S), hi
    return lo, min(hi, lo + CLIP_MAX_S)


def _between_steps(
    ruleset: Ruleset, rule: str, hits: dict[str, list[Hit]], duration: float
) -> tuple[float, float, str]:
    assert ruleset.spec.script is not None
    steps = ruleset.spec.script.steps
    at = steps.index(rule)
    before = [h.end for s in steps[:at] for h in hits.get(s, [])]
    after = [h.start for s in steps[at + 1 :] for h in hits.get(s, [])]
    start = max(before) if before else 0.0
    end = min([a for a in after if a > start] or [duration])
    end = min(end, start + CLIP_MAX_S, duration)
    return start, end, f"between the script steps around it, {start:.1f}-{end:.1f} s"


# -- KPIs -------------------------------------------------------------------------------


def _kpi_examples(
    session: Session, query: ExampleQuery, candidates: Sequence[_Candidate]
) -> list[tuple[float, Example]]:
    assert query.kpi is not None
    worst_first = query.kpi.startswith("silence") or query.kpi == "longest_silence_s"
    ordered = sorted(
        candidates,
        key=lambda c: float(c.values[query.kpi or ""]),
        reverse=worst_first == (query.quality == "bad"),
    )
    chosen = ordered[: query.limit * 4]
    turns = _utterances(session, {c.call.id for c in chosen})
    out: list[tuple[float, Example]] = []
    for rank, candidate in enumerate(chosen):
        value = float(candidate.values[query.kpi])
        call_turns = turns.get(candidate.call.id, [])
        moment = (
            _silence_moment(candidate)
            if query.kpi.startswith(("silence", "longest"))
            else _mood_moment(call_turns, query.quality)
        )
        if moment is None:
            continue
        start, end, speaker, what = moment
        _, example = _example(
            candidate, call_turns, start, end, speaker, f"{query.kpi} = {value:g}; {what}", False
        )
        out.append((-rank, example))  # the metric orders KPI examples
    return out


def _silence_moment(candidate: _Candidate) -> tuple[float, float, str | None, str] | None:
    call = candidate.call
    found = silences(call.speech or {}, call.duration_s or 0.0, 3.0)
    if not found:
        return None
    lo, hi = max(found, key=lambda s: s[1] - s[0])
    start, end = max(0.0, lo - CLIP_PAD_S), min(call.duration_s or hi, hi + CLIP_PAD_S)
    if end - start > CLIP_MAX_S:
        end = start + CLIP_MAX_S
    return start, end, None, f"the longest silence, {hi - lo:.1f} s at {lo:.1f} s"


def _mood_moment(
    turns: Sequence[Utterance], quality: Quality
) -> tuple[float, float, str | None, str] | None:
    scored = [t for t in turns if t.speaker == "customer" and t.sentiment is not None]
    if not scored:
        return None
    label = "positive" if quality == "good" else "negative"
    matching = [t for t in scored if t.sentiment is not None and t.sentiment.label == label]
    if not matching:
        return None
    sign = 1.0 if quality == "good" else -1.0
    turn = max(matching, key=lambda t: (sign * (t.sentiment or NEUTRAL).score, t.start))
    return (
        turn.start,
        min(turn.end, turn.start + CLIP_MAX_S),
        turn.speaker,
        f"the customer's most {label} turn",
    )


# -- clips and ranking ------------------------------------------------------------------


def _example(
    candidate: _Candidate,
    turns: Sequence[Utterance],
    start: float,
    end: float,
    speaker: str | None,
    what: str,
    confirmed: bool,
) -> tuple[float, Example]:
    start, end = round(start, 2), round(max(end, start + 0.5), 2)
    words = [w for t in turns for w in t.words if w.end > start and w.start < end]
    heard = [t for t in turns if t.end > start and t.start < end]
    text = (
        " ".join(t.text if len(heard) == 1 else f"{t.speaker}: {t.text}" for t in heard)
        or "(no speech)"
    )
    confidence = round(sum(w.probability for w in words) / len(words), 3) if words else None
    length = end - start
    penalty = 0.1 if length < 2 else max(0.0, min(0.3, 0.02 * (length - 15)))
    clarity = (confidence if confidence is not None else 0.5) - penalty
    parts = [what]
    if confirmed:
        parts.append("confirmed by a reviewer")
    if confidence is not None:
        parts.append(f"word confidence {confidence:.2f}")
    parts.append(f"{length:.1f} s")
    call = candidate.call
    example = Example(
        call.id,
        call.agent_id,
        call.team,
        candidate.at,
        speaker,
        start,
        end,
        text,
        "; ".join(parts),
        confirmed,
        confidence,
        clip_url(call.id, start, end) if call.audio_deleted_at is None else None,
    )
    return (1.0 if confirmed else 0.0) + clarity, example


def _varied(found: list[tuple[float, Example]], limit: int) -> list[Example]:
    """Best first, newest among equals, one per agent per round."""
    ranked = sorted(found, key=lambda p: (-p[0], -p[1].at.timestamp(), p[1].call_id, p[1].start))
    seen_calls: set[str] = set()
    rounds: dict[str, int] = defaultdict(int)
    placed: list[tuple[int, int, Example]] = []
    for order, (_, example) in enumerate(ranked):
        if example.call_id in seen_calls:
            continue
        seen_calls.add(example.call_id)
        placed.append((rounds[example.agent_id], order, example))
        rounds[example.agent_id] += 1
    placed.sort(key=lambda p: (p[0], p[1]))
    return [e for _, _, e in placed[:limit]]
