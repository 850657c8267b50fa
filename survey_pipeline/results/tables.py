"""Reading and labelling the results tables (``docs/results.md``): shared by the reports and the dashboard.

Everything here reads only the results tables of the store (never ``responses``, ``answers`` or
``open_text``), plus the project's ``survey.toml`` and areas GeoJSON for names.
"""

from __future__ import annotations

import json
import re
import tomllib
import warnings
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from survey_pipeline.errors import ProjectError, StoreError

__all__ = [
    "LEVEL_ORDER",
    "REQUIRED_TABLES",
    "RESULTS_TABLES",
    "area_names_from_geojson",
    "benchmark_rows",
    "check_results",
    "district_area_names",
    "district_names",
    "find_areas_file",
    "find_areas_geojson",
    "funnel_steps",
    "headline_indicators",
    "headline_statistics",
    "is_modeled",
    "natural_key",
    "read_results_tables",
    "shown_estimates",
    "wave_order",
]

RESULTS_TABLES = ("indicators", "estimates", "comparisons", "priorities", "importance_satisfaction",
                  "diagnostics", "runs", "benchmarks", "drivers", "comment_themes", "comment_feed",
                  "comment_cells")
REQUIRED_TABLES = ("indicators", "estimates")
LEVEL_ORDER = ("city", "district", "neighborhood", "beat")
#: The columns naming one estimate (a direct row and its modeled row share them).
ESTIMATE_KEYS = ("wave", "area_level", "area", "group_dim", "group", "indicator", "statistic")
#: Reliabilities whose number is shown (``suppress`` is never shown).
SHOWN = ("ok", "flag")


def check_results(store_path: Path, root: Path | None = None) -> None:
    """Raise :class:`ProjectError` when the store at ``store_path`` holds no results yet.

    Raises
    ------
    ProjectError
        No store, or the ``indicators``/``estimates`` tables are missing or empty.
    StoreError
        The store cannot be opened (another program holds it, or it is not a DuckDB file).
    """
    store_path = Path(store_path)
    hint = f"run `survey-pipeline run --project {root if root is not None else store_path.parent}` first."
    if not store_path.exists():
        raise ProjectError(f"{store_path}: the project has no store, so no results to show.",
                           file=store_path, rule="no-results", fix=hint)
    try:
        con = duckdb.connect(str(store_path), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"{store_path}: cannot open the store ({exc}).", file=store_path,
                         rule="store-unreadable", fix="Close other programs writing to it and retry.") from exc
    try:
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in have]
        empty = not missing and con.execute("SELECT count(*) FROM estimates").fetchone()[0] == 0
    finally:
        con.close()
    if missing or empty:
        what = f"tables {', '.join(missing)} are missing" if missing else "table estimates is empty"
        raise ProjectError(f"{store_path}: the project has no results yet ({what}).",
                           file=store_path, rule="no-results", fix=hint)


def read_results_tables(store_path: Path, tables: tuple[str, ...] = RESULTS_TABLES,
                        where: dict[str, str] | None = None, *, modeled: bool = False) -> dict[str, pd.DataFrame]:
    """The results tables of the store as DataFrames (an empty frame for a table the store lacks).

    The store is opened read-only and closed at once. Area codes (``area``, ``area_ref``) are
    plain Python strings. ``where`` maps a table to an SQL condition on its rows (the caller's
    constant, never user input), so a reader takes only the rows it shows. ``modeled``: keep
    the modeled (small-area) rows of ``estimates`` (``method`` starting with ``modeled``); by
    default only the direct rows are read, one row per estimate key.
    """
    where = dict(where or {})
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not modeled and "estimates" in tables and "estimates" in have:
            cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'estimates'").fetchall()}
            if "method" in cols:
                direct = "(method IS NULL OR method NOT LIKE 'modeled%')"
                where["estimates"] = f"({where['estimates']}) AND {direct}" if "estimates" in where else direct
        with warnings.catch_warnings():
            # duckdb's DataFrame conversion calls a pandas API that pandas 3.1 deprecates
            warnings.filterwarnings("ignore", message="The inplace keyword", category=Warning)
            out = {t: (con.execute(f'SELECT * FROM "{t}"' + (f" WHERE {where[t]}" if t in where else "")).df()
                       if t in have else pd.DataFrame()) for t in tables}
    finally:
        con.close()
    for t in ("estimates", "comparisons", "priorities", "importance_satisfaction", "diagnostics", "drivers"):
        df = out.get(t)
        if df is None:
            continue
        for col in ("area", "area_ref"):
            if col in df.columns:
                df[col] = df[col].astype("string").astype(object)
    return out


