"""Recode answer labels and codes to the instrument's canonical codes, keeping missing answers typed.

A label matches when it equals, after :func:`~survey_pipeline.project.normalize_name` (case,
accents, spacing, punctuation), the label of a code in any of the instrument's languages, the
choice's ``name``, or the code itself written as a number. Missing answers are never numbers:
their kind goes to a separate frame (``dont_know``, ``refused`` from the list's missing codes and
labels or common "Don't know"/"No sé" wordings; ``invalid`` for values not in the answer list;
``not_asked``, ``breakoff`` and ``skipped`` are set afterwards by :func:`type_missing`).

The kinds frame holds categoricals of :data:`KIND_DTYPE` (one byte per cell, not a Python string
per cell: a million-row export has ~100 million of them); :func:`kind_codes` gives its integer
codes (``-1`` for no kind, else the position in :data:`~survey_pipeline.store.MISSING_KINDS`).
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey_pipeline.ingest.areamatch import AREA_FUZZY_THRESHOLD, AreaMatcher
from survey_pipeline.ingest.mapping import ColumnMap
from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.model import Instrument, Role
from survey_pipeline.project import Areas, normalize_name
from survey_pipeline.store import MISSING_KINDS

__all__ = ["KIND_DTYPE", "Recoded", "fill_beats", "kind_codes", "normalize_areas", "recode", "type_missing"]

KIND_DTYPE = pd.CategoricalDtype(list(MISSING_KINDS))
"""The dtype of every column of :attr:`Recoded.kinds` (missing = no kind)."""
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(MISSING_KINDS)}
"""Kind name -> its integer code in :data:`KIND_DTYPE`."""
_INVALID = KIND_CODE["invalid"]

COMMON_MISSING: dict[str, str] = {
    normalize_name(k): v for k, v in {
        "Don't know": "dont_know", "Dont know": "dont_know", "DK": "dont_know", "Not sure": "dont_know",
        "Unsure": "dont_know", "No sé": "dont_know", "No se": "dont_know", "No lo sé": "dont_know",
        "Don't know / not sure": "dont_know", "Refused": "refused", "Prefer not to say": "refused",
        "Prefer not to answer": "refused", "Decline to answer": "refused", "Prefiero no contestar": "refused",
        "Prefiero no decir": "refused", "Se niega": "refused",
    }.items()
}
_SELECTED_FALSE = {"", "0", "false", "no", "not selected", "unchecked", "0 0"}
_EXAMPLES = 5


def _kinds(codes: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """A kinds column (:data:`KIND_DTYPE`) from integer codes (-1: no kind)."""
    return pd.Series(pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), dtype=KIND_DTYPE), index=index)


def kind_codes(kinds: pd.DataFrame, columns: list[str] | None = None) -> np.ndarray:
    """The integer codes (-1: no kind) of a kinds frame as one ``int8`` matrix (rows x columns)."""
    cols = list(kinds.columns) if columns is None else columns
    out = np.empty((len(cols), len(kinds)), dtype=np.int8)  # each column contiguous; returned transposed
    for j, c in enumerate(cols):
        out[j] = kinds[c].cat.codes.to_numpy()
    return out.T


@dataclass
class Recoded:
    """Canonical codes (float, NaN when missing) and missing kinds (:data:`KIND_DTYPE` categoricals,
    missing when answered or not typed yet)."""

    codes: pd.DataFrame
    kinds: pd.DataFrame
    open_text: pd.DataFrame  # row, variable, text
    invalid: dict[str, dict] = field(default_factory=dict)  # variable -> {"count": n, "examples": [...]}
    area_matches: dict[str, dict] = field(default_factory=dict)  # variable -> {raw text: (label, score, n)}


_NEGATIVE = re.compile(r"^\s*-\s*\d")


def _key(text: object) -> str:
    """:func:`normalize_name`, except that a negative number keeps its sign: ``"-1"`` must not
    match code ``1`` (normalize_name drops punctuation, so ``"-1"`` alone would read ``"1"``)."""
    n = normalize_name(text)
    return f"-{n}" if n and _NEGATIVE.match(str(text)) else n


def _lookup(inst: Instrument, list_name: str | None) -> tuple[dict[str, float], dict[str, str], set[float]]:
    """normalized label/name/code -> code; normalized missing label/code -> kind; valid codes."""
    if not list_name:
        return {}, dict(COMMON_MISSING), set()
    choices, missing = inst.answer_options(list_name)
    codes: dict[str, float] = {}
    for c in choices:
        codes[_key(str(c.code))] = float(c.code)
        codes.setdefault(normalize_name(c.name), float(c.code))
        for lab in c.label.values():
            codes.setdefault(normalize_name(lab), float(c.code))
    kinds = dict(COMMON_MISSING)
    for kind, m in missing.items():
        kinds[_key(str(m.code))] = kind
        for lab in m.label.values():
            kinds[normalize_name(lab)] = kind
    for k in kinds:
        codes.pop(k, None)
    return codes, kinds, {float(c.code) for c in choices}


def _note_invalid(invalid: dict, var: str, values: pd.Series) -> None:
    if values.empty:
        return
    d = invalid.setdefault(var, {"count": 0, "examples": []})
    d["count"] += len(values)
    for v in pd.unique(values):
        if len(d["examples"]) >= _EXAMPLES:
            break
        if v not in d["examples"]:
            d["examples"].append(v)


def _factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, use_na_sentinel=True)`` of a column of ``str``/None cells, faster.

    The readers box equal cells of a column as one ``str`` object, so the cells are factorized by
    object identity (their addresses, as integers) and the missing ones (None, NaN) get -1. A value
    held by several objects gets several codes, each with the same value in ``uniques``: callers
    look up each distinct value, so the result is that of ``pd.factorize``, in the same order of
    first appearance. A column that is not all ``str``/None (numbers, say) is factorized by value.
    """
    arr = np.ascontiguousarray(np.asarray(values, dtype=object))
    if not len(arr) or (isinstance(values, pd.Series) and values.dtype != object):
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    addresses = np.ctypeslib.as_array((ctypes.c_ssize_t * len(arr)).from_address(arr.ctypes.data))
    codes, objects = pd.factorize(addresses)
    del addresses  # a view of arr's memory: not used once arr may be freed
    uniques = np.empty(len(objects), dtype=object)  # the objects back from their addresses (arr holds them)
    uniques[:] = [ctypes.cast(int(a), ctypes.py_object).value for a in objects]
    missing = pd.isna(uniques)
    if not all(isinstance(u, str) for u in uniques[~missing]):
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    if missing.any():
        renum = np.cumsum(~missing) - 1
        renum[missing] = -1
        codes, uniques = renum[codes], uniques[~missing]
    return codes, uniques


