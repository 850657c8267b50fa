"""Weighting per wave on small inline data: targets, base weights, raking, collapsing, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.analysis._domains import domain_means
from survey_pipeline.analysis.settings import WeightingSettings, load_settings
from survey_pipeline.analysis.weighting import area_lookup, read_targets, wave_targets, weight_waves
from survey_pipeline.errors import ProjectError, WeightingError
from survey_pipeline.stats import Design

TARGETS = """\
wave,area,variable,category,population
w1,city,sex,female,600
w1,city,sex,male,400
all,city,sex,female,500
all,city,sex,male,500
w2,city,sex,female,520
w2,city,sex,male,480
w1,city,neighborhood,1,700
w1,city,neighborhood,2,300
w2,city,neighborhood,1,690
w2,city,neighborhood,2,310
all,city,age_group,young,300
all,city,age_group,mid,300
all,city,age_group,old,400
"""


@pytest.fixture
def targets(tmp_path):
    p = tmp_path / "targets.csv"
    p.write_text(TARGETS)
    return read_targets(p)


def frame(seed=1, n=200):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "response_id": [f"r{i}" for i in range(n)],
        "wave": np.where(np.arange(n) < n // 2, "w1", "w2"),
        "neighborhood": rng.choice(["A Town", "B Side"], n, p=[0.5, 0.5]),
        "sex": rng.choice(["female", "male", None], n, p=[0.55, 0.4, 0.05]),
        "age_group": rng.choice(["young", "mid", "old"], n, p=[0.2, 0.3, 0.5]),
        "y": rng.normal(size=n),
    })


AREAS = {"1": "A Town", "2": "B Side", "a town": "A Town", "b side": "B Side"}


def test_wave_rows_win_over_all(targets):
    t = wave_targets(targets, "w1")
    assert t["sex"] == {"female": 600, "male": 400}
    assert t["age_group"]["old"] == 400
    assert list(t["neighborhood"]) == ["1", "2"]


def test_raking_meets_every_wave_margin_and_records_imputation(targets):
    f = frame()
    r = weight_waves(f, targets, WeightingSettings(trim=None, min_cell=1), areas=AREAS)
    w = r.design.weights
    d = r.design.data
    for wave, fem, nb1 in (("w1", 600, 700), ("w2", 520, 690)):
        rows = (d["wave"] == wave).to_numpy()
        assert w[rows & (d["_m_sex"] == "female").to_numpy()].sum() == pytest.approx(fem, rel=1e-6)
        assert w[rows & (d["_m_neighborhood"] == "A Town").to_numpy()].sum() == pytest.approx(nb1, rel=1e-6)
        assert w[rows].sum() == pytest.approx(1000, rel=1e-6)
    diag = r.diagnostics.set_index(["wave", "metric"])
    assert diag.loc[("w1", "imputed_sex"), "value"] == f[(f.wave == "w1")]["sex"].isna().sum()
    assert diag.loc[("w1", "max_margin_error"), "value"] < 1e-6
    assert {"kish_n_eff", "deff_weighting", "weight_min", "weight_max"} <= set(diag.loc["w1"].index)
    assert r.weights["response_id"].tolist() == f["response_id"].tolist()


def test_base_weights_from_invitations(targets):
    f = frame()
    inv = {("w1", "1"): 70.0, ("w1", "2"): 60.0}
    s = WeightingSettings(margins=("neighborhood",), trim=None, min_cell=1)
    r = weight_waves(f, targets, s, invitations=inv, areas=AREAS)
    b = r.weights.set_index("response_id")["base_weight"]
    w1 = f["wave"] == "w1"
    ratio = b[(w1 & (f.neighborhood == "A Town")).to_numpy()].iloc[0] / b[(w1 & (f.neighborhood == "B Side")).to_numpy()].iloc[0]
    assert ratio == pytest.approx((700 / 70) / (300 / 60))
    assert (b[(~w1).to_numpy()].nunique()) == 1  # no invitations recorded for w2: uniform


def test_empty_cell_is_collapsed_and_recorded(targets):
    f = frame()
    f.loc[(f.wave == "w2") & (f.age_group == "young"), "age_group"] = "mid"
    r = weight_waves(f, targets, WeightingSettings(trim=None, min_cell=1), areas=AREAS)
    diag = r.diagnostics.set_index(["wave", "metric"])
    assert diag.loc[("w2", "collapsed_age_group"), "detail"] == "young+mid"
    d = r.design.data
    rows = (d["wave"] == "w2") & (d["_m_age_group"] == "young+mid")
    assert r.design.weights[rows.to_numpy()].sum() == pytest.approx(600, rel=1e-6)


def test_missing_margin_and_bad_targets_are_clear(targets, tmp_path):
    with pytest.raises(WeightingError, match="no city margin for tenure"):
        weight_waves(frame(), targets, WeightingSettings(margins=("sex", "tenure")), areas=AREAS)
    p = tmp_path / "bad.csv"
    p.write_text("wave,area,variable,category,population\nw1,city,sex,female,lots\n")
    with pytest.raises(WeightingError, match="row\\(s\\) 2") as e:
        read_targets(p)
    assert e.value.fix


def test_unreachable_bounds_raise_with_fix(targets):
    with pytest.raises(WeightingError) as e:
        weight_waves(frame(), targets, WeightingSettings(bounds=(0.99, 1.01), trim=None, min_cell=1), areas=AREAS)
    assert "bounds" in e.value.fix


def test_area_lookup_maps_codes_names_labels(mini):
    amap = area_lookup(pd.Series(["Downtown", "Oak Hill"]), None,
                       pd.DataFrame({"code": ["1", "2"], "name": ["Downtown", "Oak Hill"]}))
    assert amap["1"] == "Downtown" and amap["oak hill"] == "Oak Hill"


def test_domain_means_equal_design_mean_of_array(targets):
    f = frame(seed=3, n=300)
    r = weight_waves(f, targets, WeightingSettings(min_cell=1), areas=AREAS)
    d: Design = r.design
    y = d.data["y"].to_numpy().copy()
    y[::7] = np.nan
    sets = [["wave"], ["wave", "neighborhood"], ["wave", "neighborhood", "age_group"]]
    for by, got in zip(sets, domain_means(d, y, sets), strict=True):
        ref = d.mean_of_array(y, by=by)
        m = got.merge(ref, on=by, suffixes=("", "_ref"))
        assert len(m) == len(ref)
        assert m["estimate"].to_numpy() == pytest.approx(m["estimate_ref"].to_numpy(), rel=1e-12)
        assert m["se"].to_numpy() == pytest.approx(m["se_ref"].to_numpy(), rel=1e-10)
        assert m["deff"].to_numpy() == pytest.approx(m["deff_ref"].to_numpy(), rel=1e-10)


def test_settings_are_checked(tmp_path):
    p = tmp_path / "survey.toml"
    p.write_text('[weighting]\nbounds = [2, 3]\ncolour = "red"\n[analysis]\nadjust = "hochberg"\ngroups = ["tenure"]\n'
                 '[reporting]\nmin_n = 50\n')
    with pytest.raises(ProjectError) as e:
        load_settings(p)
    rules = sorted(pr.rule for pr in e.value.problems)
    assert rules == ["bad-setting", "bad-setting", "unknown-key"]
    p.write_text('[weighting]\nrecode = {tenure = {no_rent = "rent"}}\n[analysis]\ngroups = ["tenure"]\n'
                 '[[analysis.evaluations]]\nareas = ["Eastgate"]\nstart_wave = "w2"\n[reporting]\nmin_n = 50\n')
    ws, st = load_settings(p)
    assert ws.recode == {"tenure": {"no_rent": "rent"}} and st.groups == ("tenure",) and st.min_n == 50
    assert st.evaluations[0].areas == ("Eastgate",)




def test_cell_moments_equal_the_general_path(targets):
    from survey_pipeline.analysis._domains import cell_domains

    f = frame(seed=5, n=400)
    f["tenure"] = np.where(np.arange(400) % 3 == 0, "rent", "own")
    r = weight_waves(f, targets, WeightingSettings(min_cell=1), areas=AREAS)
    d = r.design
    y = (d.data["y"].to_numpy() > 0).astype(float)
    y[::5] = np.nan
    dk = np.isnan(y)
    sets = [["wave"], ["wave", "neighborhood"], ["wave", "neighborhood", "tenure"], ["wave", "age_group"]]
    cd = cell_domains(d, ["wave", "neighborhood", "tenure", "age_group"])
    assert cd is not None
    for (lab_f, fast), (lab_g, gen) in zip(cd.means(y, sets, count=dk),
                                            domain_means(d, y, sets, count=dk, as_arrays=True), strict=True):
        assert lab_f.astype(str).equals(lab_g.astype(str))
        for k in ("estimate", "se", "n", "n_eff", "deff", "count"):
            assert fast[k] == pytest.approx(gen[k], rel=1e-10, nan_ok=True), k


def test_rest_of_city_from_totals_equals_the_general_path(targets):
    from survey_pipeline.analysis._domains import cell_domains

    f = frame(seed=9, n=400)
    r = weight_waves(f, targets, WeightingSettings(min_cell=1), areas=AREAS)
    d = r.design
    y = d.data["y"].to_numpy().copy()
    y[::6] = np.nan
    cd = cell_domains(d, ["wave", "neighborhood"])
    lab, fast = cd.rest_means(y, "neighborhood")
    for i, row in lab.iterrows():
        rest = np.where(d.data["neighborhood"].astype(str).to_numpy() == row["neighborhood"], None, "rest")
        ref = domain_means(d, y, [["wave", rest]])[0].set_index("wave").loc[row["wave"]]
        assert fast["estimate"][i] == pytest.approx(ref["estimate"], rel=1e-10)
        assert fast["se"][i] == pytest.approx(ref["se"], rel=1e-9)
        assert fast["n"][i] == ref["n"]
