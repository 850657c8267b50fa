"""Sample-size planning: completes per area for a target margin of error, and the citywide MOE.

For a proportion ``p`` estimated from a simple random sample of ``n`` completes in an area of
``N`` units (households or adults), with design effect ``deff``, the margin of error at
confidence level ``1 - alpha`` is (Cochran 1977, sections 4.4 and 4.6; Lohr 2019, section 2.7)::

    moe = z * sqrt(deff * p * (1 - p) / n * (N - n) / (N - 1))

and the completes needed for a target ``moe`` are::

    n0 = z^2 * p * (1 - p) * deff / moe^2
    n  = n0 / (1 + (n0 - 1) / N)          (finite population correction), rounded up.

The citywide estimate is the population-weighted mean of the area estimates (stratified by area,
``W_h = N_h / N``), so its margin of error is (Cochran 1977, section 5.3)::

    moe_city = z * sqrt(sum_h W_h^2 * deff * p * (1 - p) / n_h * (N_h - n_h) / (N_h - 1))

Allocations:

- ``minimum`` (default): each area gets the completes its own target MOE needs;
- ``proportional``: a given total is split in proportion to population;
- ``equal``: a given total is split equally.

Both split allocations are rounded with the largest-remainder rule so they add up to the total,
respect ``min_per_area``, and never exceed an area's population (the excess goes to the others).
Invitations are ``ceil(completes / response_rate)``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy.stats import norm

from survey_pipeline.errors import PlanError, Problem

__all__ = [
    "Allocation",
    "citywide_moe",
    "completes_for_moe",
    "moe_for_completes",
    "plan_sample",
    "read_area_populations",
]

Allocation = Literal["proportional", "equal", "minimum"]
ALLOCATIONS: tuple[str, ...] = get_args(Allocation)
POPULATION_COLUMNS = ("population", "pop", "households", "adults")
AREA_COLUMNS = ("area", "name", "area_name", "neighborhood", "neighbourhood", "district", "beat", "zip", "code", "id")


def _z(confidence: float) -> float:
    return float(norm.ppf(1 - (1 - confidence) / 2))


def _check(moe: float | None, confidence: float, p: float, deff: float) -> None:
    bad: list[str] = []
    if moe is not None and not (0 < moe < 1):
        bad.append(f"moe must be between 0 and 1 (a proportion, e.g. 0.05 for ±5 points), found {moe}")
    if not (0 < confidence < 1):
        bad.append(f"confidence must be between 0 and 1 (e.g. 0.95), found {confidence}")
    if not (0 < p < 1):
        bad.append(f"p must be between 0 and 1 (0.5 is the most conservative), found {p}")
    if not (deff > 0) or not math.isfinite(deff):
        bad.append(f"deff must be a positive number (1.0 for simple random sampling, ~1.5 after weighting), found {deff}")
    if bad:
        raise PlanError("; ".join(bad) + ".", rule="bad-parameter", fix="Correct the value(s) named above.")


def completes_for_moe(moe: float, population: float | None = None, *, confidence: float = 0.95, p: float = 0.5,
                      deff: float = 1.0) -> int:
    """Completes needed for a margin of error ``moe`` on a proportion (Cochran 1977, eq. 4.2 with FPC).

    Parameters
    ----------
    moe
        Target half-width of the confidence interval, as a proportion (0.05 = ±5 points).
    population
        Units in the area (households or adults); ``None`` for an infinite population.
    confidence, p, deff
        Confidence level, assumed proportion, design effect.

    Returns
    -------
    int
        ``ceil(n0 / (1 + (n0 - 1) / N))`` with ``n0 = z^2 p (1 - p) deff / moe^2``; 385 for
        moe 0.05, p 0.5, deff 1 and an infinite population; 278 for N = 1000.
    """
    _check(moe, confidence, p, deff)
    n0 = _z(confidence) ** 2 * p * (1 - p) * deff / moe**2
    if population is None or not math.isfinite(population):
        return math.ceil(n0 - 1e-9)
    n = n0 / (1 + (n0 - 1) / population)
    return int(min(math.ceil(n - 1e-9), math.ceil(population)))


def moe_for_completes(completes, population=None, *, confidence: float = 0.95, p: float = 0.5,
                      deff: float = 1.0):
    """Margin of error achieved by ``completes`` (scalar or array), with the FPC when ``population`` is given.

    ``inf`` where there are no completes; 0 where every unit completes (a census).
    """
    _check(None, confidence, p, deff)
    n = np.asarray(completes, dtype=float)
    var = deff * p * (1 - p) / np.where(n > 0, n, np.nan)
    if population is not None:
        big_n = np.asarray(population, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            fpc = np.where(n >= big_n, 0.0, (big_n - n) / (big_n - 1))
        var = var * fpc
    out = _z(confidence) * np.sqrt(var)
    out = np.where(n > 0, out, np.inf)
    return float(out) if out.ndim == 0 else out


def _split(total: int, weights: np.ndarray, caps: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """Integers summing to ``total``, proportional to ``weights``, within [floors, caps].

    Water-filling: find the scale ``lam`` with ``sum(clip(lam * weights, floors, caps)) == total``
    (bisection; the sum is monotone in ``lam``), then round by the largest remainder (Hamilton's
    method) among areas below their cap. Needs ``floors.sum() <= total <= caps.sum()``.
    """
    w = np.asarray(weights, dtype=float)

    def filled(lam: float) -> np.ndarray:
        return np.clip(lam * w, floors, caps)

    lo, hi = 0.0, 1.0
    while filled(hi).sum() < total and hi < 1e18:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if filled(mid).sum() < total:
            lo = mid
        else:
            hi = mid
    alloc = filled(hi)
    base = np.minimum(np.floor(alloc + 1e-9), caps)
    short = round(float(total - base.sum()))
    if short > 0:
        room = base < caps
        order = np.argsort(-(alloc - base) + np.where(room, 0.0, 10.0), kind="stable")
        base[order[:short]] += 1
    elif short < 0:  # rounding up overshot: take back from the largest fractions above the floor
        room = base > floors
        order = np.argsort((alloc - base) + np.where(room, 0.0, 10.0), kind="stable")
        base[order[: -short]] -= 1
    return base.astype(int)


def plan_sample(areas: pd.DataFrame, moe: float, *, confidence: float = 0.95, p: float = 0.5, deff: float = 1.0,
                allocation: Allocation = "minimum", min_per_area: int | None = None, total: int | None = None,
                response_rate: float | None = None) -> pd.DataFrame:
    """Completes and invitations per area for a target margin of error.

    Parameters
    ----------
    areas
        One row per area with columns ``area`` and ``population`` (households or adults).
    moe
        Target margin of error per area, as a proportion (0.05 = ±5 points). With ``minimum``
        allocation every area meets it; with ``proportional``/``equal`` it is the yardstick
        for ``meets_target``.
    confidence, p, deff
        Confidence level, assumed proportion (0.5 is conservative), design effect.
    allocation
        ``minimum`` (each area gets what its target needs), ``proportional`` or ``equal``
        (split ``total``).
    min_per_area
        A floor of completes per area (never above the area's population).
    total
        Completes to split; required for ``proportional`` and ``equal``, refused for ``minimum``.
    response_rate
        Expected share of invitations that complete, in (0, 1]; gives ``invitations``.

    Returns
    -------
    pandas.DataFrame
        ``area``, ``population``, ``completes``, ``moe_achieved``, ``invitations`` (``<NA>``
        without a response rate) and ``meets_target``, in the order given.

    Raises
    ------
    PlanError
        Unknown allocation, missing or refused ``total``, impossible totals, bad parameters.
    """
    _check(moe, confidence, p, deff)
    if allocation not in ALLOCATIONS:
        raise PlanError(f"allocation {allocation!r} is not known.", rule="bad-allocation",
                        fix=f"Use one of: {', '.join(ALLOCATIONS)}.")
    for col in ("area", "population"):
        if col not in areas.columns:
            raise PlanError(f"the areas table has no '{col}' column (columns: {', '.join(map(str, areas.columns))}).",
                            rule="missing-column", fix="Give a table with 'area' and 'population' columns (read_area_populations does this).")
    if areas.empty:
        raise PlanError("the areas table has no rows.", rule="no-areas", fix="Give at least one area with its population.")
    pop = pd.to_numeric(areas["population"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~(pop > 0) | ~np.isfinite(pop))
    if bad.size:
        i = int(bad[0])
        raise PlanError(f"area {areas['area'].iloc[i]!r} has population {areas['population'].iloc[i]}; "
                        "every area needs a positive number.", rule="bad-population",
                        fix="Fill in the number of households or adults of every area.")
    if response_rate is not None and not (0 < response_rate <= 1):
        raise PlanError(f"response rate must be in (0, 1], found {response_rate}.", rule="bad-parameter",
                        fix="Give the expected share of invitations that complete, e.g. 0.2.")
    if min_per_area is not None and min_per_area < 1:
        raise PlanError(f"min_per_area must be at least 1, found {min_per_area}.", rule="bad-parameter",
                        fix="Give a positive number of completes, or leave it out.")
    caps = np.ceil(pop)
    floors = np.minimum(caps, float(min_per_area or 0))
    if allocation == "minimum":
        if total is not None:
            raise PlanError("a total applies to proportional and equal allocation; minimum allocation computes it.",
                            rule="total-with-minimum",
                            fix="Leave out --total, or choose --allocation proportional or equal.")
        need = np.array([completes_for_moe(moe, n, confidence=confidence, p=p, deff=deff) for n in pop], dtype=float)
        completes = np.maximum(need, floors).astype(int)
    else:
        if total is None:
            raise PlanError(f"{allocation} allocation splits a total number of completes, and none was given.",
                            rule="missing-total", fix="Give --total N (the completes you can afford), or use --allocation minimum.")
        if total < 1:
            raise PlanError(f"total must be at least 1, found {total}.", rule="bad-parameter", fix="Give a positive total.")
        if total > caps.sum():
            raise PlanError(f"a total of {total} completes exceeds the {int(caps.sum())} units of all areas.",
                            rule="total-too-large", fix="Lower --total.")
        if floors.sum() > total:
            raise PlanError(f"min_per_area {min_per_area} over {len(pop)} areas needs {int(floors.sum())} completes, "
                            f"more than the total {total}.", rule="total-too-small",
                            fix="Raise --total or lower --min-per-area.")
        weights = pop if allocation == "proportional" else np.ones_like(pop)
        completes = _split(int(total), weights, caps, floors)
    achieved = moe_for_completes(completes, pop, confidence=confidence, p=p, deff=deff)
    out = pd.DataFrame({
        "area": areas["area"].to_numpy(),
        "population": areas["population"].to_numpy(),
        "completes": completes.astype(int),
        "moe_achieved": np.asarray(achieved, dtype=float),
    })
    if response_rate is None:
        out["invitations"] = pd.array([pd.NA] * len(out), dtype="Int64")
    else:
        out["invitations"] = pd.array(np.ceil(completes / response_rate - 1e-9).astype(int), dtype="Int64")
    out["meets_target"] = out["moe_achieved"] <= moe + 1e-12
    out.index = areas.index
    return out


def citywide_moe(plan: pd.DataFrame, *, confidence: float = 0.95, p: float = 0.5, deff: float = 1.0) -> float:
    """Margin of error of the citywide proportion from a plan, stratified by area (Cochran 1977, 5.3).

    ``z * sqrt(sum_h W_h^2 * deff * p (1 - p) / n_h * (N_h - n_h) / (N_h - 1))`` with
    ``W_h = N_h / sum N``, from the ``population`` and ``completes`` columns of ``plan``.
    """
    _check(None, confidence, p, deff)
    pop = plan["population"].to_numpy(dtype=float)
    n = plan["completes"].to_numpy(dtype=float)
    if (n <= 0).any():
        return math.inf
    w = pop / pop.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc = np.where(n >= pop, 0.0, (pop - n) / (pop - 1))
    var = np.sum(w**2 * deff * p * (1 - p) / n * fpc)
    return float(_z(confidence) * math.sqrt(var))


# --- reading the areas file ---------------------------------------------------------------------


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    low = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def read_area_populations(path: str | Path, population_column: str | None = None) -> pd.DataFrame:
    """Read areas and their populations from a CSV or a GeoJSON (feature properties).

    The population column is ``population_column`` when given, else the first of
    ``population``, ``pop``, ``households`` or ``adults`` present (case-insensitive);
    the area column ``area``, ``name``, ``neighborhood``, ``district``, ``beat``, ``zip``, ``code``
    or ``id``. Returns a DataFrame with ``area`` and ``population`` (and ``population_kind``, the
    column it came from, in ``attrs``).

    Raises
    ------
    PlanError
        The file is missing or unreadable, or the columns cannot be found (the message lists the
        columns found), or a population is not a positive number (the message names the row).
    """
    path = Path(path)
    file = str(path)

    def fail(rule: str, message: str, fix: str, **where) -> PlanError:
        return PlanError(f"{file}: cannot read the areas.", problems=[Problem(file=file, rule=rule, message=message,
                                                                               fix=fix, **where)], file=file, rule=rule)

    if not path.is_file():
        raise fail("file-not-found", f"file {file} does not exist.", "Check the path to the areas file.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".geojson", ".json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise fail("unreadable", f"the file is not valid JSON ({exc}).", "Export the areas as GeoJSON (UTF-8).") from None
            feats = data.get("features") if isinstance(data, dict) else None
            if not isinstance(feats, list) or not feats:
                raise fail("not-geojson", "the file has no GeoJSON 'features'.", "Give a FeatureCollection with one feature per area.")
            frame = pd.DataFrame([(f or {}).get("properties") or {} for f in feats])
            first_row = 1  # features count from 1
            where_kind = "feature"
        elif suffix in (".csv", ".txt"):
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            except UnicodeDecodeError:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise fail("unreadable", f"the CSV cannot be parsed ({exc}).", "Save the areas as a plain CSV with a header row.") from None
            first_row = 2  # header is row 1
            where_kind = "row"
        else:
            raise fail("unknown-format", f"files ending in '{path.suffix or '(nothing)'}' are not understood.",
                       "Give a CSV or a GeoJSON.")
    except PermissionError as exc:
        raise fail("unreadable", f"cannot read the file ({exc.strerror}).", "Check the file's permissions.") from None
    cols = [str(c) for c in frame.columns]
    if population_column is not None:
        pop_col = _pick(cols, (population_column.strip().lower(),))
        if pop_col is None:
            raise fail("missing-column", f"there is no column '{population_column}'. Columns found: {', '.join(cols) or '(none)'}.",
                       "Give one of the columns found as the population column.", row=1 if first_row == 2 else None)
    else:
        pop_col = _pick(cols, POPULATION_COLUMNS)
    area_col = _pick(cols, AREA_COLUMNS)
    if pop_col is None or area_col is None:
        lacking = []
        if pop_col is None:
            lacking.append(f"no population column ({', '.join(POPULATION_COLUMNS)})")
        if area_col is None:
            lacking.append(f"no area column ({', '.join(AREA_COLUMNS)})")
        raise fail("missing-column", f"{' and '.join(lacking)}. Columns found: {', '.join(cols) or '(none)'}.",
                   "Rename the columns (e.g. 'area' and 'population'; households or adults are fine).", row=1 if first_row == 2 else None)
    raw = frame[pop_col].astype(str).str.replace(",", "", regex=False).str.strip()
    pop = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero(~(pop > 0).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise fail("bad-population", f"{where_kind} {i + first_row} (area {frame[area_col].iloc[i]!r}) has "
                   f"{pop_col} {frame[pop_col].iloc[i]!r}, not a positive number"
                   + (f" ({bad.size} such rows)" if bad.size > 1 else "") + ".",
                   "Fill in the number of households or adults of every area.",
                   row=i + first_row if where_kind == "row" else None, column=pop_col)
    dup = frame[area_col].astype(str)[frame[area_col].astype(str).duplicated()]
    if not dup.empty:
        raise fail("duplicate-area", f"area {dup.iloc[0]!r} appears more than once.",
                   "Give each area one row (sum the populations first).", column=area_col)
    out = pd.DataFrame({"area": frame[area_col].astype(str).to_numpy(), "population": pop.to_numpy()})
    out.attrs["population_kind"] = str(pop_col)
    return out
