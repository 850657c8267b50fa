"""Property tests (hypothesis): invariants that must hold for any data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_pipeline.stats import Design


@st.composite
def surveys(draw):
    n = draw(st.integers(6, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    strata = rng.integers(0, 2, size=n)
    strata[:2] = [0, 0]
    strata[2:4] = [1, 1]
    return pd.DataFrame({
        "s": strata,
        "g": rng.choice(["a", "b", "c"], size=n),
        "y": rng.normal(10, 3, size=n),
        "w": rng.uniform(1, 5, size=n),
    })


@settings(max_examples=40, deadline=None)
@given(surveys())
def test_domain_totals_add_up_and_variances_are_nonnegative(df):
    d = Design(df, weights="w", strata="s")
    by = d.total("y", by="g")
    overall = d.total("y")
    assert np.isclose(by["estimate"].sum(), overall["estimate"].iloc[0])
    assert (by["se"] >= 0).all() and overall["se"].iloc[0] >= 0
    # a domain that is the whole sample reproduces the overall mean and SE
    whole = d.mean("y", by="s")
    m = d.mean("y")
    df2 = df.assign(one="x")
    m2 = Design(df2, weights="w", strata="s").mean("y", by="one")
    assert np.isclose(m2["estimate"].iloc[0], m["estimate"].iloc[0])
    assert np.isclose(m2["se"].iloc[0], m["se"].iloc[0])
    assert len(whole) == 2


@settings(max_examples=30, deadline=None)
@given(surveys(), st.floats(0.5, 3.0))
def test_scaling_weights_leaves_means_and_ses_unchanged(df, k):
    a = Design(df, weights="w", strata="s").mean("y")
    b = Design(df.assign(w=df["w"] * k), weights="w", strata="s").mean("y")
    assert np.isclose(a["estimate"].iloc[0], b["estimate"].iloc[0])
    assert np.isclose(a["se"].iloc[0], b["se"].iloc[0])
