"""The DuckDB warehouse of a survey project: schema, atomic writes, lineage, readers.

One file, ``warehouse.duckdb``, inside the project folder. The schema is documented in
``docs/store.md``. Answers are stored long (one row per response and variable), because
instruments differ between waves and versions; :meth:`Store.read_clean_wave` returns the wide
table analysis wants (one float column per variable, and a ``<variable>__missing`` column with
the kind of each missing answer).

Every ingest is one transaction (:meth:`Store.write_ingest`): a crash or a bad file leaves the
store exactly as it was. Rows in = rows kept + rows quarantined is checked before committing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

from survey_pipeline.errors import StoreError

__all__ = ["FLAG_COLUMNS", "IDENTIFIER_FIELDS", "MISSING_KINDS", "IngestBatch", "Store"]

FLAG_COLUMNS: tuple[str, ...] = (
    "speeder", "straightliner", "duplicate_id", "duplicate_contact", "duplicate_answers",
    "attention_failed", "preview", "test", "bot", "fraud_duplicate", "fraud_score", "unknown_area",
)
"""Quality flags kept as boolean columns ``flag_<name>`` of ``responses``."""

MISSING_KINDS: tuple[str, ...] = ("dont_know", "refused", "not_asked", "breakoff", "invalid", "skipped")
"""Kinds of missing answers in ``answers.missing_kind`` (never stored as a number)."""

IDENTIFIER_FIELDS: tuple[str, ...] = (
    "ip", "email", "name", "phone", "latitude", "longitude", "recipient_first", "recipient_last",
    "recipient_email", "external_ref",
)
"""Standard meta fields that are direct identifiers: never written to the store."""

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS sources (
        source_id INTEGER PRIMARY KEY, file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL UNIQUE,
        platform VARCHAR, wave VARCHAR NOT NULL, mode VARCHAR NOT NULL, rows_in BIGINT NOT NULL,
        rows_kept BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL,
        instrument VARCHAR, instrument_version VARCHAR, mapping_file VARCHAR, notes VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS waves (
        wave VARCHAR PRIMARY KEY, label VARCHAR, start_date DATE, end_date DATE, modes VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS variables (
        source_id INTEGER NOT NULL, wave VARCHAR NOT NULL, variable VARCHAR NOT NULL, question VARCHAR,
        position INTEGER, type VARCHAR, role VARCHAR, answer_list VARCHAR, PRIMARY KEY (source_id, variable))""",
    """CREATE TABLE IF NOT EXISTS responses (
        response_id VARCHAR PRIMARY KEY, platform_response_id VARCHAR, wave VARCHAR NOT NULL,
        mode VARCHAR NOT NULL, source_id INTEGER NOT NULL, source_row BIGINT NOT NULL,
        area_district VARCHAR, area_neighborhood VARCHAR, area_beat VARCHAR, area_raw VARCHAR,
        start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, duration_s DOUBLE, survey_language VARCHAR,
        status_raw VARCHAR, finished BOOLEAN, answered_share DOUBLE, disposition VARCHAR NOT NULL,
        contact_hash VARCHAR, """
    + ", ".join(f"flag_{f} BOOLEAN NOT NULL" for f in FLAG_COLUMNS)
    + ", excluded BOOLEAN NOT NULL, exclusion_reasons VARCHAR)",
    # the long answers, physically: integer keys (a response is its source file and row), so
    # that a 1M-response ingest appends ~100M small fixed-width rows; read through the view
    # ``answers`` (_ANSWERS_VIEW) with the documented columns
    """CREATE TABLE IF NOT EXISTS variable_keys (
        variable_key SMALLINT PRIMARY KEY, variable VARCHAR NOT NULL UNIQUE)""",
    """CREATE TABLE IF NOT EXISTS missing_kinds (
        kind UTINYINT PRIMARY KEY, missing_kind VARCHAR NOT NULL UNIQUE)""",
    """CREATE TABLE IF NOT EXISTS answer_cells (
        source_id INTEGER NOT NULL, source_row INTEGER NOT NULL, variable_key SMALLINT NOT NULL,
        code DOUBLE, kind UTINYINT)""",
    """CREATE TABLE IF NOT EXISTS open_text (
        response_id VARCHAR NOT NULL, wave VARCHAR NOT NULL, variable VARCHAR NOT NULL, text VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        source_id INTEGER NOT NULL, wave VARCHAR NOT NULL, source_row BIGINT NOT NULL,
        reason VARCHAR NOT NULL, raw VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS flags (
        response_id VARCHAR NOT NULL, wave VARCHAR NOT NULL, rule VARCHAR NOT NULL,
        threshold DOUBLE, value DOUBLE, detail VARCHAR)""",
]

