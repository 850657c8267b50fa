"""Draft an instrument YAML from an export whose instrument was not made with survey-pipeline.

The draft is a starting point for the analyst, built from the conventions real survey files
follow (see :mod:`~survey_pipeline.ingest.infer.scales` and :mod:`~survey_pipeline.ingest.infer.roles`):

- numeric codes with trailing non-substantive codes (``1-5`` + ``9``, ``1-4`` + ``8``/``9``,
  ``1-10`` + ``99``, ``-1``/``0``) become ordered scales with typed missing codes; a codebook's value
  labels (``5 - Excellent, ..., 9 - Don't Know``) decide the order and the positive end;
- labelled answers in English and Spanish are matched to a library of scale wordings, unseen
  wordings are ordered by polarity words (marked as a guess);
- columns sharing a stem (``Q1[01]``, ``Q1_1``, ``Q1.1``, ``Q1A``, ``Q3 - Parks``, ``PRIORITY_*``)
  on one answer list become grids; comma-joined cells and one-column-per-option exports become
  multi-selects (``max_picks`` from "pick up to 3"); pick slots (``Q4_1``..``Q4_4`` holding codes
  of one list) share one choice list;
- roles (satisfaction, safety, trust, problem, priority, importance, demographic, geography,
  contact, open text, attention check) and departments are read from the wording, area columns
  and their level from headers and value shapes, a vendor weight column is set aside, and the
  mode is taken from the platform's distribution channel when it says it.

Every decision comes with its evidence (:class:`~survey_pipeline.ingest.infer.core.Draft`);
fields the tool is not sure of are applied and marked ``# guessed: ...`` in the YAML. The draft
validates with :func:`survey_pipeline.validate_instrument`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.infer.core import Draft, infer_draft
from survey_pipeline.ingest.infer.scales import KNOWN_SCALES
from survey_pipeline.project import normalize_name

__all__ = ["KNOWN_SCALES", "Draft", "draft_yaml", "infer_draft", "infer_instrument", "read_codebook"]


def read_codebook(path: str | Path) -> dict[str, tuple[str, list[tuple[int, str]]]]:
    """Read a codebook CSV: variable, question text, value labels (``5 - Excellent, 4 - Good, ...``).

    The columns are found by name (``variable``/``question_number``/``name``,
    ``question_text``/``text``/``label``, ``question_responses``/``values``/``value_labels``), or
    taken as the first three. Returns normalized variable -> (text, [(code, label), ...]).
    """
    path = Path(path)
    try:
        cb = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise IngestError(f"{path}: cannot read the codebook ({exc}).", file=path, rule="bad-codebook",
                          fix="Save it as UTF-8 CSV with columns variable, question_text, question_responses.") from exc
    cols = {normalize_name(c): c for c in cb.columns}

    def pick(*names: str, default: int) -> str | None:
        for n in names:
            if n in cols:
                return cols[n]
        return cb.columns[default] if len(cb.columns) > default else None

    var = pick("variable", "question number", "name", "column", default=0)
    text = pick("question text", "text", "label", "question", default=1)
    vals = pick("question responses", "values", "value labels", "responses", "codes", default=2)
    if var is None or text is None:
        raise IngestError(f"{path}: a codebook needs at least a variable and a question text column.", file=path,
                          rule="bad-codebook", fix="Use the header: variable,question_text,question_responses")
    out: dict[str, tuple[str, list[tuple[int, str]]]] = {}
    for _, r in cb.iterrows():
        pairs = []
        if vals is not None and r[vals]:
            for part in re.split(r",\s*(?=-?\d+\s*[-=:]\s)", r[vals]):
                m = re.match(r"\s*(-?\d+)\s*[-=:]\s*(.+?)\s*$", part)
                if m:
                    pairs.append((int(m.group(1)), m.group(2)))
        out[normalize_name(r[var])] = (r[text].strip(), pairs)
    return out


def draft_yaml(draft: Draft, *, source: str = "the export") -> str:
    """The draft as YAML text, with ``# guessed: <why>`` after every field the tool is not sure of
    and ``# TODO`` after roles left as ``other``."""
    text = yaml.safe_dump(draft.doc, sort_keys=False, allow_unicode=True, width=120)
    lines = text.split("\n")
    section = None
    scale = None
    qid = None
    q_indent = None
    field_keys = {"type": "type", "role": "role", "department": "department", "grid": "type", "expected": "expected",
                  "area_level": "role"}
    done: set[tuple[str, str]] = set()
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if indent == 0 and stripped.endswith(":"):
            section = stripped[:-1]
        if section == "scales" and indent == 2 and stripped.endswith(":"):
            scale = stripped[:-1]
        m = re.match(r"^(\s*)- id: (\S+)$", line)
        if section == "modules" and m:
            ind = len(m.group(1))
            if q_indent is None and ind > 0:
                q_indent = ind
            if ind == q_indent:
                qid = m.group(2)
        comment = None
        if section == "scales" and scale and indent == 4:
            key = stripped.split(":", 1)[0]
            for fld, line_key in (("positive", "positive"), ("order", "codes"), ("missing", "missing"), ("scale", "ordered")):
                if key == line_key and (f"scale:{scale}", fld) in draft.comments and (f"scale:{scale}", fld) not in done:
                    comment = f"guessed: {draft.comments[(f'scale:{scale}', fld)]}"
                    done.add((f"scale:{scale}", fld))
        elif section == "modules" and qid and q_indent is not None and indent == q_indent + 2:
            key = stripped.split(":", 1)[0]
            whys = [draft.comments[(qid, f)] for f, k in field_keys.items()
                    if k == key and (qid, f) in draft.comments and (qid, f) not in done]
            for f, k in field_keys.items():
                if k == key:
                    done.add((qid, f))
            if whys:
                comment = "guessed: " + "; ".join(dict.fromkeys(w for w in whys if w))
            elif stripped == "role: other":
                comment = "TODO: set the role (satisfaction, safety, trust, priority, ...)"
        if comment:
            line = f"{line}  # {_one_line(comment)}"
        out.append(line)
    head = (f"# Draft instrument inferred by survey-pipeline from {source}.\n"
            "# Fields marked 'guessed:' were applied but the tool is not sure of them; roles marked TODO are unset.\n"
            "# Review them (or review.xlsx), then: survey-pipeline instrument validate <this file>\n")
    for n in draft.notes:
        head += f"# Note: {_one_line(n)}\n"
    return head + "\n".join(out)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).replace("#", "no.").strip()


