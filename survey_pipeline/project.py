"""A survey project folder: ``survey.toml`` (instrument, areas, waves, rules) and its store.

A project folder holds everything one survey program needs::

    my-survey/
      survey.toml          the settings (this module reads and checks them)
      areas.csv            neighborhoods with their district (and optional beats)
      exports/             the platform exports, one or more per wave
      mappings/            reviewable column mappings written by ingest (edits win)
      warehouse.duckdb     the store (survey_pipeline.store)

:func:`Project.load` reads ``survey.toml`` through the one settings model
(:mod:`survey_pipeline.settings`), checks the files it names (:mod:`survey_pipeline.files`) and
reports every problem at once, each with the file, the key, the rule and the fix;
:func:`check_project` adds the instrument, the store's instrument and the targets and areas
contents (every command runs it first). :func:`init_project` writes a commented ``survey.toml``.
"""

from __future__ import annotations

import functools
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from survey_pipeline.errors import Problem, ProjectError
from survey_pipeline.files import (
    DEFAULT_MAX_FILE_MB,
    confined_path,
    file_problem,
    read_text_bounded,
    text_problem,
)
from survey_pipeline.settings import (
    EXCLUDABLE_FLAGS,
    MODES,
    PLATFORMS,
    SurveySettings,
    read_settings,
)

__all__ = [
    "EXCLUDABLE_FLAGS",
    "MODES",
    "PLATFORMS",
    "Areas",
    "ExportSpec",
    "Project",
    "QualityRules",
    "ReportingRules",
    "Wave",
    "check_project",
    "init_project",
    "normalize_name",
]

Mode = Literal["web", "mail", "phone", "in_person"]
assert get_args(Mode) == MODES

SURVEY_TOML = "survey.toml"
STORE_FILE = "warehouse.duckdb"
SALT_FILE = ".contact_salt"


