"""Rulesets: the YAML files QA leads write, validated whole and compiled once.

A ruleset names its rules (match expressions scoped to a speaker and a time window), an
optional script (ordered steps, each a rule) and an optional scorecard (sections of items worth
points, scored from rules or from call metrics). ``load_ruleset`` reports every problem of a
file at once, each naming the rule or item, with its line in the file and, for a match
expression, the column inside it. Nothing is half-loaded: a ruleset is valid or rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from speechqa.errors import InvalidInput
from speechqa.rules.language import MatchSyntaxError
from speechqa.rules.matching import CompiledRule, Window
from speechqa.settings import redaction_types

KPIS: dict[str, str] = {
    "duration_s": "call duration in seconds",
    "agent_talk_pct": "agent talk time / duration",
    "talk_listen_ratio": "agent talk / (agent + customer talk)",
    "silence_s": "total non-talk of 3 s or more",
    "silence_ratio": "non-talk / duration",
    "longest_silence_s": "longest non-talk stretch",
    "silence_count": "number of non-talk stretches",
    "overtalk_s": "time both talk at once",
    "agent_interruptions": "times the agent talked over the customer",
    "customer_interruptions": "times the customer talked over the agent",
    "agent_wpm": "agent words per minute",
    "customer_wpm": "customer words per minute",
    "agent_longest_monologue_s": "longest agent monologue",
    "customer_longest_monologue_s": "longest customer monologue",
    "agent_questions": "agent questions asked",
    "customer_sentiment": "customer sentiment over the call, -1..1",
    "customer_sentiment_shift": "customer sentiment, last quarter minus first",
}
"""Call metrics a scorecard item may test (computed by the metrics stage)."""

_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"


class RulesetInvalid(InvalidInput):
    code = "invalid_ruleset"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


Bound = float | str


class WindowSpec(_Model):
    first: Bound | None = None
    last: Bound | None = None
    from_: Bound | None = Field(None, alias="from")
    to: Bound | None = None


class RuleSpec(_Model):
    id: str = Field(pattern=_ID)
    description: str | None = None
    speaker: Literal["agent", "customer", "any"] = "any"
    window: WindowSpec | None = None
    match: str | None = Field(None, min_length=1)
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    fuzzy: int = Field(0, ge=0, le=3)
    misheard: int = Field(0, ge=0, le=1)
    """Words of a phrase of four or more that may have been heard as another, unsure word."""

    @model_validator(mode="after")
    def _something_to_match(self) -> RuleSpec:
        if self.match is None and self.sentiment is None:
            raise ValueError("a rule needs 'match', 'sentiment' or both")
        return self


class MatchingSpec(_Model):
    """How every rule matches unless it says otherwise (its own ``fuzzy`` / ``misheard``)."""

    fuzzy: int = Field(0, ge=0, le=3)
    misheard: int = Field(0, ge=0, le=1)


class ScriptSpec(_Model):
    steps: list[str] = Field(min_length=1)
    ordered: bool = True


class ItemSpec(_Model):
    rule: str | None = None
    kpi: str | None = None
    points: float = Field(gt=0)
    expect: Literal["present", "absent"] = "present"
    when: str | None = None
    within: float | None = Field(None, gt=0)
    max: float | None = None
    min: float | None = None
    critical: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ItemSpec:
        if (self.rule is None) == (self.kpi is None):
            raise ValueError("an item tests either a 'rule' or a 'kpi'")
        if self.kpi is not None and self.max is None and self.min is None:
            raise ValueError(f"kpi item '{self.kpi}' needs 'max' or 'min'")
        if self.within is not None and self.when is None:
            raise ValueError("'within' needs 'when'")
        return self


class SectionSpec(_Model):
    name: str = Field(min_length=1)
    items: list[ItemSpec] = Field(min_length=1)


class ScorecardSpec(_Model):
    sections: list[SectionSpec] = Field(min_length=1)


class RulesetSpec(_Model):
    name: str = Field(pattern=_ID)
    language: str = "en"
    description: str | None = None
    hotwords: list[str] = Field(default_factory=list)
    agent_phrases: list[str] = Field(default_factory=list)
    redact: list[str] | Literal["off", "all"] | None = None
    """Personal data redacted in this ruleset's calls (overrides the deployment's setting)."""
    matching: MatchingSpec = Field(default_factory=MatchingSpec)
    rules: list[RuleSpec] = Field(min_length=1)
    script: ScriptSpec | None = None
    scorecard: ScorecardSpec | None = None

    @field_validator("redact", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        if isinstance(value, bool):  # YAML reads a bare off/on as false/true
            return "all" if value else "off"
        return value

    @field_validator("redact")
    @classmethod
    def _known_types(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list):
            redaction_types(value)  # raises ValueError naming the unknown ones
        return value


@dataclass(frozen=True)
class Ruleset:
    """A validated, compiled ruleset."""

    spec: RulesetSpec
    rules: dict[str, CompiledRule]
    source: str
    version: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def vocabulary(self) -> list[str]:
        """Hotwords for ASR: the terms the ruleset lists (product and company names).

        Rule phrases are not added wholesale: a long prompt of common phrases made Whisper
        worse in our measurements, while a short list of rare names helped (bench/).
        """
        return list(dict.fromkeys(t for t in self.spec.hotwords if t.strip()))

    def redaction_types(self, default: tuple[str, ...]) -> tuple[str, ...]:
        """The types to redact in this ruleset's calls: its own ``redact``, else ``default``
        (the deployment's ``SPEECHQA_REDACT``); none when redaction is off for them.

        The one place of that choice: the worker and ``speechqa analyze`` redact what it says
        (``speechqa.redaction.redact_with``), so they store and print the same words.
        """
        value = self.spec.redact
        if value is None:
            return default
        return redaction_types([value] if isinstance(value, str) else value)

    def counts(self) -> dict[str, int]:
        """How much the ruleset holds, as validation reports it."""
        spec = self.spec
        return {
            "rules": len(self.rules),
            "script_steps": len(spec.script.steps) if spec.script else 0,
            "scorecard_items": sum(len(s.items) for s in spec.scorecard.sections)
            if spec.scorecard
            else 0,
        }


@dataclass
class _Problems:
    lines: dict[tuple[Any, ...], int]
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, where: str, message: str, path: tuple[Any, ...] = (), column: int | None = None
    ) -> None:
        problem: dict[str, Any] = {"where": where, "message": message}
        line = None
        for n in range(len(path), 0, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                break
        if line is not None:
            problem["line"] = line
        if column is not None:
            problem["column"] = column
        self.items.append(problem)


def _line_map(text: str) -> dict[tuple[Any, ...], int]:
    """Map each path in the YAML document to its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def _where(path: tuple[Any, ...], data: Any) -> str:
    """A readable place: ``rule 'greeting' (rules[2]).window.first``."""
    parts: list[str] = []
    node = data
    for key in path:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node) and isinstance(node[key], dict):
                ident = (
                    node[key].get("id")
                    or node[key].get("name")
                    or node[key].get("rule")
                    or node[key].get("kpi")
                )
                if ident:
                    label += f" ({ident})"
            parts.append(label)
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "ruleset"


