"""What every deploy format shares: preparing the instrument, answer options, words, skip logic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from survey_pipeline.errors import DeployError, InstrumentError
from survey_pipeline.i18n import N_, languages, t
from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.areas import apply_areas
from survey_pipeline.instrument.model import Areas, Instrument, Question, Text

Format = Literal["xlsform", "paper", "codebook", "qualtrics-txt", "limesurvey-tsv"]
FORMATS: tuple[str, ...] = get_args(Format)
"""The export formats, in the order the CLI lists them."""

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "es": "Español", "fr": "Français", "pt": "Português", "vi": "Tiếng Việt",
    "zh": "中文", "ko": "한국어", "tl": "Tagalog", "ar": "العربية", "ru": "Русский", "so": "Soomaali",
    "ht": "Kreyòl ayisyen", "hmn": "Hmoob", "de": "Deutsch", "it": "Italiano", "pl": "Polski",
}
"""Native names used in XLSForm language columns (``label::Español (es)``)."""

PHRASES: dict[str, str] = {
    "instructions": N_("Please answer each question by marking the box next to your answer, like this: ☒. If you make a mistake, fill in the wrong box completely and mark the right one. Follow any instruction that tells you to skip a question."),
    "mark_one": N_("Mark one box."),
    "mark_all": N_("Mark all that apply."),
    "mark_one_per_row": N_("Mark one box in each row."),
    "rank": N_("Write 1 next to the most important, 2 next to the next most important, up to {n}."),
    "write_number": N_("Write a number."),
    "write_answer": N_("Write your answer."),
    "between": N_("Write a number from {min} to {max}."),
    "skip": N_("If you answered {answers} to question {q}, skip to question {to}."),
    "skip_end": N_("If you answered {answers} to question {q}, skip to the end of the survey."),
    "only_if": N_("Answer only if {condition}."),
    "answered": N_("you answered {answers} to question {q}"),
    "not_answered": N_("you did not answer {answers} to question {q}"),
    "marked": N_("you marked '{answer}' in question {q}"),
    "and": N_("and"),
    "or": N_("or"),
    "not": N_("it is not true that"),
    "thanks": N_("Thank you for completing the survey."),
    "district": N_("In which district do you live?"),
    "beat": N_("In which police beat do you live, if you know it?"),
    "agency": N_("Conducted by {agency}"),
    "page": N_("Page"),
    "version": N_("Version"),
    "question": N_("Question"),
}
"""Wording the exports add around the instrument's own text (instructions, skip directions): English
messages, translated by the catalogs (:mod:`survey_pipeline.i18n`, ``docs/i18n.md``)."""


def phrases(language: str, fmt: str) -> dict[str, str]:
    """The added wording in ``language`` (from its catalog); a clear error when it has none yet."""
    if language not in languages():
        raise DeployError(
            f"the {fmt} export has no wording for language '{language}' (instructions, skip directions).",
            rule="no-phrases",
            fix=(f"Export in one of {', '.join(languages())}, or add a catalog for '{language}' "
                 "(survey_pipeline/i18n/locale/<lang>/LC_MESSAGES/messages.po; docs/i18n.md)."),
        )
    return {key: t(message, language) for key, message in PHRASES.items()}


def language_column(lang: str) -> str:
    """XLSForm's language label: ``"Español (es)"``."""
    return f"{LANGUAGE_NAMES.get(lang, lang)} ({lang})"


def text(t: Text | None, lang: str) -> str:
    """A label in one language ('' when absent)."""
    return (t or {}).get(lang, "") or ""


@dataclass(frozen=True)
class Option:
    """One answer option as exports see it."""

    code: int
    name: str          # the XLSForm choice name: the code for scales, the choice name for lists
    label: Text
    missing: str | None = None  # dont_know / refused for missing codes