def normalize_name(text: object) -> str:
    """Casefold, strip accents, punctuation and extra whitespace (for matching labels and names)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return _normalize_text(text if isinstance(text, str) else str(text))


@functools.lru_cache(maxsize=1 << 16)
def _normalize_text(text: str) -> str:
    """:func:`normalize_name` of a string; remembered: an ingest matches the same few hundred labels
    and answers thousands of times."""
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = s.replace("&", " and ")
    s = re.sub(r"[^\w]+", " ", s, flags=re.UNICODE).replace("_", " ")
    return " ".join(s.split())


@dataclass(frozen=True)
class ExportSpec:
    """One export file of a wave: where it is, which platform wrote it, and its mode."""

    file: str
    platform: str = "auto"
    mode: str | None = None


@dataclass(frozen=True)
class Wave:
    """A wave of the survey: its dates, modes, export files and (optionally) invitations per area."""

    id: str
    label: str
    start: date | None = None
    end: date | None = None
    modes: tuple[str, ...] = ()
    exports: tuple[ExportSpec, ...] = ()
    invitations: dict[str, int] = field(default_factory=dict)
    eligibility_rate: float | None = None  # AAPOR 'e' for RR3/RR4; None = estimate from the data

    def listed(self, file_name: str) -> bool:
        return any(Path(e.file).name == Path(file_name).name for e in self.exports)


@dataclass(frozen=True)
class QualityRules:
    """Thresholds of the quality flags (each flag records the threshold it used)."""

    speeder_fraction: float = 0.3
    straightline_min_items: int = 5
    straightline_grid_share: float = 0.5
    recaptcha_min: float = 0.5
    duplicate_score_min: float = 75.0
    fraud_score_min: float = 30.0
    complete_min: float = 0.8
    partial_min: float = 0.5
    fuzzy_threshold: float = 90.0
    area_fuzzy_threshold: float = 80.0
    exclude: tuple[str, ...] = (
        "speeder", "duplicate_id", "duplicate_contact", "duplicate_answers", "attention_failed",
        "preview", "test", "bot", "fraud_duplicate", "fraud_score", "breakoff",
    )


@dataclass(frozen=True)
class ReportingRules:
    """When an estimate is shown, flagged or suppressed."""

    min_n: int = 30
    nchs: bool = True


@dataclass
class Areas:
    """Neighborhoods with district and beats, plus an optional ZIP/beat crosswalk."""

    table: pd.DataFrame  # columns: neighborhood, district, beat (beat may be None)
    crosswalk: pd.DataFrame  # columns: key (zip or beat, normalized), neighborhood, optional beat (a ZIP's beat)

    def neighborhoods(self) -> list[str]:
        return sorted(self.table["neighborhood"].dropna().unique().tolist())


@dataclass
class Project:
    """A loaded survey project (see the module docstring)."""

    root: Path
    name: str
    instrument: str
    areas_file: Path | None
    crosswalk_file: Path | None
    targets_file: Path | None
    waves: dict[str, Wave]
    quality: QualityRules
    reporting: ReportingRules
    settings: SurveySettings = field(default_factory=SurveySettings)
    """The whole of survey.toml, checked: ``project.settings.<section>.<key>`` (see survey_pipeline.settings)."""

    @property
    def toml_path(self) -> Path:
        return self.root / SURVEY_TOML

    @property
    def store_path(self) -> Path:
        return self.root / STORE_FILE

    @property
    def mappings_dir(self) -> Path:
        return self.root / "mappings"

    @cached_property
    def instrument_model(self):
        """The loaded instrument (a path relative to the project, or a bundled name).

        When the areas file has area codes (the format ``instrument export --areas`` reads), the
        instrument's placeholder areas are replaced by the project's, so ``choices: areas``
        questions recode the agency's own neighborhoods.
        """
        from survey_pipeline.instrument import load_instrument

        p = self.root / self.instrument
        inst = load_instrument(p if p.exists() else self.instrument)
        from survey_pipeline.instrument.areas import apply_areas, has_code_column, read_areas

        mb = self.settings.project.max_file_mb
        if self.areas_file is not None and has_code_column(self.areas_file, max_mb=mb):
            inst = apply_areas(inst, read_areas(self.areas_file, max_mb=mb))
        return inst

    @cached_property
    def areas(self) -> Areas | None:
        if self.areas_file is None:
            return None
        return _read_areas(self.areas_file, self.crosswalk_file, max_mb=self.settings.project.max_file_mb)

    def wave(self, wave_id: str) -> Wave:
        if wave_id not in self.waves:
            raise ProjectError(
                f"{self.toml_path}: wave '{wave_id}' is not defined.",
                file=self.toml_path, rule="unknown-wave",
                fix=f"Add a [[waves]] entry with id = \"{wave_id}\" to survey.toml"
                + (f", or use one of: {', '.join(self.waves)}." if self.waves else "."),
            )
        return self.waves[wave_id]

    def contact_salt(self) -> bytes:
        """The project's secret salt for contact hashes (created on first use, never stored in the warehouse)."""
        p = self.root / SALT_FILE
        if not p.exists():
            p.write_text(secrets.token_hex(32), encoding="utf-8")
        return p.read_text(encoding="utf-8").strip().encode()

    @classmethod
    def load(cls, root: str | Path, *, require_instrument: bool = True, check_instrument: bool = True) -> Project:
        """Read and check ``survey.toml`` in ``root`` and the files it names; raise
        :class:`ProjectError` listing every problem.

        The settings are checked as a whole (:mod:`survey_pipeline.settings`: syntax, types,
        allowed keys, values), then every file they name: inside the project folder, a regular
        file of at most ``[project] max_file_mb``, and for the areas, crosswalk and targets files
        UTF-8 text that is not empty. ``require_instrument=False`` (the report, which reads only
        results) accepts a survey.toml without ``[instrument] path``; ``check_instrument=False``
        (``init``, before the instrument file is written) does not look for the instrument's file.
        """
        root = Path(root)
        toml = root / SURVEY_TOML
        if not root.is_dir():
            raise ProjectError(f"{root}: no such project folder.", file=root, rule="no-project",
                               fix=f"Create one with: survey-pipeline init {root}")
        if not toml.exists():
            raise ProjectError(f"{toml}: survey.toml not found.", file=toml, rule="no-survey-toml",
                               fix=f"Create the project with: survey-pipeline init {root}")
        settings = read_settings(toml)
        return _from_settings(root, toml, settings, require_instrument=require_instrument,
                              check_instrument=check_instrument)


