"""Modeled (Fay–Herriot) estimates of small areas from direct rows (analysis/smallarea.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis.indicators import ESTIMATE_COLUMNS
from survey_pipeline.analysis.smallarea import (
    MODELED_METHOD,
    _benchmark,
    area_structure,
    modeled_estimates,
    modeled_reliability,
    population_covariates,
)


def test_reliability_rule_on_relative_rmse():
    est = np.array([0.5, 0.5, 0.5, 0.9, 3.0, 0.5])
    se = np.array([0.10, 0.20, 0.30, 0.02, 0.3, 0.05])
    stat = np.array(["share"] * 4 + ["mean", "share"])
    sampled = np.array([True] * 5 + [False])
    rel, why = modeled_reliability(est, se, stat, sampled)
    # 20% ok, 40% flag, 60% suppress; 0.9 is judged on its complement (0.02 / 0.1 = 20%);
    # a mean on its value (10%); an area without a usable direct estimate is at best flagged
    assert rel.tolist() == ["ok", "flag", "suppress", "ok", "ok", "flag"]
    assert why[0] is None and "40%" in why[1] and "60%" in why[2] and "synthetic" in why[5]


def test_difference_benchmarking_adds_up_to_the_district_and_the_city():
    est = np.array([0.2, 0.4, 0.5, 0.7])
    mse = np.full(4, 0.01)
    w = np.array([1.0, 3.0, 2.0, 2.0])
    dist = np.array(["a", "a", "b", "b"], dtype=object)
    new, mse_b, lo, hi = _benchmark(est, mse, est - 0.1, est + 0.1, w, dist, {"a": 0.40}, 0.45, True)
    assert np.isclose(np.sum(w[:2] * new[:2]) / w[:2].sum(), 0.40)
    assert np.isclose(np.sum(w * new) / w.sum(), 0.45)  # district b takes the rest of the city
    delta = new - est
    assert np.allclose(mse_b, mse + delta**2)
    assert np.all(lo < new) and np.all(new < hi) and np.all(hi - lo > 0.2 - 1e-12)


def _city(seed: int = 5, m: int = 40):
    """Direct rows of ``m`` neighborhoods in 4 districts, 2 waves: one share and one mean."""
    rng = np.random.default_rng(seed)
    dist = np.array(["d1", "d2", "d3", "d4"])[np.arange(m) % 4]
    names = [f"n{i:02d}" for i in range(m)]
    n = rng.integers(3, 80, m).astype(float)
    n[0] = 1  # one answer: no usable direct variance
    true_p = 1 / (1 + np.exp(-(-0.5 + 0.3 * (np.arange(m) % 4) + rng.normal(0, 0.25, m))))
    true_mu = 2.5 + 0.2 * (np.arange(m) % 4) + rng.normal(0, 0.15, m)
    rows = []
    for wave in ("w1", "w2"):
        p = rng.binomial(n.astype(int), true_p) / n
        mu = true_mu + rng.normal(0, 0.9 / np.sqrt(n))
        for stat, y, se in (("share", p, np.sqrt(np.maximum(p * (1 - p), 0.01) / n)), ("mean", mu, 0.9 / np.sqrt(n))):
            rows.append(pd.DataFrame({"wave": wave, "area_level": "neighborhood", "area": names, "indicator": "x",
                                      "statistic": stat, "estimate": y, "se": se, "n": n}))
            for d in ("d1", "d2", "d3", "d4"):
                s = dist == d
                rows.append(pd.DataFrame({"wave": [wave], "area_level": "district", "area": d, "indicator": "x",
                                          "statistic": stat, "estimate": np.sum(n[s] * y[s]) / n[s].sum(),
                                          "se": 0.02, "n": n[s].sum()}))
            rows.append(pd.DataFrame({"wave": [wave], "area_level": "city", "area": "city", "indicator": "x",
                                      "statistic": stat, "estimate": np.sum(n * y) / n.sum(), "se": 0.01,
                                      "n": n.sum()}))
    est = pd.concat(rows, ignore_index=True)
    est["group_dim"], est["group"] = "all", "all"
    est["df"], est["n_eff"], est["deff"], est["n_dont_know"] = 100.0, est["n"], 1.0, 0
    est["ci_low"], est["ci_high"] = est["estimate"] - 2 * est["se"], est["estimate"] + 2 * est["se"]
    est["reliability"] = np.where(est["n"] >= 30, "ok", "suppress")
    est.loc[est["area"] == "d2", "reliability"] = "flag"  # not a benchmark
    est["reliability_reason"], est["method"] = None, "taylor"
    structure = pd.DataFrame({"area_level": "neighborhood", "area": names, "district": dist, "neighborhood": names})
    # an area nobody answered from: a synthetic estimate
    structure = pd.concat([structure, pd.DataFrame([{"area_level": "neighborhood", "area": "n99", "district": "d1",
                                                     "neighborhood": "n99"}])], ignore_index=True)
    return est[ESTIMATE_COLUMNS], structure, n, true_p, true_mu


def test_modeled_rows_for_every_area_benchmarked_and_closer_to_the_truth():
    est, structure, n, true_p, true_mu = _city()
    names = structure["area"].tolist()
    pop = pd.DataFrame({"population": np.tile(100.0 + np.arange(len(names)), 2)},
                       index=pd.MultiIndex.from_product([["w1", "w2"], names], names=["wave", "neighborhood"]))
    rows, diag = modeled_estimates(est, structure, pop, None, ["w1", "w2"], levels=("neighborhood",))
    assert list(rows.columns) == ESTIMATE_COLUMNS
    assert (rows["method"] == MODELED_METHOD).all() and len(rows) == 2 * 2 * len(names)
    w2 = rows[rows["wave"] == "w2"].set_index(["statistic", "area"])
    # the unsampled area and the one-answer area are synthetic (n 0 and 1), at best flagged
    assert w2.loc[("share", "n99"), "n"] == 0 and w2.loc[("share", "n99"), "reliability"] != "ok"
    assert w2.loc[("share", "n00"), "reliability"] != "ok"
    # benchmarked: district d1 (ok) adds up to its direct estimate, population-weighted
    d1 = structure.loc[structure["district"] == "d1", "area"].tolist()
    p = pop.loc["w2", "population"].reindex(d1).to_numpy()
    direct = est[(est["wave"] == "w2") & (est["area"] == "d1") & (est["statistic"] == "share")]["estimate"].iloc[0]
    assert np.isclose(np.sum(p * w2.loc["share"].loc[d1, "estimate"].to_numpy()) / p.sum(), direct)
    # closer to the truth than the direct estimate in the small areas (n < 30)
    small = np.flatnonzero((n < 30) & (n >= 2))
    dw = est[(est["wave"] == "w2") & (est["area_level"] == "neighborhood")].set_index(["statistic", "area"])
    area = [names[i] for i in small]
    for stat, truth in (("share", true_p[small]), ("mean", true_mu[small])):
        mod = w2.loc[stat].loc[area, "estimate"].to_numpy()
        dirx = dw.loc[stat].loc[area, "estimate"].to_numpy()
        assert np.mean((mod - truth) ** 2) < np.mean((dirx - truth) ** 2), stat
    shares = rows[rows["statistic"] == "share"]
    assert shares["estimate"].between(0, 1).all() and (shares["ci_low"] <= shares["estimate"]).all()
    assert set(diag["metric"]) == {"fits", "fits_failed", "fits_variance_zero", "median_gamma"}
    assert diag.loc[diag["metric"] == "fits", "value"].sum() == 4


def test_too_few_areas_give_no_model():
    est, structure, *_ = _city(m=4)
    rows, diag = modeled_estimates(est, structure, None, None, ["w1", "w2"], levels=("neighborhood",))
    assert rows.empty and list(rows.columns) == ESTIMATE_COLUMNS
    assert diag.loc[diag["metric"] == "fits_failed", "value"].sum() == 4


def test_structure_and_population_covariates_from_the_data_and_targets():
    data = pd.DataFrame({"district": ["c", "c", "c", "n", None], "neighborhood": ["A", "A", "B", "C", None],
                         "beat": ["101", None, "102", None, "999"]})
    st = area_structure(data)
    assert st.to_dict("records") == [
        {"area_level": "beat", "area": "101", "district": "c", "neighborhood": "A"},
        {"area_level": "beat", "area": "102", "district": "c", "neighborhood": "B"},
        {"area_level": "neighborhood", "area": "A", "district": "c", "neighborhood": "A"},
        {"area_level": "neighborhood", "area": "B", "district": "c", "neighborhood": "B"},
        {"area_level": "neighborhood", "area": "C", "district": "n", "neighborhood": "C"}]
    targets = pd.DataFrame([
        ("w1", "city", "neighborhood", "1", 100.0), ("w1", "city", "neighborhood", "2", 300.0),
        ("w1", "1", "tenure", "own", 80.0), ("w1", "1", "tenure", "rent", 20.0),
        ("w1", "2", "tenure", "own", 150.0), ("w1", "2", "tenure", "rent", 150.0),
        ("all", "1", "sex", "female", 50.0), ("all", "1", "sex", "male", 50.0),
        ("all", "2", "sex", "female", 150.0), ("all", "2", "sex", "male", 150.0)],
        columns=["wave", "area", "variable", "category", "population"])
    pop, shares = population_covariates(targets, {"1": "A", "2": "B"}, ["w1"], ["A", "B"])
    assert pop["population"].tolist() == [100.0, 300.0]
    # tenure varies between the areas (one column, the category varying most); sex does not
    assert list(shares.columns) in (["tenure=own"], ["tenure=rent"])
    assert np.allclose(sorted(shares.iloc[:, 0]), sorted([0.8, 0.5]) if shares.columns[0] == "tenure=own" else [0.2, 0.5])


def _areas(seed: int, m: int = 16, A: float = 0.02):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, m)
    X = np.column_stack([np.ones(m), x])
    D = rng.uniform(0.005, 0.03, m)
    y = 0.3 + 0.5 * x + rng.normal(0, np.sqrt(A), m) + rng.normal(0, np.sqrt(D))
    return y, D, X


def test_predictions_at_a_given_variance_are_fay_herriots_at_its_own():
    """``_at_variance`` at the REML fit's own variance component gives the fit's EBLUPs, MSEs and
    intervals (means, and shares on the arcsine scale with the bias-corrected back-transform)."""
    from survey_pipeline.analysis.smallarea import _at_variance
    from survey_pipeline.stats import fay_herriot

    y, D, X = _areas(3)
    y[[2, 9]] = np.nan  # two areas without a sample
    fit = fay_herriot(y, np.where(np.isfinite(y), D, np.nan), X, "REML", precision=1e-10)
    assert fit.variance > 0
    got = _at_variance(fit, y, D, X, fit.variance, share=False).estimates
    for c in ("eblup", "mse", "estimate", "estimate_mse", "lower", "upper", "gamma"):
        assert np.allclose(got[c], fit.estimates[c], rtol=1e-10, atol=1e-14), c
    p = np.clip(y, 0.02, 0.98)
    n_eff = np.round(1 / (4 * D))
    sfit = fay_herriot(p, None, X, "REML", transform="arcsin", n_eff=np.where(np.isfinite(p), n_eff, np.nan),
                       precision=1e-10)
    sgot = _at_variance(sfit, np.arcsin(np.sqrt(p)), 1 / (4 * n_eff), X, sfit.variance, share=True).estimates
    for c in ("eblup", "mse", "estimate", "estimate_mse", "lower", "upper"):
        assert np.allclose(sgot[c], sfit.estimates[c], rtol=1e-10, atol=1e-14), c


def test_a_zero_variance_component_is_replaced_by_the_adjusted_ml_estimate():
    """When REML puts the variance component at 0 (the direct estimates vary less than their
    sampling variances imply), the analysis predicts with Li & Lahiri's AML estimate: positive,
    the maximiser of A * L_REML(A), and the MSEs then allow for the areas' own effects."""
    from survey_pipeline.analysis.smallarea import _aml_variance, _fit, _reml_loglik
    from survey_pipeline.stats import fay_herriot

    rng = np.random.default_rng(5)
    m = 16
    x = rng.uniform(0, 1, m)
    X = np.column_stack([np.ones(m), x])
    n = rng.integers(15, 60, m).astype(float)
    D = 0.6 / n
    y = 3.0 + 0.5 * x + rng.normal(0, np.sqrt(D)) * 0.3  # far less spread than D implies
    reml = fay_herriot(y, D, X, "REML")
    assert reml.variance == 0
    A = _aml_variance(y, D, X)
    assert A > 0
    grid = A * np.exp(np.linspace(-3, 3, 61))
    adj = [_reml_loglik(a, y, D, X) + np.log(a) for a in grid]
    assert _reml_loglik(A, y, D, X) + np.log(A) >= max(adj) - 1e-6
    fit = _fit(y, n, D, False, X)  # D is exactly loglinear in n: smoothing keeps it
    assert fit.reml_variance == 0 and fit.variance > 0
    # on average the MSE grows (g1 > 0 now; the allowance 2 g3 for estimating A shrinks a little)
    assert fit.estimates["mse"].mean() > 1.2 * reml.estimates["mse"].mean()
    assert (fit.estimates["gamma"] > 0).all()
    # with a positive REML estimate the fit is REML's own (no adjustment)
    y2, D2, X2 = _areas(3)
    fit2 = _fit(y2, 0.6 / D2, D2, False, X2)
    assert fit2.variance > 0 and not hasattr(fit2, "reml_variance")


