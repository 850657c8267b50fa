"""Area-level small-area estimation: the Fay–Herriot model and its EBLUP.

The model (Fay & Herriot 1979) links a direct estimate ``y_d`` of area ``d`` with known
sampling variance ``D_d`` ("vardir") to area covariates ``x_d``::

    y_d = theta_d + e_d,   e_d ~ N(0, D_d)          (sampling model)
    theta_d = x_d' beta + u_d,   u_d ~ N(0, A)       (linking model)

The EBLUP of ``theta_d`` shrinks the direct estimate towards the regression-synthetic estimate
``x_d' beta``: ``eblup_d = gamma_d y_d + (1 - gamma_d) x_d' beta`` with ``gamma_d = A / (A +
D_d)``. The variance component ``A`` is fitted by REML, ML (Fisher scoring) or the Fay–Herriot
moment method; the MSE is Prasad & Rao's (1990) second-order approximation ``g1 + g2 + 2 g3``
with the bias corrections of Datta & Lahiri (2000) for ML and of Datta, Rao & Smith (2005) for
the FH method, computed exactly as R's ``sae::mseFH`` does (Molina & Marhuenda 2015), and the
fitting iteration is ``sae::eblupFH``'s (same starting value, update, stopping rule and
truncation at zero), so the numbers agree with R to rounding (``tests/reference/make_sae.R``).

References
----------
Fay, R. E. & Herriot, R. A. (1979). Estimates of income for small places: an application of
James–Stein procedures to census data. *JASA* 74, 269–277.
Prasad, N. G. N. & Rao, J. N. K. (1990). The estimation of the mean squared error of small-area
estimators. *JASA* 85, 163–171.
Datta, G. S. & Lahiri, P. (2000). A unified measure of uncertainty of estimated best linear
unbiased predictors in small area estimation problems. *Statistica Sinica* 10, 613–627.
Datta, G. S., Rao, J. N. K. & Smith, D. D. (2005). On measuring the variability of small area
estimators under a basic area level model. *Biometrika* 92, 183–196.
Rao, J. N. K. & Molina, I. (2015). *Small Area Estimation*, 2nd ed., Wiley, chapter 6.
Molina, I. & Marhuenda, Y. (2015). sae: an R package for small area estimation. *The R
Journal* 7(1), 81–98.
Duan, N. (1983). Smearing estimate: a nonparametric retransformation method. *JASA* 78,
605–610.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy import stats as sps

from .errors import ConvergenceError, EstimationError

__all__ = [
    "BACK_TRANSFORMS",
    "FH_METHODS",
    "FH_TRANSFORMS",
    "GVF_METHODS",
    "BackTransform",
    "FHMethod",
    "FHTransform",
    "FayHerriotResult",
    "GVFMethod",
    "GVFResult",
    "fay_herriot",
    "smooth_vardir",
]

FHMethod = Literal["REML", "ML", "FH"]
FH_METHODS: tuple[str, ...] = get_args(FHMethod)
FHTransform = Literal["none", "arcsin"]
FH_TRANSFORMS: tuple[str, ...] = get_args(FHTransform)
BackTransform = Literal["bc", "naive"]
BACK_TRANSFORMS: tuple[str, ...] = get_args(BackTransform)
GVFMethod = Literal["loglinear", "proportion"]
GVF_METHODS: tuple[str, ...] = get_args(GVFMethod)


def _check(value: object, allowed: Sequence[str], name: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise EstimationError(
            f"fay_herriot: {name}={value!r} is not a valid option; use exactly one of: "
            f"{', '.join(allowed)}."
        )


@dataclass(frozen=True)
class FayHerriotResult:
    """A fitted Fay–Herriot model.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per area, indexed like ``y``. Model scale (the scale of ``y``, or
        ``arcsin(sqrt(y))`` with ``transform="arcsin"``): ``direct``, ``vardir``, ``synthetic``
        (``x' beta``), ``gamma`` (shrinkage weight ``A / (A + D)``, 0 for an area without a
        sample), ``eblup``, ``mse`` and its parts ``g1``, ``g2``, ``g3``, ``bias_term`` (``mse =
        g1 + g2 + 2 g3 - bias_term``; for an area without a sample ``g1`` holds ``A``, see
        :func:`fay_herriot`). Input scale: ``estimate``, ``estimate_mse``, ``lower``,
        ``upper`` (identical to the model-scale numbers with ``transform="none"``), ``rrmse``
        (``sqrt(estimate_mse) / |estimate|``). ``sampled`` says whether the area had a direct
        estimate.
    coefficients : pandas.DataFrame
        One row per column of ``X``: ``estimate``, ``se`` (``sqrt(diag((X'V^-1X)^-1))``),
        ``z`` and ``p`` (two-sided normal), as ``sae::eblupFH``'s ``estcoef``.
    variance : float
        The fitted variance component ``A`` (truncated at 0).
    variance_se : float
        Its asymptotic standard error at the fitted value: ``sqrt(2 / tr(P^2))`` for REML,
        ``sqrt(2 / sum(1/(A+D)^2))`` for ML and ``sqrt(2 m) / sum(1/(A+D))`` for FH.
    variance_unbounded : float
        The last iterate before truncation at zero (negative when the data call for no
        between-area variation).
    iterations : int
        Fisher-scoring (or FH-moment) iterations used.
    converged : bool
        Always ``True`` on a returned result; non-convergence raises :class:`ConvergenceError`.
    method, transform, back_transform : str
        The options used.
    loglike : float
        The (unrestricted) log likelihood at the estimates, as ``sae``'s ``goodness``.
    """

    estimates: pd.DataFrame
    coefficients: pd.DataFrame
    variance: float
    variance_se: float
    variance_unbounded: float
    iterations: int
    converged: bool
    method: str
    transform: str
    back_transform: str
    loglike: float

    @property
    def fit(self) -> pd.DataFrame:
        """One-row summary of the fit: method, variance component, its SE, iterations, areas."""
        est = self.estimates
        return pd.DataFrame(
            {
                "method": [self.method],
                "transform": [self.transform],
                "variance": [self.variance],
                "variance_se": [self.variance_se],
                "variance_unbounded": [self.variance_unbounded],
                "iterations": [self.iterations],
                "converged": [self.converged],
                "loglike": [self.loglike],
                "n_areas": [len(est)],
                "n_sampled": [int(est["sampled"].sum())],
            }
        )


def _aligned_vector(obj, index: pd.Index, by_label: bool, what: str) -> np.ndarray:
    """``obj`` as a float vector in the order of ``index`` (by label when both are labelled)."""
    if by_label and isinstance(obj, pd.Series):
        if not (
            len(obj.index) == len(index)
            and obj.index.isin(index).all()
            and index.isin(obj.index).all()
        ):
            missing = list(index.difference(obj.index)[:5])
            raise EstimationError(
                f"fay_herriot: the index of {what} does not match the index of y (areas of y "
                f"missing from {what}: {missing}). Give both for the same areas."
            )
        obj = obj.reindex(index)
    v = np.asarray(obj, dtype=float).reshape(-1)
    if len(v) != len(index):
        raise EstimationError(
            f"fay_herriot: {what} has {len(v)} values for {len(index)} areas; give one per area."
        )
    return v


def _as_design(
    y: pd.Series | Sequence[float] | np.ndarray,
    vardir: pd.Series | Sequence[float] | np.ndarray | None,
    X: pd.DataFrame | np.ndarray | None,
) -> tuple[pd.Index, np.ndarray, np.ndarray | None, np.ndarray, list[str]]:
    if isinstance(y, pd.Series):
        index = y.index
        if index.has_duplicates:
            raise EstimationError(
                f"fay_herriot: the index of y repeats areas {list(index[index.duplicated()][:5])}; "
                "give one direct estimate per area."
            )
        yv = y.to_numpy(dtype=float)
    else:
        yv = np.asarray(y, dtype=float)
        if yv.ndim != 1:
            raise EstimationError(f"fay_herriot: y must be one-dimensional (got shape {yv.shape}).")
        index = pd.RangeIndex(len(yv), name="area")
    m = len(yv)

    dv = (
        None
        if vardir is None
        else _aligned_vector(vardir, index, isinstance(y, pd.Series), "vardir")
    )
    if X is None:
        Xm = np.ones((m, 1))
        names = ["(Intercept)"]
    elif isinstance(X, pd.DataFrame):
        if isinstance(y, pd.Series):
            if not (len(X.index) == m and X.index.isin(index).all() and index.isin(X.index).all()):
                raise EstimationError(
                    "fay_herriot: the index of X does not match the index of y (areas of y "
                    f"missing from X: {list(index.difference(X.index)[:5])}). Give both for the "
                    "same areas."
                )
            X = X.reindex(index)
        names = [str(c) for c in X.columns]
        try:
            Xm = X.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise EstimationError(
                "fay_herriot: X must be numeric (code categories as indicator columns, e.g. "
                f"pandas.get_dummies(..., drop_first=True)): {exc}"
            ) from None
    else:
        Xm = np.asarray(X, dtype=float)
        if Xm.ndim == 1:
            Xm = Xm[:, None]
        names = [f"x{j}" for j in range(Xm.shape[1])]
    if Xm.shape[0] != m:
        raise EstimationError(
            f"fay_herriot: X has {Xm.shape[0]} rows for {m} areas; give one per area."
        )
    bad = ~np.isfinite(Xm).all(axis=1)
    if bad.any():
        raise EstimationError(
            f"fay_herriot: X has missing or infinite values for areas {list(index[bad][:5])}; "
            "every area (with or without a sample) needs its covariates."
        )
    return index, yv, dv, Xm, names


def _fit_variance(
    y: np.ndarray, D: np.ndarray, X: np.ndarray, method: str, precision: float, maxiter: int
) -> tuple[float, float, int, bool]:
    """``sae::eblupFH``'s iteration. Returns (last iterate, last relative change, k, converged)."""
    m, p = X.shape
    A = float(np.median(D))
    k = 0
    diff = precision + 1.0
    while diff > precision and k < maxiter:
        k += 1
        vi = 1.0 / (A + D)
        XtVi = (vi[:, None] * X).T
        try:
            Q = np.linalg.inv(XtVi @ X)
        except np.linalg.LinAlgError:
            raise ConvergenceError(
                f"fay_herriot(method={method!r}): X'V^-1X became singular at iteration {k} "
                f"(variance component {A:.6g}); the iteration diverged. Check X for collinear "
                "columns or try another method."
            ) from None
        beta = Q @ (XtVi @ y)
        resid = y - X @ beta
        if method == "FH":
            s = float(np.sum(resid**2 * vi) - (m - p))
            F = float(np.sum(vi))
        else:
            Py = vi * resid
            if method == "ML":
                s = -0.5 * float(np.sum(vi)) + 0.5 * float(Py @ Py)
                F = 0.5 * float(np.sum(vi**2))
            else:  # REML
                trP = float(np.sum(vi) - np.trace(Q @ (XtVi * vi) @ X))
                M2 = (XtVi * vi) @ X
                M3 = (XtVi * vi**2) @ X
                QM2 = Q @ M2
                trPP = float(np.sum(vi**2) - 2.0 * np.trace(Q @ M3) + np.trace(QM2 @ QM2))
                s = -0.5 * trP + 0.5 * float(Py @ Py)
                F = 0.5 * trPP
        A_new = A + s / F
        diff = abs((A_new - A) / A) if A != 0 else np.inf
        A = A_new
        if not np.isfinite(A):
            raise ConvergenceError(
                f"fay_herriot(method={method!r}): the variance component became {A} at "
                f"iteration {k}; the iteration diverged. Try another method or check vardir."
            )
    converged = not (k >= maxiter and diff >= precision)
    return A, diff, k, converged


def fay_herriot(
    y: pd.Series | Sequence[float] | np.ndarray,
    vardir: pd.Series | Sequence[float] | np.ndarray | None,
    X: pd.DataFrame | np.ndarray | None = None,
    method: FHMethod = "REML",
    *,
    transform: FHTransform = "none",
    n_eff: pd.Series | Sequence[float] | np.ndarray | None = None,
    back_transform: BackTransform = "bc",
    level: float = 0.95,
    precision: float = 1e-4,
    maxiter: int = 100,
) -> FayHerriotResult:
    """Fit the Fay–Herriot area-level model and predict every area (EBLUP and MSE).

    Parameters
    ----------
    y : Series or array
        Direct estimates, one per area (the Series index labels the areas and is kept). ``NaN``
        marks an area without a sample: it gets the regression-synthetic estimate.
    vardir : Series or array, optional
        Sampling variances ``D_d`` of the direct estimates, treated as known (smooth them first
        with :func:`smooth_vardir` when they are themselves noisy). Must be positive for every
        sampled area; ignored for areas without a sample. Must be ``None`` with
        ``transform="arcsin"`` (give ``n_eff`` instead).
    X : DataFrame or array, optional
        Area covariates including the intercept column (``sae`` formulas add it; here it is
        explicit), one row per area, no missing values. Default: intercept only.
    method : {"REML", "ML", "FH"}
        Fit of the variance component: Fisher scoring of the restricted or full likelihood, or
        the Fay–Herriot moment equation (``sae::eblupFH``).
    transform : {"none", "arcsin"}
        ``"arcsin"`` for shares near 0 or 1: the model is fitted to ``arcsin(sqrt(y))``, whose
        sampling variance ``1 / (4 n_eff)`` does not depend on the share (so areas whose direct
        share is 0 or 1, with direct variance 0, still enter with an honest variance), and the
        results are transformed back (see ``back_transform``).
    n_eff : Series or array, optional
        Effective sample sizes (``n / deff``) for ``transform="arcsin"``.
    back_transform : {"bc", "naive"}
        With ``transform="arcsin"``: ``"naive"`` reports ``sin(eblup)^2``; ``"bc"``
        (bias-corrected) reports ``E[sin(theta)^2]`` for ``theta ~ N(eblup, mse)``, which is
        ``(1 - cos(2 eblup) exp(-2 mse)) / 2``. Either way ``estimate_mse`` is
        ``E[(estimate - sin(theta)^2)^2]`` under that normal approximation (closed form) and
        the interval is ``sin(.)^2`` of the model-scale interval clipped to ``[0, pi/2]``. Not
        used (and refused if changed) without a transformation.
    level : float
        Confidence level of the normal intervals ``eblup -/+ z sqrt(mse)``.
    precision, maxiter : float, int
        Stopping rule of the iteration, as ``sae``'s ``PRECISION`` and ``MAXITER``: stop when the
        relative change of the variance component is at most ``precision``. ``sae``'s default
        ``1e-4`` stops before convergence (REML on ``milk``: 0.018550222 against 0.018550335 at
        ``1e-12``); give ``precision=1e-10`` for the converged estimator.

    Returns
    -------
    FayHerriotResult
        ``estimates`` (per area), ``coefficients``, ``variance`` and the fit details.

    Raises
    ------
    EstimationError
        Unknown option, misaligned or missing input, non-positive ``vardir``, fewer sampled
        areas than columns of ``X``, or ``X`` not of full column rank on the sampled areas.
    ConvergenceError
        The iteration did not converge in ``maxiter`` steps or diverged (``sae`` returns
        ``convergence = FALSE``).

    Notes
    -----
    *Fit.* As ``sae::eblupFH``: start at the median of ``vardir``; update ``A <- A + s/F`` with
    the REML or ML score ``s`` and Fisher information ``F`` (FH: the moment equation
    ``sum (y - x'beta)^2 / (A + D) = m - p`` and ``F = sum 1/(A + D)``), without truncation
    during the iteration; stop on the relative change; truncate the final value at 0.

    *MSE* (Prasad & Rao 1990; Datta & Lahiri 2000; as ``sae::mseFH``), with ``B_d = D_d / (A +
    D_d)`` and ``Q = (X'V^-1X)^-1``: ``g1 = D_d (1 - B_d)``, ``g2 = B_d^2 x_d' Q x_d``, ``g3 =
    B_d^2 V_A / (A + D_d)`` with ``V_A = 2 / sum (A + D)^-2`` (REML, ML) or ``2 m / (sum (A +
    D)^-1)^2`` (FH); ``mse = g1 + g2 + 2 g3 - b B_d^2`` where ``b`` is the first-order bias of
    the estimator of ``A``: 0 for REML, ``-tr(Q X'V^-2X) / sum (A + D)^-2`` for ML and ``2 (m
    sum (A + D)^-2 - (sum (A + D)^-1)^2) / (sum (A + D)^-1)^3`` for FH (Datta, Rao & Smith
    2005).

    *Variance component at zero.* Then ``gamma = 0`` and every sampled area gets its synthetic
    estimate ``x'beta``; ``g1 = 0`` and the MSE is ``g2 + 2 g3 - b`` (``B_d = 1``): the
    uncertainty of ``beta`` plus the Prasad–Rao allowance for the estimation of ``A``, which
    is still positive. It does not allow for model misspecification: an all-synthetic fit is
    only as good as its covariates.

    *Areas without a sample* (``y`` is ``NaN``) get the regression-synthetic estimator
    ``x_l' beta`` (Rao & Molina 2015, chapter 6), whose MSE estimator is
    ``A + x_l' Q x_l - b``: the model error ``A`` of the area effect that no data inform, the
    uncertainty of ``beta`` (``g2`` with ``B = 1``), and the same first-order bias correction
    ``b`` of the estimated ``A`` as the sampled areas use (there is no ``g3`` term: ``A``
    enters ``x_l' beta`` only through ``beta``, at second order). In ``estimates`` this ``A``
    is reported as ``g1``. The fit uses the sampled areas only.
    """
    _check(method, FH_METHODS, "method")
    _check(transform, FH_TRANSFORMS, "transform")
    _check(back_transform, BACK_TRANSFORMS, "back_transform")
    if transform == "none" and back_transform != "bc":
        raise EstimationError(
            "fay_herriot: back_transform applies only with transform='arcsin'; leave it at its "
            "default without a transformation."
        )
    if not (0 < level < 1):
        raise EstimationError(f"fay_herriot: level={level!r} must be between 0 and 1 (e.g. 0.95).")
    if not (precision > 0) or int(maxiter) != maxiter or maxiter < 1:
        raise EstimationError(
            f"fay_herriot: precision={precision!r} must be > 0 and maxiter={maxiter!r} a positive "
            "integer."
        )
    index, yv, dv, Xm, names = _as_design(y, vardir, X)
    p = Xm.shape[1]
    if transform == "arcsin":
        if dv is not None:
            raise EstimationError(
                "fay_herriot(transform='arcsin'): give the effective sample sizes as n_eff and "
                "vardir=None; the sampling variance on the arcsine scale is 1 / (4 n_eff)."
            )
        if n_eff is None:
            raise EstimationError(
                "fay_herriot(transform='arcsin') needs n_eff (effective sample size n / deff "
                "per area, e.g. from smooth_vardir(method='proportion'))."
            )
        ne = _aligned_vector(n_eff, index, isinstance(y, pd.Series), "n_eff")
        sampled_in = np.isfinite(yv)
        out_of_range = sampled_in & ((yv < 0) | (yv > 1))
        if out_of_range.any():
            raise EstimationError(
                f"fay_herriot(transform='arcsin'): y must be shares in [0, 1]; areas "
                f"{list(index[out_of_range][:5])} are not."
            )
        bad_n = sampled_in & ~(np.isfinite(ne) & (ne > 0))
        if bad_n.any():
            raise EstimationError(
                f"fay_herriot: n_eff must be positive for every sampled area; areas "
                f"{list(index[bad_n][:5])} have {list(ne[bad_n][:5])}."
            )
        direct = yv
        yv = np.where(sampled_in, np.arcsin(np.sqrt(np.clip(yv, 0, 1))), np.nan)
        dv = np.where(sampled_in, 1.0 / (4.0 * ne), np.nan)
    else:
        if n_eff is not None:
            raise EstimationError(
                "fay_herriot: n_eff is used only with transform='arcsin'; give vardir instead."
            )
        if dv is None:
            raise EstimationError("fay_herriot: vardir (sampling variances) is required.")
        direct = yv

    sampled = np.isfinite(yv)
    bad_v = sampled & ~(np.isfinite(dv) & (dv > 0))
    if bad_v.any():
        raise EstimationError(
            f"fay_herriot: vardir must be positive and finite for every area with a direct "
            f"estimate; areas {list(index[bad_v][:5])} have {list(dv[bad_v][:5])}. Smooth the "
            "variances (smooth_vardir) or drop those direct estimates (set y to NaN)."
        )
    ys, Ds, Xs = yv[sampled], dv[sampled], Xm[sampled]
    m = len(ys)
    if m <= p:
        raise EstimationError(
            f"fay_herriot: {m} sampled areas for {p} coefficients; the model needs more areas "
            "with a direct estimate than columns of X."
        )
    if np.linalg.matrix_rank(Xs) < p:
        raise EstimationError(
            f"fay_herriot: the columns of X ({', '.join(names)}) are linearly dependent on the "
            "sampled areas; drop a redundant column (e.g. one level of each categorical)."
        )

    A_last, diff, k, converged = _fit_variance(ys, Ds, Xs, method, precision, int(maxiter))
    if not converged:
        raise ConvergenceError(
            f"fay_herriot(method={method!r}): the variance component did not converge in "
            f"{k} iterations (last value {A_last:.6g}, relative change {diff:.3g} > "
            f"precision {precision:g}). Often the direct estimates vary less than their "
            "sampling variances imply; try method='REML' or 'ML', raise maxiter, or check vardir."
        )
    A = max(A_last, 0.0)

    vi = 1.0 / (A + Ds)
    XtVi = (vi[:, None] * Xs).T
    try:
        Q = np.linalg.inv(XtVi @ Xs)
    except np.linalg.LinAlgError:
        raise EstimationError(
            f"fay_herriot: X'V^-1X is singular at the fitted variance component {A:.6g}; the "
            "columns of X are (numerically) collinear on the sampled areas. Drop a redundant column."
        ) from None
    beta = Q @ (XtVi @ ys)
    se_beta = np.sqrt(np.diag(Q))
    resid = ys - Xs @ beta
    loglike = -0.5 * float(np.sum(np.log(2 * np.pi * (A + Ds)) + resid**2 / (A + Ds)))

    sum_v2 = float(np.sum(vi**2))
    sum_v = float(np.sum(vi))
    if method == "FH":
        var_A = 2.0 * m / sum_v**2
        bias = 2.0 * (m * sum_v2 - sum_v**2) / sum_v**3
        variance_se = float(np.sqrt(var_A))
    else:
        var_A = 2.0 / sum_v2
        if method == "ML":
            bias = -float(np.trace(Q @ ((XtVi * vi) @ Xs))) / sum_v2
            variance_se = float(np.sqrt(var_A))
        else:
            bias = 0.0
            M2 = (XtVi * vi) @ Xs
            QM2 = Q @ M2
            trPP = sum_v2 - 2.0 * np.trace(Q @ ((XtVi * vi**2) @ Xs)) + np.trace(QM2 @ QM2)
            variance_se = float(np.sqrt(2.0 / trPP))

    synthetic = Xm @ beta
    xQx = np.einsum("ij,jk,ik->i", Xm, Q, Xm)
    D_all = np.where(sampled, dv, np.nan)
    Bd = np.where(sampled, D_all / (A + D_all), 1.0)
    gamma = np.where(sampled, 1.0 - Bd, 0.0)
    g1 = np.where(sampled, D_all * (1.0 - Bd), A)
    g2 = Bd**2 * xQx
    g3 = np.where(sampled, Bd**2 * var_A / (A + D_all), 0.0)
    bias_term = bias * Bd**2
    mse = g1 + g2 + 2.0 * g3 - bias_term
    eblup = np.where(sampled, synthetic + gamma * (yv - synthetic), synthetic)

    z = float(sps.norm.ppf(0.5 + level / 2))
    rmse = np.sqrt(np.maximum(mse, 0.0))
    lo_t, hi_t = eblup - z * rmse, eblup + z * rmse
    if transform == "arcsin":
        mu = np.clip(eblup, 0.0, np.pi / 2)
        s2 = np.maximum(mse, 0.0)
        mean_bc = (1.0 - np.cos(2 * mu) * np.exp(-2 * s2)) / 2.0
        var_n = (
            (1.0 + np.cos(4 * mu) * np.exp(-8 * s2)) / 2.0 - (np.cos(2 * mu) * np.exp(-2 * s2)) ** 2
        ) / 4.0
        estimate = mean_bc if back_transform == "bc" else np.sin(mu) ** 2
        estimate_mse = var_n + (estimate - mean_bc) ** 2
        lower = np.sin(np.clip(lo_t, 0.0, np.pi / 2)) ** 2
        upper = np.sin(np.clip(hi_t, 0.0, np.pi / 2)) ** 2
    else:
        estimate, estimate_mse, lower, upper = eblup, mse, lo_t, hi_t
    with np.errstate(divide="ignore", invalid="ignore"):
        rrmse = np.sqrt(np.maximum(estimate_mse, 0.0)) / np.abs(estimate)

    estimates = pd.DataFrame(
        {
            "sampled": sampled,
            "direct": direct,
            "vardir": D_all,
            "synthetic": synthetic,
            "gamma": gamma,
            "eblup": eblup,
            "mse": mse,
            "g1": g1,
            "g2": g2,
            "g3": g3,
            "bias_term": bias_term,
            "estimate": estimate,
            "estimate_mse": estimate_mse,
            "lower": lower,
            "upper": upper,
            "rrmse": rrmse,
        },
        index=index,
    )
    zval = beta / se_beta
    coefficients = pd.DataFrame(
        {"estimate": beta, "se": se_beta, "z": zval, "p": 2 * sps.norm.sf(np.abs(zval))},
        index=pd.Index(names, name="term"),
    )
    return FayHerriotResult(
        estimates=estimates,
        coefficients=coefficients,
        variance=A,
        variance_se=variance_se,
        variance_unbounded=float(A_last),
        iterations=k,
        converged=True,
        method=method,
        transform=transform,
        back_transform=back_transform,
        loglike=loglike,
    )


@dataclass(frozen=True)
class GVFResult:
    """Smoothed sampling variances from a generalised variance function.

    Attributes
    ----------
    table : pandas.DataFrame
        Per area (index of the input): ``vardir`` (given), ``n``, ``vardir_smoothed`` and, for
        ``method="proportion"``, ``n_eff`` (``n / deff``, for ``fay_herriot(transform="arcsin")``).
    parameters : pandas.Series
        ``loglinear``: ``intercept``, ``slope``, ``smearing`` (Duan's factor), ``n_fit``.
        ``proportion``: ``deff`` (median design effect) and ``n_fit``.
    method : str
    """

    table: pd.DataFrame
    parameters: pd.Series
    method: str


ZERO_VARIANCE_RTOL = 1e-10
"""A direct variance at most this times the median positive one is rounding error of 0 (smooth_vardir)."""


def smooth_vardir(
    vardir: pd.Series | Sequence[float] | np.ndarray,
    n: pd.Series | Sequence[float] | np.ndarray,
    method: GVFMethod = "loglinear",
    *,
    y: pd.Series | Sequence[float] | np.ndarray | None = None,
    p: float | pd.Series | Sequence[float] | np.ndarray | None = None,
) -> GVFResult:
    """Smooth direct sampling variances with a generalised variance function (GVF).

    The direct variance of a small area is itself estimated from a handful of respondents and
    is noisy (and 0 when all of them answered alike), while the Fay–Herriot model treats it as
    known. A GVF replaces it with a fitted function of the area's sample size.

    Parameters
    ----------
    vardir : Series or array
        Direct variances (NaN or <= 0 where not usable: they do not enter the fit but still get
        a smoothed value when ``n > 0``). A variance at most :data:`ZERO_VARIANCE_RTOL` times the
        median positive one counts as 0 (rounding error of a variance of 0).
    n : Series or array
        Respondents per area.
    method : {"loglinear", "proportion"}
        ``"loglinear"``: least squares of ``log(vardir)`` on ``log(n)`` over the areas with a
        positive variance; the smoothed variance is ``exp(a + b log n)`` times Duan's (1983)
        smearing factor ``mean(exp(residual))``, which undoes the bias of back-transforming a
        mean of logs. For any estimator whose variance falls like a power of ``n``.
        ``"proportion"``: for shares; ``vardir_smoothed = p (1 - p) deff / n`` with ``deff`` the
        median over areas with ``0 < y < 1`` of ``vardir n / (y (1 - y))`` (the design effect),
        and ``n_eff = n / deff``. ``p`` is the share the variance is evaluated at: by default
        the ``n``-weighted mean of ``y`` (one citywide share), or per-area values such as the
        parent district's share; the area's own ``y`` is not used there, since that would
        reintroduce the correlation between estimate and variance the smoothing removes (and
        give 0 at shares of 0 or 1).
    y : Series or array, optional
        Direct shares, required by ``"proportion"``.
    p : float or Series or array, optional
        See ``method``.

    Returns
    -------
    GVFResult
    """
    if not isinstance(method, str) or method not in GVF_METHODS:
        raise EstimationError(
            f"smooth_vardir: method={method!r} is not a valid option; use exactly one of: "
            f"{', '.join(GVF_METHODS)}."
        )
    index = (
        vardir.index
        if isinstance(vardir, pd.Series)
        else pd.RangeIndex(len(np.asarray(vardir)), name="area")
    )
    v = np.asarray(vardir, dtype=float).reshape(-1)
    for other, what in ((n, "n"), (y, "y"), (p, "p")):
        if (isinstance(vardir, pd.Series) and isinstance(other, pd.Series)
                and not (len(other) == len(index) and other.index.isin(index).all() and index.isin(other.index).all())):
            raise EstimationError(
                f"smooth_vardir: the index of {what} does not match the index of vardir; give both "
                "for the same areas."
            )
    nv = np.asarray(
        n.reindex(index) if isinstance(n, pd.Series) and isinstance(vardir, pd.Series) else n,
        dtype=float,
    ).reshape(-1)
    if len(nv) != len(v):
        raise EstimationError(f"smooth_vardir: n has {len(nv)} values for {len(v)} areas.")
    has_n = np.isfinite(nv) & (nv > 0)
    table = pd.DataFrame({"vardir": v, "n": nv}, index=index)
    # a variance that is 0 up to rounding (every respondent answered alike, computed as 5e-33, say)
    # is 0: on the log scale it would outweigh every other area and wreck the fit
    pos = np.isfinite(v) & (v > 0)
    if pos.any():
        v = np.where(pos & (v <= ZERO_VARIANCE_RTOL * np.median(v[pos])), 0.0, v)
    if method == "loglinear":
        if p is not None or y is not None:
            raise EstimationError("smooth_vardir(method='loglinear') takes no y or p.")
        use = has_n & np.isfinite(v) & (v > 0)
        if use.sum() < 3 or np.unique(nv[use]).size < 2:
            raise EstimationError(
                f"smooth_vardir: {int(use.sum())} areas with a positive variance and a sample "
                "size (at least 3 with two different sizes are needed to fit log(vardir) on log(n))."
            )
        Z = np.column_stack([np.ones(use.sum()), np.log(nv[use])])
        coef, *_ = np.linalg.lstsq(Z, np.log(v[use]), rcond=None)
        res = np.log(v[use]) - Z @ coef
        smear = float(np.mean(np.exp(res)))
        table["vardir_smoothed"] = np.where(
            has_n, np.exp(coef[0] + coef[1] * np.log(np.where(has_n, nv, 1.0))) * smear, np.nan
        )
        params = pd.Series(
            {"intercept": coef[0], "slope": coef[1], "smearing": smear, "n_fit": float(use.sum())}
        )
    else:
        if y is None:
            raise EstimationError("smooth_vardir(method='proportion') needs y, the direct shares.")
        yv = np.asarray(
            y.reindex(index) if isinstance(y, pd.Series) and isinstance(vardir, pd.Series) else y,
            dtype=float,
        ).reshape(-1)
        if len(yv) != len(v):
            raise EstimationError(f"smooth_vardir: y has {len(yv)} values for {len(v)} areas.")
        use = has_n & np.isfinite(v) & (v > 0) & np.isfinite(yv) & (yv > 0) & (yv < 1)
        if use.sum() < 1:
            raise EstimationError(
                "smooth_vardir(method='proportion'): no area has a share strictly between 0 and 1 "
                "with a positive variance, so the design effect cannot be estimated."
            )
        deff = float(np.median(v[use] * nv[use] / (yv[use] * (1 - yv[use]))))
        if p is None:
            ok = has_n & np.isfinite(yv)
            pv = np.full(len(v), float(np.sum(nv[ok] * yv[ok]) / np.sum(nv[ok])))
        else:
            pv = np.broadcast_to(
                np.asarray(
                    p.reindex(index)
                    if isinstance(p, pd.Series) and isinstance(vardir, pd.Series)
                    else p,
                    dtype=float,
                ),
                v.shape,
            ).astype(float)
        if np.any((pv[has_n] <= 0) | (pv[has_n] >= 1)):
            raise EstimationError(
                "smooth_vardir: p must be strictly between 0 and 1 for every area with a sample."
            )
        n_eff = np.where(has_n, nv / deff, np.nan)
        table["vardir_smoothed"] = pv * (1 - pv) / n_eff
        table["n_eff"] = n_eff
        params = pd.Series({"deff": deff, "n_fit": float(use.sum())})
    return GVFResult(table=table, parameters=params, method=method)
