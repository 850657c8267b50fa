"""Weighting solvers: raking (IPF with bounds), calibration (Deville & Särndal 1992), trimming.

These are pure functions on arrays; :class:`~survey_pipeline.stats.Design` wraps them and
records the calibration regression so that variances reflect the weighting (Lumley 2010,
sec. 7.3–7.4).

References
----------
Deville, J.-C. & Särndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87,
376–382.
Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
table when the expected marginal totals are known. *Ann. Math. Statist.* 11, 427–444.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
from scipy import sparse
from scipy.special import expit

from ._linalg import stable_pinv
from .errors import ConvergenceError, WeightingError

__all__ = [
    "CAL_METHODS",
    "CalMethod",
    "TrimReport",
    "WeightingReport",
    "calibrate_weights",
    "rake_weights",
    "trim_weights",
    "weight_diagnostics",
]

CalMethod = Literal["linear", "raking", "logit"]
CAL_METHODS: tuple[str, ...] = get_args(CalMethod)


@dataclass(frozen=True)
class WeightingReport:
    """What a weighting step did.

    Attributes
    ----------
    method : str
        ``"poststratify"``, ``"rake"``, ``"calibrate:linear"`` ...
    iterations : int
        Iterations used (1 for closed-form steps).
    max_error : float
        Largest remaining relative difference between weighted and target totals.
    converged : bool
    g_min, g_max : float
        Range of the adjustment factors ``g = w_new / w_old``.
    bounded : int
        Number of rows whose ``g`` sits on a bound.
    """

    method: str
    iterations: int
    max_error: float
    converged: bool
    g_min: float
    g_max: float
    bounded: int = 0


@dataclass(frozen=True)
class TrimReport:
    """Record of a trimming step: which rows were capped and how much weight moved."""

    lower: float | None
    upper: float | None
    iterations: int
    n_trimmed_low: int
    n_trimmed_high: int
    weight_moved: float
    trimmed_rows: np.ndarray = field(repr=False)


def _ipf_sweep(w, codes_list, targets_list, w0, lo, hi):
    for codes, target in zip(codes_list, targets_list, strict=True):
        current = np.bincount(codes, weights=w, minlength=len(target))
        w = w * (target / current)[codes]
        if lo is not None or hi is not None:
            w = np.clip(w, w0 * lo if lo is not None else None, w0 * hi if hi is not None else None)
    return w


def rake_weights(
    w0: np.ndarray,
    codes_list: list[np.ndarray],
    targets_list: list[np.ndarray],
    *,
    bounds: tuple[float, float] | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, WeightingReport]:
    """Iterative proportional fitting (raking) of weights to several margins.

    Parameters
    ----------
    w0 : ndarray
        Starting weights.
    codes_list : list of ndarray
        For each margin, the 0-based cell code of every row.
    targets_list : list of ndarray
        For each margin, the population total of every cell (same order as the codes).
    bounds : (lo, hi), optional
        Bounds on ``g = w / w0``, enforced after every margin update inside the iterations
        (bounded raking); convergence then means the margins are met within ``tol`` with the
        bounds respected.
    max_iter : int
        Maximum number of full sweeps over the margins.
    tol : float
        Convergence criterion: largest ``|weighted total - target| / target`` over all cells.

    Returns
    -------
    (w, report)

    Raises
    ------
    ConvergenceError
        When the margins are not met within ``tol`` after ``max_iter`` sweeps.
    """
    lo, hi = bounds if bounds is not None else (None, None)
    w = w0.astype(float).copy()
    err = np.inf
    it = 0
    while it < max_iter:
        it += 1
        w = _ipf_sweep(w, codes_list, targets_list, w0, lo, hi)
        err = max(
            float(np.max(np.abs(np.bincount(c, weights=w, minlength=len(t)) - t) / t))
            for c, t in zip(codes_list, targets_list, strict=True)
        )
        if err < tol:
            break
    g = w / np.where(w0 == 0, 1, w0)
    nb = 0
    if bounds is not None:
        nb = int(np.sum(np.isclose(g, lo, rtol=1e-12) | np.isclose(g, hi, rtol=1e-12)))
    report = WeightingReport("rake", it, err, err < tol, float(g.min()), float(g.max()), nb)
    if err >= tol:
        raise ConvergenceError(
            f"Raking did not converge: after {it} sweeps the largest relative margin error is "
            f"{err:.3g} (tolerance {tol:g}). Raise max_iter, loosen tol, widen bounds={bounds} "
            "or collapse sparse cells."
        )
    return w, report


def _calfun(method: str, bounds: tuple[float, float]):
    lo, hi = bounds
    if method == "linear":

        def f(u):
            return np.clip(1 + u, lo, hi)

        def df(u):
            return ((u < hi - 1) & (u > lo - 1)).astype(float)

    elif method == "raking":

        def f(u):
            return np.clip(np.exp(u), lo, hi)

        def df(u):
            return np.exp(u) * ((np.exp(u) < hi) & (np.exp(u) > lo))

    else:
        if not (np.isfinite(lo) and np.isfinite(hi)) or not lo < 1 < hi:
            raise WeightingError(
                f"Logit calibration needs finite bounds lo < 1 < hi; got bounds={bounds}. "
                "Pass bounds=(0.5, 2.0) or similar."
            )
        a = (hi - lo) / ((hi - 1) * (1 - lo))
        k = np.log((1 - lo) / (hi - 1))

        # F(u) = lo + (hi - lo) * expit(a u + k): R's cal.logit, written without overflow
        def f(u):
            return lo + (hi - lo) * expit(a * u + k)

        def df(u):
            s = expit(a * u + k)
            return a * (hi - lo) * s * (1 - s)

    return f, df


def calibrate_weights(
    x: sparse.spmatrix | np.ndarray,
    w0: np.ndarray,
    population: np.ndarray,
    *,
    method: CalMethod = "linear",
    bounds: tuple[float, float] | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> tuple[np.ndarray, WeightingReport]:
    """Calibration g-weights by Newton's method on the calibration equations.

    Solves ``X'(w0 * g) = population`` with ``g = F(X lambda)`` for the distance functions of
    Deville & Särndal (1992): ``linear`` (GREG, truncated at the bounds), ``raking``
    (exponential) and ``logit`` (bounded). The iteration is R's ``grake`` (generalized inverse
    Newton steps, step halving on overflow); convergence when
    ``max |misfit| / (1 + |population|) < tol``.

    Returns
    -------
    (g, report)
    """
    if method not in CAL_METHODS:
        raise WeightingError(
            f"method={method!r} is not a calibration method; use one of {', '.join(CAL_METHODS)}."
        )
    bnds = bounds if bounds is not None else (-np.inf, np.inf)
    f, df = _calfun(method, bnds)
    xs = sparse.csr_matrix(x)
    pop = np.asarray(population, dtype=float)
    eta = np.zeros(xs.shape[1])
    u = np.zeros(xs.shape[0])
    misfit = pop - xs.T @ (w0 * f(u))
    it = 0
    err = float(np.max(np.abs(misfit) / (1 + np.abs(pop))))
    while not err < tol:
        it += 1
        if it > max_iter or not np.isfinite(err):
            raise ConvergenceError(
                f"Calibration ({method}) did not converge in {max_iter} iterations: largest "
                f"relative misfit {err:.3g}. The targets may be unreachable within "
                f"bounds={bounds}; widen the bounds, check the totals or raise max_iter."
            )
        tmat = (xs.T @ sparse.diags(w0 * df(u)) @ xs).toarray()
        deta = stable_pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + deta
        u = xs @ eta
        g = f(u)
        halvings = 0
        while not (np.all(np.isfinite(g)) and np.all(np.isfinite(df(u)))) and halvings < 50:
            deta = deta / 2
            eta = eta - deta
            u = xs @ eta
            g = f(u)
            halvings += 1
        misfit = pop - xs.T @ (w0 * g)
        err = float(np.max(np.abs(misfit) / (1 + np.abs(pop))))
    g = f(u)
    nb = 0
    if bounds is not None:
        nb = int(np.sum(np.isclose(g, bnds[0], rtol=1e-9) | np.isclose(g, bnds[1], rtol=1e-9)))
    rep = WeightingReport(
        f"calibrate:{method}", max(it, 1), err, True, float(g.min()), float(g.max()), nb
    )
    return g, rep


def trim_weights(
    w: np.ndarray,
    *,
    lower: float | None = None,
    upper: float | None = None,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> tuple[np.ndarray, TrimReport]:
    """Cap weights at ``[lower, upper]`` and redistribute the excess over untrimmed rows.

    The removed (or added) weight is spread over the rows that were not trimmed in proportion to
    their weights, so the weight total is preserved; redistribution can push other rows over a
    bound, so this repeats until no row is out of bounds (as R's ``trimWeights``).
    """
    if lower is not None and upper is not None and lower > upper:
        raise WeightingError(f"trim: lower={lower} is above upper={upper}; swap them.")
    total = w.sum()
    if upper is not None and upper * len(w) < total:
        raise WeightingError(
            f"trim: upper={upper} times {len(w)} rows is below the weight total {total:.6g}; "
            "no redistribution can respect it. Raise upper."
        )
    w = w.astype(float).copy()
    low_mask = np.zeros(len(w), bool)
    high_mask = np.zeros(len(w), bool)
    moved = 0.0
    it = 0
    while it < max_iter:
        it += 1
        over = (w > upper * (1 + tol)) if upper is not None else np.zeros(len(w), bool)
        under = (w < lower * (1 - tol)) if lower is not None else np.zeros(len(w), bool)
        if not (over.any() or under.any()):
            break
        excess = (w[over] - upper).sum() if upper is not None else 0.0
        deficit = (lower - w[under]).sum() if lower is not None else 0.0
        moved += excess + deficit
        if upper is not None:
            w[over] = upper
        if lower is not None:
            w[under] = lower
        high_mask |= over
        low_mask |= under
        free = ~(high_mask | low_mask)
        if not free.any():
            raise WeightingError("trim: every row hit a bound; widen lower/upper.")
        w[free] *= 1 + (excess - deficit) / w[free].sum()
    rep = TrimReport(
        lower,
        upper,
        it,
        int(low_mask.sum()),
        int(high_mask.sum()),
        float(moved),
        np.flatnonzero(low_mask | high_mask),
    )
    return w, rep


def weight_diagnostics(w: np.ndarray) -> dict[str, float]:
    """Summary diagnostics of a weight vector.

    Returns min, max, max/min ratio, mean, coefficient of variation (population SD / mean),
    Kish's effective sample size ``(sum w)^2 / sum w^2`` and the Kish design effect due to
    weighting ``deff_w = n / n_eff = 1 + CV^2`` (Kish 1965, sec. 11.7).
    """
    w = np.asarray(w, dtype=float)
    w = w[w > 0]
    n = len(w)
    mean = float(w.mean())
    cv = float(w.std() / mean)
    n_eff = float(w.sum() ** 2 / np.sum(w**2))
    return {
        "n": float(n),
        "min": float(w.min()),
        "max": float(w.max()),
        "ratio": float(w.max() / w.min()),
        "mean": mean,
        "cv": cv,
        "n_eff": n_eff,
        "deff_w": n / n_eff,
    }
