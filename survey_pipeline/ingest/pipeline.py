"""The ingest pipeline: read -> map -> recode -> quality -> store, in one transaction.

:func:`ingest` is what ``survey-pipeline ingest`` calls. It returns an :class:`IngestSummary`
(rows read, kept, quarantined by reason, flagged by rule, unmapped columns, unknown values per
question with examples, identifiers dropped, the mapping file) and never leaves a partial store.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.mapping import (
    ColumnMap,
    map_columns,
    mapping_path,
    read_mapping,
    write_mapping,
)
from survey_pipeline.ingest.quality import (
    AAPOR_COLUMNS,
    FileFlags,
    aapor_rates,
    contact_hash,
    disposition,
    file_quality_flags,
)
from survey_pipeline.ingest.recode import (
    fill_beats,
    kind_codes,
    normalize_areas,
    question_status,
    recode,
    type_missing,
)
from survey_pipeline.ingest.redact import RULES as REDACTION_RULES
from survey_pipeline.ingest.redact import TOKENS as REDACTION_TOKENS
from survey_pipeline.ingest.redact import redact_series, redact_text
from survey_pipeline.instrument.model import Role
from survey_pipeline.names import check_wave_id
from survey_pipeline.project import MODES, PLATFORMS, Project, normalize_name
from survey_pipeline.store import (
    FLAG_COLUMNS,
    IDENTIFIER_FIELDS,
    NO_CODE,
    IngestBatch,
    Store,
    WideAnswers,
)

__all__ = ["IngestSummary", "ingest"]

MIN_MAPPED_SHARE = 0.2
"""Below this share of the export's answer columns mapped, the export is of another instrument."""

Progress = Callable[[str, int, int], None]


@dataclass
class IngestSummary:
    """What one ingest did (printed as a table, or as JSON with ``--json``)."""

    file: str
    wave: str
    mode: str
    platform: str
    status: str  # "loaded" or "already loaded"
    source_id: int | None = None
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    flagged_by_rule: dict[str, int] = field(default_factory=dict)
    dispositions: dict[str, int] = field(default_factory=dict)
    excluded: int = 0
    analysed: int = 0
    columns_mapped: int = 0
    mapped_by_method: dict[str, int] = field(default_factory=dict)
    unmapped_columns: list[str] = field(default_factory=list)
    unknown_values: dict[str, dict] = field(default_factory=dict)
    identifiers_dropped: list[str] = field(default_factory=list)
    redacted: dict[str, int] = field(default_factory=dict)  # identifiers replaced in free text, per rule (redact.RULES)
    unknown_areas: dict[str, int] = field(default_factory=dict)
    mapping_file: str | None = None
    funnel: list[dict] = field(default_factory=list)  # the wave's exclusion funnel after this ingest
    response_rates: list[dict] = field(default_factory=list)  # AAPOR rates per area (with invitations)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _default_reader(path: Path, platform: str):
    from survey_pipeline.ingest.readers import read_export

    return read_export(path, platform=platform)


EXPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


def check_export_file(export: Path) -> None:
    """Refuse, with one clear message, what cannot be an export: missing, a folder, wrong type, empty."""
    if not export.exists():
        raise IngestError(f"{export}: file not found.", file=export, rule="missing-file",
                          fix="Check the path of the export.")
    if export.is_dir():
        raise IngestError(f"{export}: is a folder, not an export file.", file=export, rule="wrong-type",
                          fix="Give the CSV or XLSX file exported from the survey platform.")
    suffix = export.suffix.lower()
    if suffix == ".gz":  # a compressed CSV: the readers decompress it
        suffix = Path(export.stem).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise IngestError(f"{export}: '{export.suffix or '(no extension)'}' is not an export type survey-pipeline reads.",
                          file=export, rule="wrong-type",
                          fix=f"Export the responses as CSV or Excel ({', '.join(EXPORT_SUFFIXES)}; CSV may be gzipped as .csv.gz).")
    if export.stat().st_size == 0:
        raise IngestError(f"{export}: the file is empty (0 bytes).", file=export, rule="empty-file",
                          fix="Export the responses again; the download may have failed.")


_IDENT_HEADERS: dict[str, re.Pattern] = {
    "email": re.compile(r"^(e ?mail|email address|correo( electronico)?|respondent email)$"),
    "recipient_email": re.compile(r"^recipient ?email$"),
    "phone": re.compile(r"^(phone|phone number|telephone|mobile|cell|cell phone|telefono)$"),
    "ip": re.compile(r"^(ip|ip ?address)$"),
    "name": re.compile(r"^(name|full name|first name|last name|respondent name|nombre|apellido|recipient (first|last) ?name)$"),
    "latitude": re.compile(r"^(location ?)?lat(itude)?$"),
    "longitude": re.compile(r"^(location ?)?(lon|lng|long|longitude)$"),
    "address": re.compile(r"^(street )?address$|^home address$|^direccion$"),
}


