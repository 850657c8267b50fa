"""Comparisons of estimates: area vs rest of the city, area pairs, wave changes, trends, findings.

Variances of differences:

* waves are independent samples (separate strata of the design), so a wave change has
  ``var = var(a) + var(b)``;
* an area and the rest of the city, or two areas, are disjoint domains of the same wave: their
  linearized covariance is exactly zero without calibration, and the small covariance the raking
  induces is ignored (``var(a) + var(b)``);
* a trend is the weighted least-squares slope across waves, ``sum c_w est_w`` with
  ``c_w = (x_w - mean x) / sum (x - mean x)^2`` and ``x_w`` the wave's position, so
  ``var = sum c_w^2 var_w`` (independent waves).

p-values use the t distribution on the design degrees of freedom; adjusted p-values (Holm or
Benjamini–Hochberg) are computed within each family: for area comparisons one wave, area level,
indicator and statistic; for wave changes one wave pair and area level across every indicator
(the findings are chosen among them); for trends one area level and indicator. Comparisons use each indicator's headline statistic (``share`` or
``score``), for all respondents (``group = all``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as sps

from survey_pipeline.stats import Design, adjust_pvalues

from ._domains import cell_domains, domain_means
from .indicators import IndicatorSpec, apply_reliability, indicator_values

__all__ = ["COMPARISON_COLUMNS", "area_pairs", "area_vs_rest", "compare_all", "findings", "trends",
           "wave_changes", "worst_reliability"]

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
    tq = np.where(np.isfinite(dfv) & (dfv > 0), sps.t.ppf(0.975, np.where(dfv > 0, dfv, 1)), sps.norm.ppf(0.975))
    se = out["se"].to_numpy(float)
    est = out["estimate"].to_numpy(float)
    out["ci_low"] = est - tq * se
    out["ci_high"] = est + tq * se
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    out["t"] = t
    out["p"] = np.where(np.isfinite(t), 2 * sps.t.sf(np.abs(t), np.where(dfv > 0, dfv, 1)), np.nan)
    out["p_adj"] = np.nan
    for _, idx in out.groupby(family, sort=False, dropna=False).groups.items():
        out.loc[idx, "p_adj"] = adjust_pvalues(out.loc[idx, "p"].to_numpy(float), adjust)
    out["adjust"] = adjust
    out["significant"] = out["p_adj"].to_numpy(float) < 0.05
    out["finding"] = None
    for c in COMPARISON_COLUMNS:
        if c not in out.columns:
            out[c] = None
    return out[COMPARISON_COLUMNS]


def headline(est: pd.DataFrame) -> pd.DataFrame:
    """Estimate rows of each indicator's headline statistic (share, else score), all respondents."""
    e = est[(est["group_dim"] == "all") & est["statistic"].isin(["share", "score"])]
    return e


def wave_changes(est: pd.DataFrame, waves: list[str], adjust: str = "fdr_bh") -> pd.DataFrame:
    """Each wave against the previous one, for every area and indicator (headline statistic)."""
    e = headline(est)
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
    # one family per wave pair and area level (every indicator and area): findings are drawn from
    # these, so the adjustment must cover everything they are chosen from
    return _finish(pd.concat(parts, ignore_index=True), adjust, ["wave", "area_level"])


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


def area_pairs(est: pd.DataFrame, adjust: str = "fdr_bh", levels=("district", "neighborhood")) -> pd.DataFrame:
    """Every pair of areas of a level within a wave (a - b, a < b by code)."""
    e = headline(est)
    e = e[e["area_level"].isin(levels)]
    key = ["wave", "area_level", "group_dim", "group", "indicator", "statistic"]
    m = e.merge(e, on=key, suffixes=("", "_ref"))
    m = m[m["area"] < m["area_ref"]]
    if m.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    rel, why = worst_reliability(m["reliability"], m["reliability_reason"], m["reliability_ref"],
                                 m["reliability_reason_ref"])
    out = pd.DataFrame({"kind": "area_pair", "wave_ref": None, **{k: m[k].to_numpy() for k in key},
                        "area": m["area"].to_numpy(), "area_ref": m["area_ref"].to_numpy(),
                        "estimate": (m["estimate"] - m["estimate_ref"]).to_numpy(),
                        "se": np.sqrt(m["se"] ** 2 + m["se_ref"] ** 2).to_numpy(),
                        "df": np.minimum(m["df"], m["df_ref"]).to_numpy(), "reliability": rel,
                        "reliability_reason": why})
    return _finish(out, adjust, ["wave", "area_level", "indicator", "statistic"])


