"""Map export columns to instrument variables, and keep the mapping reviewable.

A column maps to a *target*: an analysis variable (a single question, a grid item, one option of
a multi-select or rank question shown as its own column) or a whole multi-select/rank question
(when the platform joined the choices into one cell). Methods, in order:

1. ``stored``: the reviewable CSV ``mappings/<wave>__<file>.csv`` written by the last run; the
   analyst's edits win (``accepted`` = no leaves a column unmapped).
2. ``key``: the platform key (Qualtrics ImportId / export tag, XLSForm names, LimeSurvey codes,
   with group prefixes stripped) equals a variable or question id, or Qualtrics' numbering of a
   deployed grid or multi-select (``<question id>_<n>``, n = item or choice position).
3. ``text``: the question text (and sub-label: grid row, multi-select option) equals a label in
   any of the instrument's languages, after :func:`~survey_pipeline.project.normalize_name`.
4. ``fuzzy``: the best rapidfuzz ``token_sort_ratio`` against the labels is at least the
   threshold (90 by default).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from survey_pipeline.errors import IngestError
from survey_pipeline.instrument.model import Instrument
from survey_pipeline.names import check_wave_id, file_stem
from survey_pipeline.project import normalize_name
from survey_pipeline.safe import safe_text, unsafe_text

__all__ = ["ColumnMap", "Target", "build_targets", "map_columns", "mapping_path", "read_mapping", "write_mapping"]

MAPPING_FIELDS = ["column", "variable", "method", "score", "accepted"]
_TRUE = {"1", "true", "yes", "y", "x", "accepted", "ok"}
_FALSE = {"0", "false", "no", "n", ""}


@dataclass(frozen=True)
class Target:
    """Something a column can hold: one variable, or a whole multi/rank question (joined)."""

    name: str
    kind: str  # "variable" or "question"
    question: str
    qtype: str
    position: int
    texts: tuple[str, ...]  # normalized labels in every language
    aliases: tuple[str, ...] = ()  # other platform keys: Qualtrics numbering <question>_<n>


@dataclass
class ColumnMap:
    """The mapping of one export: column name -> target, with how each was found."""

    targets: dict[str, Target]
    columns: dict[str, str]  # column -> target name
    method: dict[str, str]
    score: dict[str, float]
    unmapped: list[str]
    rejected: list[str]  # columns the analyst marked not accepted

    def target(self, column: str) -> Target:
        return self.targets[self.columns[column]]


def _key_forms(text: str | None) -> list[str]:
    """Normalized forms of a platform key, most specific first: whole; for a split column
    ``group/question/option`` the option variable ``question_option``; without group prefixes;
    LimeSurvey brackets ``Q[SQ001]`` as ``Q_SQ001``."""
    if not text:
        return []
    s = str(text).strip()
    forms = [s]
    for sep in ("/", "-", ":"):
        if sep in s:
            parts = s.split(sep)
            if len(parts) >= 3:  # a split column group/question/option: the option variable
                forms.append(f"{parts[-2]}_{parts[-1]}")
            forms.append(parts[-1])
    m = re.fullmatch(r"(.+?)\[(.+)\]", s)
    if m:
        forms.append(f"{m.group(1)}_{m.group(2)}")
    return list(dict.fromkeys(normalize_name(f) for f in forms if f))


def build_targets(inst: Instrument) -> dict[str, Target]:
    """Every target of an instrument with its labels in every language."""
    out: dict[str, Target] = {}
    pos = 0
    for q in inst.questions():
        if q.type == "note":
            continue
        qlabels = [v for v in (q.label or {}).values() if v]
        if q.type in ("multi", "rank"):
            out[q.id] = Target(q.id, "question", q.id, q.type, pos,
                               tuple(normalize_name(x) for x in qlabels))
            choices, _ = inst.answer_options(q.answer_list) if q.answer_list else ([], {})
            for n_opt, c in enumerate(choices, start=1):
                pos += 1
                texts = []
                for lang, lab in c.label.items():
                    ql = (q.label or {}).get(lang, "")
                    texts += [normalize_name(f"{ql} {lab}"), normalize_name(f"{ql} - {lab}")]
                out[f"{q.id}_{c.name}"] = Target(f"{q.id}_{c.name}", "variable", q.id, q.type, pos,
                                                 tuple(dict.fromkeys(texts)), (f"{q.id}_{n_opt}",))
        elif q.type == "grid":
            for n_item, it in enumerate(q.items or [], start=1):
                pos += 1
                texts = []
                for lang, lab in it.label.items():
                    ql = (q.label or {}).get(lang, "")
                    texts += [normalize_name(lab), normalize_name(f"{ql} {lab}")]
                out[it.id] = Target(it.id, "variable", q.id, q.type, pos, tuple(dict.fromkeys(texts)),
                                    (f"{q.id}_{n_item}",))
        else:
            out[q.id] = Target(q.id, "variable", q.id, q.type, pos, tuple(normalize_name(x) for x in qlabels))
        pos += 1
    return out


def mapping_path(project_root: Path, wave: str, export_file: Path) -> Path:
    """``mappings/<wave>__<export stem>.csv``: the wave id is checked (:func:`check_wave_id`), the
    stem made safe and short (:func:`file_stem`), so the name stays in ``mappings/`` and under the
    file systems' 255-byte limit."""
    check_wave_id(wave)
    return Path(project_root) / "mappings" / f"{wave}__{file_stem(Path(export_file).stem)}.csv"


