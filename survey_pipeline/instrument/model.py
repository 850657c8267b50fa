"""Typed models of a survey instrument (see docs/instrument-format.md).

The models are plain data: loading, include resolution and validation live in
:mod:`survey_pipeline.instrument.load`. Once loaded, an :class:`Instrument` is fully resolved:
modules from the library are expanded, included scales and choice lists are merged, and
``items_from`` grids are expanded to explicit items.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

Text = dict[str, str]
"""A label in every declared language: ``{"en": "...", "es": "..."}``."""


class Role(StrEnum):
    """What the analysis does with a question (DESIGN.md)."""

    geography = "geography"
    priority = "priority"
    satisfaction = "satisfaction"
    importance = "importance"
    safety = "safety"
    trust = "trust"
    problem = "problem"
    scale_item = "scale_item"
    demographic = "demographic"
    contact = "contact"
    attention_check = "attention_check"
    open_text = "open_text"
    other = "other"


QuestionType = Literal["single", "multi", "rank", "integer", "text", "note", "grid"]
MissingKind = Literal["dont_know", "refused"]
MISSING_KINDS: tuple[str, ...] = ("dont_know", "refused")
"""Missing codes an instrument may declare. Ingest adds ``not_asked``, ``breakoff``, ``invalid``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class MissingCode(_Model):
    code: int
    label: Text


class Choice(_Model):
    code: int
    name: str
    label: Text
    department: str | None = None


class Scale(_Model):
    """A shared response scale with explicit numeric codes and typed missing codes."""

    id: str = ""
    label: Text | None = None
    ordered: bool = True
    positive: list[int] = Field(default_factory=list)
    codes: list[Choice]
    missing: dict[MissingKind, MissingCode] = Field(default_factory=dict)

    def code_values(self) -> list[int]:
        return [c.code for c in self.codes]

    def missing_codes(self) -> dict[int, str]:
        """Map of missing code -> kind (``dont_know``/``refused``)."""
        return {m.code: kind for kind, m in self.missing.items()}


class ChoiceList(_Model):
    """An unordered list of answers (problems, services, demographics)."""

    id: str = ""
    choices: list[Choice]
    missing: dict[MissingKind, MissingCode] = Field(default_factory=dict)

    def missing_codes(self) -> dict[int, str]:
        return {m.code: kind for kind, m in self.missing.items()}

    def by_name(self) -> dict[str, Choice]:
        return {c.name: c for c in self.choices}


class Item(_Model):
    """One row of a grid: its own variable id, label, and optional reverse keying."""

    id: str
    label: Text
    reverse: bool = False
    department: str | None = None
    choice_code: int | None = None  # set when the item comes from a choice list (items_from)


class Question(_Model):
    id: str
    type: QuestionType
    label: Text | None = None
    hint: Text | None = None
    role: Role | None = None
    scale: str | None = None
    choices: str | None = None
    items: list[Item] | None = None
    items_from: str | None = None
    max_picks: int | None = None
    min: float | None = None
    max: float | None = None
    relevant: str | None = None
    required: bool = False
    reverse: bool = False
    index: str | None = None
    department: str | None = None
    expected: int | None = None
    appearance: str | None = None
    source: str | None = None
    # Filled in by the loader:
    module: str = ""

    @property
    def answer_list(self) -> str | None:
        """The scale or choice list the answers come from."""
        return self.scale or self.choices


class Module(_Model):
    id: str
    title: Text | None = None
    optional: bool = False
    questions: list[Question] = Field(default_factory=list)


class Index(_Model):
    """A multi-item scale (procedural justice, trust, collective efficacy)."""

    id: str = ""
    label: Text
    source: str | None = None
    min_items: int | None = None


class Area(_Model):
    code: int
    name: str
    label: Text
    district: str | None = None
    district_label: Text | None = None  # the district's name (by language), when the areas file gives one
    beats: list[str] = Field(default_factory=list)
    zips: list[str] = Field(default_factory=list)


class Areas(_Model):
    levels: list[str] = Field(default_factory=lambda: ["district", "neighborhood"])
    items: list[Area] = Field(default_factory=list)


class CrosswalkEntry(_Model):
    from_version: str
    same: list[str] = Field(default_factory=list)
    renamed: dict[str, str] = Field(default_factory=dict)
    not_comparable: list[str] = Field(default_factory=list)


class Variable(_Model):
    """One analysis variable of a clean wave (a column of `responses`)."""

    name: str
    question: str
    module: str
    type: QuestionType
    label: Text
    question_label: Text | None = None
    role: Role | None = None
    answer_list: str | None = None
    index: str | None = None
    reverse: bool = False
    department: str | None = None
    choice_code: int | None = None  # multi/rank: the option this 0/1 or rank column stands for
    relevant: str | None = None


