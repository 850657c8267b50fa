"""`survey-pipeline report` on results the real analysis wrote (two waves of the fixture city)."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest
from openpyxl import load_workbook

from survey_pipeline.analysis.results import analyze_frame, write_results
from survey_pipeline.analysis.settings import AnalysisSettings, WeightingSettings
from survey_pipeline.analysis.weighting import read_targets
from survey_pipeline.cli import main
from survey_pipeline.report.html import format_value
from tests.unit.analysis.fixture_city import city_dir, city_frame, city_instrument

WAVES = ["2025-spring", "2026-spring"]
TOML = """[project]
name = "Riverton"

[areas]
file = "areas.geojson"

[[waves]]
id = "2025-spring"
label = "Spring 2025"

[[waves]]
id = "2026-spring"
label = "Spring 2026"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    frame = city_frame()
    # two waves, neighborhoods and districts (no beats): the real analysis in a few seconds
    frame = frame[frame["wave"].isin(WAVES)].drop(columns=["beat"], errors="ignore").reset_index(drop=True)
    run = analyze_frame(frame, city_instrument(), waves=WAVES, settings=AnalysisSettings(groups=()),
                        targets=read_targets(city_dir() / "census_targets.csv"),
                        weighting=WeightingSettings(recode={"tenure": {"no_rent": "rent"}}),
                        wave_labels={"2025-spring": "Spring 2025", "2026-spring": "Spring 2026"})
    root = tmp_path_factory.mktemp("report-cli") / "riverton"
    root.mkdir()
    shutil.copy(city_dir() / "areas.geojson", root / "areas.geojson")
    (root / "survey.toml").write_text(TOML, encoding="utf-8")
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        write_results(con, run.tables)
    finally:
        con.close()
    return root


def city_estimate(root, indicator: str, statistic: str, wave: str = WAVES[-1], area: str = "city",
                  modeled: bool = False) -> dict:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute("SELECT estimate, ci_low, ci_high, reliability FROM estimates WHERE wave = ? AND area = ? "
                          "AND indicator = ? AND statistic = ? AND group_dim = 'all' AND method "
                          + ("" if modeled else "NOT ") + "LIKE 'modeled%'", [wave, area, indicator, statistic])
        return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    finally:
        con.close()


def test_report_xlsx_from_the_analysis(project, tmp_path, capsys):
    out = tmp_path / "riverton.xlsx"
    assert main(["report", "--project", str(project), "--out", str(out)]) == 0
    assert f"wrote {out} (Spring 2026;" in capsys.readouterr().out
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "Methodology"
    assert {"Priorities", "Satisfaction", "Safety", "Trust and scales", "Importance-satisfaction",
            "Area comparisons"} <= set(wb.sheetnames)
    rows = [[c.value for c in r] for r in wb["Summary"].iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "Indicator")
    head = {r[0]: r for r in rows[start + 1:start + 4]}
    # the headline trio of the resident template: satisfaction, safety at night, the trust index
    sat = city_estimate(project, "sat_police_overall", "share")
    night = city_estimate(project, "safe_nbhd_night", "share")
    trust = city_estimate(project, "index_trust_in_police", "score")
    assert head["Overall quality of police services"][1] == pytest.approx(sat["estimate"])
    assert head["Your neighborhood, at night"][2] == pytest.approx(night["ci_low"])
    assert head["Trust in the police"][3] == pytest.approx(trust["ci_high"])
    assert rows[start][5] == "Change since Spring 2025"
    # a neighborhood row of the Safety sheet is the store's number, or marked suppressed without one;
    # where the direct number is suppressed and the modeled one is not, the modeled one, marked ◇
    ws = wb["Safety"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    col = {h: i for i, h in enumerate(header)}
    found = 0
    for r in ws.iter_rows(min_row=2):
        name = str(r[col["Area"]].value).removesuffix(" ◇")
        if r[col["Indicator"]].value == "Your neighborhood, at night" and name in ("Downtown", "Eastgate"):
            code = "1" if name == "Downtown" else "9"
            want = city_estimate(project, "safe_nbhd_night", "share", area=code)
            model = city_estimate(project, "safe_nbhd_night", "share", area=code, modeled=True)
            marked = str(r[col["Area"]].value).endswith(" ◇")
            assert marked == (want["reliability"] == "suppress" and model["reliability"] != "suppress")
            if marked:
                want = model
                assert r[col["Note"]].value.startswith("◇ modeled (small-area estimate)")
            if want["reliability"] == "suppress":
                assert r[col["Estimate"]].value is None and r[col["Reliability"]].value == "suppressed"
            else:
                assert r[col["Estimate"]].value == pytest.approx(want["estimate"])
                assert r[col["Estimate"]].number_format == "0.0%"
            found += 1
    assert found == 2


def test_report_html_from_the_analysis(project, tmp_path, capsys):
    out = tmp_path / "riverton.html"
    assert main(["report", "--project", str(project), "--out", str(out), "--wave", "2026-spring",
                 "--language", "es"]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="es">' in page and "Resumen" in page
    assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    sat = city_estimate(project, "sat_police_overall", "share")
    assert format_value(sat["estimate"], "pct", lang="es") in page
    assert "Centro" in page and "Casco Antiguo" in page  # the areas GeoJSON's label_es
    assert "Distrito Norte" in page  # and its district_label_es
    # the findings are the analysis' rows written in Spanish: none of its English sentences
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    try:
        english = [r[0] for r in con.execute("SELECT finding FROM comparisons WHERE finding IS NOT NULL AND wave = ? "
                                             "AND group_dim = 'all'", [WAVES[-1]]).fetchall()]
    finally:
        con.close()
    items = re.findall(r'<ul class="findings">(.*?)</ul>', page, re.S)[0]
    bullets = re.findall(r"<li>(.*?)</li>", items, re.S)
    assert english and len(bullets) == min(len(english), 10)
    assert not any(e in page for e in english)
    assert all(" desde Primavera 2025" in b or " entre " in b for b in bullets), bullets


def test_report_errors_exit_2_with_a_clear_message(project, tmp_path, capsys):
    assert main(["report", "--project", str(project), "--out", str(tmp_path / "r.docx")]) == 2
    err = capsys.readouterr().err
    assert "unknown report format '.docx'" in err and "FILE.xlsx" in err and "Traceback" not in err
    assert main(["report", "--project", str(project), "--out", str(tmp_path / "r.html"), "--wave", "2024-spring"]) == 2
    assert "no estimates for wave '2024-spring'" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "new")]) == 0
    capsys.readouterr()
    assert main(["report", "--project", str(tmp_path / "new"), "--out", str(tmp_path / "r.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "no results" in err and "survey-pipeline run --project" in err
    assert not (tmp_path / "r.xlsx").exists()