def read_mapping(path: Path, targets: dict[str, Target]) -> dict[str, tuple[str | None, bool]]:
    """Read a reviewed mapping CSV: column -> (target or None, accepted)."""
    if not path.exists():
        return {}
    out: dict[str, tuple[str | None, bool]] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [f for f in ("column", "variable", "accepted") if f not in (reader.fieldnames or [])]
            if missing:
                raise IngestError(f"{path}: the mapping file lacks column(s) {', '.join(missing)}.", file=path,
                                  rule="bad-mapping-file", fix=f"Keep the header {','.join(MAPPING_FIELDS)}, or delete the file to regenerate it.")
            for i, row in enumerate(reader, start=2):
                col = unsafe_text(row["column"])
                var = (unsafe_text(row.get("variable") or "")).strip() or None
                acc = (row.get("accepted") or "").strip().casefold()
                if acc not in _TRUE | _FALSE:
                    raise IngestError(f"{path}: row {i}: accepted = '{row.get('accepted')}' is not yes/no.", file=path,
                                      rule="bad-mapping-file", fix="Write yes or no in the accepted column.")
                if var is not None and var not in targets:
                    close = process.extractOne(var, list(targets), scorer=fuzz.ratio)
                    hint = f" Did you mean '{close[0]}'?" if close and close[1] > 70 else ""
                    raise IngestError(f"{path}: row {i}: column '{col}' maps to '{var}', which is not a variable of the instrument.{hint}",
                                      file=path, rule="unknown-variable",
                                      fix="Write a variable id from the instrument (or leave it empty), or delete the row to let ingest propose one.")
                out[col] = (var, acc in _TRUE)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise IngestError(f"{path}: cannot read the mapping file ({exc}).", file=path, rule="bad-mapping-file",
                          fix="Save it as UTF-8 CSV, or delete it to regenerate it.") from exc
    return out


def write_mapping(path: Path, cmap: ColumnMap, order: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(MAPPING_FIELDS)
        for col in order:  # the export's headers are untrusted text: formula-safe (read back by read_mapping)
            if col in cmap.columns:
                row = [col, cmap.columns[col], cmap.method[col], f"{cmap.score[col]:.0f}", "yes"]
            elif col in cmap.rejected:
                row = [col, cmap.method.get(col, ""), "stored", "", "no"]
            else:
                row = [col, "", "unmapped", "", "no"]
            w.writerow([safe_text(x) for x in row])


def map_columns(columns, inst: Instrument, *, stored: dict[str, tuple[str | None, bool]] | None = None,
                threshold: float = 90.0) -> ColumnMap:
    """Map answer columns (``RawColumn`` objects with role 'answer' or 'split') to targets.

    Parameters
    ----------
    columns
        The export's ``RawColumn`` list; meta columns are ignored.
    inst
        The instrument.
    stored
        A reviewed mapping (:func:`read_mapping`); its rows win over every automatic method.
    threshold
        Minimum rapidfuzz score (0-100) for a fuzzy match.
    """
    targets = build_targets(inst)
    stored = stored or {}
    cmap = ColumnMap(targets=targets, columns={}, method={}, score={}, unmapped=[], rejected=[])
    used: set[str] = set()
    answer_cols = [c for c in columns if c.role != "meta"]

    def take(col, target: str, method: str, score: float) -> None:
        cmap.columns[col.name] = target
        cmap.method[col.name] = method
        cmap.score[col.name] = score
        used.add(target)

    pending = []
    for c in answer_cols:
        if c.name in stored:
            var, acc = stored[c.name]
            if acc and var:
                take(c, var, "stored", 100.0)
            else:
                cmap.rejected.append(c.name)
                if var:
                    cmap.method[c.name] = var
            continue
        pending.append(c)

    key_index: dict[str, str] = {}
    for t in targets.values():
        key_index.setdefault(normalize_name(t.name), t.name)
    for t in targets.values():  # aliases never shadow a real id
        for a in t.aliases:
            key_index.setdefault(normalize_name(a), t.name)
    rest = []
    for c in pending:
        forms = list(dict.fromkeys(_key_forms(c.key) + _key_forms(c.name)))
        hit = next((key_index[f] for f in forms if f in key_index and key_index[f] not in used), None)
        if hit:
            take(c, hit, "key", 100.0)
        else:
            rest.append(c)

    text_index: dict[str, str] = {}
    for t in targets.values():
        for x in t.texts:
            if x:
                text_index.setdefault(x, t.name)
    choices = list(text_index)
    pending, rest = rest, []
    for c in pending:
        texts = [normalize_name(f"{c.text or c.header} {c.sub}") if c.sub else None,
                 normalize_name(c.text or c.header or "")]
        texts = [t for t in texts if t]
        hit = next((text_index[t] for t in texts if t in text_index and text_index[t] not in used), None)
        if hit:
            take(c, hit, "text", 100.0)
            continue
        best = None
        for t in texts:
            r = process.extractOne(t, choices, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
            if r and text_index[r[0]] not in used and (best is None or r[1] > best[1]):
                best = (text_index[r[0]], r[1])
        if best:
            take(c, best[0], "fuzzy", float(best[1]))
        else:
            rest.append(c)
    cmap.unmapped = [c.name for c in rest]
    return cmap
