"""Domain degrees of freedom and proportion intervals for domains, against R's survey package.

``make_domain_df.R`` (survey 4.1-1; ``r_session_domain_df.txt``) writes ``r_domain_df.csv``:
for each domain, ``degf(subset(design, domain))`` and ``svyciprop(~I(sch.wide == "Yes"),
subset(design, domain), method = m)`` for the Korn–Graubard (``beta``), logit, asin, mean and
xlogit intervals, which use that df. ``Design.proportion(by=...)`` (default ``df="domain"``)
must give the same df and limits at 1e-8. It also records the second-stage variance term of
``svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2)``, which ``Design`` refuses (it would
otherwise be silently dropped).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import Design, DesignError

HERE = Path(__file__).parent
RTOL = 1e-8
METHODS = ["beta", "logit", "asin", "mean", "xlogit"]


@cache
def r_values() -> pd.DataFrame:
    return pd.read_csv(HERE / "r_domain_df.csv", keep_default_na=False, dtype={"domain": str})


@cache
def designs() -> dict[str, Design]:
    c2 = pd.read_csv(HERE / "apiclus2.csv")
    st = pd.read_csv(HERE / "apistrat.csv")
    return {
        "clus2": Design(c2, weights="pw", clusters=["dnum", "snum"]),
        "strat": Design(st, weights="pw", strata="stype", fpc="fpc"),
    }


CASES = sorted(c for c in r_values()["case"].unique() if not c.startswith("twostage"))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_domain_proportion_matches_svyciprop_on_subset(case, method):
    name, by = case.split(":")
    by = by.split("+")
    d = designs()[name]
    res = d.proportion("sch.wide", level="Yes", method=method, by=by)
    res.index = res[by].astype(str).agg("|".join, axis=1)
    r = r_values()[r_values()["case"] == case].pivot(index="domain", columns="quantity", values="value").astype(float)
    res = res.loc[r.index]
    np.testing.assert_array_equal(res["df"], r["df"])
    # R's svyciprop gives NaN (or a glm that did not converge) at 0 and 1; we give Korn–Graubard
    inner = (res["estimate"] > 0) & (res["estimate"] < 1)
    assert inner.sum() >= 2
    # logit and xlogit estimates come from R's glm (converged to ~1e-11)
    np.testing.assert_allclose(res.loc[inner, "estimate"], r.loc[inner, f"estimate:{method}"], rtol=RTOL)
    np.testing.assert_allclose(res.loc[inner, "ci_low"], r.loc[inner, f"ci_low:{method}"], rtol=RTOL)
    np.testing.assert_allclose(res.loc[inner, "ci_high"], r.loc[inner, f"ci_high:{method}"], rtol=RTOL)


def test_domain_df_differs_from_design_df():
    """The domain df is what changes the limits: with the whole design's df (R's svyby) the
    Korn–Graubard limits of apiclus2's high schools differ from svyciprop's on the subset."""
    d = designs()["clus2"]
    dom = d.domain_degf("stype").set_index("stype")["df"]
    assert d.degf == 39
    assert dom.to_dict() == {"E": 34.0, "H": 13.0, "M": 20.0}
    a = d.proportion("sch.wide", level="Yes", method="beta", by="stype").set_index("stype")
    b = d.proportion("sch.wide", level="Yes", method="beta", by="stype", df="design").set_index("stype")
    assert (b["df"] == 39).all()
    r = r_values()
    r_lo = float(r[(r["case"] == "clus2:stype") & (r["domain"] == "H") & (r["quantity"] == "ci_low:beta")]["value"].iloc[0])
    assert a.loc["H", "ci_low"] == pytest.approx(r_lo, rel=RTOL)
    assert abs(b.loc["H", "ci_low"] / r_lo - 1) > 1e-3


def test_second_stage_fpc_is_refused():
    c2 = pd.read_csv(HERE / "apiclus2.csv")
    with pytest.raises(DesignError, match=r"second or later stage is not supported"):
        Design(c2, weights="pw", clusters=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    # the first-stage fpc alone is R's svydesign(id = ~dnum, fpc = ~fpc1): the ultimate-cluster SE
    d = Design(c2, weights="pw", clusters=["dnum", "snum"], fpc=["fpc1"])
    r = r_values()
    r = r[r["case"] == "twostage:mean:api00"].set_index("quantity")["value"].astype(float)
    m = d.mean("api00")
    assert m["se"].iloc[0] == pytest.approx(r["se_ultimate_cluster"], rel=RTOL)
    assert r["se_two_stage"] / r["se_ultimate_cluster"] - 1 > 0.005  # what the refusal protects