_TEXT_FILES = {"areas.file": "the areas file", "areas.crosswalk": "the crosswalk file",
               "targets.file": "the targets file", "areas.geojson": "the areas GeoJSON",
               "areas.shapes": "the areas GeoJSON"}


def _check_file(root: Path, toml: Path, key: str, text: str, max_mb: float, what: str, *, content: bool,
                probs: list[Problem]) -> Path | None:
    """``root / text`` when it is a usable project file, else None with its problem added."""
    path, outside = confined_path(root, text)
    if outside:
        probs.append(Problem(file=str(toml), column=key, rule="path-outside-project",
                             message=f"{key}: {outside}.",
                             fix="Copy the file into the project folder and give its path relative to survey.toml."))
        return None
    p = file_problem(path, max_mb=max_mb, what=what, key=key, file=str(toml))
    if p is None and content:
        try:
            with open(path, "rb") as fh:
                data = fh.read(int(max_mb * 1_000_000) + 1)
        except OSError as exc:
            p = Problem(file=str(toml), column=key, rule="unreadable-file",
                        message=f"{what} '{path}' cannot be read ({exc.strerror}).",
                        fix="Check the file's permissions.")
        else:
            p = text_problem(data, what=what, path=path, key=key, file=str(toml))
    if p is not None:
        probs.append(p)
        return None
    return path


def _instrument_problem(root: Path, toml: Path, ref: str, max_mb: float, probs: list[Problem]) -> None:
    from survey_pipeline.instrument.load import list_templates, templates_dir

    looks_like_file = "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml")) or (root / ref).exists()
    if not looks_like_file:
        if not (templates_dir() / f"{ref}.yaml").is_file() or ref not in list_templates():
            probs.append(Problem(file=str(toml), column="instrument.path", rule="unknown-template",
                                 message=f"no bundled template named '{ref}' and no file '{ref}' in the project.",
                                 fix=f"Use one of: {', '.join(list_templates())}, or the path of a YAML file in "
                                     "the project folder."))
        return
    # The instrument may live outside the project: it is a design document several projects share, and
    # `survey-pipeline init --instrument PATH` records the path given (areas files, by contrast, are
    # copied in). It is still checked: a regular UTF-8 file of bounded size.
    path = Path(ref) if Path(ref).is_absolute() else root / ref
    p = file_problem(path, max_mb=max_mb, what="the instrument file", key="instrument.path", file=str(toml))
    if p is not None:
        probs.append(p)


