"""Text that a spreadsheet would run as a formula, neutralised (OWASP "CSV injection").

Shared by the reports, the dashboard's downloads, the codebook and the mapping files ingest writes
(``mappings/*.csv``, whose first column copies the export's headers verbatim): any text cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so a
spreadsheet shows it as text. Numbers are never touched: a negative number is not a formula.
:func:`unsafe_text` undoes :func:`safe_text` for a file the tool reads back (the mapping files).

A file another program reads cell by cell (the XLSForm, read by pyxform and form servers) keeps its
text exact instead: :func:`text_cells` stores every such cell of an openpyxl sheet as a string
cell with Excel's quote prefix, so the form's labels are unchanged and no cell is a formula.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FORMULA_START", "neutralise", "safe_text", "text_cells", "unsafe_text"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(v: object) -> object:
    """``v`` with a leading ``'`` when it is text a spreadsheet would run as a formula, else ``v``.

    Text starting with ``'`` before such a character gets one more, so :func:`unsafe_text` gives
    back exactly ``v``."""
    if isinstance(v, str) and v.lstrip("'").startswith(FORMULA_START):
        return "'" + v
    return v


def unsafe_text(v: object) -> object:
    """The text :func:`safe_text` was given: one leading ``'`` before a formula character removed."""
    if isinstance(v, str) and v[:1] == "'" and v.lstrip("'").startswith(FORMULA_START):
        return v[1:]
    return v


def text_cells(ws) -> int:
    """Make every cell of the openpyxl worksheet ``ws`` whose text starts like a formula a string
    cell with Excel's quote prefix (openpyxl stores text starting with ``=`` as a live formula).
    The text itself is unchanged. Returns the number of cells changed."""
    n = 0
    for row in ws.iter_rows():
        for cell in row:
            v = cell.value
            if isinstance(v, str) and v.startswith(FORMULA_START):
                cell.data_type = "s"
                cell.quotePrefix = True
                n += 1
    return n


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` where every text cell (and column name) starting with = + - @ (or a tab or
    carriage return) is prefixed with ``'`` so a spreadsheet shows it as text, never runs it as a
    formula. Numbers stay numbers."""
    out = df.copy()
    out.columns = [safe_text(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_text)
    return out
