"""review.xlsx: the frame of any instrument doc, the workbook's dropdowns, applying edits."""

from __future__ import annotations

import copy

import pytest
import yaml
from openpyxl import load_workbook

from survey_pipeline.errors import InstrumentError
from survey_pipeline.instrument.review import (
    CHOICES,
    REVIEW_COLUMNS,
    apply_review,
    read_review_xlsx,
    review_frame,
    review_settings,
    write_review_xlsx,
)
from tests.unit.instrument.conftest import MINIMAL

DOC = yaml.safe_load("""
id: draft
version: draft-1
title: {en: Draft}
languages: [en]
scales:
  scale_1:
    ordered: true
    codes:
      - {code: 1, label: {en: Very poor}}
      - {code: 2, label: {en: Poor}}
      - {code: 3, label: {en: Fair}}
      - {code: 4, label: {en: Good}}
      - {code: 5, label: {en: Excellent}}
      - {code: 9, label: {en: Don't know}}
choice_lists:
  list_1:
    choices:
      - {code: 1, name: "yes", label: {en: "Yes"}}
      - {code: 2, name: "no", label: {en: "No"}}
modules:
  - id: main
    questions:
      - {id: q1, type: single, role: other, scale: scale_1, label: {en: Police services}}
      - {id: q2, type: single, role: other, scale: scale_1, label: {en: Parks}}
      - {id: q3, type: single, role: other, choices: list_1, label: {en: "Contact?"}}
      - {id: zip, type: text, role: geography, label: {en: ZIP}}
      - {id: wt, type: integer, role: other, label: {en: WEIGHT}}
""")
EVIDENCE = {"q1": {"columns": ["Q1"], "why": {"scale": "values 1-5 plus 9", "role": "no wording matched"},
                   "guessed": ["positive", "role"]}}


def test_frame_has_one_row_per_question_with_what_was_inferred():
    f = review_frame(DOC, EVIDENCE, area_columns=[{"question": "zip", "level": "zip", "column": "ZIP"}],
                     weight_column={"question": "wt", "column": "WEIGHT"})
    assert list(f.columns) == REVIEW_COLUMNS
    assert f["question"].tolist() == ["q1", "q2", "q3", "zip", "wt"]
    r = f.set_index("question")
    assert r.loc["q1", "codes"].startswith("1=Very poor; 2=Poor") and r.loc["q1", "order"] == "ordered"
    assert r.loc["q1", "positive_end"] == "none" and r.loc["q3", "order"] == "unordered"
    assert r.loc["q1", "why"] == "scale: values 1-5 plus 9; role: no wording matched"
    assert r.loc["q1", "guessed"] == "positive, role" and r.loc["q2", "guessed"] == ""
    assert r.loc["zip", "area_level"] == "zip" and r.loc["wt", "weight"] == "yes" and r.loc["q1", "weight"] == "no"


def test_frame_of_a_template_doc_without_evidence():
    doc = yaml.safe_load(MINIMAL)
    f = review_frame(doc)
    assert len(f) == len(doc["modules"][0]["questions"]) and (f["why"] == "").all()
    r = f.set_index("question")
    assert r.loc["contact_fair", "positive_end"] == "high"
    assert r.loc["contact_fair", "missing"] == "8=dont_know; 9=refused"


def test_workbook_has_dropdowns_and_reads_back(tmp_path):
    f = review_frame(DOC, EVIDENCE)
    path = write_review_xlsx(f, tmp_path / "review.xlsx")
    ws = load_workbook(path)["review"]
    lists = {(dv.formula1.strip('"'), str(dv.sqref)) for dv in ws.data_validations.dataValidation}
    for col, vals in CHOICES.items():
        letter = ws.cell(row=1, column=REVIEW_COLUMNS.index(col) + 1).column_letter
        assert (",".join(vals), f"{letter}2:{letter}6") in lists, col
    # guessed fields are highlighted
    role_cell = ws.cell(row=2, column=REVIEW_COLUMNS.index("role") + 1)
    assert role_cell.fill.fgColor.rgb.endswith("FFF2CC")
    assert ws.cell(row=3, column=REVIEW_COLUMNS.index("role") + 1).fill.fgColor.rgb != role_cell.fill.fgColor.rgb
    back = read_review_xlsx(path)
    assert back["question"].tolist() == f["question"].tolist() and back.loc[0, "codes"] == f.loc[0, "codes"]


