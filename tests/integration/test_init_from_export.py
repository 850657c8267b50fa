"""`init --from-export` + `run`: a city's own ETC-style export to results, and review.xlsx edits
changing the results (issue 12)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from survey_pipeline.cli import main
from survey_pipeline.instrument.review import read_review_xlsx, write_review_xlsx

N = 150
CODEBOOK = """variable,question_text,question_responses
Q1,Satisfaction with police services,"5 - Very Satisfied, 4 - Satisfied, 3 - Neutral, 2 - Dissatisfied, 1 - Very Dissatisfied, 9 - Don't Know"
Q5,Satisfaction with parks,"5 - Very Satisfied, 4 - Satisfied, 3 - Neutral, 2 - Dissatisfied, 1 - Very Dissatisfied, 9 - Don't Know"
Q2,How safe do you feel walking alone at night,"1 - Very Unsafe, 2 - Unsafe, 3 - Safe, 4 - Very Safe, 9 - Don't Know"
"""


def _export(path: Path, seed: int = 7) -> pd.DataFrame:
    """An ETC-style file: numeric codes, 9 = don't know, a police district column (99: placeholder)
    and the vendor's weights."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "ID": np.arange(1, N + 1),
        "POLICE_DISTRICT": rng.choice(["Northern", "Central", "Southern", "99"], N, p=[0.35, 0.35, 0.25, 0.05]),
        "Q1": rng.choice([1, 2, 3, 4, 5, 9], N, p=[0.1, 0.15, 0.2, 0.3, 0.2, 0.05]),
        "Q5": rng.choice([1, 2, 3, 4, 5, 9], N, p=[0.05, 0.1, 0.25, 0.35, 0.2, 0.05]),
        "Q2": rng.choice([1, 2, 3, 4, 9], N, p=[0.1, 0.2, 0.4, 0.25, 0.05]),
        "WEIGHT": np.round(rng.uniform(0.4, 2.5, N), 4),
    })
    df.to_csv(path, index=False)
    return df


@pytest.fixture
def made(tmp_path: Path, capsys):
    export = tmp_path / "resident_2024.csv"
    data = _export(export)
    (tmp_path / "dictionary.csv").write_text(CODEBOOK, encoding="utf-8")
    proj = tmp_path / "city"
    rc = main(["init", str(proj), "--from-export", str(export), "--codebook", str(tmp_path / "dictionary.csv")])
    out = capsys.readouterr().out
    assert rc == 0, out
    return proj, data, out


def _run(proj: Path, capsys) -> dict:
    assert main(["run", "--project", str(proj), "--json", "--jobs", "1"]) == 0
    return json.loads(capsys.readouterr().out)


def _estimates(proj: Path) -> pd.DataFrame:
    with duckdb.connect(str(proj / "warehouse.duckdb"), read_only=True) as con:
        return con.sql("SELECT * FROM estimates").df()


def test_init_makes_a_working_project(made, capsys):
    proj, _data, out = made
    for f in ("survey.toml", "instrument.yaml", "instrument.draft.yaml", "review.xlsx", "areas.csv",
              "exports/resident_2024.csv"):
        assert (proj / f).exists(), f
    toml = (proj / "survey.toml").read_text()
    assert 'exports = [{file = "exports/resident_2024.csv", platform = "auto", mode = "web"}]' in toml
    assert 'base_weight = "weight"' in toml
    areas = pd.read_csv(proj / "areas.csv", dtype=str)
    assert sorted(areas["neighborhood"]) == ["Central", "Northern", "Southern"]  # 99 left out
    assert "placeholders left out: 99" in out and "column 'WEIGHT' used as base weights" in out
    got = _run(proj, capsys)
    s = got["ingests"][0]
    assert s["rows_read"] == N == s["rows_kept"] + s["rows_quarantined"]
    assert got["review"] is None  # review.xlsx untouched: nothing rebuilt
    est = _estimates(proj)
    assert set(est["area_level"]) >= {"city", "district"}
    assert set(est.loc[est["area_level"] == "district", "area"]) == {"Central", "Northern", "Southern"}