def _from_settings(root: Path, toml: Path, s: SurveySettings, *, require_instrument: bool = True,
                   check_instrument: bool = True) -> Project:
    probs: list[Problem] = []
    max_mb = s.project.max_file_mb
    inst_ref = s.instrument.path or ""
    if not inst_ref and require_instrument:
        probs.append(Problem(file=str(toml), column="instrument.path", rule="missing-instrument",
                             message="no instrument given.",
                             fix='Add [instrument] path = "resident" (a bundled template) or a path to a YAML file.'))
    elif inst_ref and check_instrument:
        _instrument_problem(root, toml, inst_ref, max_mb, probs)
    files: dict[str, Path | None] = {}
    for key in ("areas.file", "areas.crosswalk", "areas.geojson", "areas.shapes", "targets.file"):
        section, name = key.split(".")
        text = getattr(getattr(s, section), name)
        files[key] = None if text is None else _check_file(root, toml, key, text, max_mb, _TEXT_FILES[key],
                                                           content=True, probs=probs)
    waves: dict[str, Wave] = {}
    for i, w in enumerate(s.waves):
        for j, e in enumerate(w.exports):
            path, outside = confined_path(root, e.file)
            if outside:
                probs.append(Problem(file=str(toml), column=f"waves[{i}].exports[{j}].file",
                                     rule="path-outside-project", message=f"waves[{i}].exports[{j}].file: {outside}.",
                                     fix="Copy the export into the project folder (e.g. exports/) and give its path "
                                         "relative to survey.toml."))
            elif path.exists() or path.is_symlink():
                p = file_problem(path, max_mb=float("inf"), what="the export", key=f"waves[{i}].exports[{j}].file",
                                 file=str(toml))
                if p is not None:
                    probs.append(p)
        waves[w.id] = Wave(id=w.id, label=w.label if w.label is not None else w.id, start=w.start, end=w.end,
                           modes=tuple(w.modes),
                           exports=tuple(ExportSpec(file=e.file, platform=e.platform, mode=e.mode) for e in w.exports),
                           invitations=dict(w.invitations), eligibility_rate=w.eligibility_rate)
    if probs:
        raise ProjectError(f"{toml}: {len(probs)} problem(s) in survey.toml.", problems=probs, file=toml,
                           rule="invalid-project")
    q = s.quality.model_dump()
    q["exclude"] = tuple(q["exclude"])
    q["straightline_min_items"] = int(q["straightline_min_items"])
    return Project(root=root, name=s.project.name if s.project.name is not None else root.name,
                   instrument=inst_ref, areas_file=files["areas.file"], crosswalk_file=files["areas.crosswalk"],
                   targets_file=files["targets.file"], waves=waves, quality=QualityRules(**q),
                   reporting=ReportingRules(min_n=s.reporting.min_n, nchs=s.reporting.nchs), settings=s)


def check_project(root: str | Path, *, require_instrument: bool = True, contents: bool = True) -> Project:
    """The project in ``root``, checked before a command runs: ``survey.toml`` and the files it names
    (:meth:`Project.load`), the instrument (loaded), the store's instrument (the instrument of the
    responses already stored must be the project's), and — with ``contents`` — the targets and areas
    files read. Raises a :class:`~survey_pipeline.errors.SurveyPipelineError` naming the file, the
    place, the rule and the fix; nothing is written."""
    proj = Project.load(root, require_instrument=require_instrument)
    inst = proj.instrument_model if proj.instrument else None
    if inst is not None and proj.store_path.is_file():
        stored = _stored_instruments(proj.store_path)
        other = sorted(i for i in stored if i and i != inst.id)
        if other:
            raise ProjectError(
                f"{proj.toml_path}: [instrument] path = '{proj.instrument}' is instrument '{inst.id}', but the store "
                f"{proj.store_path.name} holds responses of instrument {', '.join(repr(o) for o in other)}.",
                file=proj.toml_path, rule="instrument-mismatch",
                fix=f"Set [instrument] path back to the instrument of the stored responses, or start a new project "
                    f"folder (survey-pipeline init) for instrument '{inst.id}'.")
    if contents:
        if proj.targets_file is not None:
            from survey_pipeline.analysis.weighting import read_targets

            read_targets(proj.targets_file, max_mb=proj.settings.project.max_file_mb)
        if proj.areas_file is not None:
            _ = proj.areas
    return proj