def identifier_columns(raw) -> dict[str, str]:
    """Direct identifier columns: standard meta fields from the reader, plus headers that name one.

    These are never mapped, never stored, and listed in the summary; e-mail and phone feed the
    salted contact hash first.
    """
    found = {f: c for f, c in raw.meta.items() if f in IDENTIFIER_FIELDS}
    taken = set(found.values())
    for col in raw.columns:
        if col.name in taken:
            continue
        for text in (col.header, col.text, col.key):
            t = normalize_name(text or "")
            hit = next((f for f, pat in _IDENT_HEADERS.items() if pat.match(t)), None)
            if hit:
                found.setdefault(hit, col.name)
                if found[hit] != col.name:
                    found[f"{hit}:{col.name}"] = col.name
                break
    return found


def _resolve_mode(project: Project, wave_id: str, export: Path, mode: str | None) -> str:
    return resolve_mode(project, wave_id, export, mode)[0]


def resolve_mode(project: Project, wave_id: str, export: Path, mode: str | None) -> tuple[str, str | None]:
    """The export's mode and, when neither ``mode`` nor survey.toml gave it, the sentence saying
    where it came from (:func:`survey_pipeline.ingest.mode.detect_mode`: the platform's
    distribution channel, the file name, else the default ``web``)."""
    if mode is not None:
        if mode not in MODES:
            raise IngestError(f"mode '{mode}' is not known.", rule="unknown-mode", fix=f"Use one of: {', '.join(MODES)}.")
        return mode, None
    w = project.waves.get(wave_id)
    if w is not None:
        for e in w.exports:
            if Path(e.file).name == export.name and e.mode:
                return e.mode, None
        if len(w.modes) == 1:
            return w.modes[0], None
    from survey_pipeline.ingest.mode import detect_mode

    return detect_mode(export)


def _parse_times(s: pd.Series | None) -> pd.Series | None:
    if s is None:
        return None
    try:
        from survey_pipeline.ingest.readers import parse_timestamps

        return parse_timestamps(s)
    except ImportError:  # readers not merged yet: a plain UTC parse
        return pd.to_datetime(s, errors="coerce", utc=True, format="mixed")


def ingest(project: Project | str | Path, export_path: str | Path, wave: str, mode: str | None = None,
           platform: str = "auto", progress: Progress | None = None, *, append: bool = False,
           replace: bool = False, reader: Callable | None = None) -> IngestSummary:
    """Ingest one export into the project's store.

    Parameters
    ----------
    project
        A :class:`~survey_pipeline.project.Project` or its folder.
    export_path
        The platform export (CSV or XLSX).
    wave
        The wave id; defined in survey.toml, or new (recorded in the store's ``waves``).
    mode
        ``web``, ``mail``, ``phone`` or ``in_person``; taken from survey.toml when the file is
        listed there or the wave has a single mode.
    platform
        ``auto`` (detect from the file) or a platform name.
    progress
        Called as ``progress(step, done, total)``.
    append
        Allow a second, different file for a wave and mode that already hold one (also allowed
        when the file is listed under the wave in survey.toml).
    replace
        Load a file that is already loaded again (after editing its mapping CSV or survey.toml):
        its earlier rows are removed in the same transaction that writes the new ones.
    reader
        The function that reads the export (``survey_pipeline.ingest.readers.read_export``).

    Raises
    ------
    IngestError
        One clear message (file, place, rule, fix); the store is unchanged.
    """
    check_wave_id(wave)  # before anything: it becomes part of file names
    proj = project if isinstance(project, Project) else Project.load(project)
    export = Path(export_path)
    sha = checked_sha256(export, platform)

    def prepare(resolved_mode: str, tick: Callable[[str, int], None]) -> PreparedExport | MappingRefused:
        return prepare_export(proj, export, sha, wave, resolved_mode, platform, reader=reader, tick=tick)

    return commit_export(proj, export, sha, wave, mode, prepare, progress, append=append, replace=replace)


def checked_sha256(export: Path, platform: str) -> str:
    """The export's sha256, after the checks every ingest starts with (platform name, the file)."""
    if platform not in PLATFORMS:
        raise IngestError(f"platform '{platform}' is not known.", rule="unknown-platform",
                          fix=f"Use one of: {', '.join(PLATFORMS)}.")
    check_export_file(export)
    return _sha256(export)


@dataclass
class MappingRefused:
    """An export of another instrument: its mapping file is written, then ``error`` is raised
    (by :func:`commit_export`, so a prepared export writes nothing before its turn)."""

    mapping_file: Path
    cmap: ColumnMap
    answer_cols: list[str]
    error: IngestError


