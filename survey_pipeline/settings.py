"""The settings of a survey project (``survey.toml``), declared once and checked as a whole.

Every section of ``survey.toml`` is a model below, and every key is one line of it: its name,
its type, its default and a description (the description is the documentation: docs/survey-toml.md
is generated from these models by :func:`write_settings_docs`, and a test fails when the two
differ). To add a key, add one line to its section's model, then regenerate the page::

    .venv/bin/python -c "from survey_pipeline.settings import write_settings_docs; write_settings_docs()"

Code reads a key as ``project.settings.<section>.<key>``.

:func:`parse_settings` checks the text: TOML syntax (with line and column), nesting depth, the
types of every value, the allowed keys of every section (an unknown key is named with the allowed
ones) and the rules of single values (wave ids, modes, platforms, flags, ranges). Every problem is
reported at once in a :class:`~survey_pipeline.errors.ProjectError`. The files the settings name
are checked by :func:`survey_pipeline.project.Project.load` (inside the project folder, regular
files of bounded size, UTF-8 text).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from survey_pipeline.errors import Problem, ProjectError
from survey_pipeline.files import DEFAULT_MAX_FILE_MB
from survey_pipeline.names import wave_id_problem

DEFAULT_GROUPS: tuple[str, ...] = ("age_group", "sex", "race_ethnicity", "tenure")
"""The demographic groups estimates are broken down by unless ``[analysis] groups`` says otherwise."""

__all__ = [
    "DEFAULT_GROUPS",
    "EXCLUDABLE_FLAGS", "MAX_TOML_BYTES", "MAX_TOML_DEPTH", "MODES", "PLATFORMS", "SurveySettings",
    "parse_settings", "read_settings", "settings_markdown", "write_settings_docs",
]

MODES: tuple[str, ...] = ("web", "mail", "phone", "in_person")
PLATFORMS: tuple[str, ...] = (
    "auto", "qualtrics", "surveymonkey", "google_forms", "ms_forms", "kobo", "odk",
    "limesurvey", "generic",
)
"""``auto`` and the platforms of :mod:`survey_pipeline.ingest.readers`."""
EXCLUDABLE_FLAGS: tuple[str, ...] = (
    "speeder", "straightliner", "duplicate_id", "duplicate_contact", "duplicate_answers",
    "attention_failed", "preview", "test", "bot", "fraud_duplicate", "fraud_score", "breakoff",
    "partial", "unknown_area",
)
"""Quality flags a project may exclude from analysis (``[quality] exclude``)."""
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "speeder", "duplicate_id", "duplicate_contact", "duplicate_answers", "attention_failed",
    "preview", "test", "bot", "fraud_duplicate", "fraud_score", "breakoff",
)
CI_METHODS: tuple[str, ...] = ("logit", "beta", "wilson", "asin", "mean", "xlogit", "likelihood")
ADJUST_METHODS: tuple[str, ...] = ("holm", "fdr_bh")

MAX_TOML_BYTES = 1_000_000
"""survey.toml larger than this (1 MB) is refused before it is parsed."""
MAX_TOML_DEPTH = 16
"""Tables and arrays nested deeper than this are refused (the deepest real key is 4 levels)."""


# --- value rules ---------------------------------------------------------------------------------

def _choice(rule: str, allowed: tuple[str, ...], what: str):
    def check(v: object) -> object:
        if not isinstance(v, str) or v not in allowed:
            raise PydanticCustomError(rule, "{what} {value} is not known; use one of: {allowed}.",
                                      {"what": what, "value": repr(v), "allowed": ", ".join(allowed)})
        return v
    return BeforeValidator(check)


def _iso_date(v: object) -> object:
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise PydanticCustomError("bad-date", "{value} is not a date; write dates as 2026-03-01 (no quotes "
                                      "needed).", {"value": repr(v)}) from None
    return v


def _wave_id(v: object) -> object:
    p = wave_id_problem(v)
    if p is not None:
        raise PydanticCustomError("bad-wave-id", "{message}", {"message": p.message})
    return v


Mode = Annotated[str, _choice("unknown-mode", MODES, "mode")]
Platform = Annotated[str, _choice("unknown-platform", PLATFORMS, "platform")]
Flag = Annotated[str, _choice("unknown-flag", EXCLUDABLE_FLAGS, "flag")]
CIMethod = Annotated[str, _choice("bad-setting", CI_METHODS, "ci_method")]
Adjust = Annotated[str, _choice("bad-setting", ADJUST_METHODS, "adjust")]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
WaveId = Annotated[str, BeforeValidator(_wave_id)]
RelPath = Annotated[str, Field(min_length=1, max_length=1000)]
Name = Annotated[str, Field(max_length=200)]
PosInt = Annotated[int, Field(ge=1)]
Threshold = Annotated[float, Field(ge=0)]


class Section(BaseModel):
    """A table of survey.toml: typed keys, no others (``extra = forbid``), no silent conversion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- the sections ---------------------------------------------------------------------------------