_ANSWERS_VIEW = """CREATE VIEW answers AS
    SELECT r.response_id, r.wave, v.variable, c.code, k.missing_kind
    FROM answer_cells c
    JOIN responses r ON r.source_id = c.source_id AND r.source_row = c.source_row
    JOIN variable_keys v ON v.variable_key = c.variable_key
    LEFT JOIN missing_kinds k ON k.kind = c.kind"""
"""The documented long ``answers`` table (docs/store.md), read from the integer-keyed cells."""

_RESPONSE_COLUMNS = [
    "response_id", "platform_response_id", "wave", "mode", "source_id", "source_row", "area_district",
    "area_neighborhood", "area_beat", "area_raw", "start_time", "end_time", "duration_s", "survey_language",
    "status_raw", "finished", "answered_share", "disposition", "contact_hash",
    *[f"flag_{f}" for f in FLAG_COLUMNS], "excluded", "exclusion_reasons",
]


@dataclass
class WideAnswers:
    """The answers of one export as two matrices (variables x responses), written to
    ``answer_cells`` by one ``INSERT ... SELECT`` (DuckDB unpivots them).

    ``codes`` is int16 with :data:`NO_CODE` for "no code", or float with NaN; ``kinds`` is int8,
    the index of the missing kind in :data:`MISSING_KINDS` or -1 for none. A cell with a code is
    stored with its code and no kind; a cell without a code, with its kind; a cell with neither
    (an option left unranked) is not stored.
    """

    variables: list[str]
    codes: np.ndarray
    kinds: np.ndarray
    source_rows: np.ndarray


NO_CODE = int(np.iinfo(np.int16).min)
"""The int16 that stands for "no code" in :attr:`WideAnswers.codes`."""


@dataclass
class IngestBatch:
    """Everything one ingest writes, in the shape of the tables (``source_id`` filled in by the store)."""

    file_name: str
    sha256: str
    platform: str
    wave: str
    wave_label: str
    wave_start: object
    wave_end: object
    mode: str
    rows_in: int
    responses: pd.DataFrame
    # source_row, variable, code, missing_kind (one frame or chunks), or the wide matrices
    answers: pd.DataFrame | Iterable[pd.DataFrame] | WideAnswers
    open_text: pd.DataFrame
    quarantine: pd.DataFrame
    flags: pd.DataFrame
    variables: pd.DataFrame
    instrument: str = ""
    instrument_version: str = ""
    mapping_file: str = ""
    notes: list[str] = field(default_factory=list)
    replaces: int | None = None  # a source_id to remove in the same transaction (re-load of a file)