def area_vs_rest(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], *, min_n: int = 30,
                 nchs: bool = True, adjust: str = "fdr_bh", levels=("district", "neighborhood")) -> pd.DataFrame:
    """Each area against the rest of the city (same wave), headline statistic, all respondents."""
    data = design.data
    e = headline(est)
    parts = []
    heads = [s for s in specs if s.statistic in ("share", "score")]
    cd = cell_domains(design, ["wave", *[lv for lv in levels if lv in data.columns]])
    lvls = [lv for lv in levels if lv in data.columns]
    cache: dict = {}
    for spec in heads:
        y, _ = indicator_values(data, spec, cache)
        if np.all(np.isnan(y)):
            continue
        for lv in lvls:
            if cd is not None:
                lab, cols = cd.rest_means(y, lv)
                r = lab.assign(**cols)
                r = r[r["n"] > 0]
                areas_ = r[lv].astype(str).to_numpy()
            else:
                vals = data[lv].astype(object)
                res, areas_l = [], []
                for a in sorted(vals.dropna().astype(str).unique()):
                    rest = np.where(vals.astype(str).to_numpy() == a, None, "rest")
                    rest[vals.isna().to_numpy()] = "rest"
                    ra = domain_means(design, y, [["wave", rest]])[0]
                    res.append(ra)
                    areas_l += [a] * len(ra)
                r = pd.concat(res, ignore_index=True)
                keep = (r["n"] > 0).to_numpy()
                r = r[keep]
                areas_ = np.asarray(areas_l, dtype=object)[keep]
            parts.append(pd.DataFrame({"wave": r["wave"].astype(str).to_numpy(), "area_level": lv, "area": areas_,
                                       "indicator": spec.indicator, "statistic": spec.statistic,
                                       "estimate_ref": r["estimate"].to_numpy(), "se_ref": r["se"].to_numpy(),
                                       "n_ref": r["n"].to_numpy(), "n_eff_ref": r["n_eff"].to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    rest = pd.concat(parts, ignore_index=True)
    m = e.merge(rest, on=["wave", "area_level", "area", "indicator", "statistic"])
    rr = apply_reliability(pd.DataFrame({"statistic": m["statistic"], "estimate": m["estimate_ref"],
                                         "ci_low": m["estimate_ref"] - 1.96 * m["se_ref"],
                                         "ci_high": m["estimate_ref"] + 1.96 * m["se_ref"], "df": m["df"],
                                         "n": m["n_ref"], "n_eff": m["n_eff_ref"]}), min_n, nchs)
    rel, why = worst_reliability(m["reliability"], m["reliability_reason"], rr["reliability"],
                                 rr["reliability_reason"])
    out = pd.DataFrame({"kind": "area_vs_rest", "wave": m["wave"], "wave_ref": None, "area_level": m["area_level"],
                        "area": m["area"], "area_ref": "rest", "group_dim": "all", "group": "all",
                        "indicator": m["indicator"], "statistic": m["statistic"],
                        "estimate": m["estimate"] - m["estimate_ref"],
                        "se": np.sqrt(m["se"] ** 2 + m["se_ref"] ** 2), "df": m["df"], "reliability": rel,
                        "reliability_reason": why})
    return _finish(out, adjust, ["wave", "area_level", "indicator", "statistic"])


def _amount(stat: str, x: float) -> str:
    return f"{abs(x) * 100:.0f} points" if stat == "share" else f"{abs(x):.2f}"


def _ci(stat: str, lo: float, hi: float, sign: float) -> str:
    a, b = sorted((lo * sign, hi * sign))
    if stat == "share":
        return f"95% CI {a * 100:.0f} to {b * 100:.0f}"
    return f"95% CI {a:.2f} to {b:.2f}"


def findings(comp: pd.DataFrame, labels: dict[str, str], area_names: dict[str, str],
             wave_labels: dict[str, str] | None = None, top: int = 12) -> pd.DataFrame:
    """Fill ``finding`` for the largest reliable, significant wave changes and evaluations.

    Wave changes (all respondents, not suppressed, ``p_adj < 0.05``) are ranked by size (shares in
    points first, then scores) and the ``top`` largest get a sentence (only indicators named in
    ``labels``, so a caller can leave out topics such as contact) such as "Your neighborhood,
    at night in Eastgate fell 11 points (95% CI 3 to 19) since 2025-spring". Every significant
    ``did`` row gets one too.
    """
    out = comp.copy()
    wl = wave_labels or {}
    cand = out[(out["kind"] == "wave_change") & (out["group_dim"] == "all") & out["significant"].astype(bool)
               & (out["reliability"] != "suppress") & out["indicator"].isin(list(labels))]
    cand = cand.assign(_size=np.where(cand["statistic"] == "share", cand["estimate"].abs() * 100,
                                      cand["estimate"].abs())).sort_values(
        ["_size", "indicator", "area"], ascending=[False, True, True], kind="stable").head(top)
    for i, r in cand.iterrows():
        sign = 1.0 if r["estimate"] >= 0 else -1.0
        where = "the city" if r["area_level"] == "city" else area_names.get(str(r["area"]), str(r["area"]))
        verb = "rose" if sign > 0 else "fell"
        out.at[i, "finding"] = (f"{labels.get(r['indicator'], r['indicator'])} in {where} {verb} "
                                f"{_amount(r['statistic'], r['estimate'])} "
                                f"({_ci(r['statistic'], r['ci_low'], r['ci_high'], sign)}) since "
                                f"{wl.get(r['wave_ref'], r['wave_ref'])}")
    did = out[(out["kind"] == "did") & out["significant"].astype(bool) & (out["reliability"] != "suppress")]
    for i, r in did.iterrows():
        sign = 1.0 if r["estimate"] >= 0 else -1.0
        names = ", ".join(area_names.get(a, a) for a in str(r["area"]).split(";"))
        out.at[i, "finding"] = (f"{labels.get(r['indicator'], r['indicator'])} in {names} "
                                f"{'rose' if sign > 0 else 'fell'} {_amount(r['statistic'], r['estimate'])} "
                                f"more than in the rest of the city "
                                f"({_ci(r['statistic'], r['ci_low'], r['ci_high'], sign)}) from "
                                f"{wl.get(r['wave_ref'], r['wave_ref'])} to {wl.get(r['wave'], r['wave'])}")
    return out


def compare_all(design: Design, est: pd.DataFrame, specs: list[IndicatorSpec], waves: list[str], *,
                min_n: int = 30, nchs: bool = True, adjust: str = "fdr_bh") -> pd.DataFrame:
    """All comparison kinds but ``did`` (see :mod:`survey_pipeline.analysis.evaluation`)."""
    parts = [area_vs_rest(design, est, specs, min_n=min_n, nchs=nchs, adjust=adjust),
             area_pairs(est, adjust), wave_changes(est, waves, adjust), trends(est, waves, adjust)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return pd.concat(parts, ignore_index=True)
