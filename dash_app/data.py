"""The dashboard's data: the results tables of ``docs/results.md``, read from the project's store.

Reads only the results tables (never ``responses``, ``answers`` or ``open_text``), once when the
app starts and again whenever the store file's modification time changes; between changes every
callback works on the same cached DataFrames.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from survey_pipeline.results.tables import (  # the pure reading and labelling, shared with the reports
    REQUIRED_TABLES,  # noqa: F401  (re-exported)
    RESULTS_TABLES,
    area_names_from_geojson,
    check_results,
    district_area_names,
    district_names,
    find_areas_geojson,
    is_modeled,
    natural_key,
    read_results_tables,
)

__all__ = ["RESULTS_TABLES", "Results", "ResultsSource", "find_areas_geojson", "project_paths"]

STORE_NAME = "warehouse.duckdb"
# (table, keys) group indexes built when a snapshot is read; pages select through Results.part().
PART_KEYS = (("estimates", ("wave", "indicator")), ("estimates", ("indicator", "group_dim")),
             ("estimates_modeled", ("wave", "indicator")), ("estimates_modeled", ("indicator", "group_dim")),
             ("comparisons", ("kind", "wave", "indicator")), ("priorities", ("wave", "area_level", "area")))


def project_paths(project: Any) -> tuple[Path, Path]:
    """(project folder, store path) for a folder path or an object with ``.store_path``."""
    store = getattr(project, "store_path", None)
    if store is not None:
        store = Path(store)
        root = Path(getattr(project, "root", store.parent))
        return root, store
    if isinstance(project, str | Path):
        root = Path(project)
        return root, root / STORE_NAME
    raise TypeError(f"project must be a folder path or have .store_path, not {type(project).__name__}")


@dataclass
class Results:
    """One snapshot of the results tables, with the areas' shapes and names."""

    tables: dict[str, pd.DataFrame]
    geojson: dict | None = None
    area_names: dict[tuple[str, str], str] = field(default_factory=dict)
    # {lang or "_": {district code: name}} from the areas file's district_label columns
    district_names: dict[str, dict[str, str]] = field(default_factory=dict)
    mtime: float = 0.0
    # where the browser fetches the shapes (versioned by their content), or None to embed them
    geojson_url: str | None = None
    _memo: dict = field(default_factory=dict, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def memo(self, key: Any, make):
        """``make()`` computed once per snapshot (the snapshot never changes once read)."""
        try:
            return self._memo[key]
        except KeyError:
            value = make()
            with self._memo_lock:
                self._memo.setdefault(key, value)
            return self._memo[key]

    def warm(self) -> None:
        """Build the group indexes the pages use, so no request pays for them."""
        for table, keys in PART_KEYS:
            df = self.tables.get(table)
            if df is not None and not df.empty and set(keys) <= set(df.columns):
                self.part(table, keys, tuple(df.iloc[0][list(keys)]))
        _ = self.waves

    def lru(self, key: Any, make, maxsize: int = 256):
        """``make()`` cached per snapshot in a bounded LRU (for rendered views: the results never
        change within a snapshot, and popular views — the defaults, shared links — repeat)."""
        with self._memo_lock:
            cache = self._memo.setdefault("_lru", OrderedDict())
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make()
        with self._memo_lock:
            cache[key] = value
            while len(cache) > maxsize:
                cache.popitem(last=False)
        return value

    def part(self, table: str, keys: tuple[str, ...], values: tuple) -> pd.DataFrame:
        """The rows of ``table`` where ``keys`` equal ``values``, through a group index built once
        per snapshot (callbacks then touch a few hundred rows, not the whole table)."""
        df = self.tables[table]
        if df.empty:
            return df
        index = self.memo(("part", table, keys), lambda: df.groupby(list(keys), sort=False, dropna=False).indices)
        pos = index.get(values if len(values) > 1 else values[0])
        return df.iloc[pos] if pos is not None else df.iloc[0:0]

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def waves(self) -> list[str]:
        """Waves with estimates, oldest first (wave ids sort in time order by convention)."""
        return self.memo("waves", lambda: sorted(self.tables["estimates"]["wave"].dropna().unique().tolist()))

    def levels(self) -> list[str]:
        order = ["city", "district", "neighborhood", "beat"]
        found = self.memo("levels", lambda: set(self.tables["estimates"]["area_level"].dropna()))
        return [lv for lv in order if lv in found]

    def areas(self, level: str) -> list[str]:
        def make():
            est = self.tables["estimates"]
            codes = est.loc[est["area_level"] == level, "area"].dropna().unique().tolist()
            return sorted(codes, key=_natural)

        return self.memo(("areas", level), make)

    def area_name(self, level: str, code: str, lang: str | None = None) -> str:
        """An area's name: the areas file's (a district's in ``lang`` when the file gives one),
        else its code."""
        if level == "city" or code == "city":
            return "City"
        if level == "district" and lang and str(code) in self.district_names.get(lang, {}):
            return self.district_names[lang][str(code)]
        return self.area_names.get((level, str(code)), str(code).replace("_", " ").title())

    def _indicator_rows(self) -> dict[str, pd.Series]:
        """Each indicator's row, by id (built once per snapshot: callbacks look rows up by id)."""
        def make():
            ind = self.tables["indicators"]
            return {} if ind.empty else {i: ind.iloc[k] for k, i in enumerate(ind["indicator"])}

        return self.memo("indicator_rows", make)

    def indicator_label(self, indicator: str, lang: str) -> str:
        def make():
            out = {}
            for i, row in self._indicator_rows().items():
                val = row.get(f"label_{lang}")
                out[i] = str(val) if isinstance(val, str) and val else str(row.get("label_en") or i)
            return out

        return self.memo(("indicator_labels", lang), make).get(indicator, indicator)

    def indicator_row(self, indicator: str) -> pd.Series | None:
        return self._indicator_rows().get(indicator)


def _plain_text_columns(df: pd.DataFrame) -> None:
    """Store text columns as plain object arrays, one Python str per distinct value (in place).

    pandas' ``str`` dtype boxes every element it hands out, which makes the per-row loops of the
    callbacks (labels, hover text, table rows) several times slower than on object arrays; and
    sharing one object per distinct value keeps the (very repetitive) columns small."""
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            if len(uniques) and not all(isinstance(u, str) for u in uniques):
                continue  # mixed or non-text objects (e.g. lists): leave as they are
            values = np.asarray(uniques, dtype=object)
            missing = s[codes < 0].iloc[0] if (codes < 0).any() else None
            out = values.take(np.where(codes < 0, 0, codes)) if len(values) else np.full(len(s), missing, dtype=object)
            if missing is not None and len(values):
                out[codes < 0] = missing
            df[col] = pd.Series(out, index=df.index, dtype=object)


_natural = natural_key
_area_names = area_names_from_geojson


class ResultsSource:
    """Reads the results tables of one project and re-reads them when the store file changes.

    Parameters
    ----------
    project
        A project folder (containing ``warehouse.duckdb``) or an object with ``.store_path``
        (a ``survey_pipeline.project.Project``).
    geojson_route
        The URL path where the app serves the area shapes: snapshots then carry
        ``geojson_url`` (that path, versioned by the file's content) so maps reference the shapes
        instead of embedding them. None: maps embed them.
    """

    def __init__(self, project: Any, *, geojson_route: str | None = None):
        self.root, self.store_path = project_paths(project)
        self.geojson_route = geojson_route
        self._project = project
        self._lock = threading.Lock()
        self._snapshot: Results | None = None
        self.check()
        self.get()

    def check(self) -> None:
        """Raise ProjectError when the project has no results yet."""
        check_results(self.store_path, self.root)

    def _read(self, mtime: float) -> Results:
        tables = read_results_tables(self.store_path, modeled=True)
        # the modeled (small-area) rows apart: pages show them only where the direct number is
        # not reliable (``results.tables.shown_estimates``), marked as modeled
        est = tables["estimates"]
        mod = is_modeled(est).to_numpy()
        tables["estimates"] = est[~mod].reset_index(drop=True)
        tables["estimates_modeled"] = est[mod].reset_index(drop=True)
        for df in tables.values():
            _plain_text_columns(df)
        gj_path = find_areas_geojson(self.root, self._project)
        raw = gj_path.read_bytes() if gj_path else None
        geojson = json.loads(raw.decode("utf-8")) if raw is not None else None
        url = (f"{self.geojson_route}?v={hashlib.sha1(raw).hexdigest()[:12]}"
               if self.geojson_route and raw is not None else None)
        dn = district_names(self.root, self._project)
        res = Results(tables=tables, geojson=geojson, area_names={**_area_names(geojson), **district_area_names(dn)},
                      district_names=dn, mtime=mtime, geojson_url=url)
        res.warm()
        return res

    def get(self) -> Results:
        """The current snapshot, re-read when the store's (or its WAL's) modification time changed.

        Each read opens the store read-only and closes it at once, so the analysis can take its
        write lock between reads; while a writer holds the file, the previous snapshot is served."""
        try:
            mtime = self.store_path.stat().st_mtime
            wal = self.store_path.with_name(self.store_path.name + ".wal")
            if wal.exists():  # a commit not yet checkpointed changes only the write-ahead log
                mtime = max(mtime, wal.stat().st_mtime)
        except OSError:
            if self._snapshot is not None:
                return self._snapshot
            raise
        with self._lock:
            if self._snapshot is None or mtime != self._snapshot.mtime:
                try:
                    self._snapshot = self._read(mtime)
                except duckdb.Error:
                    if self._snapshot is None:
                        raise
                    # a writer holds the file: keep serving the previous snapshot
            return self._snapshot
