"""Comparisons of estimates: area vs rest of the city, area pairs, wave changes, trends, findings.

Variances of differences:

* waves are independent samples (separate strata of the design), so a wave change has
  ``var = var(a) + var(b)``;
* an area and the rest of the city, or a group and the rest of its area, are two domains of the
  same raked wave: the variance of the difference is the linearization variance of the
  difference of their influence functions, calibration residuals and stratum centring included
  (:func:`contrasts`; R's ``svycontrast`` agrees at 1e-8, ``tests/reference``);
* two areas of a wave (``area_pair``) are disjoint domains of the same raked wave: their
  linearized covariance is zero without calibration, but the raking couples them, so
  ``var = V_aa + V_bb - 2 V_ab`` from the covariance matrix of the wave's area means
  (:meth:`~survey_pipeline.stats.DomainMeans.pairwise_contrasts`; R's ``svycontrast`` agrees at
  1e-8, ``tests/reference/make_pairs.R``);
* a trend is the weighted least-squares slope across waves, ``sum c_w est_w`` with
  ``c_w = (x_w - mean x) / sum (x - mean x)^2`` and ``x_w`` the wave's position, so
  ``var = sum c_w^2 var_w`` (independent waves).

p-values use the t distribution on the design degrees of freedom; adjusted p-values (Holm or
Benjamini–Hochberg) are computed within each family: for area comparisons one wave, area level,
indicator and statistic; for wave changes one wave pair and area level across every indicator
(the findings are chosen among them); for trends one area level and indicator. Comparisons use each indicator's headline statistic (``share`` or
``score``), for all respondents and, within each demographic group of ``estimates``, wave
changes (city, districts), area vs rest (districts) and group vs rest of the area
(``group_vs_rest``, city and districts), each with its own family (``docs/results.md``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as sps

from survey_pipeline.results.sentences import Words, finding_sentence, group_phrase
from survey_pipeline.stats import Design, DomainMeans, DomainSet, adjust_pvalues

from ._domains import CellDomains
from ._parallel import run_tasks
from .indicators import (
    IndicatorSpec,
    _values_cache,
    apply_reliability,
    area_levels,
    indicator_values,
)

__all__ = ["COMPARISON_COLUMNS", "area_pairs", "area_vs_rest", "compare_all", "compare_tasks", "concat_comparisons",
           "contrasts", "findings",
           "group_phrase", "group_vs_rest", "trends", "wave_changes", "worst_reliability"]

COMPARISON_COLUMNS = ["kind", "wave", "wave_ref", "area_level", "area", "area_ref", "group_dim", "group",
                      "indicator", "statistic", "estimate", "se", "ci_low", "ci_high", "df", "t", "p",
                      "p_adj", "adjust", "significant", "reliability", "reliability_reason", "finding"]

_RANK = {"ok": 0, "flag": 1, "suppress": 2}


def worst_reliability(a: pd.Series, ra: pd.Series, b: pd.Series, rb: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The worse of two sides' reliability, with its reason (side ``a`` wins ties)."""
    sa = a.map(_RANK).fillna(2).to_numpy()
    sb = b.map(_RANK).fillna(2).to_numpy()
    rel = np.where(sb > sa, b.to_numpy(), a.to_numpy())
    why = np.where(sb > sa, rb.to_numpy(dtype=object), ra.to_numpy(dtype=object))
    return rel, why


def _finish(df: pd.DataFrame, adjust: str, family: list[str]) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    out = df.copy()
    dfv = out["df"].to_numpy(float)
    # the t quantile of each distinct df (a table has a handful), mapped back to the rows
    udf, inv = np.unique(np.where(dfv > 0, dfv, 1), return_inverse=True)
    tq = np.where(np.isfinite(dfv) & (dfv > 0), sps.t.ppf(0.975, udf)[inv.reshape(-1)], sps.norm.ppf(0.975))
    se = out["se"].to_numpy(float)
    est = out["estimate"].to_numpy(float)
    out["ci_low"] = est - tq * se
    out["ci_high"] = est + tq * se
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    out["t"] = t
    out["p"] = np.where(np.isfinite(t), 2 * sps.t.sf(np.abs(t), np.where(dfv > 0, dfv, 1)), np.nan)
    # p_adj within each family (rows of a family in their table order), on arrays: a table has
    # tens of thousands of families
    # a suppressed comparison is too unreliable to act on, so it is not a test of its family: its
    # p_adj stays empty (its near-zero SE would otherwise give a tiny p that lowers the others' bar)
    p = out["p"].to_numpy(float)
    if "reliability" in out.columns:
        p = np.where(out["reliability"].to_numpy(dtype=object) == "suppress", np.nan, p)
    fam = out.groupby(family, sort=False, dropna=False).ngroup().to_numpy()
    out["p_adj"] = _adjust_families(p, fam, adjust)
    out["adjust"] = adjust
    out["significant"] = out["p_adj"].to_numpy(float) < 0.05
    out["finding"] = None
    for c in COMPARISON_COLUMNS:
        if c not in out.columns:
            out[c] = None
    return out[COMPARISON_COLUMNS]


