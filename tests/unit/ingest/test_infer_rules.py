"""The rules inference applies, one at a time (pure functions, no files)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pandas as pd
import pytest

from survey_pipeline.ingest.infer import infer_draft
from survey_pipeline.ingest.infer import roles as R
from survey_pipeline.ingest.infer import scales as S
from survey_pipeline.ingest.recode import _key


def ints(d: dict[int, int]) -> Counter:
    return Counter(d)


@pytest.mark.parametrize(("counts", "core", "missing"), [
    ({1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 9: 3}, [1, 5], {"dont_know": 9}),
    ({1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 9: 3, 99: 1}, [1, 5], {"dont_know": 9, "refused": 99}),
    ({1: 5, 2: 5, 3: 5, 4: 5, 8: 2, 9: 1}, [1, 4], {"dont_know": 8, "refused": 9}),
    (dict.fromkeys(range(1, 11), 3) | {99: 2}, [1, 10], {"refused": 99}),
    ({-1: 2, 1: 5, 2: 5, 3: 5, 4: 5, 5: 5}, [1, 5], {"refused": -1}),
    ({0: 4, 1: 5, 2: 5, 3: 5, 4: 5, 5: 5, 6: 5, 7: 5, 8: 5, 9: 5, 10: 5}, [0, 10], {}),
])
def test_numeric_scales_with_trailing_codes(counts, core, missing):
    g = S.numeric_scale(ints(counts), wording="Please rate each item")
    assert g is not None and g.kind == "scale"
    codes = [c for c, _, _ in g.codes]
    assert [codes[0], codes[-1]] == core and codes == list(range(core[0], core[1] + 1))
    assert {k: v[0] for k, v in g.missing.items()} == missing
    assert g.positive == codes[-2:]  # no labels: the high end, marked as a guess
    assert "positive" in g.guessed


def test_numeric_codes_that_are_not_a_scale():
    assert S.numeric_scale(ints({1: 3, 2: 3, 3: 4}), wording="How many children live with you?") is None
    assert S.numeric_scale(ints({18: 1, 25: 1, 40: 1, 67: 2}), wording="Your age") is None
    assert S.numeric_scale(ints({1: 4, 2: 3, 3: 2, 4: 1}), wording="Q12") is None  # no specials, no rating words
    assert S.numeric_scale(ints({1: 4, 2: 3, 3: 2, 4: 1}), wording="Q12", n_columns=3) is not None  # a battery
    assert S.numeric_scale(ints({1: 3, 2: 3, 8: 1, 9: 1}), wording="rate") is None  # a 2-point core is no scale


def test_wording_names_the_positive_end_of_numeric_codes():
    g = S.numeric_scale(ints({1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 9: 1}),
                        wording="Using a scale of 1 to 5 where 1 means Excellent and 5 means Poor")
    assert g.positive == [1, 2] and "positive" not in g.guessed
    assert g.codes[0][1] == "1 (Excellent)" and g.codes[-1][1] == "5 (Poor)"


@pytest.mark.parametrize(("values", "library", "top"), [
    (["Very satisfied", "Satisfied", "Dissatisfied", "Muy satisfecho", "Insatisfecho"], "satisfied_5", "Very satisfied"),
    (["Totalmente de acuerdo", "De acuerdo", "En desacuerdo", "Strongly agree"], "agree_5", "Strongly agree"),
    (["Muy seguro", "Algo seguro", "Algo inseguro", "Very unsafe"], "safe_4", "Very safe"),
    (["Excellent", "Good", "Fair", "Poor"], "quality_4", "Excellent"),
    (["Major problem", "Minor problem", "Not a problem", "Moderate problem"], "problem_4", "Major problem"),
    (["Top priority", "High priority", "Low priority", "Not a priority"], "priority_5", "Top priority"),
])
def test_library_scales_in_english_and_spanish(values, library, top):
    g = S.library_scale(values)
    assert g.library == library
    top_codes = [c for c, en, _ in g.codes if en == top]
    assert top_codes and max(g.positive) == top_codes[0]
    assert g.spanish == any(v.startswith(("Muy", "Algo", "Totalmente", "De ", "En ", "Insat")) for v in values)
    for v in values:
        assert S.normalize_name(v) in g.value_codes


def test_spanish_and_english_answers_share_codes_and_labels():
    g = S.library_scale(["Very safe", "Muy seguro", "Somewhat unsafe", "Algo inseguro", "Muy inseguro", "No sé"])
    by_code = {c: (en, es) for c, en, es in g.codes}
    assert by_code[4] == ("Very safe", "Muy seguro") and by_code[2] == ("Somewhat unsafe", "Algo inseguro")
    assert g.missing["dont_know"][0] == 8
    assert S.missing_labels("No sé", "dont_know") == ("Don't know", "No sé")


def test_polarity_orders_unseen_wordings_as_a_guess():
    g = S.polarity_scale(["Somewhat ineffective", "Very effective", "Very ineffective", "Somewhat effective", "Don't know"])
    assert [en for _, en, _ in g.codes] == ["Very ineffective", "Somewhat ineffective", "Somewhat effective", "Very effective"]
    assert g.positive == [3, 4] and {"scale", "order", "positive"} <= g.guessed and "dont_know" in g.missing
    assert S.polarity_scale(["Red", "Green", "Blue"]) is None
    assert S.polarity_scale(["Good", "Very good", "Excellent"]) is None  # no negative end: not ordered by polarity


def test_codebook_labels_decide_order_and_positive_end():
    g = S.codebook_scale([(5, "Excellent"), (4, "Good"), (3, "Fair"), (2, "Poor"), (1, "Very Poor"), (9, "Don't Know")])
    assert g.kind == "scale" and g.positive == [4, 5] and g.missing == {"dont_know": (9, "Don't Know")}
    g = S.codebook_scale([(1, "Major problem"), (2, "Moderate problem"), (3, "Minor problem"), (4, "Not a problem")])
    assert g.positive == [1, 2]  # the "problem" end, coded low
    g = S.codebook_scale([(1, "Much worse"), (2, "A little worse"), (3, "About the same"), (4, "A little better"),
                          (5, "Much better"), (9, "Don't know")])
    assert g.positive == [4, 5]
    g = S.codebook_scale([(1, "Mobile application"), (2, "Web site"), (3, "Text message")])
    assert g.kind == "choices" and g.positive == []


@pytest.mark.parametrize(("header", "text", "values", "level"), [
    ("PDIST", "", ["1", "2", "3"], "police_district"),
    ("Police District", "", ["North", "South"], "police_district"),
    ("COUNCIL_DIST", "", ["1", "2", "9"], "council_district"),
    ("CD", "", ["1", "2", "9"], "council_district"),
    ("WARD", "", ["1", "2"], "ward"),
    ("BEAT", "", ["311", "312"], "beat"),
    ("PAC", "", ["Central", "East"], "pac"),
    ("NBHD", "", ["Downtown", "Hillcrest"], "neighborhood"),
    ("Q7", "Which neighborhood do you live in?", ["Downtown", "Hillcrest"], "neighborhood"),
    ("ZIP", "", ["92101", "92102", "99999"], "zip"),
    ("Q30", "", ["92101", "92102", "92103", "92104"], "zip"),
])
def test_area_columns_and_their_level(header, text, values, level):
    found = R.area_level(header, text, values)
    assert found is not None and found[0] == level


def test_not_areas_and_placeholders():
    assert R.area_level("Q2", "How safe do you feel in your neighborhood at night?", ["Very safe", "Unsafe"]) is None
    assert R.area_level("Q21", "How long have you lived in your neighborhood?", ["1 - 4 years"]) is None
    assert R.area_level("How safe do you feel in your neighborhood during the day?", "", ["Safe"]) is None
    assert R.area_level("ZIP", "", ["92101", "99999", "00000", "n/a"])[2] == ["00000", "99999", "n/a"]


def test_nesting_orders_areas_coarse_to_fine():
    frame = pd.DataFrame({"ZIP": ["92101", "92102", "92103", "92104"] * 3, "DIST": ["1", "1", "2", "2"] * 3})
    cols = [{"column": "ZIP", "level": "zip", "why": "z"}, {"column": "DIST", "level": "district", "why": "d"}]
    out = R.nest_areas(frame, cols)
    assert [c["column"] for c in out] == ["DIST", "ZIP"] and "nests in 'DIST'" in out[1]["why"]


@pytest.mark.parametrize(("header", "values", "is_weight"), [
    ("WEIGHT", ["0.8", "1.2", "1.05"], True), ("wt", ["1", "2"], True), ("final_wt", ["0.5", "2.25"], True),
    ("WEIGHT_POST", ["0.9", "1.1"], True), ("Weight (lbs)", ["150", "180"], False),
    ("WEIGHT", ["0", "1.2"], False), ("HEIGHT", ["1.2"], False), ("weight", ["heavy", "light"], False),
])
def test_vendor_weight_columns(header, values, is_weight):
    assert (R.weight_why(header, pd.Series(values)) is not None) == is_weight


def test_mode_from_the_distribution_channel():
    f = pd.DataFrame({"DistributionChannel": ["anonymous"] * 19 + ["preview"]})
    assert R.mode_of(f, {"distribution_channel": "DistributionChannel"})["mode"] == "web"
    f = pd.DataFrame({"DistributionChannel": ["anonymous"] * 16 + ["preview"] * 52})
    assert R.mode_of(f, {"distribution_channel": "DistributionChannel"}) is None  # not certain: not said
    assert R.mode_of(f, {}) is None
    f = pd.DataFrame({"DistributionChannel": ["offline"] * 5})
    assert R.mode_of(f, {"distribution_channel": "DistributionChannel"})["mode"] == "in_person"


@pytest.mark.parametrize(("text", "role"), [
    ("How satisfied are you with police services?", "satisfaction"),
    ("¿Qué tan satisfecho está con los parques?", "satisfaction"),
    ("How safe do you feel walking alone at night?", "safety"),
    ("The police treat people with respect", "trust"),
    ("How much confidence do you have in the police?", "trust"),
    ("How much of a problem is graffiti?", "problem"),
    ("How high a priority should each be?", "priority"),
    ("How important is each service to you?", "importance"),
    ("Have you had contact with the police in the past year?", "contact"),
    ("What is your annual household income?", "demographic"),
    ("Please select 'Agree' for this item", "attention_check"),
])
def test_roles_from_wording(text, role):
    assert R.role_from_wording(text)[0] == role


@pytest.mark.parametrize(("text", "dept"), [
    ("Police services", "police"), ("Fire and emergency medical services", "fire"), ("Parks", "parks"),
    ("Maintenance of streets and sidewalks", "public_works"), ("Library programs", "libraries"),
    ("Code enforcement", "code_enforcement"), ("Traffic flow", "transportation"), ("Trash collection", "solid_waste"),
])
def test_departments_named_by_the_wording(text, dept):
    assert R.department_of(text)[0] == dept


def test_negative_codes_keep_their_sign_in_recode():
    assert _key("-1") != _key("1") and _key("-1") == _key(" -1") and _key("Don't know") == "don t know"


def _cols(headers: list[str]) -> list:
    return [SimpleNamespace(name=h, header=h, text=None, key=None, sub=None, role="answer") for h in headers]


def test_truncated_headers_give_unique_valid_variable_names():
    # two multi-select options whose names share their first 40 characters (the Tampa public_mail bug)
    a = "Fishing for fun or sport with friends and family on weekends"
    b = "Fishing for fun or sport with friends and family on holidays"
    frame = pd.DataFrame({"FISH_REASON_FOR_THE_LONGEST_TIME_EVER_IN_THE_BAY": [f"{a},{b}", a, b, "Other"],
                          "FISH_REASON_FOR_THE_LONGEST_TIME_EVER_IN_THE_BAY_2": ["x", "y", "z", "w"]})
    d = infer_draft(frame, _cols(list(frame.columns)))
    qs = d.doc["modules"][0]["questions"]
    multi = next(q for q in qs if q["type"] == "multi")
    names = [c["name"] for c in d.doc["choice_lists"][multi["choices"]]["choices"]]
    assert len(set(names)) == len(names) and all(len(n) <= 30 for n in names)
    ids = [q["id"] for q in qs]
    assert len(set(ids)) == len(ids) and all(len(i) <= 40 for i in ids)


def test_per_option_columns_are_one_multi_select_with_max_picks():
    frame = pd.DataFrame({"Q5_1": ["Speeding", "", "Speeding"], "Q5_2": ["", "Graffiti", "Graffiti"],
                          "Q5_3": ["", "", "Noise"]})
    cols = _cols(list(frame.columns))
    for c, opt in zip(cols, ["Speeding", "Graffiti", "Noise"], strict=True):
        c.text = f"Which THREE problems are the most important to fix? - Selected Choice - {opt}"
        c.sub = opt
    d = infer_draft(frame, cols)
    (q,) = d.doc["modules"][0]["questions"]
    assert q["type"] == "multi" and q["max_picks"] == 3 and q["role"] == "importance"
    assert d.evidence[q["id"]]["columns"] == ["Q5_1", "Q5_2", "Q5_3"]


def test_pick_slots_share_one_choice_list():
    frame = pd.DataFrame({"Q4_1": ["1", "3", "2"], "Q4_2": ["2", "1", "3"], "Q4_3": ["3", "2", "1"]})
    cb = {"q4": ("Which THREE services are most important?", [(1, "Police services"), (2, "Parks"), (3, "Library")])}
    for k, slot in enumerate(["First", "Second", "Third"], start=1):
        cb[f"q4 {k}"] = (slot, [(1, "Police services"), (2, "Parks"), (3, "Library")])
    d = infer_draft(frame, _cols(list(frame.columns)), cb)
    qs = d.doc["modules"][0]["questions"]
    assert [q["type"] for q in qs] == ["single"] * 3 and len({q["choices"] for q in qs}) == 1
    assert all(q["role"] == "importance" for q in qs)
    assert "pick slot 2 of 3" in d.evidence[qs[1]["id"]]["why"]["grid"]
    deps = [c.get("department") for c in d.doc["choice_lists"][qs[0]["choices"]]["choices"]]
    assert deps == ["police", "parks", "libraries"]


def test_grid_stems_of_every_shape():
    for headers in (["Q1[01]", "Q1[02]", "Q1[03]"], ["Q1_1", "Q1_2", "Q1_3"], ["Q1.1", "Q1.2", "Q1.3"],
                    ["Q1A", "Q1B", "Q1C"], ["Q3 - Parks", "Q3 - Police", "Q3 - Streets"]):
        frame = pd.DataFrame({h: ["Very satisfied", "Satisfied", "Dissatisfied", "Very dissatisfied"] for h in headers})
        d = infer_draft(frame, _cols(headers))
        (q,) = d.doc["modules"][0]["questions"]
        assert q["type"] == "grid" and len(q["items"]) == 3, headers
        assert q["role"] == "satisfaction"


def test_zero_one_option_columns_and_a_weight_column_set_aside():
    frame = pd.DataFrame({"HEARD_1": ["1", "0", "1", "0"], "HEARD_2": ["0", "0", "1", "1"], "HEARD_3": ["0", "1", "0", "0"],
                          "final_wt": ["0.81", "1.22", "0.97", "1.4"]})
    cols = _cols(list(frame.columns))
    for c, opt in zip(cols[:3], ["Newspaper", "Radio", "Social media"], strict=True):
        c.sub = opt
        c.text = f"Where did you hear about the survey? - {opt}"
    d = infer_draft(frame, cols)
    (q,) = d.doc["modules"][0]["questions"]
    assert q["type"] == "multi" and [c["label"]["en"] for c in d.doc["choice_lists"][q["choices"]]["choices"]] == [
        "Newspaper", "Radio", "Social media"]
    assert d.weight_column["column"] == "final_wt" and d.weight_column["question"] is None
    assert "final_wt" not in [c for e in d.evidence.values() for c in e["columns"]]



def test_infinity_and_huge_numbers_are_not_codes():
    """Found by the property test: 'INFINITY' parsed as a float and overflowed int()."""
    frame = pd.DataFrame({"Q1": ["INFINITY", "1e300", "-inf", "INFINITY"]})
    d = infer_draft(frame, _cols(["Q1"]))
    (q,) = d.doc["modules"][0]["questions"]
    assert q["type"] != "integer" and not q.get("scale")
