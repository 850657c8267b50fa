"""Draft an instrument YAML from an export whose instrument was not made with survey-pipeline.

The draft is a starting point for the analyst: one question per answer column (metadata columns
skipped), value sets turned into answer lists, ordered scales recognised from a small library of
common wordings (satisfaction, agreement, safety, priority, frequency, "how true"...), "Don't
know"/"Prefer not to say"-style answers turned into typed missing codes, comma-joined answers
split into multi-selects when the parts are themselves answers, numeric columns as ``integer``,
free text as ``text``, consecutive columns sharing a prefix and an answer list grouped into a grid.
Roles the analysis keys on are left as ``other`` with a ``# TODO`` comment. The draft validates
with :func:`survey_pipeline.validate_instrument`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.recode import COMMON_MISSING, _split_joined
from survey_pipeline.project import normalize_name

__all__ = ["KNOWN_SCALES", "infer_instrument", "infer_questions", "read_codebook"]

KNOWN_SCALES: dict[str, list[str]] = {
    "satisfied_5": ["Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied", "Very satisfied"],
    "satisfied_4": ["Very dissatisfied", "Somewhat dissatisfied", "Somewhat satisfied", "Very satisfied"],
    "agree_5": ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"],
    "agree_5b": ["Strongly disagree", "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree", "Strongly agree"],
    "agree_4": ["Strongly disagree", "Somewhat disagree", "Somewhat agree", "Strongly agree"],
    "safe_5": ["Very unsafe", "Somewhat unsafe", "Neither safe nor unsafe", "Somewhat safe", "Very safe"],
    "safe_4": ["Very unsafe", "Somewhat unsafe", "Somewhat safe", "Very safe"],
    "quality_5": ["Poor", "Fair", "Good", "Very good", "Excellent"],
    "quality_4": ["Poor", "Fair", "Good", "Excellent"],
    "priority_5": ["Not a priority", "Low priority", "Moderate priority", "High priority", "Top priority"],
    "priority_5b": ["Not a priority", "Low", "Moderate", "High", "Top"],
    "true_5": ["Not true at all", "A little true", "Moderately true", "Very true", "Completely true"],
    "likely_5": ["Very unlikely", "Somewhat unlikely", "Neither likely nor unlikely", "Somewhat likely", "Very likely"],
    "confidence_4": ["No confidence at all", "Not very much confidence", "Some confidence", "A great deal of confidence"],
    "serious_4": ["Not a problem", "Minor problem", "Moderate problem", "Major problem"],
    "serious_3": ["Not a problem", "Somewhat of a problem", "A serious problem"],
    "frequency_5": ["Never", "Rarely", "Sometimes", "Often", "Always"],
    "frequency_visit_5": ["Never", "A few times", "About once a month", "About once a week", "Multiple times per week"],
    "time_6": ["None of the time", "A little of the time", "Some of the time", "A good bit of the time", "Most of the time", "All of the time"],
    "days_4": ["Not at all", "Several days", "More than half the days", "Nearly every day"],
    "compare_5": ["Much less than I do", "A little less than I do", "About the same as I do", "A little more than I do", "Much more than I do"],
    "involved_3": ["No, not involved", "Yes, a little involved", "Yes, very involved"],
    "better_3": ["Worse", "About the same", "Better"],
    "political_7": ["Strongly liberal", "Moderately liberal", "Slightly liberal", "Neutral", "Slightly conservative", "Moderately conservative", "Strongly conservative"],
}
_KNOWN_NORM = {k: [normalize_name(x) for x in v] for k, v in KNOWN_SCALES.items()}
_DEMOGRAPHIC = re.compile(r"age|gender|sex|race|ethnic|educat|income|employ|politic|hispanic|language|tenure|children|household", re.I)
_ATTENTION = re.compile(r"attn|attention|instructed", re.I)
_GEO = re.compile(r"zip|postal|neighbo|district|beat|ward", re.I)
_MAX_CHOICES = 25


def _snake(name: str, used: set[str]) -> str:
    s = normalize_name(name).replace(" ", "_")
    s = re.sub(r"[^a-z0-9_]", "", s)
    if not s or not s[0].isalpha():
        s = f"q_{s}".rstrip("_")
    base, i = s, 2
    while s in used:
        s = f"{base}_{i}"
        i += 1
    used.add(s)
    return s


def _split_missing(values: list[str]) -> tuple[list[str], dict[str, str]]:
    answers, missing = [], {}
    for v in values:
        kind = COMMON_MISSING.get(normalize_name(v))
        if kind and kind not in missing.values():
            missing[v] = kind
        elif not kind:
            answers.append(v)
    return answers, missing


def _multi_options(values: list[str]) -> list[str] | None:
    """The options of a comma-joined multi-select, or None when the column is not one."""
    if not any("," in v for v in values):
        return None
    cand = {normalize_name(v): i for i, v in enumerate(values)}
    joined = set()
    for v in values:
        if "," not in v:
            continue
        others = {k: float(i) for k, i in cand.items() if k != normalize_name(v)}
        found, bad = _split_joined(v, others)
        if len(found) >= 2 and not bad:
            joined.add(v)
    if not joined:
        return None
    return [v for v in values if v not in joined]


def _known_scale(values: list[str]) -> str | None:
    vs = {normalize_name(v) for v in values}
    best = None
    for name, seq in _KNOWN_NORM.items():
        if vs <= set(seq) and (len(vs) >= 3 or len(vs) == len(seq)) and (
                best is None or len(seq) < len(_KNOWN_NORM[best])):
            best = name
    if best is None:  # a single value (e.g. an attention check) still belongs to a library scale
        for name, seq in _KNOWN_NORM.items():
            if vs and vs <= set(seq):
                return name
    return best


_ORDINAL_WORDS = re.compile(r"\b(very|satisf|dissatisf|important|excellent|poor|good|fair|agree|disagree|likely|"
                            r"better|worse|safe|unsafe|often|never|always|strongly|somewhat|neutral)", re.I)


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


def infer_questions(frame: pd.DataFrame, columns, codebook: dict | None = None) -> tuple[dict, dict, list[dict], dict[str, int]]:
    """Infer scales, choice lists and questions from the answer columns of a read export.

    With a ``codebook`` (:func:`read_codebook`), its question texts and value labels win over what
    the data alone suggest (numeric codes then keep their meaning, and "Don't know" codes become
    missing codes instead of numbers).
    """
    codebook = codebook or {}
    scales: dict[str, dict] = {}
    choice_lists: dict[str, dict] = {}
    lists_by_key: dict[tuple, str] = {}
    questions: list[dict] = []
    counts = Counter()
    used: set[str] = set()
    geo_done = False

    def missing_block(missing: dict[str, str], top: int) -> dict:
        codes = {"dont_know": 98 if top >= 8 else 8, "refused": 99 if top >= 8 else 9}
        return {kind: {"code": codes[kind], "label": {"en": lab}} for lab, kind in missing.items()}

    def answer_list(answers: list[str], missing: dict[str, str]) -> tuple[str, str, list[str]]:
        known = _known_scale(answers)
        if known:
            seq = KNOWN_SCALES[known]
            by_norm = {normalize_name(a): a for a in answers}
            key = ("scale", known)
            if key in lists_by_key and missing:  # one scale per wording: merge the missing codes seen
                sc = scales[lists_by_key[key]]
                merged = {m["label"]["en"]: k for k, m in sc.get("missing", {}).items()}
                for lab, kind in missing.items():
                    if kind not in merged.values():
                        merged[lab] = kind
                sc["missing"] = missing_block(merged, len(seq))
            if key not in lists_by_key:
                name = known if known not in scales else f"{known}_{len(scales)}"
                scales[name] = {
                    "ordered": True,
                    "codes": [{"code": i, "label": {"en": by_norm.get(normalize_name(lab), lab)}}
                              for i, lab in enumerate(seq, start=1)],
                }
                if missing:
                    scales[name]["missing"] = missing_block(missing, len(seq))
                lists_by_key[key] = name
            return "scale", lists_by_key[key], []
        ordered = sorted(answers, key=lambda a: (normalize_name(a)))
        key = ("choices", tuple(normalize_name(a) for a in ordered))
        if key in lists_by_key and missing:
            cl = choice_lists[lists_by_key[key]]
            merged = {m["label"]["en"]: k for k, m in cl.get("missing", {}).items()}
            for lab, kind in missing.items():
                if kind not in merged.values():
                    merged[lab] = kind
            cl["missing"] = missing_block(merged, len(cl["choices"]))
        if key not in lists_by_key:
            name = f"list_{len(choice_lists) + 1}"
            used_names: set[str] = set()
            choices = [{"code": i, "name": _snake(a, used_names)[:40], "label": {"en": a}}
                       for i, a in enumerate(ordered, start=1)]
            entry: dict = {"choices": choices}
            if missing:
                entry["missing"] = missing_block(missing, len(choices))
            choice_lists[name] = entry
            lists_by_key[key] = name
        return "choices", lists_by_key[key], []

    def codebook_list(pairs: list[tuple[int, str]]) -> tuple[str, str]:
        answers = [(c, lab) for c, lab in pairs if not COMMON_MISSING.get(normalize_name(lab))]
        missing = {lab: COMMON_MISSING[normalize_name(lab)] for c, lab in pairs if COMMON_MISSING.get(normalize_name(lab))}
        miss_codes = {COMMON_MISSING[normalize_name(lab)]: c for c, lab in pairs if COMMON_MISSING.get(normalize_name(lab))}
        answers.sort()
        key = ("codebook", tuple(answers), tuple(sorted(missing.items())))
        if key in lists_by_key:
            name = lists_by_key[key]
            return ("scale" if name in scales else "choices"), name
        miss = {kind: {"code": miss_codes[kind], "label": {"en": lab}} for lab, kind in missing.items()}
        ordinal = _known_scale([lab for _, lab in answers]) is not None or (
            sum(bool(_ORDINAL_WORDS.search(lab)) for _, lab in answers) >= max(2, len(answers) // 2))
        if ordinal:
            name = f"scale_{len(scales) + 1}"
            scales[name] = {"ordered": True, "codes": [{"code": c, "label": {"en": lab}} for c, lab in answers]}
            if miss:
                scales[name]["missing"] = miss
        else:
            name = f"list_{len(choice_lists) + 1}"
            used_names: set[str] = set()
            choice_lists[name] = {"choices": [{"code": c, "name": _snake(lab, used_names)[:40], "label": {"en": lab}}
                                              for c, lab in answers]}
            if miss:
                choice_lists[name]["missing"] = miss
        lists_by_key[key] = name
        return ("scale" if ordinal else "choices"), name

    for col in columns:
        if col.role == "meta":
            counts["skipped_meta"] += 1
            continue
        s = frame[col.name].dropna().astype(str).str.strip()
        s = s[s != ""]
        values = list(dict.fromkeys(s.tolist()))
        label = (col.text or col.header or col.name)
        if col.sub:
            label = f"{label} [{col.sub}]"
        q: dict = {"id": _snake(col.key or col.name, used), "label": {"en": label}}
        name = col.name
        num = pd.to_numeric(s, errors="coerce")
        entry = codebook.get(normalize_name(col.name))
        if entry and entry[0]:
            q["label"] = {"en": entry[0]}
        if entry and entry[1] and len({c for c, _ in entry[1]}) == len(entry[1]):
            kind, lst = codebook_list(entry[1])
            q.update(type="single", role="other", **{kind: lst})
            counts["scales" if kind == "scale" else "choice_lists"] += 1
        elif _GEO.search(name) and not geo_done:
            q.update(type="text", role="geography")
            geo_done = True
            counts["text"] += 1
        elif not values or name.upper().endswith("_TEXT"):
            q.update(type="text", role="open_text")
            counts["text"] += 1
        elif num.notna().all():
            q.update(type="integer", role="other")
            counts["integer"] += 1
        else:
            answers, missing = _split_missing(values)
            opts = _multi_options(answers)
            if opts is not None and len(opts) <= _MAX_CHOICES:
                kind, lst, _ = answer_list(opts, missing)
                if kind == "scale":  # a multi-select needs a choice list
                    kind, lst, _ = "choices", lst, []
                    choice_lists[lst] = {"choices": [
                        {"code": c["code"], "name": _snake(c["label"]["en"], set())[:40], "label": c["label"]}
                        for c in scales.pop(lst)["codes"]]}
                q.update(type="multi", role="other", choices=lst)
                counts["multi"] += 1
            elif len(answers) > _MAX_CHOICES or (len(values) > 10 and len(values) > 0.5 * len(s)):
                q.update(type="text", role="open_text")
                counts["text"] += 1
            else:
                kind, lst, _ = answer_list(answers, missing)
                q.update(type="single", role="other", **{kind: lst})
                counts["scales" if kind == "scale" else "choice_lists"] += 1
                if _ATTENTION.search(name) and len(s):
                    mode_label = s.mode().iloc[0]
                    src = scales.get(lst) or choice_lists.get(lst)
                    items = src["codes"] if "codes" in src else src["choices"]
                    code = next((c["code"] for c in items if normalize_name(c["label"]["en"]) == normalize_name(mode_label)), None)
                    if code is not None:
                        q.update(role="attention_check", expected=code)
        if q.get("role") == "other" and _DEMOGRAPHIC.search(name):
            q["role"] = "demographic"
        q["_col"] = name
        questions.append(q)
    counts["questions"] = len(questions)
    grouped = _group_grids(questions, used)
    for g in grouped:
        if g["type"] == "grid":
            parent = codebook.get(normalize_name(g["id"].removesuffix("_grid")))
            if parent and parent[0]:
                g["label"] = {"en": parent[0]}
    return scales, choice_lists, grouped, dict(counts)


def _group_grids(questions: list[dict], used: set[str]) -> list[dict]:
    """Consecutive single questions with one prefix and one answer list become a grid."""
    out: list[dict] = []
    i = 0
    while i < len(questions):
        q = questions[i]
        prefix = re.split(r"[_.]", q["_col"])[0]
        lst = q.get("scale") or q.get("choices")
        j = i
        while (j + 1 < len(questions) and questions[j + 1]["type"] == "single" and q["type"] == "single"
               and questions[j + 1].get("role") == "other" and q.get("role") == "other"
               and re.split(r"[_.]", questions[j + 1]["_col"])[0] == prefix
               and (questions[j + 1].get("scale") or questions[j + 1].get("choices")) == lst):
            j += 1
        if j > i and q["type"] == "single" and q.get("role") == "other":
            kind = "scale" if q.get("scale") else "choices"
            gid = _snake(f"{prefix}_grid", used)
            out.append({"id": gid, "type": "grid", "role": "other", kind: lst,
                        "label": {"en": f"{prefix} items"},
                        "items": [{"id": x["id"], "label": x["label"]} for x in questions[i:j + 1]]})
            i = j + 1
            continue
        out.append({k: v for k, v in q.items() if k != "_col"})
        i += 1
    for q in out:
        q.pop("_col", None)
    return out


def infer_instrument(export: str | Path, out: str | Path, *, platform: str = "auto",
                     instrument_id: str | None = None, codebook: str | Path | None = None,
                     reader: Callable | None = None) -> dict:
    """Read ``export``, write a draft instrument YAML to ``out``, and return what was inferred.

    Raises
    ------
    IngestError
        When the export has no answer columns, or the draft does not validate (a bug).
    """
    from survey_pipeline.instrument import validate_instrument

    export, out = Path(export), Path(out)
    from survey_pipeline.ingest import pipeline

    pipeline.check_export_file(export)
    raw = (reader or pipeline._default_reader)(export, platform)
    cb = read_codebook(codebook) if codebook is not None else None
    scales, choice_lists, questions, counts = infer_questions(raw.frame, raw.columns, cb)
    if not questions:
        raise IngestError(f"{export}: no answer columns to infer questions from.", file=export,
                          rule="no-answer-columns", fix="Export the responses with the question columns included.")
    iid = instrument_id or _snake(export.stem, set())
    doc = {
        "id": iid, "version": "draft-1", "title": {"en": f"Draft instrument inferred from {export.name}"},
        "languages": ["en"], "default_language": "en",
    }
    if scales:
        doc["scales"] = scales
    if choice_lists:
        doc["choice_lists"] = choice_lists
    doc["modules"] = [{"id": "main", "title": {"en": "Questions"}, "questions": questions}]
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    text = re.sub(r"^(\s*)role: other$", r"\1role: other  # TODO: set the role (satisfaction, safety, trust, priority, ...)",
                  text, flags=re.M)
    text = re.sub(r"^(\s*)expected: (\d+)$", r"\1expected: \2  # TODO: check: the most common answer was taken as expected",
                  text, flags=re.M)
    head = (f"# Draft instrument inferred by survey-pipeline from {export.name} ({raw.platform}).\n"
            "# Review every TODO: roles, scale orders (lists named list_N are unordered, codes in\n"
            "# alphabetical order), missing codes, and grids. Then: survey-pipeline instrument validate <this file>\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + text, encoding="utf-8")
    inst, problems = validate_instrument(out)
    if inst is None or problems.errors:
        raise IngestError(f"{out}: the draft instrument does not validate ({len(problems.errors)} problem(s)).",
                          problems=problems.errors, file=out, rule="draft-invalid",
                          fix="This is a bug in survey-pipeline: please report it with the export's header.")
    return {"file": str(out), "instrument": iid, "platform": raw.platform, "questions": counts.get("questions", 0),
            "scales": len(scales), "choice_lists": len(choice_lists), "multi": counts.get("multi", 0),
            "text": counts.get("text", 0), "integer": counts.get("integer", 0),
            "skipped_meta": counts.get("skipped_meta", 0), "variables": len(inst.variables())}
