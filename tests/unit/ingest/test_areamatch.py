"""Area names: normalization, abbreviations, misspellings, ambiguity."""

from __future__ import annotations

import pandas as pd

from survey_pipeline.ingest.areamatch import AreaMatcher, area_key
from survey_pipeline.ingest.recode import normalize_areas
from survey_pipeline.project import Areas

NAMES = ["Downtown", "Old Town", "North Hills", "Cedar Park", "Harbor View", "Millbrook", "Mill Yard",
         "Oak Grove", "Oak Glen"]


def matcher():
    return AreaMatcher([(n, n) for n in NAMES] + [("Centro", "Downtown")])


def test_area_key_expands_abbreviations_and_drops_spaces():
    assert area_key("N. Hills") == area_key("north hills") == "northhills"
    assert area_key("Harborview") == area_key("Harbor-View")
    assert area_key("St. Mary's") == "saintmarys"


def test_misspellings_spacing_and_other_languages_match():
    m = matcher()
    got = {t: m.match(t) for t in ["Ceder Park", "Harborview", "Oldtown", "N. Hills", "Norht Hills", "centro"]}
    assert {t: v[0] for t, v in got.items()} == {
        "Ceder Park": "Cedar Park", "Harborview": "Harbor View", "Oldtown": "Old Town",
        "N. Hills": "North Hills", "Norht Hills": "North Hills", "centro": "Downtown"}
    assert got["Harborview"][1] == 100 and 80 <= got["Ceder Park"][1] < 100


def test_unknown_and_ambiguous_names_stay_unknown():
    m = matcher()
    assert m.match("Atlantis") is None
    assert m.match("Oak G") is None          # Oak Grove and Oak Glen score alike: ambiguous
    assert m.match("Mill") is None           # too short to be sure


def test_normalize_areas_records_fuzzy_score_and_keeps_unknown():
    areas = Areas(table=pd.DataFrame({"neighborhood": NAMES, "district": ["c"] * len(NAMES), "beat": None}),
                  crosswalk=pd.DataFrame(columns=["key", "neighborhood"]))
    out = normalize_areas(pd.Series(["Ceder Park", "Downtown", "Atlantis", None, " ", "Centro"]), areas,
                          labels=[("Centro", "Downtown")])
    assert out["neighborhood"].tolist() == ["Cedar Park", "Downtown", None, None, None, "Downtown"]
    assert out["unknown_area"].tolist() == [False, False, True, False, False, False]
    assert out["area_score"].iloc[0] < 100 and out["area_score"].iloc[1] == 100
