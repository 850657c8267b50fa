"""Indicators driven by question roles: what each is, its values per respondent, its estimates.

Nothing here knows a question id. :func:`indicator_specs` reads the instrument's roles:

======================  ===========================================================================
role / type             indicators
======================  ===========================================================================
safety, satisfaction,   ``<variable>``: ``share`` answering one of the scale's ``positive`` codes
importance, problem,    among valid answers (don't know and refused excluded; don't know counted
trust, contact (single  in ``n_dont_know``) and ``mean`` code (scales with 3+ points)
or grid with a scale)
priority (rank/multi)   ``priority_<choice>``: share ranking the problem in the top N among
                        respondents who ranked anything; ``priority_dept_<department>``: share
                        ranking any problem the department owns in the top N (roll-up)
importance (rank/multi) ``importance_<choice>``: share naming the service among the most important
contact (multi)         ``<variable>``: share choosing the option among those who answered
scale_item              ``index_<index>``: ``score``, the mean of the available items (reverse-keyed
                        items as ``min + max - code``), for respondents with at least
                        ``min_items`` (default: half, rounded up) items answered
======================  ===========================================================================

:func:`estimate_indicators` estimates every indicator for the city, each district, neighborhood
and beat, by wave, overall and (city, districts, neighborhoods) for each demographic group, as
domains of one design (``by=`` on the full sample, never subsets), and applies the reliability
rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy import stats as sps

from survey_pipeline.errors import AnalysisError
from survey_pipeline.instrument.model import Instrument, Role
from survey_pipeline.results.sentences import indicator_phrase
from survey_pipeline.stats import Design, nchs_reliability, proportion_ci

from ._domains import CellDomains, domain_codes
from ._parallel import run_tasks
from .settings import AnalysisSettings

__all__ = [
    "ESTIMATE_COLUMNS",
    "IndicatorSpec",
    "apply_reliability",
    "bootstrap_ranks",
    "cronbach_alpha",
    "estimate_indicators",
    "finding_label",
    "importance_satisfaction",
    "indicator_specs",
    "indicator_values",
    "indicators_table",
    "priorities_table",
    "rank_tasks",
]

ESTIMATE_COLUMNS = ["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic",
                    "estimate", "se", "ci_low", "ci_high", "df", "n", "n_eff", "deff", "n_dont_know",
                    "reliability", "reliability_reason", "method"]

_SCALE_ANY_ROLE = (None, Role.other)
"""Roles whose questions on an ordered scale still give indicators (topic ``other``): a drafted
instrument whose roles are not set yet is analysed, not refused."""

TOPIC = {Role.safety: "safety", Role.satisfaction: "satisfaction", Role.importance: "importance",
         Role.problem: "problem", Role.trust: "trust", Role.contact: "contact",
         Role.priority: "priority", Role.scale_item: "scale"}


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator: how to compute its value per respondent, and its description."""

    indicator: str
    topic: str
    statistic: str            # share | mean | score
    kind: str                 # item | pick | priority | dept | index
    variables: tuple[str, ...]
    definition: str
    label: dict[str, str] = field(default_factory=dict)
    wording: dict[str, str] = field(default_factory=dict)
    department: str | None = None
    higher_is_better: bool = True
    positive: tuple[float, ...] = ()
    top_n: int | None = None
    reverse: tuple[bool, ...] = ()
    code_range: tuple[float, float] = (0.0, 0.0)
    min_items: int = 1
    choice: str | None = None       # priority / importance: the choice name
    choice_code: int | None = None
    codes: tuple[float, ...] = ()   # priority / dept: the choice code of each variable


