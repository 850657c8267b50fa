"""Empty rows: the same sheet read from XLSX and from the CSV Excel writes for it counts the same."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from survey_pipeline import ingest
from survey_pipeline.ingest.readers import read_export

SHEET = [
    ["ResponseId", "Neighborhood", "Any contact?"],
    ["R1", "Downtown", "Yes"],
    [None, None, None],  # an empty row between responses
    ["R3", "Oak Hill", "No"],
]
# What Excel's "Save as CSV" writes for SHEET: the empty row is a row of empty cells
SHEET_CSV = "ResponseId,Neighborhood,Any contact?\nR1,Downtown,Yes\n,,\nR3,Oak Hill,No\n"


def xlsx(path: Path, rows, *, formatted_below: int = 0) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if formatted_below:  # rows that carry a format but no value (the sheet's "used range" grows)
        fill = PatternFill("solid", fgColor="FFFF00")
        for r in range(len(rows) + 1, len(rows) + formatted_below + 1):
            ws.cell(row=r, column=1).fill = fill
    wb.save(path)
    return path


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_empty_row_between_responses_is_read_in_both_formats(tmp_path, kind):
    path = xlsx(tmp_path / "e.xlsx", SHEET) if kind == "xlsx" else tmp_path / "e.csv"
    if kind == "csv":
        path.write_text(SHEET_CSV, encoding="utf-8")
    raw = read_export(path)
    assert raw.source_rows.tolist() == [2, 3, 4]
    assert raw.frame["ResponseId"].tolist() == ["R1", None, "R3"]
    assert raw.frame.iloc[1].isna().all()
    assert raw.rows_in == 3


def test_xlsx_and_csv_twins_quarantine_the_same_empty_row(tmp_path, project):
    summaries = []
    for path in (xlsx(tmp_path / "web.xlsx", SHEET), tmp_path / "web.csv"):
        if path.suffix == ".csv":
            path.write_text(SHEET_CSV, encoding="utf-8")
        wave = path.suffix.lstrip(".")
        s = ingest(project.root, path, wave, mode="web")
        summaries.append((s.rows_read, s.rows_kept, s.rows_quarantined, s.quarantined_by_reason))
    assert summaries[0] == summaries[1] == (3, 2, 1, {"empty row": 1})


def test_formatted_empty_rows_below_the_data_are_not_rows(tmp_path):
    path = xlsx(tmp_path / "phantom.xlsx", SHEET, formatted_below=3000)
    raw = read_export(path)
    assert raw.source_rows.tolist() == [2, 3, 4] and raw.rows_in == 3
    assert any("3000 empty row(s) below the data ignored" in n for n in raw.notes)


def test_csv_lines_of_empty_cells_after_the_last_response_are_ignored(tmp_path):
    path = tmp_path / "trail.csv"
    path.write_text(SHEET_CSV + ",,\n,,\n\n", encoding="utf-8")
    raw = read_export(path)
    assert raw.source_rows.tolist() == [2, 3, 4]
    assert any("2 row(s) with no content after the last response ignored" in n for n in raw.notes)


def test_empty_row_before_a_rejected_row_is_still_a_row(tmp_path):
    path = tmp_path / "rag.csv"
    path.write_text("a,b\n1,2\n,\n3,4,5\n", encoding="utf-8")
    raw = read_export(path)
    assert raw.source_rows.tolist() == [2, 3]
    assert raw.rejected == [(4, "ragged: 3 cells, header has 2")]
    assert raw.rows_in == 3


def test_csv_blank_lines_are_line_breaks_not_rows(tmp_path):
    # Python's csv module on Windows writes \r\r\n: a blank line after every record
    path = tmp_path / "crcrlf.csv"
    path.write_bytes(b"a,b\r\r\n1,2\r\r\n3,4\r\r\n")
    raw = read_export(path)
    assert raw.frame["a"].tolist() == ["1", "3"] and raw.rows_in == 2
    assert any("blank line(s) between responses skipped" in n for n in raw.notes)


def test_row_holding_only_an_unevaluated_formula_is_rejected_not_skipped(tmp_path):
    # openpyxl saves formulas without a cached value; the value-only read sees an empty row
    path = xlsx(tmp_path / "f.xlsx", [["a", "b"], ["1", "2"], ["3", "4"], [None, None], ["=SUM(A2:A3)", None]])
    raw = read_export(path)
    assert raw.source_rows.tolist() == [2, 3, 4]
    assert raw.rejected == [(5, "formula without a cached value in cell A5 (=SUM(A2:A3)); formulas are never evaluated")]
