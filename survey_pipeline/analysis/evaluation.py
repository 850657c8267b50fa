"""Evaluation of a problem-solving effort: difference-in-differences against the other areas.

For the areas of the effort (treated) and every other area (comparison), the waves before the
start wave (pre, pooled) and each wave from the start on (post), the four domain means are
estimated on the full design (``by = [period, treated]``); the effect in post wave ``w`` is

    (treated w - treated pre) - (comparison w - comparison pre)

one row per post wave (an event-study layout: efforts that build up show growing effects).

The four means are domains of one design (strata = wave, each wave raked on its own), so the
variance of the effect is ``l' V l`` with ``V`` their linearized covariance matrix, calibration
residuals and stratum centring included
(:meth:`~survey_pipeline.stats.DomainMeans.contrasts`; R's ``svycontrast`` agrees at 1e-8,
``tests/reference/make_pairs.R``). Treated and comparison areas of one period are raked
together and covary; a post wave and the pooled pre waves are different strata and come out
uncorrelated because the design says so. This is the design-based DiD of the seed's "evaluate
the effectiveness of crime and problem reduction efforts"; it assumes parallel trends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.errors import AnalysisError
from survey_pipeline.project import normalize_name
from survey_pipeline.stats import Design, DomainMeans

from .comparisons import COMPARISON_COLUMNS, _cells_with, _finish
from .indicators import IndicatorSpec, _values_cache, apply_reliability, indicator_values
from .settings import Evaluation

__all__ = ["did"]


def did(design: Design, specs: list[IndicatorSpec], evaluation: Evaluation, waves: list[str], *,
        areas: dict[str, str] | None = None, level: str = "neighborhood", min_n: int = 30,
        nchs: bool = True, adjust: str = "fdr_bh") -> pd.DataFrame:
    """Difference-in-differences rows (kind ``did``) of the comparisons table.

    Parameters
    ----------
    evaluation : Evaluation
        Areas (codes, names or labels; resolved with ``areas``), start wave and, optionally,
        the indicators to evaluate (default: every headline indicator).
    waves : list of str
        Waves in time order.
    areas : dict, optional
        Normalised alias -> area value (:func:`~survey_pipeline.analysis.weighting.area_lookup`).
    """
    data = design.data
    if evaluation.start_wave not in waves:
        raise AnalysisError(f"evaluation '{evaluation.name}': start wave '{evaluation.start_wave}' is not a wave "
                            f"of the data ({', '.join(waves)}).", rule="unknown-wave",
                            fix="Set start_wave to one of the waves.")
    k = waves.index(evaluation.start_wave)
    if k == 0:
        raise AnalysisError(f"evaluation '{evaluation.name}': no wave before '{evaluation.start_wave}'.",
                            rule="no-baseline", fix="Start the evaluation at a later wave; DiD needs a baseline.")
    amap = areas or {normalize_name(v): v for v in data[level].dropna().astype(str).unique()}
    treated_vals = []
    for a in evaluation.areas:
        v = amap.get(normalize_name(a))
        if v is None:
            raise AnalysisError(f"evaluation '{evaluation.name}': area '{a}' is not a {level} of the data.",
                                rule="unknown-area",
                                fix=f"Use one of: {', '.join(sorted(set(amap.values()))[:30])}.")
        treated_vals.append(str(v))
    wave_col = data["wave"].astype(str)
    arm = np.where(data[level].astype(str).isin(treated_vals), "treated", "comparison").astype(object)
    arm[data[level].isna().to_numpy()] = None
    period = np.where(wave_col.isin(waves[:k]), "pre", wave_col).astype(object)
    period[~wave_col.isin(waves).to_numpy()] = None
    cd = _cells_with(design, ["wave", level])  # the analysis' cells when shared
    dm = cd.dm if cd is not None else DomainMeans(design)
    ds = dm.domains([period, arm])
    index = {(str(p), str(a)): i for i, (p, a) in enumerate(ds.labels.itertuples(index=False, name=None))}
    posts = []
    for post in waves[k:]:
        need = [(post, "treated"), ("pre", "treated"), (post, "comparison"), ("pre", "comparison")]
        if all(c in index for c in need):
            posts.append((post, [index[c] for c in need]))
    # one row of coefficients per post wave: (treated post - treated pre) - (comparison post - comparison pre)
    lmat = np.zeros((len(posts), len(ds)))
    for i, (_post, cols) in enumerate(posts):
        lmat[i, cols] = [1.0, -1.0, -1.0, 1.0]
    chosen = [s for s in specs if s.statistic in ("share", "score")
              and (not evaluation.indicators or s.indicator in evaluation.indicators)]
    rows = []
    degf = design.degf
    cache = _values_cache(data)
    for spec in chosen if posts else []:
        y, _ = indicator_values(data, spec, cache)
        if np.all(np.isnan(y)):
            continue
        cell = dm.arrays(y, [ds])[0]
        con = dm.contrast_arrays(y, ds, lmat)
        for i, (post, cols) in enumerate(posts):
            cells = pd.DataFrame({"statistic": spec.statistic, "estimate": cell["estimate"][cols],
                                  "se": cell["se"][cols], "n": cell["n"][cols],
                                  "n_eff": cell["n_eff"][cols], "df": degf})
            cells["ci_low"] = cells["estimate"] - 1.96 * cells["se"]
            cells["ci_high"] = cells["estimate"] + 1.96 * cells["se"]
            rel = apply_reliability(cells, min_n, nchs)
            worst = rel["reliability"].map({"ok": 0, "flag": 1, "suppress": 2}).max()
            status = {0: "ok", 1: "flag", 2: "suppress"}[int(worst)]
            rows.append({"kind": "did", "wave": post, "wave_ref": waves[k - 1], "area_level": level,
                         "area": ";".join(treated_vals), "area_ref": "rest", "group_dim": "all", "group": "all",
                         "indicator": spec.indicator, "statistic": spec.statistic,
                         "estimate": float(con["estimate"][i]), "se": float(con["se"][i]),
                         "df": degf, "reliability": status,
                         "reliability_reason": None if status == "ok" else
                         "; ".join(sorted(set(rel["reliability_reason"].dropna())))})
    if not rows:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return _finish(pd.DataFrame(rows), adjust, ["kind", "area"])
