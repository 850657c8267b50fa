"""Role-driven indicators on hand-checkable data (the MINIMAL instrument)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis.indicators import (
    apply_reliability,
    cronbach_alpha,
    estimate_indicators,
    importance_satisfaction,
    indicator_specs,
    indicator_values,
    indicators_table,
    is_band,
    rank_with_uncertainty,
)
from survey_pipeline.analysis.prepare import derive_groups, wide_from_codes
from survey_pipeline.analysis.settings import AnalysisSettings
from survey_pipeline.stats import Design


def spec(specs, ind, stat="share"):
    return next(s for s in specs if s.indicator == ind and s.statistic == stat)


def test_specs_follow_roles_not_ids(mini):
    specs = indicator_specs(mini)
    ids = {(s.indicator, s.statistic) for s in specs}
    assert ("contact_fair", "share") in ids and ("contact_fair", "mean") in ids
    assert ("serious_drugs", "share") in ids
    assert ("priority_drugs", "share") in ids and ("priority_dept_police", "share") in ids
    assert ("index_legitimacy", "score") in ids
    assert not any(s.indicator.startswith("legit_") for s in specs)  # scale items only via the index
    table = indicators_table(specs, mini)
    row = table[(table["indicator"] == "serious_drugs") & (table["statistic"] == "share")].iloc[0]
    assert not row["higher_is_better"] and row["department"] == "police"
    assert {"label_en", "label_es", "wording_en", "wording_es"} <= set(table.columns)
    assert table.loc[table["indicator"] == "index_legitimacy", "variable"].iloc[0] == "legit_trust;legit_rude"


def test_share_excludes_and_counts_dont_know(mini, tiny):
    s = spec(indicator_specs(mini), "contact_fair")
    y, dk = indicator_values(tiny, s)
    assert np.array_equal(np.isnan(y), [False, False, False, True, True, False])
    assert np.nansum(y) == 2 and dk.sum() == 1


def test_index_reverse_keys_and_min_items(mini, tiny):
    s = spec(indicator_specs(mini), "index_legitimacy", "score")
    y, _ = indicator_values(tiny, s)
    # r0: (5 + (6-1))/2 = 5; r2: (1 + 1)/2 = 1; r3: only rude=4 -> 2 (min 1 item of 2)
    assert y[0] == 5 and y[2] == 1 and y[3] == 2 and y[5] == 3


def test_priority_top_n_and_department_rollup(mini, tiny):
    specs = indicator_specs(mini)
    y, _ = indicator_values(tiny, spec(specs, "priority_drugs"))
    assert np.array_equal(np.isnan(y), [False, False, False, True, True, False])
    assert y[[0, 1, 2, 5]].tolist() == [1, 1, 0, 1]
    y1, _ = indicator_values(tiny, indicator_specs(mini, top_n=1)[[s.indicator for s in indicator_specs(mini, top_n=1)].index("priority_drugs")])
    assert y1[[0, 1, 2, 5]].tolist() == [1, 0, 0, 1]
    d, _ = indicator_values(tiny, spec(specs, "priority_dept_police"))
    assert d[[0, 1, 2, 5]].tolist() == [1, 1, 1, 1]  # drugs or speeding in the top 2


def test_estimates_equal_weighted_means_and_count_dont_know(mini, tiny):
    data = tiny.assign(w=[1, 1, 2, 1, 1, 1.0], tenure=["own", "rent", "own", "own", "rent", "own"])
    d = Design(data, weights="w", strata="wave")
    specs = [s for s in indicator_specs(mini) if s.indicator == "contact_fair"]
    est = estimate_indicators(d, specs, AnalysisSettings(min_n=1, nchs=False), groups=("tenure",))
    city = est[(est["area_level"] == "city") & (est["group_dim"] == "all")].set_index("statistic")
    assert city.loc["share", "estimate"] == pytest.approx(2 / 5)  # (1 + 1) / (1 + 1 + 2 + 1)
    assert city.loc["mean", "estimate"] == pytest.approx((5 + 4 + 2 * 2 + 1) / 5)
    assert city.loc["share", "n"] == 4 and city.loc["share", "n_dont_know"] == 1
    nb = est[(est["area_level"] == "neighborhood") & (est["statistic"] == "share") & (est["group_dim"] == "all")]
    assert nb.set_index("area")["estimate"].to_dict() == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.0})
    assert set(est["group_dim"]) == {"all", "tenure"}
    ref = d.mean_of_array(indicator_values(d.data, specs[0])[0], by=["wave", "district"])
    got = est[(est["area_level"] == "district") & (est["statistic"] == "share") & (est["group_dim"] == "all")]
    assert got["se"].to_numpy() == pytest.approx(ref["se"].to_numpy(), rel=1e-10)


def test_reliability_rules():
    est = pd.DataFrame({"statistic": ["share", "share", "mean", "mean"], "estimate": [0.5, 0.5, 3.0, 3.0],
                        "ci_low": [0.45, 0.2, 2.8, 2.8], "ci_high": [0.55, 0.8, 3.2, 3.2], "df": [100, 100, 100, 5],
                        "n": [400, 400, 12, 400], "n_eff": [300, 300, 10, 300]})
    r = apply_reliability(est, min_n=30, nchs=True)
    assert r["reliability"].tolist() == ["ok", "suppress", "suppress", "flag"]
    assert r["reliability_reason"].iloc[1] == "CI width >= 0.30"
    assert r["reliability_reason"].iloc[2] == "fewer than 30 valid answers"


def test_cronbach_alpha_hand_checked():
    # two identical items: alpha = 2 * (1 - 2v / 4v) = 1; independent-ish items lower
    x = np.array([[1, 1], [2, 2], [3, 3], [4, 4.0]])
    assert cronbach_alpha(x) == pytest.approx(1.0)
    y = np.array([[1, 2, 3], [2, 2, 4], [3, 4, 4], [4, 5, 5], [2, np.nan, 1]])
    m = y[:4]
    k = 3
    expect = k / (k - 1) * (1 - m.var(0, ddof=1).sum() / m.sum(1).var(ddof=1))
    assert cronbach_alpha(y) == pytest.approx(expect)


def test_rank_ranges_and_is_bands():
    est = np.array([0.40, 0.38, 0.10])
    lo = np.array([0.35, 0.33, 0.07])
    hi = np.array([0.45, 0.43, 0.13])
    r, rl, rh = rank_with_uncertainty(est, lo, hi)
    assert r.tolist() == [1, 2, 3] and rl.tolist() == [1, 1, 3] and rh.tolist() == [2, 2, 3]
    assert is_band(np.array([0.25, 0.2, 0.15, 0.07, 0.01])).tolist() == ["highest", "highest", "high", "medium", "low"]


def test_wide_from_codes_and_groups(mini):
    raw = pd.DataFrame({"wave": ["w", "w", "w"], "contact": ["1", "", "2"], "contact_fair": ["8", "4", "9"]})
    wide = wide_from_codes(raw, mini)
    assert wide["contact_fair__missing"].tolist() == ["dont_know", None, "refused"]
    assert wide["contact__missing"].tolist() == [None, "skipped", None]
    assert np.isnan(wide["contact_fair"][0]) and wide["contact_fair"][1] == 4
    g = derive_groups(wide, mini)
    assert "race_ethnicity" not in g.columns  # the instrument has no race question


def test_importance_satisfaction_pairs_services():
    from survey_pipeline.instrument import load_instrument

    inst = load_instrument("resident")
    specs = indicator_specs(inst)
    rows = []
    for ind, stat, v in (("importance_street_lights", "share", 0.4), ("sat_service_street_lights", "share", 0.5),
                         ("importance_libraries", "share", 0.1), ("sat_service_libraries", "share", 0.9)):
        rows.append({"wave": "w", "area_level": "city", "area": "city", "group_dim": "all", "group": "all",
                     "indicator": ind, "statistic": stat, "estimate": v, "se": 0.01})
    out = importance_satisfaction(pd.DataFrame(rows), specs, inst).set_index("service")
    assert out.loc["street_lights", "is_score"] == pytest.approx(0.2)
    assert out.loc["street_lights", "band"] == "highest"
    assert out.loc["libraries", "is_score"] == pytest.approx(0.01) and out.loc["libraries", "band"] == "low"


def _priority_design(seed=4, n=900):
    from survey_pipeline.analysis.indicators import IndicatorSpec

    rng = np.random.default_rng(seed)
    first = rng.choice(4, size=n, p=[0.55, 0.2, 0.19, 0.06])
    df = pd.DataFrame({"wave": np.where(np.arange(n) < n // 2, "w1", "w2"), "w": rng.uniform(0.5, 2.0, n)})
    variables = ("p_a", "p_b", "p_c", "p_d")
    for j, v in enumerate(variables):
        df[v] = np.where(first == j, 1.0, np.nan)
    specs = [IndicatorSpec(f"priority_{v[2]}", "priority", "share", "priority", variables, "top 1",
                           positive=(float(j + 1),), top_n=1, codes=(1.0, 2.0, 3.0, 4.0))
             for j, v in enumerate(variables)]
    return Design(df, weights="w", strata="wave"), specs


def test_bootstrap_rank_intervals():
    from survey_pipeline.analysis.indicators import bootstrap_ranks

    d, specs = _priority_design()
    (lab, lo, hi), (_lab_all, lo2, hi2) = bootstrap_ranks(d, specs, [["wave"], []], replicates=200, seed=7)
    assert lab["wave"].tolist() == ["w1", "w2"]
    assert lo2.shape == (1, 4) and (lo2[0, 0], hi2[0, 0], lo2[0, 3], hi2[0, 3]) == (1, 1, 4, 4)  # both waves pooled
    for w in range(2):
        # clearly first and clearly last: a degenerate range
        assert (lo[w, 0], hi[w, 0]) == (1, 1) and (lo[w, 3], hi[w, 3]) == (4, 4)
        # a near tie (20% vs 19%): both ranges hold ranks 2 and 3
        assert lo[w, 1] == lo[w, 2] == 2 and hi[w, 1] == hi[w, 2] == 3
    # deterministic with a fixed seed
    again = bootstrap_ranks(d, specs, [["wave"], []], replicates=200, seed=7)
    assert np.array_equal(again[0][1], lo) and np.array_equal(again[1][2], hi2)
    # a narrower level cannot give a wider interval
    (_, lo90, hi90), _ = bootstrap_ranks(d, specs, [["wave"], []], replicates=200, seed=7, level=0.9)
    assert (lo90 >= lo).all() and (hi90 <= hi).all()


def test_bootstrap_ranks_of_a_domain_set_do_not_depend_on_the_others():
    """rank_tasks computes every area level at once and priorities_table takes the levels it
    needs: each set's ranks must be those it gets alone (the same draws, its own sums)."""
    from survey_pipeline.analysis.indicators import _bootstrap_rank_columns, bootstrap_ranks

    d, specs = _priority_design()
    d.data["area"] = np.where(np.arange(len(d.data)) % 3 == 0, "a", "b")
    (lab, lo, hi), (lab_a, lo_a, hi_a) = bootstrap_ranks(d, specs, [["wave"], ["wave", "area"]], replicates=50, seed=3)
    (lab1, lo1, hi1), = bootstrap_ranks(d, specs, [["wave"]], replicates=50, seed=3)
    (_lab2, lo2, hi2), = bootstrap_ranks(d, specs, [["wave", "area"]], replicates=50, seed=3)
    assert lab.equals(lab1) and np.array_equal(lo, lo1) and np.array_equal(hi, hi1)
    assert np.array_equal(lo_a, lo2) and np.array_equal(hi_a, hi2) and len(lab_a) == 4
    # precomputed ranks are used only when they are of the same problems, draws and levels
    out = pd.DataFrame({"wave": ["w1", "w2"] * 4, "area_level": "city", "area": "city",
                        "indicator": np.repeat([s.indicator for s in specs], 2), "rank": 1, "rank_low": 1,
                        "rank_high": 1})
    names = tuple(s.indicator for s in specs)
    fake = [(lab, lo * 0 + 9, hi * 0 + 9)]
    used = _bootstrap_rank_columns(out, d, specs, 50, 3, {(names, ("city",), 50, 3): fake})
    assert (used["rank_high"] == 9).all()
    for other in ({(names, ("city",), 50, 4): fake}, {(names[:3], ("city",), 50, 3): fake},
                  {(names, ("neighborhood",), 50, 3): fake}):
        own = _bootstrap_rank_columns(out, d, specs, 50, 3, other)
        assert own.equals(_bootstrap_rank_columns(out, d, specs, 50, 3, {}))
        assert (own["rank_high"] < 9).all()


def test_the_shared_values_cache_goes_with_its_frame():
    """A program's worker runs one member after another: an analysis must leave nothing behind.

    The cache of a frame holds objects that refer back to the frame (the cell domains keep the
    data); with the cache in a module-level table keyed by id(frame), the frame could never die
    and each member's analysis stayed in the worker (35-40 MB a member at 2,000 responses)."""
    import gc
    import weakref

    from survey_pipeline.analysis.indicators import _values_cache, share_values

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    share_values(frame)
    cache = _values_cache(frame)
    cache["holds the frame"] = frame  # as CellDomains and DomainMeans do
    assert _values_cache(frame) is cache
    assert _values_cache(frame.copy()) is not cache  # a copy has its own (empty) cache
    ref = weakref.ref(frame)
    del frame, cache
    gc.collect()
    assert ref() is None
