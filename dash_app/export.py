"""The data behind a view as CSV or XLSX bytes, with spreadsheet formula injection neutralised."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from openpyxl import Workbook

from survey_pipeline.safe import neutralise  # shared with the reports

__all__ = ["flat", "neutralise", "to_csv_bytes", "to_xlsx_bytes"]


def flat(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every list, tuple or set cell (a view's several sentences, e.g. Overview's
    benchmarks) written as one text, its parts joined by "; " (a spreadsheet cell holds one value)."""
    cols = [c for c in df.columns if df[c].dtype == object
            and df[c].map(lambda v: isinstance(v, (list, tuple, set))).any()]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: "; ".join(str(x) for x in v) if isinstance(v, (list, tuple, set)) else v)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel opens accented text correctly)."""
    return neutralise(flat(df)).to_csv(index=False).encode("utf-8-sig")


def _cell(v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "data") -> bytes:
    """One-sheet workbook (openpyxl write-only mode: streams rows, several times faster)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    safe = neutralise(flat(df))
    ws.append([str(c) for c in safe.columns])
    for row in safe.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