def _adjust_families(p: np.ndarray, fam: np.ndarray, method: str) -> np.ndarray:
    """:func:`~survey_pipeline.stats.adjust_pvalues` within each family (``fam``: a code per row),
    all families at once: the same operations as one call per family (sorted p-values times or
    over their rank, a running maximum or minimum, capped at 1), so the same numbers."""
    if method not in ("holm", "fdr_bh", "bonferroni"):
        padj = np.full(len(p), np.nan)
        order = np.argsort(fam, kind="stable")
        for idx in np.split(order, np.flatnonzero(np.diff(fam[order])) + 1):
            padj[idx] = adjust_pvalues(p[idx], method)  # raises on an unknown method
        return padj
    out = np.full(len(p), np.nan)
    idx = np.flatnonzero(~np.isnan(p))  # NaN p-values are not tests
    if not len(idx):
        return out
    order = np.lexsort((p[idx], fam[idx]))  # by family, then p-value
    ps, fs = p[idx][order], fam[idx][order]
    start = np.r_[0, np.flatnonzero(np.diff(fs)) + 1]
    sizes = np.diff(np.r_[start, len(fs)])
    seg = np.repeat(np.arange(len(start)), sizes)
    n = np.repeat(sizes, sizes)
    rank = np.arange(len(fs)) - np.repeat(start, sizes) + 1
    if method == "bonferroni":
        adj = ps * n.astype(float)
    elif method == "holm":
        adj = pd.Series(ps * (n - rank + 1)).groupby(seg).cummax().to_numpy()
    else:  # Benjamini-Hochberg: p n / rank, the running minimum from the largest p-value down
        raw = ps / (rank / n)
        adj = pd.Series(raw[::-1]).groupby(seg[::-1]).cummin().to_numpy()[::-1]
    adj = np.where(adj > 1, 1.0, adj)
    res = np.empty(len(adj))
    res[order] = adj
    out[idx] = res
    return out


def headline(est: pd.DataFrame) -> pd.DataFrame:
    """Estimate rows of each indicator's headline statistic (share, else score), all respondents."""
    e = est[(est["group_dim"] == "all") & est["statistic"].isin(["share", "score"])]
    return e


def wave_changes(est: pd.DataFrame, waves: list[str], adjust: str = "fdr_bh", groups: tuple[str, ...] | None = (),
                 group_levels=("city", "district")) -> pd.DataFrame:
    """Each wave against the previous one, for every area and indicator (headline statistic).

    For all respondents at every area level and, for each demographic group of ``groups``
    (``None``: the groups in ``est``), at ``group_levels``. Family: wave pair x area level x
    group dimension (all indicators, areas and groups of the dimension).
    """
    e = headline(est)
    gds = _groups_of(est, groups)
    if gds:
        g = est[est["group_dim"].isin(gds) & est["area_level"].isin(group_levels)
                & est["statistic"].isin(["share", "score"])]
        e = pd.concat([e, g], ignore_index=True)
    key = ["area_level", "area", "group_dim", "group", "indicator", "statistic"]
    parts = []
    for prev, cur in itertools.pairwise(waves):
        a = e[e["wave"] == cur]
        b = e[e["wave"] == prev]
        m = a.merge(b, on=key, suffixes=("", "_ref"))
        if m.empty:
            continue
        rel, why = worst_reliability(m["reliability"], m["reliability_reason"], m["reliability_ref"],
                                     m["reliability_reason_ref"])
        parts.append(pd.DataFrame({
            "kind": "wave_change", "wave": cur, "wave_ref": prev, **{k: m[k].to_numpy() for k in key},
            "area_ref": None,
            "estimate": (m["estimate"] - m["estimate_ref"]).to_numpy(),
            "se": np.sqrt(m["se"] ** 2 + m["se_ref"] ** 2).to_numpy(),
            "df": np.minimum(m["df"], m["df_ref"]).to_numpy(), "reliability": rel, "reliability_reason": why}))
    if not parts:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    # one family per wave pair, area level and group dimension (every indicator, area and group):
    # findings are drawn from these, so the adjustment must cover everything they are chosen from
    return _finish(pd.concat(parts, ignore_index=True), adjust, ["wave", "area_level", "group_dim"])


