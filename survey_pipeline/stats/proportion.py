"""Confidence intervals for survey proportions (the methods of R's ``svyciprop``).

All functions are vectorised over arrays of estimates. ``p`` is the design-based proportion,
``se`` its linearized standard error, ``df`` the design degrees of freedom and ``n`` the number
of respondents (rows) behind the estimate.

References
----------
Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for proportions with small expected
number of positive counts estimated from survey data. *Survey Methodology* 24, 193–201.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, sec. 2.3.1 and 3.2.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22, 209–212 (here with the design effective sample size, as in survey >= 4.2).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from scipy import optimize
from scipy import stats as sps

from .errors import EstimationError

__all__ = ["CI_METHODS", "CIMethod", "proportion_ci"]

CIMethod = Literal["logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson"]
CI_METHODS: tuple[str, ...] = get_args(CIMethod)


def _tcrit(alpha: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    out = np.where(np.isinf(df), sps.norm.ppf(1 - alpha / 2), np.nan)
    ok = np.isfinite(df) & (df > 0)
    out[ok] = sps.t.ppf(1 - alpha / 2, df[ok])
    return out


def _korn_graubard(p, n_eff, alpha):
    lo = np.where(p > 0, sps.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1), 0.0)
    hi = np.where(p < 1, sps.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)), 1.0)
    return lo, hi


def _likelihood_one(p: float, se: float, tq: float, n: float) -> tuple[float, float]:
    # Profile likelihood of the intercept-only binomial model with the design-based scaling of
    # the deviance (Rao–Scott), as svyglm's confint(method="likelihood"): the interval is
    # {p0 : KL(p || p0) <= t^2 se^2 / (2 p (1-p)) * n / (n - 1)}; the n/(n-1) is the
    # residual-df scaling of R's naive (model-based) variance.
    cut = tq**2 * se**2 / (2 * p * (1 - p)) * n / (n - 1)

    def kl(p0: float) -> float:
        return p * np.log(p / p0) + (1 - p) * np.log((1 - p) / (1 - p0)) - cut

    lo = optimize.brentq(kl, 1e-300, p, xtol=1e-15, rtol=1e-14) if kl(1e-300) > 0 else 0.0
    hi = optimize.brentq(kl, p, 1 - 1e-16, xtol=1e-15, rtol=1e-14) if kl(1 - 1e-16) > 0 else 1.0
    return lo, hi


def proportion_ci(
    p: np.ndarray,
    se: np.ndarray,
    df: np.ndarray | float,
    n: np.ndarray,
    method: CIMethod = "logit",
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for survey proportions.

    Parameters
    ----------
    p, se : array_like
        Proportion estimates and their standard errors.
    df : array_like or float
        Design degrees of freedom (``np.inf`` for a normal reference distribution).
    n : array_like
        Number of respondents (rows) behind each estimate; used by ``beta`` (the
        Korn–Graubard degrees-of-freedom adjustment of the effective sample size) and for
        degenerate estimates.
    method : {"logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson"}
        ``logit``/``xlogit``: Wald interval on the logit scale, back-transformed;
        ``asin``: on the arcsine-square-root scale; ``mean``: Wald on the proportion scale;
        ``beta``: Korn & Graubard (1998) Clopper–Pearson with effective sample size
        ``p(1-p)/se^2 * (t_{n-1}/t_df)^2``; ``likelihood``: Rao–Scott scaled profile
        likelihood; ``wilson``: Wilson score interval with ``n_eff = p(1-p)/se^2`` and the
        ``t_df`` critical value.
    level : float
        Confidence level.

    Returns
    -------
    (low, high) : tuple of ndarray

    Notes
    -----
    R's ``svyciprop`` returns NaN limits when the estimate is exactly 0 or 1 (zero variance).
    Here every method then returns the Korn–Graubard interval with the effective sample size
    capped at (equal to) the number of respondents ``n``: ``[0, 1-(alpha/2)^(1/n)]`` for
    ``p = 0`` and its mirror for ``p = 1``.
    """
    if method not in CI_METHODS:
        raise EstimationError(
            f"method={method!r} is not a proportion CI method; use one of {', '.join(CI_METHODS)}."
        )
    p = np.atleast_1d(np.asarray(p, dtype=float))
    se = np.atleast_1d(np.asarray(se, dtype=float))
    n = np.broadcast_to(np.asarray(n, dtype=float), p.shape)
    df_arr = np.broadcast_to(np.asarray(df, dtype=float), p.shape).copy()
    alpha = 1 - level
    tq = _tcrit(alpha, df_arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mean":
            lo, hi = p - tq * se, p + tq * se
        elif method in ("logit", "xlogit"):
            eta = np.log(p / (1 - p))
            s = se / (p * (1 - p))
            lo, hi = 1 / (1 + np.exp(-(eta - tq * s))), 1 / (1 + np.exp(-(eta + tq * s)))
        elif method == "asin":
            eta = np.arcsin(np.sqrt(p))
            s = se / (2 * np.sqrt(p * (1 - p)))
            lo, hi = np.sin(eta - tq * s) ** 2, np.sin(eta + tq * s) ** 2
        elif method == "beta":
            n_eff = p * (1 - p) / se**2
            adj = np.full(p.shape, np.nan)
            ok = (n > 1) & np.isfinite(df_arr) & (df_arr > 0)
            adj[ok] = (sps.t.ppf(alpha / 2, n[ok] - 1) / sps.t.ppf(alpha / 2, df_arr[ok])) ** 2
            adj[np.isinf(df_arr) & (n > 1)] = (
                sps.t.ppf(alpha / 2, n[np.isinf(df_arr) & (n > 1)] - 1) / sps.norm.ppf(alpha / 2)
            ) ** 2
            n_eff = n_eff * adj
            lo = sps.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            hi = sps.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
        elif method == "wilson":
            n_eff = p * (1 - p) / se**2
            z2 = tq**2
            denom = 1 + z2 / n_eff
            centre = (p + z2 / (2 * n_eff)) / denom
            half = tq / denom * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2))
            lo, hi = centre - half, centre + half
        else:  # likelihood
            lo = np.full(p.shape, np.nan)
            hi = np.full(p.shape, np.nan)
            for i in np.flatnonzero((p > 0) & (p < 1) & (se > 0) & np.isfinite(tq) & (n > 1)):
                lo[i], hi[i] = _likelihood_one(p[i], se[i], tq[i], n[i])
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    degenerate = (p == 0) | (p == 1)
    if degenerate.any():
        klo, khi = _korn_graubard(p[degenerate], n[degenerate], alpha)
        lo[degenerate], hi[degenerate] = klo, khi
    return lo, hi