def test_an_offset_is_a_covariate_with_coefficient_one():
    """Beats take their neighborhood's modeled estimate as an offset: ``y - offset`` is modeled on
    ``X`` and the offset added back (EBLUP and synthetic), with the MSE of that fit; for shares on
    the arcsine scale, back-transformed as without an offset."""
    from survey_pipeline.analysis.smallarea import _fit
    from survey_pipeline.stats import fay_herriot

    y, D, X = _areas(4, m=24)
    off = 0.8 * X[:, 1] + 0.1
    n = 0.6 / D
    got = _fit(y, n, 0.6 / n, False, X[:, :1], offset=off).estimates
    smooth = D  # D is exactly 0.6 / n: the log-linear smoothing keeps it
    ref = fay_herriot(y - off, smooth, X[:, :1], "REML")
    assert ref.variance > 0
    np.testing.assert_allclose(got["eblup"], ref.estimates["eblup"] + off, rtol=1e-10)
    np.testing.assert_allclose(got["synthetic"], ref.estimates["synthetic"] + off, rtol=1e-10)
    np.testing.assert_allclose(got["mse"], ref.estimates["mse"], rtol=1e-10)
    # shares: the model scale is arcsin(sqrt(p)); a share's estimate stays in [0, 1] and its
    # interval holds it
    p = np.clip(0.3 + 0.5 * X[:, 1] + np.random.default_rng(2).normal(0, 0.05, 24), 0.02, 0.98)
    p_off = np.arcsin(np.sqrt(np.clip(0.3 + 0.5 * X[:, 1], 0, 1)))
    nn = np.full(24, 40.0)
    s = _fit(p, nn, p * (1 - p) / nn, True, X[:, :1], offset=p_off).estimates
    assert s["estimate"].between(0, 1).all() and (s["lower"] <= s["estimate"]).all()
    assert (s["estimate"] <= s["upper"]).all()
    assert np.allclose(s["synthetic"], p_off + (s["synthetic"] - p_off).iloc[0])  # offset + one intercept


