"""The redaction corpus (issue 15): 362 hand-written English and Spanish comments with planted
identifiers (``redaction_corpus.yaml``). Every planted identifier must go (0 leaks), every
``keep`` text must stay, and the comments with nothing planted must come out (almost) unchanged:
the false-redaction rate is measured here and bounded.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from survey_pipeline.ingest.redact import RULES, TOKENS, redact_series, redact_text

CORPUS = Path(__file__).with_name("redaction_corpus.yaml")
MAX_FALSE_REDACTION = 0.01
"""Share of the comments with nothing planted whose text redaction changes: measured 0 of 182
(0.0%) when the corpus was written; bounded at 1% so one new borderline comment does not fail."""
MAX_FALSE_WORDS = 0.002
"""Share of the words of those comments replaced by a token: measured 0 of 1,604."""
_TOKEN = re.compile("|".join(re.escape(t) for t in TOKENS.values()))


def _words_replaced(before: str, after: str) -> int:
    """How many words of ``before`` are not in ``after`` (in order)."""
    a, b = before.split(), after.split()
    kept = sum(m.size for m in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks())
    return len(a) - kept


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def test_corpus_is_large_bilingual_and_consistent(corpus):
    langs = pd.Series([it["lang"] for it in corpus]).value_counts().to_dict()
    assert len(corpus) >= 300 and set(langs) == {"en", "es"}
    assert min(langs.values()) >= 0.45 * len(corpus), langs
    assert len({it["text"] for it in corpus}) == len(corpus), "a comment is in the corpus twice"
    planted = [it for it in corpus if it.get("gone")]
    assert len(planted) >= 150
    for it in corpus:  # a misspelt marker would pass the leak test without testing anything
        assert set(it) <= {"lang", "text", "gone", "keep", "uncued"}, it
        for key in ("gone", "keep", "uncued"):
            for s in it.get(key) or []:
                assert s in it["text"], (key, s, it["text"])


def test_no_planted_identifier_leaks(corpus):
    leaks = []
    for it in corpus:
        out, _ = redact_text(it["text"])
        leaks += [(g, out) for g in it.get("gone") or [] if g in out]
    assert leaks == []


def test_what_must_survive_survives(corpus):
    lost = []
    for it in corpus:
        out, _ = redact_text(it["text"])
        lost += [(k, out) for k in it.get("keep") or [] if k not in out]
    assert lost == []


def test_false_redaction_rate_is_bounded(corpus):
    base = [it["text"] for it in corpus if not it.get("gone") and not it.get("uncued")]
    outs = [redact_text(t)[0] for t in base]
    changed = sum(o != t for o, t in zip(outs, base, strict=True))
    words = sum(len(t.split()) for t in base)
    replaced = sum(_words_replaced(t, o) for o, t in zip(outs, base, strict=True))
    print(f"false redaction: {changed} of {len(base)} comments ({changed / len(base):.1%}), "
          f"{replaced} of {words} words")
    assert len(base) >= 150
    assert changed / len(base) <= MAX_FALSE_REDACTION
    assert replaced / words <= MAX_FALSE_WORDS


def test_uncued_names_are_reported_not_promised(corpus):
    """Names with no cue word or title are not caught (docs/redaction.md, known limits); the corpus
    keeps a few so the limit stays visible. When a rule learns to catch one, move it to ``gone``
    and update the docs."""
    uncued = [(u, redact_text(it["text"])[0]) for it in corpus for u in it.get("uncued") or []]
    assert uncued and all(u in out for u, out in uncued)


def test_series_agrees_with_text_and_counts_per_rule(corpus):
    texts = pd.Series([it["text"] for it in corpus] * 2 + [None])
    out, counts = redact_series(texts)
    singles = [redact_text(t) for t in texts[:-1]]
    assert out[:-1].tolist() == [o for o, _ in singles] and out.iloc[-1] is None
    assert counts == {r: sum(c[r] for _, c in singles) for r in RULES}
    assert all(counts[r] > 0 for r in RULES), counts
    n_tokens = sum(len(_TOKEN.findall(o)) for o in out[:-1])
    assert sum(counts.values()) == n_tokens