def trends(est: pd.DataFrame, waves: list[str], adjust: str = "fdr_bh") -> pd.DataFrame:
    """Design-based linear trend per wave (WLS slope on the wave position) over 3+ waves."""
    if len(waves) < 3:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    e = headline(est)
    pos = {w: i for i, w in enumerate(waves)}
    e = e[e["wave"].isin(list(pos))].copy()
    e["x"] = e["wave"].map(pos)
    key = ["area_level", "area", "group_dim", "group", "indicator", "statistic"]
    g = e.groupby(key, sort=True)
    xbar = g["x"].transform("mean")
    sxx = ((e["x"] - xbar) ** 2).groupby([e[k] for k in key]).transform("sum")
    e["c"] = (e["x"] - xbar) / sxx
    e["ce"] = e["c"] * e["estimate"]
    e["cv"] = (e["c"] * e["se"]) ** 2
    e["bad"] = e["reliability"].map(_RANK)
    agg = e.groupby(key, sort=True).agg(estimate=("ce", "sum"), var=("cv", "sum"), k=("x", "size"),
                                         df=("df", "min"), bad=("bad", "max"), first=("wave", "first"),
                                         last=("wave", "last")).reset_index()
    agg = agg[agg["k"] >= 3]
    inv = {v: k for k, v in _RANK.items()}
    out = pd.DataFrame({"kind": "trend", "wave": agg["last"], "wave_ref": agg["first"],
                        **{k: agg[k] for k in key}, "area_ref": None, "estimate": agg["estimate"],
                        "se": np.sqrt(agg["var"]), "df": agg["df"],
                        "reliability": agg["bad"].map(inv),
                        "reliability_reason": np.where(agg["bad"] > 0, "a wave's estimate is flagged or suppressed",
                                                       None)})
    return _finish(out, adjust, ["area_level", "indicator", "statistic"])


def area_pairs(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], *, adjust: str = "fdr_bh",
               levels=("district", "neighborhood")) -> pd.DataFrame:
    """Every pair of areas of a level within a wave (a - b, a < b by code), headline statistic.

    The two areas are domains of the wave's one raked design, so the SE of the difference is
    ``sqrt(V_aa + V_bb - 2 V_ab)`` with the linearized covariance ``V_ab`` that the raking
    (and the stratum centring) creates between them (:meth:`DomainMeans.pairwise_contrasts`,
    R's ``svycontrast`` at 1e-8, ``tests/reference/make_pairs.R``). All pairs of a wave and
    level come from one covariance matrix of the level's area means per indicator. The
    estimate, reliability and df are those of the two estimate rows.
    """
    m = _pair_rows(est, levels)
    return _pairs_table(m, _PairSE(design, m).se(specs) if not m.empty else None, adjust)


def _pair_rows(est: pd.DataFrame, levels=("district", "neighborhood")) -> pd.DataFrame:
    """The two estimate rows of every pair of :func:`area_pairs` (suffix ``_ref``: ``b``)."""
    e = headline(est)
    e = e[e["area_level"].isin(levels)]
    m = e.merge(e, on=_PAIR_KEY, suffixes=("", "_ref"))
    return m[m["area"] < m["area_ref"]]


_PAIR_KEY = ["wave", "area_level", "group_dim", "group", "indicator", "statistic"]


def _pairs_table(m: pd.DataFrame, se: np.ndarray | None, adjust: str) -> pd.DataFrame:
    """The comparison rows of :func:`area_pairs` from its pair rows and their SEs."""
    if m.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    rel, why = worst_reliability(m["reliability"], m["reliability_reason"], m["reliability_ref"],
                                 m["reliability_reason_ref"])
    out = pd.DataFrame({"kind": "area_pair", "wave_ref": None, **{k: m[k].to_numpy() for k in _PAIR_KEY},
                        "area": m["area"].to_numpy(), "area_ref": m["area_ref"].to_numpy(),
                        "estimate": (m["estimate"] - m["estimate_ref"]).to_numpy(),
                        "se": se, "df": np.minimum(m["df"], m["df_ref"]).to_numpy(), "reliability": rel,
                        "reliability_reason": why})
    return _finish(out, adjust, ["wave", "area_level", "indicator", "statistic"])


