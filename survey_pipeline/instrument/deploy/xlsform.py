"""XLSForm (ODK, KoboToolbox, SurveyCTO): survey, choices and settings sheets.

Choice names: a scale's options are named by their code (``"1"``...), a choice list's by their
``name``; the instrument's skip logic (written against codes) is translated so that
``${q} = 1`` on a choice-list question becomes ``${q} = 'name_of_code_1'``. Grids are a
``table-list`` group of ``select_one`` rows named by the item ids; ranking uses ODK's ``rank``
(respondents order every option; the analysis keeps the first ``max_picks``). A geography
question on the agency's areas gets a district question before it (when every area has a
district; the neighborhoods are then filtered by district) and a beat question after it (when
areas list beats; filtered to the beats of the chosen neighborhood), named
``<question>_district`` and ``<question>_beat``. When the instrument already asks for the beat
as a geography text question with id ``beat`` (as the templates do), that question is asked as
the filtered beat list instead (same id, same labels; the answer is the beat as written in the
areas file), so the form never asks for the beat twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.areas import slug
from survey_pipeline.instrument.deploy.common import (
    Option,
    compare_parts,
    language_column,
    matching_codes,
    number_text,
    options,
    phrases,
    text,
)
from survey_pipeline.instrument.model import Instrument, Question
from survey_pipeline.safe import text_cells

__all__ = ["build_xlsform", "translate_relevant", "write_xlsform"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _q_options(inst: Instrument) -> dict[str, list[Option]]:
    """Options of every single/multi question, by question id (for skip logic translation)."""
    out = {}
    for q in inst.questions():
        if q.type in ("single", "multi") and q.answer_list:
            out[q.id] = options(inst, q.answer_list)
    return out


def translate_relevant(inst: Instrument, expr: str) -> str:
    """The instrument's ``relevant`` (codes) rewritten for the XLSForm choice names."""
    node = skiplogic.parse(expr)
    qopts = _q_options(inst)
    lists = {q.id: q.answer_list for q in inst.questions()}

    def by_name(qname: str) -> bool:
        lst = lists.get(qname)
        return qname in qopts and lst is not None and lst not in inst.scales

    def render(n, top: bool = False) -> str:
        if isinstance(n, skiplogic.BoolOp):
            s = f" {n.op} ".join(render(p) for p in n.parts)
            return s if top else f"({s})"
        if isinstance(n, skiplogic.Not):
            return f"not({render(n.part, True)})"
        if isinstance(n, skiplogic.Selected):
            choice = n.choice
            if lists.get(n.name) in inst.scales:
                # a scale option may be named c<code> or <code> in the YAML; the form uses the code
                choice = choice[1:] if re.fullmatch(r"c\d+", choice) else choice
            return f"selected(${{{n.name}}}, '{choice}')"
        parts = compare_parts(n)
        if parts and by_name(parts[0]) and not isinstance(parts[2], str):
            qname, op, value = parts
            if op == "!=":
                hit = matching_codes("=", float(value), qopts[qname])
                return " and ".join(f"${{{qname}}} != '{o.name}'" for o in hit) or "true()"
            hit = matching_codes(op, float(value), qopts[qname])
            if not hit:
                return "false()"
            s = " or ".join(f"${{{qname}}} = '{o.name}'" for o in hit)
            return s if len(hit) == 1 or top else f"({s})"
        if isinstance(n, skiplogic.Compare):
            return f"{render(n.left)} {n.op} {render(n.right)}"
        if isinstance(n, skiplogic.Ref):
            return f"${{{n.name}}}"
        if isinstance(n, skiplogic.Literal_):
            return f"'{n.value}'" if isinstance(n.value, str) else number_text(n.value)
        raise TypeError(n)

    return render(node, True)


def _beat_name(beat: str) -> str:
    return beat if _SAFE_NAME.match(beat) else slug(beat)


