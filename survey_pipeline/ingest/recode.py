"""Recode answer labels and codes to the instrument's canonical codes, keeping missing answers typed.

A label matches when it equals, after :func:`~survey_pipeline.project.normalize_name` (case,
accents, spacing, punctuation), the label of a code in any of the instrument's languages, the
choice's ``name``, or the code itself written as a number. Missing answers are never numbers:
their kind goes to a separate frame (``dont_know``, ``refused`` from the list's missing codes and
labels or common "Don't know"/"No sé" wordings; ``invalid`` for values not in the answer list;
``not_asked``, ``breakoff`` and ``skipped`` are set afterwards by :func:`type_missing`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from survey_pipeline.ingest.mapping import ColumnMap
from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.model import Instrument, Role
from survey_pipeline.project import Areas, normalize_name

__all__ = ["Recoded", "normalize_areas", "recode", "type_missing"]

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


@dataclass
class Recoded:
    """Canonical codes (float, NaN when missing) and missing kinds (None when answered or unknown yet)."""

    codes: pd.DataFrame
    kinds: pd.DataFrame
    open_text: pd.DataFrame  # row, variable, text
    invalid: dict[str, dict] = field(default_factory=dict)  # variable -> {"count": n, "examples": [...]}


def _lookup(inst: Instrument, list_name: str | None) -> tuple[dict[str, float], dict[str, str], set[float]]:
    """normalized label/name/code -> code; normalized missing label/code -> kind; valid codes."""
    if not list_name:
        return {}, dict(COMMON_MISSING), set()
    choices, missing = inst.answer_options(list_name)
    codes: dict[str, float] = {}
    for c in choices:
        codes[normalize_name(str(c.code))] = float(c.code)
        codes.setdefault(normalize_name(c.name), float(c.code))
        for lab in c.label.values():
            codes.setdefault(normalize_name(lab), float(c.code))
    kinds = dict(COMMON_MISSING)
    for kind, m in missing.items():
        kinds[normalize_name(str(m.code))] = kind
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


def _recode_single(col: pd.Series, codes: dict, kinds: dict, var: str, invalid: dict):
    """Codes and kinds of one column: each distinct value is looked up once (factorize)."""
    fac, uniq = pd.factorize(col, use_na_sentinel=True)
    code_arr = np.full(len(uniq) + 1, np.nan)  # the last slot serves the -1 (missing) sentinel
    kind_arr = np.full(len(uniq) + 1, None, dtype=object)
    for i, u in enumerate(uniq):
        n = normalize_name(u)
        if not n:
            continue  # blank: typed later (not_asked / breakoff / skipped)
        if n in codes:
            code_arr[i] = codes[n]
        elif n in kinds:
            kind_arr[i] = kinds[n]
        else:
            try:  # "4.0" for code 4
                f = float(str(u).strip())
                key = normalize_name(str(int(f))) if f == int(f) else None
            except (ValueError, OverflowError):
                key = None
            if key is not None and key in codes:
                code_arr[i] = codes[key]
            elif key is not None and key in kinds:
                kind_arr[i] = kinds[key]
            else:
                kind_arr[i] = "invalid"
    c = pd.Series(code_arr[fac], index=col.index)
    k = pd.Series(kind_arr[fac], index=col.index, dtype=object)
    bad = [i for i in range(len(uniq)) if kind_arr[i] == "invalid"]
    if bad:
        counts = np.bincount(fac[fac >= 0], minlength=len(uniq))
        d = invalid.setdefault(var, {"count": 0, "examples": []})
        d["count"] += int(counts[bad].sum())
        for i in bad:
            if len(d["examples"]) < _EXAMPLES and uniq[i] not in d["examples"]:
                d["examples"].append(uniq[i])
    return c, k


def _recode_number(col: pd.Series, q, kinds: dict, var: str, invalid: dict):
    s = col.astype("string").str.strip()
    num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce").astype(float)
    k = pd.Series([None] * len(col), index=col.index, dtype=object)
    blank = s.isna() | (s == "")
    nonnum = num.isna() & ~blank
    if nonnum.any():
        k[nonnum] = s[nonnum].map(lambda v: kinds.get(normalize_name(v), "invalid"))
    out_of_range = pd.Series(False, index=col.index)
    if q.min is not None:
        out_of_range |= num < q.min
    if q.max is not None:
        out_of_range |= num > q.max
    num[out_of_range] = np.nan
    k[out_of_range] = "invalid"
    _note_invalid(invalid, var, col[k == "invalid"])
    return num, k


def _split_joined(value: str, codes: dict) -> tuple[list[float], list[str]]:
    """Split a joined multi-select cell against the known options (labels may contain commas)."""
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
            bad.append(pieces[i])
            i += 1
    return found, bad


def recode(frame: pd.DataFrame, cmap: ColumnMap, inst: Instrument) -> Recoded:
    """Recode every mapped column of ``frame`` (cells str or None) to canonical codes."""
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
    codes = pd.DataFrame(np.nan, index=idx, columns=order, dtype=float)
    kinds = pd.DataFrame(None, index=idx, columns=order, dtype=object)
    invalid: dict[str, dict] = {}
    texts = []
    multi_split: dict[str, list[str]] = {}

    for col, t in cmap.columns.items():
        tg = cmap.targets[t]
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
            names = list(by_code.values())
            answered = raw.notna() & (raw.astype(str).str.strip() != "")
            vals = raw[answered]
            cache: dict[str, tuple[list[float], list[str]]] = {}
            for u in vals.unique():
                nk = lookup_kinds.get(normalize_name(u))
                cache[u] = ([], ["__kind__" + nk]) if nk else _split_joined(u, lookup_codes)
            for name in names:
                codes.loc[answered, name] = 0.0
            bad_rows = []
            for u, (found, bad) in cache.items():
                rows = vals.index[vals == u]
                if bad and bad[0].startswith("__kind__"):
                    for name in names:
                        codes.loc[rows, name] = np.nan
                        kinds.loc[rows, name] = bad[0][8:]
                    continue
                for rank, code in enumerate(found, start=1):
                    if code in by_code:
                        codes.loc[rows, by_code[code]] = float(rank) if q.type == "rank" else 1.0
                if bad:
                    bad_rows.append((rows, bad))
            if q.type == "rank":
                for name in names:  # unranked options stay missing (not 0)
                    codes.loc[codes[name] == 0, name] = np.nan
            for rows, bad in bad_rows:
                d = invalid.setdefault(q.id, {"count": 0, "examples": []})
                d["count"] += len(rows)
                for b in bad:
                    if len(d["examples"]) < _EXAMPLES and b not in d["examples"]:
                        d["examples"].append(b)
            continue
        if q.type == "multi":
            s = raw.astype("string").str.strip().str.casefold()
            sel = s.notna() & ~s.isin(list(_SELECTED_FALSE))
            codes[t] = np.where(s.isna() | (s == ""), np.nan, sel.astype(float))
            multi_split.setdefault(q.id, []).append(t)
        elif q.type == "rank":
            num = pd.to_numeric(raw, errors="coerce").astype(float)
            bad = raw.notna() & num.isna() & (raw.astype(str).str.strip() != "")
            codes[t] = num
            kinds.loc[bad, t] = "invalid"
            _note_invalid(invalid, t, raw[bad])
        elif q.type == "integer":
            c, k = _recode_number(raw, q, lookup_kinds, t, invalid)
            codes[t], kinds[t] = c, k
        else:
            c, k = _recode_single(raw, lookup_codes, lookup_kinds, t, invalid)
            codes[t], kinds[t] = c, k
    # split multi-select: a blank option column is 0 when the question was answered at all
    for _qid, names in multi_split.items():
        any_sel = (codes[names] == 1).any(axis=1)
        for name in names:
            codes.loc[any_sel & codes[name].isna(), name] = 0.0
            codes.loc[codes[name].notna() & ~any_sel & (codes[names] == 0).all(axis=1), name] = 0.0
    ot = pd.concat(texts, ignore_index=True) if texts else pd.DataFrame(columns=["row", "variable", "text"])
    return Recoded(codes=codes, kinds=kinds, open_text=ot, invalid=invalid)


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
    answered = pd.DataFrame(index=rec.codes.index, columns=qs, dtype=bool)
    applicable = pd.DataFrame(True, index=rec.codes.index, columns=qs, dtype=bool)
    frame = rec.codes
    for q in qs:
        cols = by_q[q]
        has = rec.codes[cols].notna().any(axis=1) | rec.kinds[cols].isin(["dont_know", "refused"]).any(axis=1)
        answered[q] = has
        if rel[q]:
            node = skiplogic.parse(rel[q])
            refs = skiplogic.references(node)
            known = all((f"{name}_{choice}" if choice else name) in frame.columns for name, choice in refs)
            if known:  # skip logic on a question the export lacks cannot be judged: treat as asked
                applicable[q] = skiplogic.evaluate(node, frame)
    return answered.astype(bool), applicable, qs


def type_missing(rec: Recoded, inst: Instrument, broke_off: pd.Series) -> None:
    """Give every still-untyped missing answer its kind, in place.

    ``not_asked`` when the question's skip logic is false; ``breakoff`` when the response broke off
    (``broke_off``) and the question comes after its last answered question; ``skipped`` otherwise
    (asked, not answered). Options left unranked in an answered rank question keep no kind
    (NaN code, None kind: "not ranked").
    """
    answered, applicable, qs = question_status(rec, inst)
    pos = np.arange(len(qs))
    last = np.where(answered.to_numpy(), pos, -1).max(axis=1) if qs else np.full(len(rec.codes), -1)
    qpos = {q: i for i, q in enumerate(qs)}
    bo = broke_off.reindex(rec.codes.index).fillna(False).to_numpy(dtype=bool)
    for v in inst.variables():
        if v.name not in rec.codes.columns:
            continue
        q = v.name if v.type == "grid" else v.question
        untyped = (rec.codes[v.name].isna() & rec.kinds[v.name].isna()).to_numpy(dtype=bool, copy=True)
        if v.type == "rank":  # an option left unranked in an answered rank question is not missing
            untyped &= ~answered[q].to_numpy()
        if not untyped.any():
            continue
        na = ~applicable[q].to_numpy()
        after = bo & (qpos[q] > last)
        kind = np.where(na, "not_asked", np.where(after, "breakoff", "skipped"))
        col = rec.kinds[v.name].to_numpy(dtype=object, copy=True)
        col[untyped] = kind[untyped]
        rec.kinds[v.name] = col


def normalize_areas(values: pd.Series, areas: Areas | None, threshold: float = 90.0) -> pd.DataFrame:
    """Match raw area answers to neighborhoods (exact, ZIP/beat crosswalk, then fuzzy).

    Returns columns ``district``, ``neighborhood``, ``beat`` (None when unknown) and
    ``unknown_area`` (True when a non-blank value matched nothing).
    """
    out = pd.DataFrame({"district": None, "neighborhood": None, "beat": None, "unknown_area": False},
                       index=values.index)
    if areas is None:
        return out
    t = areas.table
    by_name = {normalize_name(r.neighborhood): r for r in t.itertuples()}
    by_beat = {normalize_name(r.beat): r for r in t.itertuples() if r.beat}
    xw = dict(zip(areas.crosswalk["key"], areas.crosswalk["neighborhood"], strict=False))
    names = list(by_name)
    result: dict[str, tuple | None] = {}
    for u in values.dropna().unique():
        nu = normalize_name(u)
        if not nu:
            continue
        hit = None
        if nu in by_name:
            r = by_name[nu]
            hit = (r.district, r.neighborhood, None)
        elif nu in by_beat:
            r = by_beat[nu]
            hit = (r.district, r.neighborhood, r.beat)
        elif nu in xw and normalize_name(xw[nu]) in by_name:
            r = by_name[normalize_name(xw[nu])]
            hit = (r.district, r.neighborhood, None)
        elif names:
            m = process.extractOne(nu, names, scorer=fuzz.WRatio, score_cutoff=threshold)
            if m:
                r = by_name[m[0]]
                hit = (r.district, r.neighborhood, None)
        result[u] = hit
    for u, hit in result.items():
        rows = values == u
        if hit is None:
            out.loc[rows, "unknown_area"] = True
        else:
            out.loc[rows, ["district", "neighborhood", "beat"]] = list(hit)
    return out
