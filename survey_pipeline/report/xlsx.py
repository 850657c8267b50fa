"""The report as an Excel workbook (openpyxl): a Summary sheet, one sheet per topic, Methodology.

Numbers are stored as numbers with a number format (shares as ``0.0%``), intervals in their own
columns, suppressed rows grey with no number and a marker in the reliability column, headers
frozen, and every text cell neutralised against formula injection.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from survey_pipeline.i18n import t
from survey_pipeline.report.content import Report, Section, Table
from survey_pipeline.safe import safe_text

__all__ = ["NUMBER_FORMATS", "SUPPRESSED_FILL", "column_index", "write_xlsx"]

NUMBER_FORMATS = {"pct": "0.0%", "pct2": "0.00%", "pp": "+0.0%;-0.0%;0.0%", "num": "0.00", "dnum": "+0.00;-0.00;0.00",
                  "int": "#,##0", "p": "0.000"}
SUPPRESSED_FILL = "D9D9D9"
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_GREY = PatternFill("solid", fgColor=SUPPRESSED_FILL)
_WRAP_KEYS = {"note", "wording", "definition", "notes", "detail"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _fmt(kind: str, stat: object) -> str | None:
    if kind == "stat":
        kind = "pct" if stat == "share" else "num"
    elif kind == "dstat":
        kind = "pp" if stat == "share" else "dnum"
    return NUMBER_FORMATS.get(kind)


def _value(v: object, kind: str) -> object:
    """A cell value: numbers as int/float (None for missing), text neutralised."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if kind == "text":
        return safe_text(str(v))
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return round(v) if kind == "int" else float(v)
    return safe_text(str(v))


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("-", title).strip("'")[:31] or "Sheet"
    name, k = base, 2
    while name.lower() in used:
        name = f"{base[:28]} {k}"
        k += 1
    used.add(name.lower())
    return name


class _Sheet:
    def __init__(self, ws):
        self.ws = ws
        self.row = 1
        self.widths: dict[int, float] = {}
        self.wrap_cols: set[int] = set()

    def text(self, value: str, *, bold: bool = False, italic: bool = False, size: int | None = None) -> None:
        c = self.ws.cell(row=self.row, column=1, value=safe_text(value))
        c.font = Font(bold=bold, italic=italic, size=size)
        self.row += 1

    def measure(self, col: int, text: object, cap: int = 60) -> None:
        n = len(str(text)) if text is not None else 0
        self.widths[col] = min(max(self.widths.get(col, 8), n + 2), cap)

    def table(self, tb: Table, *, title: bool = True) -> tuple[int, int]:
        """Write ``tb``; return (header row, last row)."""
        ws = self.ws
        if title:
            self.text(tb.title, bold=True, size=12)
        header = self.row
        for j, col in enumerate(tb.columns, start=1):
            c = ws.cell(row=header, column=j, value=safe_text(col.title))
            c.font = Font(bold=True)
            c.fill = _HEADER_FILL
            c.alignment = Alignment(wrap_text=True, vertical="top")
            self.measure(j, col.title, cap=24)
            if col.key in _WRAP_KEYS:
                self.wrap_cols.add(j)
        frame = tb.frame
        stats = frame["_stat"].tolist() if "_stat" in frame.columns else [None] * len(frame)
        sup = frame["_suppressed"].tolist() if "_suppressed" in frame.columns else [False] * len(frame)
        data = {col.key: (frame[col.key].tolist() if col.key in frame.columns else [None] * len(frame))
                for col in tb.columns}
        for i in range(len(frame)):
            r = header + 1 + i
            for j, col in enumerate(tb.columns, start=1):
                v = _value(data[col.key][i], col.kind)
                c = ws.cell(row=r, column=j, value=v)
                if col.kind != "text":
                    fmt = _fmt(col.kind, stats[i])
                    if fmt:
                        c.number_format = fmt
                    self.measure(j, "0000000.00")
                else:
                    self.measure(j, v)
                if sup[i]:
                    c.fill = _GREY
        self.row = header + 1 + len(frame)
        if tb.note:
            self.text(tb.note, italic=True)
        self.row += 1
        return header, header + len(frame)

    def finish(self) -> None:
        for j, w in self.widths.items():
            self.ws.column_dimensions[get_column_letter(j)].width = w
        for j in self.wrap_cols:
            for (cell,) in self.ws.iter_rows(min_col=j, max_col=j, min_row=2):
                if isinstance(cell.value, str) and len(cell.value) > 60:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")


def _section(ws, s: Section, lang: str) -> None:
    sh = _Sheet(ws)
    single = len(s.tables) == 1 and not s.facts and not s.bullets
    if single:
        # the table's header is row 1, frozen, with a filter; the title and legend follow the table
        header, last = sh.table(s.tables[0], title=False)
        ncol = len(s.tables[0].columns)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A{header}:{get_column_letter(ncol)}{max(last, header)}"
        sh.text(s.title, bold=True, size=12)
        if s.intro:
            sh.text(s.intro, italic=True)
    else:
        sh.text(s.title, bold=True, size=14)
        if s.intro:
            sh.text(s.intro, italic=True)
        sh.row += 1
        for k, v in s.facts:
            ws.cell(row=sh.row, column=1, value=safe_text(k)).font = Font(bold=True)
            ws.cell(row=sh.row, column=2, value=safe_text(v))
            sh.measure(1, k, cap=30)
            sh.row += 1
        if s.facts:
            sh.row += 1
        ws.freeze_panes = "A2"
        for tb in s.tables:
            sh.table(tb)
        if s.bullets:
            sh.text(s.bullets_title, bold=True, size=12)
            for b in s.bullets:
                sh.text(b)
            sh.row += 1
    if s.legend:
        sh.row += 0 if not single else 1
        sh.text(t("How to read this report", lang), bold=True)
        for line in s.legend:
            sh.text(line)
    sh.finish()


def write_xlsx(report: Report, out: str | Path) -> Path:
    """Write ``report`` as an .xlsx workbook at ``out`` (the caller makes the write atomic)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for s in report.sections:
        _section(wb.create_sheet(_sheet_name(s.title, used)), s, report.language)
    wb.properties.title = safe_text(f"{report.title}: {report.project}, {report.wave_label}")
    wb.properties.creator = "survey-pipeline"
    out = Path(out)
    wb.save(out)
    return out


def column_index(tb: Table, key: str) -> int:
    """1-based column of ``key`` in ``tb`` (for readers of the workbook, such as the tests)."""
    return next(j for j, c in enumerate(tb.columns, start=1) if c.key == key)