# One key = one line: name, type, default, description (shown in docs/survey-toml.md).

class ProjectSection(Section):
    name: Name | None = Field(None, description="The project's name, shown in reports (default: the folder's name).")
    max_file_mb: float = Field(DEFAULT_MAX_FILE_MB, gt=0, description="Size limit (MB) of the areas, crosswalk, targets and instrument files.")


class InstrumentSection(Section):
    path: RelPath | None = Field(None, description='A bundled template (resident, partner, agency_self_assessment) or a YAML file in the project folder. Required by every command but report.')


class AreasSection(Section):
    file: RelPath | None = Field(None, description="CSV (neighborhood,district,beat; optional code, zip, label_<lang>) or GeoJSON of the neighborhoods.")
    crosswalk: RelPath | None = Field(None, description="Optional CSV mapping ZIP codes or beats to neighborhoods (zip,neighborhood); a beat column (zip,beat,neighborhood) also places a respondent whose ZIP holds one beat of the neighborhood in that beat.")
    geojson: RelPath | None = Field(None, description="Shapes of the neighborhoods for maps, when file is a CSV.")
    shapes: RelPath | None = Field(None, description="Another name for geojson.")


class TargetsSection(Section):
    file: RelPath | None = Field(None, description="Census weighting targets CSV: wave,area,variable,category,population (wave all = every wave).")


class ExportEntry(Section):
    file: RelPath = Field(description="The export file, relative to the project folder.")
    platform: Platform = Field("auto", description=f"The platform that wrote it: {', '.join(PLATFORMS)}.")
    mode: Mode | None = Field(None, description=f"The mode of its responses: {', '.join(MODES)}.")


class InvitationsTable(BaseModel):
    """``[waves.invitations]``: area = count (any area names)."""


class WaveSection(Section):
    id: WaveId = Field(description="The wave id: 1 to 40 letters, digits, - and _, starting with a letter or a digit (e.g. 2026-spring).")
    label: Name | None = Field(None, description="The wave's name in reports (default: its id).")
    start: IsoDate | None = Field(None, description="First day of fieldwork (responses started earlier are test rows).")
    end: IsoDate | None = Field(None, description="Last day of fieldwork.")
    modes: list[Mode] = Field(default_factory=list, description=f"Modes of the wave: {', '.join(MODES)}.")
    exports: list[ExportEntry] = Field(default_factory=list, description="The wave's export files: {file, platform, mode} each.")
    invitations: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict, description='[waves.invitations] invitations sent per area, "Downtown" = 1200 (AAPOR response rates, base weights).')
    eligibility_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(None, description="AAPOR e for RR3/RR4 (default: estimated from the data).")