class _PairSE:
    """The covariance-aware SE of every pair row of ``m`` (headline rows of all respondents).

    :meth:`add` takes an indicator's values when another estimator has them (the area and group
    vs rest contrasts of :func:`compare_all`), :meth:`se` computes the others and returns the SEs
    in the rows' order. The domain means are made at the first indicator (the cells then shared).
    """

    def __init__(self, design: Design, m: pd.DataFrame):
        self.design, self.m = design, m
        ist = m[["indicator", "statistic"]].drop_duplicates()
        self.wanted = set(zip(ist["indicator"], ist["statistic"], strict=True))
        self.done: set = set()
        self.acc: dict[str, list] = {k: [] for k in ("wave", "area_level", "lo", "hi", "indicator", "statistic",
                                                     "se")}
        self._prep: tuple | None = None

    def _prepare(self) -> tuple:
        if self._prep is None:
            design, m = self.design, self.m
            data = design.data
            # (the distinct values first, in order of appearance: m has a row per pair)
            lvls = [lv for lv in dict.fromkeys(m["area_level"].unique()) if lv in data.columns]
            cd = _cells_with(design, ["wave", *lvls])
            dm = cd.dm if cd is not None else DomainMeans(design)

            def sets(by):
                return cd.codes(by) if cd is not None else dm.domains(by)

            pset = sets(["wave"])
            csets = {lv: sets(["wave", lv]) for lv in lvls}
            labels = {lv: (cs.labels["wave"].astype(str).to_numpy(), cs.labels[lv].astype(str).to_numpy())
                      for lv, cs in csets.items()}
            self._prep = (dm, pset, csets, labels)
        return self._prep

    def add(self, spec: IndicatorSpec, y: np.ndarray) -> None:
        """The pairs of one indicator from its values (once per indicator; others ignored)."""
        self.record(spec, self.arrays(spec, y))

    def arrays(self, spec: IndicatorSpec, y: np.ndarray) -> list[dict[str, np.ndarray]] | None:
        """The pair arrays of one indicator, per area level (None when its pairs are not wanted);
        computes only (another process may run it): :meth:`record` keeps them."""
        key = (spec.indicator, spec.statistic)
        if key not in self.wanted or key in self.done:
            return None
        dm, pset, csets, _labels = self._prepare()
        # one pass over the rows for both levels
        return dm.pairwise_arrays_many(y, [(pset, cs) for cs in csets.values()])

    def record(self, spec: IndicatorSpec, arrays: list[dict[str, np.ndarray]] | None) -> None:
        """Keep the pairs of :meth:`arrays` (the first time an indicator comes)."""
        key = (spec.indicator, spec.statistic)
        if arrays is None or key not in self.wanted or key in self.done:
            return
        self.done.add(key)
        _dm, _pset, csets, labels = self._prepare()
        acc = self.acc
        for lv, a in zip(csets, arrays, strict=True):
            wv, ar = labels[lv]
            aa, bb = ar[a["a"]], ar[a["b"]]
            k = len(aa)
            acc["wave"].append(wv[a["a"]])
            acc["area_level"].append(np.full(k, lv, dtype=object))
            acc["lo"].append(np.minimum(aa, bb))
            acc["hi"].append(np.maximum(aa, bb))
            acc["indicator"].append(np.full(k, spec.indicator, dtype=object))
            acc["statistic"].append(np.full(k, spec.statistic, dtype=object))
            acc["se"].append(a["se_diff"])

    def se(self, specs: list[IndicatorSpec]) -> np.ndarray:
        """The SE of every row of ``m`` (the indicators of ``specs`` not added yet computed here)."""
        data, m = self.design.data, self.m
        cache = _values_cache(data)  # the estimates' and comparisons' (share_values), else a new one
        for spec in specs:
            if (spec.indicator, spec.statistic) in self.wanted and (spec.indicator, spec.statistic) not in self.done:
                self.add(spec, indicator_values(data, spec, cache)[0])
        acc = self.acc
        if not acc["se"]:
            return np.full(len(m), np.nan)
        pairs = pd.DataFrame({c: np.concatenate(v) for c, v in acc.items()})
        keys = ["wave", "area_level", "lo", "hi", "indicator", "statistic"]
        want = pd.DataFrame({"wave": _str(m["wave"]), "area_level": m["area_level"].to_numpy(),
                             "lo": _str(m["area"]), "hi": _str(m["area_ref"]),
                             "indicator": m["indicator"].to_numpy(), "statistic": m["statistic"].to_numpy()})
        swap = want["lo"].to_numpy() > want["hi"].to_numpy()
        want.loc[swap, ["lo", "hi"]] = want.loc[swap, ["hi", "lo"]].to_numpy()
        return want.merge(pairs, on=keys, how="left")["se"].to_numpy(float)


def _str(s: pd.Series) -> np.ndarray:
    """The values as Python strings (object array), converting each distinct value once."""
    codes, uniq = pd.factorize(s, use_na_sentinel=False)
    return np.asarray([str(u) for u in uniq], dtype=object)[codes] if len(uniq) else np.zeros(0, dtype=object)


def _groups_of(est: pd.DataFrame, groups) -> tuple[str, ...]:
    if groups is not None:
        return tuple(groups)
    # the distinct values first (in order of appearance), then as text
    return tuple(g for g in dict.fromkeys(str(v) for v in est["group_dim"].dropna().unique()) if g != "all")


def _rest_reliability(m: pd.DataFrame, min_n: int, nchs: bool) -> pd.DataFrame:
    return apply_reliability(pd.DataFrame({"statistic": m["statistic"].to_numpy(), "estimate": m["estimate_ref"].to_numpy(),
                                           "ci_low": (m["estimate_ref"] - 1.96 * m["se_ref"]).to_numpy(),
                                           "ci_high": (m["estimate_ref"] + 1.96 * m["se_ref"]).to_numpy(),
                                           "df": m["df"].to_numpy(), "n": m["n_ref"].to_numpy(),
                                           "n_eff": m["n_eff_ref"].to_numpy()}), min_n, nchs)