def is_modeled(estimates: pd.DataFrame) -> pd.Series:
    """True for the modeled (small-area) rows of ``estimates``: ``method`` starts with ``modeled``."""
    if "method" not in estimates.columns:
        return pd.Series(False, index=estimates.index)
    return estimates["method"].astype(object).map(lambda m: isinstance(m, str) and m.startswith("modeled")).astype(bool)


def shown_estimates(estimates: pd.DataFrame) -> pd.DataFrame:
    """One row per estimate: the number a reader is shown, and the column ``modeled`` saying where it comes from.

    ``estimates``: direct rows and modeled rows (``method`` starting with ``modeled``) of the
    ``estimates`` table, in any mix. For each estimate key (:data:`ESTIMATE_KEYS`):

    * the direct row when it is reliable (``ok`` or ``flag``);
    * else the modeled row when there is one and it is reliable;
    * else the direct row (suppressed, with its own reason);
    * else (no direct row at all) the modeled row, reliable or not.

    A modeled row that is itself ``suppress`` is shown only where no direct row exists, and it is
    still suppressed (no number). Direct rows keep their order; a modeled row takes the place of
    the direct row it replaces, modeled rows without a direct row come last. ``modeled`` is True
    for the rows taken from the model.
    """
    mod = is_modeled(estimates).to_numpy()
    direct, model = estimates[~mod], estimates[mod]
    keys = [k for k in ESTIMATE_KEYS if k in estimates.columns]
    if model.empty:
        return direct.assign(modeled=False)

    def key_index(df: pd.DataFrame) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays([df[k].astype(object).where(df[k].notna(), "").astype(str) for k in keys])

    d_idx, m_idx = key_index(direct), key_index(model)
    d_ok = direct["reliability"].isin(SHOWN).to_numpy()
    m_ok = model["reliability"].isin(SHOWN).to_numpy()
    d_pos = pd.Series(np.arange(len(direct)), index=d_idx)
    d_pos = d_pos[~d_pos.index.duplicated()]
    at = d_pos.reindex(m_idx).to_numpy()  # the direct row of each modeled row (NaN: none)
    has_direct = ~np.isnan(at)
    direct_ok = np.zeros(len(model), dtype=bool)
    direct_ok[has_direct] = d_ok[at[has_direct].astype(int)]
    take = (~has_direct) | (m_ok & ~direct_ok)
    replaced = np.zeros(len(direct), dtype=bool)
    replaced[at[take & has_direct].astype(int)] = True
    order = np.concatenate([np.flatnonzero(~replaced).astype(float),
                            np.where(has_direct[take], at[take], len(direct) + np.arange(take.sum()))])
    out = pd.concat([direct[~replaced].assign(modeled=False), model[take].assign(modeled=True)])
    return out.iloc[np.argsort(order, kind="stable")]


def find_areas_geojson(root: Path, project: Any = None) -> Path | None:
    """The project's areas GeoJSON: the project's areas file or survey.toml ``[areas]`` entry when it
    is a .geojson, else ``areas.geojson`` in the project folder; None when there is none."""
    for c in _areas_candidates(root, project):
        if c.suffix.lower() in (".geojson", ".json") and c.exists():
            return c
    return None


def find_areas_file(root: Path, project: Any = None) -> Path | None:
    """The project's areas file (CSV or GeoJSON): the project's areas file or survey.toml ``[areas]``
    entry, else ``areas.geojson`` in the project folder; None when there is none."""
    for c in _areas_candidates(root, project):
        if c.suffix.lower() in (".geojson", ".json", ".csv", ".tsv", ".txt") and c.exists():
            return c
    return None


