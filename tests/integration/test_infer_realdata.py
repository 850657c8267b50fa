"""Every real file (``tests/realdata.py``: ../shared/realdata, else the copies carried in
tests/data/realdata) goes through ``infer_instrument``: the draft validates,
and what was inferred (scales, roles, areas, weight, mode) is printed and checked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from survey_pipeline.ingest.infer import infer_instrument
from tests.realdata import NO_TAMPA, SAN_DIEGO, TAMPA

pytestmark = [pytest.mark.slow]


def _infer(export: Path, tmp_path: Path, codebook: Path | None = None) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    rep = infer_instrument(export, tmp_path / f"{export.stem}.yaml", codebook=codebook)
    took = time.perf_counter() - t0
    doc = yaml.safe_load((tmp_path / f"{export.stem}.yaml").read_text())
    scales = doc.get("scales", {})
    described = ", ".join(f"{k} +{v.get('positive', [])}" for k, v in scales.items())
    print(f"\n{export.name}: {rep['questions']} questions, {rep['variables']} variables, {rep['grids']} grids, "
          f"{len(scales)} ordered scales ({described}), "
          f"{rep['multi']} multi; roles {rep['roles']}; {rep['guessed']} guessed fields; "
          f"areas {[(a['column'], a['level'], a['placeholders']) for a in rep['area_columns']]}; "
          f"weight {rep['weight_column'] and rep['weight_column']['column']}; mode {rep['mode'] and rep['mode']['mode']}; "
          f"{took:.1f} s")
    return rep, doc


def _question(rep: dict, doc: dict, column: str) -> dict:
    qid = next(q for q, e in rep["evidence"].items() if column in e["columns"])
    return next(q for m in doc["modules"] for q in m["questions"] if q["id"] == qid)


@pytest.mark.skipif(not TAMPA.exists(), reason=NO_TAMPA)
@pytest.mark.parametrize("name", ["public_mail.csv", "innetwork.csv", "public_web.csv"])
def test_tampa_bay_files(name, tmp_path):
    rep, doc = _infer(TAMPA / name, tmp_path)  # public_mail.csv failed before: a variable produced twice
    pr = _question(rep, doc, "PRIORITY_ACSNAT")
    assert pr["type"] == "grid" and pr["role"] == "priority" and len(pr["items"]) == 16
    sc = doc["scales"][pr["scale"]]
    assert sc["codes"][-1]["label"]["en"] == "Top priority" and sc["positive"] == [4, 5]
    assert _question(rep, doc, "ATTNCHECK1")["role"] == "attention_check"
    assert _question(rep, doc, "AGE")["role"] == "demographic"
    assert rep["area_columns"][0]["column"] == "ZIPCODE_RESIDENT" and rep["area_columns"][0]["level"] == "zip"
    assert rep["weight_column"] is None
    assert (rep["mode"] or {}).get("mode") == (None if name == "public_mail.csv" else "web")  # mail: preview + anonymous
    fish = _question(rep, doc, "FISH_REASON")
    assert fish["type"] == "multi"


@pytest.mark.skipif(not SAN_DIEGO.exists(), reason="the San Diego files are neither in ../shared/realdata nor in tests/data/realdata")
def test_san_diego_with_its_codebook(tmp_path):
    rep, doc = _infer(SAN_DIEGO / "resident_survey_weighted_datasd.csv", tmp_path,
                      SAN_DIEGO / "resident_survey_dictionary_datasd.csv")
    q1 = _question(rep, doc, "Q1_1")
    assert q1["type"] == "grid" and doc["scales"][q1["scale"]]["positive"] == [4, 5]
    assert doc["scales"][q1["scale"]]["missing"]["dont_know"]["code"] == 9
    q3 = _question(rep, doc, "Q3_11")
    assert q3["role"] == "satisfaction" and next(i for i in q3["items"] if i["id"] == "q3_11")["department"] == "police"
    slots = [_question(rep, doc, f"Q4_{k}") for k in range(1, 5)]
    assert {q["role"] for q in slots} == {"importance"} and len({q["choices"] for q in slots}) == 1
    assert doc["scales"][_question(rep, doc, "Q5")["scale"]]["positive"] == [4, 5]  # "Much better" end
    zips = next(a for a in rep["area_columns"] if a["column"] == "ZIP")
    assert zips["level"] == "zip" and zips["placeholders"] == ["99999"]
    assert any(a["level"] == "council_district" for a in rep["area_columns"])
    assert rep["weight_column"] is None and rep["mode"] is None