def _contrast_rows(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], plan: list[tuple], *,
                   cd_columns: list[str], pairs: _PairSE | None = None) -> pd.DataFrame:
    """Run ``contrasts`` for every headline indicator and every (tag, parent, child, known) of ``plan``.

    ``pairs``, if given, gets the area pairs of every headline indicator from its values (shared
    with another estimator). The batches of indicators run on two cores where possible
    (:func:`~._parallel.run_tasks`; rows in the indicators' order, the same numbers)."""
    data = design.data
    cd = _shared_cells(design, [c for c in cd_columns if c in data.columns])
    dm = cd.dm if cd is not None else DomainMeans(design)
    # the domain sets, made once and reused across indicators (the cell path caches on them)
    sets = [_sets(dm, cd, parent, child, known) for _tag, parent, child, known in plan]
    heads = [s for s in specs if s.statistic in ("share", "score")]
    labels = [{c: cset.labels[c].astype(str).to_numpy() for c in child}
              for (_t, _p, child, _k), (_ps, cset) in zip(plan, sets, strict=True)]
    keys = ("diff", "se_diff", "estimate_ref", "se_ref", "n_ref", "n_eff_ref", "estimate")
    cols = [*dict.fromkeys(c for _t, _p, child, _k in plan for c in child)]
    acc: dict[str, list] = {k: [] for k in ("_plan", "tag", "child", "indicator", "statistic", *cols, *keys)}
    cache = _values_cache(data)
    if pairs is not None:
        pairs._prepare()  # its cells and domain sets: made here, shared by the tasks

    def batch(part: list[IndicatorSpec]) -> tuple[list, list[int], list]:
        got, ys = [], []
        for j, spec in enumerate(part):
            y, _ = indicator_values(data, spec, cache)
            got.append(pairs.arrays(spec, y) if pairs is not None else None)
            if not np.all(np.isnan(y)):
                ys.append((j, y))
        # the batch shares its calibration sums; each indicator its moments across the plan
        res = dm.rest_contrast_arrays_many([y for _j, y in ys], sets) if ys else []
        return got, [j for j, _y in ys], res

    parts = [heads[b0:b0 + _BATCH] for b0 in range(0, len(heads), _BATCH)]
    for part, (got, kept, res) in zip(parts, run_tasks([lambda part=part: batch(part) for part in parts]),
                                      strict=True):
        if pairs is not None:
            for spec, arrays in zip(part, got, strict=True):
                pairs.record(spec, arrays)
        for j, per_plan in zip(kept, res, strict=True):
            _append_rows(acc, part[j], plan, per_plan, labels, cols, keys)
    if not acc["tag"]:
        return pd.DataFrame()
    return pd.DataFrame({c: np.concatenate(v) for c, v in acc.items()})


def _shared_cells(design: Design, columns: list[str]) -> CellDomains | None:
    """:func:`~._domains.cell_domains`, made once per analysis (:func:`~.indicators.share_values`) for the
    same columns: the comparisons and the estimates share their cells and domain sets."""
    data = design.data
    cols = list(dict.fromkeys([c for c in columns if c in data.columns]
                              + [c for c in data.columns if str(c).startswith("_m_")]))
    cache = _values_cache(data)
    # the same columns in another order classify the rows into the same cells
    key = next((k for k in cache if isinstance(k, tuple) and k[0] == "cells" and set(k[1]) == set(cols)),
               ("cells", tuple(cols)))
    if key not in cache:
        cache[key] = CellDomains(design, cols)  # what cell_domains makes
    return cache[key] if cache[key].ok else None


def _cells_with(design: Design, columns: list[str]) -> CellDomains | None:
    """A shared :class:`~._domains.CellDomains` whose cells split at least ``columns`` (the one
    with the fewest columns, e.g. the estimates' and comparisons' cells, wave x areas x groups),
    so that its domain sets and sums are reused; else :func:`_shared_cells` of ``columns``.
    Cells that split more only add a domain's cells in another grouping (the same sums up to
    round-off)."""
    need = {c for c in columns if c in design.data.columns}
    have = [v for k, v in _values_cache(design.data).items()
            if isinstance(k, tuple) and k[0] == "cells" and v.ok and need <= set(k[1])]
    if have:
        return min(have, key=lambda cd: len(cd.columns))
    return _shared_cells(design, columns)


_BATCH = 8  # indicators contrasted together (memory: a few cells x _BATCH x moments arrays)


def _append_rows(acc: dict, spec: IndicatorSpec, plan: list[tuple], per_plan: list[dict], labels: list[dict],
                 cols: list[str], keys: tuple[str, ...]) -> None:
    """Add one indicator's contrasts (every item of ``plan``) to the accumulated columns."""
    for j, ((tag, _parent, child, _known), a, lab) in enumerate(zip(plan, per_plan, labels, strict=True)):
        keep = np.flatnonzero((a["n"] > 0) & (a["n_ref"] > 0))
        if not len(keep):
            continue
        k = len(keep)
        acc["_plan"].append(np.full(k, j))
        acc["tag"].append(np.full(k, tag, dtype=object))
        ch = np.empty(k, dtype=object)
        ch[:] = [tuple(child)] * k
        acc["child"].append(ch)
        acc["indicator"].append(np.full(k, spec.indicator, dtype=object))
        acc["statistic"].append(np.full(k, spec.statistic, dtype=object))
        for c in cols:
            acc[c].append(lab[c][keep] if c in lab else np.full(k, None, dtype=object))
        for c in keys:
            acc[c].append(a[c][keep])