@dataclass
class PreparedExport:
    """Everything one ingest computes from the export alone (no store): read, mapped, recoded, with
    its dispositions, missing kinds, areas and file-level quality flags.

    Picklable and compact (numeric matrices; one Python object per row and column of
    ``responses``, never one per answer cell), so a worker process can prepare it while the main
    process writes the previous export. :func:`commit_export` adds what needs the store.
    """

    export: Path
    sha: str
    wave: str
    mode: str
    platform: str
    rows_in: int
    mapping_file: Path
    cmap: ColumnMap
    answer_cols: list[str]
    identifiers_dropped: list[str]
    notes: list[str]  # the reader's and the quality rules' notes
    area_note: str | None  # the fuzzy area matches
    q_rows: list[dict]  # quarantined rows: unreadable, empty
    index: pd.Index  # the kept rows' labels (flags, open text and area details refer to them)
    source_rows: np.ndarray
    pid: pd.Series  # the platform's response id (object), one per kept row
    rid_base: np.ndarray  # the platform id where usable, else None (object)
    pid_unique: list[str]  # the distinct platform ids, to look up in the store
    columns: dict  # the responses' columns from area_district to contact_hash (table order), as arrays
    disposition: pd.Series
    file_flags: FileFlags
    area_flags: list[pd.DataFrame]  # unknown_area and area_fuzzy_match details (row labels)
    unknown_area: pd.Series  # bool: an area text not in the areas file
    unknown_areas: dict[str, int]
    open_text: pd.DataFrame  # row (label), variable, text
    invalid: dict[str, dict]
    variables: pd.DataFrame
    answer_vars: pd.Index
    answer_codes: np.ndarray
    answer_kinds: np.ndarray
    redacted: dict[str, int] = field(default_factory=dict)


