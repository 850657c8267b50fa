"""Quality flags with thresholds, mode-aware preview rule, dispositions, AAPOR rates."""

from __future__ import annotations

import math

import pandas as pd

from survey_pipeline.ingest.mapping import map_columns
from survey_pipeline.ingest.quality import aapor_rates, disposition, quality_flags
from survey_pipeline.ingest.recode import recode
from tests.unit.ingest._generic import RawColumn


def recoded(project, data):
    inst = project.instrument_model
    frame = pd.DataFrame(data, dtype=object)
    cols = [RawColumn(c, c, None, c, None, "answer", i) for i, c in enumerate(frame.columns)]
    return recode(frame, map_columns(cols, inst), inst), inst


def flags_for(project, meta, mode="web", data=None):
    n = len(next(iter(meta.values())))
    rec, inst = recoded(project, data or {"attn": ["Disagree"] * n})
    return quality_flags(rec, inst, pd.DataFrame(meta), mode, project.quality, seen_ids=set(), seen_contacts=set())


def test_speeder_uses_fraction_of_median(project):
    f, det, _ = flags_for(project, {"duration_s": [100, 100, 100, 29, 31]})
    assert f["speeder"].tolist() == [False, False, False, True, False]
    assert det.loc[det.rule == "speeder", "threshold"].iloc[0] == 30


def test_preview_is_a_test_only_on_the_web(project):
    meta = {"status": ["Survey Preview", "IP Address", "1"]}
    f, _, notes = flags_for(project, meta, mode="web")
    assert f["preview"].tolist() == [True, False, True]
    f, _, notes = flags_for(project, meta, mode="mail")
    assert not f["preview"].any() and "kept as data entry" in notes[0]


def test_bot_and_fraud_thresholds(project):
    f, _, _ = flags_for(project, {"recaptcha_score": ["0.4", "0.5", None], "duplicate_score": ["75", "74", ""],
                                  "fraud_score": ["30", "0", None]})
    assert f["bot"].tolist() == [True, False, False]
    assert f["fraud_duplicate"].tolist() == [True, False, False]
    assert f["fraud_score"].tolist() == [True, False, False]


def test_attention_and_duplicates(project):
    f, _, _ = flags_for(project, {"response_id": ["a", "b", "a"], "start": ["1", "2", "2"], "end": ["5", "6", "6"]},
                        data={"attn": ["Disagree", "Agree", "Agree"]})
    assert f["attention_failed"].tolist() == [False, True, True]
    assert f["duplicate_id"].tolist() == [False, False, True]
    assert f["duplicate_answers"].tolist() == [False, False, True]


def test_straightlining_needs_min_items(project):
    from dataclasses import replace

    project.quality = replace(project.quality, straightline_min_items=3)
    f, _, _ = flags_for(project, {"x": [1, 2]}, data={
        "serious_drugs": ["Agree", "Agree"], "serious_litter": ["Agree", "Disagree"], "serious_speeding": ["Agree", "Agree"]})
    assert f["straightliner"].tolist() == [True, False]


def test_disposition_by_share_of_applicable_questions(project):
    rec, inst = recoded(project, {"contact": ["No", "Yes", "Yes"], "contact_fair": [None, None, None],
                                  "legit_trust": ["Agree", "Agree", None], "legit_rude": ["Agree", "Agree", None],
                                  "age": ["40", "40", None]})
    disp, share = disposition(rec, inst, project.quality)
    # row 0: contact_fair not applicable -> 4/4; row 1: 4/5 = 0.8; row 2: 1/5
    assert share.round(2).tolist() == [1.0, 0.8, 0.2]
    assert disp.tolist() == ["complete", "complete", "breakoff"]


def test_aapor_rates_match_hand_computation():
    r = pd.DataFrame({"area_neighborhood": ["A"] * 6 + ["B"] * 2,
                      "disposition": ["complete"] * 3 + ["partial", "breakoff", "complete", "complete", "complete"]})
    for f in ("preview", "test", "bot", "duplicate_id", "duplicate_contact", "duplicate_answers"):
        r[f"flag_{f}"] = False
    r.loc[5, "flag_preview"] = True  # a preview is not a case
    out = aapor_rates(r, {"A": 20, "B": 10}, e=0.5).set_index("area")
    a = out.loc["A"]
    assert (a.I, a.P, a.R, a.UH_UO) == (3, 1, 1, 15)
    assert math.isclose(a.RR1, 3 / 20) and math.isclose(a.RR2, 4 / 20)
    assert math.isclose(a.RR3, 3 / (5 + 0.5 * 15)) and math.isclose(a.RR6, 4 / 5)
    assert math.isclose(a.COOP1, 3 / 5) and math.isclose(a.REF1, 1 / 20) and math.isclose(a.CON1, 5 / 20)
    assert out.loc["all", "I"] == 5 and out.loc["all", "invited"] == 30


def test_duplicate_answers_compare_missing_kinds_and_times_in_full(project):
    # same codes and times, but "Don't know" vs "Refused" on the attention item: not duplicates
    f, _, _ = flags_for(project, {"start": ["1", "1", "1", "1"], "end": ["5", "5", "5", "6"]},
                        data={"attn": ["Don't know", "Refused", "Don't know", "Don't know"],
                              "age": ["30", "30", "30", "30"]})
    assert f["duplicate_answers"].tolist() == [False, False, True, False]


def test_kobo_resent_uuid_and_starts_before_the_wave_are_flagged(project):
    import datetime as dt

    n = 3
    rec, inst = recoded(project, {"attn": ["Disagree"] * n})
    meta = pd.DataFrame({"response_id": ["1", "2", "3"], "uuid": ["u1", "u2", "u1"],
                         "start": ["2026-03-10T09:00:00", "2026-03-15T08:00:00", "2026-03-16T10:00:00"]})
    f, _, _ = quality_flags(rec, inst, meta, "web", project.quality, seen_ids=set(), seen_contacts=set(),
                            wave_start=dt.date(2026, 3, 15))
    assert f["duplicate_id"].tolist() == [False, False, True]
    assert f["test"].tolist() == [True, False, False]