def _recode_single(col: pd.Series, codes: dict, kinds: dict, var: str, invalid: dict):
    """Codes and kinds of one column: each distinct value is looked up once (factorize)."""
    fac, uniq = _factorize(col)
    code_arr = np.full(len(uniq) + 1, np.nan)  # the last slot serves the -1 (missing) sentinel
    kind_arr = np.full(len(uniq) + 1, -1, dtype=np.int8)
    for i, u in enumerate(uniq):
        n = _key(u)
        if not n:
            continue  # blank: typed later (not_asked / breakoff / skipped)
        if n in codes:
            code_arr[i] = codes[n]
        elif n in kinds:
            kind_arr[i] = KIND_CODE[kinds[n]]
        else:
            try:  # "4.0" for code 4
                f = float(str(u).strip())
                key = _key(str(int(f))) if f == int(f) else None
            except (ValueError, OverflowError):
                key = None
            if key is not None and key in codes:
                code_arr[i] = codes[key]
            elif key is not None and key in kinds:
                kind_arr[i] = KIND_CODE[kinds[key]]
            else:
                kind_arr[i] = _INVALID
    c = pd.Series(code_arr[fac], index=col.index)
    k = _kinds(kind_arr[fac], col.index)
    bad = [i for i in range(len(uniq)) if kind_arr[i] == _INVALID]
    if bad:
        counts = np.bincount(fac[fac >= 0], minlength=len(uniq))
        d = invalid.setdefault(var, {"count": 0, "examples": []})
        d["count"] += int(counts[bad].sum())
        for i in bad:
            if len(d["examples"]) < _EXAMPLES and uniq[i] not in d["examples"]:
                d["examples"].append(uniq[i])
    return c, k


