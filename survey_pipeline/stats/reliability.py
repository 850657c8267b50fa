"""Presentation (reliability) rules for proportions and multiple-comparison adjustment.

:func:`nchs_reliability` implements the NCHS Data Presentation Standards for Proportions
(Parker J. D. et al. 2017, *Vital Health Stat* 2(175)), vectorised over a results DataFrame
with columns ``estimate, ci_low, ci_high, df, n, n_eff``.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from .errors import StatsError

__all__ = ["AdjustMethod", "adjust_pvalues", "nchs_reliability"]

AdjustMethod = Literal["holm", "fdr_bh", "bonferroni"]


def adjust_pvalues(p, method: AdjustMethod = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons (Holm 1979; Benjamini & Hochberg 1995).

    NaN p-values are left NaN and do not count as tests.
    """
    if method not in get_args(AdjustMethod):
        raise StatsError(
            f"method={method!r} is not a p-value adjustment; use one of "
            f"{', '.join(get_args(AdjustMethod))}."
        )
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def nchs_reliability(
    results: pd.DataFrame,
    *,
    min_n_eff: float = 30.0,
    min_count: int | None = None,
    min_df: float = 8.0,
) -> pd.DataFrame:
    """Apply the NCHS presentation standards for proportions to a results table.

    Rules, in order (the first ``suppress`` wins; ``flag`` reasons accumulate):

    1. ``n_eff`` is capped at ``n`` (NCHS: effective n may not exceed the sample size);
       ``n_eff`` missing (estimate 0 or 1) is taken as ``n``.
    2. raw count ``n < min_count`` (if given) -> suppress;
    3. ``n_eff < min_n_eff`` (30) -> suppress;
    4. absolute CI width ``>= 0.30`` -> suppress;
    5. absolute width in ``(0.05, 0.30)`` and relative width (width / estimate) ``> 130%``
       -> suppress;
    6. design ``df < min_df`` (8) -> flag for statistical review;
    7. estimate of 0 or 1 -> flag (CI from the Korn–Graubard rule);
    8. relative CI width of the complement ``> 130%`` -> flag.

    Returns a copy with columns ``reliability`` (``ok``/``flag``/``suppress``) and ``reason``.
    """
    need = {"estimate", "ci_low", "ci_high", "df", "n", "n_eff"}
    missing = need - set(results.columns)
    if missing:
        raise StatsError(f"nchs_reliability: results lack columns {sorted(missing)}.")
    p = results["estimate"].to_numpy(float)
    n = results["n"].to_numpy(float)
    n_eff = results["n_eff"].to_numpy(float)
    n_eff = np.where(np.isnan(n_eff), n, np.minimum(n_eff, n))
    width = results["ci_high"].to_numpy(float) - results["ci_low"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = width / p
        rel_c = width / (1 - p)
    dfv = results["df"].to_numpy(float)
    rules_sup = [
        (n < min_count) if min_count is not None else np.zeros(len(p), bool),
        n_eff < min_n_eff,
        width >= 0.30,
        (width > 0.05) & (width < 0.30) & (rel > 1.30),
    ]
    reasons_sup = [
        f"raw count below {min_count}",
        f"effective sample size below {min_n_eff:g}",
        "CI width >= 0.30",
        "CI width 0.05-0.30 and relative CI width > 130%",
    ]
    rules_flag = [dfv < min_df, (p == 0) | (p == 1), (~(width >= 0.30)) & (rel_c > 1.30)]
    reasons_flag = [
        f"design df below {min_df:g}",
        "estimate is 0 or 1",
        "relative CI width of complement > 130%",
    ]
    status = np.full(len(p), "ok", dtype=object)
    reason = np.full(len(p), "", dtype=object)
    for mask, why in zip(rules_flag, reasons_flag, strict=True):
        hit = mask & (status != "suppress")
        status[hit] = "flag"
        reason[hit] = np.where(reason[hit] == "", why, reason[hit] + "; " + why)
    sup_reason = np.full(len(p), "", dtype=object)
    for mask, why in zip(rules_sup, reasons_sup, strict=True):
        hit = mask & (sup_reason == "")
        sup_reason[hit] = why
    sup = sup_reason != ""
    status[sup] = "suppress"
    reason[sup] = sup_reason[sup]
    out = results.copy()
    out["reliability"] = status
    out["reason"] = reason
    return out
