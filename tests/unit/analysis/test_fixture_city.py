"""The whole analysis core on the fixture city (generic exports, no store) against its ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis.results import analyze_frame
from survey_pipeline.analysis.settings import AnalysisSettings, Evaluation, WeightingSettings
from survey_pipeline.analysis.weighting import read_targets

from .fixture_city import (
    GeneratorTruth,
    city_dir,
    city_frame,
    city_instrument,
    ground_truth,
    invitations,
    judge_findings,
    sae_measurements,
    truth_cells,
)

EFFORT = ("problem_litter_dumping", "problem_street_lighting", "sat_service_street_lights",
          "sat_service_trash_recycling")


@pytest.fixture(scope="module")
def run():
    gt = ground_truth()
    effort = gt["planted"]["problem_solving"]
    settings = AnalysisSettings(groups=("tenure",), evaluations=(
        Evaluation("litter and lighting", tuple(str(c) for c in effort["neighborhoods"]), effort["from_wave"],
                   EFFORT),))
    return analyze_frame(city_frame(), city_instrument(), targets=read_targets(city_dir() / "census_targets.csv"),
                         weighting=WeightingSettings(recode={"tenure": {"no_rent": "rent"}}),
                         settings=settings, invitations=invitations())


def test_estimates_cover_the_truth_at_the_expected_rate(run):
    truth = pd.DataFrame(ground_truth()["indicators"])
    truth["area"] = truth["area"].astype(str)
    est = run.tables["estimates"]
    est = est[~est["method"].str.startswith("modeled")]  # the direct rows (modeled ones: test below)
    e = est[(est["group_dim"] == "all") & (est["statistic"] == "share")]
    m = truth.rename(columns={"level": "area_level", "variable": "indicator"}).merge(
        e, on=["wave", "area_level", "area", "indicator"])
    assert len(m) == len(truth[truth["level"] != "beat"])  # every true value has its estimate
    shown = m[m["reliability"] != "suppress"]
    inside = (shown["ci_low"] <= shown["share_positive"]) & (shown["share_positive"] <= shown["ci_high"])
    # nominal 95%; weighting cannot remove all nonresponse bias, so a little lower is expected
    assert 0.85 <= inside.mean() <= 1.0, inside.mean()
    city = m[m["area_level"] == "city"]
    assert (np.abs(city["estimate"] - city["share_positive"]) < 0.06).all()


def test_named_findings_are_true_changes_or_few_false_discoveries(run):
    """Every all-resident wave-change, area-vs-rest and DiD finding against the generator's truth.

    No finding may point the wrong way (a real change of the other sign). Findings with no real
    change (|true| < 1 point) are false discoveries. Measured (seed 20240415): 6 named, 5 real
    (Eastgate's night-safety drop, the four litter and lighting DiDs) and 1 false, a wave change
    to 2026-spring: "Problem parks ... in Southside rose 22 points" (true change -0.03
    points: the 2025-spring sample drew 27.6% "serious" of 199 against a true 40.4%, z = -3.5
    given its make-up). With the whole design's df instead of each domain's (before), "Naming a
    problem of Code Enforcement as a top priority in Cedar Park fell 38 points" (true share 0.572
    in every wave) was a second false one. Benjamini-Hochberg bounds the *expected*
    share of false rejections in each family at 5%; the 2026-spring neighborhood family (739
    tests, suppressed changes are not tests) has 3 rejections, so one realization can hold 2
    false ones among those 3.
    The bound asserted (a third) holds for this fixture and catches new noise findings.
    """
    comp = run.tables["comparisons"]
    named = comp[comp["finding"].notna() & (comp["group_dim"] == "all")
                 & comp["kind"].isin(["wave_change", "area_vs_rest", "did"])]
    true, known, real = judge_findings(named)
    wrong = named[real & (np.sign(true) != np.sign(named["estimate"]))]
    assert wrong.empty, wrong["finding"].tolist()
    false = named[known & ~real]
    assert known.sum() >= 5 and real.sum() >= 5
    assert len(false) / known.sum() <= 1 / 3, false["finding"].tolist()
    # the planted drop is among the real ones
    night = ground_truth()["planted"]["night_safety_drop"]
    hit = named[real & (named["indicator"] == night["variable"]) & (named["area"] == str(night["neighborhood"]))]
    assert len(hit) == 1


def test_comparison_intervals_cover_the_true_differences(run):
    """The tests BH adjusts are calibrated: the 95% CIs of the shown all-resident wave changes and
    area-vs-rest differences cover the generator's true difference at about the nominal rate.

    Measured: ordinal items, wave changes 95.7% of 1,337 (z SD 0.94), area vs rest 94.2% of 1,993
    (SD 1.04); priorities with a true share of 10% or more 92.5% of 482 and 94.6% of 734. Rare
    priorities (true share < 10%) are left out: their Wald intervals of an area against the rest
    cover only 80% (SD 1.41; docs/analysis.md).
    """
    comp = run.tables["comparisons"]
    cells = truth_cells()
    rows = comp[(comp["group_dim"] == "all") & comp["kind"].isin(["wave_change", "area_vs_rest"])
                & (comp["reliability"] != "suppress") & (comp["statistic"] == "share")
                & comp["indicator"].isin(set(cells["variable"])) & (comp["area_level"] != "beat")]
    level_share = cells.set_index(["wave", "level", "area", "variable"])["share_positive"]
    share = np.array([level_share[(r.wave, r.area_level, r.area, r.indicator)] for r in rows.itertuples()])
    truth = GeneratorTruth()
    true = np.array([truth.difference(r) for _, r in rows.iterrows()], dtype=float)
    inside = (rows["ci_low"].to_numpy() <= true) & (true <= rows["ci_high"].to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):   # a rare priority at 0 in both waves: SE 0
        z = (rows["estimate"].to_numpy() - true) / rows["se"].to_numpy()
    priority = rows["indicator"].str.startswith("priority_").to_numpy()
    for kind in ("wave_change", "area_vs_rest"):
        item = (rows["kind"] == kind).to_numpy() & ~priority
        assert item.sum() > 1000, kind
        assert 0.93 <= inside[item].mean() <= 0.97, (kind, inside[item].mean())
        assert 0.85 <= np.std(z[item]) <= 1.15, (kind, np.std(z[item]))
        common = (rows["kind"] == kind).to_numpy() & priority & (share >= 0.1)
        assert common.sum() > 300, kind
        assert 0.9 <= inside[common].mean() <= 0.98, (kind, inside[common].mean())


def test_thin_neighborhoods_are_suppressed(run):
    thin = ground_truth()["planted"]["thin_neighborhoods"]
    est = run.tables["estimates"]
    nb = est[(est["area_level"] == "neighborhood") & (est["group_dim"] == "all") & ~est["method"].str.startswith("modeled")]
    for code in thin["codes"]:
        rel = nb[nb["area"] == str(code)]["reliability"]
        assert (rel == "suppress").mean() > 0.9, code
    others = nb[~nb["area"].isin([str(c) for c in thin["codes"]])]
    assert (others[others["indicator"] == "safe_nbhd_day"]["reliability"] != "suppress").mean() > 0.8
    assert set(run.tables["diagnostics"]["kind"]) >= {"sample", "weighting", "scale_alpha", "reliability_rule"}


def test_modeled_estimates_against_the_truth(run):
    """Issue 13's measurements (the regression guard of the small-area rows): modeled 95% intervals
    cover the generator's truth near the nominal rate at both levels, the modeled estimate is
    closer to the truth than the direct one where the direct is suppressed, and most cells get a
    number. Printed for the record (pytest -s)."""
    got = sae_measurements(run.tables["estimates"])
    cov, mse, shown = got["coverage"], got["mse"], got["shown"]
    print("\n", cov.round(3), "\n", mse, "\n", shown.round(3))
    assert set(cov.index.get_level_values(0)) == {"beat", "neighborhood"}
    assert (cov["cells"] > 1000).all()
    assert cov["coverage"].between(0.88, 0.99).all(), cov
    assert 0.90 <= (cov["coverage"] * cov["cells"]).sum() / cov["cells"].sum() <= 0.97
    # issue 13's goal per level is 93-97%. Measured: neighborhoods 93.3%, beats 97.4% (with REML
    # alone, no adjusted ML variance component where REML gives 0, neighborhoods had 92.2%). The
    # beats' intervals are conservative where a beat has 5+ answers (98% of means, 97.5% of shares
    # hold the truth): allowed up to 97.5% here, and said so in docs/small-area.md
    by_level = (cov["coverage"] * cov["cells"]).groupby(level=0).sum() / cov["cells"].groupby(level=0).sum()
    assert 0.93 <= by_level["neighborhood"] <= 0.97 and 0.93 <= by_level["beat"] <= 0.975, by_level
    assert (mse["mse_modeled"] < 0.6 * mse["mse_direct"]).all(), mse
    # measured: neighborhoods 59.7% -> 95.5% (issue 13's goal: 95%), beats 0.9% -> 83.0% (goal 90%,
    # not met: rare shares; docs/small-area.md)
    assert shown.loc["neighborhood", "before"] < 0.65 < 0.95 <= shown.loc["neighborhood", "after"]
    assert shown.loc["beat", "before"] < 0.05 < 0.80 <= shown.loc["beat", "after"]
    est = run.tables["estimates"]
    modeled = est[est["method"].str.startswith("modeled")]
    assert (modeled["method"] == "modeled (Fay–Herriot)").all()
    assert set(modeled["area_level"]) == {"neighborhood", "beat"} and set(modeled["group_dim"]) == {"all"}
    assert not modeled.duplicated(["wave", "area_level", "area", "indicator", "statistic"]).any()
    assert (modeled["se"] > 0).all() and (modeled["ci_low"] <= modeled["estimate"]).all()
    assert (modeled["estimate"] <= modeled["ci_high"]).all()
    shares = modeled[modeled["statistic"] == "share"]
    assert shares["estimate"].between(0, 1).all()
    # the reliability rule: ok up to 25% relative RMSE, flag to 50%, and a reason whenever not ok
    assert modeled.loc[modeled["reliability"] != "ok", "reliability_reason"].notna().all()
    # comparisons use the direct rows: a neighborhood's wave change is the difference of its direct
    # estimates (its modeled estimates differ)
    comp = run.tables["comparisons"]
    wc = comp[(comp["kind"] == "wave_change") & (comp["area_level"] == "neighborhood") & (comp["group_dim"] == "all")]
    assert len(wc) > 100
    key = ["area", "indicator", "statistic"]
    for method, same in ((~est["method"].str.startswith("modeled"), True), (est["method"].str.startswith("modeled"), False)):
        e = est[method & (est["area_level"] == "neighborhood") & (est["group_dim"] == "all")].set_index(["wave", *key])
        now = e["estimate"].reindex(pd.MultiIndex.from_frame(wc[["wave", *key]])).to_numpy()
        ref = e["estimate"].reindex(pd.MultiIndex.from_frame(wc[["wave_ref", *key]])).to_numpy()
        assert np.allclose(wc["estimate"].to_numpy(float), now - ref) == same
    assert (run.tables["diagnostics"]["kind"] == "small_area").any()


def _true_did(variable: str, treated: list[str], start: str) -> float:
    """The population DiD of the generator: population-weighted shares, post waves pooled."""
    truth = pd.DataFrame(ground_truth()["indicators"])
    t = truth[(truth["level"] == "neighborhood") & (truth["variable"] == variable)].copy()
    tg = pd.read_csv(city_dir() / "census_targets.csv", dtype={"category": str, "area": str})
    pop = tg[(tg["area"] == "city") & (tg["variable"] == "neighborhood")].drop(columns="area").rename(
        columns={"category": "area", "population": "pop"})[["wave", "area", "pop"]]
    t = t.merge(pop, on=["wave", "area"])
    t["post"] = t["wave"] >= start
    t["arm"] = t["area"].isin(treated)
    g = t.groupby(["post", "arm"]).apply(lambda d: np.average(d["share_positive"], weights=d["pop"]),
                                         include_groups=False)
    return float((g[(True, True)] - g[(False, True)]) - (g[(True, False)] - g[(False, False)]))


def test_planted_changes_are_recovered_and_findings_written(run):
    gt = ground_truth()["planted"]
    comp = run.tables["comparisons"]
    did = comp[(comp["kind"] == "did") & (comp["wave"] == gt["problem_solving"]["from_wave"])].set_index("indicator")
    effort = gt["problem_solving"]
    treated = [str(c) for c in effort["neighborhoods"]]
    for var in EFFORT:
        truth = _true_did(var, treated, effort["from_wave"])
        row = did.loc[var]
        assert row["ci_low"] <= truth <= row["ci_high"], (var, truth, row["estimate"])
    # the problem items fall in the effort areas (the planted direction)
    assert did.loc["problem_street_lighting", "estimate"] < 0 and did.loc["problem_litter_dumping", "estimate"] < 0
    # only significant, reliable changes get a sentence
    sig = comp["finding"].notna()
    assert comp.loc[sig, "significant"].all() and (comp.loc[sig, "reliability"] != "suppress").all()
    night = gt["night_safety_drop"]
    wc = comp[(comp["kind"] == "wave_change") & (comp["indicator"] == night["variable"])
              & (comp["area"] == str(night["neighborhood"])) & (comp["wave"] == night["wave"])].iloc[0]
    drop = night["true_after"] - night["true_before"]
    assert wc["estimate"] < 0 and wc["ci_low"] <= drop <= wc["ci_high"]
    # the planted drop (20 points, Eastgate oversampled) survives the adjustment over the wave
    # pair's ~1,600 neighborhood comparisons and is written up by name
    assert wc["significant"]
    assert wc["finding"].startswith(f"Feeling safe (Your neighborhood, at night) in {night['name']} fell ")
    assert wc["finding"].endswith("since 2025-spring")


def test_priorities_and_importance_satisfaction(run):
    pr = run.tables["priorities"]
    city = pr[(pr["area_level"] == "city")]
    for _, g in city.groupby("wave"):
        assert sorted(g["rank"]) == list(range(1, len(g) + 1))
        assert ((g["rank_low"] <= g["rank"]) & (g["rank"] <= g["rank_high"])).all()
    iss = run.tables["importance_satisfaction"]
    assert set(iss["band"]) <= {"highest", "high", "medium", "low"} and len(iss) > 0
    assert np.allclose(iss["is_score"], iss["importance"] * (1 - iss["satisfaction"]))


def test_without_targets_estimates_are_not_all_suppressed():
    """Weights of 1 (no targets file): the effective n of the reliability rules is n, not 0.

    Before, n_eff came from R's design effect against sampling without replacement from
    N = sum of weights = n, which is infinite, so every estimate was suppressed."""
    frame = city_frame()
    frame = frame[frame["wave"] == frame["wave"].iloc[0]]
    res = analyze_frame(frame, city_instrument(), settings=AnalysisSettings(groups=()))
    est = res.tables["estimates"]
    city = est[est["area_level"] == "city"]
    assert (city["n_eff"] > 0.5 * city["n"]).all()
    assert (city["reliability"] != "suppress").mean() > 0.9


def test_small_area_setting_is_honoured_and_works_without_targets():
    """Without targets the modeled rows still come (areas weigh equally in the benchmarking, no
    population shares); ``small_area = false`` gives none and the same direct rows."""
    from survey_pipeline.analysis.settings import from_settings
    from survey_pipeline.settings import parse_settings

    _, off = from_settings(parse_settings("[analysis]\ngroups = []\nsmall_area = false\n"))
    assert off.small_area is False and AnalysisSettings().small_area is True
    frame = city_frame()
    frame = frame[frame["wave"] == frame["wave"].iloc[0]]
    on = analyze_frame(frame, city_instrument(), settings=AnalysisSettings(groups=())).tables["estimates"]
    without = analyze_frame(frame, city_instrument(), settings=off).tables["estimates"]
    modeled = on["method"].str.startswith("modeled")
    assert modeled.sum() > 1000 and set(on.loc[modeled, "area_level"]) == {"neighborhood", "beat"}
    assert not without["method"].str.startswith("modeled").any()
    pd.testing.assert_frame_equal(on[~modeled].reset_index(drop=True), without.reset_index(drop=True))
