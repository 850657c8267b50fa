"""Fay–Herriot small-area estimation: options, inputs, edge cases, back-transformation, GVF.

The agreement with R's sae package is in tests/reference/test_sae_against_r.py; these tests
check what R does not cover (areas without a sample, the arcsine transformation, variance
smoothing) from first principles, and that bad input is refused with a clear message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import (
    ConvergenceError,
    EstimationError,
    StatsError,
    fay_herriot,
    smooth_vardir,
)

REF = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="module")
def milk():
    d = pd.read_csv(REF / "sae_milk.csv")
    d.index = pd.Index([f"a{i}" for i in d["SmallArea"]], name="area")
    X = pd.get_dummies(d["MajorArea"], prefix="MajorArea", prefix_sep="", drop_first=True).astype(float)
    X.insert(0, "(Intercept)", 1.0)
    return d["yi"], d["SD"] ** 2, X


@pytest.fixture(scope="module")
def zero():
    d = pd.read_csv(REF / "sae_areas.csv", dtype={"area": str})
    d = d[d["case"] == "zero"].set_index("area")
    X = d[["x1", "x2"]].copy()
    X.insert(0, "(Intercept)", 1.0)
    return d["y"], d["vardir"], X


# --- options and input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "reml"}, r"method='reml' is not a valid option; use exactly one of: REML, ML, FH"),
        ({"method": "RE"}, r"method='RE'"),
        ({"transform": "logit"}, r"transform='logit'.*none, arcsin"),
        ({"back_transform": "naive"}, r"back_transform applies only with transform='arcsin'"),
        ({"level": 95}, r"level=95 must be between 0 and 1"),
        ({"maxiter": 0}, r"maxiter=0 a positive integer"),
    ],
)
def test_options_refused(milk, kwargs, match):
    y, v, X = milk
    with pytest.raises(EstimationError, match=match):
        fay_herriot(y, v, X, **kwargs)


def test_labels_kept_and_aligned_by_label(milk):
    y, v, X = milk
    a = fay_herriot(y, v, X)
    rev = y.index[::-1]
    b = fay_herriot(y, v.reindex(rev), X.reindex(rev))
    assert list(a.estimates.index) == list(y.index)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    assert list(a.coefficients.index) == list(X.columns)
    with pytest.raises(EstimationError, match=r"index of vardir does not match the index of y"):
        fay_herriot(y, v.rename(lambda s: s + "x"), X)
    with pytest.raises(EstimationError, match=r"index of X does not match"):
        fay_herriot(y, v, X.iloc[:-1])
    with pytest.raises(EstimationError, match=r"repeats areas \['a1'\]"):
        fay_herriot(pd.concat([y, y.iloc[:1]]), v, X)


def test_bad_input_refused(milk):
    y, v, X = milk
    v0 = v.copy()
    v0.iloc[3] = 0.0
    with pytest.raises(EstimationError, match=r"vardir must be positive.*\['a4'\]"):
        fay_herriot(y, v0, X)
    Xn = X.copy()
    Xn.iloc[2, 1] = np.nan
    with pytest.raises(EstimationError, match=r"X has missing or infinite values for areas \['a3'\]"):
        fay_herriot(y, v, Xn)
    Xc = X.assign(dup=X["MajorArea2"] * 2)
    with pytest.raises(EstimationError, match=r"linearly dependent"):
        fay_herriot(y, v, Xc)
    with pytest.raises(EstimationError, match=r"3 sampled areas for 4 coefficients"):
        fay_herriot(y.where(y.index.isin(y.index[:3])), v, X)
    with pytest.raises(EstimationError, match=r"needs n_eff"):
        fay_herriot(y, None, X, transform="arcsin")
    with pytest.raises(EstimationError, match=r"vardir=None"):
        fay_herriot(y.clip(0, 1), v, X, transform="arcsin", n_eff=v * 0 + 50)
    with pytest.raises(EstimationError, match=r"n_eff is used only with transform='arcsin'"):
        fay_herriot(y, v, X, n_eff=v * 0 + 50)
    assert issubclass(EstimationError, StatsError)


def test_nonconvergence_is_an_error(milk):
    y, v, X = milk
    with pytest.raises(ConvergenceError, match=r"did not converge in 2 iterations.*raise maxiter"):
        fay_herriot(y, v, X, "REML", maxiter=2, precision=1e-12)


# --- the estimator from first principles ---------------------------------------------------


def test_eblup_and_parts(milk):
    y, v, X = milk
    f = fay_herriot(y, v, X, "REML", precision=1e-12)
    e = f.estimates
    A = f.variance
    np.testing.assert_allclose(e["gamma"], A / (A + v), rtol=1e-14)
    np.testing.assert_allclose(e["eblup"], e["gamma"] * y + (1 - e["gamma"]) * e["synthetic"], rtol=1e-13)
    np.testing.assert_allclose(e["mse"], e["g1"] + e["g2"] + 2 * e["g3"] - e["bias_term"], rtol=1e-14)
    assert (e["bias_term"] == 0).all()  # REML: no Datta–Lahiri bias term
    assert (e["mse"] < v).all()  # the EBLUP improves on every direct estimate of milk
    # REML SE of A: sqrt(2 / tr(P^2)) with the dense projection P (not formed by fay_herriot)
    Xm, Vi = X.to_numpy(), np.diag(1 / (A + v.to_numpy()))
    P = Vi - Vi @ Xm @ np.linalg.inv(Xm.T @ Vi @ Xm) @ Xm.T @ Vi
    assert f.variance_se == pytest.approx(np.sqrt(2 / np.trace(P @ P)), rel=1e-12)
    # REML: the score vanishes at the converged estimate
    py = P @ y.to_numpy()
    assert abs(-0.5 * np.trace(P) + 0.5 * py @ py) < 1e-8 * np.trace(P)
    lo, hi = e["eblup"] - 1.959963984540054 * np.sqrt(e["mse"]), e["eblup"] + 1.959963984540054 * np.sqrt(e["mse"])
    np.testing.assert_allclose(e["lower"], lo, rtol=1e-12)
    np.testing.assert_allclose(e["upper"], hi, rtol=1e-12)
    assert f.fit.loc[0, "n_sampled"] == 43 and f.fit.loc[0, "method"] == "REML"


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_variance_component_at_zero(zero, method):
    y, v, X = zero
    f = fay_herriot(y, v, X, method)
    e = f.estimates
    assert f.variance == 0.0 and f.variance_unbounded < 0
    assert (e["gamma"] == 0).all() and (e["g1"] == 0).all()
    np.testing.assert_array_equal(e["eblup"], e["synthetic"])
    # all synthetic: beta is weighted least squares with weights 1/D; MSE = g2 + 2 g3 - b
    Xm, D = X.to_numpy(), v.to_numpy()
    Q = np.linalg.inv(Xm.T @ (Xm / D[:, None]))
    beta = Q @ Xm.T @ (y.to_numpy() / D)
    np.testing.assert_allclose(e["synthetic"], Xm @ beta, rtol=1e-12)
    g2 = np.einsum("ij,jk,ik->i", Xm, Q, Xm)
    g3 = 2 / np.sum(D**-2) / D
    b = 0.0 if method == "REML" else -np.trace(Q @ Xm.T @ (Xm / D[:, None] ** 2)) / np.sum(D**-2)
    np.testing.assert_allclose(e["mse"], g2 + 2 * g3 - b, rtol=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML", "FH"])
def test_areas_without_sample(milk, method):
    y, v, X = milk
    full = fay_herriot(y, v, X, method, precision=1e-12)
    # two extra areas without a sample (NaN direct estimate; their vardir is not used)
    extra = pd.Index(["new1", "new2"], name="area")
    y2 = pd.concat([y, pd.Series(np.nan, index=extra)])
    v2 = pd.concat([v, pd.Series([np.nan, 123.0], index=extra)])
    X2 = pd.concat([X, pd.DataFrame([[1.0, 0, 1, 0], [1.0, 0, 0, 0]], index=extra, columns=X.columns)])
    f = fay_herriot(y2, v2, X2, method, precision=1e-12)
    assert f.variance == full.variance
    pd.testing.assert_frame_equal(f.estimates.loc[y.index], full.estimates)
    out = f.estimates.loc[extra]
    assert not out["sampled"].any() and (out["gamma"] == 0).all()
    beta = full.coefficients["estimate"].to_numpy()
    np.testing.assert_allclose(out["eblup"], X2.loc[extra].to_numpy() @ beta, rtol=1e-13)
    # MSE = A + x'Qx - b (b: first-order bias of the estimator of A; 0 for REML)
    A = full.variance
    Vi = 1 / (A + v.to_numpy())
    Xm = X.to_numpy()
    Q = np.linalg.inv(Xm.T @ (Xm * Vi[:, None]))
    xo = X2.loc[extra].to_numpy()
    b = {"REML": 0.0,
         "ML": -np.trace(Q @ Xm.T @ (Xm * Vi[:, None] ** 2)) / np.sum(Vi**2),
         "FH": 2 * (len(Vi) * np.sum(Vi**2) - np.sum(Vi) ** 2) / np.sum(Vi) ** 3}[method]
    np.testing.assert_allclose(out["mse"], A + np.einsum("ij,jk,ik->i", xo, Q, xo) - b, rtol=1e-12)
    assert (out["mse"] > full.estimates["mse"].max()).all()  # no sample: less certain than any sampled area


# --- shares near 0 and 1: arcsine square root -----------------------------------------------


def test_arcsin_back_transformation_formulas():
    rng = np.random.default_rng(3)
    m = 40
    x = rng.normal(size=m)
    n = rng.integers(10, 40, size=m)
    p = np.sin(np.clip(0.3 + 0.1 * x + rng.normal(scale=0.1, size=m), 0, np.pi / 2)) ** 2
    ph = rng.binomial(n, p) / n
    X = np.column_stack([np.ones(m), x])
    bc = fay_herriot(ph, None, X, transform="arcsin", n_eff=n).estimates
    nv = fay_herriot(ph, None, X, transform="arcsin", n_eff=n, back_transform="naive").estimates
    np.testing.assert_allclose(bc["direct"], ph)
    np.testing.assert_allclose(bc["vardir"], 1 / (4 * n))
    np.testing.assert_allclose(nv["estimate"], np.sin(nv["eblup"]) ** 2, rtol=1e-14)
    # bc: E[sin^2(theta)], theta ~ N(eblup, mse), by Gauss–Hermite quadrature
    t, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    th = bc["eblup"].to_numpy()[:, None] + np.sqrt(bc["mse"].to_numpy())[:, None] * t
    mean = (np.sin(th) ** 2) @ w
    np.testing.assert_allclose(bc["estimate"], mean, rtol=1e-10)
    np.testing.assert_allclose(bc["estimate_mse"], ((np.sin(th) ** 2 - mean[:, None]) ** 2) @ w, rtol=1e-8)
    np.testing.assert_allclose(
        nv["estimate_mse"], ((np.sin(th) ** 2 - nv["estimate"].to_numpy()[:, None]) ** 2) @ w, rtol=1e-8
    )
    assert ((bc["lower"] <= bc["estimate"]) & (bc["estimate"] <= bc["upper"])).all()
    assert ((bc["lower"] >= 0) & (bc["upper"] <= 1)).all()


def test_arcsin_coverage_for_shares_near_zero():
    """Simulation (fixed seed): true shares around 10% from a logistic model (so the arcsine
    linking model is only an approximation), binomial samples of 8 to 59 per area, about one
    area in eight with a direct share of 0. The 95% intervals cover the true share in 93–97%
    of 2,000 area-replicates (measured: 93.9%; 281 of the 2,000 direct shares are 0), and the modeled estimates have a lower mean
    squared error than the direct shares."""
    rng = np.random.default_rng(20261207)
    covered, zeros, err_model, err_direct = [], 0, [], []
    for _ in range(10):
        m = 200
        x = rng.normal(size=m)
        p = 1 / (1 + np.exp(-(-2.2 + 0.8 * x + rng.normal(scale=0.5, size=m))))
        n = rng.integers(8, 60, size=m)
        ph = rng.binomial(n, p) / n
        zeros += int((ph == 0).sum())
        e = fay_herriot(ph, None, np.column_stack([np.ones(m), x]), transform="arcsin", n_eff=n).estimates
        covered.append(((e["lower"] <= p) & (p <= e["upper"])).to_numpy())
        err_model.append(((e["estimate"] - p) ** 2).mean())
        err_direct.append(((ph - p) ** 2).mean())
    coverage = np.concatenate(covered).mean()
    assert zeros > 150
    assert 0.93 <= coverage <= 0.97, coverage
    assert np.mean(err_model) < 0.7 * np.mean(err_direct)


# --- generalised variance functions ----------------------------------------------------------


def test_gvf_loglinear():
    n = pd.Series([5, 10, 20, 40, 80, 0], index=list("abcdef"))
    exact = 0.3 / n.where(n > 0) ** 1.1
    g = smooth_vardir(exact, n)
    np.testing.assert_allclose(g.table["vardir_smoothed"].iloc[:5], exact.iloc[:5], rtol=1e-12)
    assert np.isnan(g.table.loc["f", "vardir_smoothed"])
    assert g.parameters["slope"] == pytest.approx(-1.1, rel=1e-12)
    # noisy variances and a zero one: smoothed on the fitted curve, times Duan's smearing factor
    noisy = exact * np.exp([0.3, -0.2, 0.1, -0.4, 0.2, 0.0])
    noisy["c"] = 0.0
    g = smooth_vardir(noisy, n)
    use = ["a", "b", "d", "e"]
    Z = np.column_stack([np.ones(4), np.log(n[use])])
    coef, *_ = np.linalg.lstsq(Z, np.log(noisy[use]), rcond=None)
    smear = np.mean(np.exp(np.log(noisy[use]) - Z @ coef))
    assert g.table.loc["c", "vardir_smoothed"] == pytest.approx(np.exp(coef[0] + coef[1] * np.log(20)) * smear)
    assert g.parameters["n_fit"] == 4
    with pytest.raises(EstimationError, match=r"method='log' is not a valid option"):
        smooth_vardir(noisy, n, "log")
    # a variance of 0 computed with rounding error (two respondents who agree: 5e-33) is 0, not a
    # point at log(v) = -74 that drags the fitted curve (on the fixture city it made the smoothed
    # variances of a neighborhood mean grow with n, to 1e8)
    rounding = noisy.copy()
    rounding["c"] = 5e-33
    np.testing.assert_allclose(smooth_vardir(rounding, n).table["vardir_smoothed"], g.table["vardir_smoothed"],
                               rtol=1e-12)


def test_gvf_proportion():
    n = pd.Series([10, 20, 40, 15], index=list("abcd"))
    y = pd.Series([0.2, 0.0, 0.3, 0.5], index=list("abcd"))
    v = 1.6 * y * (1 - y) / n  # design effect 1.6; area b has a zero variance
    g = smooth_vardir(v, n, "proportion", y=y)
    assert g.parameters["deff"] == pytest.approx(1.6)
    pbar = (n * y).sum() / n.sum()
    np.testing.assert_allclose(g.table["vardir_smoothed"], pbar * (1 - pbar) * 1.6 / n)
    np.testing.assert_allclose(g.table["n_eff"], n / 1.6)
    g2 = smooth_vardir(v, n, "proportion", y=y, p=0.25)
    np.testing.assert_allclose(g2.table["vardir_smoothed"], 0.25 * 0.75 * 1.6 / n)
    with pytest.raises(EstimationError, match=r"needs y"):
        smooth_vardir(v, n, "proportion")
    with pytest.raises(EstimationError, match=r"index of n does not match"):
        smooth_vardir(v, n.rename({"a": "z"}), "proportion", y=y)
