"""A working project from a city's own export: ``survey-pipeline init DIR --from-export FILE``.

:func:`init_from_export` makes, in one step:

- ``DIR/instrument.draft.yaml`` (what :func:`~survey_pipeline.ingest.infer.infer_instrument`
  drafted, kept as drafted) and ``DIR/instrument.yaml`` (the instrument the project uses; the
  tool writes it, from the draft and then from ``review.xlsx``);
- ``DIR/exports/<file>``: the export, copied, listed as the wave's export in ``survey.toml`` with
  its mode when the platform or the file name says it (:mod:`survey_pipeline.ingest.mode`);
- ``DIR/areas.csv``, derived from the data's area column(s) when no areas file is given: one row
  per area value, named as in the data, placeholders (``99999``, ``0``, "Unknown"...) left out
  and listed; ZIP codes and neighborhoods are reported as neighborhoods, districts (police
  district, PAC, ward, council district) as districts, beats as beats;
- a vendor weight column (``weight``, ``wt``, ``final_wt``, ``WEIGHT_*``...) used as base
  weights (``[weighting] base_weight``);
- ``DIR/review.xlsx`` (:mod:`survey_pipeline.instrument.review`).

:func:`apply_project_review` rebuilds ``instrument.yaml`` from ``review.xlsx`` (``survey-pipeline
instrument apply-review``, and ``run`` when the workbook is newer than the instrument).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from survey_pipeline.errors import InstrumentError, ProjectError
from survey_pipeline.project import SURVEY_TOML, Project, init_project, normalize_name

__all__ = ["DRAFT_FILE", "INSTRUMENT_FILE", "REVIEW_FILE", "StartResult", "apply_project_review",
           "derive_areas", "init_from_export", "review_is_newer", "write_project_review"]

INSTRUMENT_FILE = "instrument.yaml"
DRAFT_FILE = "instrument.draft.yaml"
REVIEW_FILE = "review.xlsx"
AREAS_FILE = "areas.csv"
DERIVED_MARK = "# areas.csv derived from the data's area columns (rewritten by apply-review): "

_LEVEL_WORDS = [  # header words -> area level, most specific first
    ("police_district", r"police\s*district|pd\s*district|precinct"),
    ("council_district", r"council\s*district|council|cd\b"),
    ("pac", r"\bpac\b|patrol\s*area|police\s*area"),
    ("ward", r"\bward"),
    ("beat", r"\bbeat"),
    ("neighborhood", r"neighbo|barrio|community\s*area"),
    ("zip", r"zip|postal"),
    ("district", r"district|distrito"),
]
_COARSE_TO_FINE = ["district", "police_district", "council_district", "ward", "pac", "zip", "neighborhood", "beat"]
_PLACEHOLDER_WORDS = {"", "unknown", "n a", "na", "none", "other", "refused", "dont know", "don t know",
                      "not sure", "prefer not to say", "no answer", "missing", "outside", "outside city", "skip"}
_WEIGHT_HEADER = re.compile(r"^(weight|wt|wgt|wght|final_?wt|final_?weight|finalweight|weights?_.*|.*_(weight|wt|wgt)"
                            r"|pop_?weight|weighting|base_?weight)$", re.I)


@dataclass
class StartResult:
    """What :func:`init_from_export` made and found."""

    project: Project
    export: Path
    wave: str
    mode: str
    mode_why: str
    instrument_file: Path
    review_file: Path
    inferred: dict
    areas: dict | None  # file, derived, columns [{column, question, level, values, placeholders}]
    weight: dict | None  # column, question, why
    notes: list[str] = field(default_factory=list)


# --- areas ----------------------------------------------------------------------------------------


def _level_of(header: str) -> str | None:
    h = str(header).replace("_", " ")
    for level, pat in _LEVEL_WORDS:
        if re.search(pat, h, re.I):
            return level
    return None


def _placeholder(value: str, level: str, missing_codes: set[str]) -> bool:
    v = str(value).strip()
    if normalize_name(v) in _PLACEHOLDER_WORDS or v in missing_codes:
        return True
    if level == "zip":
        digits = re.sub(r"-\d{4}$", "", v)
        return not re.fullmatch(r"\d{5}", digits) or digits in ("00000", "99999", "99998", "88888")
    return bool(re.fullmatch(r"9{2,}|0+|-\d+", v))


def derive_areas(frame: pd.DataFrame, area_columns: list[dict], *, missing_codes: dict[str, set[str]] | None = None
                 ) -> tuple[pd.DataFrame, list[dict]] | None:
    """The areas table (neighborhood, district, beat, zip) of the data's area columns.

    ``area_columns``: ``[{column, level, question?}]`` (the contract of issue 12), coarse to fine.
    The neighborhood-like column (neighborhood or ZIP) most respondents answered (else the finest
    column at all) names the neighborhoods, a district-like column gives each its district (its most common
    one), a beat column its beats. Values are kept as written in the data; placeholders are
    left out and listed per column. None when no column has a usable value.
    """
    missing_codes = missing_codes or {}
    cols = [dict(a) for a in area_columns if a.get("column") in frame.columns]
    if not cols:
        return None
    info = []
    for a in cols:
        s = frame[a["column"]].astype("string").str.strip()
        s = s[s.notna() & (s != "")]
        vals = s.unique().tolist()
        given = {str(x) for x in a.get("placeholders") or []}  # the inference's, when it lists them
        ph = sorted({v for v in vals if v in given or _placeholder(v, a["level"], missing_codes.get(a["column"], set()))})
        a["placeholders"] = ph
        a["placeholder_rows"] = int(s.isin(ph).sum())
        a["answered"] = len(s) - a["placeholder_rows"]
        a["values"] = len(vals) - len(ph)
        info.append(a)
    usable = [a for a in info if a["values"] > 0]
    if not usable:
        return None
    order = {lv: i for i, lv in enumerate(_COARSE_TO_FINE)}
    usable.sort(key=lambda a: order.get(a["level"], 0))
    # of several neighborhood-like columns (a ZIP of residence and a follow-up "ZIP if unsure"),
    # the one most respondents answered names the areas; a tie goes to the finer level
    nb_like = [(a["answered"], order.get(a["level"], 0), i) for i, a in enumerate(usable)
               if a["level"] in ("neighborhood", "zip")]
    nb = usable[max(nb_like)[2]] if nb_like else None
    beat = next((a for a in usable if a["level"] == "beat"), None)
    if nb is None:  # the finest column that is not a beat names the areas
        nb = next((a for a in reversed(usable) if a["level"] != "beat"), usable[-1])
    dist = next((a for a in usable if a is not nb and a is not beat and a["level"] not in ("neighborhood", "zip")),
                None)
    for a in usable:
        a["result_level"] = ("neighborhood" if a is nb else "district" if a is dist else
                             "beat" if a is beat else "unused")

    def clean(col: dict) -> pd.Series:
        s = frame[col["column"]].astype("string").str.strip()
        return s.where(s.notna() & (s != "") & ~s.isin(col["placeholders"]))

    names = clean(nb)
    table = pd.DataFrame({"neighborhood": names})
    if dist is not None:
        table["district"] = clean(dist)
    if beat is not None and beat is not nb:
        table["beat"] = clean(beat)
    table = table[table["neighborhood"].notna()]
    rows = []
    for name, g in table.groupby("neighborhood", sort=True):
        r = {"neighborhood": str(name)}
        if "district" in g and g["district"].notna().any():
            r["district"] = str(g["district"].mode().iloc[0])
        elif dist is None and nb["level"] not in ("neighborhood", "zip"):
            r["district"] = str(name)  # a district-level column only: its areas are districts too
        if "beat" in g and g["beat"].notna().any():
            r["beat"] = ";".join(sorted(g["beat"].dropna().astype(str).unique()))
        if nb["level"] == "zip":
            r["zip"] = str(name)
        rows.append(r)
    out = pd.DataFrame(rows)
    keep = ["neighborhood", *[c for c in ("district", "beat", "zip") if c in out.columns]]
    return out[keep].fillna(""), usable


def _question_columns(raw, inst) -> dict[str, str]:
    """Instrument variable -> export column, as ingest maps them."""
    from survey_pipeline.ingest.mapping import map_columns
    from survey_pipeline.ingest.pipeline import identifier_columns
    from survey_pipeline.store import IDENTIFIER_FIELDS

    idents = identifier_columns(raw)
    ident_cols = set(idents.values()) | {c for f, c in raw.meta.items() if f in IDENTIFIER_FIELDS}
    cmap = map_columns([c for c in raw.columns if c.name not in ident_cols], inst)
    return {t: c for c, t in cmap.columns.items()}


def _fallback_area_columns(inst, col_of: dict[str, str], raw) -> list[dict]:
    """Area columns when the inference did not list them: the instrument's geography questions,
    then any column whose header names an area level."""
    from survey_pipeline.instrument.model import Role

    out, seen = [], set()
    for v in inst.variables():
        if v.role == Role.geography and v.name in col_of:
            c = col_of[v.name]
            level = _level_of(c) or _level_of(v.label.get(inst.language, "")) or "neighborhood"
            out.append({"column": c, "question": v.name, "level": level,
                        "why": f"geography question '{v.name}'; header '{c}' read as {level}"})
            seen.add(c)
    return out


def _fallback_weight(inst, col_of: dict[str, str], frame: pd.DataFrame) -> dict | None:
    for v in inst.variables():
        c = col_of.get(v.name)
        if c is None or v.type != "integer" or not _WEIGHT_HEADER.match(str(c).strip()):
            continue
        x = pd.to_numeric(frame[c], errors="coerce")
        if x.notna().mean() >= 0.9 and (x.dropna() > 0).all() and x.dropna().nunique() > 1:
            return {"column": c, "question": v.name,
                    "why": f"header '{c}' names a weight; positive numbers (mean {x.mean():.3g})"}
    return None


# --- init -----------------------------------------------------------------------------------------


def _write_yaml(doc: dict, path: Path, head: str) -> None:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(head + text, encoding="utf-8")


def _toml_str(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def init_from_export(root: str | Path, export: str | Path, *, codebook: str | Path | None = None,
                     areas: str | Path | None = None, platform: str = "auto", wave: str = "w1",
                     reader=None) -> StartResult:
    """Make a working project in ``root`` from one export (see the module docstring).

    Raises
    ------
    ProjectError
        When ``root`` already holds a project, or the wave id is not a simple name.
    IngestError
        When the export cannot be read or has no answer columns.
    """
    from survey_pipeline.ingest import pipeline

    root, export = Path(root), Path(export)
    if (root / SURVEY_TOML).exists():
        raise ProjectError(f"{root / SURVEY_TOML}: a project already exists here.", file=root / SURVEY_TOML,
                           rule="project-exists", fix="Pick another folder, or edit the existing survey.toml.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]*", wave):
        raise ProjectError(f"wave id '{wave}' is not a simple name.", rule="bad-wave-id",
                           fix='Use letters, digits, - and _, e.g. --wave 2026q1.')
    pipeline.check_export_file(export)
    if codebook is not None and not Path(codebook).exists():
        raise ProjectError(f"{codebook}: codebook not found.", file=codebook, rule="missing-file",
                           fix="Give the path of the codebook CSV (variable, question text, value labels).")
    if areas is not None and not Path(areas).exists():
        raise ProjectError(f"{areas}: areas file not found.", file=areas, rule="missing-file",
                           fix="Give the path of a CSV (neighborhood,district,beat) or GeoJSON file.")
    existed = root.exists()
    before = set(root.rglob("*")) if existed else set()
    try:
        return _init_from_export(root, export, codebook, areas, platform, wave, reader)
    except BaseException:  # nothing half-made is left behind: what this call wrote goes
        if not existed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for p in sorted(set(root.rglob("*")) - before, key=lambda p: len(p.parts), reverse=True):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        raise


def _init_from_export(root: Path, export: Path, codebook, areas, platform: str, wave: str, reader) -> StartResult:
    from survey_pipeline.ingest import pipeline
    from survey_pipeline.ingest.infer import infer_instrument
    from survey_pipeline.ingest.mode import detect_mode
    from survey_pipeline.instrument import load_instrument
    from survey_pipeline.instrument.review import review_frame, write_review_xlsx

    root.mkdir(parents=True, exist_ok=True)
    (root / "exports").mkdir(exist_ok=True)
    dest = root / "exports" / export.name
    if export.resolve() != dest.resolve():
        shutil.copyfile(export, dest)
    notes: list[str] = []
    draft = root / DRAFT_FILE
    inferred = infer_instrument(dest, draft, platform=platform, codebook=codebook, reader=reader)
    inst_path = root / INSTRUMENT_FILE
    shutil.copyfile(draft, inst_path)
    doc = yaml.safe_load(draft.read_text(encoding="utf-8"))
    inst = load_instrument(inst_path)
    raw = (reader or pipeline._default_reader)(dest, platform)
    col_of = _question_columns(raw, inst)
    # mode: what the inference read in the export, else the channel / file name / default
    found = inferred.get("mode")
    mode, mode_why = (found["mode"], found["why"]) if found else detect_mode(dest)
    # weight
    weight = inferred.get("weight_column") if "weight_column" in inferred else _fallback_weight(inst, col_of, raw.frame)
    if weight and not weight.get("question"):
        var = next((v for v, c in col_of.items() if c == weight.get("column")), None)
        if var is not None:
            weight = {**weight, "question": var}
    if weight and not weight.get("question") and weight.get("column") in raw.frame.columns:
        # the inference named the column but drafted no question for it: one is added, so ingest
        # keeps each response's weight (an integer-type question keeps its numbers as they are)
        taken = {v.name for v in inst.variables()} | {str(q.get("id")) for m in doc["modules"] for q in m["questions"]}
        qid = re.sub(r"[^a-z0-9_]", "_", normalize_name(weight["column"]).replace(" ", "_")) or "weight"
        qid = qid if qid[0].isalpha() else f"q_{qid}"
        base, k = qid, 2
        while qid in taken:
            qid, k = f"{base}_{k}", k + 1
        doc["modules"][-1]["questions"].append({"id": qid, "type": "integer", "role": "other",
                                                "label": {doc.get("default_language") or "en": str(weight["column"])}})
        _write_yaml(doc, inst_path, f"# Instrument drafted by survey-pipeline from {export.name}; "
                                    f"question '{qid}' holds the vendor weights.\n")
        inst = load_instrument(inst_path)
        col_of = _question_columns(raw, inst)
        weight = {**weight, "question": qid}
    if weight and not weight.get("question"):
        weight = None
    # areas
    area_info = None
    if areas is not None:
        area_info = {"file": Path(areas).name, "derived": False, "columns": []}
        areas_path = Path(areas)
    else:
        acols = inferred.get("area_columns")
        if acols is None:
            acols = _fallback_area_columns(inst, col_of, raw)
        missing = {}
        for a in acols:
            v = next((x for x in inst.variables() if x.name == a.get("question")), None)
            if v is not None and v.answer_list:
                missing[a["column"]] = {str(m.code) for m in inst.answer_options(v.answer_list)[1].values()}
        got = derive_areas(raw.frame, acols, missing_codes=missing)
        areas_path = None
        if got is not None:
            table, used = got
            areas_path = root / AREAS_FILE
            table.to_csv(areas_path, index=False)
            area_info = {"file": AREAS_FILE, "derived": True, "areas": len(table), "columns": used}
            for a in used:
                ph = (f"; placeholders left out: {', '.join(a['placeholders'][:10])} ({a['placeholder_rows']} rows)"
                      if a["placeholders"] else "")
                notes.append(f"areas: column '{a['column']}' ({a['level']}, {a['values']} values) gives "
                             f"{a['result_level']} rows{ph}")
        elif acols:
            notes.append("areas: the area column(s) " + ", ".join(a["column"] for a in acols)
                         + " hold no usable value; no areas file (city-level results only)")
        else:
            notes.append("areas: no area column found (district, neighborhood, beat, ward, ZIP...): "
                         "city-level results only; give one with --areas or set an area_level in review.xlsx")
    proj = init_project(root, instrument=INSTRUMENT_FILE, areas=areas_path)
    rel = dest.relative_to(root).as_posix()
    entry = f"{{file = {_toml_str(rel)}, platform = {_toml_str(platform)}, mode = {_toml_str(mode)}}}"
    block = ""
    if area_info and area_info.get("derived"):
        record = [{"question": a.get("question"), "level": a["level"]} for a in area_info["columns"]]
        block += f"\n{DERIVED_MARK}{json.dumps(record)}\n"
    block += (f"\n# Written by survey-pipeline init --from-export ({mode_why}).\n[[waves]]\nid = {_toml_str(wave)}\n"
             f"label = {_toml_str(wave)}\nexports = [{entry}]\n")
    if weight:
        block += ("\n[weighting]\n# the vendor's weights (column " + _toml_str(weight["column"]) +
                  ") are the base weights, before any raking\nbase_weight = " + _toml_str(weight["question"]) + "\n")
        notes.append(f"weight: column '{weight['column']}' used as base weights ({weight.get('why', '')})")
    toml = proj.toml_path
    toml.write_text(toml.read_text(encoding="utf-8") + block, encoding="utf-8")
    notes.insert(0, mode_why)
    frame = review_frame(doc, inferred.get("evidence"), area_columns=(area_info or {}).get("columns") or [],
                         weight_column=weight)
    review = write_review_xlsx(frame, root / REVIEW_FILE, departments=sorted(doc.get("departments") or {}))
    t = review.stat().st_mtime  # written together: the review is not newer than the instrument
    os.utime(inst_path, (t, t))
    guessed = int((frame["guessed"] != "").sum())
    if guessed:
        notes.append(f"review.xlsx: {guessed} question(s) hold guesses (yellow cells) to check")
    return StartResult(project=Project.load(root), export=dest, wave=wave, mode=mode, mode_why=mode_why,
                       instrument_file=inst_path, review_file=review, inferred=inferred, areas=area_info,
                       weight=weight, notes=notes)


# --- the review, back into the instrument ------------------------------------------------------------


def _instrument_file(project: Project) -> Path | None:
    p = project.root / project.instrument
    return p if p.is_file() else None


def review_is_newer(root: str | Path) -> bool:
    """True when ``root/review.xlsx`` was saved after the project's instrument YAML was written."""
    project = Project.load(root)
    review, inst = project.root / REVIEW_FILE, _instrument_file(project)
    return review.exists() and inst is not None and review.stat().st_mtime > inst.stat().st_mtime


