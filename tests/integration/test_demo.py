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
        n_estimates = con.execute("SELECT count(*) FROM estimates").fetchone()[0]
        findings = [r[0] for r in con.execute("SELECT finding FROM comparisons WHERE finding IS NOT NULL").fetchall()]
    finally:
        con.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [(w["wave"], w["platform"], w["rows"]) for w in truth["waves"]]
    assert all(r[2] == r[3] + r[4] for r in rows)  # rows in = kept + quarantined
    assert n_responses == sum(r[3] for r in rows)
    assert n_estimates > 1000
    # the problem-solving effort the generator planted in Southside and Millbrook is found
    assert any("Southside" in f and "Millbrook" in f for f in findings), findings[:5]
    # and so is the night-safety drop planted in Eastgate in the last wave
    night = truth["planted"]["night_safety_drop"]
    assert any(f.startswith(f"Feeling safe (Your neighborhood, at night) in {night['name']} fell ")
               and f.endswith("since Spring 2025") for f in findings), findings
    for name in ("resident_xlsform.xlsx", "resident_paper_en.html", "resident_paper_es.html", "resident_paper_vi.html",
                 "resident_codebook.xlsx"):
        assert (target / "deploy" / name).stat().st_size > 1000
    assert "Centro" in (target / "deploy" / "resident_paper_es.html").read_text(encoding="utf-8")
    # the council report, in both formats and in Spanish, with the Eastgate finding on its summary
    import openpyxl

    wb = openpyxl.load_workbook(target / "report" / "riverton_report.xlsx", read_only=True)
    summary = " ".join(str(c) for row in wb["Summary"].iter_rows(values_only=True) for c in row if c is not None)
    assert f"in {night['name']} fell " in summary
    html = (target / "report" / "riverton_report.html").read_text(encoding="utf-8")
    assert f"in {night['name']} fell " in html and "<script" not in html
    es_html = (target / "report" / "riverton_informe_es.html").read_text(encoding="utf-8")
    assert '<html lang="es"' in es_html
    assert f"La sensación de seguridad (Su vecindario, de noche) en {night['name']} bajó " in es_html
    assert f"in {night['name']} fell " not in es_html and "since Spring" not in es_html
    # and in Vietnamese, the third language: its words, the instrument's vi labels, the finding in vi
    vi_html = (target / "report" / "riverton_bao_cao_vi.html").read_text(encoding="utf-8")
    assert '<html lang="vi"' in vi_html and "Báo cáo khảo sát cộng đồng" in vi_html
    assert f"Cảm giác an toàn (Khu phố của quý vị, ban đêm) tại {night['name']} giảm " in vi_html
    assert "kể từ Mùa xuân 2025" in vi_html and "since Spring" not in vi_html
    vi_paper = (target / "deploy" / "resident_paper_vi.html").read_text(encoding="utf-8")
    assert "Khảo sát cộng đồng" in vi_paper and "Đánh dấu một ô." in vi_paper
    # one writer: fed the report's English words, it writes every stored finding byte for byte
    from survey_pipeline.report.content import _Ctx, _project_info
    from survey_pipeline.results.sentences import finding_sentence
    from survey_pipeline.results.tables import (
        area_names_from_geojson,
        district_area_names,
        district_names,
        read_results_tables,
    )

    tables = read_results_tables(target / "warehouse.duckdb")
    gj = json.loads((target / "areas.geojson").read_text(encoding="utf-8"))
    names = {**area_names_from_geojson(gj, "en"), **district_area_names(district_names(target), "en")}
    ctx = _Ctx(tables, "2026-spring", "2025-spring", "en", _project_info(target)[1], names)
    stored = tables["comparisons"][tables["comparisons"]["finding"].notna()]
    assert set(stored["kind"]) == {"wave_change", "group_vs_rest", "did"} and stored["group_dim"].ne("all").any()
    assert [finding_sentence(r, ctx.words) for _, r in stored.iterrows()] == stored["finding"].tolist()
    # the Methodology's funnel connects the response rate's completes to the responses analysed
    diag = tables["diagnostics"]
    for wave in ("2024-spring", "2026-spring"):
        f = diag[(diag["kind"] == "sample_funnel") & (diag["wave"] == wave)].set_index("metric")["value"]
        out = f[f.index.str.startswith("excluded_")].sum()
        assert f["start_aapor_completes"] - out + f["added_partials"] + f["added_other"] == f["analysed"]
        assert out > 0 and f["added_partials"] > 0  # both directions happen in the demo
        rr = diag[(diag["kind"] == "response_rate") & (diag["wave"] == wave) & (diag["area"] == "city")]
        assert rr["detail"].iloc[0].endswith(f"completes {int(f['start_aapor_completes'])}")
        sample = diag[(diag["kind"] == "sample") & (diag["wave"] == wave) & (diag["area"] == "city")]
        assert sample["value"].iloc[0] == f["analysed"]
    # districts are named by the areas file's district_label ("the South District", not from the code)
    district = stored[stored["area_level"] == "district"]["finding"].tolist()
    assert district and all(" District " in f for f in district), district
    # `run` on the demo project: every export is already loaded, the analysis is redone identically
    assert main(["run", "--project", str(target), "--json"]) == 0
    run = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [i["status"] for i in run["ingests"]] == ["already loaded"] * 3
    # the summary counts the direct and the modeled (small-area) rows of `estimates` apart
    assert run["analysis"]["estimates"] + run["analysis"]["modeled"] == n_estimates
    assert 0 < run["analysis"]["modeled"] < run["analysis"]["estimates"]
    # the dashboard app builds from the demo's results
    from dash_app import create_app

    assert create_app(target).layout is not None
    # a second demo refreshes the folder instead of failing or duplicating rows
    assert main(["demo", "--dir", str(target), "--no-serve"]) == 0


def test_run_without_exports_says_what_to_list(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p")]) == 0
    assert main(["run", "--project", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "no exports are listed" in err and "[[waves]]" in err


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    assert main(["demo", "--dir", str(tmp_path), "--no-serve"]) == 2
    err = capsys.readouterr().err
    assert "not a demo folder" in err and "--dir" in err
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