def test_an_area_without_answers_carries_the_offsets_uncertainty():
    """A beat without usable answers is its neighborhood's estimate shifted: its MSE is the area
    term (at least the neighborhood's own MSE, ``offset_mse``) plus the uncertainty of the
    coefficients (g2), never less than that of the offset it is built from."""
    from survey_pipeline.analysis.smallarea import _fit

    y, D, X = _areas(4, m=24)
    y[[3, 7]] = np.nan  # no usable answers
    off = 0.8 * X[:, 1] + 0.1
    n = 0.6 / D
    base = _fit(y, n, 0.6 / n, False, X[:, :1], offset=off)
    A = base.variance
    off_mse = np.full(24, 0.5 * A)
    off_mse[7] = 4 * A  # a neighborhood estimated worse than the beats' effects vary
    got = _fit(y, n, 0.6 / n, False, X[:, :1], offset=off, offset_mse=off_mse).estimates
    e = base.estimates
    # sampled areas are unchanged; the empty ones get max(A, offset MSE) + g2
    np.testing.assert_allclose(got["mse"].drop([3, 7]), e["mse"].drop([3, 7]), rtol=1e-12)
    assert got.loc[3, "mse"] == pytest.approx(A + e.loc[3, "g2"], rel=1e-12)
    assert got.loc[7, "mse"] == pytest.approx(4 * A + e.loc[7, "g2"], rel=1e-12)
    assert got.loc[7, "mse"] > off_mse[7] and got.loc[7, "upper"] - got.loc[7, "lower"] > 2 * 1.959 * np.sqrt(off_mse[7])
    assert np.isclose(got.loc[7, "eblup"], got.loc[7, "synthetic"])