def prepare_export(proj: Project, export: Path, sha: str, wave: str, mode: str, platform: str = "auto", *,
                   reader: Callable | None = None,
                   tick: Callable[[str, int], None] | None = None) -> PreparedExport | MappingRefused:
    """Read, map, recode and flag one export without the store (the first part of :func:`ingest`).

    Writes nothing. Raises :class:`IngestError` as :func:`ingest` does; an export of another
    instrument gives a :class:`MappingRefused` (its mapping file is written at its turn).
    """
    tick = tick or (lambda step, i: None)
    wave_cfg = proj.waves.get(wave)
    raw = (reader or _default_reader)(export, platform)
    tick("mapping", 1)
    inst = proj.instrument_model
    mpath = mapping_path(proj.root, wave, export)
    stored = read_mapping(mpath, _targets(inst))
    idents = identifier_columns(raw)
    ident_cols = set(idents.values()) | {c for f, c in raw.meta.items() if f in IDENTIFIER_FIELDS}
    usable = [c for c in raw.columns if c.name not in ident_cols]
    cmap = map_columns(usable, inst, stored=stored, threshold=proj.quality.fuzzy_threshold)
    answer_cols = [c.name for c in usable if c.role != "meta"]
    if not answer_cols:
        raise IngestError(f"{export}: no answer columns found (only metadata).", file=export,
                          rule="no-answer-columns", fix="Export the responses with the question columns included.")
    share = len(cmap.columns) / len(answer_cols)
    if share < MIN_MAPPED_SHARE:
        return MappingRefused(mpath, cmap, answer_cols, IngestError(
            f"{export}: only {len(cmap.columns)} of {len(answer_cols)} answer columns match instrument "
            f"'{inst.id}' ({share:.0%}); this looks like an export of a different instrument.",
            file=export, rule="different-instrument",
            fix=f"Check --project/--wave, or draft an instrument with 'survey-pipeline instrument infer {export.name} --out x.yaml', "
                f"or map the columns by hand in {mpath}."))
    frame = raw.frame
    rows_in = len(frame) + len(raw.rejected)
    if rows_in == 0:
        raise IngestError(
            f"{export}: the file holds only its header row(s) ({raw.header_rows}): there is no response to load.",
            file=export, rule="no-responses",
            fix="Export the responses again from the survey platform (check the export's filters and date range); "
                "a download that stopped after the header gives such a file.")
    # --- quarantine: unreadable rows (reader) and rows with no content at all ------------
    q_rows = [{"source_row": int(r), "reason": str(reason), "raw": None} for r, reason in raw.rejected]
    # readers give None for empty cells; a row of only None is quarantined as "empty row"
    empty = _empty_rows(frame)
    source_rows = np.asarray(raw.source_rows)
    for i in np.flatnonzero(empty):
        q_rows.append({"source_row": int(source_rows[i]), "reason": "empty row", "raw": "{}"})
    keep = ~empty
    if not keep.all():  # no copy of the whole export when every row has content
        frame = frame[keep]
        source_rows = source_rows[keep]
    # --- recode ---------------------------------------------------------------------------
    tick("recoding", 2)
    rec = recode(frame, cmap, inst, area_threshold=proj.quality.area_fuzzy_threshold)
    # identifiers typed into open-ended answers never reach the store (nor the summary's examples)
    redacted = dict.fromkeys(REDACTION_RULES, 0)
    for d in rec.invalid.values():
        d["examples"] = [redact_text(str(e))[0] if isinstance(e, str) else e for e in d.get("examples", [])]
    if len(rec.open_text):
        text, got = redact_series(rec.open_text["text"])
        rec.open_text = rec.open_text.assign(text=text.to_numpy(dtype=object))
        redacted = {k: redacted[k] + v for k, v in got.items()}
    meta = pd.DataFrame(index=frame.index)
    for f, col in raw.meta.items():
        if f not in IDENTIFIER_FIELDS and col in frame:
            meta[f] = frame[col].copy()  # a copy: a view would keep the whole export in memory
    salt = proj.contact_salt()
    email_col = idents.get("email") or idents.get("recipient_email")
    phone_col = idents.get("phone")
    meta["contact_hash"] = contact_hash(frame[email_col] if email_col else None,
                                        frame[phone_col] if phone_col else None,
                                        salt).set_axis(frame.index) if (email_col or phone_col) \
        else pd.Series(None, index=frame.index, dtype=object)
    start = _parse_times(meta.get("start"))
    end = _parse_times(meta.get("end") if "end" in meta else meta.get("submitted"))
    dur = pd.to_numeric(meta.get("duration_s", pd.Series(np.nan, index=frame.index)), errors="coerce").astype(float)
    if dur.isna().all() and start is not None and end is not None:
        dur = (end - start).dt.total_seconds()
    meta["duration_s"] = dur
    # the answer cells are recoded: keep only what is still read (meta, identifiers, areas)
    col_of_target = {t: c for c, t in cmap.columns.items()}
    still = set(raw.meta.values()) | set(idents.values()) | {
        col_of_target[v.name] for v in inst.variables() if v.role == Role.geography and v.name in col_of_target}
    frame = frame[[c for c in frame.columns if c in still]].copy()  # not a view of the export's cells
    raw.frame = None
    tick("quality", 3)
    qstatus = question_status(rec, inst)  # computed once: dispositions and missing kinds
    disp, share_ans = disposition(rec, inst, proj.quality, qstatus)
    finished = meta.get("finished")
    fin = None
    if finished is not None:  # empty or unknown values (a truncated download): None
        fs = finished.astype("string").str.strip().str.casefold().fillna("")
        fin = pd.Series(None, index=finished.index, dtype=object)
        fin[fs.isin(["1", "true", "yes"]).to_numpy(dtype=bool)] = True
        fin[fs.isin(["0", "false", "no"]).to_numpy(dtype=bool)] = False
    broke = disp != "complete"
    if fin is not None:
        broke = broke | (fin == False)  # noqa: E712
    type_missing(rec, inst, broke, qstatus)
    del qstatus
    # response ids: platform id kept; the store key is made unique at commit (needs the store)
    pid = meta.get("response_id")
    if pid is None or pid.isna().all():
        pid = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    file_flags = file_quality_flags(rec, inst, meta.assign(start=start, end=end), mode, proj.quality,
                                    wave_start=wave_cfg.start if wave_cfg is not None else None)
    rid_base = pid.astype(object).where(pid.notna() & (pid.astype(str).str.strip() != ""), None)
    rid_base = rid_base.to_numpy(dtype=object, copy=True)
    # areas: each geography column in questionnaire order (neighborhood, then ZIP, then beat...)
    # fills the rows the earlier ones left unmatched
    col_of = {t: c for c, t in cmap.columns.items()}
    geo_cols = [col_of[v.name] for v in inst.variables() if v.role == Role.geography and v.name in col_of]
    area_raw = pd.Series(None, index=frame.index, dtype=object)
    areas = normalize_areas(area_raw, None)
    area_labels = _area_labels(inst)
    for gc in geo_cols:
        todo = areas["neighborhood"].isna()
        vals = frame.loc[todo, gc]
        got = normalize_areas(vals, proj.areas, proj.quality.area_fuzzy_threshold, labels=area_labels)
        fuzzy = got["area_score"] < 100
        areas.loc[fuzzy[fuzzy].index, "area_score"] = got.loc[fuzzy, "area_score"]
        first_value = area_raw.isna() & todo & frame[gc].notna()
        area_raw = area_raw.where(~first_value, frame[gc])
        matched = got["neighborhood"].notna()
        areas.loc[matched[matched].index, ["district", "neighborhood", "beat"]] = got.loc[matched, ["district", "neighborhood", "beat"]]
    area_raw, got = redact_series(area_raw)  # a typed neighborhood box holds free text too
    redacted = {k: redacted[k] + v for k, v in got.items()}
    if geo_cols and proj.areas is not None:
        # the beat of responses whose neighborhood an earlier question gave: an answered beat of
        # that neighborhood, else a ZIP that the crosswalk puts in one of its beats
        need = areas["beat"].isna() & areas["neighborhood"].notna()
        if need.any():
            beats = fill_beats([frame.loc[need, gc] for gc in geo_cols], areas.loc[need, "neighborhood"], proj.areas)
            areas.loc[beats.index, "beat"] = beats
        areas["unknown_area"] = areas["neighborhood"].isna() & area_raw.notna() & (area_raw.astype(str).str.strip() != "")
    ua = areas["unknown_area"]
    area_flags: list[pd.DataFrame] = []
    if ua.any():
        area_flags.append(pd.DataFrame({"row": frame.index[ua.to_numpy()], "rule": "unknown_area",
                                        "threshold": np.nan, "value": np.nan,
                                        "detail": "area not in the areas file: " + area_raw[ua].astype(str).values}))
    notes = list(getattr(raw, "notes", [])) + file_flags.notes
    fz = areas["area_score"].notna() & areas["neighborhood"].notna()
    if fz.any():  # misspelled area names matched fuzzily: recorded per response, raw text in area_raw
        area_flags.append(pd.DataFrame({
            "row": frame.index[fz.to_numpy()], "rule": "area_fuzzy_match",
            "threshold": proj.quality.area_fuzzy_threshold, "value": areas.loc[fz, "area_score"].astype(float).values,
            "detail": ("'" + area_raw[fz].astype(str) + "' read as " + areas.loc[fz, "neighborhood"].astype(str)).values}))
        counts = ("'" + area_raw[fz].astype(str) + "' -> " + areas.loc[fz, "neighborhood"].astype(str)).value_counts()
        area_note = ("area name(s) matched fuzzily (rapidfuzz >= "
                     f"{proj.quality.area_fuzzy_threshold:g}, unique best), original text kept in area_raw: "
                     + "; ".join(f"{k} ({n})" for k, n in counts.head(20).items()))
    else:
        area_note = None
    status_raw, bad_status = _checked_meta(meta.get("status"), frame.index, _known_status)
    language, bad_language = _checked_meta(meta.get("language"), frame.index, _known_language)
    for bad, rule, what in ((bad_status, "unrecognised_status", "status"),
                            (bad_language, "unrecognised_language", "language")):
        if bad is not None:
            area_flags.append(bad.assign(rule=rule, detail=f"the export's {what} is neither a code nor a known value: "
                                                           "not stored (" + bad["detail"] + ")"))
            notes.append(f"{len(bad)} row(s) have a {what} value that is neither a code nor a known value "
                         f"(flag '{rule}'); it is not stored")
    if sum(redacted.values()):
        notes.append("identifiers typed in free text replaced before the store: " + ", ".join(
            f"{n} {rule} by {REDACTION_TOKENS[rule]}" for rule, n in redacted.items() if n))
    columns = {
        "area_district": areas["district"].values, "area_neighborhood": areas["neighborhood"].values,
        "area_beat": areas["beat"].values, "area_raw": area_raw.values,
        "start_time": start.array if start is not None else pd.NaT,
        "end_time": end.array if end is not None else pd.NaT,
        "duration_s": dur.values, "survey_language": language.values,
        "status_raw": status_raw.values,
        "finished": fin.values if fin is not None else None,
        "answered_share": share_ans.values, "disposition": disp.values,
        "contact_hash": meta["contact_hash"].values,
    }
    # the wide codes are only read by the answers chunks from here on: held compactly (int16
    # when every code is a small integer), the float matrix is freed
    variables = _variables_frame(inst, rec, wave)
    answer_vars, answer_codes, answer_kinds = _answer_matrices(rec)
    if answer_codes.dtype != np.int16:  # a view of rec.codes' float matrix: own it
        answer_codes = np.ascontiguousarray(answer_codes)
    prepared = PreparedExport(
        export=export, sha=sha, wave=wave, mode=mode, platform=raw.platform, rows_in=rows_in, mapping_file=mpath,
        cmap=cmap, answer_cols=answer_cols, identifiers_dropped=sorted(ident_cols), notes=notes,
        area_note=area_note, q_rows=q_rows,
        index=frame.index, source_rows=source_rows.astype(np.int64), pid=pid.astype(object),
        rid_base=rid_base, pid_unique=[str(x) for x in pid.dropna().unique()], columns=columns,
        disposition=disp, file_flags=file_flags, area_flags=area_flags, unknown_area=ua,
        unknown_areas=area_raw[ua].astype(str).value_counts().head(20).to_dict(),
        open_text=rec.open_text, invalid=rec.invalid, variables=variables,
        answer_vars=answer_vars, answer_codes=answer_codes, answer_kinds=answer_kinds, redacted=redacted)
    rec.codes = rec.kinds = None
    return prepared