def indicator_specs(inst: Instrument, top_n: int | None = None) -> list[IndicatorSpec]:
    """Every indicator the instrument's roles define (see the module docstring)."""
    specs: list[IndicatorSpec] = []
    variables = inst.variables()
    langs = inst.languages
    by_q: dict[str, list] = {}
    for v in variables:
        by_q.setdefault(v.question, []).append(v)
    for v in variables:
        if v.role in (Role.priority, Role.scale_item):
            continue
        topic = TOPIC.get(v.role) if v.role is not None else None
        if topic is None and v.role in _SCALE_ANY_ROLE:
            topic = "other"  # an ordered scale without an analysis role still gives its mean and share
        if topic is None:
            continue
        wording = {lg: (v.question_label or {}).get(lg, "") for lg in langs}
        label = {lg: v.label.get(lg, v.name) for lg in langs}
        if v.type in ("single", "grid") and v.answer_list in inst.scales:
            sc = inst.scales[v.answer_list]
            if not sc.ordered and not sc.positive:
                continue
            hib = v.role != Role.problem
            if sc.positive:
                pos_lab = ", ".join(c.label.get(inst.language, str(c.code)) for c in sc.codes if c.code in sc.positive)
                codes = ", ".join(str(c) for c in sc.positive)
                specs.append(IndicatorSpec(
                    v.name, topic, "share", "item", (v.name,),
                    f"share answering {codes} ({pos_lab}) among valid answers; don't know and refused excluded",
                    label, wording, v.department, hib, tuple(float(c) for c in sc.positive)))
                if topic == "other":  # no role to say which end is good: the scale's positive end does
                    hib = min(sc.positive) >= (min(sc.code_values()) + max(sc.code_values())) / 2
            if sc.ordered and len(sc.codes) >= 3:
                lo, hi = min(sc.code_values()), max(sc.code_values())
                specs.append(IndicatorSpec(
                    v.name, topic, "mean", "item", (v.name,),
                    f"mean code on the {lo}-{hi} scale among valid answers; don't know and refused excluded",
                    label, wording, v.department, hib))
        elif v.type in ("single", "grid") and topic != "other" and v.answer_list:
            # an analysis role on an unordered list: the share choosing each answer
            taken = {x.name for x in variables}
            for c in inst.answer_options(v.answer_list)[0]:
                name = f"{v.name}_{c.name}"
                if name in taken:
                    continue
                specs.append(IndicatorSpec(
                    name, topic, "share", "item", (v.name,),
                    f"share answering {c.code} ({c.label.get(inst.language, c.name)}) among valid answers; "
                    "don't know and refused excluded",
                    {lg: f"{label[lg]}: {c.label.get(lg, c.name)}" for lg in langs}, wording, v.department,
                    v.role != Role.problem, (float(c.code),)))
        elif v.type == "integer" and topic != "other":
            specs.append(IndicatorSpec(
                v.name, topic, "mean", "item", (v.name,), "mean answer among valid answers",
                label, wording, v.department, v.role != Role.problem))
        elif v.type in ("rank", "multi") and topic != "other":
            q = inst.question(v.question)
            choice = next((c for c in inst.answer_options(v.answer_list)[0] if c.code == v.choice_code), None)
            name = f"importance_{choice.name}" if v.role == Role.importance and choice else v.name
            specs.append(IndicatorSpec(
                name, topic, "share", "pick", tuple(x.name for x in by_q[v.question]),
                "share naming it among respondents who answered the question", label, wording,
                v.department, True, top_n=q.max_picks, choice=choice.name if choice else None,
                choice_code=v.choice_code))
    # priorities and their department roll-up
    for qid, vs in by_q.items():
        if vs[0].role != Role.priority or vs[0].type not in ("rank", "multi"):
            continue
        q = inst.question(qid)
        n_top = top_n or q.max_picks or 3
        allvars = tuple(x.name for x in vs)
        allcodes = tuple(float(x.choice_code or 0) for x in vs)
        choices = {c.code: c for c in inst.answer_options(vs[0].answer_list)[0]}
        wording = {lg: (q.label or {}).get(lg, "") for lg in langs}
        for v in vs:
            c = choices.get(v.choice_code)
            specs.append(IndicatorSpec(
                f"priority_{c.name if c else v.name}", "priority", "share", "priority", allvars,
                f"share ranking it among the top {n_top} among respondents who ranked any problem",
                {lg: v.label.get(lg, v.name) for lg in langs}, wording, v.department, False,
                (float(v.choice_code or 0),), n_top, choice=c.name if c else v.name, choice_code=v.choice_code,
                codes=allcodes))
        depts = sorted({v.department for v in vs if v.department})
        for d in depts:
            members = tuple(float(v.choice_code) for v in vs if v.department == d)
            dl = inst.departments.get(d, {})
            specs.append(IndicatorSpec(
                f"priority_dept_{d}", "priority", "share", "dept", allvars,
                f"share ranking any problem owned by {dl.get(inst.language, d)} among the top {n_top}",
                {lg: dl.get(lg, d) for lg in langs}, wording, d, False, members, n_top, codes=allcodes))
    # multi-item scales
    for idx_id, idx in inst.indices.items():
        items = [v for v in variables if v.index == idx_id and v.role == Role.scale_item]
        if not items:
            continue
        lo = min(min(inst.answer_options(v.answer_list)[0], key=lambda c: c.code).code for v in items)
        hi = max(max(inst.answer_options(v.answer_list)[0], key=lambda c: c.code).code for v in items)
        k = idx.min_items or math.ceil(len(items) / 2)
        specs.append(IndicatorSpec(
            f"index_{idx_id}", "scale", "score", "index", tuple(v.name for v in items),
            f"mean of the {len(items)} items ({lo}-{hi}; reverse-keyed items as {lo + hi} - code) "
            f"for respondents answering at least {k}",
            {lg: idx.label.get(lg, idx_id) for lg in langs}, {lg: idx.label.get(lg, "") for lg in langs},
            None, True, reverse=tuple(v.reverse for v in items), code_range=(float(lo), float(hi)),
            min_items=k))
    return specs


def finding_label(spec: IndicatorSpec, lang: str = "en") -> str:
    """A label that reads in an English sentence ("Satisfaction with Street lighting"), with the
    indicator's label in ``lang`` (:func:`~survey_pipeline.results.sentences.indicator_phrase`)."""
    lab = spec.label.get(lang) or spec.indicator
    return indicator_phrase(lab, spec.topic, "en", department=spec.kind == "dept")


def indicators_table(specs: list[IndicatorSpec], inst: Instrument) -> pd.DataFrame:
    """The ``indicators`` results table (one row per indicator and statistic)."""
    rows = []
    for s in specs:
        r = {"indicator": s.indicator, "topic": s.topic, "statistic": s.statistic,
             "variable": ";".join(s.variables if s.kind in ("index", "dept") else
                                  (s.variables[:1] if s.kind == "item" else
                                   [v for v in s.variables if v.endswith(f"_{s.choice}")] or s.variables[:1])),
             "department": s.department}
        for lg in inst.languages:
            r[f"label_{lg}"] = s.label.get(lg)
            r[f"wording_{lg}"] = s.wording.get(lg)
        r["definition"] = s.definition
        r["higher_is_better"] = s.higher_is_better
        rows.append(r)
    cols = ["indicator", "topic", "statistic", "variable", "department",
            *[f"{k}_{lg}" for lg in inst.languages for k in ("label", "wording")], "definition", "higher_is_better"]
    return pd.DataFrame(rows, columns=cols if not rows else None)