def _on_uniques(col: pd.Series, fn) -> list[np.ndarray]:
    """Apply ``fn`` to the distinct values of ``col`` (and one missing value), spread back to every row.

    ``fn`` gets an object Series of the distinct values, the last one None, and returns arrays
    aligned with it. Exports repeat a few values millions of times: string work per distinct value,
    not per cell.
    """
    fac, uniq = _factorize(col)
    u = pd.Series([*uniq, None], dtype=object)
    return [np.asarray(o)[fac] for o in fn(u)]  # code -1 (missing) takes the last slot


def _number_of(u: pd.Series, q, kinds: dict) -> tuple[np.ndarray, np.ndarray]:
    """Numbers and kind codes (-1: none) of the distinct values ``u``."""
    s = u.astype("string").str.strip()
    num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce").astype(float)
    k = np.full(len(u), -1, dtype=np.int8)
    blank = s.isna() | (s == "")
    nonnum = (num.isna() & ~blank).to_numpy(dtype=bool)
    if nonnum.any():
        k[nonnum] = [KIND_CODE[kinds.get(normalize_name(v), "invalid")] for v in s[nonnum]]
    out_of_range = pd.Series(False, index=u.index)
    if q.min is not None:
        out_of_range |= num < q.min
    if q.max is not None:
        out_of_range |= num > q.max
    num[out_of_range] = np.nan
    k[out_of_range.to_numpy(dtype=bool)] = _INVALID
    return num.to_numpy(dtype=float), k


def _recode_number(col: pd.Series, q, kinds: dict, var: str, invalid: dict):
    num, k = _on_uniques(col, lambda u: _number_of(u, q, kinds))
    _note_invalid(invalid, var, col[k == _INVALID])
    return pd.Series(num, index=col.index), _kinds(k, col.index)


def _multi_flag_of(u: pd.Series) -> tuple[np.ndarray]:
    s = u.astype("string").str.strip().str.casefold()
    sel = s.notna() & ~s.isin(list(_SELECTED_FALSE))
    return (np.where((s.isna() | (s == "")).to_numpy(dtype=bool), np.nan, sel.to_numpy(dtype=float)),)