class QualitySection(Section):
    speeder_fraction: Threshold = Field(0.3, description="speeder: duration < this fraction x the median duration of the mode.")
    straightline_min_items: Annotated[int, Field(ge=0)] = Field(5, description="straightliner: the same answer across at least this many items of a grid ...")
    straightline_grid_share: Threshold = Field(0.5, description="... in at least this share of the respondent's grids of that size.")
    recaptcha_min: Threshold = Field(0.5, description="bot: Q_RecaptchaScore below this.")
    duplicate_score_min: Threshold = Field(75.0, description="fraud_duplicate: Q_RelevantIDDuplicateScore at or above this.")
    fraud_score_min: Threshold = Field(30.0, description="fraud_score: Q_RelevantIDFraudScore at or above this.")
    complete_min: Threshold = Field(0.8, description="AAPOR complete: share of applicable questions answered at or above this.")
    partial_min: Threshold = Field(0.5, description="partial: from this share up to complete_min; break-off below.")
    fuzzy_threshold: Threshold = Field(90.0, description="Column name fuzzy matching score (0-100).")
    area_fuzzy_threshold: Threshold = Field(80.0, description="Area name fuzzy matching score (0-100).")
    exclude: list[Flag] = Field(list(DEFAULT_EXCLUDE), description=f"Flags that keep a response out of analysis: any of {', '.join(EXCLUDABLE_FLAGS)}.")

    @model_validator(mode="after")
    def _order(self) -> QualitySection:
        if not self.partial_min <= self.complete_min <= 1:
            raise PydanticCustomError("bad-threshold", "need 0 <= partial_min <= complete_min <= 1; AAPOR's common "
                                      "choice is complete_min = 0.8, partial_min = 0.5.")
        return self


def _locales(v: object) -> object:
    """``{language = "locale"}``: each language one with a catalog, each locale a Babel locale of it."""
    from babel import Locale, UnknownLocaleError

    from survey_pipeline.i18n import languages

    if not isinstance(v, dict):
        raise PydanticCustomError("bad-setting", "locales = {value} is not valid: expected a table such as "
                                  '{{es = "es_ES"}}.', {"value": repr(v)})
    for lang, tag in v.items():
        if lang not in languages():
            raise PydanticCustomError("bad-setting", "locales: unknown language '{lang}'; the languages are {langs}.",
                                      {"lang": lang, "langs": ", ".join(languages())})
        try:
            loc = Locale.parse(str(tag).replace("-", "_")) if isinstance(tag, str) and tag else None
        except (ValueError, UnknownLocaleError):
            loc = None
        if loc is None or loc.language != lang:
            raise PydanticCustomError("bad-setting", "locales: '{tag}' is not a locale of '{lang}'; write a CLDR "
                                      'locale of that language, e.g. es = "es_ES" (Spain) or es = "es_US".',
                                      {"tag": tag, "lang": lang})
    return {k: str(x).replace("-", "_") for k, x in v.items()}


class ReportingSection(Section):
    min_n: PosInt = Field(30, description="Suppress estimates with fewer valid answers.")
    nchs: bool = Field(True, description="NCHS presentation standards for proportions.")
    locales: Annotated[dict[str, str], BeforeValidator(_locales)] = Field(
        default_factory=dict, description='How numbers and dates of a language are written, in the report and the dashboard: '
        '{es = "es_ES"} for Spain (58,3 %, 1.234); default en_US, es_US (58.3%, 1,234, as US and Mexican Spanish write them), vi_VN.',
        json_schema_extra={"toml_type": "table of language = locale"})


def _bounds(v: object) -> object:
    if not (isinstance(v, list | tuple) and len(v) == 2
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v) and 0 < v[0] < 1 < v[1]):
        raise PydanticCustomError("bad-setting", "bounds = {value} is not valid: expected [lo, hi] with "
                                  "0 < lo < 1 < hi.", {"value": repr(v)})
    return (float(v[0]), float(v[1]))


def _trim(v: object) -> object:
    if v is False:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool) or v <= 1:
        raise PydanticCustomError("bad-setting", "trim = {value} is not valid: expected a number > 1 (times the "
                                  "mean weight) or false.", {"value": repr(v)})
    return float(v)