def options(inst: Instrument, list_name: str, *, with_missing: bool = True) -> list[Option]:
    """Answer options of a scale or choice list, substantive codes first, then missing codes.

    Choice names: a scale's options are named by their code (``"1"``, ``"2"``...), a choice
    list's by their ``name``; a choice list's missing codes by their kind (``dont_know``,
    ``refused``), a scale's by their code.
    """
    choices, missing = inst.answer_options(list_name)
    is_scale = list_name in inst.scales
    out = [Option(c.code, str(c.code) if is_scale else c.name, c.label) for c in choices]
    if with_missing:
        for kind, m in missing.items():
            out.append(Option(m.code, str(m.code) if is_scale else kind, m.label, kind))
    return out


def numbered_questions(inst: Instrument) -> dict[str, int]:
    """Question numbers as printed on paper: every question but notes, in order, from 1."""
    numbers: dict[str, int] = {}
    for q in inst.questions():
        if q.type != "note":
            numbers[q.id] = len(numbers) + 1
    return numbers


def parse_relevant(q: Question):
    """The parsed ``relevant`` of a question (None when it has none)."""
    return skiplogic.parse(q.relevant) if q.relevant else None


def number_text(v: float | str) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def matching_codes(op: str, value: float, opts: list[Option]) -> list[Option]:
    """Options whose code satisfies ``code <op> value``."""
    test = {
        "=": lambda c: c == value, "!=": lambda c: c != value, "<": lambda c: c < value,
        "<=": lambda c: c <= value, ">": lambda c: c > value, ">=": lambda c: c >= value,
    }[op]
    return [o for o in opts if test(o.code)]


FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def compare_parts(node) -> tuple[str, str, object] | None:
    """``(question, op, literal)`` for ``${q} op literal`` (either order), else None."""
    if not isinstance(node, skiplogic.Compare):
        return None
    if isinstance(node.left, skiplogic.Ref) and isinstance(node.right, skiplogic.Literal_):
        return node.left.name, node.op, node.right.value
    if isinstance(node.right, skiplogic.Ref) and isinstance(node.left, skiplogic.Literal_):
        return node.right.name, FLIP[node.op], node.left.value
    return None


def prepare(
    inst: Instrument,
    *,
    agency: str | None = None,
    areas: Areas | None = None,
    languages: list[str] | None = None,
    modules: list[str] | None = None,
) -> Instrument:
    """The instrument as it will be deployed: chosen modules and languages, the agency's areas.

    Raises
    ------
    InstrumentError
        Unknown module or language (the message lists the valid ones).
    DeployError
        A kept question's skip logic names a question in a module that was left out.
    """
    if modules is not None:
        known = [m.id for m in inst.modules]
        unknown = [m for m in modules if m not in known]
        if unknown:
            optional = [m.id for m in inst.modules if m.optional]
            raise InstrumentError(
                f"{inst.source_file or inst.id}: unknown module(s) {', '.join(unknown)}.",
                rule="unknown-module",
                fix=f"Optional modules: {', '.join(optional) or '(none)'}; all modules: {', '.join(known)}.",
            )
    out = inst.with_modules(modules).with_languages(languages)
    if areas is not None:
        if not any(q.answer_list == "areas" for q in out.questions()):
            raise DeployError(
                f"{inst.source_file or inst.id}: areas were given, but no question asks for them "
                "(none has 'choices: areas').",
                rule="areas-unused",
                fix="Leave out --areas for this instrument, or add a geography question with 'choices: areas'.",
            )
        out = apply_areas(out, areas)
    if agency is not None:
        out = out.model_copy(update={"agency": agency})
    kept = {q.id for q in out.questions()}
    for q in out.questions():
        node = parse_relevant(q)
        if node is None:
            continue
        gone = sorted({name for name, _ in skiplogic.references(node) if name not in kept})
        if gone:
            raise DeployError(
                f"{inst.source_file or inst.id}: question '{q.id}' (module '{q.module}') is asked only "
                f"when {', '.join(gone)} is answered, but that question's module was left out.",
                rule="skip-to-removed-module",
                fix="Keep the module that asks " + ", ".join(gone) + " (--module), or leave out this one too.",
            )
    return out
