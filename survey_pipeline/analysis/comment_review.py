"""The analyst's review of the comment codes: a workbook out, corrections in (``survey-pipeline comments``).

:func:`export_review` writes ``review.xlsx``: sheet ``comments``, one row per comment of the last
analysis (``response_id, question, wave, area, language, text, rules``, then one column per theme
holding 1 when the comment has it, blank otherwise, then ``reviewed``), and sheet ``themes``
(each theme's id, kind and labels). Text cells are formula-safe (:mod:`survey_pipeline.safe`).

:func:`import_review` reads the workbook back. A row is a correction when its ``reviewed`` cell is
marked (1, x, yes, true) or its theme cells differ from the codes the workbook was made from. Each
correction replaces the comment's themes in the store table ``comment_reviews`` (one row per
theme; a comment with no theme keeps one row with an empty theme), and the analysis applies them
on every rerun, whatever the lexicon says (:func:`~survey_pipeline.analysis.comments.apply_reviews`).
Every problem in the workbook is reported at once, each with its row, column, rule and fix; nothing
is stored unless the whole workbook is valid.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from survey_pipeline.errors import CommentsError, Problem
from survey_pipeline.project import check_project
from survey_pipeline.safe import safe_text, unsafe_text

from .comments import REVIEW_COLUMNS, REVIEW_TABLE, lexicon_path, load_lexicon

__all__ = ["ImportResult", "export_review", "import_review"]

SHEET = "comments"
FIXED = ["response_id", "question", "wave", "area", "language", "text", "rules"]
MARKED = {"1", "1.0", "x", "yes", "y", "true", "si", "sí"}
BLANK = {"", "0", "0.0", "no", "n", "false"}


def _codes(store) -> pd.DataFrame:
    got = store.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'comment_codes'")
    if int(got["n"].iloc[0]) == 0:
        return pd.DataFrame(columns=["response_id", "wave", "variable", "theme", "rule", "source"])
    return store.query("SELECT * FROM comment_codes")


def _comments(project) -> tuple[pd.DataFrame, pd.DataFrame]:
    from survey_pipeline.store import Store

    with Store(project.store_path, read_only=True) as store:
        texts = store.query(
            "SELECT o.response_id, o.variable, o.wave, r.area_neighborhood AS area, lower(r.survey_language) AS language, "
            "o.text FROM open_text o JOIN responses r ON r.response_id = o.response_id "
            "WHERE trim(o.text) <> '' AND NOT r.excluded ORDER BY o.wave, o.response_id, o.variable")
        codes = _codes(store)
    return texts, codes


def export_review(project_dir: str | Path, out_file: str | Path) -> int:
    """Write the review workbook of the project's comments; returns the number of comments.

    Raises
    ------
    CommentsError
        The file is not ``.xlsx``, or the project has no analysed comments (run the analysis first).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    out = Path(out_file)
    if out.suffix.lower() != ".xlsx":
        raise CommentsError(f"{out}: the review workbook must be an .xlsx file.", file=out, rule="not-xlsx",
                            fix="Give a file name ending in .xlsx, e.g. --out review.xlsx.")
    project = check_project(project_dir)
    lexicon = load_lexicon(lexicon_path(project.root))
    texts, codes = _comments(project)
    if codes.empty:
        raise CommentsError(f"{project.store_path}: no coded comments yet.", file=project.store_path,
                            rule="no-coded-comments",
                            fix=f"Run the analysis first: survey-pipeline analyze --project {project.root}")
    keys = ["response_id", "variable"]
    texts = texts.merge(codes[keys].drop_duplicates(), on=keys)  # the comments the analysis coded
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ids = lexicon.ids
    ws.append([*FIXED, *ids, "reviewed"])
    for c in ws[1]:
        c.font = Font(bold=True)
    by = dict(list(codes.groupby(keys, sort=False)))
    for r in texts.itertuples(index=False):
        g = by.get((r.response_id, r.variable))
        themes = set(g["theme"]) if g is not None else set()
        rules = "; ".join(f"{th} <- {rule}" for th, rule in zip(g["theme"], g["rule"], strict=True)) if g is not None else ""
        reviewed = g is not None and (g["source"] == "review").any()
        ws.append([safe_text(str(v)) if v is not None else None
                   for v in (r.response_id, r.variable, r.wave, r.area, r.language, r.text, rules)]
                  + [1 if th in themes else None for th in ids] + [1 if reviewed else None])
    ws.freeze_panes = "H2"
    ts = wb.create_sheet("themes")
    ts.append(["theme", "kind", "department", "label_en", "label_es"])
    for th in lexicon.themes:
        ts.append([th.id, th.kind, th.department, safe_text(th.label.get("en", th.id)),
                   safe_text(th.label.get("es", th.label.get("en", th.id)))])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(texts)


