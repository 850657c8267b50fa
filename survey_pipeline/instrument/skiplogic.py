"""Skip logic (`relevant`) in the XLSForm subset the instruments use.

Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" "(" expr ")" | cmp
    cmp     := atom (("=" | "!=" | "<" | "<=" | ">" | ">=") atom)?
    atom    := "${" name "}" | number | 'string' | "selected(" "${" name "}" "," 'string' ")"
             | "(" expr ")"

:func:`parse` returns a small AST; :func:`references` lists the questions an expression names;
:func:`evaluate` evaluates it over a DataFrame of canonical codes, vectorised, with XPath's rule
that a comparison with an empty answer is false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


class SkipLogicSyntaxError(ValueError):
    """The expression cannot be parsed; ``position`` is the character offset."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Literal_:
    value: float | str


@dataclass(frozen=True)
class Selected:
    name: str
    choice: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{(?P<refname>[A-Za-z_][A-Za-z0-9_.-]*)\})
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>'[^']*'|"[^"]*")
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<lp>\()
      | (?P<rp>\))
      | (?P<comma>,)
      | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    pos = 0
    tokens: list[tuple[str, str, int]] = []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SkipLogicSyntaxError(f"unexpected character {text[pos:].strip()[:1]!r}", pos)
        kind = m.lastgroup
        if kind == "refname":
            kind = "ref"
        if kind == "ref":
            tokens.append(("ref", m.group("refname"), m.start("ref")))
        else:
            tokens.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            want = value or kind or "more"
            raise SkipLogicSyntaxError(f"expression ends early (expected {want})", len(self.text))
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            want = value or kind
            raise SkipLogicSyntaxError(f"expected {want} but found {tok[1]!r}", tok[2])
        self.i += 1
        return tok

    def parse(self):
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            raise SkipLogicSyntaxError(f"unexpected {tok[1]!r}", tok[2])
        return node

    def or_(self):
        parts = [self.and_()]
        while (tok := self.peek()) and tok[0] == "word" and tok[1] == "or":
            self.i += 1
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def and_(self):
        parts = [self.unary()]
        while (tok := self.peek()) and tok[0] == "word" and tok[1] == "and":
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def unary(self):
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1] == "not":
            self.i += 1
            self.take("lp")
            inner = self.or_()
            self.take("rp")
            return Not(inner)
        return self.cmp()

    def cmp(self):
        left = self.atom()
        tok = self.peek()
        if tok and tok[0] == "op":
            self.i += 1
            right = self.atom()
            return Compare(tok[1], left, right)
        return left

    def atom(self):
        tok = self.peek()
        if tok is None:
            raise SkipLogicSyntaxError("expression ends early", len(self.text))
        kind, value, pos = tok
        if kind == "ref":
            self.i += 1
            return Ref(value)
        if kind == "num":
            self.i += 1
            return Literal_(float(value))
        if kind == "str":
            self.i += 1
            return Literal_(value[1:-1])
        if kind == "lp":
            self.i += 1
            inner = self.or_()
            self.take("rp")
            return inner
        if kind == "word" and value == "selected":
            self.i += 1
            self.take("lp")
            ref = self.take("ref")
            self.take("comma")
            choice = self.take("str")
            self.take("rp")
            return Selected(ref[1], choice[1][1:-1])
        raise SkipLogicSyntaxError(f"unexpected {value!r}", pos)


def parse(text: str):
    """Parse an expression; raises :class:`SkipLogicSyntaxError` with the position."""
    return _Parser(text).parse()


def references(node) -> list[tuple[str, str | None]]:
    """``(question, choice_name_or_None)`` pairs the expression names, in order."""
    out: list[tuple[str, str | None]] = []

    def walk(n) -> None:
        if isinstance(n, Ref):
            out.append((n.name, None))
        elif isinstance(n, Selected):
            out.append((n.name, n.choice))
        elif isinstance(n, Compare):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, BoolOp):
            for p in n.parts:
                walk(p)
        elif isinstance(n, Not):
            walk(n.part)

    walk(node)
    return out


def evaluate(node, frame: pd.DataFrame) -> np.ndarray:
    """Evaluate over rows of canonical codes. ``Selected`` reads the 0/1 column ``<q>_<choice>``.

    Missing values (NaN/None) make a comparison false, as in XPath.
    """
    n = len(frame)

    def value(v):
        if isinstance(v, Ref):
            return pd.to_numeric(frame[v.name], errors="coerce").to_numpy(dtype=float) \
                if v.name in frame else np.full(n, np.nan)
        if isinstance(v, Literal_):
            if isinstance(v.value, str):
                try:
                    return np.full(n, float(v.value))
                except ValueError:
                    return np.full(n, np.nan)
            return np.full(n, v.value)
        return truth(v).astype(float)

    def truth(v) -> np.ndarray:
        if isinstance(v, BoolOp):
            parts = [truth(p) for p in v.parts]
            return np.logical_and.reduce(parts) if v.op == "and" else np.logical_or.reduce(parts)
        if isinstance(v, Not):
            return ~truth(v.part)
        if isinstance(v, Selected):
            col = f"{v.name}_{v.choice}"
            if col not in frame:
                return np.zeros(n, dtype=bool)
            return pd.to_numeric(frame[col], errors="coerce").fillna(0).to_numpy() == 1
        if isinstance(v, Compare):
            a, b = value(v.left), value(v.right)
            with np.errstate(invalid="ignore"):
                res = {
                    "=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
                }[v.op]
            return res & ~np.isnan(a) & ~np.isnan(b)
        if isinstance(v, Ref):
            x = value(v)
            return ~np.isnan(x) & (x != 0)
        if isinstance(v, Literal_):
            return np.full(n, bool(v.value))
        raise TypeError(v)

    return truth(node)
