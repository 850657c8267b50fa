"""Comparisons and evaluation on hand-checkable estimate rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from survey_pipeline.analysis.comparisons import area_pairs, findings, trends, wave_changes
from survey_pipeline.analysis.evaluation import did
from survey_pipeline.analysis.indicators import IndicatorSpec, indicator_specs
from survey_pipeline.analysis.settings import Evaluation
from survey_pipeline.errors import AnalysisError
from survey_pipeline.stats import Design


def est_rows(values):
    rows = []
    for wave, area, est, se, rel in values:
        rows.append({"wave": wave, "area_level": "neighborhood", "area": area, "group_dim": "all", "group": "all",
                     "indicator": "safe_night", "statistic": "share", "estimate": est, "se": se, "df": 1000.0,
                     "reliability": rel, "reliability_reason": None if rel == "ok" else "why"})
    return pd.DataFrame(rows)


def test_wave_change_sums_variances_and_names_the_change():
    e = est_rows([("w1", "9", 0.40, 0.03, "ok"), ("w2", "9", 0.30, 0.04, "ok"),
                  ("w1", "3", 0.50, 0.03, "ok"), ("w2", "3", 0.51, 0.03, "suppress")])
    c = wave_changes(e, ["w1", "w2"], adjust="holm").set_index("area")
    assert c.loc["9", "estimate"] == pytest.approx(-0.10)
    assert c.loc["9", "se"] == pytest.approx(0.05)
    assert c.loc["9", "p"] == pytest.approx(2 * sps.t.sf(2.0, 1000))
    # area 3's change is suppressed: not a test of the family, so Holm is over area 9 alone
    assert c.loc["9", "p_adj"] == pytest.approx(c.loc["9", "p"])
    assert c.loc["3", "reliability"] == "suppress"
    assert np.isfinite(c.loc["3", "p"]) and np.isnan(c.loc["3", "p_adj"]) and not c.loc["3", "significant"]
    f = findings(c.reset_index(), {"safe_night": "Safety at night"}, {"9": "Eastgate"}, {"w1": "spring 2025"})
    got = f.set_index("area")["finding"]
    assert got["9"].startswith("Safety at night in Eastgate fell 10 points")  # p_adj = p = 0.046 < 0.05
    assert got.isna()["3"]  # suppressed: never a finding
    c2 = wave_changes(est_rows([("w1", "9", 0.40, 0.02, "ok"), ("w2", "9", 0.30, 0.02, "ok")]), ["w1", "w2"])
    f2 = findings(c2, {"safe_night": "Safety at night"}, {"9": "Eastgate"}, {"w1": "spring 2025"})
    assert f2["finding"].iloc[0] == "Safety at night in Eastgate fell 10 points (95% CI 4 to 16) since spring 2025"  # se = 0.0283


def test_trend_is_the_wls_slope():
    e = est_rows([("w1", "9", 0.40, 0.02, "ok"), ("w2", "9", 0.45, 0.02, "ok"), ("w3", "9", 0.56, 0.02, "ok")])
    t = trends(e, ["w1", "w2", "w3"]).iloc[0]
    assert t["estimate"] == pytest.approx(0.08)  # (0.56 - 0.40) / 2
    assert t["se"] == pytest.approx(np.sqrt(2 * (0.5 * 0.02) ** 2))
    assert t["wave"] == "w3" and t["wave_ref"] == "w1"


def _pair_design():
    """Three neighborhoods of one wave, raked on sex (a margin across the neighborhoods)."""
    rng = np.random.default_rng(11)
    n = 900
    nb = rng.choice(["1", "2", "3"], n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["f", "m"], n)
    y = (rng.random(n) < 0.3 + 0.2 * (nb == "3") + 0.2 * (sex == "f")).astype(float)
    y[::17] = np.nan
    data = pd.DataFrame({"wave": "w1", "neighborhood": nb, "sex": sex, "safe_night": y,
                         "w": np.where(nb == "1", 10.0, 20.0) * rng.uniform(0.8, 1.2, n)})
    d = Design(data, weights="w", strata="wave").rake({("wave", "sex"): {("w1", "f"): 9000.0, ("w1", "m"): 6000.0}})
    spec = IndicatorSpec("safe_night", "safety", "share", "item", ("safe_night",), "share", positive=(1.0,))
    return d, spec


def test_area_pairs_within_wave_with_bh():
    d, spec = _pair_design()
    e = est_rows([("w1", "1", 0.4, 0.02, "ok"), ("w1", "2", 0.5, 0.02, "ok"), ("w1", "3", 0.6, 0.02, "flag")])
    p = area_pairs(d, e, [spec], adjust="fdr_bh")
    assert len(p) == 3 and set(zip(p["area"], p["area_ref"], strict=True)) == {("1", "2"), ("1", "3"), ("2", "3")}
    row = p[(p["area"] == "1") & (p["area_ref"] == "3")].iloc[0]
    assert row["estimate"] == pytest.approx(-0.2) and row["reliability"] == "flag"
    assert (p["p_adj"] >= p["p"]).all()
    # the SE is the design's, covariance of the two raked areas included (Design.difference)
    for r in p.itertuples():
        ref = d.difference("safe_night", "neighborhood", r.area, r.area_ref).iloc[0]
        assert r.se == pytest.approx(ref["se"], rel=1e-9)
        assert r.t == pytest.approx(r.estimate / ref["se"], rel=1e-9)
    m = d.mean("safe_night", by="neighborhood").set_index("neighborhood")["se"]
    indep = np.sqrt(m.loc[p["area"]].to_numpy() ** 2 + m.loc[p["area_ref"]].to_numpy() ** 2)
    assert np.max(np.abs(p["se"].to_numpy() / indep - 1)) > 1e-3  # the raking covariance matters


def test_compare_all_area_pairs_share_the_rest_contrasts_values(monkeypatch):
    """compare_all's area_pair rows are area_pairs' (the same numbers), with each indicator's
    values computed once for the rest contrasts and the pairs."""
    from survey_pipeline.analysis import comparisons
    from survey_pipeline.analysis.indicators import estimate_indicators
    from survey_pipeline.analysis.settings import AnalysisSettings

    d, spec = _pair_design()
    est = estimate_indicators(d, [spec], AnalysisSettings(groups=("sex",), min_n=5), levels=["city", "neighborhood"])
    alone = area_pairs(d, est, [spec], levels=("neighborhood",))
    calls = []
    real = comparisons.indicator_values
    monkeypatch.setattr(comparisons, "indicator_values", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    comp = comparisons.compare_all(d, est, [spec], ["w1"], min_n=5)
    assert len(calls) == 1  # not once more for the pairs
    got = comp[comp["kind"] == "area_pair"].reset_index(drop=True)
    assert len(got) == 3 and got["se"].notna().all()
    np.testing.assert_array_equal(got["se"].to_numpy(float), alone["se"].to_numpy(float))
    np.testing.assert_array_equal(got["p_adj"].to_numpy(float), alone["p_adj"].to_numpy(float))


def test_did_recovers_a_planted_effect(mini):
    rng = np.random.default_rng(7)
    n = 4000
    wave = rng.choice(["w1", "w2"], n)
    nb = rng.choice(["a", "b", "c", "d"], n)
    treated = np.isin(nb, ["a", "b"])
    p = 0.3 + 0.2 * ((wave == "w2") & treated) + 0.05 * (wave == "w2")
    y = np.where(rng.random(n) < p, 5.0, 2.0)
    data = pd.DataFrame({"wave": wave, "neighborhood": nb, "serious_drugs": y, "w": 1.0})
    d = Design(data, weights="w", strata="wave")
    specs = [s for s in indicator_specs(mini) if s.indicator == "serious_drugs"]
    r = did(d, specs, Evaluation("effort", ("a", "b"), "w2"), ["w1", "w2"]).iloc[0]
    assert r["kind"] == "did" and r["area"] == "a;b" and r["wave_ref"] == "w1"
    assert r["ci_low"] < 0.2 < r["ci_high"] and r["significant"]
    # without calibration, disjoint domains of one stratum and domains of different strata do
    # not covary: the SE is the root of the four variances
    se2 = []
    for w in ("w1", "w2"):
        for arm in (["a", "b"], ["c", "d"]):
            mask = (wave == w) & np.isin(nb, arm)
            se2.append(d.mean_of_array(np.where(mask, (y == 5.0).astype(float), np.nan))["se"].iloc[0] ** 2)
    assert r["se"] == pytest.approx(np.sqrt(sum(se2)), rel=1e-9)
    with pytest.raises(AnalysisError, match="not a neighborhood"):
        did(d, specs, Evaluation("effort", ("zz",), "w2"), ["w1", "w2"])
    with pytest.raises(AnalysisError, match="no wave before"):
        did(d, specs, Evaluation("effort", ("a",), "w1"), ["w1", "w2"])


def test_group_wave_changes_are_their_own_family_and_findings_name_the_group():
    from survey_pipeline.analysis.comparisons import group_phrase

    e = est_rows([("w1", "9", 0.40, 0.02, "ok"), ("w2", "9", 0.30, 0.02, "ok")])
    g = est_rows([("w1", "city", 0.60, 0.02, "ok"), ("w2", "city", 0.45, 0.02, "ok"),
                  ("w1", "city", 0.50, 0.02, "ok"), ("w2", "city", 0.51, 0.02, "ok")])
    g["area_level"] = "city"
    g["group_dim"] = "age_group"
    g["group"] = ["age_65_plus", "age_65_plus", "age_18_24", "age_18_24"]
    both = pd.concat([e, g], ignore_index=True)
    assert wave_changes(both, ["w1", "w2"])["group_dim"].eq("all").all()  # groups only when asked
    c = wave_changes(both, ["w1", "w2"], adjust="holm", groups=("age_group",))
    grp = c[c["group_dim"] == "age_group"].set_index("group")
    assert len(grp) == 2 and grp.loc["age_65_plus", "estimate"] == pytest.approx(-0.15)
    # Holm over the group family only (2 tests), not over the all-respondents row
    assert grp.loc["age_65_plus", "p_adj"] == pytest.approx(min(1, 2 * grp.loc["age_65_plus", "p"]))
    f = findings(c, {"safe_night": "Safety at night"}, {"9": "Eastgate"}, {"w1": "spring 2025"}, top=4)
    got = f[(f["group"] == "age_65_plus")]["finding"].iloc[0]
    assert got == "Safety at night among residents aged 65+ in the city fell 15 points (95% CI 9 to 21) since spring 2025"
    assert f[(f["group"] == "age_18_24")]["finding"].isna().all()  # not significant
    assert group_phrase("age_group", "age_18_24") == "residents aged 18–24"
    assert group_phrase("tenure", "rent") == "renters"
    assert group_phrase("language", "es") == "residents with language 'es'"


def test_findings_name_districts_and_keep_them_apart_from_neighborhood_codes():
    """A district and a neighborhood may share a code ("9"): each is named at its own level."""
    e = est_rows([("w1", "9", 0.40, 0.02, "ok"), ("w2", "9", 0.30, 0.02, "ok")])
    d = e.assign(area_level="district")
    c = wave_changes(pd.concat([e, d], ignore_index=True), ["w1", "w2"], adjust="holm")
    f = findings(c, {"safe_night": "Safety at night"}, {"9": "Eastgate"}, {"w1": "Spring 2025"}, top=4)
    got = dict(zip(f["area_level"], f["finding"], strict=True))
    assert got["neighborhood"].startswith("Safety at night in Eastgate fell 10 points")
    assert got["district"].startswith("Safety at night in the 9 district fell 10 points")
    f = findings(c, {"safe_night": "Safety at night"}, {"9": "Eastgate"}, top=4, district_names={"9": "District Nine"})
    assert dict(zip(f["area_level"], f["finding"], strict=True))["district"].startswith("Safety at night in District Nine")


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni"])
def test_adjust_families_equals_one_call_per_family(method):
    from survey_pipeline.analysis.comparisons import _adjust_families
    from survey_pipeline.stats import StatsError, adjust_pvalues

    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 120))
        p = rng.random(n) ** 3
        p[rng.random(n) < 0.1] = np.nan  # not tests
        p[rng.random(n) < 0.2] = p[0]  # ties
        p[rng.random(n) < 0.05] = 0.0
        fam = rng.integers(0, int(rng.integers(1, 12)), n)
        ref = np.full(n, np.nan)
        for f in np.unique(fam):
            ix = np.flatnonzero(fam == f)
            ref[ix] = adjust_pvalues(p[ix], method)
        np.testing.assert_array_equal(_adjust_families(p, fam, method), ref)
    with pytest.raises(StatsError):
        _adjust_families(np.array([0.1, 0.2]), np.array([0, 0]), "sidak")
