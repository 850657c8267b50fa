"""LimeSurvey's tab-separated survey structure (``.txt`` import), every language.

Rows: ``S`` (survey settings), ``SL`` (title per language), ``G`` (one group per module),
``Q`` (question), ``SQ`` (grid items, multiple-choice options), ``A`` (answer options), each
language in turn. Types: ``L`` list, ``M`` multiple choice, ``F`` array, ``R`` ranking,
``N`` numeric, ``S`` short text, ``T`` long text, ``X`` text display.

LimeSurvey codes are letters and digits only (questions and subquestions up to 20 characters,
answers up to 5), so ids are mapped by :func:`limesurvey_code` (``contact_12m`` ->
``contact12m``); answer codes are the instrument's numeric codes. Skip logic is translated to
ExpressionScript: ``${q} = 1`` -> ``q == "1"``, ``selected(${q}, 'x')`` -> ``q_x == "Y"``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from survey_pipeline.errors import DeployError
from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.deploy.common import compare_parts, number_text, options, text
from survey_pipeline.instrument.model import Instrument

__all__ = ["COLUMNS", "build_limesurvey_tsv", "limesurvey_code", "write_limesurvey_tsv"]

COLUMNS = ["class", "type/scale", "name", "relevance", "text", "help", "language", "validation",
           "mandatory", "other", "default", "same_default", "max_answers", "max_subquestions", "min_num_value_n",
           "max_num_value_n", "num_value_int_only"]


def limesurvey_code(identifier: str, max_len: int = 20) -> str:
    """A LimeSurvey code for an id: letters and digits only, starting with a letter."""
    s = re.sub(r"[^A-Za-z0-9]", "", identifier)
    if not s or not s[0].isalpha():
        s = "q" + s
    return s[:max_len]


class _Codes:
    """Unique LimeSurvey codes within one namespace."""

    def __init__(self, max_len: int = 20):
        self.max_len = max_len
        self.by_id: dict[str, str] = {}
        self.used: set[str] = set()

    def __call__(self, identifier: str) -> str:
        if identifier in self.by_id:
            return self.by_id[identifier]
        code = limesurvey_code(identifier, self.max_len)
        n = 2
        while code.lower() in self.used:
            suffix = str(n)
            code = limesurvey_code(identifier, self.max_len - len(suffix)) + suffix
            n += 1
        self.used.add(code.lower())
        self.by_id[identifier] = code
        return code


def build_limesurvey_tsv(inst: Instrument) -> pd.DataFrame:
    """The survey structure as a DataFrame with LimeSurvey's columns, one row per TSV line."""
    qcode = _Codes()
    for q in inst.questions():
        qcode(q.id)
    sq_codes: dict[str, _Codes] = {}

    def sq(qid: str, identifier: str) -> str:
        return sq_codes.setdefault(qid, _Codes())(identifier)

    qtypes = {q.id: q for q in inst.questions()}

    def relevance(expr: str | None) -> str:
        if not expr:
            return "1"
        node = skiplogic.parse(expr)

        def render(n) -> str:
            if isinstance(n, skiplogic.BoolOp):
                return "(" + f" {n.op} ".join(render(p) for p in n.parts) + ")"
            if isinstance(n, skiplogic.Not):
                return f"!({render(n.part)})"
            if isinstance(n, skiplogic.Selected):
                src = qtypes[n.name]
                opts = options(inst, src.answer_list) if src.answer_list else []
                hit = next((o for o in opts if o.name == n.choice or f"c{o.code}" == n.choice), None)
                ident = hit.name if hit and src.answer_list not in inst.scales else n.choice
                return f'{qcode(n.name)}_{sq(n.name, ident)} == "Y"'
            parts = compare_parts(n)
            if parts and not isinstance(parts[2], str):
                name, op, value = parts
                lhs = qcode(name)
                if op in ("=", "!="):
                    return f'{lhs} {"==" if op == "=" else "!="} "{number_text(value)}"'
                return f"{lhs} {op} {number_text(value)}"
            if isinstance(n, skiplogic.Compare):
                op = "==" if n.op == "=" else n.op
                return f"{render(n.left)} {op} {render(n.right)}"
            if isinstance(n, skiplogic.Ref):
                return qcode(n.name)
            if isinstance(n, skiplogic.Literal_):
                return f'"{n.value}"' if isinstance(n.value, str) else number_text(n.value)
            raise TypeError(n)

        out = render(node)
        return out[1:-1] if out.startswith("(") and out.endswith(")") and isinstance(node, skiplogic.BoolOp) else out

    langs = inst.languages
    rows: list[dict] = [
        {"class": "S", "name": "language", "text": langs[0]},
        {"class": "S", "name": "additional_languages", "text": " ".join(langs[1:])},
        {"class": "S", "name": "format", "text": "G"},
    ]
    for lang in langs:
        title = text(inst.title, lang) + (f" — {inst.agency}" if inst.agency else "")
        rows.append({"class": "SL", "name": "surveyls_title", "text": title, "language": lang})
        if inst.description:
            rows.append({"class": "SL", "name": "surveyls_description", "text": text(inst.description, lang),
                         "language": lang})
    for g, m in enumerate(inst.modules, start=1):
        for lang in langs:
            # type/scale carries the group's number so LimeSurvey joins a group's languages
            # (without it, the importer's per-language group counter restarts at each language change)
            rows.append({"class": "G", "type/scale": str(g), "name": text(m.title, lang) or m.id,
                         "relevance": "1", "language": lang})
        for q in m.questions:
            opts = options(inst, q.answer_list) if q.answer_list else []
            for o in opts:
                if len(str(o.code)) > 5:
                    raise DeployError(f"{inst.source_file or inst.id}: question '{q.id}': answer code {o.code} "
                                      "is longer than LimeSurvey's 5 characters.", rule="limesurvey-code",
                                      fix="Use answer codes of at most 5 digits.")
            for lang in langs:
                base = {"class": "Q", "name": qcode(q.id), "relevance": relevance(q.relevant),
                        "text": text(q.label, lang), "help": text(q.hint, lang), "language": lang,
                        "mandatory": "Y" if q.required else "N", "other": "N", "same_default": "0"}
                sub: list[dict] = []
                ans: list[dict] = []
                if q.type == "note":
                    base["type/scale"] = "X"
                elif q.type == "single":
                    base["type/scale"] = "L"
                    ans = [{"class": "A", "type/scale": "0", "name": str(o.code), "text": text(o.label, lang),
                            "language": lang} for o in opts]
                elif q.type == "multi":
                    base["type/scale"] = "M"
                    if q.max_picks:
                        base["max_answers"] = str(q.max_picks)
                    sub = [{"class": "SQ", "type/scale": "0", "name": sq(q.id, o.name), "relevance": "1",
                            "text": text(o.label, lang), "language": lang} for o in opts]
                elif q.type == "rank":
                    base["type/scale"] = "R"
                    if q.max_picks:
                        # max_subquestions: how many ranks are stored (<code>_1..<code>_N)
                        base["max_answers"] = base["max_subquestions"] = str(q.max_picks)
                    ans = [{"class": "A", "type/scale": "0", "name": str(o.code), "text": text(o.label, lang),
                            "language": lang} for o in opts if not o.missing]
                elif q.type == "grid":
                    base["type/scale"] = "F"
                    sub = [{"class": "SQ", "type/scale": "0", "name": sq(q.id, it.id), "relevance": "1",
                            "text": text(it.label, lang), "language": lang} for it in q.items or []]
                    ans = [{"class": "A", "type/scale": "0", "name": str(o.code), "text": text(o.label, lang),
                            "language": lang} for o in opts]
                elif q.type == "integer":
                    base["type/scale"] = "N"
                    base["num_value_int_only"] = "1"
                    if q.min is not None:
                        base["min_num_value_n"] = number_text(q.min)
                    if q.max is not None:
                        base["max_num_value_n"] = number_text(q.max)
                elif q.type == "text":
                    base["type/scale"] = "T" if q.role and q.role.value == "open_text" else "S"
                rows.append(base)
                rows.extend(sub)
                rows.extend(ans)
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object).fillna("")


def write_limesurvey_tsv(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write the TSV (UTF-8, tab separated, header row, quoting only where needed)."""
    out = Path(out)
    clean = frame.map(lambda v: " ".join(str(v).split()) if isinstance(v, str) else v)
    clean.to_csv(out, sep="\t", index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return out
