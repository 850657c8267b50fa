"""Sample-size planning: hand-computed values, allocations that add up, the citywide MOE, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_pipeline.errors import PlanError
from survey_pipeline.instrument.plan import (
    citywide_moe,
    completes_for_moe,
    moe_for_completes,
    plan_sample,
    read_area_populations,
)

Z = 1.959963984540054  # qnorm(0.975)


def areas(*pops, names=None) -> pd.DataFrame:
    return pd.DataFrame({"area": names or [f"a{i}" for i in range(len(pops))], "population": list(pops)})


def test_completes_hand_computed():
    # n0 = 1.96^2 * .25 / .05^2 = 384.15 -> 385; with N = 1000: 384.15 / (1 + 383.15/1000) = 277.7 -> 278
    assert completes_for_moe(0.05) == 385
    assert completes_for_moe(0.05, 1000) == 278
    # deff 1.5: n0 = 576.2 -> 577; p = .3: n0 = 1.96^2 * .21 / .0025 = 322.7 -> 323
    assert completes_for_moe(0.05, deff=1.5) == 577
    assert completes_for_moe(0.05, p=0.3) == 323
    # 90% confidence: 1.6449^2 * .25 / .0025 = 270.6 -> 271
    assert completes_for_moe(0.05, confidence=0.90) == 271
    # a tiny area: never more than everyone
    assert completes_for_moe(0.05, 20) == 20


def test_achieved_moe_inverts_the_formula():
    # 278 completes of 1000 give just under 5 points; 385 from an infinite population too
    assert moe_for_completes(278, 1000) == pytest.approx(Z * math.sqrt(0.25 / 278 * 722 / 999))
    assert moe_for_completes(278, 1000) < 0.05 < moe_for_completes(277, 1000)
    assert moe_for_completes(385) < 0.05 < moe_for_completes(384)
    assert moe_for_completes(20, 20) == 0.0
    assert moe_for_completes(0, 100) == math.inf


def test_minimum_allocation_meets_the_target_everywhere():
    plan = plan_sample(areas(1000, 3000, 20, 10**7), 0.05, response_rate=0.2)
    assert list(plan.columns[:5]) == ["area", "population", "completes", "moe_achieved", "invitations"]
    assert plan["completes"].tolist() == [278, 341, 20, 385]
    assert plan["invitations"].tolist() == [1390, 1705, 100, 1925]
    assert plan["meets_target"].all() and (plan["moe_achieved"] <= 0.05).all()
    floor = plan_sample(areas(1000, 3000, 20), 0.05, min_per_area=300)
    assert floor["completes"].tolist() == [300, 341, 20]


@pytest.mark.parametrize("allocation", ["proportional", "equal"])
@pytest.mark.parametrize("total", [600, 601, 999])
def test_split_allocations_add_up(allocation, total):
    plan = plan_sample(areas(1000, 3000, 20, 7), 0.05, allocation=allocation, total=total)
    assert plan["completes"].sum() == total
    assert (plan["completes"] <= plan["population"]).all()


def test_proportional_and_equal_hand_computed():
    prop = plan_sample(areas(1000, 3000), 0.05, allocation="proportional", total=400)
    assert prop["completes"].tolist() == [100, 300]
    eq = plan_sample(areas(1000, 3000, 20), 0.05, allocation="equal", total=600)
    # 200 each, but the area of 20 takes all 20 and the other two share the rest: 290 + 290
    assert eq["completes"].tolist() == [290, 290, 20]
    assert eq["meets_target"].tolist() == [True, False, True]
    assert eq["moe_achieved"].iloc[1] == pytest.approx(Z * math.sqrt(0.25 / 290 * 2710 / 2999))
    # largest remainder: 1000/4020*600 = 149.25, 447.76, 2.99 -> 149, 448, 3
    prop3 = plan_sample(areas(1000, 3000, 20), 0.05, allocation="proportional", total=600)
    assert prop3["completes"].tolist() == [149, 448, 3]
    floored = plan_sample(areas(1000, 3000, 20), 0.05, allocation="proportional", total=600, min_per_area=100)
    assert floored["completes"].tolist() == [145, 435, 20]


def test_citywide_moe_two_areas_by_hand():
    plan = pd.DataFrame({"area": ["a", "b"], "population": [1000, 3000], "completes": [200, 300]})
    # W = .25, .75; var_a = .25/200 * 800/999; var_b = .25/300 * 2700/2999
    var = 0.25**2 * (0.25 / 200 * 800 / 999) + 0.75**2 * (0.25 / 300 * 2700 / 2999)
    assert citywide_moe(plan) == pytest.approx(Z * math.sqrt(var), rel=1e-12)
    assert citywide_moe(plan) == pytest.approx(0.043145, abs=1e-6)
    # the design effect scales the variance
    assert citywide_moe(plan, deff=2.0) == pytest.approx(math.sqrt(2) * citywide_moe(plan), rel=1e-12)
    # a census of one area leaves only the other's error
    census = plan.assign(completes=[1000, 300])
    assert citywide_moe(census) == pytest.approx(Z * math.sqrt(0.75**2 * 0.25 / 300 * 2700 / 2999), rel=1e-12)


def test_citywide_moe_below_each_area():
    plan = plan_sample(areas(1000, 3000, 5000), 0.05)
    assert citywide_moe(plan) < plan["moe_achieved"].min()


@pytest.mark.parametrize(("kwargs", "rule"), [
    ({"allocation": "proportional"}, "missing-total"),
    ({"allocation": "equal"}, "missing-total"),
    ({"total": 500}, "total-with-minimum"),
    ({"allocation": "optimal", "total": 10}, "bad-allocation"),
    ({"allocation": "equal", "total": 10**6}, "total-too-large"),
    ({"allocation": "equal", "total": 100, "min_per_area": 60}, "total-too-small"),
    ({"response_rate": 0}, "bad-parameter"),
    ({"response_rate": 1.5}, "bad-parameter"),
    ({"deff": 0}, "bad-parameter"),
    ({"p": 1}, "bad-parameter"),
])
def test_bad_options_are_refused(kwargs, rule):
    with pytest.raises(PlanError) as exc:
        plan_sample(areas(1000, 3000), 0.05, **kwargs)
    assert exc.value.rule == rule and exc.value.fix


def test_bad_moe_and_population():
    with pytest.raises(PlanError, match="moe must be between 0 and 1"):
        plan_sample(areas(1000), 5)
    with pytest.raises(PlanError, match="population 0"):
        plan_sample(areas(1000, 0), 0.05)


# --- the areas file ------------------------------------------------------------------------------


def test_read_areas_csv_and_geojson(tmp_path: Path):
    csv = tmp_path / "areas.csv"
    csv.write_text('Neighborhood,Households\nDowntown,"1,200"\nNorth,800\n', encoding="utf-8")
    got = read_area_populations(csv)
    assert got.to_dict("list") == {"area": ["Downtown", "North"], "population": [1200, 800]}
    assert got.attrs["population_kind"] == "Households"
    gj = tmp_path / "areas.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A", "adults": 500}, "geometry": None},
        {"type": "Feature", "properties": {"name": "B", "adults": 1500}, "geometry": None}]}), encoding="utf-8")
    assert read_area_populations(gj).to_dict("list") == {"area": ["A", "B"], "population": [500, 1500]}


def test_read_areas_errors_name_file_columns_and_row(tmp_path: Path):
    with pytest.raises(PlanError) as exc:
        read_area_populations(tmp_path / "none.csv")
    assert exc.value.problems[0].rule == "file-not-found"
    p = tmp_path / "nopop.csv"
    p.write_text("area,people_count\nA,10\n", encoding="utf-8")
    with pytest.raises(PlanError) as exc:
        read_area_populations(p)
    prob = exc.value.problems[0]
    assert prob.rule == "missing-column" and prob.file == str(p)
    assert "Columns found: area, people_count" in prob.message and "households" in prob.message
    p.write_text("area,population,households\nA,10,4\n", encoding="utf-8")
    assert read_area_populations(p)["population"].tolist() == [10]
    assert read_area_populations(p, "Households")["population"].tolist() == [4]
    with pytest.raises(PlanError) as exc:
        read_area_populations(p, "adults")
    assert "no column 'adults'" in exc.value.render()
    p.write_text("area,population\nA,10\nB,\nC,x\n", encoding="utf-8")
    with pytest.raises(PlanError) as exc:
        read_area_populations(p)
    prob = exc.value.problems[0]
    assert prob.rule == "bad-population" and prob.row == 3 and prob.column == "population" and "2 such rows" in prob.message
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(PlanError) as exc:
        read_area_populations(bad)
    assert exc.value.problems[0].rule == "unreadable"


@settings(max_examples=60, deadline=None)
@given(pops=st.lists(st.integers(1, 5000), min_size=1, max_size=12), frac=st.floats(0.01, 1.0),
       allocation=st.sampled_from(["proportional", "equal"]), floor=st.one_of(st.none(), st.integers(1, 50)))
def test_split_allocation_properties(pops, frac, allocation, floor):
    total = max(1, int(sum(pops) * frac))
    floors = sum(min(p, floor or 0) for p in pops)
    if floors > total:
        with pytest.raises(PlanError):
            plan_sample(areas(*pops), 0.05, allocation=allocation, total=total, min_per_area=floor)
        return
    plan = plan_sample(areas(*pops), 0.05, allocation=allocation, total=total, min_per_area=floor)
    assert plan["completes"].sum() == total
    assert (plan["completes"] <= plan["population"]).all()
    if floor:
        assert (plan["completes"] >= [min(p, floor) for p in pops]).all()


@pytest.mark.parametrize(("pops", "total", "floor"), [([1, 1, 1, 1, 204], 13, 3), ([1, 1, 158], 5, 2)])
def test_equal_split_with_tiny_areas_and_a_floor(pops, total, floor):
    # found by hypothesis: areas capped by their population and a floor bound in the same round
    plan = plan_sample(areas(*pops), 0.05, allocation="equal", total=total, min_per_area=floor)
    assert plan["completes"].sum() == total
    assert (plan["completes"] <= plan["population"]).all()
    assert (plan["completes"] >= [min(p, floor) for p in pops]).all()
