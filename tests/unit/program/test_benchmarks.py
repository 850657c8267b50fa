"""Peer and outside benchmarks (pure): the arithmetic, suppression, small programs, references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.program import BENCHMARK_COLUMNS, external_benchmarks, peer_benchmarks


def _est(values, ses=None, rel=None, dfs=None, period="2026", ind="sat_police", stat="share"):
    k = len(values)
    return pd.DataFrame({
        "member": [f"m{i}" for i in range(k)], "wave": period, "period": period, "indicator": ind,
        "statistic": stat, "estimate": values, "se": ses if ses is not None else [0.02] * k,
        "df": dfs if dfs is not None else [200.0] * k, "reliability": rel if rel is not None else ["ok"] * k})


def test_difference_and_its_se_by_hand():
    b = peer_benchmarks(_est([0.50, 0.60, 0.70], ses=[0.01, 0.02, 0.03]), adjust="holm").set_index("member")
    assert list(b.reset_index().columns) == BENCHMARK_COLUMNS
    assert b.loc["m0", "mean"] == pytest.approx(0.6)
    assert b.loc["m0", "diff"] == pytest.approx(-0.1)
    # (1 - 1/3)^2 * 0.01^2 + (0.02^2 + 0.03^2) / 9
    assert b.loc["m0", "diff_se"] == pytest.approx(np.sqrt(4 / 9 * 1e-4 + (4e-4 + 9e-4) / 9))
    assert b.loc["m1", "diff"] == pytest.approx(0.0, abs=1e-15)
    assert b.loc["m1", "verdict"] == "not clearly different"
    assert b.loc["m0", "median"] == pytest.approx(0.6) and b.loc["m0", "q25"] == pytest.approx(0.55)
    assert list(b["percentile"]) == [0.0, 50.0, 100.0]
    assert b.loc["m0", "verdict"] == "lower" and b.loc["m2", "verdict"] == "higher"
    assert (b["n_members"] == 3).all() and (b["source"] == "program").all()


def test_a_suppressed_member_gets_no_number_and_no_test_and_is_not_in_the_distribution():
    b = peer_benchmarks(_est([0.5, 0.6, 0.7, 0.99], rel=["ok", "ok", "ok", "suppress"])).set_index("member")
    assert b.loc["m3", "verdict"] == "suppressed"
    assert np.isnan(b.loc["m3", "value"]) and np.isnan(b.loc["m3", "diff"]) and np.isnan(b.loc["m3", "p"])
    assert b.loc["m0", "n_members"] == 3 and b.loc["m0", "max"] == pytest.approx(0.7)
    # the others' family of tests has three members: the suppressed one is not a test
    assert b["p_adj"].notna().sum() == 3


def test_include_suppressed_counts_it_in_the_distribution_but_never_tests_it():
    b = peer_benchmarks(_est([0.5, 0.6, 0.7, 0.99], rel=["ok", "ok", "ok", "suppress"]),
                        include_suppressed=True).set_index("member")
    assert b.loc["m0", "n_members"] == 4 and b.loc["m0", "max"] == pytest.approx(0.99)
    assert b.loc["m3", "verdict"] == "suppressed" and np.isnan(b.loc["m3", "p"])


def test_too_few_members_give_no_benchmark():
    assert peer_benchmarks(_est([0.5, 0.6]), min_members=3).empty
    assert len(peer_benchmarks(_est([0.5, 0.6]), min_members=2)) == 2


def test_families_are_one_indicator_and_period():
    e = pd.concat([_est([0.5, 0.6, 0.7]), _est([0.5, 0.6, 0.7], period="2025"),
                   _est([3.0, 3.1, 3.9], ind="trust", stat="score")], ignore_index=True)
    b = peer_benchmarks(e, adjust="bonferroni")
    for _, g in b.groupby(["period", "indicator"]):
        assert np.allclose(g["p_adj"], np.minimum(g["p"] * 3, 1))
    assert len(b) == 9


def test_unknown_adjust_is_refused():
    with pytest.raises(ValueError):
        peer_benchmarks(_est([0.5, 0.6, 0.7]), adjust="magic")


def test_external_reference_tested_only_with_an_se():
    est = _est([0.50, 0.62, 0.70], ses=[0.02, 0.02, 0.02])
    ext = pd.DataFrame({"indicator": ["sat_police", "sat_police"], "statistic": "share", "value": [0.6, 0.55],
                        "low": [np.nan, 0.52], "high": [np.nan, 0.58], "se": [np.nan, 0.015],
                        "source": ["Gallup confidence in police", "Vendor norm"], "year": ["2024", "2025"]})
    b = external_benchmarks(est, ext)
    assert len(b) == 6 and (b["source"] == "external").all()
    gallup = b[b["source_label"] == "Gallup confidence in police"]
    assert (gallup["verdict"] == "reference only").all() and gallup["p"].isna().all()
    vendor = b[b["source_label"] == "Vendor norm"].set_index("member")
    assert vendor.loc["m0", "diff_se"] == pytest.approx(np.hypot(0.02, 0.015))
    assert vendor.loc["m2", "diff"] == pytest.approx(0.15)
    assert vendor.loc["m2", "verdict"] == "higher"
    assert vendor.loc["m0", "reference_low"] == pytest.approx(0.52)


def test_empty_inputs():
    assert peer_benchmarks(_est([]).iloc[:0]).empty
    assert external_benchmarks(_est([0.5]), pd.DataFrame(columns=["indicator", "statistic", "value", "source"])).empty