def write_project_review(root: str | Path) -> Path:
    """Write ``root/review.xlsx`` from the project's instrument YAML (no evidence: why is empty)."""
    from survey_pipeline.instrument.review import review_frame, write_review_xlsx

    project = Project.load(root)
    path = _instrument_file(project)
    if path is None:
        raise ProjectError(f"{project.toml_path}: the instrument '{project.instrument}' is not a file of the project.",
                           file=project.toml_path, rule="bundled-instrument",
                           fix="review.xlsx edits an instrument YAML of the project: copy the template into the "
                               "folder and point [instrument] path to it.")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    ws = project.toml_path.read_text(encoding="utf-8")
    m = re.search(r'^base_weight\s*=\s*"([^"]+)"', ws, re.M)
    frame = review_frame(doc, weight_column={"question": m.group(1)} if m else None)
    return write_review_xlsx(frame, project.root / REVIEW_FILE, departments=sorted(doc.get("departments") or {}))


def apply_project_review(root: str | Path) -> dict:
    """Rebuild the project's instrument YAML from ``review.xlsx`` (and ``[weighting] base_weight``
    from its weight column). Returns what changed: ``{"file", "changed": [question ids],
    "weight"}``. The YAML is written only when the result validates.

    Raises
    ------
    ProjectError
        No review.xlsx, or the instrument is a bundled template.
    InstrumentError
        Every cell of the sheet that is not valid, or an instrument that does not validate.
    """
    from survey_pipeline.instrument import validate_instrument
    from survey_pipeline.instrument.review import (
        apply_review,
        read_review_xlsx,
        review_frame,
        review_settings,
    )

    project = Project.load(root)
    review = project.root / REVIEW_FILE
    if not review.exists():
        raise ProjectError(f"{review}: no review workbook.", file=review, rule="no-review",
                           fix=f"Write it with: survey-pipeline instrument review {project.root}")
    path = _instrument_file(project)
    if path is None:
        raise ProjectError(f"{project.toml_path}: the instrument '{project.instrument}' is not a file of the project.",
                           file=project.toml_path, rule="bundled-instrument",
                           fix="Copy the template into the folder and point [instrument] path to it.")
    sheet = read_review_xlsx(review)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    draft_path = project.root / DRAFT_FILE
    draft = yaml.safe_load(draft_path.read_text(encoding="utf-8")) if draft_path.exists() else None
    new = apply_review(doc, sheet, draft=draft, file=str(review))
    before = review_frame(doc).set_index("question")
    after = review_frame(new).set_index("question")
    changed = sorted(set(before.index) ^ set(after.index))
    common = before.index.intersection(after.index)
    diff = (before.loc[common, ["list", "codes", "order", "positive_end", "missing", "role", "department"]]
            != after.loc[common, ["list", "codes", "order", "positive_end", "missing", "role", "department"]]).any(axis=1)
    changed = sorted({*changed, *common[diff.to_numpy()]})
    tmp = path.with_suffix(".review-tmp.yaml")
    head = (f"# Instrument of this project, written by survey-pipeline from {REVIEW_FILE}.\n"
            f"# Edit {REVIEW_FILE} (then survey-pipeline run), not this file: it is rewritten.\n")
    _write_yaml(new, tmp, head)
    try:
        inst, problems = validate_instrument(tmp)
        if inst is None or problems.errors:
            raise InstrumentError(f"{review}: the instrument it describes does not validate "
                                  f"({len(problems.errors)} problem(s)).", problems=problems.errors, file=review,
                                  rule="review-invalid",
                                  fix="Undo the last edits of review.xlsx named in the problems, then run again.")
        tmp.replace(path)
        # the instrument now reflects review.xlsx: it must read as newer even when the sheet's
        # time stamp is ahead of this clock (a file server's, or saved a moment ago)
        stamp = max(time.time(), review.stat().st_mtime + 0.001)
        os.utime(path, (stamp, stamp))
    finally:
        tmp.unlink(missing_ok=True)
    dropped = _drop_stale_mappings(project, {v.name for v in inst.variables()})
    settings = review_settings(sheet)
    areas_note = _rederive_areas(project, inst, settings["area_columns"])
    weight = settings["weight"]
    text = project.toml_path.read_text(encoding="utf-8")
    line = f"base_weight = {_toml_str(weight)}" if weight else None
    if re.search(r"^base_weight\s*=.*$", text, re.M):
        text = re.sub(r"^base_weight\s*=.*$\n?", (line + "\n") if line else "", text, flags=re.M)
    elif line:
        text = (re.sub(r"^\[weighting\]\s*$", "[weighting]\n" + line, text, count=1, flags=re.M)
                if re.search(r"^\[weighting\]\s*$", text, re.M) else text + f"\n[weighting]\n{line}\n")
    project.toml_path.write_text(text, encoding="utf-8")
    return {"file": str(path), "changed": changed, "weight": weight, "area_columns": settings["area_columns"],
            "mapping_rows_dropped": dropped, "areas": areas_note}