def _bound(
    value: Bound | None, name: str, problems: _Problems, where: str, path: tuple[Any, ...]
) -> tuple[float | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", value)
        if not m:
            problems.add(
                where,
                f"window '{name}' must be seconds or a percentage like \"10%\", not {value!r}",
                path,
            )
            return None, False
        pct = float(m.group(1))
        if pct > 100:
            problems.add(where, f"window '{name}' is over 100%", path)
        return pct, True
    if value < 0:
        problems.add(where, f"window '{name}' is negative ({value})", path)
    return float(value), False


def _window(
    spec: WindowSpec, problems: _Problems, where: str, path: tuple[Any, ...]
) -> Window | None:
    values = {}
    kinds = set()
    for name, attr in (("first", "first"), ("last", "last"), ("from", "from_"), ("to", "to")):
        value, pct = _bound(getattr(spec, attr), name, problems, where, (*path, name))
        if value is not None:
            values[name] = value
            kinds.add(pct)
    if not values:
        problems.add(where, "the window is empty: give first, last, or from/to", path)
        return None
    if len(kinds) > 1:
        problems.add(where, "mix seconds and percentages in one window", path)
    if ("first" in values or "last" in values) and ("from" in values or "to" in values):
        problems.add(where, "use either first/last or from/to in one window", path)
    if "from" in values and "to" in values and values["from"] >= values["to"]:
        problems.add(
            where, f"window 'from' ({values['from']}) must be before 'to' ({values['to']})", path
        )
    return Window(
        first=values.get("first"),
        last=values.get("last"),
        start=values.get("from"),
        end=values.get("to"),
        pct=True in kinds,
    )


MAX_BYTES = 256 * 1024
"""A ruleset file larger than this is refused (the default ruleset is 4 KB)."""
MAX_NESTING = 16


def _check_shape(text: str) -> None:
    """Refuse what would cost more to build than to read: oversize text, aliases, deep nesting.

    YAML aliases (``*name``) are refused outright: a few hundred bytes of nested aliases expand
    to gigabytes ("billion laughs"), and a ruleset never needs them.
    """
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise RulesetInvalid(
            f"The ruleset is larger than {MAX_BYTES // 1024} KiB.",
            details=[{"where": "ruleset", "message": f"larger than {MAX_BYTES} bytes"}],
        )
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        problem = None
        if isinstance(event, yaml.AliasEvent):
            problem = "YAML aliases (*name) are not allowed in a ruleset"
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                problem = f"the YAML nests deeper than {MAX_NESTING} levels"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if problem is not None:
            mark = event.start_mark
            raise RulesetInvalid(
                f"The ruleset is refused: {problem}.",
                details=[
                    {
                        "where": "ruleset",
                        "message": problem,
                        "line": mark.line + 1,
                        "column": mark.column + 1,
                    }
                ],
            )


MAX_DIGITS = 15
"""A number in a ruleset has at most this many digits (Python refuses to read past 4,300)."""


@dataclass(frozen=True)
class _TooManyDigits:
    """Stands for an over-long integer, so that validation names its rule and field."""

    digits: int


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader, reading an integer of more than MAX_DIGITS digits as _TooManyDigits."""


def _integer(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    digits = sum(ch.isdigit() for ch in node.value)
    if digits > MAX_DIGITS:
        return _TooManyDigits(digits)
    return loader.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _integer)


def load_ruleset(text: str, *, version: int | None = None) -> Ruleset:
    """Validate and compile a ruleset; raise RulesetInvalid listing every problem."""
    try:
        _check_shape(text)
        data = yaml.load(text, Loader=_Loader)  # the safe loader, one change
        lines = _line_map(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem: dict[str, Any] = {
            "where": "ruleset",
            "message": f"not valid YAML: {getattr(exc, 'problem', exc)}",
        }
        if mark is not None:
            problem["line"], problem["column"] = mark.line + 1, mark.column + 1
        raise RulesetInvalid("The ruleset is not valid YAML.", details=[problem]) from exc
    problems = _Problems(lines)
    if not isinstance(data, dict):
        raise RulesetInvalid(
            "The ruleset must be a YAML mapping with 'name' and 'rules'.",
            details=[{"where": "ruleset", "message": "expected a mapping"}],
        )
    try:
        spec = RulesetSpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            message = err["msg"]
            if isinstance(err.get("input"), _TooManyDigits):
                message = f"a number of {err['input'].digits} digits; at most {MAX_DIGITS}"
            problems.add(_where(loc, data), message, loc)
        raise _invalid(problems) from exc

    compiled: dict[str, CompiledRule] = {}
    seen: set[str] = set()
    for i, rule in enumerate(spec.rules):
        path: tuple[Any, ...] = ("rules", i)
        where = f"rule '{rule.id}'"
        if rule.id in seen:
            problems.add(where, f"duplicate rule id '{rule.id}'", (*path, "id"))
            continue
        seen.add(rule.id)
        window = _window(rule.window, problems, where, (*path, "window")) if rule.window else None
        own = rule.model_fields_set
        try:
            compiled[rule.id] = CompiledRule.compile(
                rule.id,
                rule.match,
                speaker=rule.speaker,
                window=window,
                fuzzy=rule.fuzzy if "fuzzy" in own else spec.matching.fuzzy,
                misheard=rule.misheard if "misheard" in own else spec.matching.misheard,
                sentiment=rule.sentiment,
            )
        except MatchSyntaxError as exc:
            problems.add(where, f"match: {exc.message}", (*path, "match"), column=exc.column)
    known = {r.id for r in spec.rules}
    if spec.script is not None:
        for i, step in enumerate(spec.script.steps):
            if step not in known:
                problems.add(
                    f"script step {i + 1}", f"unknown rule id '{step}'", ("script", "steps", i)
                )
    if spec.scorecard is not None:
        for s, section in enumerate(spec.scorecard.sections):
            for j, item in enumerate(section.items):
                item_path = ("scorecard", "sections", s, "items", j)
                where = f"scorecard section '{section.name}' item {j + 1}"
                for field_name in ("rule", "when"):
                    ref = getattr(item, field_name)
                    if ref is not None and ref not in known:
                        problems.add(
                            where,
                            f"unknown rule id '{ref}' in '{field_name}'",
                            (*item_path, field_name),
                        )
                if item.kpi is not None and item.kpi not in KPIS:
                    problems.add(
                        where,
                        f"unknown KPI '{item.kpi}'; known: {', '.join(sorted(KPIS))}",
                        (*item_path, "kpi"),
                    )
    if problems.items:
        raise _invalid(problems)
    return Ruleset(spec=spec, rules=compiled, source=text, version=version)


def _invalid(problems: _Problems) -> RulesetInvalid:
    summary = "; ".join(
        f"{p['where']}{' (line ' + str(p['line']) + ')' if 'line' in p else ''}: {p['message']}"
        for p in problems.items
    )
    return RulesetInvalid(
        f"The ruleset has {len(problems.items)} problem(s): {summary}", details=problems.items
    )


def default_ruleset_text() -> str:
    """The shipped default ruleset for customer-service calls."""
    return resources.files("speechqa.rules").joinpath("default.yaml").read_text(encoding="utf-8")