def infer_instrument(export: str | Path, out: str | Path, *, platform: str = "auto",
                     instrument_id: str | None = None, codebook: str | Path | None = None,
                     reader: Callable | None = None) -> dict:
    """Read ``export``, write a draft instrument YAML to ``out``, and return what was inferred.

    Returns the figures (``questions``, ``scales``, ``choice_lists``, ``multi``, ``text``,
    ``integer``, ``skipped_meta``, ``variables``...) and ``evidence`` (question id -> columns,
    why by field, guessed fields), ``area_columns`` (coarse to fine), ``weight_column`` and
    ``mode`` (see docs and the issue-12 contract).

    Raises
    ------
    IngestError
        When the export has no answer columns, or the draft does not validate (a bug).
    """
    from survey_pipeline.ingest import pipeline
    from survey_pipeline.instrument import validate_instrument

    export, out = Path(export), Path(out)
    pipeline.check_export_file(export)
    raw = (reader or pipeline._default_reader)(export, platform)
    cb = read_codebook(codebook) if codebook is not None else None
    iid = instrument_id or re.sub(r"^[^a-z]+", "", re.sub(r"[^a-z0-9_]+", "_", normalize_name(export.stem))) or "draft"
    draft = infer_draft(raw.frame, raw.columns, cb, meta=raw.meta, instrument_id=iid,
                        title=f"Draft instrument inferred from {export.name}")
    if not draft.counts.get("questions"):
        raise IngestError(f"{export}: no answer columns to infer questions from.", file=export,
                          rule="no-answer-columns", fix="Export the responses with the question columns included.")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(draft_yaml(draft, source=f"{export.name} ({raw.platform})"), encoding="utf-8")
    inst, problems = validate_instrument(out)
    if inst is None or problems.errors:
        raise IngestError(f"{out}: the draft instrument does not validate ({len(problems.errors)} problem(s)).",
                          problems=problems.errors, file=out, rule="draft-invalid",
                          fix="This is a bug in survey-pipeline: please report it with the export's header.")
    c = draft.counts
    guessed = sum(len(e["guessed"]) for e in draft.evidence.values())
    return {"file": str(out), "instrument": iid, "platform": raw.platform, "questions": c.get("questions", 0),
            "scales": c.get("scales", 0), "choice_lists": c.get("choice_lists", 0), "multi": c.get("multi", 0),
            "grids": c.get("grids", 0), "text": c.get("text", 0), "integer": c.get("integer", 0),
            "skipped_meta": c.get("skipped_meta", 0), "variables": len(inst.variables()),
            "roles": _role_counts(draft), "guessed": guessed, "notes": draft.notes,
            "evidence": draft.evidence, "area_columns": draft.area_columns, "weight_column": draft.weight_column,
            "mode": draft.mode}


def _role_counts(draft: Draft) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in draft.doc["modules"]:
        for q in m["questions"]:
            out[q.get("role", "other")] = out.get(q.get("role", "other"), 0) + 1
    return dict(sorted(out.items()))