def district_names(root: Path, project: Any = None) -> dict[str, dict[str, str]]:
    """``{lang: {district code: name}}`` from the ``district_label`` (and ``district_label_<lang>``)
    columns of the project's areas file (``"_"``: the plain name); empty when the file has none.

    The names only decorate: a file the areas reader refuses (the analysis reports its problems)
    names no district here, and districts are then named from their codes.
    """
    from survey_pipeline.errors import SurveyPipelineError
    from survey_pipeline.instrument.areas import read_areas

    path = find_areas_file(root, project)
    if path is None:
        return {}
    try:
        areas = read_areas(path, codes="optional")
    except (SurveyPipelineError, OSError, ValueError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for a in areas.items:
        for lang, name in (a.district_label or {}).items():
            if a.district:
                out.setdefault(lang, {}).setdefault(a.district, name)
    return out


def _areas_candidates(root: Path, project: Any = None) -> list[Path]:
    root = Path(root)
    candidates: list[Path] = []
    areas_file = getattr(project, "areas_file", None)
    if areas_file:
        candidates.append(Path(areas_file))
    toml = root / "survey.toml"
    if toml.exists():
        try:
            conf = tomllib.loads(toml.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError):
            conf = {}
        areas = conf.get("areas")
        if isinstance(areas, str):
            candidates.append(root / areas)
        elif isinstance(areas, dict):
            for key in ("file", "geojson", "shapes"):
                if isinstance(areas.get(key), str):
                    candidates.append(root / areas[key])
    candidates.append(root / "areas.geojson")
    return candidates


def district_area_names(names: dict[str, dict[str, str]], lang: str | None = None) -> dict[tuple[str, str], str]:
    """``{("district", code): name}`` in ``lang`` (else the plain name) from :func:`district_names`."""
    out = {("district", c): n for c, n in names.get("_", {}).items()}
    if lang:
        out.update({("district", c): n for c, n in names.get(lang, {}).items()})
    return out


def area_names_from_geojson(geojson: dict | None, lang: str | None = None) -> dict[tuple[str, str], str]:
    """``{(level, code): name}`` for the neighborhoods of an areas GeoJSON (keyed by code, slug and name).

    With ``lang``, a feature's ``label_<lang>`` property names it when present (else ``name``).
    """
    names: dict[tuple[str, str], str] = {}
    for f in (geojson or {}).get("features", []):
        props = f.get("properties") or {}
        local = props.get(f"label_{lang}") if lang else None
        name = local or props.get("name") or props.get("label")
        for key in ("code", "slug", "name"):
            if props.get(key) is not None and name:
                names[("neighborhood", str(props[key]))] = str(name)
        for key in ("name", "label"):
            if props.get(key) and name:
                names[("neighborhood", "_".join(str(props[key]).lower().split()))] = str(name)
    return names


def natural_key(code: object) -> tuple:
    """Sort key putting numeric codes in number order before other codes."""
    s = str(code)
    return (0, int(s), s) if s.isdigit() else (1, 0, s)


def headline_indicators(indicators: pd.DataFrame) -> list[str]:
    """Satisfaction with police, feeling safe at night, trust: the first indicator found for each.

    Trust prefers an index (a trust-topic index, then a scale index named for trust) over a single
    trust item.
    """
    ids_ = list(dict.fromkeys(indicators["indicator"].tolist()))
    topic = dict(zip(indicators["indicator"], indicators["topic"], strict=False))

    def first(preds):
        for p in preds:
            for i in ids_:
                if p(i):
                    return i
        return None

    picks = [
        first([lambda i: i == "sat_police_overall", lambda i: i.startswith("sat_police"),
               lambda i: topic[i] == "satisfaction"]),
        first([lambda i: i == "safe_night", lambda i: "night" in i and ("nbhd" in i or "neighborhood" in i),
               lambda i: "night" in i and topic[i] == "safety", lambda i: topic[i] == "safety"]),
        first([lambda i: i.startswith("index") and "trust" in i, lambda i: topic[i] == "trust" and i.startswith("index"),
               lambda i: topic[i] == "trust", lambda i: "trust" in i]),
    ]
    return [p for p in dict.fromkeys(picks) if p]


def benchmark_rows(benchmarks: pd.DataFrame, wave: str, indicator: str, statistic: str) -> pd.DataFrame:
    """The benchmark rows of one indicator's statistic in ``wave`` (the ``benchmarks`` table that
    ``program run`` publishes into a member's store; empty when the project is in no program):
    the program's peers first, then outside references by source."""
    if benchmarks is None or benchmarks.empty:
        return pd.DataFrame()
    b = benchmarks[(benchmarks["wave"] == wave) & (benchmarks["indicator"] == indicator)
                   & (benchmarks["statistic"] == statistic)]
    order = b["source"].map({"program": 0}).fillna(1)
    return b.assign(_o=order).sort_values(["_o", "source_label"], kind="stable").drop(columns="_o")


def headline_statistics(indicators: pd.DataFrame) -> dict[str, str]:
    """``{indicator: statistic}``: each indicator's headline statistic (``share``, else ``score``, else ``mean``)."""
    pref = {"share": 0, "score": 1, "mean": 2}
    out: dict[str, str] = {}
    for ind, stat in zip(indicators["indicator"], indicators["statistic"], strict=True):
        if ind not in out or pref.get(stat, 9) < pref.get(out[ind], 9):
            out[ind] = stat
    return out


def wave_order(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Waves with estimates, oldest first: the order the last run recorded (``runs.waves``), else sorted ids."""
    est = tables["estimates"]
    have = sorted(est["wave"].dropna().astype(str).unique().tolist())
    runs = tables.get("runs")
    if runs is not None and not runs.empty and "waves" in runs.columns and isinstance(runs["waves"].iloc[-1], str):
        recorded = [w.strip() for w in re.split(r"[,;]", runs["waves"].iloc[-1]) if w.strip()]
        if set(have) <= set(recorded):
            return [w for w in recorded if w in have]
    return have


def funnel_steps(diagnostics: pd.DataFrame, wave: str) -> list[tuple[str, str | None, float]]:
    """The ``sample_funnel`` diagnostics of a wave as ordered steps ``(step, reason, count)``: the
    start (``start_aapor_completes`` or ``start_kept``), each ``excluded`` reason (largest first),
    ``added_partials`` and ``added_other`` when not zero, and ``analysed``; empty without them.
    The report and the dashboard word the steps in their language."""
    if diagnostics is None or diagnostics.empty:
        return []
    d = diagnostics[(diagnostics["wave"] == wave) & (diagnostics["kind"] == "sample_funnel")]
    val = dict(zip(d["metric"], d["value"].astype(float), strict=True))
    start = next((m for m in ("start_aapor_completes", "start_kept") if m in val), None)
    if start is None or "analysed" not in val:
        return []
    steps: list[tuple[str, str | None, float]] = [(start, None, val[start])]
    gone = d[d["metric"].str.startswith("excluded_")].sort_values(["value", "metric"], ascending=[False, True])
    steps += [("excluded", m[len("excluded_"):], float(v)) for m, v in zip(gone["metric"], gone["value"], strict=True)]
    steps += [(m, None, val[m]) for m in ("added_partials", "added_other") if val.get(m)]
    return [*steps, ("analysed", None, val["analysed"])]


def recorded_min_n(tables: dict[str, pd.DataFrame]) -> int:
    """The analysis' minimum respondents as its last run recorded it (``runs.settings``), 30 when
    not recorded: the small-cell rule of the comments on the dashboard and in the report."""
    runs = tables.get("runs")
    if runs is not None and not runs.empty and "settings" in runs.columns:
        try:
            got = json.loads(runs.sort_values("finished_at").iloc[-1]["settings"]).get("analysis", {}).get("min_n")
            if got is not None:
                return int(got)
        except (ValueError, TypeError, AttributeError):
            pass
    return 30
