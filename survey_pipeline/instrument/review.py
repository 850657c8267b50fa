"""``review.xlsx``: what was inferred about each question, for the analyst to check in Excel.

One row per question of an instrument document (the YAML as a dict): its text, the export
columns it came from, type, answer list with its codes, whether the list is ordered, its positive
end, missing codes, grid items, role, department, area level, weight, include, and why each was
inferred (with the fields that are guesses). The closed choices are dropdowns (openpyxl data
validation). :func:`apply_review` turns an edited sheet back into an instrument document (the
YAML stays the source of truth, written by the tool), and :func:`review_settings` gives the
project settings the sheet implies (area columns and their levels, the weight column).

Pure functions of dicts and DataFrames, except :func:`write_review_xlsx` and
:func:`read_review_xlsx` (the workbook file).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd

from survey_pipeline.errors import InstrumentError, Problem
from survey_pipeline.instrument.model import MISSING_KINDS, Role

__all__ = ["AREA_LEVELS", "REVIEW_COLUMNS", "apply_review", "read_review_xlsx", "review_frame",
           "review_settings", "write_review_xlsx"]

AREA_LEVELS: tuple[str, ...] = ("district", "police_district", "pac", "ward", "council_district", "neighborhood",
                                "beat", "zip")
"""Area levels a geography column may hold (the contract of issue 12); see :data:`RESULT_LEVEL`."""
RESULT_LEVEL = {"district": "district", "police_district": "district", "pac": "district", "ward": "district",
                "council_district": "district", "neighborhood": "neighborhood", "zip": "neighborhood",
                "beat": "beat"}
"""The area level of the results each column level gives (ZIP codes are reported as neighborhoods)."""

REVIEW_COLUMNS = ["question", "text", "columns", "type", "list", "codes", "order", "positive_end", "positive_codes",
                  "missing", "grid_items", "role", "department", "area_level", "weight", "include", "why",
                  "guessed"]
EDITABLE = ("order", "positive_end", "missing", "role", "department", "area_level", "weight", "include")
CHOICES = {
    "order": ("ordered", "unordered"),
    "positive_end": ("high", "low", "none"),
    "role": tuple(r.value for r in Role),
    "area_level": ("none", *AREA_LEVELS),
    "weight": ("yes", "no"),
    "include": ("yes", "no"),
}
SHEET = "review"
_MISSING_PART = re.compile(r"^\s*(-?\d+)\s*=\s*([a-z_]+)\s*$")


# --- the document's lists -----------------------------------------------------------------------


def _list_entry(doc: dict, name: str | None) -> tuple[str | None, dict | None]:
    """(``"scale"``/``"choices"``, the list as a dict with ``codes``/``choices`` and ``missing``)."""
    if not name:
        return None, None
    if name in (doc.get("scales") or {}):
        return "scale", doc["scales"][name]
    cl = (doc.get("choice_lists") or {}).get(name)
    if cl is None:
        return None, None
    if isinstance(cl, list):  # the short form: a bare list of choices
        cl = doc["choice_lists"][name] = {"choices": cl}
    return "choices", cl


def _items(entry: dict | None) -> list[dict]:
    if not entry:
        return []
    return entry.get("codes") or entry.get("choices") or []


def _label(x: dict, lang: str) -> str:
    lab = x.get("label") or {}
    return str(lab.get(lang) or next(iter(lab.values()), "")) if isinstance(lab, dict) else str(lab)


def _positive_end(entry: dict) -> str:
    pos = entry.get("positive") or []
    codes = [c["code"] for c in _items(entry)]
    if not pos or not codes:
        return "none"
    return "high" if min(pos) >= (min(codes) + max(codes)) / 2 else "low"


def _end_codes(entry: dict, end: str) -> list[int]:
    """Top-two box (top one on a 3-point scale) at ``end``."""
    codes = sorted(c["code"] for c in _items(entry))
    k = 1 if len(codes) <= 3 else 2
    return codes[-k:] if end == "high" else codes[:k]


def _questions(doc: dict) -> list[dict]:
    return [q for m in doc.get("modules") or [] for q in m.get("questions") or []]


# --- the frame ----------------------------------------------------------------------------------


def review_frame(doc: dict, evidence: dict | None = None, *, area_columns: list[dict] | None = None,
                 weight_column: dict | None = None) -> pd.DataFrame:
    """One row per question of ``doc`` (see the module docstring); ``evidence`` as
    :func:`~survey_pipeline.ingest.infer.infer_instrument` returns it (optional: the why columns
    are then empty), ``area_columns`` and ``weight_column`` likewise."""
    evidence = evidence or {}
    lang = doc.get("default_language") or (doc.get("languages") or ["en"])[0]
    levels = {a.get("question"): a.get("level") for a in (area_columns or []) if a.get("question")}
    weight_q = (weight_column or {}).get("question")
    rows = []
    for q in _questions(doc):
        qid = str(q.get("id"))
        lst = q.get("scale") or q.get("choices") or q.get("items_from")
        kind, entry = _list_entry(doc, q.get("scale") or q.get("choices"))
        ev = evidence.get(qid) or {}
        why = ev.get("why") or {}
        items = q.get("items") or []
        role = q.get("role") or "other"
        role = role.value if isinstance(role, Role) else str(role)
        rows.append({
            "question": qid,
            "text": _label(q, lang),
            "columns": "; ".join(map(str, ev.get("columns") or [])),
            "type": q.get("type", ""),
            "list": lst or "",
            "codes": "; ".join(f"{c['code']}={_label(c, lang)}" for c in _items(entry)),
            "order": ("ordered" if entry.get("ordered", True) else "unordered") if kind == "scale" else
            ("unordered" if kind == "choices" else ""),
            "positive_end": _positive_end(entry) if kind == "scale" else "",
            "positive_codes": ", ".join(map(str, entry.get("positive") or [])) if kind == "scale" else "",
            "missing": "; ".join(f"{m['code']}={k}" for k, m in (entry or {}).get("missing", {}).items()),
            "grid_items": "; ".join(str(i.get("id")) for i in items) if items else "",
            "role": role,
            "department": q.get("department") or "",
            "area_level": levels.get(qid) or ("none" if role != "geography" else "neighborhood"),
            "weight": "yes" if qid == weight_q else "no",
            "include": "yes",
            "why": "; ".join(f"{k}: {v}" for k, v in why.items()),
            "guessed": ", ".join(ev.get("guessed") or []),
        })
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


# --- the workbook -------------------------------------------------------------------------------


def write_review_xlsx(frame: pd.DataFrame, path: str | Path, *, departments: list[str] | None = None) -> Path:
    """Write the review sheet: a header, one row per question, dropdowns on the closed choices,
    guessed fields in yellow, the columns the analyst edits in bold, and a "how to" sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(REVIEW_COLUMNS)
    for row in frame[REVIEW_COLUMNS].itertuples(index=False):
        ws.append(["" if v is None or (isinstance(v, float) and v != v) else v for v in row])
    n = len(frame) + 1
    bold = Font(bold=True)
    for j, col in enumerate(REVIEW_COLUMNS, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font = bold
        if col in EDITABLE:
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
    choices = dict(CHOICES)
    if departments:
        choices["department"] = tuple(departments)
    for col, vals in choices.items():
        if len(",".join(vals)) > 250:  # Excel's limit for a list written in the rule
            continue
        j = REVIEW_COLUMNS.index(col) + 1
        letter = ws.cell(row=1, column=j).column_letter
        dv = DataValidation(type="list", formula1='"' + ",".join(vals) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle=f"{col}: not a choice",
                            error=f"Pick one of: {', '.join(vals)}")
        ws.add_data_validation(dv)
        if n > 1:
            dv.add(f"{letter}2:{letter}{n}")
    guess = PatternFill("solid", fgColor="FFF2CC")
    gcol = REVIEW_COLUMNS.index("guessed")
    field_col = {"type": "type", "scale": "codes", "order": "order", "positive": "positive_end",
                 "missing": "missing", "grid": "grid_items", "role": "role", "department": "department",
                 "area_level": "area_level", "weight": "weight", "include": "include"}
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for f in (x.strip() for x in str(row[gcol] or "").split(",") if x.strip()):
            if f in field_col:
                ws.cell(row=i, column=REVIEW_COLUMNS.index(field_col[f]) + 1).fill = guess
    for j, col in enumerate(REVIEW_COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = {
            "text": 50, "codes": 40, "why": 60, "columns": 24}.get(col, 14)
    ws.freeze_panes = "B2"
    how = wb.create_sheet("how to")
    for line in (
        "Check each question of the drafted instrument, then save this file and run: survey-pipeline run DIR",
        "(or survey-pipeline instrument apply-review DIR). The instrument YAML is rebuilt from this sheet.",
        "Columns with a blue header are yours to edit; yellow cells are guesses of the tool, to check first.",
        "role: what the analysis does with the question (satisfaction, safety, trust, problem, importance,",
        "  priority, contact give indicators; demographic gives groups; geography gives areas; other: an",
        "  ordered scale still gives its mean and share positive).",
        "order: ordered | unordered; positive_end: high | low | none (which end counts as positive).",
        "missing: codes that are not answers, as 9=dont_know; 99=refused.",
        "area_level: the level a geography column holds (zip and neighborhood give neighborhood rows).",
        "weight: yes on the column of vendor weights to use as base weights; include: no leaves it out.",
    ):
        how.append([line])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def read_review_xlsx(path: str | Path) -> pd.DataFrame:
    """Read an edited review sheet back (every cell as text, blanks as "")."""
    path = Path(path)
    try:
        df = pd.read_excel(path, sheet_name=SHEET, dtype=str, keep_default_na=False)
    except (OSError, ValueError, KeyError) as exc:
        raise InstrumentError(f"{path}: cannot read the review sheet ({exc}).", file=path, rule="bad-review",
                              fix=f"Keep the sheet '{SHEET}' of the workbook survey-pipeline wrote, and save it as .xlsx.") from None
    missing = [c for c in ("question", *EDITABLE) if c not in df.columns]
    if missing:
        raise InstrumentError(f"{path}: the review sheet lacks column(s) {', '.join(missing)}.", file=path,
                              rule="bad-review", fix="Edit the cells, not the header row; write the file again with "
                                                     "survey-pipeline instrument review DIR if needed.")
    return df.fillna("").astype(str).apply(lambda s: s.str.strip())


# --- applying it ----------------------------------------------------------------------------------


def _parse_missing(text: str, where: str, probs: list[Problem], file: str | None) -> dict[int, str] | None:
    out: dict[int, str] = {}
    for part in (p for p in re.split(r"[;,]", text) if p.strip()):
        m = _MISSING_PART.match(part)
        if not m or m.group(2) not in MISSING_KINDS:
            probs.append(Problem(file, "bad-missing", f"missing '{part.strip()}' is not CODE=KIND.",
                                 f"Write codes as 9=dont_know; 99=refused (kinds: {', '.join(MISSING_KINDS)}).",
                                 question=where, column="missing"))
            return None
        out[int(m.group(1))] = m.group(2)
    if len(set(out.values())) < len(out):
        probs.append(Problem(file, "bad-missing", "each missing kind may have one code.",
                             "Keep one code per kind (dont_know, refused).", question=where, column="missing"))
        return None
    return out


def apply_review(doc: dict, review: pd.DataFrame, *, draft: dict | None = None, file: str | None = None) -> dict:
    """The instrument document ``doc`` with the review sheet's edits applied (a new dict).

    Per question: ``role``, ``department``, ``include`` (``no`` removes the question; ``yes`` on
    a question that is only in ``draft``, the drafted instrument, brings it back), and on its
    answer list ``order``, ``positive_end`` and ``missing``. A list shared by questions the sheet
    treats differently is copied for the ones that differ (``<list>__<question>``), so an edit on
    one row never changes another row. ``area_level`` makes the question a geography question.

    Raises
    ------
    InstrumentError
        Listing every cell that is not one of its choices, and every unknown question.
    """
    out = copy.deepcopy(doc)
    probs: list[Problem] = []
    rows = {str(r["question"]): r for _, r in review.iterrows() if str(r.get("question", "")).strip()}
    known = {str(q.get("id")) for q in _questions(out)}
    draft_qs = {str(q.get("id")): (m.get("id"), q) for m in (draft or {}).get("modules") or []
                for q in m.get("questions") or []}
    for qid, r in rows.items():
        for col, vals in CHOICES.items():
            v = str(r.get(col, "")).strip()
            if v and v not in vals and not (col in ("order", "positive_end") and v == ""):
                probs.append(Problem(file, "bad-choice", f"{col} '{v}' is not one of its choices.",
                                     f"Pick one of: {', '.join(vals)}.", question=qid, column=col))
        if qid not in known and qid not in draft_qs:
            probs.append(Problem(file, "unknown-question", f"question '{qid}' is not in the instrument.",
                                 "Keep the question ids of the sheet as written by survey-pipeline.", question=qid))
    if probs:
        raise InstrumentError(f"{file or 'review.xlsx'}: {len(probs)} problem(s) in the review sheet.",
                              problems=probs, file=file, rule="bad-review")
    # include: remove, or bring back from the draft
    for m in out.get("modules") or []:
        m["questions"] = [q for q in m.get("questions") or []
                          if rows.get(str(q.get("id")), {}).get("include", "yes") != "no"]
    for qid, r in rows.items():
        if r.get("include", "yes") != "no" and qid not in known and qid in draft_qs:
            mid, q = draft_qs[qid]
            mod = next((m for m in out.get("modules") or [] if m.get("id") == mid), None)
            if mod is None:
                mod = {"id": mid, "questions": []}
                out.setdefault("modules", []).append(mod)
            mod["questions"].append(copy.deepcopy(q))
            for key in ("scales", "choice_lists"):
                for name, lst in ((draft or {}).get(key) or {}).items():
                    out.setdefault(key, {}).setdefault(name, copy.deepcopy(lst))
    # per question fields
    for q in _questions(out):
        r = rows.get(str(q.get("id")))
        if r is None:
            continue
        role = r.get("role", "")
        level = r.get("area_level", "")
        if level and level != "none":
            role = "geography"
        elif level == "none" and role == "geography":
            role = "other"  # no longer an area column
        if role:
            q["role"] = role
        dept = r.get("department", "")
        if dept:
            q["department"] = dept
        elif "department" in q and "department" in r:
            q.pop("department")
    # list fields: grouped by list, copied where the rows disagree
    by_list: dict[str, list[dict]] = {}
    for q in _questions(out):
        name = q.get("scale") or q.get("choices")
        if name and str(q.get("id")) in rows:
            by_list.setdefault(name, []).append(q)
    for name, qs in by_list.items():
        kind, entry = _list_entry(out, name)
        if entry is None:
            continue
        wanted = []
        for q in qs:
            r = rows[str(q["id"])]
            miss = _parse_missing(r.get("missing", ""), str(q["id"]), probs, file)
            wanted.append((r.get("order", ""), r.get("positive_end", ""),
                           tuple(sorted(miss.items())) if miss is not None else None))
        groups: dict[tuple, list[dict]] = {}
        for q, w in zip(qs, wanted, strict=True):
            groups.setdefault(w, []).append(q)
        # the rows that leave the list as it is keep its name (else the largest group does)
        now = (("ordered" if entry.get("ordered", True) else "unordered") if kind == "scale" else "unordered",
               _positive_end(entry) if kind == "scale" else "",
               tuple(sorted((m["code"], k) for k, m in (entry.get("missing") or {}).items())))
        groups = dict(sorted(groups.items(), key=lambda kv: (
            (kv[0][0] or now[0], kv[0][1] or now[1], kv[0][2]) != now, -len(kv[1]))))
        first = True
        for (order, pos_end, miss), members in groups.items():
            if first:
                target_name, target = name, entry
                first = False
            else:
                target_name = f"{name}__{members[0]['id']}"
                target = copy.deepcopy(entry)
                section = "scales" if kind == "scale" else "choice_lists"
                out[section][target_name] = target
                for q in members:
                    q["scale" if kind == "scale" else "choices"] = target_name
            kind_now = "scale" if target_name in (out.get("scales") or {}) else "choices"
            if miss is not None:
                _set_missing(target, dict(miss))
            if kind_now == "scale":
                if order:
                    target["ordered"] = order == "ordered"
                if pos_end in ("high", "low"):
                    target["positive"] = _end_codes(target, pos_end)
                elif pos_end == "none":
                    target.pop("positive", None)
            elif order == "ordered" and kind_now == "choices":
                _choices_to_scale(out, target_name, members, pos_end)
    if probs:
        raise InstrumentError(f"{file or 'review.xlsx'}: {len(probs)} problem(s) in the review sheet.",
                              problems=probs, file=file, rule="bad-review")
    return out


def _set_missing(entry: dict, missing: dict[int, str]) -> None:
    """Set the list's missing codes: codes named missing leave the answers (their label kept)."""
    key = "codes" if "codes" in entry else "choices"
    labels = {c["code"]: c.get("label") for c in entry.get(key) or []}
    labels.update({m["code"]: m.get("label") for m in (entry.get("missing") or {}).values()})
    entry[key] = [c for c in entry.get(key) or [] if c["code"] not in missing]
    default = {"dont_know": {"en": "Don't know"}, "refused": {"en": "Refused"}}
    entry["missing"] = {kind: {"code": code, "label": labels.get(code) or default[kind]}
                        for code, kind in missing.items()}
    if not entry["missing"]:
        entry.pop("missing")
    if "positive" in entry:
        entry["positive"] = [c for c in entry["positive"] if c not in missing]


def _choices_to_scale(doc: dict, name: str, members: list[dict], pos_end: str) -> None:
    """An unordered choice list the analyst says is ordered becomes a scale (codes in code order)."""
    entry = doc["choice_lists"].pop(name)
    scale = {"ordered": True, "codes": [{"code": c["code"], "label": c.get("label")}
                                        for c in sorted(entry.get("choices") or [], key=lambda c: c["code"])]}
    if entry.get("missing"):
        scale["missing"] = entry["missing"]
    if pos_end in ("high", "low"):
        scale["positive"] = _end_codes(scale, pos_end)
    new = name if name not in (doc.get("scales") or {}) else f"{name}__scale"
    doc.setdefault("scales", {})[new] = scale
    for q in members:
        q.pop("choices", None)
        q["scale"] = new
    if not doc["choice_lists"]:
        doc.pop("choice_lists")


def review_settings(review: pd.DataFrame) -> dict:
    """The project settings the sheet implies: ``area_columns`` (question, level, in sheet order)
    and ``weight`` (the question whose weight cell is yes, or None), for included questions."""
    inc = review[review.get("include", pd.Series("yes", index=review.index)).astype(str) != "no"]
    areas = [{"question": str(r["question"]), "level": str(r["area_level"])} for _, r in inc.iterrows()
             if str(r.get("area_level", "")) not in ("", "none")]
    w = [str(r["question"]) for _, r in inc.iterrows() if str(r.get("weight", "")) == "yes"]
    if len(w) > 1:
        raise InstrumentError(f"review.xlsx: {len(w)} questions are marked as the weight ({', '.join(w)}).",
                              rule="two-weights", fix="Mark one weight column with yes, the others no.")
    return {"area_columns": areas, "weight": w[0] if w else None}
