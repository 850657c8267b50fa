"""A survey project folder: ``survey.toml`` (instrument, areas, waves, rules) and its store.

A project folder holds everything one survey program needs::

    my-survey/
      survey.toml          the settings (this module reads and checks them)
      areas.csv            neighborhoods with their district (and optional beats)
      exports/             the platform exports, one or more per wave
      mappings/            reviewable column mappings written by ingest (edits win)
      warehouse.duckdb     the store (survey_pipeline.store)

:func:`Project.load` reads ``survey.toml`` with :mod:`tomllib` and reports every problem at once,
each with the file, the key, the rule and the fix. :func:`init_project` writes a commented
``survey.toml`` to start from.
"""

from __future__ import annotations

import re
import secrets
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from survey_pipeline.errors import ProblemList, ProjectError

__all__ = [
    "EXCLUDABLE_FLAGS",
    "MODES",
    "Areas",
    "ExportSpec",
    "Project",
    "QualityRules",
    "ReportingRules",
    "Wave",
    "init_project",
    "normalize_name",
]

Mode = Literal["web", "mail", "phone", "in_person"]
MODES: tuple[str, ...] = get_args(Mode)
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

SURVEY_TOML = "survey.toml"
STORE_FILE = "warehouse.duckdb"
SALT_FILE = ".contact_salt"


