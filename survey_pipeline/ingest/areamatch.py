"""Match typed area (neighborhood) names to the areas file, misspellings included.

Area names are short proper names, so the column-label matcher (``token_sort_ratio`` >= 90) misses
the usual typing errors ('Ceder Park', 'Norht Hills', 'Harborview', 'Oldtown', 'N. Hills').
:func:`area_key` normalizes a name (casefold, accents, punctuation, abbreviations such as
``N.`` -> ``north``, ``St`` -> ``saint``) and drops its spaces; :class:`AreaMatcher` then matches

1. exactly on that key (any language's label, the choice name), else
2. by rapidfuzz ``ratio`` on the keys, at or above a threshold (80 by default, lower than for
   columns), and only when the best neighborhood is unique and clearly ahead of the runner-up
   (by ``margin`` points); an ambiguous name stays unknown.

The caller keeps the original text (``responses.area_raw``) and records every fuzzy match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from survey_pipeline.project import normalize_name

__all__ = ["AREA_FUZZY_THRESHOLD", "AreaMatcher", "area_key"]

AREA_FUZZY_THRESHOLD = 80.0
"""Minimum rapidfuzz ratio (0-100) between normalized area names."""

AREA_MARGIN = 8.0
"""The best match must beat the runner-up neighborhood by at least this many points."""

_ABBREV = {
    "n": "north", "no": "north", "s": "south", "so": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
    "st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "pt": "point", "hts": "heights",
    "hgts": "heights", "vlg": "village", "pk": "park", "sq": "square", "ctr": "center", "centre": "center",
}
_COMPASS = {"n", "s", "e", "w", "no", "so"}
_DROP = {"the", "neighborhood", "neighbourhood", "barrio", "vecindario", "area", "district"}


def area_key(text: object) -> str:
    """The comparison key of an area name: normalized, abbreviations expanded, no spaces.

    >>> area_key("N. Hills"), area_key("Harbor-View"), area_key("Old Town")
    ('northhills', 'harborview', 'oldtown')
    """
    words = normalize_name(text).split()
    words = [w for w in words if w not in _DROP] or words
    # compass letters only lead a name ('N. Hills'); elsewhere 's' is a possessive ("Mary's")
    words = [_ABBREV.get(w, w) if i == 0 or w not in _COMPASS else w for i, w in enumerate(words)]
    return re.sub(r"\s+", "", "".join(words))


class AreaMatcher:
    """Match raw area answers to canonical values (a neighborhood name, a code...).

    Parameters
    ----------
    names
        ``(text, value)`` pairs: every spelling that names an area (labels in each language,
        choice names) and what it stands for. Several texts may stand for one value.
    threshold, margin
        See the module docstring.
    """

    def __init__(self, names: Iterable[tuple[object, object]], threshold: float = AREA_FUZZY_THRESHOLD,
                 margin: float = AREA_MARGIN):
        self.by_key: dict[str, object] = {}
        for text, value in names:
            k = area_key(text)
            if k:
                self.by_key.setdefault(k, value)
        self.keys = list(self.by_key)
        self.threshold = threshold
        self.margin = margin
        self._cache: dict[object, tuple[object, float] | None] = {}

    def match(self, text: object) -> tuple[object, float] | None:
        """``(value, score)`` for a raw answer (score 100 when exact), or None when unknown/ambiguous."""
        if text in self._cache:
            return self._cache[text]
        k = area_key(text)
        out: tuple[object, float] | None = None
        if k in self.by_key:
            out = (self.by_key[k], 100.0)
        elif k and self.keys:
            best: dict[object, float] = {}  # best score per value (several keys may name one area)
            for key, score, _ in process.extract(k, self.keys, scorer=fuzz.ratio, limit=None,
                                                 score_cutoff=max(0.0, self.threshold - self.margin)):
                v = self.by_key[key]
                best[v] = max(best.get(v, 0.0), score)
            ranked = sorted(best.items(), key=lambda kv: -kv[1])
            if ranked and ranked[0][1] >= self.threshold and (
                    len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= self.margin):
                out = (ranked[0][0], float(ranked[0][1]))
        self._cache[text] = out
        return out
