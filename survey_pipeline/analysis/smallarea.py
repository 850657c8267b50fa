"""Modeled (small-area) estimates of neighborhoods and beats: Fay–Herriot EBLUPs from the direct rows.

Small areas have few respondents, so most of their direct estimates are suppressed. For every
indicator, statistic and wave, :func:`modeled_estimates` fits the area-level Fay–Herriot model
(:func:`survey_pipeline.stats.fay_herriot`, REML) across the areas of a level (neighborhoods,
then beats), for all respondents, and writes one *modeled* estimate row per area next to the
direct one (``method`` = :data:`MODELED_METHOD`, ``se`` = the root of its MSE):

* **Direct estimates and their variances.** An area enters with its direct estimate when it has
  at least two valid answers; areas with none or one have no usable design variance and are
  treated as unsampled (they get the regression-synthetic estimate and its MSE: the area
  variance plus the uncertainty of the coefficients, ``A + x'Qx``; a beat's area variance at
  least its neighborhood's own MSE, since its synthetic estimate is that neighborhood's
  estimate shifted, :func:`_at_variance`). The design
  variances of small areas are noisy (0 when every respondent agreed), so they are smoothed
  first (:func:`survey_pipeline.stats.smooth_vardir`): shares with ``method="proportion"``
  (the median design effect of the level); means and scores with ``method="loglinear"``
  (``log var`` on ``log n``).
* **The scale of shares** (:data:`SHARE_TRANSFORM`). Neighborhoods (about 90 respondents a
  wave on the fixture city): the arcsine scale (``transform="arcsin"``, sampling variance
  ``1 / (4 n_eff)``, bias-corrected back-transform). Beats (about 9): the share's own scale,
  with the variance ``p (1 - p) deff / n`` at the parent neighborhood's share ``p``; estimates
  and intervals clipped to ``[0, 1]``. At a handful of respondents the arcsine of a direct
  share is biased and more variable than ``1 / (4 n)``: at ``n = 5`` and a true share of 0.10,
  ``E[arcsin(sqrt(p_hat))] = 0.209`` against ``arcsin(sqrt(0.10)) = 0.322``, a mean squared
  error of 0.080 against the 0.050 the model assumes (binomial, exact). On the fixture city's
  beats the direct arcsines missed the truth by 1.6 times ``1 / (4 n_eff)`` (5-9 answers),
  the modeled shares were biased downwards before benchmarking (priorities covered 82%), and
  modeling beats on the share scale cut their MSE against the truth by 34% (item shares) and
  25% (priorities). Neighborhoods stay on the arcsine scale, where it did better (priorities:
  MSE 0.0024 against 0.0028 on the share scale).
* **Covariates** an agency has, on the model scale (``arcsin(sqrt(share))`` for shares), in this
  order: the same indicator in the parent area (neighborhoods: the district's direct estimate,
  else the city's; beats: their neighborhood's modeled estimate, as an *offset* with
  coefficient 1 (:data:`BEAT_PARENT_OFFSET`): a beat is modeled as its neighborhood plus an
  effect of its own; estimated as a covariate from beats of ~9 respondents, its coefficient was
  attenuated and the synthetic part missed the truth by more than the parent itself does, and
  the offset cut the beats' MSE against the truth on the fixture city by 10-13%), the area's
  modeled estimate of
  the previous wave (from the second wave on), and, for neighborhoods, population shares from
  the census targets: one category per variable of :data:`COVARIATE_VARIABLES`, the one whose
  share varies most between neighborhoods, arcsine-transformed (a beat's make-up is its
  neighborhood's, which its parent covariate already carries). The shares enter only when
  they help the level as a whole: by the total Akaike criterion of the maximum-likelihood fits
  with and without them over every indicator, statistic and wave (intercept and parent area
  besides; :func:`_population_shares_help`, one decision per analysis, recorded in the
  diagnostics as ``population_covariates``). On the fixture city they do not (total AIC +443
  with them over 453 fits): without them the neighborhoods' MSE against the truth fell (means
  0.047 to 0.039, item shares 0.0048 to 0.0042) and the cells shown rose from 94.3% to 95.5%.
  Choosing per fit instead (AIC or BIC) showed as many but the intervals, which ignore the
  choice, covered 91.9%. At most one column per
  :data:`AREAS_PER_COLUMN` (4) areas with a direct estimate is used, intercept included (16
  neighborhoods: intercept, district, previous wave and one share); when a fit fails (collinear
  covariates, no convergence) the last covariate is dropped and the fit retried. A level with
  fewer than :data:`MIN_AREAS` (5) areas with a direct estimate is not modeled.
* **Variance component at zero.** With 16 neighborhoods REML often puts the variance of the
  area effects at 0 (the direct estimates vary less than their sampling variances imply), and
  every area then gets its synthetic estimate with an MSE that allows for no area effect of its
  own: the intervals of thin areas were too narrow. When REML gives 0, the areas are predicted
  at Li & Lahiri's (2010) adjusted maximum likelihood estimate instead (the maximiser of
  ``A * L_REML(A)``, always positive; :data:`ZERO_VARIANCE_AML`), with the REML-form Prasad–Rao
  MSE ``g1 + g2 + 2 g3`` at that value (:func:`_at_variance`, which at REML's own value
  reproduces :func:`~survey_pipeline.stats.fay_herriot`). R's ``sae`` has no AML, so this step
  has no R reference; the fit itself (REML) stays ``sae``'s.
* **Benchmarking** (difference benchmarking): within each district whose direct estimate is
  reliable (``ok``), the modeled areas are shifted by one amount so that their
  population-weighted mean equals it; the areas of the other districts together are shifted so
  that the city's population-weighted mean equals the reliable city direct estimate. The shift
  ``delta`` is added to the MSE (``mse + delta^2``, the leading terms of Steorts & Ghosh 2013
  for benchmarked EBLUPs); the interval is moved with the estimate and widened in the ratio
  ``sqrt((mse + delta^2) / mse)``, and clipped to ``[0, 1]`` for shares. Areas weigh by their
  adult population (census targets; a beat: its neighborhood's population divided by its
  number of beats).
* **Reliability** of a modeled row, on the relative root MSE ``rrmse = se / estimate`` (for
  shares ``se / min(p, 1 - p)``, so that a share near 0 or 1 is judged on its smaller side, as
  the NCHS standard judges proportions by their complement): ``ok`` up to
  :data:`RRMSE_OK` (0.25), ``flag`` up to :data:`RRMSE_FLAG` (0.50), else ``suppress``: the
  cut-offs of the ABS and Statistics Canada for relative standard errors (25% "use with
  caution", 50% "too unreliable to publish"). An area without a usable direct estimate is at
  best ``flag`` (a synthetic estimate: only as good as its covariates).

Modeled rows never enter the comparisons, findings, priorities or importance–satisfaction
tables: those are computed from the direct rows before the modeled rows are added (a modeled
difference would need a test on the models' own MSEs and their correlation, which is not done).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.instrument.model import Instrument
from survey_pipeline.project import normalize_name
from survey_pipeline.stats import fay_herriot, smooth_vardir
from survey_pipeline.stats.errors import StatsError

__all__ = ["MODELED_METHOD", "RRMSE_FLAG", "RRMSE_OK", "SAE_LEVELS", "area_structure", "modeled_estimates",
           "modeled_reliability", "modeled_tasks", "population_covariates"]

MODELED_METHOD = "modeled (Fay–Herriot)"
"""The ``method`` of a modeled estimate row (direct rows keep theirs)."""
SAE_LEVELS = ("neighborhood", "beat")
RRMSE_OK = 0.25
RRMSE_FLAG = 0.50
MIN_AREAS = 5
"""Fewer areas with a direct estimate than this: no model (and no modeled rows)."""
AREAS_PER_COLUMN = 4
COVARIATE_VARIABLES = ("tenure", "age_group", "race_ethnicity", "sex")
SHARE_TRANSFORM = {"neighborhood": "arcsin", "beat": "none"}
"""The scale shares are modeled on per level (see the module docstring)."""
BEAT_PARENT_OFFSET = True
"""Beats: their neighborhood's modeled estimate is an offset (coefficient 1), not an estimated covariate."""
ZERO_VARIANCE_AML = True
"""When REML puts the variance component at 0, predict with Li & Lahiri's adjusted ML estimate."""