def test_vendor_weights_are_the_base_weights(made, capsys):
    proj, data, _ = made
    _run(proj, capsys)
    est = _estimates(proj)
    city = est[(est["area_level"] == "city") & (est["group_dim"] == "all")].set_index(["indicator", "statistic"])
    ok = data["Q1"] != 9
    y, w = data.loc[ok, "Q1"].to_numpy(float), data.loc[ok, "WEIGHT"].to_numpy(float)
    assert city.loc[("q1", "mean"), "estimate"] == pytest.approx((w * y).sum() / w.sum(), rel=1e-10)
    assert city.loc[("q1", "mean"), "estimate"] != pytest.approx(y.mean(), rel=1e-4)  # not unweighted
    with duckdb.connect(str(proj / "warehouse.duckdb"), read_only=True) as con:
        wts = con.sql("SELECT base_weight, weight FROM weights").df()
    assert sorted(wts["weight"]) == pytest.approx(sorted(data["WEIGHT"]))


def _edit(proj: Path, edits: dict) -> None:
    sheet = read_review_xlsx(proj / "review.xlsx")
    for (qid, col), v in edits.items():
        assert (sheet["question"] == qid).any(), qid
        sheet.loc[sheet["question"] == qid, col] = v
    time.sleep(0.01)
    write_review_xlsx(sheet, proj / "review.xlsx")
    t = (proj / "instrument.yaml").stat().st_mtime + 1
    os.utime(proj / "review.xlsx", (t, t))  # saved after the instrument, as Excel would


def test_editing_review_xlsx_changes_the_results(made, capsys):
    proj, data, _ = made
    _run(proj, capsys)
    before = _estimates(proj)
    assert {"q1", "q5"} <= set(before["indicator"])
    # one role set to trust with its positive end, one question left out
    _edit(proj, {("q1", "role"): "trust", ("q1", "positive_end"): "high", ("q5", "include"): "no"})
    got = _run(proj, capsys)
    assert got["review"]["changed"] == ["q1", "q5"]
    assert got["ingests"][0]["status"] == "loaded"  # loaded again with the rebuilt instrument
    after = _estimates(proj)
    assert "q5" not in set(after["indicator"])
    with duckdb.connect(str(proj / "warehouse.duckdb"), read_only=True) as con:
        ind = con.sql("SELECT indicator, topic, statistic FROM indicators").df()
    trust = ind[ind["indicator"] == "q1"]
    assert set(trust["topic"]) == {"trust"} and set(trust["statistic"]) == {"share", "mean"}
    city = after[(after["area_level"] == "city") & (after["group_dim"] == "all")].set_index(["indicator", "statistic"])
    ok = data["Q1"] != 9
    pos = data.loc[ok, "Q1"].isin([4, 5]).to_numpy(float)
    w = data.loc[ok, "WEIGHT"].to_numpy(float)
    assert city.loc[("q1", "share"), "estimate"] == pytest.approx((w * pos).sum() / w.sum(), rel=1e-10)
    # a rerun with nothing newer changes nothing
    assert _run(proj, capsys)["review"] is None


