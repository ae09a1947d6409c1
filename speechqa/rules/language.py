"""The match expression language: parse a rule's ``match`` string into an expression tree.

Grammar (operators are upper case; precedence from loosest to tightest)::

    expr     := or
    or       := and ("OR" and)*
    and      := near ("AND" near)*
    near     := unary (("NEAR/" n | "BEFORE") unary)*
    unary    := "NOT" unary | atom
    atom     := "(" expr ")" | '"phrase"' | "'phrase'" | word | word* | [num]

A bare word or a quoted phrase matches words in order inside one utterance. ``word*`` is a
prefix wildcard and ``[num]`` any spoken or written number, also inside phrases; a redaction
tag (``[CARD_NUMBER]``, ``[DOB]``...) matches where the redaction stage replaced such data.
Errors carry the 1-based column where the problem is, so a ruleset validator can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from speechqa.contracts import REDACTION_TYPES

OPERATORS = ("AND", "OR", "NOT", "BEFORE")


class MatchSyntaxError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Term:
    """One word of a phrase: exact (lemma-aware), a prefix wildcard, or any number."""

    text: str
    kind: str = "word"  # word | prefix | number


@dataclass(frozen=True)
class Phrase:
    terms: tuple[Term, ...]
    source: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int


@dataclass(frozen=True)
class Before:
    left: Node
    right: Node


Node = Phrase | Not | And | Or | Near | Before

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        "(?P<dq>[^"]*)" | '(?P<sq>(?:[^']|'')*)' |
        (?P<near>NEAR/(?P<n>\d+)) |
        (?P<num>\[num\]) |
        (?P<word>[^\s()"']+(?:'[^\s()"']+)*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str
    column: int


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TOKEN.match(source, pos)
        if m is None or m.end() == pos:
            col = pos + len(source[pos:]) - len(source[pos:].lstrip()) + 1
            char = source[col - 1]
            if char in "\"'":
                raise MatchSyntaxError(f"unclosed quote {char}", col)
            raise MatchSyntaxError(f"unexpected character {char!r}", col)
        col = m.start() + len(m.group(0)) - len(m.group(0).lstrip()) + 1
        if m.group("lparen"):
            tokens.append(_Tok("(", "(", col))
        elif m.group("rparen"):
            tokens.append(_Tok(")", ")", col))
        elif m.group("dq") is not None:
            tokens.append(_Tok("phrase", m.group("dq"), col))
        elif m.group("sq") is not None:
            tokens.append(_Tok("phrase", m.group("sq").replace("''", "'"), col))
        elif m.group("near"):
            tokens.append(_Tok("NEAR", m.group("n"), col))
        elif m.group("num"):
            tokens.append(_Tok("phrase", "[num]", col))
        else:
            word = m.group("word")
            if word in OPERATORS:
                tokens.append(_Tok(word, word, col))
            elif word.startswith("NEAR"):
                raise MatchSyntaxError("NEAR needs a distance in words, e.g. NEAR/3", col)
            else:
                tokens.append(_Tok("word", word, col))
        pos = m.end()
    return tokens


def _terms(text: str, column: int) -> tuple[Term, ...]:
    words = text.split()
    if not words:
        raise MatchSyntaxError("empty phrase", column)
    terms = []
    for word in words:
        if word == "[num]":
            terms.append(Term("[num]", "number"))
        elif word.startswith("[") and word.endswith("]"):
            if word[1:-1].upper() not in REDACTION_TYPES:
                raise MatchSyntaxError(
                    f"unknown tag {word!r}: use [num] or a redaction type "
                    f"({', '.join(f'[{t}]' for t in REDACTION_TYPES)})",
                    column,
                )
            terms.append(Term(word.lower()))
        elif word.endswith("*"):
            stem = word.rstrip("*").lower()
            if len(stem) < 2:
                raise MatchSyntaxError(
                    f"wildcard {word!r} needs at least 2 letters before *", column
                )
            terms.append(Term(stem, "prefix"))
        elif "*" in word:
            raise MatchSyntaxError(f"'*' may only end a word ({word!r})", column)
        else:
            terms.append(Term(word.lower()))
    return tuple(terms)


MAX_CHARS = 2000
"""Longer match expressions are refused: real rules are a few lines."""
MAX_DEPTH = 32
"""Parentheses, NOTs and NEAR/BEFORE links nested deeper than this are refused."""


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.i = 0
        self.depth = 0

    def deeper(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MatchSyntaxError(f"the expression nests deeper than {MAX_DEPTH} levels", column)

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def end_column(self) -> int:
        return len(self.source.rstrip()) + 1

    def parse(self) -> Node:
        if not self.tokens:
            raise MatchSyntaxError("the expression is empty", 1)
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            if tok.kind == ")":
                raise MatchSyntaxError("unmatched ')'", tok.column)
            raise MatchSyntaxError(
                f"expected AND, OR, NEAR/n or BEFORE before {tok.value!r} "
                "(put several words in quotes to match a phrase)",
                tok.column,
            )
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        parts = [self.near()]
        while (tok := self.peek()) is not None and tok.kind == "AND":
            self.take()
            parts.append(self.near())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def near(self) -> Node:
        node = self.unary()
        depth = self.depth
        while (tok := self.peek()) is not None and tok.kind in ("NEAR", "BEFORE"):
            self.take()
            self.deeper(tok.column)  # each link nests the chain one level deeper
            right = self.unary()
            for side in (node, right):
                if isinstance(side, Not):
                    raise MatchSyntaxError(f"{tok.kind} cannot take a NOT operand", tok.column)
            node = Near(node, right, int(tok.value)) if tok.kind == "NEAR" else Before(node, right)
        self.depth = depth
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "NOT":
            self.take()
            self.deeper(tok.column)
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise MatchSyntaxError(
                "the expression ends where a word or phrase was expected", self.end_column()
            )
        self.take()
        if tok.kind == "(":
            self.deeper(tok.column)
            node = self.or_()
            close = self.peek()
            if close is None or close.kind != ")":
                raise MatchSyntaxError("missing ')' for the '(' here", tok.column)
            self.take()
            self.depth -= 1
            return node
        if tok.kind in ("phrase", "word"):
            return Phrase(_terms(tok.value, tok.column), tok.value)
        raise MatchSyntaxError(f"expected a word or phrase, found {tok.value!r}", tok.column)


def parse(source: str) -> Node:
    """Parse a match expression; raise MatchSyntaxError with the column of the problem."""
    if len(source) > MAX_CHARS:
        raise MatchSyntaxError(f"the expression is longer than {MAX_CHARS} characters", MAX_CHARS)
    return _Parser(source).parse()


def phrases(node: Node) -> list[Phrase]:
    """Every phrase in an expression (for hotwords and indexing)."""
    if isinstance(node, Phrase):
        return [node]
    if isinstance(node, Not):
        return phrases(node.operand)
    if isinstance(node, And | Or):
        return [p for child in node.operands for p in phrases(child)]
    return phrases(node.left) + phrases(node.right)
