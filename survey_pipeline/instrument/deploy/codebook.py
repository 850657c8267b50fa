"""Codebook: an Excel workbook of variables, answer codes and the instrument's identity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from survey_pipeline.instrument.deploy.common import options, text
from survey_pipeline.instrument.model import Instrument
from survey_pipeline.safe import safe_text

__all__ = ["build_codebook", "safe_cell", "write_codebook"]

safe_cell = safe_text
"""Neutralise text a spreadsheet would run as a formula (:func:`survey_pipeline.safe.safe_text`)."""


def build_codebook(inst: Instrument) -> dict[str, pd.DataFrame]:
    """The ``Variables``, ``Codes`` and ``Instrument`` sheets, labels in each of ``inst.languages``."""
    langs = inst.languages
    var_rows = []
    used_lists: list[str] = []
    for v in inst.variables():
        r = {"variable": v.name, "question": v.question, "module": v.module, "type": v.type,
             "role": v.role.value if v.role else ""}
        for lang in langs:
            r[f"label ({lang})"] = text(v.label, lang)
        for lang in langs:
            r[f"question text ({lang})"] = text(v.question_label, lang)
        answer_list = v.answer_list or ""
        if v.type == "multi":
            answer_list = "0/1 (not selected/selected)"
        elif v.type == "rank":
            answer_list = "rank (1 = first)"
        elif v.answer_list and v.answer_list not in used_lists:
            used_lists.append(v.answer_list)
        r.update({"answer list": answer_list, "index": v.index or "", "reverse": "yes" if v.reverse else "",
                  "department": v.department or "", "relevant": v.relevant or ""})
        var_rows.append(r)
    code_rows = []
    for lst in used_lists:
        for o in options(inst, lst):
            r = {"answer list": lst, "code": o.code}
            for lang in langs:
                r[f"label ({lang})"] = text(o.label, lang)
            r["missing kind"] = o.missing or ""
            code_rows.append(r)
    info = [
        ("id", inst.id), ("version", inst.version), ("title", text(inst.title, inst.language)),
        ("languages", ", ".join(langs)), ("agency", inst.agency or ""),
        ("modules", ", ".join(m.id for m in inst.modules)),
        ("questions", len(inst.questions())), ("variables", len(var_rows)),
        ("areas", ", ".join(f"{a.code} {text(a.label, inst.language)}" for a in inst.areas.items)),
    ]
    return {
        "Variables": pd.DataFrame(var_rows),
        "Codes": pd.DataFrame(code_rows, columns=["answer list", "code", *[f"label ({lang})" for lang in langs], "missing kind"]),
        "Instrument": pd.DataFrame(info, columns=["field", "value"]),
    }


def write_codebook(sheets: dict[str, pd.DataFrame], out: str | Path) -> Path:
    """Write the codebook: bold header, frozen header row, column widths, formula-safe text."""
    out = Path(out)
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.map(safe_cell).to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "B2" if name == "Variables" else "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for i, col in enumerate(df.columns, start=1):
                longest = max([len(str(col))] + [len(str(x)) for x in df[col].tolist()])
                width = min(max(10, longest + 2), 60)
                ws.column_dimensions[get_column_letter(i)].width = width
                if width == 60:
                    for cell in ws[get_column_letter(i)][1:]:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.auto_filter.ref = ws.dimensions
    return out
