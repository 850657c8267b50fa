"""Recoding: labels in any language and spelling, codes, typed missing answers, multi and rank."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.ingest.mapping import map_columns
from survey_pipeline.ingest.recode import _split_joined, normalize_areas, recode, type_missing
from tests.unit.ingest._generic import RawColumn


def run(project, data: dict):
    inst = project.instrument_model
    frame = pd.DataFrame(data, dtype=object)
    cols = [RawColumn(c, c, None, c, None, "answer", i) for i, c in enumerate(frame.columns)]
    cmap = map_columns(cols, inst)
    return recode(frame, cmap, inst), inst


def test_labels_any_language_case_and_codes(project):
    rec, _ = run(project, {"legit_trust": ["strongly AGREE", "Muy de acuerdo", "5", "4.0", "De  acuerdo!"]})
    assert rec.codes["legit_trust"].tolist() == [5, 5, 5, 4, 4]
    assert rec.kinds["legit_trust"].isna().all()


def test_missing_is_typed_never_a_number(project):
    rec, _ = run(project, {"legit_trust": ["Don't know", "No sé", "8", "9", "Prefer not to say", "Maybe", None]})
    assert rec.codes["legit_trust"].isna().all()
    assert rec.kinds["legit_trust"].tolist()[:6] == ["dont_know", "dont_know", "dont_know", "refused", "refused", "invalid"]
    assert rec.invalid == {"legit_trust": {"count": 1, "examples": ["Maybe"]}}


def test_integer_range_and_text(project):
    rec, _ = run(project, {"age": ["34", "abc", "7", None], "comments": ["hi", None, " ", "ok"]})
    assert rec.codes["age"].tolist()[0] == 34 and np.isnan(rec.codes["age"][2])
    assert rec.kinds["age"].tolist()[1:3] == ["invalid", "invalid"]
    assert rec.open_text["text"].tolist() == ["hi", "ok"]


def test_joined_rank_and_multi_with_commas_in_labels():
    codes = {"drugs": 1.0, "litter": 2.0, "a boat kayak or canoe": 3.0}
    assert _split_joined("Litter,A boat, kayak, or canoe", codes) == ([2.0, 3.0], [])
    assert _split_joined("Litter; Bikes", codes) == ([2.0], ["Bikes"])


def test_joined_rank_gives_per_option_rank(project):
    rec, _ = run(project, {"top": ["Drugs, Litter", "Exceso de velocidad", None]})
    assert rec.codes.loc[0, ["top_drugs", "top_litter"]].tolist() == [1, 2]
    assert np.isnan(rec.codes.loc[0, "top_speeding"])
    assert rec.codes.loc[1, "top_speeding"] == 1


def test_not_asked_breakoff_and_skipped(project):
    rec, inst = run(project, {
        "contact": ["No", "Yes", "Yes"],
        "contact_fair": [None, None, "Agree"],
        "legit_trust": ["Agree", None, None],
        "legit_rude": ["Agree", None, "Agree"],
    })
    type_missing(rec, inst, pd.Series([False, True, False]))
    assert rec.kinds.loc[0, "contact_fair"] == "not_asked"   # skip logic: contact = 1 is false
    assert rec.kinds.loc[1, "contact_fair"] == "breakoff"    # broke off after 'contact'
    assert rec.kinds.loc[1, "legit_rude"] == "breakoff"
    assert rec.kinds.loc[2, "legit_trust"] == "skipped"      # asked, left blank, went on
    assert rec.codes.loc[0, "contact"] == 2


def test_areas_exact_fuzzy_and_unknown(project):
    out = normalize_areas(pd.Series(["downtown", "Las  Palmas", "Oak Hil", "Atlantis", None]), project.areas)
    assert out["neighborhood"].tolist()[:3] == ["Downtown", "Las Palmas", "Oak Hill"]
    assert out["district"].tolist()[:3] == ["Central", "North", "North"]
    assert out["unknown_area"].tolist() == [False, False, False, True, False]


def test_multi_split_columns_with_labels_or_flags_and_joined(project):
    inst = project.instrument_model
    frame = pd.DataFrame({"a": ["Drugs", None, None], "b": [None, "1", None], "c": ["Exceso de velocidad", "0", None],
                          "j": [None, None, "Basura; Drogas"]}, dtype=object)
    cols = [RawColumn("a", "a", "Which concern you?", None, "Drugs", "split", 0),
            RawColumn("b", "b", "Which concern you?", None, "Litter", "split", 1),
            RawColumn("c", "c", "¿Qué le preocupa?", None, "Exceso de velocidad", "split", 2)]
    cmap = map_columns(cols, inst)
    assert cmap.columns == {"a": "concerns_drugs", "b": "concerns_litter", "c": "concerns_speeding"}
    rec = recode(frame, cmap, inst)
    got = rec.codes[["concerns_drugs", "concerns_litter", "concerns_speeding"]]
    assert got.iloc[0].tolist() == [1, 0, 1]   # blank option of an answered question is 0
    assert got.iloc[1].tolist() == [0, 1, 0]
    assert got.iloc[2].isna().all()             # nothing ticked anywhere: unanswered, typed later
    joined = map_columns([RawColumn("j", "j", "Which concern you?", None, None, "answer", 0)], inst)
    rec2 = recode(frame, joined, inst)
    assert rec2.codes.loc[2, ["concerns_drugs", "concerns_litter", "concerns_speeding"]].tolist() == [1, 1, 0]


def test_skip_logic_on_a_question_missing_from_the_export_counts_as_asked(project):
    rec, inst = run(project, {"contact_fair": [None, "Agree"]})  # 'contact' (the condition) not exported
    type_missing(rec, inst, pd.Series([False, False]))
    assert rec.kinds.loc[0, "contact_fair"] == "skipped"


def test_kobo_space_joined_names_rank_order_and_max_picks(project):
    # KoboToolbox/ODK join select_multiple and rank answers as choice NAMES with spaces
    rec, _ = run(project, {"top": ["speeding drugs", "litter speeding drugs", "drugs bikes"],
                           "concerns": ["drugs speeding", "litter", None]})
    top = rec.codes[["top_drugs", "top_litter", "top_speeding"]]
    assert top.iloc[0].tolist()[0] == 2 and top.iloc[0].tolist()[2] == 1 and np.isnan(top.iloc[0, 1])
    assert top.iloc[1, 1] == 1 and top.iloc[1, 2] == 2
    assert np.isnan(top.iloc[1, 0])                # max_picks 2: the third pick is dropped
    assert rec.invalid["top"]["examples"] == ["drugs bikes"]   # an unknown word: the piece is invalid
    assert rec.codes.loc[0, ["concerns_drugs", "concerns_litter", "concerns_speeding"]].tolist() == [1, 0, 1]
    assert rec.codes.loc[1, ["concerns_drugs", "concerns_litter", "concerns_speeding"]].tolist() == [0, 1, 0]


def test_kobo_split_columns_map_by_last_path_parts_and_joined_cell_wins(project):
    inst = project.instrument_model
    frame = pd.DataFrame({"grp/concerns": ["drugs litter", "dont_know", None],
                          "grp/concerns/drugs": ["1", "0", None], "grp/concerns/litter": ["1", "0", None],
                          "grp/concerns/speeding": ["0", "0", None]}, dtype=object)
    cols = [RawColumn(c, c, None, c, None, "answer", i) for i, c in enumerate(frame.columns)]
    cmap = map_columns(cols, inst)
    assert cmap.unmapped == []
    assert cmap.columns["grp/concerns/litter"] == "concerns_litter"
    assert cmap.columns["grp/concerns"] == "concerns"
    rec = recode(frame, cmap, inst)
    assert rec.codes.loc[0, ["concerns_drugs", "concerns_litter", "concerns_speeding"]].tolist() == [1, 1, 0]
    assert rec.codes.loc[1].isna().all() and (rec.kinds.loc[1] == "dont_know").all()


def test_factorize_by_identity_matches_pandas():
    """Equal values held by distinct objects get codes of their own, with equal values; missing -1;
    numbers are factorized by value."""
    from survey_pipeline.ingest.recode import _factorize

    agree = "".join(["Ag", "ree"])  # equal to "Agree", another object
    cells = np.array(["Agree", None, "No", agree, np.nan, "Agree", agree], dtype=object)
    codes, uniques = _factorize(pd.Series(cells, dtype=object))
    assert uniques.tolist() == ["Agree", "No", "Agree"]
    assert codes.tolist() == [0, -1, 1, 2, -1, 0, 2]
    assert [uniques[c] if c >= 0 else None for c in codes] == [None if pd.isna(v) else v for v in cells]
    codes, uniques = _factorize(pd.Series([3, 3.0, 4], dtype=object))
    assert codes.tolist() == [0, 0, 1] and uniques.tolist() == [3, 4]