def _rest_comparisons(est: pd.DataFrame, frames: list[pd.DataFrame], kind: str, area_ref: str | None,
                      min_n: int, nchs: bool, adjust: str, family: list[str]) -> pd.DataFrame:
    """Comparison rows of domain-vs-rest contrasts: the estimate rows joined to their contrast,
    the worse reliability of the two sides, adjusted per ``family``."""
    rest = pd.concat(frames, ignore_index=True)
    # (only the statistics contrasted can match: the same rows, in the estimates' order)
    e = est[est["statistic"].isin(rest["statistic"].unique())]
    m = e.merge(rest, on=["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic"])
    rr = _rest_reliability(m, min_n, nchs)
    rel, why = worst_reliability(m["reliability"], m["reliability_reason"], rr["reliability"],
                                 rr["reliability_reason"])
    out = pd.DataFrame({"kind": kind, "wave": m["wave"], "wave_ref": None, "area_level": m["area_level"],
                        "area": m["area"], "area_ref": area_ref, "group_dim": m["group_dim"], "group": m["group"],
                        "indicator": m["indicator"], "statistic": m["statistic"],
                        "estimate": m["diff"], "se": m["se_diff"], "df": m["df"], "reliability": rel,
                        "reliability_reason": why})
    return _finish(out, adjust, family)


def area_vs_rest(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], *, min_n: int = 30,
                 nchs: bool = True, adjust: str = "fdr_bh", levels=("district", "neighborhood"),
                 groups: tuple[str, ...] | None = None, group_levels=("district",)) -> pd.DataFrame:
    """Each area against the rest of the city (same wave), headline statistic.

    For all respondents at every level of ``levels``, and, for each demographic group of
    ``groups`` (default: the groups in ``est``), the group in the area against the same group
    in the rest of the city at ``group_levels`` (districts: group rows of neighborhoods are
    mostly suppressed, and the row count stays bounded). The SE of each difference includes the
    covariance of the two sides in the raked design (:func:`contrasts`).
    """
    plan, cols = _area_plan(design, est, levels, groups, group_levels)
    return _area_finish(_contrast_rows(design, est, specs, plan, cd_columns=cols), est, min_n, nchs, adjust)


def _area_plan(design: Design, est: pd.DataFrame, levels=("district", "neighborhood"),
               groups: tuple[str, ...] | None = None, group_levels=("district",)) -> tuple[list, list[str]]:
    """The contrasts of :func:`area_vs_rest` and the columns of their cells."""
    data = design.data
    lvls = [lv for lv in levels if lv in data.columns]
    gds = [g for g in _groups_of(est, groups) if g in data.columns]
    glv = [lv for lv in group_levels if lv in lvls]
    plan = [("all", ["wave"], ["wave", lv], None) for lv in lvls]
    plan += [(gd, ["wave", gd], ["wave", gd, lv], None) for gd in gds for lv in glv]
    return plan, ["wave", *lvls, *gds]


def _area_finish(r: pd.DataFrame, est: pd.DataFrame, min_n: int, nchs: bool, adjust: str) -> pd.DataFrame:
    if r.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    frames = []
    for (tag, child), g in r.groupby(["tag", "child"], sort=False):
        lv = child[-1]
        g = g.assign(area_level=lv, area=g[lv], group_dim=tag, group=g[tag] if tag != "all" else "all")
        frames.append(g[["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic", "diff",
                         "se_diff", "estimate_ref", "se_ref", "n_ref", "n_eff_ref"]])
    return _rest_comparisons(est, frames, "area_vs_rest", "rest", min_n, nchs, adjust,
                             ["wave", "area_level", "group_dim", "group", "indicator", "statistic"])


def group_vs_rest(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], *, min_n: int = 30,
                  nchs: bool = True, adjust: str = "fdr_bh", groups: tuple[str, ...] | None = None,
                  levels=("city", "district")) -> pd.DataFrame:
    """The equity view: each demographic group against everyone else in its area and wave.

    For every group dimension (default: the groups in ``est``) and area of ``levels`` (the city
    and the districts), the group's headline estimate minus that of the rest of the area's
    respondents whose group is known (kind ``group_vs_rest``, ``area_ref`` NULL). Both sides are
    domains of one raked design; the SE includes their covariance (:func:`contrasts`). Family:
    wave x area level x group dimension x indicator (every area and group of the dimension).
    """
    plan, cols = _group_plan(design, est, groups, levels)
    if not plan:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return _group_finish(_contrast_rows(design, est, specs, plan, cd_columns=cols), est, min_n, nchs, adjust)