Prepare = Callable[[str, Callable[[str, int], None]], "PreparedExport | MappingRefused"]


def commit_export(proj: Project, export: Path, sha: str, wave: str, mode: str | None, prepare: Prepare,
                  progress: Progress | None = None, *, append: bool = False, replace: bool = False) -> IngestSummary:
    """The store part of :func:`ingest`: checks against the store, then ``prepare(mode, tick)``
    (:func:`prepare_export`, or its result from a worker process), then response ids, the
    flags that depend on earlier exports, and the one write.
    """
    steps = 6

    def tick(step: str, i: int) -> None:
        if progress is not None:
            progress(step, i, steps)

    wave_cfg = proj.waves.get(wave)
    with Store(proj.store_path) as store:
        prev = store.source_by_sha(sha)
        replaces = int(prev["source_id"]) if prev is not None and replace else None
        if prev is not None and replaces is None:
            return IngestSummary(file=str(export), wave=str(prev["wave"]), mode=str(prev["mode"]),
                                 platform=str(prev["platform"]), status="already loaded",
                                 source_id=int(prev["source_id"]), rows_read=int(prev["rows_in"]),
                                 rows_kept=int(prev["rows_kept"]), rows_quarantined=int(prev["rows_quarantined"]),
                                 notes=[f"{export.name} (sha256 {sha[:12]}…) was already loaded as source "
                                        f"{prev['source_id']} ({prev['file_name']}, wave {prev['wave']}); nothing changed. "
                                        "To load it again after editing its mapping, pass --replace."])
        if mode is None and replaces is not None:
            mode = str(prev["mode"])
        mode, mode_why = resolve_mode(proj, wave, export, mode)
        others = store.query("SELECT file_name FROM sources WHERE wave = ? AND mode = ? AND sha256 <> ?",
                             [wave, mode, sha])
        listed = wave_cfg is not None and wave_cfg.listed(export.name)
        if not others.empty and not append and not listed:
            raise IngestError(
                f"{export}: wave '{wave}' already holds {', '.join(others['file_name'])} for mode '{mode}'.",
                file=export, rule="wave-holds-other-file",
                fix=f"Use another --wave, pass --append to add this file to wave '{wave}', "
                    f"or list it under the wave's exports in {proj.toml_path}.")
        tick("reading", 0)
        prep = prepare(mode, tick)
        if isinstance(prep, MappingRefused):
            write_mapping(prep.mapping_file, prep.cmap, prep.answer_cols)
            raise prep.error
        if mode_why:  # recorded with the source and printed in the summary
            prep.notes.insert(0, mode_why)
        return _commit_prepared(proj, store, prep, replaces, tick)