def _stored_instruments(store: Path) -> set[str]:
    """The instrument ids of the stored responses and results (empty for a new store)."""
    import duckdb

    try:
        con = duckdb.connect(str(store), read_only=True)
    except duckdb.Error as exc:
        from survey_pipeline.errors import StoreError

        raise StoreError(f"{store}: the store cannot be opened ({exc}).", file=store, rule="store-unreadable",
                         fix="Close other programs using it (a running dashboard or run), or restore it from a "
                             "backup.") from None
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        out: set[str] = set()
        for t in ("sources", "runs"):  # the ingested responses, and the results of earlier analyses
            if t in tables:
                out |= {r[0] for r in con.execute(f"SELECT DISTINCT instrument FROM {t}").fetchall() if r[0]}
        return out
    except duckdb.Error:
        return set()
    finally:
        con.close()


def _pick(cols: dict[str, str], *names: str) -> str | None:
    for n in names:
        if n in cols:
            return cols[n]
    return None


def _read_areas(path: Path, crosswalk: Path | None, *, max_mb: float = DEFAULT_MAX_FILE_MB) -> Areas:
    """The project's view of its areas file: neighborhood/district/beat rows and a crosswalk.

    The file is read by :func:`survey_pipeline.instrument.areas.read_areas` (the one areas
    reader: CSV or GeoJSON, with or without area codes, every problem reported with its row).
    The crosswalk maps each ZIP code of the areas file, each label in another language
    (``label_es``...) and the rows of the optional crosswalk CSV to a neighborhood.
    """
    from survey_pipeline.instrument.areas import read_areas

    areas = read_areas(path, codes="optional", max_mb=max_mb)
    rows, xw = [], []
    for a in areas.items:
        name = a.label.get("_") or next(iter(a.label.values()))
        for beat in a.beats or [None]:
            rows.append({"neighborhood": name, "district": a.district, "beat": beat})
        keys = [*a.zips, *(lab for lang, lab in a.label.items() if lang != "_")]
        xw += [{"key": k, "neighborhood": name} for k in dict.fromkeys(map(normalize_name, keys))
               if k and k != normalize_name(name)]
    table = pd.DataFrame(rows, columns=["neighborhood", "district", "beat"], dtype=object)
    xw = pd.DataFrame(xw, columns=["key", "neighborhood"])
    if crosswalk is not None:
        xw = pd.concat([xw, _read_areas_crosswalk(crosswalk, max_mb)], ignore_index=True)
    return Areas(table=table, crosswalk=xw)


def _read_areas_crosswalk(crosswalk: Path, max_mb: float = DEFAULT_MAX_FILE_MB) -> pd.DataFrame:
    text = read_text_bounded(crosswalk, max_mb=max_mb, what="the crosswalk file")
    try:
        c = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ProjectError(f"{crosswalk}: cannot read the crosswalk ({exc}).", file=crosswalk, rule="bad-crosswalk",
                           fix="Save it as UTF-8 CSV with the header: zip,neighborhood") from exc
    ccols = {normalize_name(x): x for x in c.columns}
    key = _pick(ccols, "zip", "zipcode", "zip code", "beat", "key")
    cnb = _pick(ccols, "neighborhood", "neighbourhood", "name", "area")
    if key is None or cnb is None:
        raise ProjectError(f"{crosswalk}: the crosswalk needs a zip (or beat) column and a neighborhood column.",
                           file=crosswalk, rule="missing-column", fix="Use the header: zip,neighborhood")
    out = pd.DataFrame({"key": c[key].map(normalize_name), "neighborhood": c[cnb].astype(str).str.strip()})
    beat = _pick(ccols, "beat")
    if beat is not None and beat != key:  # a ZIP/beat crosswalk: the beat of each ZIP row
        out["beat"] = c[beat].astype(str).str.strip().replace("", None)
    return out


