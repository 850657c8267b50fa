"""Weights per wave: base weights from the sample design, raking to census margins, trimming.

Targets come from a long CSV an analyst builds from census tables::

    wave,area,variable,category,population
    2026-spring,city,age_group,age_18_24,8120
    all,city,race_ethnicity,hispanic,15200      # "all": every wave (a wave's own row wins)
    2026-spring,city,neighborhood,1,9511        # neighborhood margin (code, name or label)

Per wave: base weight = area population / invitations to the area when invitations are recorded
(an address-based sample), else 1; then bounded raking (``stats.Design.rake``) to the city
margins of every target variable; then trimming at ``trim`` x the wave's mean weight (within the wave). All waves are
raked in one :class:`~survey_pipeline.stats.Design` with ``strata = wave`` and joint
``(wave, variable)`` margins, which is the same as raking each wave alone, so that variances of
every later estimate reflect the raking (Deville & Särndal 1992; Lumley 2010, sec. 7.4).

Data problems are repaired and recorded, never silently: answers without a target category go
to ``other`` (or are imputed), missing answers are imputed with the wave's most common category
(weighted by base weight), and target cells without respondents in a wave are collapsed into the
next category of the margin (as are cells with fewer than ``min_cell``
respondents, which could not be weighted up within the bounds). Every repair is a row of the diagnostics.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline.errors import WeightingError
from survey_pipeline.files import DEFAULT_MAX_FILE_MB, read_text_bounded
from survey_pipeline.project import normalize_name
from survey_pipeline.stats import Design, StatsError, weight_diagnostics

from .settings import WeightingSettings

__all__ = ["TARGET_COLUMNS", "WeightingResult", "area_lookup", "read_targets", "vendor_base_weights", "wave_targets",
           "weight_waves"]

TARGET_COLUMNS = ("wave", "area", "variable", "category", "population")
DIAG_COLUMNS = ["wave", "area_level", "area", "kind", "metric", "value", "detail"]


def read_targets(path: str | Path, *, max_mb: float = DEFAULT_MAX_FILE_MB) -> pd.DataFrame:
    """Read and check a long targets CSV; every problem is reported at once.

    The file must be a regular UTF-8 file of at most ``max_mb`` MB (an empty, UTF-16, Windows-1252
    or NUL-filled file, a directory or a device is refused with the reason; the read is bounded)."""
    path = Path(path)
    if not path.exists():
        raise WeightingError(f"{path}: targets file not found.", file=path, rule="missing-targets",
                             fix="Set [targets] file = \"targets.csv\" in survey.toml to an existing CSV.")
    text = read_text_bounded(path, max_mb=max_mb, what="the targets file", error=WeightingError)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise WeightingError(f"{path}: the targets file is not a readable CSV ({str(exc).strip()}).", file=path,
                             rule="targets-unreadable",
                             fix="Save it as a UTF-8 CSV with the header: wave,area,variable,category,population") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise WeightingError(f"{path}: missing column(s) {', '.join(missing)} (found {', '.join(df.columns)}).",
                             file=path, rule="targets-columns",
                             fix="Use the header: wave,area,variable,category,population")
    pop = pd.to_numeric(df["population"], errors="coerce")
    bad = np.flatnonzero(pop.isna().to_numpy() | (pop < 0).to_numpy())
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:10])
        raise WeightingError(f"{path}: population is not a number >= 0 in row(s) {rows}.", file=path,
                             rule="targets-population", fix="Write whole numbers of people, e.g. 8120.")
    out = df[list(TARGET_COLUMNS)].copy()
    for c in ("wave", "area", "variable", "category"):
        out[c] = out[c].str.strip()
    out["population"] = pop.astype(float)
    dup = out.duplicated(["wave", "area", "variable", "category"], keep=False)
    if dup.any():
        r = out[dup].iloc[0]
        raise WeightingError(f"{path}: target {r['wave']}/{r['area']}/{r['variable']}/{r['category']} is given twice.",
                             file=path, rule="targets-duplicate", fix="Keep one row per wave, area, variable and category.")
    return out


def wave_targets(targets: pd.DataFrame, wave: str, area: str = "city") -> dict[str, dict[str, float]]:
    """City (or one area's) margins for a wave: ``{variable: {category: population}}``.

    Rows of the wave win over rows with ``wave = all`` for the same variable; the category order
    of the file is kept (it is the order used to collapse empty cells).
    """
    t = targets[(targets["area"] == area) & targets["wave"].isin([wave, "all"])]
    out: dict[str, dict[str, float]] = {}
    for var, g in t.groupby("variable", sort=False):
        own = g[g["wave"] == wave]
        g = own if len(own) else g
        out[str(var)] = dict(zip(g["category"], g["population"], strict=True))
    return out


def area_lookup(values, inst=None, areas: pd.DataFrame | None = None) -> dict[str, str]:
    """Map the ways a target file may name an area (code, name, label) to the data's values.

    ``values`` are the area values of the responses (e.g. ``Downtown`` or ``"1"``); ``inst``'s
    area items and an areas table (columns such as code, name, slug) add their aliases.
    """
    ser = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    vals = [str(v) for v in pd.unique(ser.dropna())]
    norm = {normalize_name(v): v for v in vals}
    out = {normalize_name(v): v for v in vals}
    alias_sets: list[list[str]] = []
    if inst is not None:
        for a in inst.areas.items:
            alias_sets.append([str(a.code), a.name, *a.label.values()])
    if areas is not None:
        cols = [c for c in areas.columns if c in ("code", "name", "slug", "neighborhood", "neighbourhood", "label")
                or str(c).startswith("label_")]
        for _, r in areas[cols].astype(str).iterrows():
            alias_sets.append(list(r.values))
    for aliases in alias_sets:
        hit = next((norm[normalize_name(a)] for a in aliases if normalize_name(a) in norm), None)
        if hit is not None:
            for a in aliases:
                out.setdefault(normalize_name(a), hit)
    return out


@dataclass
class WeightingResult:
    """Raked design and its record.

    Attributes
    ----------
    design : Design
        All waves, ``strata = wave``, raked and trimmed; ``design.data`` is the input frame plus
        ``_base`` (base weight) and ``_m_<variable>`` (the weighting cell of each margin).
    weights : DataFrame
        ``response_id`` (when the frame has it), ``wave``, ``base_weight``, ``weight``.
    diagnostics : DataFrame
        Rows of the ``diagnostics`` results table (kind ``sample`` and ``weighting``).
    targets_used : DataFrame
        The margins raked to, after collapsing: wave, variable, category, population.
    """

    design: Design
    weights: pd.DataFrame
    diagnostics: pd.DataFrame
    targets_used: pd.DataFrame


def _collapse(order: list[str], pops: dict[str, float], present: set[str]) -> dict[str, str]:
    """Merge target cells with too few respondents into the next (or previous) category."""
    groups = [[c] for c in order]
    changed = True
    while changed:
        changed = False
        for i, g in enumerate(groups):
            if not any(c in present for c in g) and len(groups) > 1:
                j = i + 1 if i + 1 < len(groups) else i - 1
                groups[j] = g + groups[j] if j > i else groups[j] + g
                del groups[i]
                changed = True
                break
    return {c: "+".join(g) for g in groups for c in g}


def weight_waves(
    frame: pd.DataFrame,
    targets: pd.DataFrame,
    settings: WeightingSettings | None = None,
    *,
    invitations: Mapping[tuple[str, str], float] | None = None,
    areas: Mapping[str, str] | None = None,
    base_column: str | None = None,
) -> WeightingResult:
    """Weight every wave of ``frame`` to its targets (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        Wide clean frame with ``wave``, ``neighborhood`` and the target variables as category
        names (see :func:`~survey_pipeline.analysis.prepare.derive_groups`).
    targets : DataFrame
        Long targets (:func:`read_targets`).
    settings : WeightingSettings
    invitations : mapping, optional
        ``{(wave, area): invitations}`` of an address-based sample (area as in the targets or
        the data). When a wave has none, its base weights are 1.
    areas : mapping, optional
        Normalised area alias -> the data's area value (:func:`area_lookup`); default: the
        data's own values.
    base_column : str, optional
        A column of ``frame`` with each response's base weight (vendor weights, see
        :func:`vendor_base_weights`), multiplied by the invitation base weights, before raking.

    Raises
    ------
    WeightingError
        A margin has no target for a wave, a margin cannot be met within the bounds, or a wave
        has no respondent with an area.
    """
    s = settings or WeightingSettings()
    df = frame.reset_index(drop=True).copy(deep=False)  # copy-on-write: the input is never changed
    df["wave"] = df["wave"].astype(str)
    n = len(df)
    if n == 0:
        raise WeightingError("No responses to weight.", rule="no-responses",
                             fix="Ingest an export first (survey-pipeline ingest).")
    amap = dict(areas) if areas is not None else area_lookup(df["neighborhood"])
    diag: list[dict] = []
    used: list[dict] = []
    margins: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    waves = [str(w) for w in pd.unique(df["wave"])]  # order of first appearance
    wanted = set(s.margins) if s.margins is not None else set(targets["variable"])
    if "neighborhood" in wanted and df["neighborhood"].isna().any():
        lost = df[df["neighborhood"].isna()].groupby("wave").size()
        for wave, k in lost.items():
            diag.append(_d(wave, "weighting", "dropped_no_area", k,
                           "responses without a known neighborhood cannot be raked to neighborhood margins"))
        df = df[df["neighborhood"].notna()].reset_index(drop=True)
    n = len(df)
    base = df[base_column].to_numpy(dtype=float, copy=True) if base_column else np.ones(n)
    wave_col = df["wave"].to_numpy()
    cells: dict[str, np.ndarray] = {}
    for wave in waves:
        rows = wave_col == wave
        t = wave_targets(targets, wave)
        if not t:
            raise WeightingError(f"targets: no city-level targets for wave '{wave}'.", rule="no-targets",
                                 fix=f"Add rows with wave = {wave} (or all) and area = city to the targets file.")
        variables = list(s.margins) if s.margins is not None else list(t)
        absent = [v for v in variables if v not in t]
        if absent:
            raise WeightingError(f"targets: wave '{wave}' has no city margin for {', '.join(absent)}.",
                                 rule="missing-margin",
                                 fix=f"Add targets for {', '.join(absent)} or drop them from [weighting] margins.")
        # base weights from invitations
        nb_t = t.get("neighborhood")
        if invitations and nb_t:
            inv = {amap.get(normalize_name(a), a): float(k) for (w, a), k in invitations.items() if w == wave}
            pop = {amap.get(normalize_name(a), a): p for a, p in nb_t.items()}
            if inv:
                ratio = {a: pop[a] / inv[a] for a in inv if a in pop and inv[a] > 0}
                b = df.loc[rows, "neighborhood"].map(ratio).to_numpy(float)
                base[rows] = base[rows] * np.where(np.isnan(b), 1.0, b)
                diag.append(_d(wave, "weighting", "base_weight_areas", len(ratio),
                               "base weight = area population / invitations"))
        ref_total = sum((nb_t or t[variables[0]]).values())
        # scale to the population total, so the raking bounds are relative to a uniform
        # nonresponse adjustment rather than to the response rate
        base[rows] *= ref_total / base[rows].sum()
        for var in variables:
            cats = t[var]
            if var == "neighborhood":
                cats = {amap.get(normalize_name(c), c): p for c, p in cats.items()}
            if var not in df.columns:
                raise WeightingError(f"weighting: the responses have no column '{var}' for the target margin.",
                                     rule="missing-variable",
                                     fix=f"Derive '{var}' from the instrument or drop it from [weighting] margins.")
            raw = df.loc[rows, var]
            col = raw.astype(str).astype(object).where(raw.notna(), None)
            rec = s.recode.get(var, {})
            if rec:
                col = col.replace(rec)
            foreign = col.notna() & ~col.isin(list(cats))
            if foreign.any():
                to = "other" if "other" in cats else None
                diag.append(_d(wave, "weighting", f"recoded_{var}", foreign.sum(),
                               f"{', '.join(sorted(col[foreign].unique()))} -> {to or 'imputed'}"))
                col[foreign] = to
            miss = col.isna()
            if miss.any():
                w_ok = base[rows][col.notna().to_numpy()]
                mode = pd.Series(w_ok, index=col[col.notna()].values).groupby(level=0).sum().idxmax()
                col[miss] = mode
                diag.append(_d(wave, "weighting", f"imputed_{var}", miss.sum(), f"missing -> {mode}"))
            counts = col.value_counts()
            present = set(counts[counts >= s.min_cell].index)
            cmap = _collapse(list(cats), cats, present)
            merged = {k: v for k, v in cmap.items() if "+" in v}
            if merged:
                diag.append(_d(wave, "weighting", f"collapsed_{var}", len(set(merged.values())),
                               "; ".join(sorted(set(merged.values())))))
            mapped = col.map(cmap)
            col = mapped.astype(object).where(mapped.notna(), None)
            tot = sum(cats.values())
            cell_pop: dict[str, float] = {}
            for c, p in cats.items():
                cell_pop[cmap[c]] = cell_pop.get(cmap[c], 0.0) + p * ref_total / tot
            if abs(tot - ref_total) > 1e-3 * ref_total:
                diag.append(_d(wave, "weighting", f"rescaled_{var}", tot / ref_total,
                               f"margin total {tot:.0f} rescaled to {ref_total:.0f}"))
            key = ("wave", f"_m_{var}")
            margins.setdefault(key, {}).update({(wave, c): p for c, p in cell_pop.items()})
            if f"_m_{var}" not in cells:
                cells[f"_m_{var}"] = np.full(n, None, dtype=object)
            cells[f"_m_{var}"][rows] = col.to_numpy(dtype=object)
            used += [{"wave": wave, "variable": var, "category": c, "population": p} for c, p in cell_pop.items()]
    added = {**cells, "_base": base}
    df = pd.concat([df.drop(columns=[c for c in added if c in df.columns]),
                    pd.DataFrame(added, index=df.index)], axis=1)
    try:
        design = Design(df, weights="_base", strata="wave", lonely_psu="adjust")
        design = design.rake(dict(margins.items()), bounds=s.bounds, max_iter=s.max_iter,
                             tol=1e-7)
        if s.trim is not None:
            # per wave: the cap is trim x the wave's mean weight and the excess stays in the
            # wave, so each wave keeps its population total
            w = design.weights
            wv = df["wave"].to_numpy()
            upper = {}
            for wave in waves:
                ww = w[(wv == wave) & (w > 0)]
                if len(ww) and (ww > s.trim * ww.mean()).any():
                    upper[wave] = s.trim * float(ww.mean())
            if upper:
                design = design.trim(upper=upper, by="wave")
    except StatsError as exc:
        raise WeightingError(f"weighting failed: {exc}", rule="raking",
                             fix="Widen [weighting] bounds, collapse sparse categories in the targets, "
                                 "or drop a margin from [weighting] margins.") from exc
    w = design.weights
    trim_rep = design.trim_report
    for wave in waves:
        rows = (wave_col == wave) & (w > 0)
        d = weight_diagnostics(w[rows])
        err = 0.0
        for (_, col), mcells in margins.items():
            got = pd.Series(w[rows]).groupby(cells[col][rows]).sum()
            for (wv, c), p in mcells.items():
                if wv == wave:
                    err = max(err, abs(got.get(c, 0.0) - p) / p)
        for metric, value in (("completes", d["n"]), ("kish_n_eff", d["n_eff"]), ("deff_weighting", d["deff_w"]),
                              ("weight_min", d["min"]), ("weight_max", d["max"]), ("weight_ratio", d["ratio"]),
                              ("max_margin_error", err)):
            diag.append(_d(wave, "weighting" if metric != "completes" else "sample", metric, value, None))
        if trim_rep is not None:
            diag.append(_d(wave, "weighting", "trimmed", int(np.isin(np.flatnonzero(rows), trim_rep.trimmed_rows).sum()),
                           f"weights capped at {s.trim:g} x mean weight"))
        for level in ("district", "neighborhood"):
            if level not in df.columns:
                continue
            for area, idx in df[level][rows].groupby(df[level][rows], sort=True).groups.items():
                dd = weight_diagnostics(w[idx])
                for metric, value in (("completes", dd["n"]), ("kish_n_eff", dd["n_eff"]),
                                      ("deff_weighting", dd["deff_w"])):
                    diag.append({"wave": wave, "area_level": level, "area": str(area),
                                 "kind": "sample" if metric == "completes" else "weighting",
                                 "metric": metric, "value": float(value), "detail": None})
    weights = pd.DataFrame({"wave": df["wave"], "base_weight": base, "weight": w})
    if "response_id" in df.columns:
        weights.insert(0, "response_id", df["response_id"].astype(str))
    return WeightingResult(design, weights, pd.DataFrame(diag, columns=DIAG_COLUMNS), pd.DataFrame(used))


def vendor_base_weights(frame: pd.DataFrame, variable: str) -> tuple[np.ndarray, list[dict]]:
    """Each response's base weight from the vendor weight column ``variable`` (``[weighting]
    base_weight``), and the diagnostics rows that say so.

    A response without a positive, finite weight gets its wave's mean vendor weight (counted in
    the diagnostics, ``base_weight_imputed``).

    Raises
    ------
    WeightingError
        When the responses have no such column, or a wave has no usable weight at all.
    """
    if variable not in frame.columns:
        raise WeightingError(f"weighting: base_weight = '{variable}' is not a variable of the responses.",
                             rule="unknown-base-weight",
                             fix="Set [weighting] base_weight to the instrument variable holding the vendor's "
                                 "weights (see review.xlsx, column weight), or remove the key.")
    w = pd.to_numeric(frame[variable], errors="coerce").to_numpy(dtype=float, copy=True)
    ok = np.isfinite(w) & (w > 0)
    waves = frame["wave"].astype(str).to_numpy()
    diag = []
    for wave in pd.unique(waves):
        rows = waves == wave
        good = rows & ok
        if not good.any():
            raise WeightingError(f"weighting: no response of wave '{wave}' has a positive '{variable}'.",
                                 rule="no-base-weights",
                                 fix="Check the weight column of the export, or remove [weighting] base_weight.")
        bad = rows & ~ok
        if bad.any():
            w[bad] = w[good].mean()
            diag.append(_d(wave, "weighting", "base_weight_imputed", int(bad.sum()),
                           f"responses without a positive '{variable}': the wave's mean vendor weight"))
        diag.append(_d(wave, "weighting", "base_weight_vendor", float(w[rows].sum()),
                       f"base weights = the vendor's weights in '{variable}' (sum shown)"))
    return w, diag


def _d(wave, kind, metric, value, detail) -> dict:
    return {"wave": wave, "area_level": "city", "area": "city", "kind": kind, "metric": metric,
            "value": float(value), "detail": detail}
