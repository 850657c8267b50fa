"""Column mapping: keys, question text in any language, fuzzy text, and the reviewable file."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.mapping import build_targets, map_columns, read_mapping, write_mapping
from tests.unit.ingest._generic import RawColumn


def col(name, text=None, key=None, sub=None, role="answer", pos=0):
    return RawColumn(name=name, header=name, text=text, key=key, sub=sub, role=role, position=pos)


def test_keys_texts_and_fuzzy(project):
    inst = project.instrument_model
    cols = [
        col("ResponseId", role="meta"),
        col("Q1", text="Any contact?", key="QID1"),                 # English text
        col("Q2", text="Trato justo"),                               # Spanish text
        col("grp/legit_trust", key="grp/legit_trust"),               # Kobo group prefix
        col("Q4", text="Police are rudee"),                           # fuzzy (typo)
        col("serious[drugs]", key="serious[drugs]"),                 # LimeSurvey brackets
        col("Q9", text="What is your favourite colour"),             # nothing
    ]
    m = map_columns(cols, inst)
    assert m.columns == {"Q1": "contact", "Q2": "contact_fair", "grp/legit_trust": "legit_trust",
                         "Q4": "legit_rude", "serious[drugs]": "serious_drugs"}
    assert m.method["Q1"] == "text" and m.method["grp/legit_trust"] == "key" and m.method["Q4"] == "fuzzy"
    assert 90 <= m.score["Q4"] < 100
    assert m.unmapped == ["Q9"]


def test_split_multi_column_maps_by_question_and_option(project):
    m = map_columns([col("Q5_1", text="Top two", sub="Litter")], project.instrument_model)
    assert m.columns == {"Q5_1": "top_litter"}


def test_stored_mapping_wins_and_can_unmap(project, tmp_path: Path):
    inst = project.instrument_model
    cols = [col("A", text="Any contact?"), col("B", text="Trato justo")]
    m = map_columns(cols, inst)
    path = tmp_path / "map.csv"
    write_mapping(path, m, ["A", "B"])
    text = path.read_text().replace("A,contact,text,100,yes", "A,attn,text,100,yes").replace(
        "B,contact_fair,text,100,yes", "B,contact_fair,text,100,no")
    path.write_text(text)
    m2 = map_columns(cols, inst, stored=read_mapping(path, build_targets(inst)))
    assert m2.columns == {"A": "attn"} and m2.method["A"] == "stored"
    assert "B" in m2.rejected


def test_stored_mapping_with_unknown_variable_names_row_and_fix(project, tmp_path: Path):
    path = tmp_path / "map.csv"
    path.write_text("column,variable,method,score,accepted\nA,contct,text,100,yes\n")
    with pytest.raises(IngestError) as exc:
        read_mapping(path, build_targets(project.instrument_model))
    assert "row 2" in str(exc.value) and "Did you mean 'contact'" in str(exc.value)


def test_qualtrics_numbered_export_tags_of_a_deployed_instrument(project):
    # 'legit' grid items and 'top' rank options exported as <id>_<n> by Qualtrics
    m = map_columns([col("legit_2", key="QID3_2"), col("top_3", key="QID5_3"), col("contact", key="QID1")],
                    project.instrument_model)
    assert m.columns == {"legit_2": "legit_rude", "top_3": "top_speeding", "contact": "contact"}