def _commit_prepared(proj: Project, store: Store, prep: PreparedExport, replaces: int | None,
                     tick: Callable[[str, int], None]) -> IngestSummary:
    wave, mode, export, cmap = prep.wave, prep.mode, prep.export, prep.cmap
    wave_cfg = proj.waves.get(wave)
    seen_ids = store.existing_response_ids(prep.pid_unique, exclude_source=replaces)
    flags, fdetail, _ = prep.file_flags.finish(seen_ids, store.contact_hashes(exclude_source=replaces))
    sid_next = int(store.query("SELECT coalesce(max(source_id),0)+1 AS n FROM sources")["n"].iloc[0])
    source_rows = prep.source_rows
    # built on the rows that need them only (string work per row is seconds at 1M rows)
    rid = prep.rid_base.copy()
    no_id = pd.isna(rid)
    rid[no_id] = [f"s{sid_next}r{r}" for r in source_rows[no_id]]
    dup_key = pd.Series(rid).duplicated(keep="first").to_numpy() | pd.Series(rid).isin(list(seen_ids)).to_numpy()
    rid[dup_key] = [f"{x}~s{sid_next}r{r}" for x, r in zip(rid[dup_key], source_rows[dup_key], strict=True)]
    rid = pd.Series(rid, index=prep.index, dtype=object)
    ua = prep.unknown_area
    flags["unknown_area"] = ua.astype(bool)
    tick("writing", 4)
    disp = prep.disposition
    excl_flags = [f for f in proj.quality.exclude if f in FLAG_COLUMNS]
    hits = [(f, flags[f].to_numpy(dtype=bool)) for f in excl_flags] + [
        (d, (disp == d).to_numpy(dtype=bool)) for d in ("breakoff", "partial") if d in proj.quality.exclude]
    reasons = pd.Series(_join_reasons(hits, len(prep.index)), index=prep.index, dtype=object)
    responses = pd.DataFrame({
        "response_id": rid.astype(str).values,
        "platform_response_id": prep.pid.values,
        "wave": wave, "mode": mode, "source_row": source_rows,
        **prep.columns,
        **{f"flag_{f}": flags[f].values.astype(bool) for f in FLAG_COLUMNS},
        "excluded": (reasons != "").values, "exclusion_reasons": reasons.replace("", None).values,
    })
    for c in ("start_time", "end_time"):
        responses[c] = pd.to_datetime(responses[c], utc=True)
    responses["finished"] = responses["finished"].astype("boolean")
    rid_of = pd.Series(responses["response_id"].values, index=prep.index)
    ot = prep.open_text
    open_text = pd.DataFrame({"response_id": rid_of.loc[ot["row"]].values if len(ot) else [],
                              "wave": wave, "variable": ot["variable"].values, "text": ot["text"].values})
    fl = pd.DataFrame({"response_id": rid_of.loc[fdetail["row"]].values if len(fdetail) else [],
                       "wave": wave, "rule": fdetail["rule"].values,
                       "threshold": fdetail["threshold"].astype(float).values,
                       "value": fdetail["value"].astype(float).values, "detail": fdetail["detail"].values})
    for af in prep.area_flags:  # unknown areas, then fuzzy matches
        fl = pd.concat([fl, pd.DataFrame({"response_id": rid_of.loc[af["row"]].values, "wave": wave,
                                          "rule": af["rule"].values, "threshold": af["threshold"].values,
                                          "value": af["value"].values, "detail": af["detail"].values})],
                       ignore_index=True)
    quarantine = pd.DataFrame(prep.q_rows, columns=["source_row", "reason", "raw"]).assign(wave=wave)
    quarantine["source_row"] = quarantine["source_row"].astype(np.int64)
    # the wide matrices: the store unpivots them into answer_cells with one INSERT ... SELECT
    answers = WideAnswers(list(prep.answer_vars), prep.answer_codes, prep.answer_kinds, source_rows)
    dropped = prep.identifiers_dropped
    notes = list(prep.notes)
    if dropped:
        notes.append(f"identifier column(s) dropped, never stored: {', '.join(dropped)}")
    if prep.area_note:
        notes.append(prep.area_note)
    batch = IngestBatch(
        file_name=export.name, sha256=prep.sha, platform=prep.platform, wave=wave,
        wave_label=wave_cfg.label if wave_cfg else wave,
        wave_start=wave_cfg.start if wave_cfg else None, wave_end=wave_cfg.end if wave_cfg else None,
        mode=mode, rows_in=prep.rows_in, responses=responses, answers=answers, open_text=open_text,
        quarantine=quarantine, flags=fl, variables=prep.variables, instrument=proj.instrument_model.id,
        instrument_version=proj.instrument_model.version, mapping_file=str(prep.mapping_file.relative_to(proj.root)),
        notes=notes, replaces=replaces)
    if replaces is not None:
        notes.append(f"replaced the earlier load of this file (source {replaces}).")
    sid = store.write_ingest(batch)
    write_mapping(prep.mapping_file, cmap, prep.answer_cols)
    funnel = store.funnel(wave, proj.quality.exclude).to_dict("records")
    rates = []
    if wave_cfg is not None and wave_cfg.invitations:
        cases = store.query(f"SELECT {', '.join(AAPOR_COLUMNS)} FROM responses WHERE wave = ?", [wave])
        rates = aapor_rates(cases, wave_cfg.invitations,
                            e=wave_cfg.eligibility_rate).to_dict("records")
    tick("done", 6)
    methods: dict[str, int] = {}
    for m in cmap.method.values():
        if m in ("stored", "key", "text", "fuzzy"):
            methods[m] = methods.get(m, 0) + 1
    return IngestSummary(
        file=str(export), wave=wave, mode=mode, platform=prep.platform, status="loaded", source_id=sid,
        rows_read=prep.rows_in, rows_kept=len(responses), rows_quarantined=len(quarantine),
        quarantined_by_reason=quarantine["reason"].value_counts().to_dict(),
        flagged_by_rule={f: int(flags[f].sum()) for f in flags.columns if flags[f].any()},
        dispositions=disp.value_counts().to_dict(),
        excluded=int(responses["excluded"].sum()), analysed=int((~responses["excluded"]).sum()),
        columns_mapped=len(cmap.columns), mapped_by_method=methods, unmapped_columns=cmap.unmapped,
        unknown_values=prep.invalid, identifiers_dropped=dropped,
        redacted={k: v for k, v in prep.redacted.items() if v}, unknown_areas=prep.unknown_areas,
        mapping_file=str(prep.mapping_file), funnel=funnel, response_rates=rates, notes=notes)


