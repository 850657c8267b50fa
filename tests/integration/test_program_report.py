"""A program member's report carries its benchmarks (English and Spanish, HTML and Excel)."""

from __future__ import annotations

import openpyxl

from survey_pipeline.cli import main
from survey_pipeline.report import build_report


def test_report_has_the_benchmarks_table(program_project, tmp_path):
    member = program_project / "members" / "agency_002"
    for lang, peer in (("en", "Generated program median"), ("es", "Mediana de Generated program")):
        rep = build_report(member, wave="2025-spring", language=lang)
        tab = next(t for t in rep.section("summary").tables if t.key == "benchmarks")
        sentences = list(tab.frame["benchmark"])
        assert any(peer in s for s in sentences)
        assert any("Vendor norms 2025" in s for s in sentences)
    out = tmp_path / "r.html"
    assert main(["report", "--project", str(member), "--out", str(out), "--language", "es"]) == 0
    assert "Mediana de Generated program" in out.read_text(encoding="utf-8")
    xl = tmp_path / "r.xlsx"
    assert main(["report", "--project", str(member), "--out", str(xl)]) == 0
    cells = [str(c.value) for ws in openpyxl.load_workbook(xl).worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert any("Generated program median" in c for c in cells)


def test_a_project_outside_any_program_has_no_benchmarks_table(demo_project):
    rep = build_report(demo_project)
    assert all(t.key != "benchmarks" for t in rep.section("summary").tables)