def _rank_of(u: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    num = pd.to_numeric(u, errors="coerce").astype(float)
    bad = u.notna() & num.isna() & (u.astype(str).str.strip() != "")
    return num.to_numpy(dtype=float), bad.to_numpy(dtype=bool)


def _split_joined(value: str, codes: dict, names: dict | None = None) -> tuple[list[float], list[str]]:
    """Split a joined multi-select or rank cell against the known options, in the cell's order.

    Pieces are separated by ``,``, ``;`` or ``|`` (labels may contain commas: adjacent pieces are
    tried joined first). A piece that matches nothing is split on whitespace when every word is a
    choice *name* (``names``: normalized name -> code), as KoboToolbox and ODK join select_multiple
    answers (``noise car_breakins graffiti``).
    """
    pieces = [p for p in re.split(r"\s*[,;|]\s*", str(value)) if p.strip()]
    found: list[float] = []
    bad: list[str] = []
    i = 0
    while i < len(pieces):
        for j in range(len(pieces), i, -1):
            for sep in (", ", "; ", ","):
                cand = normalize_name(sep.join(pieces[i:j]))
                if cand in codes:
                    found.append(codes[cand])
                    i = j
                    break
            else:
                continue
            break
        else:
            words = [normalize_name(w) for w in pieces[i].split()]
            if names and len(words) > 1 and all(w in names for w in words):
                found.extend(names[w] for w in words)
            else:
                bad.append(pieces[i])
            i += 1
    return found, bad


def _rematch_areas(raw: pd.Series, c: pd.Series, k: pd.Series, inst: Instrument, list_name: str, var: str,
                   invalid: dict, area_matches: dict, threshold: float) -> None:
    """Give misspelled area answers of a geography question (``Norht Hills``) their code, in place.

    The values :func:`_recode_single` found invalid are matched with
    :class:`~survey_pipeline.ingest.areamatch.AreaMatcher` against the areas' labels in every
    language and names; each match is recorded in ``area_matches`` (the raw text stays in the
    export and in ``responses.area_raw``).
    """
    choices, _ = inst.answer_options(list_name)
    matcher = AreaMatcher([(lab, (float(ch.code), lab0)) for ch in choices
                           for lab0 in [next(iter(ch.label.values()), ch.name)]
                           for lab in (*ch.label.values(), ch.name)], threshold=threshold)
    bad = k == "invalid"
    still: list = []
    for u, n in raw[bad].value_counts().items():
        m = matcher.match(u)
        if m is None:
            still.append(u)
            continue
        (code, label), score = m
        rows = bad & (raw == u)
        c[rows] = code
        k[rows] = None
        area_matches.setdefault(var, {})[str(u)] = {"area": label, "score": round(score, 1), "count": int(n)}
    left = int((k == "invalid").sum())
    if left:
        invalid[var] = {"count": left, "examples": [e for e in invalid[var]["examples"] if e in still]}
    else:
        invalid.pop(var, None)


def recode(frame: pd.DataFrame, cmap: ColumnMap, inst: Instrument,
           area_threshold: float = AREA_FUZZY_THRESHOLD) -> Recoded:
    """Recode every mapped column of ``frame`` (cells str or None) to canonical codes.

    Answers of a geography question with an answer list (the areas) that match no label exactly
    are matched as area names (misspellings, abbreviations) at ``area_threshold``; see
    :func:`_rematch_areas`.
    """
    idx = frame.index
    variables = [v for v in inst.variables() if v.type != "text"]
    mapped_vars: set[str] = set()
    for t in cmap.columns.values():
        tg = cmap.targets[t]
        if tg.kind == "question":
            mapped_vars |= {v.name for v in variables if v.question == tg.question}
        else:
            mapped_vars.add(t)
    order = [v.name for v in variables if v.name in mapped_vars]
    at = {c: i for i, c in enumerate(order)}
    # one row per variable (each variable's cells contiguous); the frame is built on it without a copy
    cmat = np.full((len(order), len(idx)), np.nan)
    kmat = np.full((len(order), len(idx)), -1, dtype=np.int8)  # KIND_DTYPE codes
    invalid: dict[str, dict] = {}
    texts = []
    area_matches: dict[str, dict] = {}
    multi_split: dict[str, list[str]] = {}
    # a question held both joined (one cell) and split (0/1 column per option, as KoboToolbox and
    # ODK export select_multiple): the joined cell wins, it also carries missing answers and order
    joined = {cmap.targets[t].question for t in cmap.columns.values() if cmap.targets[t].kind == "question"}

    for col, t in cmap.columns.items():
        tg = cmap.targets[t]
        if tg.kind == "variable" and tg.qtype in ("multi", "rank") and tg.question in joined:
            continue
        raw = frame[col]
        q = inst.question(tg.question)
        if q.type == "text":
            if q.role == Role.geography:  # area answers go to responses (normalize_areas), not open text
                continue
            s = raw.dropna()
            s = s[s.astype(str).str.strip() != ""]
            texts.append(pd.DataFrame({"row": s.index, "variable": t, "text": s.astype(str).values}))
            continue
        lookup_codes, lookup_kinds, _ = _lookup(inst, q.answer_list)
        if tg.kind == "question":  # joined multi/rank cell
            choices, _ = inst.answer_options(q.answer_list)
            by_code = {float(c.code): f"{q.id}_{c.name}" for c in choices}
            by_name = {normalize_name(c.name): float(c.code) for c in choices}
            names = list(by_code.values())
            # answered: a cell with more than blanks (decided once per distinct value)
            fac_all, uniq_all = _factorize(raw)
            filled = np.array([str(u).strip() != "" for u in uniq_all] + [False], dtype=bool)
            ans_pos = np.flatnonzero(filled[fac_all])  # code -1 (missing) takes the last slot
            renum = np.cumsum(filled[:-1]) - 1  # the answered values, numbered in order of appearance
            fac, uniq = renum[fac_all[ans_pos]], uniq_all[filled[:-1]]
            for name in names:
                cmat[at[name], ans_pos] = 0.0
            bad_rows = []
            for i, u in enumerate(uniq):
                nk = lookup_kinds.get(normalize_name(u))
                found, bad = ([], []) if nk else _split_joined(u, lookup_codes, by_name)
                rows = ans_pos[fac == i]
                if nk:
                    for name in names:
                        cmat[at[name], rows] = np.nan
                        kmat[at[name], rows] = KIND_CODE[nk]
                    continue
                found = list(dict.fromkeys(found))  # an option picked twice counts once (first place)
                if q.type == "rank" and q.max_picks:  # ranks beyond max_picks were not asked for
                    found = found[:q.max_picks]
                for rank, code in enumerate(found, start=1):
                    if code in by_code:
                        cmat[at[by_code[code]], rows] = float(rank) if q.type == "rank" else 1.0
                if bad:
                    bad_rows.append((rows, bad))
            if q.type == "rank":
                for name in names:  # unranked options stay missing (not 0)
                    row = cmat[at[name]]
                    row[row == 0] = np.nan
            for rows, bad in bad_rows:
                d = invalid.setdefault(q.id, {"count": 0, "examples": []})
                d["count"] += len(rows)
                for b in bad:
                    if len(d["examples"]) < _EXAMPLES and b not in d["examples"]:
                        d["examples"].append(b)
            continue
        if q.type == "multi":
            cmat[at[t]] = _on_uniques(raw, _multi_flag_of)[0]
            multi_split.setdefault(q.id, []).append(t)
        elif q.type == "rank":
            num, bad = _on_uniques(raw, _rank_of)
            cmat[at[t]] = num
            if bad.any():
                kmat[at[t], bad] = _INVALID
                _note_invalid(invalid, t, raw[bad])
        else:
            if q.type == "integer":
                c, k = _recode_number(raw, q, lookup_kinds, t, invalid)
            else:
                c, k = _recode_single(raw, lookup_codes, lookup_kinds, t, invalid)
                if q.role == Role.geography and q.answer_list and t in invalid:
                    _rematch_areas(raw, c, k, inst, q.answer_list, t, invalid, area_matches, area_threshold)
            cmat[at[t]] = c.to_numpy(dtype=float)
            kmat[at[t]] = k.cat.codes.to_numpy()
    # split multi-select: a blank option column is 0 when the question was answered at all
    for _qid, names in multi_split.items():
        rows = [at[name] for name in names]
        any_sel = (cmat[rows] == 1).any(axis=0)
        for r in rows:
            cmat[r, any_sel & np.isnan(cmat[r])] = 0.0
    codes = pd.DataFrame(cmat.T, index=idx, columns=order, copy=False)
    kinds = pd.DataFrame({c: pd.Categorical.from_codes(kmat[i], dtype=KIND_DTYPE) for i, c in enumerate(order)},
                         index=idx, columns=order)
    ot = pd.concat(texts, ignore_index=True) if texts else pd.DataFrame(columns=["row", "variable", "text"])
    return Recoded(codes=codes, kinds=kinds, open_text=ot, invalid=invalid, area_matches=area_matches)


def question_status(rec: Recoded, inst: Instrument) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Per question: answered (bool frame) and applicable (bool frame), questions in order.

    A question counts as answered when any of its variables holds a code or a ``dont_know`` /
    ``refused`` answer (a substantive non-answer is still an answer for AAPOR dispositions);
    it is applicable when its ``relevant`` expression is true (or it has none, or it refers to a
    question the export does not hold). Each grid item
    counts as a question of its own; a multi-select or rank question counts once.
    """
    by_q: dict[str, list[str]] = {}
    rel: dict[str, str | None] = {}
    for v in inst.variables():
        if v.name in rec.codes.columns:
            key = v.name if v.type == "grid" else v.question
            by_q.setdefault(key, []).append(v.name)
            rel[key] = v.relevant
    qs = list(by_q)
    frame = rec.codes
    # one pass over the whole matrix, then a column reduction per question (no per-cell Python)
    kc = kind_codes(rec.kinds, list(rec.codes.columns))
    has_any = ~np.isnan(rec.codes.to_numpy(dtype=float)) | (kc == KIND_CODE["dont_know"]) | (kc == KIND_CODE["refused"])
    del kc
    col_pos = {c: i for i, c in enumerate(rec.codes.columns)}
    answered = pd.DataFrame({q: has_any[:, [col_pos[c] for c in by_q[q]]].any(axis=1) for q in qs},
                            index=rec.codes.index, columns=qs, dtype=bool)
    app: dict[str, np.ndarray] = {}
    for q in qs:
        if rel[q]:
            node = skiplogic.parse(rel[q])
            refs = skiplogic.references(node)
            known = all((f"{name}_{choice}" if choice else name) in frame.columns for name, choice in refs)
            if known:  # skip logic on a question the export lacks cannot be judged: treat as asked
                app[q] = np.asarray(skiplogic.evaluate(node, frame), dtype=bool)
    ones = np.ones(len(frame), dtype=bool)
    applicable = pd.DataFrame({q: app.get(q, ones) for q in qs}, index=rec.codes.index, columns=qs, dtype=bool)
    return answered.astype(bool), applicable, qs


def type_missing(rec: Recoded, inst: Instrument, broke_off: pd.Series, status: tuple | None = None) -> None:
    """Give every still-untyped missing answer its kind, in place.

    ``not_asked`` when the question's skip logic is false; ``breakoff`` when the response broke off
    (``broke_off``) and the question comes after its last answered question; ``skipped`` otherwise
    (asked, not answered). Options left unranked in an answered rank question keep no kind
    (NaN code, None kind: "not ranked"). ``status``: :func:`question_status` of ``rec`` when
    already computed (typing adds no answers, so it is still valid).
    """
    answered, applicable, qs = status if status is not None else question_status(rec, inst)
    pos = np.arange(len(qs))
    last = np.where(answered.to_numpy(), pos, -1).max(axis=1) if qs else np.full(len(rec.codes), -1)
    qpos = {q: i for i, q in enumerate(qs)}
    bo = broke_off.reindex(rec.codes.index).fillna(False).to_numpy(dtype=bool)
    not_asked, breakoff, skipped = (np.int8(KIND_CODE[k]) for k in ("not_asked", "breakoff", "skipped"))
    typed: dict[str, pd.Categorical] = {}
    for v in inst.variables():
        if v.name not in rec.codes.columns:
            continue
        q = v.name if v.type == "grid" else v.question
        col = rec.kinds[v.name].cat.codes.to_numpy(dtype=np.int8, copy=True)
        untyped = np.isnan(rec.codes[v.name].to_numpy(dtype=float)) & (col < 0)
        if v.type == "rank":  # an option left unranked in an answered rank question is not missing
            untyped &= ~answered[q].to_numpy()
        if not untyped.any():
            continue
        na = ~applicable[q].to_numpy()
        after = bo & (qpos[q] > last)
        kind = np.where(na, not_asked, np.where(after, breakoff, skipped)).astype(np.int8)
        col[untyped] = kind[untyped]
        typed[v.name] = pd.Categorical.from_codes(col, dtype=KIND_DTYPE)
    if typed:  # one new frame, not a column assignment per variable
        rec.kinds = pd.DataFrame({c: typed.get(c, rec.kinds[c].array) for c in rec.kinds.columns},
                                 index=rec.kinds.index, columns=rec.kinds.columns)


def fill_beats(columns: list[pd.Series], neighborhood: pd.Series, areas: Areas | None) -> pd.Series:
    """The police beat of each response whose neighborhood is known, from its other geography answers.

    ``columns`` are the raw geography answers (questionnaire order), ``neighborhood`` the matched
    neighborhood of each row (None when unknown). A row gets a beat when

    1. one of its answers is a beat of the areas file that lies in its neighborhood (an answered
       beat in another neighborhood contradicts the neighborhood answer and is not used), else
    2. one of its answers is a ZIP code whose rows of the crosswalk (a crosswalk CSV with a
       ``beat`` column) name exactly one beat of its neighborhood.

    Returns the beats (None where neither rule gives one), indexed like ``neighborhood``.
    """
    out = pd.Series(np.full(len(neighborhood), None, dtype=object), index=neighborhood.index, dtype=object)
    if areas is None or not columns or neighborhood.empty:
        return out
    t = areas.table
    beat_nb = {normalize_name(r.beat): (r.beat, r.neighborhood) for r in t.itertuples() if r.beat}
    if not beat_nb:
        return out
    xw = areas.crosswalk
    zip_beats: dict[str, list[str]] = {}
    if "beat" in xw.columns:
        for k, b in zip(xw["key"], xw["beat"], strict=True):
            if isinstance(b, str) and normalize_name(b) in beat_nb:
                zip_beats.setdefault(k, []).append(normalize_name(b))
    nb = neighborhood.to_numpy(dtype=object)
    known = pd.notna(nb)
    for rule in ("beat", "zip"):
        for col in columns:
            todo = known & pd.isna(out.to_numpy(dtype=object))
            if not todo.any():
                return out
            vals = col.reindex(neighborhood.index).to_numpy(dtype=object)
            fac, uniq = pd.factorize(pd.Series(vals[todo], dtype=object), use_na_sentinel=True)
            keys = [normalize_name(u) for u in uniq]
            rows = np.flatnonzero(todo)
            got = np.full(len(rows), None, dtype=object)
            for i, key in enumerate(keys):
                if not key:
                    continue
                hit = fac == i
                if rule == "beat" and key in beat_nb:
                    beat, home = beat_nb[key]
                    ok = np.array([n == home for n in nb[rows[hit]]], dtype=bool)
                    got[np.flatnonzero(hit)[ok]] = beat
                elif rule == "zip" and key in zip_beats:
                    for j in np.flatnonzero(hit):
                        inside = {beat_nb[b][0] for b in zip_beats[key] if beat_nb[b][1] == nb[rows[j]]}
                        if len(inside) == 1:
                            got[j] = inside.pop()
            found = pd.notna(got)
            out.iloc[rows[found]] = got[found]
    return out


def normalize_areas(values: pd.Series, areas: Areas | None, threshold: float = AREA_FUZZY_THRESHOLD,
                    labels: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """Match raw area answers to neighborhoods (exact, beat, ZIP/beat crosswalk, then fuzzy).

    Names match with :class:`~survey_pipeline.ingest.areamatch.AreaMatcher` (abbreviations,
    spacing and misspellings; fuzzy at ``threshold``, unique and clearly ahead). ``labels`` are
    more ``(text, neighborhood)`` spellings, e.g. the areas' labels in other languages.

    Returns columns ``district``, ``neighborhood``, ``beat`` (None when unknown), ``unknown_area``
    (True when a non-blank value matched nothing) and ``area_score`` (100 exact, lower when fuzzy,
    NaN when unmatched).
    """
    out = pd.DataFrame({"district": None, "neighborhood": None, "beat": None, "unknown_area": False,
                        "area_score": np.nan}, index=values.index)
    if areas is None or values.empty:
        return out
    t = areas.table
    by_name = {normalize_name(r.neighborhood): r for r in t.itertuples()}
    by_beat = {normalize_name(r.beat): r for r in t.itertuples() if r.beat}
    xw = dict(zip(areas.crosswalk["key"], areas.crosswalk["neighborhood"], strict=False))
    matcher = AreaMatcher([(r.neighborhood, r.neighborhood) for r in t.itertuples()] + list(labels),
                          threshold=threshold)
    fac, uniq = pd.factorize(values, use_na_sentinel=True)
    hits: list[tuple | None] = [None] * (len(uniq) + 1)  # the last slot serves the -1 (missing) sentinel
    blank = np.zeros(len(uniq) + 1, dtype=bool)
    blank[-1] = True
    for i, u in enumerate(uniq):
        nu = normalize_name(u)
        if not nu:
            blank[i] = True
            continue
        hit = None
        m = matcher.match(u)
        if m is not None and m[1] >= 100.0:
            r = by_name[normalize_name(m[0])]
            hit = (r.district, r.neighborhood, None, 100.0)
        elif nu in by_beat:
            r = by_beat[nu]
            hit = (r.district, r.neighborhood, r.beat, 100.0)
        elif nu in xw and normalize_name(xw[nu]) in by_name:
            r = by_name[normalize_name(xw[nu])]
            hit = (r.district, r.neighborhood, None, 100.0)
        elif m is not None and normalize_name(m[0]) in by_name:
            r = by_name[normalize_name(m[0])]
            hit = (r.district, r.neighborhood, None, m[1])
        hits[i] = hit
    cols = list(zip(*[h if h is not None else (None, None, None, np.nan) for h in hits], strict=True))
    unknown = np.array([h is None for h in hits]) & ~blank
    obj = [pd.Series(np.array(c, dtype=object)[fac], index=values.index, dtype=object) for c in cols[:3]]
    return pd.DataFrame({"district": obj[0], "neighborhood": obj[1], "beat": obj[2],
                         "unknown_area": unknown[fac], "area_score": np.array(cols[3], dtype=float)[fac]},
                        index=values.index)
