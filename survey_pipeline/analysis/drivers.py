"""Key drivers: which service ratings go with overall satisfaction and trust (the ``drivers`` table).

For each outcome, wave and area a design-based linear regression (:func:`~survey_pipeline.stats.svyglm_arrays`,
R's ``svyglm``) of the outcome on the service-satisfaction items, on the analysis' own raked design
(strata = wave, raked and trimmed weights; the SEs are linearized through the raking, Lumley 2010,
sec. 5.2 and 7.4). A wave, or a district within a wave, is a domain of that design (R's
``svyglm(f, subset(design, ...))``), never a separate design.

Choices (see ``docs/results.md``, table ``drivers``):

* **Outcomes**: every item with the role ``trust`` (``trust_overall``) and every satisfaction item
  whose id ends in ``_overall`` (``sat_police_overall``), coded as the share indicator: 1 when the
  answer is one of the scale's positive codes, else 0. A linear probability model, so that a
  coefficient reads in percentage points of the headline share (residents satisfied with a
  service are that many points more likely to give the positive answer, the other services held
  equal), which a logistic model's odds ratios do not; R's ``svyglm`` gives the same numbers (``gaussian``).
* **Drivers**: the items of the satisfaction grids that belong to one department as a whole (the
  question carries ``department:``: the police services grid), except the ``*_overall`` items,
  each coded as satisfied (a positive code) 1 / not 0. Raw coefficients, not standardised: all
  drivers are on the same 0/1 scale, so the coefficients compare directly and keep their
  percentage-point meaning.
* **Missing answers**: complete cases. A respondent with a missing, "don't know" or refused answer
  to the outcome or to any driver is left out of that model (zero influence; the design is kept).
* **When a model is fitted**: only with at least ``max(min_cases, per_driver x drivers)``
  complete cases in the domain (defaults 100 and 10); otherwise the rows say ``suppress`` and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey_pipeline.instrument.model import Instrument
from survey_pipeline.stats import Design, adjust_pvalues
from survey_pipeline.stats.errors import StatsError
from survey_pipeline.stats.regression import svyglm_arrays, svyglm_domains

from .indicators import IndicatorSpec, _values_cache, indicator_values

__all__ = ["DRIVER_COLUMNS", "DriverModel", "driver_models", "drivers_table", "fit_drivers"]

DRIVER_COLUMNS = ["wave", "area_level", "area", "outcome", "driver", "department", "coefficient", "se", "ci_low",
                  "ci_high", "df", "p", "p_adj", "rank", "satisfaction", "n", "r2", "method", "reliability",
                  "reliability_reason"]
METHOD = "svyglm linear probability (share positive on drivers satisfied 0/1), complete cases"


@dataclass(frozen=True)
class DriverModel:
    """One outcome and the service-satisfaction items it is regressed on."""

    outcome: IndicatorSpec
    drivers: tuple[IndicatorSpec, ...]


def _share_items(specs: list[IndicatorSpec]) -> list[IndicatorSpec]:
    return [s for s in specs if s.kind == "item" and s.statistic == "share" and s.positive]


def driver_models(specs: list[IndicatorSpec], inst: Instrument) -> list[DriverModel]:
    """The models the instrument's roles define (see the module docstring); none when it has no
    outcome or fewer than two drivers."""
    items = _share_items(specs)
    outcomes = [s for s in items if s.topic == "trust" or (s.topic == "satisfaction" and s.indicator.endswith("_overall"))]
    variables = {v.name: v for v in inst.variables()}
    owned = {q.id for q in inst.questions() if q.department and q.role is not None and q.role.value == "satisfaction"}
    drivers = [s for s in items if s.topic == "satisfaction" and not s.indicator.endswith("_overall")
               and s.indicator in variables and variables[s.indicator].question in owned
               and s.indicator == s.variables[0]]
    out = []
    for o in outcomes:
        d = tuple(s for s in drivers if s.indicator != o.indicator)
        if len(d) >= 2:
            out.append(DriverModel(o, d))
    return out


def fit_drivers(design: Design, y: np.ndarray, x: np.ndarray, names: list[str], domain: np.ndarray, *,
                adjust: str = "fdr_bh", level: float = 0.95) -> tuple[pd.DataFrame, float]:
    """One driver model in one domain: the coefficient rows (without the intercept; ``p_adj``
    adjusted over the drivers of the model, ``rank`` 1 = the largest coefficient) and its weighted
    R-squared on the complete cases."""
    res = svyglm_arrays(design, y, x, names, domain=domain, level=level)
    ok = domain & ~np.isnan(y) & ~np.isnan(x).any(axis=1) & (design.weights > 0)
    return _driver_rows(design, res, y, x, ok, adjust)


def _driver_rows(design: Design, res: pd.DataFrame, y: np.ndarray, x: np.ndarray, ok: np.ndarray,
                 adjust: str) -> tuple[pd.DataFrame, float]:
    """:func:`fit_drivers`' rows and R-squared from the model's coefficient table ``res`` and its
    complete cases ``ok``."""
    w = design.weights[ok]
    beta = res["estimate"].to_numpy()
    fitted = beta[0] + x[ok] @ beta[1:]
    ybar = np.average(y[ok], weights=w)
    sst = np.sum(w * (y[ok] - ybar) ** 2)
    r2 = float(1 - np.sum(w * (y[ok] - fitted) ** 2) / sst) if sst > 0 else float("nan")
    rows = res[res["term"] != "(Intercept)"].reset_index(drop=True)
    rows["p_adj"] = adjust_pvalues(rows["p"].to_numpy(), adjust)
    rows["rank"] = rows["estimate"].rank(ascending=False, method="first").astype(np.int64)
    return rows, r2


def drivers_table(design: Design, specs: list[IndicatorSpec], inst: Instrument, est: pd.DataFrame,
                  waves: list[str], *, levels: tuple[str, ...] = ("city", "district"), min_cases: int = 100,
                  per_driver: int = 10, adjust: str = "fdr_bh") -> pd.DataFrame:
    """The ``drivers`` results table (see the module docstring and ``docs/results.md``).

    ``est`` (the estimates table) gives each driver's share satisfied in the same wave and area
    (all respondents with a valid answer, not only the complete cases).
    """
    langs = inst.languages
    cols = [*DRIVER_COLUMNS[:6], *[f"label_{lg}" for lg in langs], *DRIVER_COLUMNS[6:]]
    models = driver_models(specs, inst)
    if not models:
        return pd.DataFrame(columns=cols)
    data = design.data
    cache = _values_cache(data)
    wave_col = data["wave"].astype(str).to_numpy()
    sat = est[(est["group_dim"] == "all") & (est["statistic"] == "share")].set_index(
        ["wave", "area_level", "area", "indicator"])["estimate"]
    sat = sat[~sat.index.duplicated()]
    out = []
    for m in models:
        y, _ = indicator_values(data, m.outcome, cache)
        x = np.column_stack([indicator_values(data, d, cache)[0] for d in m.drivers])
        names = [d.indicator for d in m.drivers]
        need = max(min_cases, per_driver * len(names))
        complete = ~np.isnan(y) & ~np.isnan(x).any(axis=1) & (design.weights > 0)
        for wave in waves:
            in_wave = wave_col == wave
            domains = [("city", "city", in_wave)] if "city" in levels else []
            for lvl in levels:
                if lvl == "city" or lvl not in data.columns:
                    continue
                col = data[lvl].to_numpy(dtype=object)
                for a in sorted({str(v) for v in col[in_wave] if v is not None and v == v}):
                    domains.append((lvl, a, in_wave & (col == a)))
            counts = [int((complete & dom).sum()) for _lvl, _area, dom in domains]
            # the wave's models side by side: one pass over the rows for all their variances
            fitting = [i for i, n in enumerate(counts) if n >= need]
            fits = dict(zip(fitting, svyglm_domains(design, y, x, names, [domains[i][2] for i in fitting]),
                            strict=True))
            for i, (lvl, area, dom) in enumerate(domains):
                n = counts[i]
                base = pd.DataFrame({"driver": names, "department": [d.department for d in m.drivers],
                                     **{f"label_{lg}": [d.label.get(lg) for d in m.drivers] for lg in langs}})
                base["satisfaction"] = [sat.get((wave, lvl, area, d), np.nan) for d in names]
                if n < need:
                    rows = base.assign(coefficient=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan, df=np.nan,
                                       p=np.nan, p_adj=np.nan, rank=pd.NA, r2=np.nan, reliability="suppress",
                                       reliability_reason=f"{n} complete cases, fewer than the {need} a driver model "
                                                          f"needs ({per_driver} per driver, at least {min_cases})")
                else:
                    try:
                        if isinstance(fits[i], StatsError):
                            raise fits[i]
                        fit, r2 = _driver_rows(design, fits[i], y, x, complete & dom, adjust)
                    except StatsError as exc:
                        rows = base.assign(coefficient=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan,
                                           df=np.nan, p=np.nan, p_adj=np.nan, rank=pd.NA, r2=np.nan,
                                           reliability="suppress", reliability_reason=f"model not fitted: {exc}")
                    else:
                        rows = base.assign(coefficient=fit["estimate"].to_numpy(), se=fit["se"].to_numpy(),
                                           ci_low=fit["ci_low"].to_numpy(), ci_high=fit["ci_high"].to_numpy(),
                                           df=fit["df"].to_numpy(), p=fit["p"].to_numpy(),
                                           p_adj=fit["p_adj"].to_numpy(), rank=fit["rank"].to_numpy(), r2=r2,
                                           reliability="ok", reliability_reason=None)
                rows = rows.assign(wave=wave, area_level=lvl, area=area, outcome=m.outcome.indicator, n=n,
                                   method=METHOD)
                out.append(rows)
    table = pd.concat(out, ignore_index=True)[cols]
    table["rank"] = table["rank"].astype("Int64")
    return table
