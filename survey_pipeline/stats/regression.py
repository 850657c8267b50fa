"""Design-based generalized linear models (R ``svyglm``) with linearized standard errors.

Point estimates solve the weighted score equations (fitted with statsmodels' GLM using the
survey weights as variance weights); the sandwich variance linearizes the coefficients,
``infl_i = (X'WX)^{-1} x_i w_i (y_i - mu_i)``, and passes the influence to the design's
variance engine (strata, PSUs, fpc and calibration residuals). Tests use the t distribution
with ``design df - p + 1`` degrees of freedom, as R's ``svyglm`` (Binder 1983;
Lumley 2010, ch. 5 and 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps

from ._linalg import one_blas_thread
from .errors import ConvergenceError, DesignError, StatsError

if TYPE_CHECKING:
    from .design import Design

__all__ = ["svyglm", "svyglm_arrays", "svyglm_domains"]


def svyglm(
    design: Design,
    outcome: str,
    predictors: Sequence[str],
    *,
    family: Literal["gaussian", "binomial"] = "gaussian",
    intercept: bool = True,
    level: float = 0.95,
    tol: float = 1e-12,
    domain: np.ndarray | None = None,
) -> pd.DataFrame:
    """Fit a survey-weighted linear (``gaussian``) or logistic (``binomial``) regression.

    Rows with a missing outcome or predictor are excluded from the fit and get zero influence
    (the design is not subset). ``domain`` (a boolean array, one value per row) fits the model
    in a domain the same way: R's ``svyglm(f, subset(design, domain))``. Returns one row per
    coefficient: ``term, estimate, se, ci_low, ci_high, df, t, p, n``.
    """
    y = design._numeric(outcome, what="glm outcome")
    xs = [design._numeric(c, what="glm predictor") for c in predictors]
    return svyglm_arrays(design, y, np.column_stack(xs) if xs else np.empty((design.n, 0)), list(predictors),
                         family=family, intercept=intercept, level=level, tol=tol, domain=domain, outcome=outcome)


def svyglm_arrays(
    design: Design,
    y: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    *,
    family: Literal["gaussian", "binomial"] = "gaussian",
    intercept: bool = True,
    level: float = 0.95,
    tol: float = 1e-12,
    domain: np.ndarray | None = None,
    outcome: str = "y",
) -> pd.DataFrame:
    """:func:`svyglm` on arrays: ``y`` (n) and ``x`` (n x k, without the intercept column), one
    row per row of the design, NaN for a missing value; ``names`` names the columns of ``x``.

    The degrees of freedom are those of the rows that enter the fit (complete cases in the
    domain with a non-zero weight): their PSUs minus their strata, minus the coefficients plus
    one, as R's ``svyglm``, whose ``degf`` is that of the design after its missing rows (and the
    rows outside a subset) are set to zero weight (Lumley 2010, sec. 5.2).
    """
    y, x, names, ok = _glm_inputs(design, y, x, names, family, intercept)
    if domain is not None:
        domain = np.asarray(domain, dtype=bool)
        if domain.shape != (design.n,):
            raise DesignError(f"glm: domain has shape {domain.shape}; give one True/False per row ({design.n}).")
        ok &= domain
    if ok.sum() <= x.shape[1]:
        raise DesignError(f"glm: {int(ok.sum())} complete case(s) for {x.shape[1]} coefficient(s) of "
                          f"outcome {outcome!r}; the model cannot be fitted.")
    if family == "binomial" and np.any((y[ok] < 0) | (y[ok] > 1)):
        raise DesignError(f"glm: binomial outcome {outcome!r} must be 0/1 (or a proportion).")
    beta, _at, infl_rows = _fit(design, y, x, ok, family, tol, outcome)
    infl = np.zeros_like(x)
    infl[ok] = infl_rows
    v = design._cov(infl)
    return _coef_table(design, names, beta, v, ok, level)


def _glm_inputs(design: Design, y, x, names: Sequence[str], family: str, intercept: bool
                ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """The checked arrays of a model: ``y``, ``x`` with its intercept column, the coefficient
    names, and the complete cases (no missing value, a non-zero weight)."""
    from .design import check_option

    check_option(family, ("gaussian", "binomial"), "family")
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float).reshape(design.n, -1)
    if len(y) != design.n or x.shape[1] != len(names):
        raise DesignError(f"glm: y has {len(y)} values and x {x.shape[1]} columns for {design.n} rows and "
                          f"{len(names)} names; give one value per row of the design and one name per column.")
    names = (["(Intercept)"] if intercept else []) + list(names)
    x = np.column_stack(([np.ones(design.n)] if intercept else []) + [x])
    return y, x, names, ~np.isnan(y) & ~np.isnan(x).any(axis=1) & (design.weights > 0)


def _fit(design: Design, y: np.ndarray, x: np.ndarray, ok: np.ndarray, family: str, tol: float,
         outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coefficients on the rows ``ok`` (IRLS, the survey weights as variance weights), the
    rows and their influence ``(X'WX)^{-1} x_i w_i (y_i - mu_i)`` (one row per row of ``ok``)."""
    w = design.weights
    fam = sm.families.Gaussian() if family == "gaussian" else sm.families.Binomial()
    xo, yo, wo = x[ok], y[ok], w[ok]
    wn = wo / wo.mean()
    model = sm.GLM(yo, xo, family=fam, var_weights=wn)
    res = model.fit(tol=tol, maxiter=200)
    if not res.converged:
        raise ConvergenceError(f"glm: IRLS did not converge for outcome {outcome!r}.")
    beta = np.asarray(res.params)
    mu = 1 / (1 + np.exp(-(xo @ beta))) if family == "binomial" else xo @ beta
    work = np.ones(len(yo)) if family == "gaussian" else mu * (1 - mu)
    a = (xo * (wo * work)[:, None]).T @ xo
    with one_blas_thread():  # predictors x predictors
        ainv = np.linalg.inv(a)
    return beta, np.flatnonzero(ok), (xo * (wo * (yo - mu))[:, None]) @ ainv