class WeightingSection(Section):
    margins: list[str] | None = Field(None, description="Target variables raked to (default: every city margin of the targets file).")
    recode: dict[str, dict[str, str]] = Field(default_factory=dict, description='Answers the census files elsewhere: {tenure = {no_rent = "rent"}}.')
    min_cell: PosInt = Field(20, description="Margin cells with fewer respondents in a wave are collapsed into the next.")
    bounds: Annotated[tuple[float, float], BeforeValidator(_bounds)] = Field((0.1, 12.0), description="Bounds [lo, hi] on the raking adjustment g = weight / base weight.")
    trim: Annotated[float | None, BeforeValidator(_trim)] = Field(6.0, description="Cap weights at this x the wave's mean weight (false: no trimming).", json_schema_extra={"toml_type": "number > 1 or false"})
    max_iter: PosInt = Field(500, description="Raking sweeps before giving up.")
    base_weight: Name | None = Field(None, description="An instrument variable holding a vendor's weight per response: "
                                                       "the base weights before any raking (init --from-export sets it).")


class EvaluationEntry(Section):
    name: Name | None = Field(None, description="The effort's name (default: evaluation N).")
    areas: list[str] = Field(min_length=1, description="Areas of the effort: codes, names or labels.")
    start_wave: WaveId = Field(description="The first wave after the effort started.")
    indicators: list[str] = Field(default_factory=list, description="Indicators evaluated (default: every indicator).")


class AnalysisSection(Section):
    groups: list[str] = Field(list(DEFAULT_GROUPS), description="Demographic groups estimates are broken down by.")
    top_n: PosInt | None = Field(None, description="Priorities: share ranking a problem in the top N (default: the question's max_picks).")
    min_n: PosInt | None = Field(None, description="Overrides [reporting] min_n for the analysis.")
    nchs: bool | None = Field(None, description="Overrides [reporting] nchs for the analysis.")
    ci_method: CIMethod = Field("logit", description=f"Confidence intervals of proportions: {', '.join(CI_METHODS)}.")
    adjust: Adjust = Field("fdr_bh", description=f"Multiple-comparison adjustment: {', '.join(ADJUST_METHODS)}.")
    findings: PosInt = Field(12, description="Plain-language findings written for the largest significant changes.")
    evaluations: list[EvaluationEntry] = Field(default_factory=list, description="[[analysis.evaluations]] difference-in-differences of problem-solving efforts.")
    small_area: bool = Field(True, description="Add modeled (Fay–Herriot) estimates of neighborhoods and beats next to the direct ones (docs/analysis.md).")


class SurveySettings(Section):
    """The whole of survey.toml."""

    project: ProjectSection = Field(default_factory=ProjectSection, description="The project.")
    instrument: InstrumentSection = Field(default_factory=InstrumentSection, description="The questionnaire.")
    areas: AreasSection = Field(default_factory=AreasSection, description="Neighborhoods, districts, beats.")
    targets: TargetsSection = Field(default_factory=TargetsSection, description="Census weighting targets.")
    waves: list[WaveSection] = Field(default_factory=list, description="[[waves]] one table per wave.")
    quality: QualitySection = Field(default_factory=QualitySection, description="Quality flag thresholds and exclusions.")
    reporting: ReportingSection = Field(default_factory=ReportingSection, description="Suppression and presentation standards.")
    weighting: WeightingSection = Field(default_factory=WeightingSection, description="Raking to the census targets.")
    analysis: AnalysisSection = Field(default_factory=AnalysisSection, description="What analyze estimates.")

    @field_validator("waves")
    @classmethod
    def _unique_waves(cls, v: list[WaveSection]) -> list[WaveSection]:
        seen: set[str] = set()
        for w in v:
            if w.id in seen:
                raise PydanticCustomError("duplicate-wave", "wave {wave} is defined twice; keep one [[waves]] "
                                          "entry per id.", {"wave": repr(w.id)})
            seen.add(w.id)
        return v


# --- reading --------------------------------------------------------------------------------------