def normalize_name(text: object) -> str:
    """Casefold, strip accents, punctuation and extra whitespace (for matching labels and names)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = unicodedata.normalize("NFKD", str(text))
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

        if self.areas_file is not None and has_code_column(self.areas_file):
            inst = apply_areas(inst, read_areas(self.areas_file))
        return inst

    @cached_property
    def areas(self) -> Areas | None:
        if self.areas_file is None:
            return None
        return _read_areas(self.areas_file, self.crosswalk_file)

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
    def load(cls, root: str | Path) -> Project:
        """Read and check ``survey.toml`` in ``root``; raise :class:`ProjectError` listing every problem."""
        root = Path(root)
        toml = root / SURVEY_TOML
        if not root.is_dir():
            raise ProjectError(f"{root}: no such project folder.", file=root, rule="no-project",
                               fix=f"Create one with: survey-pipeline init {root}")
        if not toml.exists():
            raise ProjectError(f"{toml}: survey.toml not found.", file=toml, rule="no-survey-toml",
                               fix=f"Create the project with: survey-pipeline init {root}")
        try:
            data = tomllib.loads(toml.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{toml}: not valid TOML ({exc}).", file=toml, rule="bad-toml",
                               fix="Fix the syntax at the position shown (strings need quotes; tables are [name]).") from exc
        return _parse(root, toml, data)


def _parse(root: Path, toml: Path, data: dict[str, Any]) -> Project:
    probs = ProblemList(file=str(toml))

    def add(key: str, rule: str, msg: str, fix: str) -> None:
        probs.add(rule, msg, fix, column=key)

    allowed_top = {"project", "instrument", "areas", "waves", "quality", "reporting", "targets",
                   "weighting", "analysis"}  # the last two: survey_pipeline.analysis.settings
    for k in data:
        if k not in allowed_top:
            add(k, "unknown-key", f"unknown section '{k}'.", f"Use one of: {', '.join(sorted(allowed_top))}.")
    proj = data.get("project", {})
    name = str(proj.get("name", root.name)) if isinstance(proj, dict) else root.name

    inst = data.get("instrument", {})
    inst_ref = inst.get("path") if isinstance(inst, dict) else None
    if not inst_ref:
        add("instrument.path", "missing-instrument", "no instrument given.",
            'Add [instrument] path = "resident" (a bundled template) or a path to a YAML file.')
        inst_ref = ""

    areas = data.get("areas", {}) if isinstance(data.get("areas", {}), dict) else {}
    areas_file = crosswalk_file = None
    if areas.get("file"):
        areas_file = root / areas["file"]
        if not areas_file.exists():
            add("areas.file", "missing-file", f"areas file '{areas['file']}' does not exist.",
                "Put the CSV/GeoJSON of neighborhoods in the project folder, or remove the key.")
    if areas.get("crosswalk"):
        crosswalk_file = root / areas["crosswalk"]
        if not crosswalk_file.exists():
            add("areas.crosswalk", "missing-file", f"crosswalk file '{areas['crosswalk']}' does not exist.",
                "Put the ZIP/beat crosswalk CSV in the project folder, or remove the key.")
    targets = data.get("targets", {}) if isinstance(data.get("targets", {}), dict) else {}
    targets_file = root / targets["file"] if targets.get("file") else None

    waves: dict[str, Wave] = {}
    raw_waves = data.get("waves", [])
    if not isinstance(raw_waves, list):
        add("waves", "bad-type", "waves must be an array of tables.", "Write each wave as [[waves]] with id = \"...\".")
        raw_waves = []
    for i, w in enumerate(raw_waves):
        key = f"waves[{i}]"
        wid = str(w.get("id", "")).strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]*", wid):
            add(f"{key}.id", "bad-wave-id", f"wave id '{wid}' is missing or not a simple name.",
                'Use letters, digits, - and _, e.g. id = "2026q1".')
            continue
        if wid in waves:
            add(f"{key}.id", "duplicate-wave", f"wave '{wid}' is defined twice.", "Keep one [[waves]] entry per id.")
        modes = tuple(w.get("modes", []))
        for m in modes:
            if m not in MODES:
                add(f"{key}.modes", "unknown-mode", f"mode '{m}' is not known.", f"Use one of: {', '.join(MODES)}.")
        exports = []
        for j, e in enumerate(w.get("exports", [])):
            if not isinstance(e, dict) or not e.get("file"):
                add(f"{key}.exports[{j}]", "bad-export", "an export needs a file.",
                    'Write exports = [{file = "exports/web.csv", platform = "qualtrics", mode = "web"}].')
                continue
            plat = e.get("platform", "auto")
            if plat not in PLATFORMS:
                add(f"{key}.exports[{j}].platform", "unknown-platform", f"platform '{plat}' is not known.",
                    f"Use one of: {', '.join(PLATFORMS)}.")
            mode = e.get("mode")
            if mode is not None and mode not in MODES:
                add(f"{key}.exports[{j}].mode", "unknown-mode", f"mode '{mode}' is not known.", f"Use one of: {', '.join(MODES)}.")
            exports.append(ExportSpec(file=str(e["file"]), platform=plat, mode=mode))
        dates = {}
        for dk in ("start", "end"):
            v = w.get(dk)
            if v is None:
                dates[dk] = None
            elif isinstance(v, date):
                dates[dk] = v
            else:
                try:
                    dates[dk] = date.fromisoformat(str(v))
                except ValueError:
                    add(f"{key}.{dk}", "bad-date", f"'{v}' is not a date.", "Write dates as 2026-03-01 (no quotes needed).")
                    dates[dk] = None
        inv = w.get("invitations", {})
        invitations: dict[str, int] = {}
        if not isinstance(inv, dict):
            add(f"{key}.invitations", "bad-type", "invitations must be a table of area = count.",
                'Write [waves.invitations] then one line per area, e.g. "Downtown" = 1200.')
        else:
            for area, n in inv.items():
                if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                    add(f"{key}.invitations.{area}", "bad-count", f"invitations for '{area}' must be a whole number >= 0, got {n!r}.",
                        "Write the number of invitations sent to the area.")
                else:
                    invitations[str(area)] = n
        e_rate = w.get("eligibility_rate")
        if e_rate is not None and not (isinstance(e_rate, int | float) and 0 <= e_rate <= 1):
            add(f"{key}.eligibility_rate", "bad-rate", f"eligibility_rate must be between 0 and 1, got {e_rate!r}.",
                "Give AAPOR's e as a share, e.g. 0.95, or remove it to estimate it from the data.")
            e_rate = None
        waves[wid] = Wave(id=wid, label=str(w.get("label", wid)), start=dates["start"], end=dates["end"],
                          modes=modes, exports=tuple(exports), invitations=invitations,
                          eligibility_rate=float(e_rate) if e_rate is not None else None)

    q = data.get("quality", {}) if isinstance(data.get("quality", {}), dict) else {}
    qdef = QualityRules()
    qkw: dict[str, Any] = {}
    for k, v in q.items():
        if k == "exclude":
            bad = [f for f in v if f not in EXCLUDABLE_FLAGS] if isinstance(v, list) else ["(not a list)"]
            if bad:
                add("quality.exclude", "unknown-flag", f"unknown flag(s) {', '.join(map(str, bad))}.",
                    f"Use any of: {', '.join(EXCLUDABLE_FLAGS)}.")
            else:
                qkw["exclude"] = tuple(v)
        elif hasattr(qdef, k):
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                add(f"quality.{k}", "bad-threshold", f"{k} must be a number >= 0, got {v!r}.", f"Use a number like the default {getattr(qdef, k)}.")
            else:
                qkw[k] = type(getattr(qdef, k))(v)
        else:
            add(f"quality.{k}", "unknown-key", f"unknown quality setting '{k}'.",
                f"Use one of: {', '.join(f for f in QualityRules.__dataclass_fields__)}.")
    if qkw.get("partial_min", qdef.partial_min) > qkw.get("complete_min", qdef.complete_min) or \
            qkw.get("complete_min", qdef.complete_min) > 1:
        add("quality.complete_min", "bad-threshold", "need 0 <= partial_min <= complete_min <= 1.",
            "AAPOR's common choice is complete_min = 0.8, partial_min = 0.5.")
    r = data.get("reporting", {}) if isinstance(data.get("reporting", {}), dict) else {}
    rkw: dict[str, Any] = {}
    for k, v in r.items():
        if (k == "min_n" and isinstance(v, int) and v >= 1) or (k == "nchs" and isinstance(v, bool)):
            rkw[k] = v
        else:
            add(f"reporting.{k}", "bad-setting", f"reporting setting '{k}' = {v!r} is not valid.",
                "Use min_n = <whole number >= 1> and nchs = true|false.")
    if probs.errors:
        raise ProjectError(f"{toml}: {len(probs.errors)} problem(s) in survey.toml.", problems=probs.errors,
                           file=toml, rule="invalid-project")
    return Project(root=root, name=name, instrument=inst_ref, areas_file=areas_file,
                   crosswalk_file=crosswalk_file, targets_file=targets_file, waves=waves,
                   quality=QualityRules(**qkw), reporting=ReportingRules(**rkw))


def _pick(cols: dict[str, str], *names: str) -> str | None:
    for n in names:
        if n in cols:
            return cols[n]
    return None


def _read_areas(path: Path, crosswalk: Path | None) -> Areas:
    """The project's view of its areas file: neighborhood/district/beat rows and a crosswalk.

    The file is read by :func:`survey_pipeline.instrument.areas.read_areas` (the one areas
    reader: CSV or GeoJSON, with or without area codes, every problem reported with its row).
    The crosswalk maps each ZIP code of the areas file, each label in another language
    (``label_es``...) and the rows of the optional crosswalk CSV to a neighborhood.
    """
    from survey_pipeline.instrument.areas import read_areas

    areas = read_areas(path, codes="optional")
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
        xw = pd.concat([xw, _read_areas_crosswalk(crosswalk)], ignore_index=True)
    return Areas(table=table, crosswalk=xw)


def _read_areas_crosswalk(crosswalk: Path) -> pd.DataFrame:
    try:
        c = pd.read_csv(crosswalk, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
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
    return Project.load(root)