def _coef_table(design: Design, names: list[str], beta: np.ndarray, v: np.ndarray, ok: np.ndarray,
                level: float) -> pd.DataFrame:
    se = np.sqrt(np.diag(v))
    df = float(design._domain_df(np.where(ok, 0, -1), 1)[0]) + 1 - len(beta)
    tq = sps.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    t = beta / se
    return pd.DataFrame({
        "term": names,
        "estimate": beta,
        "se": se,
        "ci_low": beta - tq * se,
        "ci_high": beta + tq * se,
        "df": float(df),
        "t": t,
        "p": 2 * sps.t.sf(np.abs(t), df) if df > 0 else np.nan,
        "n": int(ok.sum()),
    })


def svyglm_domains(
    design: Design,
    y: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    domains: Sequence[np.ndarray],
    *,
    family: Literal["gaussian", "binomial"] = "gaussian",
    level: float = 0.95,
    tol: float = 1e-12,
    outcome: str = "y",
) -> list[pd.DataFrame | StatsError]:
    """``[svyglm_arrays(design, y, x, names, domain=d, ...) for d in domains]`` (with an
    intercept), the same numbers, for one model fitted in several domains of the design (e.g. a
    wave and its districts): the arrays are checked and the complete cases found once, and the
    variances of every domain's coefficients come from one pass over the rows
    (:meth:`~survey_pipeline.stats.Design._cov_blocks`). A domain whose model cannot be fitted
    gets its error (a :class:`~survey_pipeline.stats.errors.StatsError`) in its place."""
    y, x, names, complete = _glm_inputs(design, y, x, names, family, True)
    k = x.shape[1]
    out: list = []
    fitted: list[tuple[int, np.ndarray, np.ndarray]] = []
    rows, cols, vals = [], [], []
    for d in domains:
        d = np.asarray(d, dtype=bool)
        if d.shape != (design.n,):
            raise DesignError(f"glm: domain has shape {d.shape}; give one True/False per row ({design.n}).")
        ok = complete & d
        try:
            if ok.sum() <= k:
                raise DesignError(f"glm: {int(ok.sum())} complete case(s) for {k} coefficient(s) of "
                                  f"outcome {outcome!r}; the model cannot be fitted.")
            if family == "binomial" and np.any((y[ok] < 0) | (y[ok] > 1)):
                raise DesignError(f"glm: binomial outcome {outcome!r} must be 0/1 (or a proportion).")
            beta, at, infl = _fit(design, y, x, ok, family, tol, outcome)
        except StatsError as exc:
            out.append(exc)
            continue
        # the influence rows as svyglm_arrays's sparse copy of its n x k array has them (no zeros)
        r, c = np.nonzero(infl)
        rows.append(at[r])
        cols.append(c + k * len(fitted))
        vals.append(infl[r, c])
        fitted.append((len(out), beta, ok))
        out.append(None)
    if fitted:
        from scipy import sparse

        s = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(design.n, k * len(fitted)))
        covs = design._cov_blocks(s, [slice(k * i, k * (i + 1)) for i in range(len(fitted))])
        for (pos, beta, ok), v in zip(fitted, covs, strict=True):
            out[pos] = _coef_table(design, names, beta, v, ok, level)
    return out