def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The section model that holds the key at ``loc`` (its parent), for the allowed-keys list."""
    cls: type[BaseModel] | None = SurveySettings
    for part in loc:
        if isinstance(part, int) or cls is None:
            continue
        f = cls.model_fields.get(part)
        if f is None:
            return cls if part == loc[-1] else None
        cls = _inner_model(f.annotation)
    return cls


def _inner_model(tp: Any) -> type[BaseModel] | None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for a in get_args(tp):
        m = _inner_model(a)
        if m is not None:
            return m
    return None


def _holds_tables(loc: tuple) -> bool:
    """Whether the key at ``loc`` is a table or an array of tables (items then keep their index)."""
    names = tuple(p for p in loc if isinstance(p, str))
    parent = _model_at(names[:-1]) if names else None
    f = parent.model_fields.get(names[-1]) if parent is not None else None
    return f is not None and _inner_model(f.annotation) is not None


def _key(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _problems(exc: ValidationError, file: str) -> list[Problem]:
    out: list[Problem] = []
    for e in exc.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tuple["))))
        if loc and isinstance(loc[-1], int) and not _holds_tables(loc[:-1]):
            loc = loc[:-1]  # an item of a list of values: the key is the list's (the message names the value)
        key = _key(loc)
        kind = e["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1]) if loc else None
            allowed = sorted(parent.model_fields) if parent is not None else []
            where = f"[{_key(loc[:-1])}]" if loc[:-1] else "survey.toml"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            out.append(Problem(file=file, column=key, rule="unknown-key",
                               message=f"unknown key '{loc[-1]}' in {where}."
                                       + (f" Did you mean '{close[0]}'?" if close else ""),
                               fix=f"Use one of: {', '.join(allowed)} (see docs/survey-toml.md)."))
            continue
        if kind == "missing":
            out.append(Problem(file=file, column=key, rule="missing-key", message=f"'{key}' is required.",
                               fix=_field_doc(loc) or "See docs/survey-toml.md."))
            continue
        doc = _field_doc(loc)
        if kind.startswith(("unknown-", "bad-", "duplicate-")):
            rule, msg = kind, e["msg"]
        else:
            why = re.sub(r"a valid dictionary or instance of \w+", "a table", e["msg"]).lower()
            rule, msg = "bad-setting", f"{key} = {_describe(e.get('input'))} is not valid: {why}."
        out.append(Problem(file=file, column=key, rule=rule, message=msg,
                           fix=(f"{key}: {doc}" if doc else "See docs/survey-toml.md.")))
    return out


def _field_doc(loc: tuple) -> str | None:
    if not loc:
        return None
    names = [p for p in loc if isinstance(p, str)]
    parent = _model_at(tuple(p for p in loc if isinstance(p, str))[:-1]) if names else None
    while names and (parent is None or names[-1] not in parent.model_fields):
        names.pop()
        parent = _model_at(tuple(names[:-1]))
    if not names or parent is None:
        return None
    return parent.model_fields[names[-1]].description


def _depth(data: object) -> int:
    """Nesting depth of parsed TOML (iterative: a deep document cannot exhaust the stack)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_TOML_DEPTH:
            break
        if isinstance(v, dict):
            stack += [(x, d + 1) for x in v.values()]
        elif isinstance(v, list):
            stack += [(x, d + 1) for x in v]
    return deepest