def build_xlsform(inst: Instrument) -> dict[str, pd.DataFrame]:
    """The three XLSForm sheets (``survey``, ``choices``, ``settings``) as DataFrames.

    ``inst`` is the prepared instrument (see :func:`survey_pipeline.instrument.deploy.prepare`):
    every one of its languages gets ``label::<Name> (<code>)`` and ``hint::...`` columns.
    """
    langs = inst.languages
    cols = {lang: language_column(lang) for lang in langs}
    survey: list[dict] = []
    choices: list[dict] = []
    used_lists: set[str] = set()

    def labels(prefix: str, t: dict | None) -> dict:
        if not t or not any(t.get(lang) for lang in langs):
            return {}
        return {f"{prefix}::{cols[lang]}": t.get(lang, "") for lang in langs}

    def add_list(list_name: str, *, with_missing: bool = True, as_name: str | None = None) -> str:
        name = as_name or list_name
        if name in used_lists:
            return name
        used_lists.add(name)
        for o in options(inst, list_name, with_missing=with_missing):
            row = {"list_name": name, "name": o.name, **labels("label", o.label)}
            if list_name == "areas":
                area = next(a for a in inst.areas.items if a.code == o.code)
                row["district"] = slug(area.district) if area.district else ""
            choices.append(row)
        return name

    def row(q: Question, **extra) -> dict:
        r = {"name": q.id, **labels("label", q.label), **labels("hint", q.hint)}
        if q.relevant:
            r["relevant"] = translate_relevant(inst, q.relevant)
        if q.required:
            r["required"] = "yes"
        r.update(extra)
        return r

    areas = inst.areas.items
    has_districts = bool(areas) and all(a.district for a in areas)
    has_beats = any(a.beats for a in areas)
    geo_area_qs = [q.id for q in inst.questions() if q.type == "single" and q.answer_list == "areas"]
    beat_q = next((q for q in inst.questions() if q.id == "beat" and q.type == "text"
                   and q.role is not None and q.role.value == "geography"), None)
    if not (has_beats and geo_area_qs):
        beat_q = None

    def add_beats() -> str:
        if "beats" not in used_lists:
            used_lists.add("beats")
            beat_areas: dict[str, list[str]] = {}
            for a in areas:
                for b in a.beats:
                    beat_areas.setdefault(b, []).append(a.name)
            for b, names in beat_areas.items():
                choices.append({"list_name": "beats", "name": _beat_name(b),
                                **{f"label::{cols[lang]}": b for lang in langs},
                                "neighborhoods": " ".join(names)})
        return "beats"

    for m in inst.modules:
        survey.append({"type": "begin_group", "name": m.id, **labels("label", m.title),
                       "appearance": "field-list"})
        for q in m.questions:
            lst = q.answer_list
            if q.type == "note":
                survey.append(row(q, type="note"))
            elif q.type == "single" and lst == "areas" and (has_districts or has_beats):
                if has_districts:
                    dname = f"{q.id}_district"
                    if "districts" not in used_lists:
                        used_lists.add("districts")
                        dnames = {a.district: a.district_label or {} for a in areas}
                        for d, dl in dnames.items():
                            choices.append({"list_name": "districts", "name": slug(d),
                                            **{f"label::{cols[lang]}": dl.get(lang) or dl.get("_") or d
                                               for lang in langs}})
                    survey.append({"type": "select_one districts", "name": dname,
                                   **{f"label::{cols[lang]}": phrases(lang, "xlsform")["district"] for lang in langs},
                                   **({"relevant": translate_relevant(inst, q.relevant)} if q.relevant else {}),
                                   **({"required": "yes"} if q.required else {})})
                    survey.append(row(q, type=f"select_one {add_list('areas')}",
                                      choice_filter=f"district = ${{{dname}}}"))
                else:
                    survey.append(row(q, type=f"select_one {add_list('areas')}"))
                if has_beats and beat_q is None:
                    survey.append({"type": f"select_one {add_beats()}", "name": f"{q.id}_beat",
                                   **{f"label::{cols[lang]}": phrases(lang, "xlsform")["beat"] for lang in langs},
                                   "choice_filter": f"selected(neighborhoods, ${{{q.id}}})",
                                   **({"relevant": translate_relevant(inst, q.relevant)} if q.relevant else {})})
            elif beat_q is not None and q.id == beat_q.id:
                survey.append(row(q, type=f"select_one {add_beats()}",
                                  choice_filter=f"selected(neighborhoods, ${{{geo_area_qs[0]}}})"))
            elif q.type == "single":
                appearance = "likert" if lst in inst.scales and inst.scales[lst].ordered else None
                survey.append(row(q, type=f"select_one {add_list(lst)}",
                                  **({"appearance": appearance} if appearance else {})))
            elif q.type == "multi":
                name = add_list(lst)
                opts = options(inst, lst)
                excl = [o.name for o in opts if o.missing]
                extra = {}
                if excl:
                    cond = " or ".join(f"selected(., '{x}')" for x in excl)
                    extra["constraint"] = f"not(({cond}) and count-selected(.) > 1)"
                    extra.update({f"constraint_message::{cols[lang]}": " / ".join(
                        text(o.label, lang) for o in opts if o.missing) + ": " + phrases(lang, "xlsform")["mark_one"]
                        for lang in langs})
                if q.max_picks:
                    c = f"count-selected(.) <= {q.max_picks}"
                    extra["constraint"] = f"{extra['constraint']} and {c}" if extra.get("constraint") else c
                survey.append(row(q, type=f"select_multiple {name}", **extra))
            elif q.type == "rank":
                has_missing = bool(inst.answer_options(lst)[1])
                name = add_list(lst, with_missing=False, as_name=f"{lst}_rank" if has_missing else lst)
                survey.append(row(q, type=f"rank {name}"))
            elif q.type == "integer":
                extra = {}
                conds = []
                if q.min is not None:
                    conds.append(f". >= {number_text(q.min)}")
                if q.max is not None:
                    conds.append(f". <= {number_text(q.max)}")
                if conds:
                    extra["constraint"] = " and ".join(conds)
                    extra.update({f"constraint_message::{cols[lang]}": phrases(lang, "xlsform")["between"].format(
                        min=number_text(q.min) if q.min is not None else "…",
                        max=number_text(q.max) if q.max is not None else "…") for lang in langs})
                else:
                    extra["constraint"] = ". >= 0"
                survey.append(row(q, type="integer", **extra))
            elif q.type == "text":
                survey.append(row(q, type="text",
                                  **({"appearance": "multiline"} if q.role and q.role.value == "open_text" else {})))
            elif q.type == "grid":
                name = add_list(lst)
                g = row(q, type="begin_group", appearance="table-list")
                g.pop("required", None)
                survey.append(g)
                for it in q.items or []:
                    r = {"type": f"select_one {name}", "name": it.id, **labels("label", it.label)}
                    if q.required:
                        r["required"] = "yes"
                    survey.append(r)
                survey.append({"type": "end_group", "name": q.id})
            else:  # pragma: no cover - the loader rejects other types
                raise ValueError(q.type)
        survey.append({"type": "end_group", "name": m.id})

    settings = {
        "form_title": text(inst.title, inst.language) + (f" — {inst.agency}" if inst.agency else ""),
        "form_id": inst.id,
        "version": inst.version,
        "default_language": cols[inst.language],
    }
    survey_df = pd.DataFrame(survey, dtype=object).fillna("")
    first = ["type", "name"] + [c for c in survey_df.columns if c.startswith("label::")] + \
        [c for c in survey_df.columns if c.startswith("hint::")]
    survey_df = survey_df[first + [c for c in survey_df.columns if c not in first]]
    choices_df = pd.DataFrame(choices, dtype=object).fillna("")
    return {"survey": survey_df, "choices": choices_df, "settings": pd.DataFrame([settings])}


def write_xlsform(sheets: dict[str, pd.DataFrame], out: str | Path) -> Path:
    """Write the sheets to an ``.xlsx`` workbook.

    Every text cell is stored as text: a label or name that starts like a spreadsheet formula
    (``=HYPERLINK(...)`` in an area name) is a quote-prefixed string cell, not a live formula,
    and pyxform reads the same text (:func:`survey_pipeline.safe.text_cells`)."""
    out = Path(out)
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
            text_cells(xw.sheets[name])
    return out