def test_a_share_on_its_own_scale_has_variances_at_the_parents_share(monkeypatch):
    """Beats model shares on the share scale: the design variances are smoothed as
    ``p (1 - p) deff / n`` at the parent's share ``p`` (not log-linearly in n), and the
    benchmarked rows are clipped to [0, 1]."""
    from survey_pipeline.analysis.smallarea import _fit
    from survey_pipeline.stats import smooth_vardir

    rng = np.random.default_rng(8)
    m = 30
    n = rng.integers(3, 15, m).astype(float)
    parent = np.repeat([0.05, 0.2, 0.4], 10)
    y = rng.binomial(n.astype(int), parent) / n
    var = 1.3 * np.maximum(y * (1 - y), 0.0) / n
    X = np.ones((m, 1))
    fit = _fit(y, n, var, False, X, offset=parent, share_p=parent).estimates
    expect = smooth_vardir(var, n, "proportion", y=y, p=parent).table["vardir_smoothed"].to_numpy()
    np.testing.assert_allclose(fit["vardir"], expect, rtol=1e-12)
    assert fit["vardir"].iloc[0] < fit["vardir"].iloc[-1] * 0.5  # rare parent: smaller variance
    # neighborhoods on the share scale too (as beats are): rows in [0, 1], and not the arcsine fit's
    import survey_pipeline.analysis.smallarea as sa

    est, structure, *_ = _city(seed=9, m=40)
    arc, _ = modeled_estimates(est, structure, None, None, ["w1", "w2"], levels=("neighborhood",))
    monkeypatch.setitem(sa.SHARE_TRANSFORM, "neighborhood", "none")
    rows, _ = modeled_estimates(est, structure, None, None, ["w1", "w2"], levels=("neighborhood",))
    shares = rows[rows["statistic"] == "share"]
    assert shares["estimate"].between(0, 1).all() and shares["ci_low"].ge(0).all() and shares["ci_high"].le(1).all()
    assert not np.allclose(shares["estimate"], arc.loc[arc["statistic"] == "share", "estimate"])
    means = rows["statistic"] == "mean"
    np.testing.assert_allclose(rows.loc[means, "estimate"], arc.loc[arc["statistic"] == "mean", "estimate"])


