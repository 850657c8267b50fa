"""From a clean wave to the analysis frame: demographic groups, area columns, missing kinds.

The analysis core takes a *wide clean frame*: one row per response with ``wave``, area columns
(``district``, ``neighborhood``, optional ``beat``), one float column per instrument variable
holding canonical codes (NaN when missing) and optionally ``<variable>__missing`` with the kind
of each missing answer — the shape of :meth:`survey_pipeline.store.Store.read_clean_wave`.
:func:`wide_from_codes` builds it from a CSV of canonical codes (the fixture city's generic
exports) without a store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.instrument.model import Instrument

__all__ = ["GROUP_DIMS", "derive_groups", "wide_from_codes"]

GROUP_DIMS: tuple[str, ...] = ("age_group", "sex", "race_ethnicity", "tenure")
"""Demographic dimensions :func:`derive_groups` knows how to build."""


def wide_from_codes(codes: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Turn a table of canonical codes (as strings or numbers) into the wide clean frame.

    Each instrument variable becomes a float column; an answer equal to one of its list's
    missing codes (e.g. 8 = don't know) becomes NaN with its kind in ``<var>__missing``; a blank
    becomes NaN with kind ``skipped``. Non-variable columns are kept as they are.
    """
    out = {c: codes[c] for c in codes.columns}
    options = {}
    for v in inst.variables():
        if v.name not in codes.columns or v.type == "text":
            continue
        x = pd.to_numeric(codes[v.name].replace("", np.nan), errors="coerce").astype(float)
        kind = pd.Series(np.where(x.isna(), "skipped", None), index=codes.index, dtype=object)
        if v.answer_list and v.type in ("single", "grid"):
            if v.answer_list not in options:
                options[v.answer_list] = inst.answer_options(v.answer_list)[1]
            for k, m in options[v.answer_list].items():
                hit = (x == m.code).to_numpy()
                kind[hit] = k
                x[hit] = np.nan
        if v.type == "rank":
            kind[:] = None
        out[v.name] = x
        out[f"{v.name}__missing"] = kind
    return pd.DataFrame(out, index=codes.index)


def _names(inst: Instrument, var: str, x: pd.Series, variables) -> pd.Series:
    v = next(vv for vv in variables if vv.name == var)
    choices, _ = inst.answer_options(v.answer_list) if v.answer_list else ([], {})
    lut = {float(c.code): c.name for c in choices}
    return x.map(lut).astype(object)


def derive_groups(frame: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Add demographic group columns (choice names, None when not answered).

    Rules (each applies only when the instrument has the variables):

    * ``age_group``, ``tenure``: the variable's choice name.
    * ``sex``: the ``sex`` variable, else ``gender``.
    * ``race_ethnicity``: ``hispanic`` when the ``hispanic`` (yes/no) answer is yes; else the
      single race chosen among the ``race`` multi-select options; ``multiracial`` when several;
      None when none is chosen.

    Returns a copy with the columns added (existing columns of those names are kept).
    """
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    new: dict[str, pd.Series] = {}
    variables = inst.variables()
    names = {v.name for v in variables}
    for dim in ("age_group", "tenure"):
        if dim in names and dim in out.columns and not _is_text(out[dim]):
            new[dim] = _names(inst, dim, out[dim], variables)
    if "sex" not in out.columns or not _is_text(out["sex"]):
        src = "sex" if "sex" in names and "sex" in out.columns else ("gender" if "gender" in names else None)
        if src and src in out.columns:
            new["sex"] = _names(inst, src, out[src], variables)
    if "race_ethnicity" not in out.columns:
        race_vars = [v for v in variables if v.question == "race" and v.type == "multi"]
        race_vars = [v for v in race_vars if v.name in out.columns]
        if race_vars:
            m = np.column_stack([out[v.name].fillna(0).to_numpy(float) == 1 for v in race_vars])
            k = m.sum(axis=1)
            choices, _ = inst.answer_options(race_vars[0].answer_list)
            by_code = {c.code: c.name for c in choices}
            first = np.array([by_code.get(v.choice_code, v.name) for v in race_vars], dtype=object)
            race = np.where(k == 1, first[np.argmax(m, axis=1)], np.where(k > 1, "multiracial", None))
            if "hispanic" in out.columns and "hispanic" in names:
                race = np.where(out["hispanic"].to_numpy(float) == 1, "hispanic", race)
            new["race_ethnicity"] = pd.Series(race, index=out.index, dtype=object)
    for c in [c for c in new if c in out.columns]:
        out[c] = new.pop(c)
    # new columns in one step (a store frame has hundreds of blocks; inserting one by one warns)
    return pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1) if new else out


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object and bool(s.notna().any()) and pd.api.types.infer_dtype(s, skipna=True) == "string"
