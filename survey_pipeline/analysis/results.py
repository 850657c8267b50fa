"""Run the analysis of a project and write the results tables (``docs/results.md``) atomically.

:func:`write_results` replaces every results table in ONE transaction: a failure (or a kill)
before the commit leaves the store exactly as it was. Rows are sorted before writing, so a rerun
on the same store writes identical tables (only ``runs`` records the time). DuckDB does not
promise to return a table's rows in the order they were written (the 513,237-row ``weights``
table of the 1M benchmark reads back in another order): a reader that needs an order says
ORDER BY.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from survey_pipeline.errors import AnalysisError, StoreError
from survey_pipeline.instrument.areas import district_labels, read_areas
from survey_pipeline.project import Project, check_project, normalize_name

from ._parallel import run_named, timed_block
from .comments import (
    CELL_COLUMNS,
    CODE_TABLE_COLUMNS,
    FEED_COLUMNS,
    THEME_TABLE_COLUMNS,
    CommentData,
    cells_table,
    comment_data,
    comment_specs,
    feed_table,
    lexicon_path,
    load_lexicon,
    read_comments,
    read_reviews,
    themes_table,
)
from .comparisons import COMPARISON_COLUMNS, compare_tasks, concat_comparisons, findings
from .drivers import drivers_table
from .evaluation import did
from .indicators import (
    ESTIMATE_COLUMNS,
    estimate_tasks,
    finding_label,
    importance_satisfaction,
    indicator_specs,
    indicators_table,
    priorities_table,
    rank_tasks,
    scale_alphas,
    share_values,
)
from .prepare import derive_groups
from .settings import AnalysisSettings, WeightingSettings, from_settings
from .smallarea import area_structure, modeled_tasks, population_covariates
from .weighting import (
    DIAG_COLUMNS,
    WeightingResult,
    area_lookup,
    read_targets,
    vendor_base_weights,
    weight_waves,
)

__all__ = ["RESULT_TABLES", "AnalysisRun", "analyze_frame", "analyze_project", "weight_project", "write_results"]

RESULT_TABLES = ("indicators", "estimates", "comparisons", "priorities", "importance_satisfaction",
                 "diagnostics", "weights", "targets", "runs", "drivers", "comment_themes", "comment_codes",
                 "comment_feed", "comment_cells")

_TYPES = {
    "n": "BIGINT", "n_dont_know": "BIGINT", "rank": "BIGINT", "rank_low": "BIGINT", "rank_high": "BIGINT",
    "higher_is_better": "BOOLEAN", "significant": "BOOLEAN", "started_at": "TIMESTAMPTZ",
    "finished_at": "TIMESTAMPTZ", "respondents": "BIGINT",
}
_TEXT = {"wave", "wave_ref", "area_level", "area", "area_ref", "group_dim", "group", "indicator", "statistic",
         "topic", "variable", "department", "definition", "reliability", "reliability_reason", "method",
         "kind", "adjust", "finding", "problem", "service", "band", "metric", "detail", "response_id",
         "category", "run_id", "instrument", "instrument_version", "waves", "settings", "outcome", "driver",
         "theme", "rule", "source", "text", "themes", "language", "district", "neighborhood"}


def _sql_type(col: str, s: pd.Series) -> str:
    if col in _TYPES:
        return _TYPES[col]
    if col in _TEXT or col.startswith(("label_", "wording_")):
        return "VARCHAR"
    if pd.api.types.is_bool_dtype(s):
        return "BOOLEAN"
    if pd.api.types.is_numeric_dtype(s):
        return "DOUBLE"
    return "VARCHAR"


def write_results(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame]) -> None:
    """Replace the given results tables in one transaction (all or nothing).

    Raises
    ------
    StoreError
        When the write fails; the store is unchanged.
    """
    unknown = sorted(set(tables) - set(RESULT_TABLES))
    if unknown:
        raise StoreError(f"write_results: unknown table(s) {', '.join(unknown)}.", rule="unknown-table",
                         fix=f"Use the results tables: {', '.join(RESULT_TABLES)}.")
    con.begin()
    try:
        for name, df in tables.items():
            frame = df.reset_index(drop=True)
            cols = list(frame.columns)
            for c in cols:
                if _sql_type(c, frame[c]) == "VARCHAR":
                    col = frame[c].astype(object).where(frame[c].notna(), None)
                    if pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty"):
                        col = col.map(lambda x: x if x is None else str(x))
                    frame[c] = col
            view = f"_results_{name}"
            con.register(view, frame)
            try:
                sel = ", ".join(f'CAST("{c}" AS {_sql_type(c, frame[c])}) AS "{c}"' for c in cols)
                con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT {sel} FROM {view}').fetchall()
            finally:
                con.unregister(view)
        con.commit()
    except BaseException as exc:
        con.rollback()
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"writing the results failed ({exc}); the store is unchanged.", rule="store-write",
                             fix="Check the disk space and that no other program holds the store, then retry.") from exc
        raise


@dataclass
class AnalysisRun:
    """Everything one analysis produced (the results tables) and a short summary."""

    tables: dict[str, pd.DataFrame]
    summary: dict = field(default_factory=dict)


def _sorted(df: pd.DataFrame, keys: list[str], order: np.ndarray | None = None) -> pd.DataFrame:
    """``df`` sorted by ``keys`` (stable); ``order``: the rows' order from :func:`_sort_order`."""
    if order is not None:
        return df.iloc[order].reset_index(drop=True)
    keys = [k for k in keys if k in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys and len(df) else df.reset_index(drop=True)


def _sort_order(df: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """The positions of the rows of ``_sorted(df, keys)`` (a task: cheap to send back)."""
    return _sorted(df.reset_index(drop=True).assign(_pos=np.arange(len(df))), keys)["_pos"].to_numpy()


def analyze_frame(frame: pd.DataFrame, inst, *, targets: pd.DataFrame | None = None,
                  weighting: WeightingSettings | None = None, settings: AnalysisSettings | None = None,
                  invitations: dict | None = None, areas: pd.DataFrame | None = None,
                  waves: list[str] | None = None, wave_labels: dict[str, str] | None = None,
                  progress: Callable[[str], None] | None = None,
                  district_names: dict[str, str] | None = None,
                  comments: CommentData | None = None) -> AnalysisRun:
    """The pure analysis: wide clean frame (all waves) -> results tables.

    ``comments`` (:func:`~survey_pipeline.analysis.comments.comment_data`): the coded comments; their
    theme shares are estimated by area and wave (indicators ``comment_theme:<id>``, among the
    respondents who commented) and the tables ``comment_themes``, ``comment_codes`` and
    ``comment_feed`` are written.

    Without ``targets`` the weights are 1 (recorded in the diagnostics). ``district_names``
    (``{district code: name}``) names districts in the findings (default: the instrument's
    areas' ``district_label``, else "the <Code> district").
    """
    st = settings or AnalysisSettings()
    tick = progress or (lambda _msg: None)
    frame = derive_groups(frame, inst)
    frame["wave"] = frame["wave"].astype(str)
    waves = waves or sorted(frame["wave"].unique())
    keep = frame["wave"].isin(waves).to_numpy()
    frame = (frame if keep.all() else frame[keep]).reset_index(drop=True)
    if frame.empty:
        raise AnalysisError("No analysable responses.", rule="no-responses",
                            fix="Ingest an export (survey-pipeline ingest) before analysing.")
    for c in ("district", "neighborhood", "beat"):
        if c in frame.columns:
            frame[c] = frame[c].astype(str).astype(object).where(frame[c].notna(), None)
    amap = area_lookup(frame.get("neighborhood", []), inst, areas)
    if comments is not None:  # each theme's 0/1 per respondent who commented (NaN: no comment)
        wide = comments.themes_wide()
        wide["wave"] = wide["wave"].astype(str)
        frame = frame.merge(wide, on=["response_id", "wave"], how="left", validate="one_to_one")
    tick("weighting")
    base_var = weighting.base_weight if weighting is not None else None
    vendor_diag: list[dict] = []
    if base_var:  # the vendor's weights are the base weights (before any raking)
        vendor, vendor_diag = vendor_base_weights(frame, base_var)
        frame = frame.assign(_vendor_base=vendor)
    if targets is not None:
        wr = weight_waves(frame, targets, weighting, invitations=invitations, areas=amap,
                          base_column="_vendor_base" if base_var else None)
        if vendor_diag:
            wr.diagnostics = pd.concat([pd.DataFrame(vendor_diag, columns=DIAG_COLUMNS), wr.diagnostics],
                                       ignore_index=True)
    else:
        from survey_pipeline.stats import Design

        f2 = frame.assign(_base=frame["_vendor_base"] if base_var else 1.0)
        detail = (f"no targets file: the weights are the vendor's base weights ('{base_var}'), not raked"
                  if base_var else "no targets file: weights are 1")
        wr = WeightingResult(Design(f2, weights="_base", strata="wave", lonely_psu="adjust"),
                             pd.DataFrame({**({"response_id": f2["response_id"]} if "response_id" in f2 else {}),
                                           "wave": f2["wave"], "base_weight": f2["_base"].astype(float),
                                           "weight": f2["_base"].astype(float)}),
                             pd.DataFrame(vendor_diag + [{"wave": w, "area_level": "city", "area": "city",
                                                          "kind": "weighting",
                                                          "metric": "vendor_weights" if base_var else "unweighted",
                                                          "value": 1.0, "detail": detail} for w in waves],
                                          columns=DIAG_COLUMNS), pd.DataFrame())
    design = wr.design
    share_values(design.data)  # indicator values computed once for every estimator
    specs = indicator_specs(inst, st.top_n)
    if not specs:
        raise AnalysisError(no_indicators_message(inst), rule="no-indicators",
                            fix="Open review.xlsx in the project folder (survey-pipeline instrument review DIR writes it), "
                                "set the 'role' of the questions to analyse (satisfaction, safety, trust, problem, "
                                "importance, priority, contact) or give a scale its order and positive end, then "
                                "run survey-pipeline run --project DIR (or survey-pipeline instrument apply-review DIR).")
    tick("indicators")
    # the estimates, the priorities' bootstrap rank intervals and the scales' alphas need only the
    # design: run together, on two cores where possible (results in a fixed order, as one by one)
    est_tasks, est_rows = estimate_tasks(design, specs, st)
    rank_keys, rtasks = rank_tasks(design, specs)
    timings: dict[str, dict] = {}  # each task's own seconds, by name (summary["task_seconds"])
    got = run_named([*(("ranks", t) for t in rtasks), ("weights order", lambda: _sort_order(wr.weights, ["wave", "response_id"])),
                     ("alphas", lambda: scale_alphas(design.data, specs)), *(("estimates", t) for t in est_tasks)],
                    timings)
    ranks = dict(zip(rank_keys, got[:len(rtasks)], strict=True))
    weights_order, alphas = got[len(rtasks):len(rtasks) + 2]
    est = est_rows(got[len(rtasks) + 2:])
    tick("comparisons")
    # the comparison tables, the evaluations, the priorities and the drivers side by side
    with timed_block(timings, "contrasts (before the tasks)"):
        ctasks = compare_tasks(design, est, specs, waves, min_n=st.min_n, nchs=st.nchs, adjust=st.adjust)
    dtasks = [lambda ev=ev: did(design, specs, ev, waves, areas=amap, min_n=st.min_n, nchs=st.nchs,
                                adjust=st.adjust) for ev in st.evaluations]
    # the modeled (small-area) rows come from the direct rows, beside the comparisons; they are
    # added after them, so no comparison, finding, ranking or driver uses a modeled number
    with timed_block(timings, "small-area set-up"):
        mtasks, mfinish = _modeled_tasks(est, design, inst, amap, targets, waves) if st.small_area else ([], None)
    # the longest tasks first (they are taken in list order): the two processes end together
    got = run_named([("drivers", lambda: drivers_table(design, specs, inst, est, waves, adjust=st.adjust)),
                     *(("small-area", t) for t in mtasks), *(("comparisons", t) for t in ctasks),
                     *(("did", t) for t in dtasks),
                     ("priorities", lambda: priorities_table(est, specs, inst, design, ranks=ranks)),
                     ("importance", lambda: importance_satisfaction(est, specs, inst))], timings)
    drv, got = got[0], got[1:]
    modeled, sae_diag = mfinish(got[:len(mtasks)]) if mfinish else (None, None)
    got = got[len(mtasks):]
    comp = concat_comparisons(got[:len(ctasks)])
    for d in got[len(ctasks):len(ctasks) + len(dtasks)]:
        if not d.empty:
            comp = pd.concat([comp, d], ignore_index=True)
    pri, iss = got[-2:]
    labels = {s.indicator: finding_label(s, inst.language) for s in specs if s.topic != "contact"}
    names = {}
    for a in inst.areas.items:
        for alias in (str(a.code), a.name, *a.label.values()):
            v = amap.get(normalize_name(alias))
            if v is not None:
                names[v] = a.label.get(inst.language, a.name)
    if district_names is None:
        district_names = district_labels(inst.areas, inst.language)
    with timed_block(timings, "findings"):
        comp = findings(comp, labels, names, wave_labels, st.findings, district_names=district_names)
    tick("priorities")
    diag = pd.concat([wr.diagnostics, alphas], ignore_index=True)
    rel = est.groupby(["wave", "reliability"]).size().reset_index(name="value")
    diag = pd.concat([diag, pd.DataFrame({"wave": rel["wave"], "area_level": "city", "area": "city",
                                          "kind": "reliability_rule", "metric": "estimates_" + rel["reliability"],
                                          "value": rel["value"].astype(float), "detail": None})], ignore_index=True)
    if modeled is not None:
        mrel = modeled.groupby(["wave", "reliability"]).size().reset_index(name="value")
        diag = pd.concat([diag, sae_diag, pd.DataFrame({
            "wave": mrel["wave"], "area_level": "city", "area": "city", "kind": "reliability_rule",
            "metric": "modeled_" + mrel["reliability"], "value": mrel["value"].astype(float), "detail": None})],
            ignore_index=True)
    comment_tables = {"comment_themes": pd.DataFrame(columns=THEME_TABLE_COLUMNS),
                      "comment_codes": pd.DataFrame(columns=CODE_TABLE_COLUMNS),
                      "comment_feed": pd.DataFrame(columns=FEED_COLUMNS),
                      "comment_cells": pd.DataFrame(columns=CELL_COLUMNS)}
    if comments is not None:
        # theme shares by area and wave (no demographic groups), after the reliability counts above so
        # that those stay the counts of the questionnaire's indicators; never compared or modeled
        tick("comments")
        cspecs = comment_specs(comments.lexicon, inst.languages)
        clevels = [lv for lv in ("city", "district", "neighborhood") if lv == "city" or lv in design.data.columns]
        ctasks_, crows = estimate_tasks(design, cspecs, st, levels=clevels, groups=())
        est = pd.concat([est, crows(run_named([("comment estimates", t) for t in ctasks_], timings))],
                        ignore_index=True)
        comment_tables = {"comment_themes": themes_table(comments.lexicon),
                          "comment_codes": _sorted(comments.codes[CODE_TABLE_COLUMNS],
                                                   ["wave", "response_id", "variable", "theme"]),
                          "comment_feed": feed_table(comments, design.data, st.min_n),
                          "comment_cells": cells_table(design.data, comments.lexicon)}
    if modeled is not None and len(modeled):  # (an empty frame's object columns would turn numbers to text)
        est = pd.concat([est, modeled], ignore_index=True).sort_values(
            ["indicator", "statistic", "wave", "area_level", "area", "group_dim", "group", "method"],
            kind="stable").reset_index(drop=True)
    tu = wr.targets_used
    tables = {
        "indicators": indicators_table(specs, inst),  # questionnaire order (deterministic)
        "estimates": est[ESTIMATE_COLUMNS],
        "comparisons": _sorted(comp[COMPARISON_COLUMNS], ["kind", "indicator", "statistic", "wave", "wave_ref",
                                                          "area_level", "area", "area_ref", "group_dim", "group"]),
        "priorities": pri,
        "importance_satisfaction": iss,
        "drivers": drv,  # already in (outcome, wave, area) order
        "diagnostics": _sorted(diag[DIAG_COLUMNS], ["wave", "kind", "metric", "area_level", "area", "detail"]),
        "weights": _sorted(wr.weights, ["wave", "response_id"], weights_order),
        "targets": _sorted(tu, ["wave", "variable", "category"]) if len(tu) else
        pd.DataFrame(columns=["wave", "variable", "category", "population"]),
        **comment_tables,
    }
    direct = ~est["method"].str.startswith("modeled")
    summary = {"waves": waves, "responses": len(design.data), "indicators": int(tables["indicators"]["indicator"].nunique()),
               "estimates": int(direct.sum()), "suppressed": int((direct & (est["reliability"] == "suppress")).sum()),
               "modeled": int((~direct).sum()),
               "modeled_suppressed": int((~direct & (est["reliability"] == "suppress")).sum()),
               "comparisons": len(comp), "findings": _findings_first_for_all(comp), "task_seconds": timings}
    return AnalysisRun(tables, summary)


def _modeled_tasks(est: pd.DataFrame, design, inst, amap: dict, targets: pd.DataFrame | None, waves: list[str]):
    """The tasks of the modeled (Fay–Herriot) rows of neighborhoods and beats and the function that
    makes the rows and their diagnostics (:func:`~survey_pipeline.analysis.smallarea.modeled_tasks`)."""
    structure = area_structure(design.data, inst, amap)
    nbs = structure.loc[structure["area_level"] == "neighborhood", "area"].astype(str).tolist()
    pop, shares = population_covariates(targets, amap, waves, nbs)
    return modeled_tasks(est, structure, pop, shares, waves)


def no_indicators_message(inst) -> str:
    """Why an instrument gives no indicator: what it holds, and what the analysis keys on."""
    from collections import Counter

    qs = inst.questions()
    roles = Counter((q.role.value if q.role else "none") for q in qs)
    types = Counter(q.type for q in qs)
    return (f"instrument '{inst.id}': nothing to analyse. The analysis estimates ordered scales (mean, share "
            f"positive) and questions with an analysis role; this instrument has {len(qs)} question(s) "
            f"(types: {', '.join(f'{k} {n}' for k, n in sorted(types.items()))}; roles: "
            f"{', '.join(f'{k} {n}' for k, n in sorted(roles.items()))}) and {len(inst.scales)} scale(s), "
            "none of which gives an indicator.")


def _findings_first_for_all(comp: pd.DataFrame) -> list[str]:
    """The finding sentences, those for all residents (changes, evaluations) before a group's, so a
    summary that prints the first few leads with what concerns everyone."""
    f = comp[comp["finding"].notna()]
    every = f["group_dim"].eq("all")
    return f.loc[every, "finding"].tolist() + f.loc[~every, "finding"].tolist()


def _project_inputs(project: Project):
    from survey_pipeline.store import Store

    inst = project.instrument_model
    wsettings, asettings = from_settings(project.settings)
    if not project.store_path.exists():
        raise StoreError(f"{project.store_path}: no store yet.", file=project.store_path, rule="no-store",
                         fix="Ingest an export first: survey-pipeline ingest EXPORT --project DIR --wave ID")
    Store.upgrade(project.store_path)  # a store of an earlier layout is brought up to date first
    with Store(project.store_path, read_only=True) as store:
        wv = store.query("SELECT wave, label FROM waves ORDER BY start_date NULLS LAST, wave")
        waves = wv["wave"].astype(str).tolist()
        if not waves:
            raise AnalysisError(f"{project.store_path}: the store holds no waves.", rule="no-waves",
                                fix="Ingest an export first: survey-pipeline ingest EXPORT --project DIR --wave ID")
        # every wave, one below the other; the missing kinds as categoricals (1 byte a cell)
        frame = store.read_clean_waves(waves, missing_as="category")
        # the matched area codes are the response columns area_<level>; a geography
        # question may hold the raw answer under the level's own name: the match wins
        levels = [c for c in ("district", "neighborhood", "beat") if f"area_{c}" in frame.columns]
        frame = frame.drop(columns=[c for c in levels if c in frame.columns]
                           + [f"{c}__missing" for c in levels if f"{c}__missing" in frame.columns])
        frame = frame.rename(columns={f"area_{c}": c for c in levels})
        rates = response_rates(project, store, waves)
        funnel = sample_funnel(project, store, waves)
        if len(funnel):
            rates = pd.concat([rates, funnel], ignore_index=True) if len(rates) else funnel
    labels = {w: project.waves[w].label if w in project.waves else lab for w, lab in zip(wv["wave"], wv["label"], strict=True)}
    targets = read_targets(project.targets_file) if project.targets_file is not None else None
    inv = {(w.id, a): float(n) for w in project.waves.values() for a, n in w.invitations.items()}
    areas = _area_aliases(project)
    return inst, wsettings, asettings, waves, labels, frame, targets, inv, areas, rates


def project_comments(project: Project, waves: list[str], frame: pd.DataFrame) -> CommentData | None:
    """The project's comments coded with its lexicon (its own ``comment_themes.yaml``, else the
    bundled one) and its stored corrections; None when the waves hold no comment."""
    from survey_pipeline.store import Store

    with Store(project.store_path, read_only=True) as store:
        texts = read_comments(store, waves)
        reviews = read_reviews(store)
    if texts.empty:
        return None
    lexicon = load_lexicon(lexicon_path(project.root))
    texts["wave"] = texts["wave"].astype(str)
    return comment_data(texts, reviews, lexicon, keep=frame[["response_id", "wave"]].astype({"wave": str}))


def _district_names(project: Project, lang: str) -> dict[str, str]:
    """``{district code: name}`` from the project's areas file (its ``district_label`` column,
    in ``lang`` when given), else from the instrument's areas."""
    if project.areas_file is None:
        return district_labels(project.instrument_model.areas, lang)
    return district_labels(read_areas(project.areas_file, codes="optional"), lang)


def _area_aliases(project: Project) -> pd.DataFrame | None:
    """Every column of the areas file that names an area (code, name, slug, label ...), so that
    targets and evaluations may use codes while the store holds names (or the reverse)."""
    if project.areas_file is None:
        return None
    path = project.areas_file
    try:
        if path.suffix.lower() in (".geojson", ".json"):
            raw = pd.DataFrame([f.get("properties", {}) for f in json.loads(path.read_text(encoding="utf-8"))
                                .get("features", [])])
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError):
        return project.areas.table if project.areas is not None else None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    keep = [c for c in raw.columns if c in ("code", "name", "slug", "neighborhood", "neighbourhood", "label")
            or c.startswith("label_")]
    return raw[keep].astype(str) if keep else None


_NOT_CASES = ["flag_preview", "flag_test", "flag_bot", "flag_duplicate_id", "flag_duplicate_contact",
               "flag_duplicate_answers"]


def sample_funnel(project: Project, store, waves: list[str]) -> pd.DataFrame:
    """Diagnostics rows (kind ``sample_funnel``, citywide) that connect the completes a response
    rate counts to the responses analysed.

    With invitations recorded, the start is the AAPOR complete interviews (``start_aapor_completes``:
    disposition complete, not a test, preview, bot or duplicate, in an invited area: the ``I`` of
    :func:`~survey_pipeline.ingest.quality.aapor_rates`); without, every kept response
    (``start_kept``). Then ``excluded_<reason>``: those of the start excluded by the quality rules,
    each under its first reason; ``added_partials`` and ``added_other``: responses analysed that
    the start does not count (partial interviews; completes outside the invited areas); and
    ``analysed``: the responses the analysis reads. ``start - sum(excluded) + sum(added) ==
    analysed``, always.
    """
    rows = []
    # the responses counted once per distinct combination of what the funnel reads (a few
    # hundred groups, not a row per response), in the order their first response is stored
    groups = _response_groups(store, waves, ["area_neighborhood", "disposition", "excluded", "exclusion_reasons",
                                             *_NOT_CASES])
    for w in waves:
        resp = groups.get(w)
        if resp is None:
            continue
        n = resp["n"].to_numpy(dtype=np.int64)
        wave = project.waves.get(w)
        excluded = resp["excluded"].fillna(False).astype(bool).to_numpy()
        if wave is not None and wave.invitations:
            invited = {str(a).casefold() for a in wave.invitations}
            case = ~resp[_NOT_CASES].fillna(False).astype(bool).any(axis=1).to_numpy()
            fac, uniq = pd.factorize(resp["area_neighborhood"].to_numpy(dtype=object))  # string work per area
            in_area = np.array([str(u).casefold() in invited for u in uniq] + [False], dtype=bool)[fac]
            start = (resp["disposition"] == "complete").to_numpy() & case & in_area
            first = ("start_aapor_completes", "AAPOR 2023 complete interviews (I) of the invited areas")
        else:
            start = np.ones(len(resp), bool)
            first = ("start_kept", "every response kept by ingest")
        fac, uniq = pd.factorize(resp["exclusion_reasons"].fillna("").astype(str).to_numpy(dtype=object))
        reasons = np.array([u.split(",")[0].strip() for u in uniq] + [""], dtype=object)[fac]
        out = [(first[0], int(n[start].sum()), first[1])]
        # a response per row again for the count, so that equal counts keep the order of first sight
        gone = start & excluded
        gone = pd.Series(np.repeat(reasons[gone], n[gone])).replace("", "unspecified").value_counts()
        out += [(f"excluded_{r}", int(k), r) for r, k in gone.items()]
        added = ~start & ~excluded
        partial = (resp["disposition"] == "partial").to_numpy()
        out += [("added_partials", int(n[added & partial].sum()), "partial interviews analysed"),
                ("added_other", int(n[added & ~partial].sum()), "responses analysed that the start does not count")]
        out.append(("analysed", int(n[~excluded].sum()), "responses the analysis reads (not excluded)"))
        rows += [{"wave": w, "area_level": "city", "area": "city", "kind": "sample_funnel", "metric": m,
                  "value": float(v), "detail": d} for m, v, d in out]
    return pd.DataFrame(rows, columns=DIAG_COLUMNS)


def _response_groups(store, waves: list[str], columns: list[str]) -> dict[str, pd.DataFrame]:
    """``{wave: frame}`` of the waves' kept responses counted per distinct value of ``columns``
    (``n``), in the order of each group's first response in the store (one query for all waves)."""
    cols = ", ".join(columns)
    got = store.query(f"SELECT wave, {cols}, count(*) AS n, min(rowid) AS first_row FROM responses "
                      f"WHERE list_contains(?, wave) GROUP BY wave, {cols} ORDER BY first_row", [list(waves)])
    return {w: g.reset_index(drop=True) for w, g in got.groupby("wave", sort=False)}


def response_rates(project: Project, store, waves: list[str]) -> pd.DataFrame:
    """Diagnostics rows (kind ``response_rate``): AAPOR RR1, RR3, COOP1 per wave and area.

    Uses :func:`survey_pipeline.ingest.quality.aapor_rates` on every kept response of the wave
    (excluded or not) for waves whose invitations are recorded in ``survey.toml``.
    """
    from survey_pipeline.ingest.quality import AAPOR_COLUMNS, aapor_rates

    rows = []
    rated = [w for w in waves if w in project.waves and project.waves[w].invitations]
    groups = _response_groups(store, rated, list(AAPOR_COLUMNS)) if rated else {}
    empty = pd.DataFrame({**{c: pd.Series(dtype=object) for c in AAPOR_COLUMNS}, "n": pd.Series(dtype=np.int64)})
    for w in waves:
        wave = project.waves.get(w)
        if wave is None or not wave.invitations:
            continue
        # only the columns the rates count (every kept response, excluded or not), read as
        # counts per distinct row and repeated (the rates count rows, in any order)
        resp = groups.get(w, empty)
        resp = resp.loc[resp.index.repeat(resp["n"]), list(AAPOR_COLUMNS)].reset_index(drop=True)
        r = aapor_rates(resp, wave.invitations, e=wave.eligibility_rate)
        for rec in r.itertuples():
            city = rec.area == "all"
            for metric in ("RR1", "RR3", "COOP1"):
                rows.append({"wave": w, "area_level": "city" if city else "neighborhood",
                             "area": "city" if city else str(rec.area), "kind": "response_rate",
                             "metric": metric, "value": float(getattr(rec, metric)),
                             "detail": f"AAPOR 2023; invited {rec.invited}, completes {rec.I}"})
    return pd.DataFrame(rows, columns=DIAG_COLUMNS)


def analyze_project(root: str | Path, progress: Callable[[str], None] | None = None, *,
                    jobs: int | None = None) -> AnalysisRun:
    """``survey-pipeline analyze``: read the store, weight, analyse, write every results table at once.

    ``jobs``: processes the analysis uses (:func:`~survey_pipeline.analysis._parallel.workers`;
    1: this process only); the results do not depend on it.
    """
    from ._parallel import check_jobs, using

    if jobs is not None:
        check_jobs(jobs)  # before any work: a bad --jobs is the first thing said
    with using(jobs):
        return _analyze_project(root, progress)


def _analyze_project(root: str | Path, progress: Callable[[str], None] | None) -> AnalysisRun:
    from survey_pipeline.store import Store

    project = check_project(root)
    started = pd.Timestamp.now(tz="UTC")
    inst, ws, st, waves, labels, frame, targets, inv, areas, rates = _project_inputs(project)
    comments = project_comments(project, waves, frame)
    run = analyze_frame(frame, inst, targets=targets, weighting=ws, settings=st, invitations=inv or None,
                        areas=areas, waves=waves, wave_labels=labels, progress=progress,
                        district_names=_district_names(project, inst.language), comments=comments)
    if len(rates):
        run.tables["diagnostics"] = _sorted(pd.concat([run.tables["diagnostics"], rates], ignore_index=True),
                                            ["wave", "kind", "metric", "area_level", "area", "detail"])
    settings = {"weighting": {k: (list(v) if isinstance(v, tuple) else v) for k, v in ws.__dict__.items()},
                "analysis": {k: (list(v) if isinstance(v, tuple) else v) for k, v in st.__dict__.items()
                             if k != "evaluations"},
                "evaluations": [e.__dict__ for e in st.evaluations]}
    run.tables["runs"] = pd.DataFrame([{
        "run_id": started.strftime("%Y%m%dT%H%M%S%fZ"), "started_at": started,
        "finished_at": pd.Timestamp.now(tz="UTC"), "instrument": inst.id, "instrument_version": inst.version,
        "waves": ",".join(waves), "settings": json.dumps(settings, default=str, sort_keys=True)}])
    if progress:
        progress("writing")
    with Store(project.store_path) as store:
        write_results(store.con, run.tables)
    return run


def weight_project(root: str | Path) -> WeightingResult:
    """``survey-pipeline weight``: weights, targets used and weighting diagnostics to the store."""
    from survey_pipeline.store import Store

    project = check_project(root)
    inst, ws, _st, _waves, _labels, frame, targets, inv, areas, _rates = _project_inputs(project)
    if targets is None:
        raise AnalysisError(f"{project.toml_path}: no targets file.", file=project.toml_path, rule="no-targets",
                            fix='Add [targets] file = "targets.csv" (wave,area,variable,category,population).')
    frame = derive_groups(frame, inst)
    for c in ("district", "neighborhood", "beat"):
        if c in frame.columns:
            frame[c] = frame[c].astype(str).astype(object).where(frame[c].notna(), None)
    amap = area_lookup(frame["neighborhood"], inst, areas)
    base_col = None
    if ws.base_weight:
        vendor, vendor_diag = vendor_base_weights(frame, ws.base_weight)
        frame, base_col = frame.assign(_vendor_base=vendor), "_vendor_base"
    wr = weight_waves(frame, targets, ws, invitations=inv or None, areas=amap, base_column=base_col)
    if base_col:
        wr.diagnostics = pd.concat([pd.DataFrame(vendor_diag, columns=DIAG_COLUMNS), wr.diagnostics],
                                   ignore_index=True)
    with Store(project.store_path) as store:
        write_results(store.con, {"weights": _sorted(wr.weights, ["wave", "response_id"]),
                                  "targets": _sorted(wr.targets_used, ["wave", "variable", "category"]),
                                  "diagnostics": _sorted(wr.diagnostics, ["wave", "kind", "metric", "area_level", "area"])})
    return wr