def test_population_shares_enter_only_where_they_help_the_level():
    """The census shares are covariates of the neighborhoods when, over every indicator and wave
    of the level, the maximum-likelihood fits with them have the smaller total AIC: a share that
    tracks the truth is used, one that is noise is not (diagnostics ``population_covariates``)."""
    est, structure, _n, true_p, _mu = _city(seed=11, m=40)
    names = structure["area"].tolist()
    idx = pd.MultiIndex.from_product([["w1", "w2"], names], names=["wave", "neighborhood"])
    rng = np.random.default_rng(3)
    signal = np.append(true_p, 0.4)  # n99, the unsampled area, last
    noise = rng.uniform(0.3, 0.7, len(names))
    used = {}
    for what, col in (("signal", signal), ("noise", noise)):
        shares = pd.DataFrame({"x=a": np.tile(col, 2)}, index=idx)
        rows, diag = modeled_estimates(est, structure, None, shares, ["w1", "w2"], levels=("neighborhood",))
        pc = diag[diag["metric"] == "population_covariates"]
        assert len(pc) == 2 and pc["value"].nunique() == 1
        used[what] = (bool(pc["value"].iloc[0]), pc["detail"].iloc[0])
        assert len(rows) == 2 * 2 * len(names)
    assert used["signal"][0] and "used" in used["signal"][1]
    assert not used["noise"][0] and "not used" in used["noise"][1]