SURVEY_TOML_TEMPLATE = """\
# survey.toml: the settings of one survey project (read by survey-pipeline).
# Paths are relative to this folder. Lines starting with # are comments.

[project]
name = "{name}"

[instrument]
# A bundled template name (resident, partner, agency_self_assessment) or a path to a YAML file.
path = "{instrument}"

[areas]
# CSV (neighborhood,district,beat) or GeoJSON of neighborhoods; optional ZIP/beat crosswalk CSV (zip,neighborhood).
{areas_line}
# crosswalk = "zip_crosswalk.csv"

# One [[waves]] block per wave. Exports listed here may share a wave and a mode.
# [[waves]]
# id = "2026q1"
# label = "Spring 2026"
# start = 2026-03-01
# end = 2026-04-15
# modes = ["web", "mail"]
# exports = [
#   {{file = "exports/web.csv", platform = "qualtrics", mode = "web"}},
#   {{file = "exports/mail.csv", platform = "qualtrics", mode = "mail"}},
# ]
# eligibility_rate = 0.95            # AAPOR e for RR3/RR4 (omit to estimate from the data)
# [waves.invitations]                # invitations per area, for AAPOR response rates
# "Downtown" = 1200

[quality]
speeder_fraction = 0.3        # speeder: duration < fraction x median duration of the mode
straightline_min_items = 5    # straightliner: the same answer across >= this many items of a grid ...
straightline_grid_share = 0.5 # ... in at least this share of the respondent's grids of that size
recaptcha_min = 0.5           # bot: Q_RecaptchaScore below this
duplicate_score_min = 75      # fraud_duplicate: Q_RelevantIDDuplicateScore at or above this
fraud_score_min = 30          # fraud_score: Q_RelevantIDFraudScore at or above this
complete_min = 0.8            # AAPOR complete: share of applicable questions answered >= 0.8
partial_min = 0.5             # partial: 0.5 to 0.8; break-off: below 0.5
fuzzy_threshold = 90          # column name fuzzy matching (0-100)
area_fuzzy_threshold = 80     # area names: fuzzy match at or above this, unique and clearly ahead (0-100)
# Flags that exclude a response from analysis (flagged rows stay in the store either way):
exclude = ["speeder", "duplicate_id", "duplicate_contact", "duplicate_answers", "attention_failed",
           "preview", "test", "bot", "fraud_duplicate", "fraud_score", "breakoff"]

[reporting]
min_n = 30                    # suppress estimates with fewer respondents
nchs = true                   # NCHS reliability standards for proportions

# [targets]
# file = "targets.csv"        # census weighting targets (used by survey-pipeline weight)
"""


def init_project(root: str | Path, *, instrument: str = "resident", areas: str | Path | None = None) -> Project:
    """Create a project folder with a commented ``survey.toml`` (and copy the areas file in).

    Raises
    ------
    ProjectError
        When ``root/survey.toml`` already exists or the areas file cannot be read.
    """
    import shutil

    root = Path(root)
    toml = root / SURVEY_TOML
    if toml.exists():
        raise ProjectError(f"{toml}: a project already exists here.", file=toml, rule="project-exists",
                           fix="Pick another folder, or edit the existing survey.toml.")
    areas_line = '# file = "areas.csv"'
    if areas is not None:
        src = Path(areas)
        if not src.exists():
            raise ProjectError(f"{src}: areas file not found.", file=src, rule="missing-file",
                               fix="Give the path of a CSV (neighborhood,district,beat) or GeoJSON file.")
        _read_areas(src, None)  # check it before creating anything
    root.mkdir(parents=True, exist_ok=True)
    (root / "exports").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    if areas is not None:
        dest = root / Path(areas).name
        if Path(areas).resolve() != dest.resolve():
            shutil.copyfile(areas, dest)
        areas_line = f'file = "{dest.name}"'
    toml.write_text(SURVEY_TOML_TEMPLATE.format(name=root.resolve().name, instrument=instrument,
                                                areas_line=areas_line), encoding="utf-8")
    (root / SALT_FILE).write_text(secrets.token_hex(32), encoding="utf-8")
    (root / ".gitignore").write_text(f"{STORE_FILE}\n{STORE_FILE}.wal\n{SALT_FILE}\n", encoding="utf-8")
    return Project.load(root, check_instrument=False)