def _group_plan(design: Design, est: pd.DataFrame, groups: tuple[str, ...] | None = None,
                levels=("city", "district")) -> tuple[list, list[str]]:
    """The contrasts of :func:`group_vs_rest` and the columns of their cells."""
    data = design.data
    gds = [g for g in _groups_of(est, groups) if g in data.columns]
    lvls = [lv for lv in levels if lv == "city" or lv in data.columns]
    plan = [(gd, ["wave"] + ([] if lv == "city" else [lv]), ["wave"] + ([] if lv == "city" else [lv]) + [gd], gd)
            for gd in gds for lv in lvls]
    # the cells of every area level with data (as the estimates'): shared with them when possible
    return plan, ["wave", *[lv for lv in area_levels(data) if lv != "city"], *gds]


def _group_finish(r: pd.DataFrame, est: pd.DataFrame, min_n: int, nchs: bool, adjust: str) -> pd.DataFrame:
    if r.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    frames = []
    for (tag, child), g in r.groupby(["tag", "child"], sort=False):
        lv = child[1] if len(child) == 3 else "city"
        g = g.assign(area_level=lv, area=g[lv] if lv != "city" else "city", group_dim=tag, group=g[tag])
        frames.append(g[["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic", "diff",
                         "se_diff", "estimate_ref", "se_ref", "n_ref", "n_eff_ref"]])
    return _rest_comparisons(est, frames, "group_vs_rest", None, min_n, nchs, adjust,
                             ["wave", "area_level", "group_dim", "indicator", "statistic"])


def _rest_both(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], gds: tuple[str, ...], *,
               min_n: int, nchs: bool, adjust: str, pairs: _PairSE | None = None) -> list:
    """:func:`area_vs_rest` and :func:`group_vs_rest` (default levels): in one pass over the
    indicators when they share their cells (each indicator's values and cell moments once;
    ``pairs`` then gets every headline indicator's area pairs, see :func:`_contrast_rows`).
    Returns two zero-argument callables that make the two tables from the contrasts (so that
    they can run side by side, :func:`~._parallel.run_tasks`)."""
    pa, ca = _area_plan(design, est, groups=gds)
    pg, cg = _group_plan(design, est, groups=gds)
    data = design.data
    if not pa or not pg or [c for c in ca if c in data.columns] != [c for c in cg if c in data.columns]:
        a = area_vs_rest(design, est, specs, min_n=min_n, nchs=nchs, adjust=adjust, groups=gds)
        g = group_vs_rest(design, est, specs, min_n=min_n, nchs=nchs, adjust=adjust, groups=gds)
        return [lambda: a, lambda: g]
    r = _contrast_rows(design, est, specs, pa + pg, cd_columns=ca, pairs=pairs)
    first = r["_plan"].to_numpy() < len(pa) if len(r) else np.zeros(0, bool)
    return [lambda: _area_finish(r[first].reset_index(drop=True), est, min_n, nchs, adjust),
            lambda: _group_finish(r[~first].reset_index(drop=True), est, min_n, nchs, adjust)]


# ------------------------------------------------------------------------------- contrasts


def _sets(dm: DomainMeans, cd: CellDomains | None, parent: list[str], child: list[str],
          known: str | None) -> tuple[DomainSet, DomainSet]:
    """The parent (restricted to rows where ``known`` is known) and child domain sets."""
    if cd is not None:
        pset, cset = cd.codes(parent), cd.codes(child)
    else:
        pset, cset = dm.domains(parent), dm.domains(child)
    return (dm.restrict(pset, known) if known is not None else pset), cset


def contrasts(design: Design, y: np.ndarray, parent: list[str], child: list[str], known: str | None = None,
              cd: CellDomains | None = None) -> pd.DataFrame:
    """Each domain against the rest of its parent domain, with the covariance of the two sides.

    ``child`` is ``parent`` plus one column: for every child domain (e.g. wave x area), the mean
    of ``y`` in it minus the mean in the rest of its parent (the same wave, other areas and
    rows without an area). ``known`` (a column) keeps only rows where it is known in the
    parent, so that e.g. "everyone else in the area" leaves out those who did not give their
    age. Both sides are domains of the one calibrated design, so their covariance is not zero:
    the variance of the difference is the linearization variance of the total of the
    difference of the two influence functions, ``z_a - z_rest``, with the calibration
    residuals (Deville & Särndal 1992) and the stratum centring -- what R's
    ``svycontrast(svyby(~y, ~dom, design, svymean, covmat = TRUE), c(1, -1))`` computes
    (``tests/reference``). Computed by
    :meth:`survey_pipeline.stats.DomainMeans.rest_contrasts`, on the cell path when ``cd``
    (from :func:`~survey_pipeline.analysis._domains.cell_domains`) is given.

    Returns the child columns and ``estimate, se, n, n_eff`` (the child), ``estimate_ref,
    se_ref, n_ref, n_eff_ref`` (the rest), ``diff, se_diff``.
    """
    dm = cd.dm if cd is not None else DomainMeans(design)
    pset, cset = _sets(dm, cd, parent, child, known)
    out = dm.rest_contrasts(y, pset, cset)
    return out.drop(columns=["ci_low", "ci_high", "df"])