def test_apply_review_command_and_bad_cells(made, capsys):
    proj, _, _ = made
    # the inference read Q2 ("How safe do you feel ...") as safety; the analyst says it is trust
    assert "role: safety" in (proj / "instrument.yaml").read_text()
    _edit(proj, {("q2", "role"): "trust", ("q2", "positive_end"): "high"})
    assert main(["instrument", "apply-review", str(proj), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["changed"] == ["q2"] and got["weight"] == "weight"
    assert "role: trust" in (proj / "instrument.yaml").read_text()
    _edit(proj, {("q2", "role"): "happiness"})
    assert main(["instrument", "apply-review", str(proj)]) == 2
    err = capsys.readouterr().err
    assert "role 'happiness' is not one of its choices" in err and "q2" in err


def test_nothing_analysable_says_which_roles_to_set(tmp_path, capsys):
    export = tmp_path / "comments.csv"
    export.write_text("ID,Comments\n" + "".join(f"{i},text number {i} about the park\n" for i in range(40)))
    proj = tmp_path / "p"
    assert main(["init", str(proj), "--from-export", str(export)]) == 0
    capsys.readouterr()
    assert main(["run", "--project", str(proj), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "nothing to analyse" in err and "review.xlsx" in err and "Traceback" not in err


def test_a_weight_column_the_draft_has_no_question_for_gets_one(tmp_path, monkeypatch, capsys):
    """The contract: infer may name a weight column without a question; init adds one."""
    from survey_pipeline.ingest import infer

    real = infer.infer_instrument

    def without_weight(export, out, **kw):
        got = real(export, out, **kw)
        text = Path(out).read_text()
        # drop the drafted weight question, as an inference that leaves weights out would
        doc = __import__("yaml").safe_load(text)
        doc["modules"][0]["questions"] = [q for q in doc["modules"][0]["questions"] if q["id"] != "weight"]
        Path(out).write_text(__import__("yaml").safe_dump(doc, sort_keys=False))
        return {**got, "weight_column": {"column": "WEIGHT", "question": None, "why": "header WEIGHT"}}

    monkeypatch.setattr(infer, "infer_instrument", without_weight)
    export = tmp_path / "resident.csv"
    data = _export(export)
    (tmp_path / "dictionary.csv").write_text(CODEBOOK, encoding="utf-8")
    proj = tmp_path / "c"
    assert main(["init", str(proj), "--from-export", str(export), "--codebook", str(tmp_path / "dictionary.csv")]) == 0
    capsys.readouterr()
    assert 'base_weight = "weight"' in (proj / "survey.toml").read_text()
    _run(proj, capsys)
    city = _estimates(proj).query("area_level == 'city' and group_dim == 'all'").set_index(["indicator", "statistic"])
    ok = data["Q1"] != 9
    y, w = data.loc[ok, "Q1"].to_numpy(float), data.loc[ok, "WEIGHT"].to_numpy(float)
    assert city.loc[("q1", "mean"), "estimate"] == pytest.approx((w * y).sum() / w.sum(), rel=1e-10)


def test_an_area_level_set_in_review_derives_the_areas_again(tmp_path, capsys):
    export = tmp_path / "resident.csv"
    data = _export(export)
    rng = np.random.default_rng(3)
    nbhd = {"Northern": ["Hilltop", "Lakeview"], "Central": ["Downtown", "Midtown"], "Southern": ["Harbor"],
            "99": ["Harbor"]}
    data.insert(2, "NBHD", [nbhd[d][rng.integers(len(nbhd[d]))] for d in data["POLICE_DISTRICT"]])
    data.to_csv(export, index=False)
    (tmp_path / "dictionary.csv").write_text(CODEBOOK, encoding="utf-8")
    proj = tmp_path / "c"
    assert main(["init", str(proj), "--from-export", str(export), "--codebook", str(tmp_path / "dictionary.csv")]) == 0
    capsys.readouterr()
    # the inference finds the neighborhood column (NBHD) and nests it in the police districts
    areas = pd.read_csv(proj / "areas.csv").set_index("neighborhood")
    assert sorted(areas.index) == ["Downtown", "Harbor", "Hilltop", "Lakeview", "Midtown"]
    assert areas.loc["Hilltop", "district"] == "Northern" and areas.loc["Downtown", "district"] == "Central"
    _run(proj, capsys)
    est = _estimates(proj)
    assert set(est.loc[est["area_level"] == "neighborhood", "area"]) == {"Hilltop", "Lakeview", "Downtown",
                                                                          "Midtown", "Harbor"}
    # the analyst takes NBHD out of geography in review.xlsx: the areas are derived again, districts only
    sheet = read_review_xlsx(proj / "review.xlsx")
    nb_q = sheet.loc[sheet["text"] == "NBHD", "question"].iloc[0]
    _edit(proj, {(nb_q, "area_level"): "none"})
    got = _run(proj, capsys)
    assert got["review"]["areas"].startswith("areas: areas.csv derived again")
    assert sorted(pd.read_csv(proj / "areas.csv")["neighborhood"]) == ["Central", "Northern", "Southern"]
    est = _estimates(proj)
    assert not set(est.loc[est["area_level"] == "neighborhood", "area"]) & {"Hilltop", "Downtown"}
    assert set(est.loc[est["area_level"] == "district", "area"]) == {"Northern", "Central", "Southern"}