_CACHE_ATTR = "_survey_pipeline_values_cache"


def share_values(frame: pd.DataFrame) -> None:
    """Let the estimators of this module and of the comparisons share one :func:`indicator_values`
    cache for ``frame`` (stacked answers, top-N and don't-know masks), so that each is computed
    once per analysis instead of once per estimator. For a frame that no longer changes (the
    analysis design's data).

    The cache is an attribute of the frame object itself, so it goes when the frame goes. (A
    module-level table keyed by ``id(frame)`` with a weak reference never let go: what the cache
    holds refers back to the frame, so the frame never died and every analysis of a long-lived
    process, such as a program's worker, stayed in memory.)"""
    object.__setattr__(frame, _CACHE_ATTR, {})


def _values_cache(frame: pd.DataFrame) -> dict:
    """The shared cache of ``frame`` (:func:`share_values`), else a new one."""
    got = frame.__dict__.get(_CACHE_ATTR)
    return got if got is not None else {}


def indicator_values(frame: pd.DataFrame, spec: IndicatorSpec, cache: dict | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per-respondent value of an indicator (NaN = not valid) and the don't-know mask.

    ``cache`` (a dict kept by the caller for one frame) holds the stacked answers of
    multi-variable questions, their top-N masks and the don't-know masks, so that each is
    computed once.
    """
    n = len(frame)
    dk = np.zeros(n, bool)

    def dont_know(v: str) -> np.ndarray | None:
        miss = f"{v}__missing"
        if miss not in frame.columns:
            return None
        key = ("dk", v)
        if cache is not None and key in cache:
            return cache[key]
        out = (frame[miss] == "dont_know").to_numpy(dtype=bool, na_value=False)
        if cache is not None:
            cache[key] = out
        return out

    if spec.kind == "item":
        v = spec.variables[0]
        x = frame[v].to_numpy(float)
        got = dont_know(v)
        if got is not None:
            dk = got
        if spec.statistic == "share":
            y = np.where(np.isnan(x), np.nan, np.isin(x, spec.positive).astype(float))
        else:
            y = x
        return y, dk
    if spec.kind in ("pick", "priority", "dept"):
        key = ("stack", spec.variables)
        if cache is not None and key in cache:
            m, answered = cache[key]
        else:
            m = np.column_stack([frame[v].to_numpy(float) for v in spec.variables])
            # answered: anything picked or ranked (a 0 is "not picked" in some exports, like a blank)
            answered = np.any(m >= 1, axis=1)  # (NaN >= 1 is false)
            if cache is not None:
                cache[key] = (m, answered)
        if spec.kind == "pick":
            col = next((i for i, v in enumerate(spec.variables) if v.endswith(f"_{spec.choice}")), None)
            if col is None:
                col = next(i for i, v in enumerate(spec.variables) if v == spec.indicator)
            x = m[:, col]
            top = spec.top_n
            hit = (x >= 1) & ((x <= top) if top else True)
            y = np.where(answered, hit.astype(float), np.nan)
            return y, dk
        tkey = ("top", spec.variables, spec.top_n)
        if cache is not None and tkey in cache:
            in_top = cache[tkey]
        else:
            ranks = np.where(np.isnan(m), np.inf, m)
            in_top = (ranks >= 1) & (ranks <= spec.top_n)
            if cache is not None:
                cache[tkey] = in_top
        cols = [i for i, c in enumerate(spec.codes) if c in spec.positive]
        y = np.where(answered, in_top[:, cols].any(axis=1).astype(float), np.nan)
        return y, dk
    if spec.kind == "index":
        lo, hi = spec.code_range
        m = np.column_stack([frame[v].to_numpy(float) for v in spec.variables])
        rev = np.array(spec.reverse, bool)
        m[:, rev] = lo + hi - m[:, rev]
        k = np.sum(~np.isnan(m), axis=1)
        with np.errstate(invalid="ignore"):
            score = np.nanmean(np.where(k[:, None] > 0, m, 0.0), axis=1) if m.size else np.full(n, np.nan)
        score = np.where(k >= spec.min_items, score, np.nan)
        for v in spec.variables:
            got = dont_know(v)
            if got is not None:
                dk = dk | got
        dk &= np.isnan(score)
        return score, dk
    raise AnalysisError(f"indicator {spec.indicator}: unknown kind {spec.kind!r}.", rule="indicator-kind",
                        fix="This is a bug in survey-pipeline; please report it.")


# ------------------------------------------------------------------------------- estimation


def apply_reliability(est: pd.DataFrame, min_n: int = 30, nchs: bool = True) -> pd.DataFrame:
    """Set ``reliability`` and ``reliability_reason`` on estimate rows.

    Every statistic: fewer than ``min_n`` valid answers -> ``suppress``. Shares: the NCHS
    presentation standards for proportions (Parker et al. 2017) when ``nchs``; means and
    scores: effective sample size below ``min_n`` -> ``suppress``, design df below 8 -> ``flag``.
    """
    out = est.copy()
    status = np.full(len(out), "ok", dtype=object)
    reason = np.full(len(out), "", dtype=object)
    share = (out["statistic"] == "share").to_numpy()
    if share.any() and nchs:
        r = nchs_reliability(out.loc[share, ["estimate", "ci_low", "ci_high", "df", "n", "n_eff"]].astype(float),
                             min_n_eff=float(min_n))
        status[share] = r["reliability"].to_numpy()
        reason[share] = r["reason"].to_numpy()
    other = ~share
    if other.any():
        neff = out["n_eff"].to_numpy(float)
        low = other & (np.nan_to_num(neff, nan=0.0) < min_n) & ~np.isnan(neff)
        status[low] = "suppress"
        reason[low] = f"effective sample size below {min_n}"
        few_df = other & (out["df"].to_numpy(float) < 8) & (status != "suppress")
        status[few_df] = "flag"
        reason[few_df] = "design df below 8"
    small = out["n"].to_numpy(float) < min_n
    status[small] = "suppress"
    reason[small] = f"fewer than {min_n} valid answers"
    empty = ~np.isfinite(out["estimate"].to_numpy(float))
    status[empty] = "suppress"
    reason[empty] = "no valid answers"
    out["reliability"] = status
    out["reliability_reason"] = pd.Series(reason, index=out.index).replace("", None)
    return out


def area_levels(data: pd.DataFrame) -> list[str]:
    """Area levels present in the data: city, district, neighborhood, beat (when filled)."""
    out = ["city"]
    for lv in ("district", "neighborhood", "beat"):
        if lv in data.columns and data[lv].notna().any():
            out.append(lv)
    return out


def estimate_indicators(
    design: Design,
    specs: list[IndicatorSpec],
    settings: AnalysisSettings | None = None,
    *,
    levels: list[str] | None = None,
    groups: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Estimate rows for every indicator x area level x area x wave x group.

    ``design`` is the weighted design of all waves (``strata = wave``; see
    :func:`~survey_pipeline.analysis.weighting.weight_waves`); its data must hold ``wave``, the
    area columns and the group columns. Each estimate is a domain mean of the indicator's
    per-respondent value on the full design (the estimator and variance of
    ``Design.mean(by=...)``, computed for all domains at once from per-cell moments by
    :class:`~survey_pipeline.stats.DomainMeans`); shares get the
    ``settings.ci_method`` interval, means and scores a t interval, both on the domain's df (its
    PSUs minus its strata, :meth:`~survey_pipeline.stats.Design.domain_degf`: R's ``svyciprop`` on
    ``subset(design, domain)``; one PSU per respondent and ``strata = wave``: respondents minus one).
    The batches of indicators are estimated on two cores where possible
    (:func:`~survey_pipeline.analysis._parallel.run_tasks`; the same numbers as one by one).
    """
    tasks, finish = estimate_tasks(design, specs, settings, levels=levels, groups=groups)
    return finish(run_tasks(tasks))


_EST_BATCH = 8  # indicators estimated together (they share every sparse product)


def estimate_tasks(design: Design, specs: list[IndicatorSpec], settings: AnalysisSettings | None = None, *,
                   levels: list[str] | None = None, groups: tuple[str, ...] | None = None):
    """:func:`estimate_indicators` in pieces: the tasks (one per batch of indicators: their
    domain means, as arrays) and the function that makes the estimate rows of the tasks' results
    (a list in the tasks' order), so that a caller can run the tasks with others
    (:func:`~survey_pipeline.analysis._parallel.run_tasks`)."""
    st = settings or AnalysisSettings()
    data = design.data
    levels = levels or area_levels(data)
    groups = tuple(g for g in (groups if groups is not None else st.groups) if g in data.columns)
    sets: list[tuple[str, str, list[str]]] = []
    for lv in levels:
        base = ["wave"] if lv == "city" else ["wave", lv]
        # beats: all respondents only (beat x group cells are a handful of answers each)
        for gd in ("all",) if lv == "beat" else ("all", *groups):
            sets.append((lv, gd, base + ([] if gd == "all" else [gd])))
    cells = [*dict.fromkeys(["wave", *[lv for lv in levels if lv != "city"], *groups])]
    cells += [c for c in data.columns if str(c).startswith("_m_") and c not in cells]
    # made once per analysis for these cells: the comparisons use the same (share_values)
    shared = _values_cache(data)
    key = ("cells", tuple(cells))
    if key not in shared:
        shared[key] = CellDomains(design, cells)  # DomainMeans(design, cells=cells) and its domain sets
    dm = shared[key].dm
    coded = [dm.domains(b) for _, _, b in sets]
    cache = _values_cache(data)

    def batch(part: list[IndicatorSpec]) -> tuple[list[int], list]:
        todo = []
        for j, spec in enumerate(part):
            y, dk = indicator_values(data, spec, cache)
            if not np.all(np.isnan(y)):
                todo.append((j, y, dk))
        if not todo:
            return [], []
        return [t[0] for t in todo], dm.arrays_many([t[1] for t in todo], coded, counts=[t[2] for t in todo])

    parts = [specs[b0:b0 + _EST_BATCH] for b0 in range(0, len(specs), _EST_BATCH)]
    tasks = [lambda part=part: batch(part) for part in parts]

    def finish(results: list) -> pd.DataFrame:
        acc: list[list] = [[] for _ in sets]
        for part, (kept, res) in zip(parts, results, strict=True):
            for j, per_set in zip(kept, res, strict=True):
                for i, cols in enumerate(per_set):
                    acc[i].append((part[j], cols))
        return _estimate_rows(design, st, sets, coded, acc)

    return tasks, finish


def _domain_df(design: Design, by: list[str], labels: pd.DataFrame) -> np.ndarray:
    """The degrees of freedom of each domain of ``labels`` (columns ``by``): its PSUs minus its
    strata (:meth:`~survey_pipeline.stats.Design.domain_degf`, R's ``degf(subset(design, domain))``
    as ``svyciprop`` on a subset uses, and the NCHS standards' df)."""
    ddf = design.domain_degf(by)
    key = pd.MultiIndex.from_frame(ddf[by].astype(str))
    got = pd.Series(ddf["df"].to_numpy(float), index=key)
    return got.reindex(pd.MultiIndex.from_frame(labels[by].astype(str))).to_numpy(float)


def _estimate_rows(design: Design, st: AnalysisSettings, sets: list, coded: list, acc: list) -> pd.DataFrame:
    frames = []
    for (lv, gd, by), ds, items in zip(sets, coded, acc, strict=True):
        if not items:
            continue
        lab = ds.labels
        k = len(lab)
        m = len(items)
        cols = {c: np.concatenate([it[1][c] for it in items]) for c in ("estimate", "se", "n", "n_eff", "deff", "count")}
        out = pd.DataFrame({
            "wave": np.tile(lab["wave"].astype(str).to_numpy(), m),
            "area_level": lv,
            "area": "city" if lv == "city" else np.tile(lab[by[1]].astype(str).to_numpy(), m),
            "group_dim": gd,
            "group": "all" if gd == "all" else np.tile(lab[by[-1]].astype(str).to_numpy(), m),
            "estimate": cols["estimate"], "se": cols["se"], "n": cols["n"], "n_eff": cols["n_eff"],
            "deff": cols["deff"], "n_dont_know": cols["count"],
            "df": np.tile(_domain_df(design, list(by), lab), m),
            "indicator": np.repeat([it[0].indicator for it in items], k),
            "statistic": np.repeat([it[0].statistic for it in items], k),
        })
        frames.append(out[out["n"] > 0])
    if not frames:
        return pd.DataFrame(columns=ESTIMATE_COLUMNS)
    est = pd.concat(frames, ignore_index=True)
    dfv = est["df"].to_numpy(float)
    with np.errstate(invalid="ignore"):  # a domain of one PSU per stratum (df 0): the normal quantile
        tq = np.where(np.isfinite(dfv) & (dfv > 0), sps.t.ppf(0.975, np.where(dfv > 0, dfv, 1.0)),
                      sps.norm.ppf(0.975))
    est["ci_low"] = est["estimate"] - tq * est["se"]
    est["ci_high"] = est["estimate"] + tq * est["se"]
    share = (est["statistic"] == "share").to_numpy()
    if share.any():
        lo, hi = proportion_ci(est.loc[share, "estimate"].to_numpy(float), est.loc[share, "se"].to_numpy(float),
                               est.loc[share, "df"].to_numpy(float), est.loc[share, "n"].to_numpy(float),
                               method=st.ci_method)
        est.loc[share, "ci_low"] = lo
        est.loc[share, "ci_high"] = hi
    est = apply_reliability(est, st.min_n, st.nchs)
    weighted = "raked weights" if design.weighting_report is not None else "weights"
    est["method"] = np.where(share, f"taylor; {weighted}; {st.ci_method} CI", f"taylor; {weighted}; t CI")
    est["n"] = est["n"].astype("int64")
    est["n_dont_know"] = est["n_dont_know"].astype("int64")
    return est[ESTIMATE_COLUMNS].sort_values(
        ["indicator", "statistic", "wave", "area_level", "area", "group_dim", "group"], kind="stable"
    ).reset_index(drop=True)


# ------------------------------------------------------------------------------- derived tables


def rank_with_uncertainty(est: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rank (1 = largest) and a 95% range from confidence-interval overlap.

    ``rank_low = 1 + #{k: lo_k > hi_j}`` (items clearly above), ``rank_high = #{k: hi_k >=
    lo_j}`` (items not clearly below, itself included). Conservative: two items whose 95%
    intervals overlap may swap ranks (Goldstein & Spiegelhalter 1996 use the same idea with
    pairwise intervals).
    """
    est = np.asarray(est, float)
    order = (-np.nan_to_num(est, nan=-np.inf)).argsort(kind="stable")
    rank = np.empty(len(est), dtype=np.int64)
    rank[order] = np.arange(1, len(est) + 1)
    above = (lo[None, :] > hi[:, None]).sum(axis=1)
    not_below = (hi[None, :] >= lo[:, None]).sum(axis=1)
    return rank, 1 + above, np.maximum(not_below, 1)


RANK_REPLICATES = 200
RANK_SEED = 20240415
_RANK_CHUNK = 25


def _raowu_weights(strata_rows: list[np.ndarray], lam: np.ndarray, w: np.ndarray, rows: np.ndarray, reps: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Replicate weights of ``rows`` (len(rows) x reps): ``w`` times Rao–Wu (1988) rescaled
    bootstrap multipliers, every row its own PSU: in each stratum ``m - 1`` of the ``m`` rows drawn
    with replacement, ``1 - lam + lam * count * m/(m-1)`` (as ``stats``' replicate designs); rows of a
    stratum of one row keep multiplier 1. Draws in stratum order, then replicate order."""
    pos = np.full(len(w), -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    out = np.empty((len(rows), reps))
    for h, srows in enumerate(strata_rows):
        m = len(srows)
        p = pos[srows]
        keep = p >= 0
        if m < 2:
            out[p[keep]] = w[srows[keep], None]
            continue
        # one call draws the replicates' samples in turn (the same numbers as one call each)
        draws = rng.integers(0, m, size=(reps, m - 1))
        draws += np.arange(reps)[:, None] * m
        counts = np.bincount(draws.ravel(), minlength=reps * m).reshape(reps, m)
        top = int(counts.max())
        # the multiplier of each count (as computed element by element), looked up by response
        mult = 1 - lam[h] + lam[h] * np.arange(top + 1) * (m / (m - 1))
        by_row = np.ascontiguousarray(counts.T.astype(np.uint8) if top < 256 else counts.T)
        vals = mult.take(by_row[keep] if not keep.all() else by_row)
        np.multiply(vals, w[srows[keep], None], out=vals)
        out[p[keep]] = vals
    return out


def bootstrap_ranks(design: Design, specs: list[IndicatorSpec], domain_sets: list[list[str]], *,
                    replicates: int = RANK_REPLICATES, seed: int = RANK_SEED, level: float = 0.95
                    ) -> list[tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
    """Rank intervals of several shares within each domain, from bootstrap replicate weights.

    Replicate weights are the final weights times Rao–Wu rescaled bootstrap multipliers
    (``replicates`` draws, seeded: the same numbers on every run), with ``strata = wave`` and
    every respondent a PSU, as the analysis design. In each replicate every share of ``specs`` is
    re-estimated in every domain of ``domain_sets`` and the shares are ranked within the domain
    (1 = largest; ties share the better rank); the interval is the ``(1 - level)/2`` and
    ``(1 + level)/2`` quantiles of a problem's replicate ranks (Goldstein & Spiegelhalter 1996;
    Hall & Miller 2009 on bootstrap rank intervals). Vectorised: per chunk of replicates one
    sparse product, by respondent, for every domain set at once. The raking is not redone in each replicate, so the interval
    is a little wider than a fully re-calibrated bootstrap would give (conservative).

    Returns, per domain set, the domain labels and the ``low`` and ``high`` rank (domains x specs).
    """
    data = design.data
    w = design.weights
    cache = _values_cache(data)
    ys = np.column_stack([indicator_values(data, s, cache)[0] for s in specs])
    k = ys.shape[1]
    valid = ~np.isnan(ys).any(axis=1) & (w > 0)
    rows = np.flatnonzero(valid)
    strat = design._strata
    lam = np.sqrt(np.clip(np.asarray(design._f_h, float), 0.0, 1.0))
    strata_rows = [np.flatnonzero(strat == h) for h in range(len(design._n_h))]
    # every sum of every domain set in one matrix, by response (CSC): one pass over the replicate
    # weights per chunk; each sum adds its responses in row order, as a row-wise product would
    prepared = []
    ri, ci, vi = [], [], []
    off = 0
    yv = ys[rows]
    ii, kk = np.nonzero(yv > 0)
    yik = yv[ii, kk]
    for by in domain_sets:
        codes, lab = domain_codes(data, by)
        c = codes[rows]
        keep = c >= 0
        r_in = np.flatnonzero(keep)
        nd = len(lab)
        ri.append(off + nd * k + c[keep])
        ci.append(r_in)
        vi.append(np.ones(len(r_in)))
        sel = keep[ii]
        ri.append(off + c[ii[sel]] * k + kk[sel])
        ci.append(ii[sel])
        vi.append(yik[sel])
        prepared.append((lab, off, nd))
        off += nd * (k + 1)
    sums = sparse.csc_matrix((np.concatenate(vi), (np.concatenate(ri), np.concatenate(ci))),
                             shape=(off, len(rows)))
    ranks = [np.zeros((nd, k, replicates), dtype=np.int32) for *_, nd in prepared]
    rng = np.random.default_rng(seed)
    for c0 in range(0, replicates, _RANK_CHUNK):
        reps = min(_RANK_CHUNK, replicates - c0)
        tot = sums @ _raowu_weights(strata_rows, lam, w, rows, reps, rng)
        for i, (_lab, o, nd) in enumerate(prepared):
            with np.errstate(divide="ignore", invalid="ignore"):
                sh = tot[o:o + nd * k].reshape(nd, k, reps) / tot[o + nd * k:o + nd * (k + 1)][:, None, :]
            sh = np.nan_to_num(sh, nan=-1.0)
            # rank = 1 + number of shares strictly larger (ties share the better rank)
            ranks[i][:, :, c0:c0 + reps] = 1 + (sh[:, None, :, :] > sh[:, :, None, :]).sum(axis=2)
    a = (1 - level) / 2
    out = []
    for (lab, *_), r in zip(prepared, ranks, strict=True):
        lo = np.quantile(r, a, axis=2, method="lower").astype(np.int64)
        hi = np.quantile(r, 1 - a, axis=2, method="higher").astype(np.int64)
        out.append((lab, lo, hi))
    return out


def rank_tasks(design: Design, specs: list[IndicatorSpec], *, replicates: int = RANK_REPLICATES,
               seed: int = RANK_SEED) -> tuple[list[tuple], list]:
    """The bootstrap rank intervals of :func:`priorities_table`, as tasks that need no estimates
    (so that they can run beside them, :func:`~survey_pipeline.analysis._parallel.run_tasks`).

    One task per priority question, for every area level of the data: :func:`bootstrap_ranks`
    of the question's problems (in the estimates' order, by name) with ``["wave"]`` and
    ``["wave", level]``. Returns the key of each task and the tasks; ``dict(zip(keys,
    results))`` is the ``ranks`` argument of :func:`priorities_table`, which uses a result when
    its problems are those of the estimates and its levels include theirs (each domain set's
    ranks are computed apart from the others': the same numbers), else computes its own.
    """
    levels = tuple(area_levels(design.data))
    sets = [["wave"] if lv == "city" else ["wave", lv] for lv in levels]
    by_q: dict[tuple, list[IndicatorSpec]] = {}
    for sp in sorted((s for s in specs if s.kind == "priority"), key=lambda s: s.indicator):
        by_q.setdefault(sp.variables, []).append(sp)
    keys, tasks = [], []
    for qspecs in by_q.values():
        keys.append((tuple(sp.indicator for sp in qspecs), levels, replicates, seed))
        tasks.append(lambda q=qspecs: bootstrap_ranks(design, q, sets, replicates=replicates, seed=seed))
    return keys, tasks


def priorities_table(est: pd.DataFrame, specs: list[IndicatorSpec], inst: Instrument,
                     design: Design | None = None, *, replicates: int = RANK_REPLICATES,
                     seed: int = RANK_SEED, ranks: dict | None = None) -> pd.DataFrame:
    """The ``priorities`` results table from the priority estimates (all respondents).

    With ``design`` (the weighted design the estimates come from), ``rank_low``/``rank_high``
    are the 95% bootstrap rank interval of :func:`bootstrap_ranks` (widened if needed to hold
    the point rank); without it, the CI-overlap range of :func:`rank_with_uncertainty`.
    ``ranks``: results of :func:`rank_tasks` already computed (used where they fit).
    """
    pr = {s.indicator: s for s in specs if s.kind == "priority"}
    e = est[est["indicator"].isin(list(pr)) & (est["group_dim"] == "all")].copy()
    if e.empty:
        return pd.DataFrame(columns=["wave", "area_level", "area", "problem", "department"])
    e["problem"] = e["indicator"].map(lambda i: pr[i].choice)
    e["department"] = e["indicator"].map(lambda i: pr[i].department)
    for lg in inst.languages:
        e[f"label_{lg}"] = e["indicator"].map(lambda i, lg=lg: pr[i].label.get(lg))
    parts = []
    for _, g in e.groupby(["wave", "area_level", "area"], sort=True):
        g = g.copy()
        r, rl, rh = rank_with_uncertainty(g["estimate"].to_numpy(), g["ci_low"].to_numpy(float),
                                          g["ci_high"].to_numpy(float))
        g["rank"], g["rank_low"], g["rank_high"] = r, rl, rh
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    if design is not None:
        out = _bootstrap_rank_columns(out, design, [pr[i] for i in dict.fromkeys(e["indicator"])],
                                      replicates, seed, ranks or {})
    cols = ["wave", "area_level", "area", "problem", "department", *[f"label_{lg}" for lg in inst.languages],
            "estimate", "se", "ci_low", "ci_high", "n", "n_eff", "reliability", "reliability_reason",
            "rank", "rank_low", "rank_high"]
    return out[cols].sort_values(["wave", "area_level", "area", "rank"], kind="stable").reset_index(drop=True)


def _bootstrap_rank_columns(out: pd.DataFrame, design: Design, pspecs: list[IndicatorSpec], replicates: int,
                            seed: int, ranks: dict) -> pd.DataFrame:
    levels = sorted(set(out["area_level"]), key=["city", "district", "neighborhood", "beat"].index)
    sets = [["wave"] if lv == "city" else ["wave", lv] for lv in levels]
    # one question's problems are ranked together (all share the respondents who answered it)
    by_q: dict[tuple, list[IndicatorSpec]] = {}
    for sp in pspecs:
        by_q.setdefault(sp.variables, []).append(sp)
    rows = []
    for qspecs in by_q.values():
        names = tuple(sp.indicator for sp in qspecs)
        # computed beside the estimates (rank_tasks) when it fits: the estimates' levels of it
        got = next(([res[lvs.index(lv)] for lv in levels] for (nm, lvs, rep, sd), res in ranks.items()
                    if (nm, rep, sd) == (names, replicates, seed) and set(levels) <= set(lvs)), None)
        if got is None:
            got = bootstrap_ranks(design, qspecs, sets, replicates=replicates, seed=seed)
        for lv, by, (lab, lo, hi) in zip(levels, sets, got, strict=True):
            lab = lab.reset_index(drop=True)
            area = ["city"] * len(lab) if lv == "city" else lab[by[1]].astype(str).tolist()
            for j, sp in enumerate(qspecs):
                rows.append(pd.DataFrame({"wave": lab["wave"].astype(str).to_numpy(), "area_level": lv, "area": area,
                                          "indicator": sp.indicator, "_lo": lo[:, j], "_hi": hi[:, j]}))
    b = pd.concat(rows, ignore_index=True)
    m = out.merge(b, on=["wave", "area_level", "area", "indicator"], how="left", validate="one_to_one")
    ok = m["_lo"].notna().to_numpy()
    m.loc[ok, "rank_low"] = np.minimum(m.loc[ok, "_lo"].astype(np.int64), m.loc[ok, "rank"])
    m.loc[ok, "rank_high"] = np.maximum(m.loc[ok, "_hi"].astype(np.int64), m.loc[ok, "rank"])
    m["rank_low"] = m["rank_low"].astype(np.int64)
    m["rank_high"] = m["rank_high"].astype(np.int64)
    return m.drop(columns=["_lo", "_hi"])


IS_BANDS = ((0.20, "highest"), (0.10, "high"), (0.05, "medium"), (-np.inf, "low"))


def is_band(score: np.ndarray) -> np.ndarray:
    """ETC Institute importance–satisfaction bands: >= .20 highest, .10–.20 high, .05–.10 medium."""
    score = np.asarray(score, float)
    out = np.full(len(score), None, dtype=object)
    for cut, name in reversed(IS_BANDS):
        out[score >= cut] = name
    out[np.isnan(score)] = None
    return out


def importance_satisfaction(est: pd.DataFrame, specs: list[IndicatorSpec], inst: Instrument) -> pd.DataFrame:
    """The ``importance_satisfaction`` table: importance x (1 - satisfaction) per service.

    A service's importance indicator (``importance_<choice>``) is paired with the satisfaction
    item of the grid whose items come from the same choice list and code.
    """
    imp = {s.choice_code: s for s in specs if s.kind == "pick" and s.topic == "importance"}
    variables = {v.name: v for v in inst.variables()}
    sat = {}
    for s in specs:
        if s.topic == "satisfaction" and s.statistic == "share" and s.kind == "item":
            v = variables[s.variables[0]]
            if v.choice_code is not None and v.choice_code in imp:
                q = inst.question(v.question)
                if q.items_from == variables[imp[v.choice_code].variables[0]].answer_list:
                    sat[v.choice_code] = s
    rows = []
    a = est[(est["group_dim"] == "all")]
    key = ["wave", "area_level", "area"]
    for code, si in sat.items():
        ii = imp[code]
        ei = a[(a["indicator"] == ii.indicator)][[*key, "estimate", "se"]].rename(
            columns={"estimate": "importance", "se": "importance_se"})
        es = a[(a["indicator"] == si.indicator) & (a["statistic"] == "share")][[*key, "estimate", "se"]].rename(
            columns={"estimate": "satisfaction", "se": "satisfaction_se"})
        m = ei.merge(es, on=key)
        m["service"] = ii.choice
        m["department"] = ii.department
        for lg in inst.languages:
            m[f"label_{lg}"] = ii.label.get(lg)
        rows.append(m)
    cols = [*key, "service", "department", *[f"label_{lg}" for lg in inst.languages], "importance",
            "importance_se", "satisfaction", "satisfaction_se", "is_score", "band"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    out["is_score"] = out["importance"] * (1 - out["satisfaction"])
    out["band"] = is_band(out["is_score"].to_numpy())
    return out[cols].sort_values([*key, "is_score"], ascending=[True, True, True, False],
                                 kind="stable").reset_index(drop=True)


def cronbach_alpha(items: np.ndarray) -> float:
    """Cronbach's alpha of complete cases: ``k/(k-1) (1 - sum var_i / var(sum))`` (1951)."""
    m = np.asarray(items, float)
    m = m[~np.isnan(m).any(axis=1)]
    k = m.shape[1]
    if k < 2 or len(m) < 3:
        return float("nan")
    item_var = m.var(axis=0, ddof=1).sum()
    tot_var = m.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / tot_var)) if tot_var > 0 else float("nan")


def scale_alphas(data: pd.DataFrame, specs: list[IndicatorSpec]) -> pd.DataFrame:
    """Diagnostics rows: Cronbach's alpha of every index per wave (reverse-keyed items recoded)."""
    rows = []
    wave_codes, waves = pd.factorize(data["wave"], sort=True)
    # the rows of each wave, in row order (one stable sort instead of a mask per wave and index)
    order = np.argsort(wave_codes, kind="stable")
    bounds = np.searchsorted(wave_codes[order], np.arange(len(waves) + 1))
    for s in specs:
        if s.kind != "index":
            continue
        lo, hi = s.code_range
        m_all = np.column_stack([data[v].to_numpy(float)[order] for v in s.variables])
        rev = np.array(s.reverse, bool)
        m_all[:, rev] = lo + hi - m_all[:, rev]
        for code, wave in enumerate(waves):
            rows.append({"wave": str(wave), "area_level": "city", "area": "city", "kind": "scale_alpha",
                         "metric": "alpha", "value": cronbach_alpha(m_all[bounds[code]:bounds[code + 1]]),
                         "detail": s.indicator})
    return pd.DataFrame(rows, columns=["wave", "area_level", "area", "kind", "metric", "value", "detail"])
