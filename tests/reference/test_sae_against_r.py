"""Fay–Herriot EBLUP and MSE against R's sae package (eblupFH, mseFH).

``make_sae.R`` (sae 1.3; ``r_session_sae.txt``) writes ``r_sae.csv`` from sae's documented
``milk`` example (``sae_milk.csv``) and two synthetic cases (``sae_areas.csv``): ``areas`` (a
positive variance component, two areas without a sample) and ``zero`` (REML and ML truncate the
variance component at 0; sae's FH iteration does not converge). ``*_tight`` cases rerun with
``PRECISION = 1e-12``. CI reads the committed numbers and never needs R. Compared at 1e-8
relative (the issue asks for 1e-6).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import ConvergenceError, fay_herriot

HERE = Path(__file__).parent
RTOL = 1e-8
METHODS = ["REML", "ML", "FH"]


@cache
def r_values() -> pd.DataFrame:
    r = pd.read_csv(HERE / "r_sae.csv", keep_default_na=False, dtype={"area": str})
    r["value"] = r["value"].astype(float)
    return r


def r_case(case: str, method: str) -> pd.DataFrame:
    r = r_values()
    return r[(r["case"] == case) & (r["method"] == method)]


def r_scalar(rc: pd.DataFrame, quantity: str) -> float:
    return float(rc.loc[rc["quantity"] == quantity, "value"].iloc[0])


def r_area(rc: pd.DataFrame, quantity: str) -> pd.Series:
    s = rc[rc["quantity"] == quantity].set_index("area")["value"]
    s.index.name = "area"
    return s


@cache
def milk() -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    d = pd.read_csv(HERE / "sae_milk.csv")
    d.index = pd.Index(d["SmallArea"].astype(str), name="area")
    X = pd.get_dummies(d["MajorArea"], prefix="MajorArea", prefix_sep="", drop_first=True).astype(
        float
    )
    X.insert(0, "(Intercept)", 1.0)
    return d["yi"], d["SD"] ** 2, X


@cache
def synthetic(case: str) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    d = pd.read_csv(HERE / "sae_areas.csv", dtype={"area": str})
    d = d[d["case"] == case].set_index("area")
    X = d[["x1", "x2"]].copy()
    X.insert(0, "(Intercept)", 1.0)
    return d["y"], d["vardir"], X


def data_for(case: str):
    base = case.removesuffix("_tight")
    return milk() if base == "milk" else synthetic(base)


CASES = [
    (c, m)
    for c in ["milk", "milk_tight", "areas", "areas_tight", "zero"]
    for m in METHODS
    if (c, m) != ("zero", "FH")
]


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize(("case", "method"), CASES)
def test_fay_herriot_matches_sae(case, method):
    y, vardir, X = data_for(case)
    rc = r_case(case, method)
    fit = fay_herriot(y, vardir, X, method, precision=1e-12 if case.endswith("_tight") else 1e-4)
    assert fit.iterations == r_scalar(rc, "iterations")
    A = r_scalar(rc, "refvar")
    if A == 0:
        assert fit.variance == 0.0
        assert fit.variance_unbounded < 0
    else:
        assert fit.variance == pytest.approx(A, rel=RTOL, abs=0)
    est = fit.estimates
    sampled = est[est["sampled"]]
    eblup, mse = r_area(rc, "eblup"), r_area(rc, "mse")
    assert list(sampled.index) == list(eblup.index)
    assert rel(sampled["eblup"], eblup) < RTOL
    assert rel(sampled["mse"], mse) < RTOL
    np.testing.assert_allclose(sampled["estimate"], eblup, rtol=RTOL)
    for term in X.columns:
        assert fit.coefficients.loc[term, "estimate"] == pytest.approx(
            r_scalar(rc, f"beta:{term}"), rel=RTOL
        )
        assert fit.coefficients.loc[term, "se"] == pytest.approx(
            r_scalar(rc, f"se:{term}"), rel=RTOL
        )
    assert fit.loglike == pytest.approx(r_scalar(rc, "loglike"), rel=RTOL)
    if A == 0:  # all synthetic: EBLUP = x'beta, no g1
        np.testing.assert_allclose(sampled["eblup"], sampled["synthetic"], rtol=0, atol=0)
        assert (sampled["g1"] == 0).all()
    out = rc[rc["quantity"] == "synthetic_out"]
    if len(out):
        nos = est[~est["sampled"]]
        assert list(nos.index) == list(out["area"])
        assert rel(nos["eblup"], r_area(rc, "synthetic_out")) < RTOL
        assert rel(nos["mse"], r_area(rc, "mse_out")) < RTOL


def test_fh_nonconvergence_as_in_sae():
    rc = r_case("zero", "FH")
    assert r_scalar(rc, "convergence") == 0
    y, vardir, X = synthetic("zero")
    with pytest.raises(ConvergenceError, match=r"did not converge in 100 iterations"):
        fay_herriot(y, vardir, X, "FH")


def test_sae_default_stops_early():
    """sae's default PRECISION=1e-4 stops before the estimator has converged: the default and
    the tight REML variance components of milk differ by more than 1e-6 (so the test above
    really checks the stopping rule, and the tight cases the converged estimator)."""
    a = r_scalar(r_case("milk", "REML"), "refvar")
    b = r_scalar(r_case("milk_tight", "REML"), "refvar")
    assert abs(a / b - 1) > 1e-6
