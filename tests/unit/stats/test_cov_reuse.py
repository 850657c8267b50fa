"""The variance engine's reuse (Design._cov_parts, Design._cov_blocks, svyglm_domains) gives
bitwise the numbers of the one-call-at-a-time path it replaces."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import Design, svyglm_arrays
from survey_pipeline.stats.errors import StatsError
from survey_pipeline.stats.regression import svyglm_domains

REF = Path(__file__).resolve().parents[2] / "reference"


def _pop() -> dict:
    pop = pd.read_csv(REF / "apipop.csv")
    return {"stype": pop["stype"].value_counts().to_dict(), "sch.wide": pop["sch.wide"].value_counts().to_dict()}


def _designs(apistrat: pd.DataFrame) -> dict[str, Design]:
    base = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    return {"plain": base, "raked": base.rake(_pop()),
            "two steps": base.rake(_pop()).poststratify("sch.wide", _pop()["sch.wide"]),
            "clusters": Design(apistrat, weights="pw", clusters="dnum").rake(_pop())}


def _influence(d: Design, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(d.n, 6)) * d.weights[:, None]
    s[rng.random(d.n) < 0.4, :3] = 0.0  # rows outside a domain: zero influence
    return s


def _fresh(d: Design) -> Design:
    """A copy of ``d`` without what its _cov calls kept."""
    new = copy.copy(d)
    new.__dict__.pop("_cov_cache", None)
    return new


@pytest.mark.parametrize("which", ["plain", "raked", "two steps", "clusters"])
def test_cov_blocks_and_repeated_calls_equal_single_calls(apistrat, which):
    d = _designs(apistrat)[which]
    s = _influence(d)
    first = _fresh(d)._cov(s)
    assert np.array_equal(d._cov(s), first)
    assert np.array_equal(d._cov(s), first)  # the second call reuses the parts: the same doubles
    blocks = d._cov_blocks(s, [slice(0, 3), slice(3, 6)])
    assert np.array_equal(blocks[0], _fresh(d)._cov(s[:, :3]))
    assert np.array_equal(blocks[1], _fresh(d)._cov(s[:, 3:]))


def test_a_derived_design_does_not_reuse_its_parents_parts(apistrat):
    base = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    s = _influence(base)
    base._cov(s)  # the parent's parts made first
    raked = base.rake(_pop())
    got = raked._cov(s)
    assert np.array_equal(got, _fresh(base.rake(_pop()))._cov(s))
    assert not np.allclose(got, base._cov(s))  # the raking changes the variance


def _model(apistrat: pd.DataFrame):
    df = apistrat.copy()
    y = np.array((df["api00"] > df["api00"].median()).astype(float))
    y[::17] = np.nan
    x = np.column_stack([(df["meals"] > 50).astype(float), (df["ell"] > 20).astype(float),
                         df["enroll"].to_numpy(float) / 1000])
    x[::23, 1] = np.nan
    return df, y, x, ["meals50", "ell20", "enroll"]


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_svyglm_domains_equals_one_fit_per_domain(apistrat, family):
    d = _designs(apistrat)["raked"]
    df, y, x, names = _model(apistrat)
    few = np.zeros(d.n, bool)
    few[np.flatnonzero(df["stype"].eq("H").to_numpy() & ~np.isnan(y) & ~np.isnan(x).any(axis=1))[:4]] = True
    domains = [df["stype"].eq(t).to_numpy() for t in ("E", "H", "M")] + [np.ones(d.n, bool), few]
    got = svyglm_domains(_fresh(d), y, x, names, domains, family=family)
    for dom, g in zip(domains[:4], got[:4], strict=True):
        ref = svyglm_arrays(_fresh(d), y, x, names, domain=dom, family=family)
        pd.testing.assert_frame_equal(g, ref, check_exact=True)
    assert isinstance(got[4], StatsError)  # too few complete cases: the error, in its place
    with pytest.raises(StatsError, match="complete case"):
        svyglm_arrays(d, y, x, names, domain=domains[4], family=family)
