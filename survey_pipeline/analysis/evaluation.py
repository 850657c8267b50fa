"""Evaluation of a problem-solving effort: difference-in-differences against the other areas.

For the areas of the effort (treated) and every other area (comparison), the waves before the
start wave (pre, pooled) and each wave from the start on (post), the four domain means are
estimated on the full design (``by = [period, treated]``); the effect in post wave ``w`` is

    (treated w - treated pre) - (comparison w - comparison pre)

one row per post wave (an event-study layout: efforts that build up show growing effects).

Pre and post waves are different strata (independent samples) and treated and comparison areas
are disjoint domains, so ``var = sum of the four variances`` (exact without calibration; the
raking covariance is ignored). This is the design-based DiD of the seed's "evaluate the
effectiveness of crime and problem reduction efforts"; it assumes parallel trends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.errors import AnalysisError
from survey_pipeline.project import normalize_name
from survey_pipeline.stats import Design

from ._domains import domain_codes, domain_means
from .comparisons import COMPARISON_COLUMNS, _finish
from .indicators import IndicatorSpec, apply_reliability, indicator_values
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
    coded = domain_codes(data, [period, arm])
    chosen = [s for s in specs if s.statistic in ("share", "score")
              and (not evaluation.indicators or s.indicator in evaluation.indicators)]
    rows = []
    for spec in chosen:
        y, _ = indicator_values(data, spec)
        if np.all(np.isnan(y)):
            continue
        r = domain_means(design, y, [coded])[0]
        r.columns = ["period", "arm", *r.columns[2:]]
        cell = {(p, a): row for p, a, row in zip(r["period"], r["arm"], r.itertuples(), strict=True)}
        for post in waves[k:]:
            need = [(post, "treated"), ("pre", "treated"), (post, "comparison"), ("pre", "comparison")]
            if not all(c in cell for c in need):
                continue
            tp, tr, cp, cr = (cell[c] for c in need)
            four = (tp, tr, cp, cr)
            cells = pd.DataFrame({"statistic": spec.statistic, "estimate": [c.estimate for c in four],
                                  "se": [c.se for c in four], "n": [c.n for c in four],
                                  "n_eff": [c.n_eff for c in four], "df": design.degf})
            cells["ci_low"] = cells["estimate"] - 1.96 * cells["se"]
            cells["ci_high"] = cells["estimate"] + 1.96 * cells["se"]
            rel = apply_reliability(cells, min_n, nchs)
            worst = rel["reliability"].map({"ok": 0, "flag": 1, "suppress": 2}).max()
            status = {0: "ok", 1: "flag", 2: "suppress"}[int(worst)]
            rows.append({"kind": "did", "wave": post, "wave_ref": waves[k - 1], "area_level": level,
                         "area": ";".join(treated_vals), "area_ref": "rest", "group_dim": "all", "group": "all",
                         "indicator": spec.indicator, "statistic": spec.statistic,
                         "estimate": (tp.estimate - tr.estimate) - (cp.estimate - cr.estimate),
                         "se": float(np.sqrt(tp.se ** 2 + tr.se ** 2 + cp.se ** 2 + cr.se ** 2)),
                         "df": design.degf, "reliability": status,
                         "reliability_reason": None if status == "ok" else
                         "; ".join(sorted(set(rel["reliability_reason"].dropna())))})
    if not rows:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    return _finish(pd.DataFrame(rows), adjust, ["kind", "area"])
