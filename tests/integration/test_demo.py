"""`survey-pipeline demo`: the fixture city becomes a project and runs end to end."""

from __future__ import annotations

import json

import duckdb

from survey_pipeline.cli import main
from survey_pipeline.demo import FIXTURE_CITY


def test_demo_builds_ingests_and_deploys(tmp_path, capsys):
    target = tmp_path / "demo"
    assert main(["demo", "--dir", str(target), "--no-serve"]) == 0
    truth = json.loads((FIXTURE_CITY / "ground_truth.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(target / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT wave, platform, rows_in, rows_kept, rows_quarantined FROM sources ORDER BY wave").fetchall()
        n_responses = con.execute("SELECT count(*) FROM responses").fetchone()[0]
    finally:
        con.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [(w["wave"], w["platform"], w["rows"]) for w in truth["waves"]]
    assert all(r[2] == r[3] + r[4] for r in rows)  # rows in = kept + quarantined
    assert n_responses == sum(r[3] for r in rows)
    for name in ("resident_xlsform.xlsx", "resident_paper_en.html", "resident_paper_es.html", "resident_codebook.xlsx"):
        assert (target / "deploy" / name).stat().st_size > 1000
    assert "Centro" in (target / "deploy" / "resident_paper_es.html").read_text(encoding="utf-8")
    # a second run refreshes the demo folder instead of failing or duplicating rows
    assert main(["demo", "--dir", str(target), "--no-serve"]) == 0


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    assert main(["demo", "--dir", str(tmp_path), "--no-serve"]) == 2
    err = capsys.readouterr().err
    assert "not a demo folder" in err and "--dir" in err
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