def _mode(s: pd.Series):
    """The most common value of a group (None for an empty group)."""
    m = s.mode()
    return m.iloc[0] if len(m) else None


def area_structure(data: pd.DataFrame, inst: Instrument | None = None, amap: dict | None = None) -> pd.DataFrame:
    """Every neighborhood and beat the analysis knows, with its parents.

    From the responses (the district and neighborhood most of an area's respondents give) and
    the instrument's areas (so that an area nobody answered from still gets a synthetic
    estimate), named as in the data (``amap``: :func:`~survey_pipeline.analysis.weighting.area_lookup`).
    Columns ``area_level, area, district, neighborhood`` (a neighborhood's own name).
    """
    rows: dict[tuple[str, str], tuple] = {}
    if "neighborhood" in data.columns:
        cols = [c for c in ("district", "neighborhood", "beat") if c in data.columns]
        f = data[cols].dropna(subset=["neighborhood"]).astype(str)
        if "district" in f.columns:
            nd = f.groupby("neighborhood", observed=True)["district"].agg(_mode).dropna()
        else:
            nd = pd.Series(None, index=pd.Index(f["neighborhood"].unique()), dtype=object)
        for nb, d in nd.items():
            rows[("neighborhood", nb)] = (d, nb)
        if "beat" in f.columns:
            fb = f[data.loc[f.index, "beat"].notna().to_numpy()]
            for b, nb in fb.groupby("beat", observed=True)["neighborhood"].agg(_mode).dropna().items():
                rows[("beat", b)] = (nd.get(nb), nb)
    if inst is not None and inst.areas is not None:
        amap = amap or {}
        for a in inst.areas.items:
            nb = next((amap[normalize_name(x)] for x in (str(a.code), a.name, *a.label.values())
                       if normalize_name(x) in amap), None)
            if nb is None:
                continue
            d = rows.get(("neighborhood", nb), (a.district, nb))[0]
            rows.setdefault(("neighborhood", nb), (d, nb))
            for b in a.beats or []:
                rows.setdefault(("beat", str(b)), (d, nb))
    out = pd.DataFrame([(lv, a, d, nb) for (lv, a), (d, nb) in rows.items()],
                       columns=["area_level", "area", "district", "neighborhood"])
    return out.sort_values(["area_level", "area"], kind="stable").reset_index(drop=True)