class ImportResult:
    """What an import stored: the corrected comments and the rows read."""

    def __init__(self, corrected: int, rows: int):
        self.corrected = corrected
        self.rows = rows


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(unsafe_text(v) if isinstance(v, str) else v).strip().lower()


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def import_review(project_dir: str | Path, review_file: str | Path) -> ImportResult:
    """Store the corrections of a review workbook (see the module docstring).

    Raises
    ------
    CommentsError
        The file is missing, not a workbook, lacks the ``comments`` sheet or a column, names an
        unknown theme or comment, or holds a theme cell other than 1 / blank.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    from survey_pipeline.store import Store

    path = Path(review_file)
    where = str(path)
    if not path.exists():
        raise CommentsError(f"{path}: no such file.", file=path, rule="missing-file",
                            fix="Give the workbook 'survey-pipeline comments export' wrote (and you edited).")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise CommentsError(f"{path}: not an Excel workbook ({exc}).", file=path, rule="not-xlsx",
                            fix="Save the review as an Excel workbook (.xlsx), not CSV or .xls.") from exc
    project = check_project(project_dir)
    lexicon = load_lexicon(lexicon_path(project.root))
    if SHEET not in wb.sheetnames:
        raise CommentsError(f"{path}: no sheet '{SHEET}' (sheets: {', '.join(wb.sheetnames)}).", file=path,
                            rule="missing-sheet", fix=f"Keep the sheet '{SHEET}' the export wrote; do not rename it.")
    rows = list(wb[SHEET].iter_rows(values_only=True))
    wb.close()
    if not rows:
        raise CommentsError(f"{path}: sheet '{SHEET}' is empty.", file=path, rule="empty-sheet",
                            fix="Export a fresh workbook: survey-pipeline comments export --project P --out review.xlsx")
    head = [_cell(h) for h in rows[0]]
    probs: list[Problem] = []
    for need in ("response_id", "question", "reviewed"):
        if need not in head:
            probs.append(Problem(file=f"{where} (sheet {SHEET})", row=1, column=need, rule="missing-column",
                                 message=f"sheet '{SHEET}' has no column '{need}'.",
                                 fix="Keep the export's columns; add or remove none but theme columns."))
    known = set(lexicon.ids)
    theme_cols = {}
    for i, h in enumerate(head):
        if h in FIXED or h == "reviewed" or not h:
            continue
        if h in known:
            theme_cols[h] = i
        else:
            probs.append(Problem(file=f"{where} (sheet {SHEET})", row=1, column=_col_letter(i), rule="unknown-theme",
                                 message=f"column {_col_letter(i)} '{h}' is not a theme of {Path(lexicon.path).name}.",
                                 fix=f"Use a theme id of the lexicon ({', '.join(lexicon.ids[:6])}, ...) or add the "
                                     f"theme to {lexicon.path} first."))
    if probs:
        raise CommentsError(f"{path}: {len(probs)} problem(s) in the review workbook.", probs, file=path,
                            rule=probs[0].rule, fix=probs[0].fix)
    ci = {h: head.index(h) for h in ("response_id", "question", "reviewed")}
    texts, codes = _comments(project)
    coded = {k: set(g["theme"]) for k, g in codes.groupby(["response_id", "variable"], sort=False)}
    waves = dict(zip(zip(texts["response_id"], texts["variable"], strict=True), texts["wave"], strict=True))
    out_rows: list[dict] = []
    corrected = 0
    for n, row in enumerate(rows[1:], start=2):
        cells = list(row) + [None] * (len(head) - len(row))
        rid = unsafe_text(cells[ci["response_id"]]) if cells[ci["response_id"]] is not None else ""
        q = unsafe_text(cells[ci["question"]]) if cells[ci["question"]] is not None else ""
        rid, q = str(rid).strip(), str(q).strip()
        if not rid and not q and all(c is None for c in cells):
            continue
        key = (rid, q)
        if key not in waves:
            probs.append(Problem(file=f"{where} (sheet {SHEET})", row=n, column="response_id", rule="unknown-comment",
                                 message=f"row {n}: no comment '{q}' of response '{rid}' in the store.",
                                 fix="Keep the response_id and question cells as exported; delete rows you added."))
            continue
        themes, bad = set(), False
        for th, i in theme_cols.items():
            v = _cell(cells[i])
            if v in MARKED:
                themes.add(th)
            elif v not in BLANK:
                bad = True
                probs.append(Problem(file=f"{where} (sheet {SHEET})", row=n, column=f"{_col_letter(i)} ({th})",
                                     rule="bad-theme-cell", message=f"row {n}, column '{th}': {cells[i]!r} is not 1 or blank.",
                                     fix="Put 1 when the comment has the theme and leave the cell empty when not."))
        rv = _cell(cells[ci["reviewed"]])
        if rv not in MARKED and rv not in BLANK:
            bad = True
            probs.append(Problem(file=f"{where} (sheet {SHEET})", row=n, column=f"{_col_letter(ci['reviewed'])} (reviewed)",
                                 rule="bad-reviewed-cell", message=f"row {n}, column 'reviewed': {cells[ci['reviewed']]!r} is not 1 or blank.",
                                 fix="Put 1 in 'reviewed' when you checked the row's themes; leave it empty otherwise."))
        if bad:
            continue
        if rv in MARKED or themes != coded.get(key, set()):
            corrected += 1
            for th in sorted(themes) or [""]:
                out_rows.append({"response_id": rid, "wave": str(waves[key]), "variable": q, "theme": th})
    if probs:
        raise CommentsError(f"{path}: {len(probs)} problem(s) in the review workbook; nothing was stored.", probs,
                            file=path, rule=probs[0].rule, fix=probs[0].fix)
    now = pd.Timestamp.now(tz="UTC").isoformat()
    new = pd.DataFrame(out_rows, columns=["response_id", "wave", "variable", "theme"]).assign(
        source_file=path.name, imported_at=now)[REVIEW_COLUMNS]
    with Store(project.store_path) as store:
        con = store.con
        con.begin()
        try:
            con.execute(f"CREATE TABLE IF NOT EXISTS {REVIEW_TABLE} (response_id VARCHAR NOT NULL, wave VARCHAR NOT NULL, "
                        "variable VARCHAR NOT NULL, theme VARCHAR NOT NULL, source_file VARCHAR, imported_at VARCHAR)")
            if len(new):
                con.register("_new_reviews", new)
                con.execute(f"DELETE FROM {REVIEW_TABLE} WHERE (response_id, variable) IN "
                            "(SELECT DISTINCT response_id, variable FROM _new_reviews)")
                con.execute(f"INSERT INTO {REVIEW_TABLE} SELECT * FROM _new_reviews")
                con.unregister("_new_reviews")
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return ImportResult(corrected, len(rows) - 1)
