"""Text that a spreadsheet would run as a formula, neutralised (OWASP "CSV injection").

Shared by the reports and the dashboard's downloads: any text cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so a spreadsheet shows it as text.
Numbers are never touched: a negative number is not a formula.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FORMULA_START", "neutralise", "safe_text"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(v: object) -> object:
    """``v`` with a leading ``'`` when it is text a spreadsheet would run as a formula, else ``v``."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


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