_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_settings(text: str, *, file: str = "survey.toml") -> SurveySettings:
    """The settings in ``text`` (the content of survey.toml), checked; raises :class:`ProjectError`
    listing every problem (syntax errors with line and column)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _POS.search(str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        reason = _POS.sub("", str(exc)).strip()
        where = f" at line {line}, column {col}" if m else ""
        p = Problem(file=file, rule="bad-toml", line=line, message=f"not valid TOML{where}: {reason}.",
                    fix="Fix the syntax there (text needs quotes, tables are [name], arrays [a, b], one key = "
                        "value per line).")
        raise ProjectError(f"{file}: not valid TOML{where}.", problems=[p], file=file, rule="bad-toml") from None
    except RecursionError:
        p = Problem(file=file, rule="toml-too-deep", message="the TOML is nested too deeply to read.",
                    fix=f"survey.toml needs at most {MAX_TOML_DEPTH} levels of tables and arrays.")
        raise ProjectError(f"{file}: nested too deeply.", problems=[p], file=file, rule="toml-too-deep") from None
    if _depth(data) > MAX_TOML_DEPTH:
        p = Problem(file=file, rule="toml-too-deep",
                    message=f"tables or arrays are nested more than {MAX_TOML_DEPTH} levels deep.",
                    fix="survey.toml needs at most 4 levels (e.g. [[analysis.evaluations]] areas = [...]).")
        raise ProjectError(f"{file}: nested too deeply.", problems=[p], file=file, rule="toml-too-deep")
    try:
        return SurveySettings.model_validate(data)
    except ValidationError as exc:
        probs = _problems(exc, file)
        raise ProjectError(f"{file}: {len(probs)} problem(s) in survey.toml.", problems=probs, file=file,
                           rule="invalid-project") from None


def read_settings(toml: str | Path) -> SurveySettings:
    """Read and check a survey.toml file (at most :data:`MAX_TOML_BYTES`, UTF-8)."""
    from survey_pipeline.files import read_text_bounded

    text = read_text_bounded(toml, max_mb=MAX_TOML_BYTES / 1e6, what="survey.toml")
    return parse_settings(text, file=str(toml))


# --- documentation --------------------------------------------------------------------------------

def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _type_name(get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in get_args(tp) if a is not type(None)]
        return " or ".join(parts)
    if origin in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        if origin is tuple and len(args) == 2 and args[0] is float and args[1] is float:
            return "[number, number]"
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "table"
    if origin is Literal:
        return " | ".join(map(repr, get_args(tp)))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "table"
    return {str: "text", int: "integer", float: "number", bool: "true/false", date: "date"}.get(tp, str(tp))


def _default(f) -> str:
    if f.is_required():
        return "required"
    if f.default_factory is not None:
        v = f.default_factory()
        return "" if isinstance(v, BaseModel) else ("(none)" if not v else repr(v))
    v = f.default
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, tuple):
        return "[" + ", ".join(map(repr, v)) + "]" if v and not isinstance(v[0], float) else repr(list(v))
    return repr(v)


def settings_markdown() -> str:
    """The key reference of docs/survey-toml.md, generated from the models (one row per key)."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]

    def walk(cls: type[BaseModel], prefix: str) -> None:
        for name, f in cls.model_fields.items():
            inner = _inner_model(f.annotation)
            key = f"{prefix}{name}"
            if inner is not None and cls is SurveySettings:
                arr = typing.get_origin(f.annotation) is list
                lines.append(f"| **`[{'[' if arr else ''}{name}{']' if arr else ''}]`** | | | {f.description} |")
                walk(inner, f"{name}.")
            elif inner is not None:
                lines.append(f"| `{key}` | {'list of tables' if typing.get_origin(f.annotation) is list else 'table'}"
                             f" | {_default(f)} | {f.description} |")
                walk(inner, f"{key}.")
            else:
                kind = (f.json_schema_extra or {}).get("toml_type") or _type_name(f.annotation)
                lines.append(f"| `{key}` | {kind} | {_default(f).replace('|', '/')} | "
                             f"{(f.description or '').replace('|', '/')} |")
    walk(SurveySettings, "")
    return "\n".join(lines) + "\n"


DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "survey-toml.md"
DOCS_BEGIN = "<!-- keys: generated by survey_pipeline.settings.write_settings_docs; do not edit by hand -->"
DOCS_END = "<!-- end of keys -->"


def write_settings_docs(page: str | Path = DOCS_PAGE) -> bool:
    """Rewrite the key table of docs/survey-toml.md (between :data:`DOCS_BEGIN` and
    :data:`DOCS_END`) from the models; True when it changed."""
    page = Path(page)
    text = page.read_text(encoding="utf-8")
    head, rest = text.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    new = f"{head}{DOCS_BEGIN}\n{settings_markdown()}{DOCS_END}{tail}"
    if new != text:
        page.write_text(new, encoding="utf-8")
    return new != text