_STATUSES = (
    # Qualtrics (names and numeric codes), KoboToolbox _validation_status, ODK ReviewState, generic
    "IP Address", "Survey Preview", "Survey Test", "Imported", "Spam", "Preview Spam", "Imported Spam",
    "Offline", "Offline Survey Preview", "Edited", "0", "1", "2", "4", "8", "9", "12", "16", "17",
    "validation_status_approved", "validation_status_not_approved", "validation_status_on_hold",
    "Approved", "Not Approved", "On Hold", "received", "hasIssues", "rejected",
    "normal", "preview", "test", "complete", "completed", "partial", "incomplete", "submitted",
)
_KNOWN_STATUS = frozenset(f(v) for v in _STATUSES for f in (str, str.lower, str.upper, str.title))
"""The statuses platforms write, as written, lower case, upper case or title case (a value with
its case mangled, ``iP Address``, is a damaged cell, not a status)."""
_LANGUAGE = re.compile(r"^[^\W\d_]{2,20}(?:[-_ ][^\W_]{1,20}){0,2}$")


def _known_status(v: str) -> bool:
    return v.strip() in _KNOWN_STATUS


def _known_language(v: str) -> bool:
    """A language code (``EN``, ``es-419``, ``zh_Hans``) or name (``English``, ``español``)."""
    return bool(_LANGUAGE.match(v.strip()))