def _rederive_areas(project: Project, inst, area_columns: list[dict]) -> str | None:
    """When ``areas.csv`` was derived from the data (the mark in survey.toml) and the sheet's area
    columns or levels changed, derive it again from the project's exports; a sentence saying so."""
    from survey_pipeline.ingest.pipeline import _default_reader

    text = project.toml_path.read_text(encoding="utf-8")
    m = re.search("^" + re.escape(DERIVED_MARK) + r"(.*)$", text, re.M)
    if m is None:
        return None
    wanted = [{"question": a["question"], "level": a["level"]} for a in area_columns]
    if json.loads(m.group(1)) == wanted:
        return None
    frames = []
    for w in project.waves.values():
        for e in w.exports:
            f = project.root / e.file
            if not f.exists():
                continue
            raw = _default_reader(f, e.platform)
            col_of = _question_columns(raw, inst)
            got = {a["question"]: raw.frame[col_of[a["question"]]] for a in wanted if a["question"] in col_of}
            if got:
                frames.append(pd.DataFrame(got))
    path = project.root / AREAS_FILE
    derived = derive_areas(pd.concat(frames, ignore_index=True),
                           [{"column": a["question"], "question": a["question"], "level": a["level"]} for a in wanted]
                           ) if frames else None
    if derived is None:
        return (f"areas: no usable value in the area column(s) {', '.join(a['question'] for a in wanted) or '(none)'}; "
                f"{AREAS_FILE} left as it was")
    table, used = derived
    table.to_csv(path, index=False)
    text = text.replace(m.group(0), DERIVED_MARK + json.dumps(wanted))
    project.toml_path.write_text(text, encoding="utf-8")
    return (f"areas: {AREAS_FILE} derived again ({len(table)} areas) from "
            + ", ".join(f"'{a['column']}' ({a['level']} -> {a['result_level']})" for a in used))


def _drop_stale_mappings(project: Project, variables: set[str]) -> int:
    """Delete the rows of the project's mapping files that name a variable the instrument no longer
    has (a question the review left out): the next ingest proposes a mapping for those columns
    again. Returns the rows deleted."""
    import csv

    n = 0
    for path in sorted(project.mappings_dir.glob("*.csv")) if project.mappings_dir.exists() else []:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows or "variable" not in rows[0]:
            continue
        j = rows[0].index("variable")
        keep = [rows[0]] + [r for r in rows[1:] if len(r) <= j or not r[j].strip() or r[j].strip() in variables]
        if len(keep) < len(rows):
            n += len(rows) - len(keep)
            with path.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh).writerows(keep)
    return n
