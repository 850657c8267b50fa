"""Pure functions and invariants of the statistics core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from survey_pipeline.stats import (
    Design,
    DesignError,
    adjust_pvalues,
    calibrate_weights,
    nchs_reliability,
    proportion_ci,
    rake_weights,
    trim_weights,
    weight_diagnostics,
)

STYPE = {"E": 4421, "H": 755, "M": 1018}
SCH = {"Yes": 5122, "No": 1072}
METHODS = ["logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson"]


def test_wilson_matches_statsmodels_for_srs_with_infinite_df():
    p, n = 0.3, 200
    se = np.sqrt(p * (1 - p) / n)
    lo, hi = proportion_ci([p], [se], np.inf, [n], method="wilson")
    slo, shi = proportion_confint(60, 200, method="wilson")
    assert lo[0] == pytest.approx(slo, rel=1e-12)
    assert hi[0] == pytest.approx(shi, rel=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_intervals_contain_estimate(method):
    p = np.array([0.02, 0.3, 0.5, 0.97])
    se = np.array([0.01, 0.04, 0.05, 0.015])
    lo, hi = proportion_ci(p, se, 30, np.array([100, 100, 100, 100]), method=method)
    assert np.all(lo <= p) and np.all(p <= hi)


@pytest.mark.parametrize("method", METHODS)
def test_degenerate_estimates_get_korn_graubard_with_n(method):
    lo, hi = proportion_ci([0.0, 1.0], [0.0, 0.0], 20, [50, 50], method=method)
    # Clopper–Pearson with x = 0, n = 50: upper = 1 - (alpha/2)^(1/n)
    assert lo[0] == 0.0 and hi[0] == pytest.approx(1 - 0.025 ** (1 / 50))
    assert hi[1] == 1.0 and lo[1] == pytest.approx(0.025 ** (1 / 50))


def test_proportion_of_zero_in_design(apistrat):
    df = apistrat.assign(flag=np.where(apistrat["stype"] == "H", "yes", "no"))
    d = Design(df, weights="pw", strata="stype", fpc="fpc")
    res = d.proportion("flag", level="yes", method="logit", by="stype")
    e = res.set_index("stype").loc["E"]
    assert e["estimate"] == 0 and e["ci_low"] == 0 and 0 < e["ci_high"] < 0.05


def test_domain_uses_full_design_and_missing_is_a_domain(apiclus1):
    d = Design(apiclus1, weights="pw", clusters="dnum", fpc="fpc")
    y = apiclus1["api00"].where(apiclus1["stype"] != "H")
    d2 = Design(apiclus1.assign(y=y), weights="pw", clusters="dnum", fpc="fpc")
    a = d2.mean("y")
    b = d.mean("api00", by="stype")
    # mean with missing == mean over the non-missing domain, computed on the full design
    sub = apiclus1[apiclus1["stype"] != "H"]
    assert a["estimate"].iloc[0] == pytest.approx(np.average(sub["api00"], weights=sub["pw"]))
    assert a["df"].iloc[0] == d.degf == 14
    assert set(b["stype"]) == {"E", "H", "M"}


def test_by_two_columns(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    res = d.mean("api00", by=["stype", "sch.wide"])
    assert len(res) == 6
    assert list(res.columns[:2]) == ["stype", "sch.wide"]
    tot = d.total("enroll", by=["stype", "sch.wide"])["estimate"].sum()
    assert tot == pytest.approx(d.total("enroll")["estimate"].iloc[0])


def test_jackknife_equals_taylor_for_srs_mean():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.normal(size=50), "w": np.full(50, 3.0)})
    d = Design(df, weights="w")
    assert d.replicate("jackknife").mean("y")["se"].iloc[0] == pytest.approx(
        d.mean("y")["se"].iloc[0], rel=1e-10)


def test_bootstrap_is_seeded_and_close(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    a = d.replicate("bootstrap", replicates=300, seed=7).mean("api00")["se"].iloc[0]
    b = d.replicate("bootstrap", replicates=300, seed=7).mean("api00")["se"].iloc[0]
    assert a == b
    assert a == pytest.approx(d.mean("api00")["se"].iloc[0], rel=0.15)


def test_rake_meets_margins_within_bounds(apistrat):
    d = Design(apistrat, weights="pw")
    r = d.rake({"stype": STYPE, "sch.wide": SCH}, bounds=(0.8, 1.25))
    assert r.weighting_report.converged
    assert r.weighting_report.max_error < 1e-10
    g = r.weights / d.weights
    assert g.min() >= 0.8 - 1e-12 and g.max() <= 1.25 + 1e-12
    tot = pd.Series(r.weights).groupby(apistrat["stype"]).sum()
    assert tot.to_dict() == pytest.approx(STYPE, rel=1e-9)


def test_rake_joint_margin(apistrat):
    d = Design(apistrat, weights="pw")
    joint = {(s, y): STYPE[s] * SCH[y] / 6194 for s in STYPE for y in SCH}
    r = d.rake({("stype", "sch.wide"): joint})
    assert r.weights.sum() == pytest.approx(6194)


def test_raking_function_equals_raking_calibration(apistrat):
    w0 = apistrat["pw"].to_numpy()
    c1 = pd.factorize(apistrat["stype"], sort=True)[0]
    c2 = pd.factorize(apistrat["sch.wide"], sort=True)[0]
    t1 = np.array([STYPE[k] for k in sorted(STYPE)], float)
    t2 = np.array([SCH[k] for k in sorted(SCH)], float)
    w, _ = rake_weights(w0, [c1, c2], [t1, t2])
    x = np.column_stack([np.eye(3)[c1], np.eye(2)[c2]])
    g, _ = calibrate_weights(x, w0, np.concatenate([t1, t2]), method="raking")
    assert w == pytest.approx(w0 * g, rel=1e-8)


def test_linear_calibration_closed_form(apistrat):
    w0 = apistrat["pw"].to_numpy()
    x = np.column_stack([np.ones(len(w0)), apistrat["api99"]])
    pop = np.array([6194.0, 3914069.0])
    g, rep = calibrate_weights(x, w0, pop)
    lam = np.linalg.solve((x * w0[:, None]).T @ x, pop - x.T @ w0)
    assert g == pytest.approx(1 + x @ lam, rel=1e-10)
    assert rep.iterations == 1


def test_calibration_reduces_se_of_correlated_variable(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    c = d.calibrate({"_N": 6194, "api99": 3914069})
    assert c.mean("api00")["se"].iloc[0] < 0.5 * d.mean("api00")["se"].iloc[0]


def test_trim_preserves_total_and_records():
    w = np.array([1.0, 1, 1, 1, 10, 20])
    t, rep = trim_weights(w, upper=8)
    assert t.sum() == pytest.approx(w.sum())
    assert t.max() <= 8 + 1e-9
    assert rep.n_trimmed_high >= 2 and rep.weight_moved > 0
    assert set(rep.trimmed_rows) >= {4, 5}


def test_design_trim(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    t = d.trim(upper=40)
    assert t.weights.max() <= 40 + 1e-9
    assert t.trim_report is not None and t.weights.sum() == pytest.approx(d.weights.sum())


def test_design_trim_by_group_keeps_each_group_total():
    df = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 5 + ["c"] * 2, "w": [1, 1, 1, 1, 16, 2, 2, 2, 2, 12, 50, 1.0]})
    d = Design(df, weights="w", strata="g")
    # a global cap would move weight between the groups; per group, each total is kept
    t = d.trim(upper={"a": 8.0, "b": 6.0}, by="g")
    assert pd.Series(t.weights).groupby(df["g"]).sum().tolist() == pytest.approx([20, 20, 51], rel=1e-12)
    assert t.weights[4] == pytest.approx(8.0) and t.weights[9] == pytest.approx(6.0)
    assert t.weights[:4] == pytest.approx([3.0] * 4) and t.weights[10] == 50  # c: no bound given
    assert t.trim_report.n_trimmed_high == 2 and t.trim_report.upper is None
    assert t.trim_report.trimmed_rows.tolist() == [4, 9]
    with pytest.raises(DesignError, match="by="):
        d.trim(upper={"a": 8.0})


def test_weight_diagnostics():
    w = np.array([1.0, 2, 3, 4])
    diag = weight_diagnostics(w)
    assert diag["n_eff"] == pytest.approx(100 / 30)
    assert diag["deff_w"] == pytest.approx(1 + diag["cv"] ** 2)
    assert diag["ratio"] == 4


def test_adjust_pvalues():
    p = np.array([0.01, 0.04, 0.03, np.nan])
    holm = adjust_pvalues(p, "holm")
    assert holm[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(holm[3])
    bh = adjust_pvalues(p, "fdr_bh")
    assert bh[:3] == pytest.approx([0.03, 0.04, 0.04])


def test_nchs_rules():
    res = pd.DataFrame({
        "estimate": [0.5, 0.5, 0.05, 0.5, 0.0, 0.3],
        "ci_low": [0.45, 0.30, 0.01, 0.40, 0.0, 0.25],
        "ci_high": [0.55, 0.65, 0.12, 0.60, 0.04, 0.35],
        "df": [30, 30, 30, 5, 30, 30],
        "n": [400, 400, 400, 400, 100, 20],
        "n_eff": [300, 300, 300, 300, np.nan, 100],
    })
    out = nchs_reliability(res, min_count=25)
    assert out["reliability"].tolist() == ["ok", "suppress", "suppress", "flag", "flag",
                                           "suppress"]
    assert "0.30" in out["reason"][1] and "130%" in out["reason"][2]
    assert "df" in out["reason"][3] and "raw count" in out["reason"][5]


def test_glm_gaussian_equals_wls_point_estimates(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    res = d.glm("api00", ["ell", "meals"])
    x = np.column_stack([np.ones(200), apistrat["ell"], apistrat["meals"]])
    w = apistrat["pw"].to_numpy()
    beta = np.linalg.solve((x * w[:, None]).T @ x, (x * w[:, None]).T @ apistrat["api00"])
    assert res["estimate"].to_numpy() == pytest.approx(beta, rel=1e-9)
    assert (res["df"] == d.degf - 2).all()


def test_results_are_tidy(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    res = d.ratio("api.stu", "enroll", by="stype")
    assert list(res.columns) == ["stype", "estimate", "se", "ci_low", "ci_high", "df", "n",
                                 "n_eff", "deff"]


def test_fpc_as_fraction_equals_population_size(apistrat):
    a = Design(apistrat, weights="pw", strata="stype", fpc="fpc").mean("api00")
    frac = apistrat.assign(f=apistrat.groupby("stype")["stype"].transform("size") / apistrat["fpc"])
    b = Design(frac, weights="pw", strata="stype", fpc="f").mean("api00")
    assert a["se"].iloc[0] == pytest.approx(b["se"].iloc[0], rel=1e-12)


def test_quantile_by_domain(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    q = d.quantile("api00", [0.5], by="stype")
    assert list(q["stype"]) == ["E", "H", "M"]
    med_e = d.data.loc[d.data["stype"] == "E", "api00"].sort_values()
    assert q["estimate"].iloc[0] in set(med_e)


def test_replicate_replays_weighting(apistrat):
    d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    r = d.rake({"stype": STYPE, "sch.wide": SCH})
    rep = r.replicate("jackknife")
    assert rep.weights.sum() == pytest.approx(6194)
    assert rep.replicate_weights.sum(axis=0) == pytest.approx(np.full(200, 6194.0))
    taylor = r.mean("api00")["se"].iloc[0]
    assert rep.mean("api00")["se"].iloc[0] == pytest.approx(taylor, rel=0.05)


def test_multistage_uses_first_stage_only(apistrat):
    two = Design(apistrat, weights="pw", clusters=["dnum", "snum"]).mean("api00")
    one = Design(apistrat, weights="pw", clusters="dnum").mean("api00")
    assert two["se"].iloc[0] == one["se"].iloc[0]


def test_dotted_names_and_calibrate_level_keys(apistrat):
    d = Design(apistrat, weights="pw")
    c = d.calibrate({"_N": 6194, ("sch.wide", "Yes"): 5122})
    res = c.proportion("sch.wide", level="Yes", method="beta")
    assert res["estimate"].iloc[0] == pytest.approx(5122 / 6194)
    assert res["se"].iloc[0] == pytest.approx(0, abs=1e-7)  # calibrated exactly