def _checked_meta(values: pd.Series | None, index: pd.Index, known: Callable[[str], bool]
                  ) -> tuple[pd.Series, pd.DataFrame | None]:
    """A metadata column that must hold codes or known values: the values (unknown ones as None)
    and, when some are unknown, their rows (``row``, ``threshold``, ``value``, ``detail``).

    Checked per distinct value. An unknown value (a damaged cell, a shifted row's e-mail or IP
    address) is never stored: the flag's detail gives its length and kind of characters only.
    """
    if values is None:
        return pd.Series(None, index=index, dtype=object), None
    v = values.astype(object)
    codes, uniq = pd.factorize(v.to_numpy(dtype=object), use_na_sentinel=True)
    ok = np.fromiter((known(str(u)) or not str(u).strip() for u in uniq), dtype=bool, count=len(uniq))
    bad = np.zeros(len(v), dtype=bool)
    has = codes >= 0
    bad[has] = ~ok[codes[has]]
    if not bad.any():
        return v, None
    clean = v.where(~bad, None)

    def describe(u: str) -> str:
        kind = "digits" if u.strip().isdigit() else ("with '@'" if "@" in u else "text")
        return f"{len(u)} characters, {kind}"

    desc = np.asarray([describe(str(u)) for u in uniq], dtype=object)
    rows = pd.DataFrame({"row": index[bad], "threshold": np.nan, "value": np.nan,
                         "detail": desc[codes[bad]]})
    return clean, rows


def _empty_rows(frame: pd.DataFrame) -> np.ndarray:
    """True for a row whose every cell is missing (None), checked column by column on the rows
    still empty only (one pass over one column when, as usual, every row has an id)."""
    cand = np.arange(len(frame))
    for j in range(frame.shape[1]):
        if not len(cand):
            break
        cand = cand[pd.isna(frame.iloc[:, j].to_numpy(dtype=object)[cand])]
    out = np.zeros(len(frame), dtype=bool)
    out[cand] = True
    return out


def _join_reasons(hits: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """The comma-joined names of the rules each row hit ("" for none), built on the rows hit only."""
    out = np.full(n, "", dtype=object)
    for name, hit in hits:
        if hit.any():
            done = hit & (out != "")
            out[done] = out[done] + "," + name
            out[hit & ~done] = name
    return out


def _area_labels(inst) -> list[tuple[str, str]]:
    """Every label (each language), name and code of the instrument's area choices, with its first
    label (the neighborhood name of the areas file): Spanish answers and coded exports find their
    neighborhood."""
    out: list[tuple[str, str]] = []
    for v in inst.variables():
        if v.role == Role.geography and v.answer_list:
            choices, _ = inst.answer_options(v.answer_list)
            for ch in choices:
                first = next(iter(ch.label.values()), ch.name)
                out += [(lab, first) for lab in (*ch.label.values(), ch.name, str(ch.code))]
    return out


def _targets(inst):
    from survey_pipeline.ingest.mapping import build_targets

    return build_targets(inst)


_NO_CODE = NO_CODE
"""The int16 that stands for a missing code (NaN) in the compact codes matrix (the store's)."""


def _answer_matrices(rec) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Variables, their codes (variables x rows) and kind codes (int8, -1: none) for the answers.

    Codes are packed as int16 (``_NO_CODE`` for NaN) when every code of the file is an integer
    that fits: a quarter of the float matrix (1 GB at 1M rows x 131 variables). Otherwise, the
    float matrix itself (a view: nothing is copied).
    """
    variables = pd.Index(list(rec.codes.columns), dtype=object)  # object: no str-dtype conversions
    cmat = rec.codes.to_numpy(dtype=float).T  # rec.codes wraps one (variables x rows) matrix: a view
    kmat = np.ascontiguousarray(kind_codes(rec.kinds, list(variables)).T)
    packed = np.empty(cmat.shape, dtype=np.int16)
    lo, hi = _NO_CODE + 1, np.iinfo(np.int16).max
    for j, row in enumerate(cmat):
        nan = np.isnan(row)
        filled = np.where(nan, 0.0, row)
        if not (np.all(filled == np.round(filled)) and filled.min(initial=0) >= lo and filled.max(initial=0) <= hi):
            return variables, cmat, kmat
        packed[j] = np.where(nan, _NO_CODE, filled).astype(np.int16)
    return variables, packed, kmat


def _variables_frame(inst, rec, wave: str) -> pd.DataFrame:
    rows = []
    for i, v in enumerate(inst.variables()):
        if v.name in rec.codes.columns:
            rows.append({"wave": wave, "variable": v.name, "question": v.question, "position": i, "type": v.type,
                         "role": v.role.value if v.role else None, "answer_list": v.answer_list})
    return pd.DataFrame(rows, columns=["wave", "variable", "question", "position", "type", "role", "answer_list"])