def findings(comp: pd.DataFrame, labels: dict[str, str], area_names: dict[str, str],
             wave_labels: dict[str, str] | None = None, top: int = 12,
             district_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Fill ``finding`` for the largest reliable, significant wave changes and evaluations.

    Wave changes (all respondents, not suppressed, ``p_adj < 0.05``) are ranked by size (shares in
    points first, then scores) and the ``top`` largest get a sentence (only indicators named in
    ``labels``, so a caller can leave out topics such as contact) such as "Your neighborhood,
    at night in Eastgate fell 11 points (95% CI 3 to 19) since 2025-spring". Every significant
    ``did`` row gets one too. Demographic groups get their own budgets of ``top // 2`` sentences
    each, drawn the same way: wave changes of a group ("... among residents aged 65+ in the city
    fell 9 points ...") and equity gaps (``group_vs_rest``: "... among renters in the city is
    12 points lower than among other residents ... in 2026-spring").

    The sentences are written by :func:`~survey_pipeline.results.sentences.finding_sentence`
    (in English; the report and the dashboard write them in the reader's language from the same
    rows). ``area_names`` names neighborhoods (and beats) by code; ``district_names`` names
    districts ("Eastside" -> "the Eastside district"; default: "the <Code> district"), so equal
    codes at two levels cannot be confused.
    """
    out = comp.copy()
    words = Words(labels=labels, area_names=area_names, district_names=district_names or {},
                  wave_labels=wave_labels or {}, lang="en")

    def write(rows: pd.DataFrame) -> None:
        for i, r in rows.iterrows():
            out.at[i, "finding"] = finding_sentence(r, words)

    cand = out[(out["kind"] == "wave_change") & (out["group_dim"] == "all") & out["significant"].astype(bool)
               & (out["reliability"] != "suppress") & out["indicator"].isin(list(labels))]
    write(cand.assign(_size=np.where(cand["statistic"] == "share", cand["estimate"].abs() * 100,
                                     cand["estimate"].abs())).sort_values(
        ["_size", "indicator", "area"], ascending=[False, True, True], kind="stable").head(top))
    half = max(top // 2, 0)
    ok = out["significant"].astype(bool) & (out["reliability"] != "suppress") & out["indicator"].isin(list(labels))

    def biggest(mask):
        c = out[mask]
        return c.assign(_size=np.where(c["statistic"] == "share", c["estimate"].abs() * 100,
                                       c["estimate"].abs())).sort_values(
            ["_size", "indicator", "group_dim", "group", "area"], ascending=[False, True, True, True, True],
            kind="stable").head(half)

    write(biggest(ok & (out["kind"] == "wave_change") & (out["group_dim"] != "all")))
    write(biggest(ok & (out["kind"] == "group_vs_rest")))
    write(out[(out["kind"] == "did") & out["significant"].astype(bool) & (out["reliability"] != "suppress")])
    return out


def compare_all(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], waves: list[str], *,
                min_n: int = 30, nchs: bool = True, adjust: str = "fdr_bh",
                groups: tuple[str, ...] | None = None) -> pd.DataFrame:
    """All comparison kinds but ``did`` (see :mod:`survey_pipeline.analysis.evaluation`).

    ``groups``: demographic dimensions compared within (default: every group in ``est``).
    """
    return concat_comparisons(run_tasks(compare_tasks(design, est, specs, waves, min_n=min_n, nchs=nchs,
                                                      adjust=adjust, groups=groups)))


def compare_tasks(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], waves: list[str], *,
                  min_n: int = 30, nchs: bool = True, adjust: str = "fdr_bh",
                  groups: tuple[str, ...] | None = None) -> list:
    """:func:`compare_all` in pieces: the contrasts are computed here (on two cores where
    possible); the returned zero-argument callables make the comparison tables from them and from
    the estimates (so that a caller can run them beside other work,
    :func:`~._parallel.run_tasks`); :func:`concat_comparisons` of their results, in their order,
    is :func:`compare_all`."""
    gds = _groups_of(est, groups)
    # area pairs (area_pairs) take their indicators' values from the rest contrasts' pass
    pm = _pair_rows(est)
    pse = _PairSE(design, pm) if not pm.empty else None
    rest = _rest_both(design, est, specs, gds, min_n=min_n, nchs=nchs, adjust=adjust, pairs=pse)
    return [*rest, lambda: _pairs_table(pm, pse.se(specs) if pse is not None else None, adjust),
            lambda: wave_changes(est, waves, adjust, groups=gds), lambda: trends(est, waves, adjust)]


def concat_comparisons(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The comparison tables of :func:`compare_tasks` as one (in their order)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return pd.concat(parts, ignore_index=True)
