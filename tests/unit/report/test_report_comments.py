"""The report's Comments section, from the dashboard's results fixture (with its comment tables):
a themes table with intervals, up to five examples per top theme, and none from a small cell."""

from __future__ import annotations

import duckdb
import pytest
from openpyxl import load_workbook

from survey_pipeline.report import build_report, write_report
from survey_pipeline.report.comments import EXAMPLES
from survey_pipeline.report.html import render_html
from tests.fixtures_results import make_results_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_results_project(tmp_path_factory.mktemp("report-comments") / "p")


@pytest.mark.parametrize("lang", ["en", "es", "vi"])
def test_themes_table_and_examples_only_from_cells_meeting_min_n(project, lang):
    rep = build_report(project, language=lang)
    sec = rep.section("comments")
    assert sec.title == {"en": "Comments", "es": "Comentarios", "vi": "Ý kiến"}[lang]
    themes, ex = sec.tables
    assert len(themes.frame) == 5
    ok = themes.frame[~themes.frame["_suppressed"]]
    assert (ok["ci_low"] <= ok["estimate"]).all() and (ok["estimate"] <= ok["ci_high"]).all()
    assert ok["estimate"].is_monotonic_decreasing
    # examples: at most five per theme, no thin neighborhood, never 'other', only themes with >= 30 writers
    counts = ex.frame.groupby("theme_key").size()
    assert counts.max() <= EXAMPLES and "other" not in counts.index
    assert "12" not in set(ex.frame["area_text"]) and "Brookside" not in set(ex.frame["area_text"])
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    cells = con.execute("SELECT theme, respondents FROM comment_cells WHERE area_level = 'city' AND wave = ?",
                        [rep.wave]).df()
    con.close()
    enough = set(cells.loc[cells["respondents"] >= 30, "theme"]) - {"all", "other"}
    assert set(counts.index) == enough and {"police_services", "street_lighting"} <= enough
    assert set(cells["theme"]) - enough - {"all", "other"}  # some theme has too few writers: no example
    if lang == "es":
        assert "Más patrullas de noche por favor" in set(ex.frame["text"]) or \
            "More patrols at night please" in set(ex.frame["text"])


def test_comments_sheet_and_html(project, tmp_path):
    write_report(project, tmp_path / "r.xlsx")
    ws = load_workbook(tmp_path / "r.xlsx")["Comments"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "Comment themes, citywide" in text and "Examples for the top themes" in text
    html = render_html(build_report(project, language="es"))
    assert "Temas de los comentarios" in html and "Ejemplos de los temas principales" in html