class Store:
    """The project's DuckDB warehouse. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store yet.", file=self.path, rule="no-store",
                             fix="Ingest an export first: survey-pipeline ingest EXPORT --project DIR --wave ID")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc}).", file=self.path, rule="store-open",
                             fix="Close other programs using the store (the dashboard, another ingest) and retry.") from exc
        if not read_only:
            # inserts need not keep their order (every reader sorts with ORDER BY): DuckDB then
            # inserts the long answers table in parallel, without order bookkeeping
            self.con.execute("SET preserve_insertion_order = false")
            for stmt in _SCHEMA:
                self.con.execute(stmt)
            self.con.executemany("INSERT OR IGNORE INTO missing_kinds VALUES (?, ?)", list(enumerate(MISSING_KINDS)))
            layout = self._answers_layout()
            if layout == "table":
                self._migrate_answers()
            elif layout is None:
                self.con.execute(_ANSWERS_VIEW)

    def _answers_layout(self) -> str | None:
        """``'view'`` (current layout), ``'table'`` (written by survey-pipeline before 0.3: the long
        answers as strings) or None (no answers yet)."""
        got = self.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'answers' "
                               "AND table_schema = 'main'").fetchall()
        if not got:
            return None
        return "view" if got[0][0] == "VIEW" else "table"

    def _migrate_answers(self) -> None:
        """Move a store's string-keyed ``answers`` table into ``answer_cells`` (one transaction)."""
        con = self.con
        con.begin()
        try:
            con.execute("INSERT INTO variable_keys SELECT (row_number() OVER (ORDER BY variable)) - 1, variable "
                        "FROM (SELECT DISTINCT variable FROM answers)")
            con.execute("INSERT INTO answer_cells SELECT r.source_id, r.source_row, v.variable_key, a.code, k.kind "
                        "FROM answers a JOIN responses r USING (response_id) JOIN variable_keys v USING (variable) "
                        "LEFT JOIN missing_kinds k USING (missing_kind)")
            before = con.execute("SELECT count(*) FROM answers").fetchall()[0][0]
            after = con.execute("SELECT count(*) FROM answer_cells").fetchall()[0][0]
            if before != after:
                raise StoreError(f"{self.path}: upgrading the store kept {after} of {before} answers "
                                 "(answers of responses the store does not hold).", file=self.path,
                                 rule="store-upgrade",
                                 fix="Keep a copy of the store and report this; re-ingesting the exports into a "
                                     "new project rebuilds it.")
            con.execute("DROP TABLE answers")
            con.execute(_ANSWERS_VIEW)
            con.commit()
        except BaseException:
            con.rollback()
            raise

    @staticmethod
    def upgrade(path: str | Path) -> bool:
        """Bring an existing store written by an earlier version to the current layout.

        Opening a store for writing upgrades it; this is for readers, which open it read-only.
        Returns whether anything changed.
        """
        path = Path(path)
        if not path.exists():
            return False
        with Store(path, read_only=True) as ro:
            if ro._answers_layout() != "table":
                return False
        Store(path).close()
        return True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # --- queries -------------------------------------------------------------------------------

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def source_by_sha(self, sha256: str) -> dict | None:
        df = self.query("SELECT * FROM sources WHERE sha256 = ?", [sha256])
        return None if df.empty else df.iloc[0].to_dict()

    def sources(self, wave: str | None = None) -> pd.DataFrame:
        if wave is None:
            return self.query("SELECT * FROM sources ORDER BY source_id")
        return self.query("SELECT * FROM sources WHERE wave = ? ORDER BY source_id", [wave])

    def existing_response_ids(self, ids: list[str], exclude_source: int | None = None) -> set[str]:
        """Which of ``ids`` the store already holds (as platform or store id), outside ``exclude_source``."""
        if not ids:
            return set()
        df = pd.DataFrame({"rid": ids})
        self.con.register("_ids", df)
        try:
            got = self.con.execute(
                "SELECT rid FROM _ids WHERE rid IN (SELECT response_id FROM responses WHERE source_id IS DISTINCT FROM ? "
                "UNION SELECT platform_response_id FROM responses WHERE source_id IS DISTINCT FROM ?)",
                [exclude_source, exclude_source]).fetchall()
        finally:
            self.con.unregister("_ids")
        return {r[0] for r in got}

    def contact_hashes(self, exclude_source: int | None = None) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT DISTINCT contact_hash FROM responses WHERE contact_hash IS NOT NULL "
            "AND source_id IS DISTINCT FROM ?", [exclude_source]).fetchall()}

    def _delete_source(self, sid: int) -> None:
        rids = "(SELECT response_id FROM responses WHERE source_id = ?)"
        self.con.execute("DELETE FROM answer_cells WHERE source_id = ?", [sid]).fetchall()
        for t in ("open_text", "flags"):
            self.con.execute(f"DELETE FROM {t} WHERE response_id IN {rids}", [sid]).fetchall()
        for t in ("responses", "quarantine", "variables", "sources"):
            self.con.execute(f"DELETE FROM {t} WHERE source_id = ?", [sid]).fetchall()

    def counts(self) -> dict[str, int]:
        """Row counts of every table (used to show that a failed ingest changed nothing)."""
        physical = {"answers": "answer_cells"}  # every answer is one cell: no join to count them
        return {t: self.con.execute(f"SELECT count(*) FROM {physical.get(t, t)}").fetchall()[0][0]
                for t in ("sources", "waves", "variables", "responses", "answers", "open_text", "quarantine", "flags")}

    # --- the one write path -----------------------------------------------------------------

    def _insert(self, table: str, df: pd.DataFrame) -> None:
        """Append ``df`` to ``table``. Categorical columns (string categories) arrive in DuckDB as
        ENUMs: integer codes plus a small dictionary, cast to VARCHAR on insert, which is much
        faster than scanning millions of Python strings."""
        if df is None or df.empty:
            return
        cats = {c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)}
        self.con.register("_batch", df)
        try:
            select = ", ".join(f'"{c}"::VARCHAR' if c in cats else f'"{c}"' for c in df.columns)
            cols = ", ".join(f'"{c}"' for c in df.columns)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM _batch").fetchall()
        finally:
            self.con.unregister("_batch")

    def _variable_keys(self, names, keys: dict[str, int], file_name: str) -> None:
        """Fill ``keys`` (variable -> ``variable_key``) for ``names``: known variables keep their
        key, new ones get the next keys (written to ``variable_keys``)."""
        new = [v for v in names if v not in keys]
        if not new:
            return
        known = dict(self.con.execute("SELECT variable, variable_key FROM variable_keys").fetchall())
        add = [v for v in new if v not in known]
        start = max(known.values(), default=-1) + 1
        if start + len(add) > np.iinfo(np.int16).max:
            raise StoreError(f"{file_name}: the store would hold more than {np.iinfo(np.int16).max} variables.",
                             file=file_name, rule="too-many-variables",
                             fix="Split the survey into projects (one instrument per project).")
        if add:
            self.con.executemany("INSERT INTO variable_keys VALUES (?, ?)",
                                 [(start + i, v) for i, v in enumerate(add)])
        known.update({v: start + i for i, v in enumerate(add)})
        keys.update({v: known[v] for v in new})

    def _insert_wide_answers(self, wide: WideAnswers, sid: int, file_name: str) -> None:
        """Append the answers of :class:`WideAnswers` to ``answer_cells`` with one ``INSERT ...
        SELECT``: DuckDB unpivots the registered (responses x 2 variables) frame of codes and
        kinds, in its own threads, without a long table in Python."""
        nv, n = wide.codes.shape if wide.codes.ndim == 2 else (0, 0)
        if nv == 0 or n == 0:
            return
        if wide.kinds.shape != (nv, n) or len(wide.source_rows) != n or len(wide.variables) != nv:
            raise StoreError(f"{file_name}: the answer matrices do not match ({wide.codes.shape}, {wide.kinds.shape}, "
                             f"{len(wide.source_rows)} rows, {len(wide.variables)} variables).", file=file_name,
                             rule="answer-shape", fix="This is a bug in survey-pipeline: please report it.")
        if len(set(wide.variables)) != nv:
            raise StoreError(f"{file_name}: a variable appears twice among the answers.", file=file_name,
                             rule="answer-variable", fix="This is a bug in survey-pipeline: please report it.")
        kmax = int(wide.kinds.max(initial=-1))
        if kmax >= len(MISSING_KINDS) or int(wide.kinds.min(initial=-1)) < -1:
            raise StoreError(f"{file_name}: unknown missing kind code(s) in the answers.", file=file_name,
                             rule="missing-kind", fix=f"Missing kinds are {', '.join(MISSING_KINDS)}.")
        keys: dict[str, int] = {}
        self._variable_keys(list(wide.variables), keys, file_name)
        packed = wide.codes.dtype == np.int16
        rows = np.asarray(wide.source_rows)
        if len(rows) and (rows.min() < 0 or rows.max() > np.iinfo(np.int32).max):
            raise StoreError(f"{file_name}: a source row outside INTEGER.", file=file_name, rule="source-row",
                             fix="Split the export into files of fewer rows.")
        cols = {"source_row": rows.astype(np.int32)}
        cols.update({f"c{j}": wide.codes[j] if packed else np.asarray(wide.codes[j], dtype=float) for j in range(nv)})
        cols.update({f"k{j}": wide.kinds[j].astype(np.int8, copy=False) for j in range(nv)})
        frame = pd.DataFrame(cols, copy=False)
        if packed:
            has_code = lambda c: f"{c} <> {NO_CODE}"  # noqa: E731
        else:
            has_code = lambda c: f"({c} IS NOT NULL AND NOT isnan({c}))"  # noqa: E731
        # the unpivot's names are the variables' keys (integers): no variable text enters the SQL;
        # INCLUDE NULLS: a NaN code is NULL in the scan, and its kind must still be stored
        pairs = ", ".join(f'(c{j}, k{j}) AS "{keys[v]}"' for j, v in enumerate(wide.variables))
        self.con.register("_wide_answers", frame)
        try:
            self.con.execute(
                f"INSERT INTO answer_cells SELECT ?, source_row, CAST(vkey AS SMALLINT), "
                f"CASE WHEN {has_code('c')} THEN CAST(c AS DOUBLE) END, "
                f"CASE WHEN NOT {has_code('c')} AND k >= 0 THEN CAST(k AS UTINYINT) END "
                f"FROM _wide_answers UNPIVOT INCLUDE NULLS ((c, k) FOR vkey IN ({pairs})) "
                f"WHERE {has_code('c')} OR k >= 0", [sid]).fetchall()
        finally:
            self.con.unregister("_wide_answers")

    def _insert_answers(self, chunk: pd.DataFrame, sid: int, keys: dict[str, int], file_name: str) -> None:
        """Append one chunk of long answers (``source_row``, ``variable``, ``code``, ``missing_kind``)
        to ``answer_cells``: the variable as its key (new variables get the next keys), the kind
        as its number in ``missing_kinds``."""
        if chunk is None or chunk.empty:
            return
        var = chunk["variable"]
        var = var.array if isinstance(var.dtype, pd.CategoricalDtype) else pd.Categorical(var.to_numpy(dtype=object))
        self._variable_keys(var.categories, keys, file_name)
        if (var.codes < 0).any():
            raise StoreError(f"{file_name}: an answer without a variable.", file=file_name, rule="answer-variable",
                             fix="This is a bug in survey-pipeline: please report it.")
        vkey = np.array([keys[v] for v in var.categories], dtype=np.int16)[var.codes]
        kind = chunk["missing_kind"]
        kind = kind.array if isinstance(kind.dtype, pd.CategoricalDtype) else pd.Categorical(kind.to_numpy(dtype=object))
        unknown = [k for k in kind.categories if k not in MISSING_KINDS]
        if unknown:
            raise StoreError(f"{file_name}: unknown missing kind(s) {', '.join(map(str, unknown))}.", file=file_name,
                             rule="missing-kind", fix=f"Missing kinds are {', '.join(MISSING_KINDS)}.")
        kmap = np.array([MISSING_KINDS.index(k) for k in kind.categories] + [-1], dtype=np.int8)
        cells = pd.DataFrame({"source_row": chunk["source_row"].to_numpy(dtype=np.int32), "variable_key": vkey,
                              "code": chunk["code"].to_numpy(dtype=float), "kind": kmap[kind.codes]})
        self.con.register("_cells", cells)
        try:
            self.con.execute("INSERT INTO answer_cells SELECT ?, source_row, variable_key, code, "
                             "CAST(NULLIF(kind, -1) AS UTINYINT) FROM _cells", [sid]).fetchall()
        finally:
            self.con.unregister("_cells")

    def write_ingest(self, batch: IngestBatch) -> int:
        """Write one ingest in one transaction and return its ``source_id``.

        Raises
        ------
        StoreError
            When rows in != rows kept + rows quarantined, or the write fails; the store is unchanged.
        """
        kept, quarantined = len(batch.responses), len(batch.quarantine)
        if kept + quarantined != batch.rows_in:
            raise StoreError(
                f"{batch.file_name}: rows in ({batch.rows_in}) != kept ({kept}) + quarantined ({quarantined}).",
                file=batch.file_name, rule="rows-conserved",
                fix="This is a bug in survey-pipeline: please report it with the file's row count.")
        if batch.responses["source_row"].duplicated().any():
            raise StoreError(f"{batch.file_name}: two kept responses share a source row.", file=batch.file_name,
                             rule="one-response-per-row",
                             fix="This is a bug in survey-pipeline: please report it with the export's layout.")
        self.con.begin()
        try:
            sid = self.con.execute("SELECT coalesce(max(source_id), 0) + 1 FROM sources").fetchall()[0][0]
            if batch.replaces is not None:
                self._delete_source(batch.replaces)
            self._insert("sources", pd.DataFrame([{
                "source_id": sid, "file_name": batch.file_name, "sha256": batch.sha256,
                "platform": batch.platform, "wave": batch.wave, "mode": batch.mode,
                "rows_in": batch.rows_in, "rows_kept": kept, "rows_quarantined": quarantined,
                "loaded_at": pd.Timestamp.now(tz="UTC"), "instrument": batch.instrument,
                "instrument_version": batch.instrument_version, "mapping_file": batch.mapping_file,
                "notes": json.dumps(batch.notes, ensure_ascii=False),
            }]))
            found = self.con.execute("SELECT modes FROM waves WHERE wave = ?", [batch.wave]).fetchall()
            exists = found[0] if found else None
            if exists is None:
                self._insert("waves", pd.DataFrame([{
                    "wave": batch.wave, "label": batch.wave_label, "start_date": batch.wave_start,
                    "end_date": batch.wave_end, "modes": batch.mode}]))
            elif batch.mode not in (exists[0] or "").split(","):
                modes = ",".join(sorted({*filter(None, (exists[0] or "").split(",")), batch.mode}))
                self.con.execute("UPDATE waves SET modes = ? WHERE wave = ?", [modes, batch.wave]).fetchall()
            self._insert("variables", batch.variables.assign(source_id=sid))
            resp = batch.responses.assign(source_id=sid)[_RESPONSE_COLUMNS]
            self._insert("responses", resp)
            if isinstance(batch.answers, WideAnswers):
                self._insert_wide_answers(batch.answers, sid, batch.file_name)
            else:
                keys: dict[str, int] = {}
                for chunk in ([batch.answers] if isinstance(batch.answers, pd.DataFrame) else batch.answers):
                    self._insert_answers(chunk, sid, keys, batch.file_name)
            self._insert("open_text", batch.open_text)
            self._insert("quarantine", batch.quarantine.assign(source_id=sid))
            self._insert("flags", batch.flags)
            n_resp = self.con.execute("SELECT count(*) FROM responses WHERE source_id = ?", [sid]).fetchall()[0][0]
            n_quar = self.con.execute("SELECT count(*) FROM quarantine WHERE source_id = ?", [sid]).fetchall()[0][0]
            if n_resp + n_quar != batch.rows_in:
                raise StoreError(f"{batch.file_name}: the store holds {n_resp} + {n_quar} rows of {batch.rows_in}.",
                                 file=batch.file_name, rule="rows-conserved",
                                 fix="This is a bug in survey-pipeline: please report it.")
            self.con.commit()
        except BaseException as exc:
            self.con.rollback()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"{self.path}: writing {batch.file_name} failed ({exc}); nothing was written.",
                                 file=self.path, rule="store-write",
                                 fix="Check the disk space and that no other program holds the store, then retry.") from exc
            raise
        return int(sid)

    # --- readers ------------------------------------------------------------------------------

    def read_responses(self, wave: str, *, include_excluded: bool = True) -> pd.DataFrame:
        sql = "SELECT * FROM responses WHERE wave = ?" + ("" if include_excluded else " AND NOT excluded")
        return self.query(sql + " ORDER BY source_id, source_row", [wave])

    def read_clean_wave(self, wave: str, *, include_excluded: bool = False) -> pd.DataFrame:
        """The wide clean wave: response columns, one float column per variable, and ``<var>__missing``.

        ``<var>`` holds the canonical code (NaN when missing); ``<var>__missing`` holds the kind
        (``dont_know``, ``refused``, ``not_asked``, ``breakoff``, ``invalid``, ``skipped``) or None.
        Columns: the response columns,
        then the variables in questionnaire order, then their ``__missing`` columns in the same
        order. Excluded responses are left out unless ``include_excluded``.
        """
        return self.read_clean_waves([wave], include_excluded=include_excluded)

    def read_clean_waves(self, waves: Sequence[str], *, include_excluded: bool = False,
                         missing_as: str = "text") -> pd.DataFrame:
        """The wide clean waves ``waves``, one below the other, read in one pass.

        ``missing_as="category"``: the ``<var>__missing`` columns are pandas categoricals of the
        store's missing kinds (NaN where the answer is not missing, or the wave lacks the
        variable), 1 byte a cell instead of an 8-byte object pointer: the same kinds, for a
        reader that compares them to a kind (the analysis), at an eighth of the memory.

        The same frame as ``pd.concat([read_clean_wave(w) for w in waves], ignore_index=True)``
        (see :meth:`read_clean_wave`): the columns are the union over the waves (first seen
        first), and a variable a wave does not hold is NaN in that wave's rows, in ``<var>`` and
        ``<var>__missing`` alike. Every answer cell goes straight into one matrix for all waves,
        fetched in chunks (only the cells of the responses read), so no wave's frame is built and
        copied again.
        """
        waves = list(waves)
        if not waves:
            raise StoreError(f"{self.path}: no wave to read.", file=self.path, rule="no-waves",
                             fix="Name at least one wave (the store's waves are in the table 'waves').")
        resps, wave_vars = [], []
        for wave in waves:
            resp = self.read_responses(wave, include_excluded=include_excluded)
            variables = self.query("SELECT variable FROM variables WHERE wave = ? GROUP BY variable "
                                   "ORDER BY min(position), variable", [wave])["variable"].tolist()
            names = set(variables)
            clash = sorted(names & set(resp.columns) | {v for v in names if v.endswith("__missing")
                                                             and v.removesuffix("__missing") in names})
            if clash:
                raise StoreError(f"{self.path}: wave '{wave}': variable(s) {', '.join(clash)} have the name of a "
                                 "response column (or of another variable's __missing column).",
                                 file=self.path, rule="variable-name-clash",
                                 fix="Rename the question id(s) in the instrument (e.g. add a prefix) and re-ingest "
                                     "with --replace.")
            resps.append(resp)
            wave_vars.append(variables)
        if self._answers_layout() == "table":
            raise StoreError(f"{self.path}: the store was written by an earlier survey-pipeline.", file=self.path,
                             rule="store-layout",
                             fix="Run any writing command once (survey-pipeline run/ingest/analyze --project DIR) to "
                                 "upgrade it, or call Store.upgrade(path).")
        # the columns of each wave's frame, and their union as pd.concat makes it
        wave_cols = [r.columns.append(pd.Index([*v, *(f"{x}__missing" for x in v)], dtype=object))
                     for r, v in zip(resps, wave_vars, strict=True)]
        if all(c.equals(wave_cols[0]) for c in wave_cols[1:]):
            columns = wave_cols[0]
            variables = wave_vars[0]
        else:
            columns = pd.concat([pd.DataFrame(columns=c) for c in wave_cols], ignore_index=True).columns
            seen = set().union(*wave_vars)
            variables = [c for c in columns if c in seen]
        nv, sizes = len(variables), [len(r) for r in resps]
        n = sum(sizes)
        # one matrix per kind of column, a row per variable (pandas keeps each column contiguous),
        # plus a last variable and a last response where cells nobody reads are dropped
        if missing_as not in ("text", "category"):
            raise ValueError(f"missing_as={missing_as!r}: 'text' or 'category'")
        as_codes = missing_as == "category"
        values = np.full((nv + 1, n + 1), np.nan)
        # category: -1 (not missing) and the kinds' category codes, else the kinds' names or None
        missing = np.full((nv + 1, n + 1), -1, dtype=np.int8) if as_codes else np.full((nv + 1, n + 1), None,
                                                                                     dtype=object)
        pos = {v: i for i, v in enumerate(variables)}
        offsets = np.cumsum([0, *sizes])
        for w, wv in enumerate(wave_vars):
            if len(wv) < nv:  # a variable the wave lacks is NaN in both columns (as pd.concat fills it)
                lacks = np.array(sorted(set(range(nv)) - {pos[v] for v in wv}), dtype=np.int64)
                missing[lacks, offsets[w]:offsets[w + 1]] = -1 if as_codes else np.nan
        kinds = self._missing_kinds()
        if n and nv:
            self._place_cells(resps, wave_vars, pos, offsets, values, missing, include_excluded, kinds)
        values, missing = values[:nv, :n], missing[:nv, :n]
        resp = resps[0] if len(resps) == 1 else pd.concat(resps, ignore_index=True)
        resp = resp.reset_index(drop=True)
        index = pd.RangeIndex(n)
        nr = len(resp.columns)
        where = {v: ("values", i) for i, v in enumerate(variables)}
        where.update({f"{v}__missing": ("missing", i) for i, v in enumerate(variables)})
        # the columns in order, as runs of the response frame and the two matrices
        runs: list[list] = []
        for j, c in enumerate(columns):
            src, i = ("resp", j) if j < nr else where[c]
            if runs and runs[-1][0] == src and runs[-1][2] == i:
                runs[-1][2] += 1
            else:
                runs.append([src, i, i + 1])
        parts = []
        for src, a, b in runs:
            if src == "resp":
                parts.append(resp.iloc[:, a:b])
            elif src == "values":
                parts.append(pd.DataFrame(values[a:b].T, index=index, columns=pd.Index(variables[a:b], dtype=object),
                                          copy=False))
            elif as_codes:
                cat = pd.CategoricalDtype(pd.Index(kinds.categories, dtype=object))
                parts.append(pd.DataFrame({f"{v}__missing": pd.Categorical.from_codes(missing[a + i], dtype=cat)
                                           for i, v in enumerate(variables[a:b])}, index=index))
                parts[-1].columns = pd.Index(parts[-1].columns, dtype=object)
            else:
                parts.append(pd.DataFrame(missing[a:b].T, index=index, dtype=object, copy=False,
                                          columns=pd.Index([f"{v}__missing" for v in variables[a:b]], dtype=object)))
        out = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
        if not out.columns.equals(columns) or out.columns.dtype != columns.dtype:
            out.columns = columns
        return out

    def _missing_kinds(self) -> _Kinds:
        """The store's missing kinds: each stored kind code's name, and its category code."""
        kinds = dict(self.con.execute("SELECT kind, missing_kind FROM missing_kinds").fetchall())
        names = np.array([kinds.get(i) for i in range(256)], dtype=object)
        categories = [str(k) for k in dict.fromkeys(v for v in names if v is not None)]
        at = {c: i for i, c in enumerate(categories)}
        codes = np.array([at.get(v, -1) if v is not None else -1 for v in names], dtype=np.int8)
        return _Kinds(names, categories, codes)

    def _place_cells(self, resps: list[pd.DataFrame], wave_vars: list[list[str]], pos: dict[str, int],
                     offsets: np.ndarray, values: np.ndarray, missing: np.ndarray, include_excluded: bool,
                     kinds: _Kinds | None = None) -> None:
        """Put the answer cells of the responses ``resps`` (the waves' frames, one below the other
        from ``offsets``) into ``values`` (codes) and ``missing`` (kinds): a row per variable in
        ``pos``, a column per response. Each cell's place is one flat index from two small
        lookups (its variable key, its source row); cells of variables or responses not read land
        in the matrices' last row or column."""
        nv, n = values.shape[0] - 1, values.shape[1] - 1
        idx_type = np.int32 if values.size < np.iinfo(np.int32).max else np.int64
        keys = dict(self.con.execute("SELECT variable, variable_key FROM variable_keys").fetchall())
        kept = dict(self.con.execute("SELECT source_id, rows_kept FROM sources").fetchall())
        kinds = kinds or self._missing_kinds()
        # the kinds' names into an object matrix, their category codes into an int8 one
        names = kinds.codes if missing.dtype == np.int8 else kinds.names
        jobs = []
        for w, resp in enumerate(resps):
            var_at = np.full(max(keys.values(), default=0) + 2, nv * (n + 1), dtype=idx_type)  # last: a key too big
            for v in wave_vars[w]:
                if v in keys:
                    var_at[keys[v]] = pos[v] * (n + 1)
            sids = resp["source_id"].to_numpy(np.int64)
            srows = resp["source_row"].to_numpy(np.int64)
            for sid in np.unique(sids).tolist():
                mine = np.flatnonzero(sids == sid)
                row_at = np.full(int(srows[mine].max()) + 2, n, dtype=idx_type)  # last: a row too big
                row_at[srows[mine]] = offsets[w] + mine
                # responses left out: their cells are not fetched at all (fewer cells to place)
                only = not include_excluded and len(mine) < kept.get(sid, 0)
                jobs += [(sid, only, "code", var_at, row_at), (sid, only, "kind", var_at, row_at)]
        flat_values, flat_missing = values.reshape(-1), missing.reshape(-1)
        for column, var_at, row_at, rows, var_keys, got in _cell_chunks(self.con, jobs):
            at = np.take(var_at, var_keys, mode="clip")
            at += np.take(row_at, rows, mode="clip")
            if column == "code":
                flat_values[at] = got
            else:
                flat_missing[at] = names[got]

    def read_open_text(self, wave: str) -> pd.DataFrame:
        return self.query("SELECT * FROM open_text WHERE wave = ? ORDER BY response_id, variable", [wave])

    def funnel(self, wave: str, exclude: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The exclusion funnel of a wave: rows read -> quarantined -> flagged per rule -> analysed."""
        src = self.query("SELECT coalesce(sum(rows_in),0) AS rows_in, coalesce(sum(rows_quarantined),0) AS q "
                         "FROM sources WHERE wave = ?", [wave]).iloc[0]
        # only the columns counted (a 1M-row wave's full responses are ~0.5 GB in pandas)
        cols = ", ".join(["disposition", "excluded", "exclusion_reasons", *(f"flag_{f}" for f in FLAG_COLUMNS)])
        resp = self.query(f"SELECT {cols} FROM responses WHERE wave = ?", [wave])
        rows = [{"step": "rows read", "rows": int(src["rows_in"])},
                {"step": "quarantined", "rows": -int(src["q"])},
                {"step": "kept", "rows": len(resp)}]
        remaining = resp
        if exclude is None:
            seen = {r for s in resp["exclusion_reasons"].dropna() for r in s.split(",") if r}
            exclude = tuple(f for f in (*FLAG_COLUMNS, "breakoff", "partial") if f in seen)
        reasons = exclude
        for rule in reasons:
            if remaining.empty:
                break
            if rule in ("breakoff", "partial"):
                hit = remaining["disposition"] == rule
            else:
                hit = remaining[f"flag_{rule}"].astype(bool)
            rows.append({"step": f"excluded: {rule}", "rows": -int(hit.sum())})
            remaining = remaining[~hit]
        rows.append({"step": "analysed", "rows": int((~resp["excluded"]).sum())})
        return pd.DataFrame(rows)


class _Kinds(NamedTuple):
    """The store's missing kinds (:meth:`Store._missing_kinds`): by stored code (0-255), the name
    (None: no such kind) and the category code (-1: none); the categories in code order."""

    names: np.ndarray
    categories: list[str]
    codes: np.ndarray


_CHUNK_VECTORS = 128
"""Answer cells fetched at a time, in DuckDB vectors of 2,048 (~3 MB): the same memory serves
chunk after chunk, where one fetch of a million-response source asks the system for ~0.3 GB."""


def _cell_chunks(con: duckdb.DuckDBPyConnection, jobs: list[tuple]) -> Iterator[tuple]:
    """The answer cells that have a code, or a missing kind (``column``), of each job's source,
    chunk by chunk, as ``(column, *lookups, source_row, variable_key, code or kind)``. With
    ``only_read``, only the cells of the source's responses that are not excluded."""
    for sid, only_read, column, *lookups in jobs:
        sql = (f"SELECT source_row, variable_key, {column} FROM answer_cells "
               f"WHERE source_id = $sid AND {column} IS NOT NULL")
        if only_read:
            sql += (" AND source_row IN (SELECT CAST(source_row AS INTEGER) FROM responses "  # INTEGER: no cast per cell
                    "WHERE source_id = $sid AND NOT excluded)")
        result = con.execute(sql, {"sid": sid})
        while len(chunk := result.fetch_df_chunk(_CHUNK_VECTORS)):
            yield (column, *lookups, *(chunk[c].to_numpy() for c in ("source_row", "variable_key", column)))