def population_covariates(targets: pd.DataFrame | None, amap: dict, waves: list[str],
                          neighborhoods: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adult population and population shares per wave and neighborhood from the census targets.

    Returns ``(population, shares)``: ``population`` indexed by ``(wave, neighborhood)`` (the
    ``neighborhood`` margin of the city, else the sum of an area's first margin); ``shares``
    with the same index and one column ``<variable>=<category>`` per variable of
    :data:`COVARIATE_VARIABLES` the targets give per neighborhood: the category whose share varies
    most between neighborhoods. A target of wave ``all`` serves every wave. Empty frames when
    there are no targets.
    """
    idx = pd.MultiIndex.from_product([waves, neighborhoods], names=["wave", "neighborhood"])
    pop = pd.Series(np.nan, index=idx, dtype=float)
    shares = pd.DataFrame(index=idx)
    if targets is None or targets.empty or not neighborhoods:
        return pop.to_frame("population"), shares
    t = targets.copy()
    t["_area"] = t["area"].map(lambda a: amap.get(normalize_name(a)))
    nbm = t[(t["area"].map(normalize_name) == "city") & (t["variable"] == "neighborhood")].copy()
    nbm["_area"] = nbm["category"].map(lambda a: amap.get(normalize_name(a)))

    def per_wave(frame: pd.DataFrame, w: str) -> pd.DataFrame:
        got = frame[frame["wave"] == w]
        return got if len(got) else frame[frame["wave"].str.casefold() == "all"]

    local = t[t["_area"].isin(neighborhoods)]
    for w in waves:
        p = per_wave(nbm, w).dropna(subset=["_area"]).groupby("_area")["population"].sum()
        if p.empty and len(local):
            lw = per_wave(local, w)
            first = lw[lw["variable"] == lw["variable"].iloc[0]] if len(lw) else lw
            p = first.groupby("_area")["population"].sum()
        for nb, v in p.items():
            if nb in neighborhoods:
                pop.loc[(w, nb)] = float(v)
    for var in COVARIATE_VARIABLES:
        tv = local[local["variable"] == var]
        if tv.empty:
            continue
        per = {}
        for w in waves:
            lw = per_wave(tv, w)
            if lw.empty:
                continue
            tab = lw.pivot_table(index="_area", columns="category", values="population", aggfunc="sum")
            tab = tab.reindex(neighborhoods)
            per[w] = tab.div(tab.sum(axis=1), axis=0)
        if not per or len(per) < len(waves):
            continue
        allw = pd.concat(per.values())
        sd = allw.std(axis=0).dropna()
        if sd.empty or not (sd.max() > 0):
            continue
        cat = str(sd.idxmax())
        col = np.concatenate([per[w][cat].reindex(neighborhoods).to_numpy(float) for w in waves])
        if np.isfinite(col).all():
            shares[f"{var}={cat}"] = col
    return pop.to_frame("population"), shares


def modeled_reliability(estimate: np.ndarray, se: np.ndarray, statistic: np.ndarray, sampled: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Reliability and reason of modeled rows from their relative root MSE (module docstring)."""
    est = np.asarray(estimate, float)
    se = np.asarray(se, float)
    share = np.asarray(statistic) == "share"
    base = np.where(share, np.minimum(est, 1 - est), np.abs(est))
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(base > 0, se / base, np.inf)
    status = np.where(rr <= RRMSE_OK, "ok", np.where(rr <= RRMSE_FLAG, "flag", "suppress")).astype(object)
    reason = np.full(len(est), None, dtype=object)
    pct = np.round(np.where(np.isfinite(rr), rr, 9.99) * 100).astype(int)
    side = np.where(share & (est > 0.5), " of its complement", "")
    flag = status == "flag"
    reason[flag] = [f"modeled; relative RMSE{s} {p}% (over {RRMSE_OK:.0%})" for s, p in zip(side[flag], pct[flag], strict=True)]
    sup = status == "suppress"
    reason[sup] = [f"modeled; relative RMSE{s} {p}% over {RRMSE_FLAG:.0%}" for s, p in zip(side[sup], pct[sup], strict=True)]
    synth = ~np.asarray(sampled, bool) & (status == "ok")
    status[synth] = "flag"
    reason[synth] = "modeled without a usable direct estimate (fewer than 2 answers): synthetic, only as good as the model"
    okk = status == "ok"
    reason[okk] = None
    bad = ~np.isfinite(est) | ~np.isfinite(se)
    status[bad] = "suppress"
    reason[bad] = "model gave no estimate"
    return status, reason


def _arcsin(p):
    return np.arcsin(np.sqrt(np.clip(np.asarray(p, float), 0.0, 1.0)))


def _fit(y: np.ndarray, n: np.ndarray, var: np.ndarray, share: bool, X: np.ndarray,
         offset: np.ndarray | None = None, offset_mse: np.ndarray | None = None,
         share_p: np.ndarray | None = None):
    """One Fay–Herriot fit (REML), dropping trailing covariates until one succeeds; None when none does.

    ``offset`` (model scale): a covariate whose coefficient is 1, not estimated (``y - offset``
    is modeled on ``X``); the EBLUP and synthetic estimate are ``offset`` plus those of the
    difference, with the same MSE. ``offset_mse``: the MSE of an estimated offset (a beat's
    neighborhood), the floor of the area variance in the MSE of an area without a sample
    (:func:`_at_variance`). ``share_p`` (a share modeled on its own scale, ``share`` false):
    the design variances are smoothed as ``p (1 - p) deff / n`` at these shares (the parent's),
    not log-linearly in ``n``."""
    if share:
        try:
            n_eff = smooth_vardir(var, n, "proportion", y=y).table["n_eff"].to_numpy(float)
        except StatsError:
            n_eff = n.astype(float)  # no area strictly between 0 and 1: design effect 1
        vardir, kw = None, {"transform": "arcsin", "n_eff": np.where(np.isfinite(y), n_eff, np.nan)}
    else:
        try:
            if share_p is not None:
                vs = smooth_vardir(var, n, "proportion", y=y, p=np.clip(share_p, 0.005, 0.995)
                                   ).table["vardir_smoothed"].to_numpy(float)
            else:
                vs = smooth_vardir(var, n, "loglinear").table["vardir_smoothed"].to_numpy(float)
        except StatsError:
            return None
        vardir, kw = np.where(np.isfinite(y), vs, np.nan), {}
    m = int(np.isfinite(y).sum())
    p = min(X.shape[1], max(1, m // AREAS_PER_COLUMN))
    ys = _arcsin(y) if share else y
    D = 1.0 / (4.0 * kw["n_eff"]) if share else vardir
    while p >= 1:
        try:
            with np.errstate(invalid="ignore", divide="ignore"):  # variance_se of a degenerate fit: NaN
                if offset is None:
                    fit = fay_herriot(y, vardir, X[:, :p], "REML", **kw)
                else:  # on the model scale, without the offset
                    fit = fay_herriot(ys - offset, D, X[:, :p], "REML")
        except StatsError:
            p -= 1
            continue
        if offset is None and (fit.variance > 0 or not ZERO_VARIANCE_AML):
            return fit
        A = fit.variance if fit.variance > 0 or not ZERO_VARIANCE_AML else _aml_variance(
            ys if offset is None else ys - offset, D, X[:, :p])
        return _at_variance(fit, ys, D, X[:, :p], A, share, offset, offset_mse)
    return None


def _model_scale(y: np.ndarray, n: np.ndarray, var: np.ndarray, share: bool):
    """Direct estimates and smoothed sampling variances on the model scale as :func:`_fit`
    makes them without ``share_p`` (shares: arcsine, ``1 / (4 n_eff)``); None when the
    variances cannot be smoothed."""
    if share:
        try:
            n_eff = smooth_vardir(var, n, "proportion", y=y).table["n_eff"].to_numpy(float)
        except StatsError:
            n_eff = n.astype(float)
        return _arcsin(y), np.where(np.isfinite(y), 1.0 / (4.0 * n_eff), np.nan)
    try:
        vs = smooth_vardir(var, n, "loglinear").table["vardir_smoothed"].to_numpy(float)
    except StatsError:
        return None
    return y, np.where(np.isfinite(y), vs, np.nan)


def _ml_aic(ys: np.ndarray, D: np.ndarray, X: np.ndarray) -> float | None:
    """Akaike's criterion of the maximum-likelihood Fay–Herriot fit of ``X``; None when it fails."""
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            fit = fay_herriot(ys, D, X, "ML")
    except StatsError:
        return None
    return -2.0 * fit.loglike + 2.0 * (X.shape[1] + 1)


class _Fit:
    """The parts of a Fay–Herriot fit the analysis reads (``estimates``, ``variance``)."""

    def __init__(self, estimates: pd.DataFrame, variance: float, reml_variance: float):
        self.estimates, self.variance, self.reml_variance = estimates, variance, reml_variance


def _reml_loglik(A: float, y: np.ndarray, D: np.ndarray, X: np.ndarray) -> float:
    """The restricted log-likelihood of the Fay–Herriot model at variance component ``A`` (up to a constant)."""
    v = A + D
    XtVi = (X / v[:, None]).T
    M = XtVi @ X
    beta = np.linalg.solve(M, XtVi @ y)
    r = y - X @ beta
    return -0.5 * float(np.sum(np.log(v)) + np.linalg.slogdet(M)[1] + np.sum(r**2 / v))


def _aml_variance(y: np.ndarray, D: np.ndarray, X: np.ndarray) -> float:
    """Li & Lahiri's (2010) adjusted maximum likelihood estimate of the variance component: the
    maximiser of ``A * L_REML(A)``, strictly positive (R's ``sae`` does not offer it)."""
    from scipy.optimize import minimize_scalar

    ok = np.isfinite(y)
    ys, Ds, Xs = y[ok], D[ok], X[ok]
    scale = float(np.median(Ds))
    res = minimize_scalar(lambda t: -(_reml_loglik(scale * np.exp(t), ys, Ds, Xs) + t), bounds=(-20.0, 8.0),
                          method="bounded", options={"xatol": 1e-6})
    return float(scale * np.exp(res.x))


def _at_variance(fit, y: np.ndarray, D: np.ndarray, X: np.ndarray, A: float, share: bool,
                 offset: np.ndarray | None = None, offset_mse: np.ndarray | None = None) -> _Fit:
    """The EBLUPs and Prasad–Rao MSEs (REML form: ``g1 + g2 + 2 g3``) at the variance component
    ``A`` instead of the fit's, on the model scale, and back on the share scale as
    :func:`~survey_pipeline.stats.fay_herriot` does (bias-corrected arcsine back-transform).

    An area without a sample gets ``offset + x'beta`` with MSE ``A + x'Qx`` (Rao & Molina 2015,
    chapter 6). With an estimated offset (``offset_mse``: a beat's neighborhood) its area term is
    at least the offset's own MSE, ``max(A, offset_mse) + x'Qx``: the estimate is the offset
    shifted, so it cannot be more accurate than the offset. ``A`` alone can be smaller, since it
    is estimated from beats whose own respondents are part of their neighborhood's estimate (the
    residuals ``y - offset`` vary less than the offset's error: on the fixture city the
    intervals of beats without answers covered the truth 90-91% with ``A`` alone)."""
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    y = y - off
    sampled = np.isfinite(y)
    ys, Ds, Xs = y[sampled], D[sampled], X[sampled]
    vi = 1.0 / (A + Ds)
    XtVi = (vi[:, None] * Xs).T
    Q = np.linalg.inv(XtVi @ Xs)
    beta = Q @ (XtVi @ ys)
    synthetic = X @ beta
    xQx = np.einsum("ij,jk,ik->i", X, Q, X)
    Dall = np.where(sampled, D, np.nan)
    B = np.where(sampled, Dall / (A + Dall), 1.0)
    var_A = 2.0 / float(np.sum(vi**2))
    A_empty = A if offset_mse is None else np.maximum(A, np.nan_to_num(np.asarray(offset_mse, float)))
    g1 = np.where(sampled, Dall * (1.0 - B), A_empty)
    g2 = B**2 * xQx
    g3 = np.where(sampled, B**2 * var_A / (A + Dall), 0.0)
    mse = g1 + g2 + 2.0 * g3
    eblup = np.where(sampled, synthetic + (1.0 - B) * (y - synthetic), synthetic) + off
    synthetic = synthetic + off
    rmse = np.sqrt(mse)
    lo_t, hi_t = eblup - 1.959963984540054 * rmse, eblup + 1.959963984540054 * rmse
    if share:
        mu = np.clip(eblup, 0.0, np.pi / 2)
        estimate = (1.0 - np.cos(2 * mu) * np.exp(-2 * mse)) / 2.0
        estimate_mse = ((1.0 + np.cos(4 * mu) * np.exp(-8 * mse)) / 2.0 - (np.cos(2 * mu) * np.exp(-2 * mse)) ** 2) / 4.0
        lower, upper = np.sin(np.clip(lo_t, 0.0, np.pi / 2)) ** 2, np.sin(np.clip(hi_t, 0.0, np.pi / 2)) ** 2
    else:
        estimate, estimate_mse, lower, upper = eblup, mse, lo_t, hi_t
    e = pd.DataFrame({"vardir": Dall, "synthetic": synthetic, "gamma": np.where(sampled, 1.0 - B, 0.0),
                      "eblup": eblup, "g1": g1, "g2": g2, "g3": g3, "mse": mse, "estimate": estimate,
                      "estimate_mse": estimate_mse, "lower": lower, "upper": upper}, index=fit.estimates.index)
    return _Fit(e, A, fit.variance)


def _benchmark(est: np.ndarray, mse: np.ndarray, lo: np.ndarray, hi: np.ndarray, w: np.ndarray,
               district: np.ndarray, bench: dict, city: float | None, share: bool):
    """Difference benchmarking (module docstring): the shifted estimate, MSE and interval."""
    delta = np.zeros(len(est))
    done = np.zeros(len(est), bool)
    for d, target in bench.items():
        sel = district == d
        if sel.any():
            delta[sel] = target - np.sum(w[sel] * est[sel]) / w[sel].sum()
            done |= sel
    rest = ~done
    if city is not None and rest.any():
        # the other districts' areas together: the city's weighted mean equals its direct estimate
        delta[rest] = (city * w.sum() - np.sum(w * (est + delta))) / w[rest].sum()
    new = est + delta
    mse_b = mse + delta**2
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(mse > 0, np.sqrt(mse_b / mse), 1.0)
    lo_b = new - (est - lo) * k
    hi_b = new + (hi - est) * k
    if share:
        new, lo_b, hi_b = np.clip(new, 0.0, 1.0), np.clip(lo_b, 0.0, 1.0), np.clip(hi_b, 0.0, 1.0)
    # the bias-corrected share E[sin^2] may lie outside sin^2 of the model-scale interval when the
    # EBLUP is below 0 on the arcsine scale (a share near 0): the interval is widened to hold it
    return new, mse_b, np.minimum(lo_b, new), np.maximum(hi_b, new)


_FIELDS = ("estimate", "se", "n", "n_eff", "n_dont_know", "reliability")


def _cube(rows: pd.DataFrame, keys: pd.MultiIndex, waves: list[str], areas: np.ndarray) -> dict[str, np.ndarray]:
    """Fields of direct rows as arrays ``[indicator x statistic, wave, area]`` (NaN / None where absent)."""
    k = keys.get_indexer(pd.MultiIndex.from_arrays([rows["indicator"], rows["statistic"]]))
    wi = pd.Index(waves).get_indexer(rows["wave"].astype(str))
    ai = pd.Index(areas).get_indexer(rows["area"].astype(str))
    ok = (k >= 0) & (wi >= 0) & (ai >= 0)
    out = {}
    for f in _FIELDS:
        rel = f == "reliability"
        arr = np.full((len(keys), len(waves), len(areas)), None if rel else np.nan, dtype=object if rel else float)
        arr[k[ok], wi[ok], ai[ok]] = rows[f].to_numpy(dtype=object if rel else float)[ok]
        out[f] = arr
    return out


def _share_columns(P: dict, wi: int) -> list[np.ndarray]:
    """The population-share covariates of a level in wave ``wi`` (arcsine), those that vary."""
    out = []
    for c in range(P["sh"].shape[2]):
        v = P["sh"][wi, :, c]
        if np.isfinite(v).all() and np.ptp(v) > 0:
            out.append(_arcsin(v))
    return out


def _population_shares_help(prep: dict, keys: pd.MultiIndex, waves: list[str], dcube: dict, ccube: dict,
                            dist_names: np.ndarray) -> tuple[bool, float]:
    """Whether the neighborhoods' population-share covariates enter the models, decided once for
    the level: by the total Akaike criterion of the maximum-likelihood fits with and without them
    (intercept and parent area, every indicator, statistic and wave where both fits succeed).
    Returns the decision and the total AIC gained by the shares (positive: they help)."""
    P = prep.get("neighborhood")
    if P is None or P["sh"].shape[2] == 0:
        return False, float("nan")
    gain = 0.0
    for kk in range(len(keys)):
        share = keys[kk][1] == "share"
        scale = _arcsin if share else (lambda x: np.asarray(x, float))
        cube = P["cube"]
        for wi in range(len(waves)):
            n = cube["n"][kk, wi]
            y = cube["estimate"][kk, wi]
            usable = np.isfinite(y) & (n >= 2)
            if usable.sum() < MIN_AREAS:
                continue
            y = np.where(usable, y, np.nan)
            n0 = np.where(np.isfinite(n), n, 0.0)
            var = cube["se"][kk, wi] ** 2
            di = P["di"]
            d_est = np.where(di >= 0, dcube["estimate"][kk, wi][di], np.nan)
            d_n = np.where(di >= 0, dcube["n"][kk, wi][di], np.nan)
            par = np.where(d_n >= 2, d_est, ccube["estimate"][kk, wi, 0])
            base = [np.ones(len(y))] + ([scale(par)] if np.isfinite(par).all() and np.ptp(par) > 0 else [])
            extra = _share_columns(P, wi)
            k = min(len(base) + len(extra), max(1, int(usable.sum()) // AREAS_PER_COLUMN))
            if k <= len(base):
                continue
            scaled = _model_scale(y, n0, var, share)
            if scaled is None:
                continue
            a0 = _ml_aic(*scaled, np.column_stack(base))
            a1 = _ml_aic(*scaled, np.column_stack(base + extra)[:, :k])
            if a0 is not None and a1 is not None:
                gain += a0 - a1
    return gain > 0, gain


def modeled_tasks(est: pd.DataFrame, structure: pd.DataFrame, population: pd.DataFrame | None = None,
                  shares: pd.DataFrame | None = None, waves: list[str] | None = None,
                  levels: tuple[str, ...] = SAE_LEVELS, pieces: int = 4):
    """:func:`modeled_estimates` in pieces (indicators split in ``pieces`` parts, each modeled
    for every level and wave): the tasks and the function that makes the rows and diagnostics
    of their results (in the tasks' order), for
    :func:`~survey_pipeline.analysis._parallel.run_tasks`."""
    waves = [str(w) for w in (waves or sorted(est["wave"].astype(str).unique()))]
    a = est[est["group_dim"] == "all"]
    levels = tuple(lv for lv in levels if (structure["area_level"] == lv).any() and (a["area_level"] == lv).any())
    if not levels:
        return [], lambda _res: (pd.DataFrame(columns=list(est.columns)), _diag([]))
    keys = pd.MultiIndex.from_frame(
        a.loc[a["area_level"].isin(levels), ["indicator", "statistic"]].drop_duplicates().sort_values(
            ["indicator", "statistic"], kind="stable"))
    dist_names = np.array(sorted({str(x) for x in structure["district"].dropna()}), dtype=object)
    dcube = _cube(a[a["area_level"] == "district"], keys, waves, dist_names)
    ccube = _cube(a[a["area_level"] == "city"].assign(area="city"), keys, waves, np.array(["city"], dtype=object))
    prep = {}
    for lv in levels:
        st = structure[structure["area_level"] == lv].reset_index(drop=True)
        names = st["area"].astype(str).to_numpy(dtype=object)
        nbs = st["neighborhood"].astype(str).to_numpy(dtype=object)
        dists = st["district"].astype(object).to_numpy()
        di = pd.Index(dist_names).get_indexer(pd.Series(dists).astype(str))
        nbeats = pd.Series(nbs).map(pd.Series(nbs).value_counts()).to_numpy(float) if lv == "beat" else np.ones(len(nbs))
        w_idx = pd.MultiIndex.from_arrays([np.repeat(waves, len(nbs)), np.tile(nbs, len(waves))])
        if population is not None and "population" in population:
            pop = population["population"].reindex(w_idx).to_numpy(float).reshape(len(waves), len(nbs)) / nbeats
        else:
            pop = np.full((len(waves), len(nbs)), np.nan)
        sh = (shares.reindex(w_idx).to_numpy(float).reshape(len(waves), len(nbs), shares.shape[1])
              if shares is not None and shares.shape[1] else np.zeros((len(waves), len(nbs), 0)))
        prep[lv] = {"names": names, "nbs": nbs, "dists": dists, "di": di, "pop": pop, "sh": sh,
                        "cube": _cube(a[a["area_level"] == lv], keys, waves, names)}
    nb_names = prep["neighborhood"]["names"] if "neighborhood" in prep else np.array([], dtype=object)
    use_shares, aic_gain = _population_shares_help(prep, keys, waves, dcube, ccube, dist_names)
    shares_note = None if not np.isfinite(aic_gain) else (
        float(use_shares), f"census population shares as neighborhood covariates: {'used' if use_shares else 'not used'}"
                           f" (total AIC of the maximum-likelihood fits {-aic_gain:+.1f} with them)")

    def run(part: np.ndarray):
        rows, diag = [], []
        for kk in part:
            _ind, stat = keys[kk]
            is_share = stat == "share"
            parent_nb = {}  # wave -> benchmarked neighborhood estimates (beats' parent covariate)
            parent_mse = {}  # wave -> their MSEs on the arcsine scale and on the share scale
            for lv in levels:
                P = prep[lv]
                share = is_share and SHARE_TRANSFORM[lv] == "arcsin"  # modeled on the arcsine scale
                scale = _arcsin if share else (lambda x: np.asarray(x, float))
                cube = P["cube"]
                prev = None
                for wi, w in enumerate(waves):
                    n = cube["n"][kk, wi]
                    y = cube["estimate"][kk, wi]
                    usable = np.isfinite(y) & (n >= 2)
                    if not np.isfinite(n).any():
                        prev = None
                        continue
                    if usable.sum() < MIN_AREAS:
                        diag.append((w, lv, "failed"))
                        prev = None
                        continue
                    y = np.where(usable, y, np.nan)
                    n0 = np.where(np.isfinite(n), n, 0.0)
                    var = cube["se"][kk, wi] ** 2
                    c_est = ccube["estimate"][kk, wi, 0]
                    c_ok = float(c_est) if ccube["reliability"][kk, wi, 0] == "ok" else None
                    di = P["di"]
                    d_est = np.where(di >= 0, dcube["estimate"][kk, wi][di], np.nan)
                    d_n = np.where(di >= 0, dcube["n"][kk, wi][di], np.nan)
                    par = np.where(d_n >= 2, d_est, c_est)
                    if lv == "beat" and wi in parent_nb:
                        pn = parent_nb[wi][pd.Index(nb_names).get_indexer(P["nbs"])]
                        par = np.where(np.isfinite(pn), pn, par)
                    cols = [np.ones(len(y))]
                    offset = offset_mse = None
                    if np.isfinite(par).all() and np.ptp(par) > 0:
                        if lv == "beat" and wi in parent_nb and BEAT_PARENT_OFFSET:
                            offset = scale(par)  # a beat is its neighborhood plus its own effect
                            offset_mse = parent_mse[wi][int(not share)][pd.Index(nb_names).get_indexer(P["nbs"])]
                        else:
                            cols.append(scale(par))
                    if prev is not None and np.isfinite(prev).all() and np.ptp(prev) > 0:
                        cols.append(prev)
                    cols += _share_columns(P, wi) if lv != "beat" and use_shares else []  # beats: in the parent
                    # a share modeled on its own scale: design variances smoothed at the parent's share
                    sp = np.where(np.isfinite(par), par, c_est) if is_share and not share else None
                    fit = _fit(y, n0, var, share, np.column_stack(cols), offset, offset_mse, share_p=sp)
                    if fit is None and offset is not None:  # the parent as an estimated covariate instead
                        fit = _fit(y, n0, var, share, np.column_stack([cols[0], offset, *cols[1:]]), share_p=sp)
                    if fit is None:
                        diag.append((w, lv, "failed"))
                        prev = None
                        continue
                    e = fit.estimates
                    prev = e["eblup"].to_numpy(float)
                    diag.append((w, lv, "zero" if getattr(fit, "reml_variance", fit.variance) == 0 else "fit"))
                    diag.extend((w, lv, float(g)) for g in e["gamma"].to_numpy(float)[usable])
                    pop = P["pop"][wi]
                    wts = pop if np.isfinite(pop).all() and (pop > 0).all() else np.ones(len(y))
                    dn = dcube["reliability"][kk, wi]
                    bench = {dist_names[j]: float(dcube["estimate"][kk, wi, j]) for j in range(len(dist_names))
                             if dn[j] == "ok"}
                    new, mse_b, lo, hi = _benchmark(
                        e["estimate"].to_numpy(float), e["estimate_mse"].to_numpy(float),
                        e["lower"].to_numpy(float), e["upper"].to_numpy(float), wts, P["dists"], bench, c_ok,
                        is_share)
                    if lv == "neighborhood":
                        parent_nb[wi] = new
                        # its MSE on the model scale, widened as its interval by the benchmarking
                        with np.errstate(divide="ignore", invalid="ignore"):
                            k2 = np.where(e["estimate_mse"] > 0, mse_b / e["estimate_mse"].to_numpy(float), 1.0)
                        parent_mse[wi] = (e["mse"].to_numpy(float) * k2, mse_b)
                    rows.append((kk, wi, lv, new, np.sqrt(np.where(mse_b >= 0, mse_b, np.nan)), lo, hi, n0, cube["n_eff"][kk, wi],
                                 np.nan_to_num(cube["n_dont_know"][kk, wi]), usable))
        return rows, diag

    parts = [p for p in np.array_split(np.arange(len(keys)), max(1, min(pieces, len(keys)))) if len(p)]
    tasks = [lambda part=part: run(part) for part in parts]

    def finish(results: list) -> tuple[pd.DataFrame, pd.DataFrame]:
        acc: dict[str, list] = {c: [] for c in ("kk", "wi", "lv", "area", "estimate", "se", "ci_low", "ci_high", "n",
                                                "n_eff", "n_dont_know", "_sampled")}
        diag = []
        for rows, dg in results:
            diag += dg
            for kk, wi, lv, new, se, lo, hi, n0, neff, ndk, usable in rows:
                k = len(new)
                for c, v in (("kk", np.full(k, kk)), ("wi", np.full(k, wi)), ("lv", np.full(k, lv, dtype=object)),
                             ("area", prep[lv]["names"]), ("estimate", new), ("se", se), ("ci_low", lo),
                             ("ci_high", hi), ("n", n0), ("n_eff", neff), ("n_dont_know", ndk), ("_sampled", usable)):
                    acc[c].append(v)
        cols = list(est.columns)
        if not acc["kk"]:
            return pd.DataFrame(columns=cols), _diag(diag, shares_note)
        c = {k: np.concatenate(v) for k, v in acc.items()}
        kk = c.pop("kk")
        out = pd.DataFrame({
            "wave": np.asarray(waves, dtype=object)[c.pop("wi")], "area_level": c.pop("lv"), "area": c.pop("area"),
            "group_dim": "all", "group": "all",
            "indicator": keys.get_level_values(0).to_numpy(dtype=object)[kk],
            "statistic": keys.get_level_values(1).to_numpy(dtype=object)[kk],
            "df": np.nan, "deff": np.nan, **c})
        out["n"] = out["n"].astype("int64")
        out["n_dont_know"] = out["n_dont_know"].astype("int64")
        out["reliability"], out["reliability_reason"] = modeled_reliability(
            out["estimate"].to_numpy(float), out["se"].to_numpy(float), out["statistic"].to_numpy(),
            out["_sampled"].to_numpy(bool))
        out["method"] = MODELED_METHOD
        return out[cols], _diag(diag, shares_note)

    return tasks, finish


def _diag(items: list, shares_note: tuple[float, str] | None = None) -> pd.DataFrame:
    """Diagnostics rows (kind ``small_area``) per wave and level from the tasks' records."""
    rows = []
    f = pd.DataFrame(items, columns=["wave", "area_level", "what"])
    for (w, lv), g in f.groupby(["wave", "area_level"], sort=True):
        what = g["what"]
        gam = pd.to_numeric(what[what.map(lambda x: isinstance(x, float))], errors="coerce")
        for metric, value, detail in (
                ("fits", float(what.isin(["fit", "zero"]).sum()), "Fay–Herriot fits (indicator x statistic), REML"),
                ("fits_failed", float((what == "failed").sum()),
                 "fits not made: fewer than 5 areas with 2+ answers, or every covariate set failed"),
                ("fits_variance_zero", float((what == "zero").sum()),
                 "fits whose REML variance component is 0 (predicted at the adjusted ML estimate instead)"),
                ("median_gamma", float(gam.median()) if len(gam) else np.nan,
                 "median shrinkage weight of the direct estimate (areas with 2+ answers)")):
            rows.append({"wave": w, "area_level": lv, "area": lv, "kind": "small_area", "metric": metric,
                         "value": value, "detail": detail})
        if shares_note is not None and lv == "neighborhood":
            rows.append({"wave": w, "area_level": lv, "area": lv, "kind": "small_area",
                         "metric": "population_covariates", "value": shares_note[0], "detail": shares_note[1]})
    return pd.DataFrame(rows, columns=["wave", "area_level", "area", "kind", "metric", "value", "detail"])


def modeled_estimates(est: pd.DataFrame, structure: pd.DataFrame, population: pd.DataFrame | None = None,
                      shares: pd.DataFrame | None = None, waves: list[str] | None = None,
                      levels: tuple[str, ...] = SAE_LEVELS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Modeled estimate rows of ``levels`` for all respondents, from the direct rows ``est``.

    ``structure``: :func:`area_structure`; ``population`` and ``shares``:
    :func:`population_covariates` (either may be None: areas then weigh equally in the
    benchmarking, and no share covariates are used). Returns the modeled rows (the columns of
    ``est``) and diagnostics rows (kind ``small_area``) per wave and level: fits, fits not
    made, fits with the variance component at 0 and the median shrinkage weight.
    """
    tasks, finish = modeled_tasks(est, structure, population, shares, waves, levels, pieces=1)
    return finish([t() for t in tasks])