def _sheet(edits: dict | None = None):
    f = review_frame(DOC)
    for (qid, col), v in (edits or {}).items():
        f.loc[f["question"] == qid, col] = v
    return f


def test_role_positive_end_and_missing_are_applied():
    f = _sheet({("q1", "role"): "satisfaction", ("q1", "positive_end"): "high", ("q1", "missing"): "9=dont_know",
                  ("q2", "positive_end"): "high", ("q2", "missing"): "9=dont_know"})
    new = apply_review(DOC, f)
    q1 = new["modules"][0]["questions"][0]
    assert q1["role"] == "satisfaction" and q1["scale"] == "scale_1"
    sc = new["scales"]["scale_1"]
    assert sc["positive"] == [4, 5] and [c["code"] for c in sc["codes"]] == [1, 2, 3, 4, 5]
    assert sc["missing"] == {"dont_know": {"code": 9, "label": {"en": "Don't know"}}}
    assert DOC["scales"]["scale_1"].get("positive") is None  # the input is not changed


def test_a_shared_list_edited_on_one_row_is_copied_for_it():
    f = _sheet({("q1", "positive_end"): "low"})
    new = apply_review(DOC, f)
    qs = {q["id"]: q for q in new["modules"][0]["questions"]}
    assert {qs["q1"]["scale"], qs["q2"]["scale"]} == {"scale_1", "scale_1__q1"}
    lows = new["scales"][qs["q1"]["scale"]]
    assert lows["positive"] == [1, 2] and "positive" not in new["scales"][qs["q2"]["scale"]]


def test_include_no_removes_and_yes_brings_back_from_the_draft():
    gone = apply_review(DOC, _sheet({("q3", "include"): "no"}))
    assert "q3" not in {q["id"] for q in gone["modules"][0]["questions"]}
    back = apply_review(gone, review_frame(DOC), draft=copy.deepcopy(DOC))
    assert "q3" in {q["id"] for q in back["modules"][0]["questions"]}


def test_ordered_on_a_choice_list_makes_it_a_scale_and_area_level_a_geography():
    new = apply_review(DOC, _sheet({("q3", "order"): "ordered", ("q3", "positive_end"): "low",
                                      ("q2", "area_level"): "ward"}))
    qs = {q["id"]: q for q in new["modules"][0]["questions"]}
    assert qs["q3"]["scale"] == "list_1" and new["scales"]["list_1"]["positive"] == [1]
    assert qs["q2"]["role"] == "geography"


def test_every_bad_cell_is_reported_at_once():
    f = _sheet({("q1", "role"): "happiness", ("q2", "include"): "maybe"})
    with pytest.raises(InstrumentError) as e:
        apply_review(DOC, f, file="review.xlsx")
    got = {(p.question, p.column, p.rule) for p in e.value.problems}
    assert got == {("q1", "role", "bad-choice"), ("q2", "include", "bad-choice")}
    with pytest.raises(InstrumentError) as e:
        apply_review(DOC, _sheet({("q1", "missing"): "9=dunno"}))
    assert e.value.problems[0].rule == "bad-missing"


def test_settings_from_the_sheet():
    f = _sheet({("zip", "area_level"): "zip", ("wt", "weight"): "yes"})
    assert review_settings(f) == {"area_columns": [{"question": "zip", "level": "zip"}], "weight": "wt"}
    with pytest.raises(InstrumentError):
        review_settings(_sheet({("wt", "weight"): "yes", ("q1", "weight"): "yes"}))