class Instrument(_Model):
    """A fully resolved instrument."""

    id: str
    version: str
    title: Text
    description: Text | None = None
    languages: list[str]
    default_language: str | None = None
    departments: dict[str, Text] = Field(default_factory=dict)
    scales: dict[str, Scale] = Field(default_factory=dict)
    choice_lists: dict[str, ChoiceList] = Field(default_factory=dict)
    modules: list[Module] = Field(default_factory=list)
    indices: dict[str, Index] = Field(default_factory=dict)
    areas: Areas = Field(default_factory=Areas)
    crosswalk: list[CrosswalkEntry] = Field(default_factory=list)
    agency: str | None = None
    source_file: str | None = None

    # --- navigation -------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.default_language or self.languages[0]

    def questions(self) -> list[Question]:
        return [q for m in self.modules for q in m.questions]

    def question(self, qid: str) -> Question:
        for q in self.questions():
            if q.id == qid:
                return q
        raise KeyError(qid)

    def answer_options(self, name: str) -> tuple[list[Choice], dict[str, MissingCode]]:
        """Choices and missing codes of a scale or choice list, by name."""
        if name in self.scales:
            s = self.scales[name]
            return s.codes, dict(s.missing)
        if name == "areas" and name not in self.choice_lists:
            return [Choice(code=a.code, name=a.name, label=a.label) for a in self.areas.items], {}
        cl = self.choice_lists[name]
        return cl.choices, dict(cl.missing)

    def variables(self) -> list[Variable]:
        """One entry per analysis variable, in questionnaire order (see the format doc)."""
        out: list[Variable] = []
        for q in self.questions():
            base = {
                "question": q.id,
                "module": q.module,
                "type": q.type,
                "question_label": q.label,
                "role": q.role,
                "relevant": q.relevant,
                "index": q.index,
                "department": q.department,
            }
            if q.type == "note":
                continue
            if q.type == "grid":
                for it in q.items or []:
                    out.append(
                        Variable(
                            name=it.id,
                            label=it.label,
                            answer_list=q.scale or q.choices,
                            reverse=it.reverse,
                            choice_code=it.choice_code,
                            **{**base, "department": it.department or q.department},
                        )
                    )
            elif q.type in ("multi", "rank"):
                choices, _ = self.answer_options(q.answer_list) if q.answer_list else ([], {})
                for c in choices:
                    out.append(
                        Variable(
                            name=f"{q.id}_{c.name}",
                            label=c.label,
                            answer_list=q.answer_list,
                            choice_code=c.code,
                            **{**base, "department": c.department or q.department},
                        )
                    )
            else:
                out.append(
                    Variable(name=q.id, label=q.label or {}, answer_list=q.answer_list,
                             reverse=q.reverse, **base)
                )
        return out

    def variables_frame(self, language: str | None = None) -> pd.DataFrame:
        """The variables as a tidy DataFrame (labels in one language)."""
        lang = language or self.language
        rows = []
        for v in self.variables():
            rows.append(
                {
                    "variable": v.name,
                    "question": v.question,
                    "module": v.module,
                    "type": v.type,
                    "role": v.role.value if v.role else None,
                    "label": v.label.get(lang),
                    "question_label": (v.question_label or {}).get(lang),
                    "answer_list": v.answer_list,
                    "index": v.index,
                    "reverse": v.reverse,
                    "department": v.department,
                    "choice_code": v.choice_code,
                    "relevant": v.relevant,
                }
            )
        return pd.DataFrame(rows)

    def with_modules(self, keep: list[str] | None) -> Instrument:
        """A copy with only the named optional modules kept (required modules always stay)."""
        if keep is None:
            return self.model_copy(deep=True)
        unknown = sorted(set(keep) - {m.id for m in self.modules})
        if unknown:
            from survey_pipeline.errors import InstrumentError

            raise InstrumentError(
                f"{self.source_file or self.id}: unknown module(s) {', '.join(unknown)}.",
                fix=f"Choose from: {', '.join(m.id for m in self.modules)}.",
                rule="unknown-module",
            )
        mods = [m for m in self.modules if not m.optional or m.id in keep]
        return self.model_copy(update={"modules": [m.model_copy(deep=True) for m in mods]}, deep=True)

    def with_languages(self, languages: list[str] | None) -> Instrument:
        if not languages:
            return self.model_copy(deep=True)
        unknown = [lang for lang in languages if lang not in self.languages]
        if unknown:
            from survey_pipeline.errors import InstrumentError

            raise InstrumentError(
                f"{self.source_file or self.id}: language(s) {', '.join(unknown)} are not declared.",
                fix=f"Choose from: {', '.join(self.languages)}, or translate the instrument first.",
                rule="unknown-language",
            )
        return self.model_copy(
            update={"languages": list(languages), "default_language": languages[0]}, deep=True
        )

    def comparable_with(self, version: str) -> dict[str, str]:
        """Map of current variable/question id -> id in ``version`` for comparable items."""
        for cw in self.crosswalk:
            if cw.from_version == version:
                mapping = {qid: qid for qid in cw.same}
                mapping.update(cw.renamed)
                for qid in cw.not_comparable:
                    mapping.pop(qid, None)
                return mapping
        return {}
