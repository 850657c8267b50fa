"""Design-based estimation with Taylor linearization (the core of R's ``survey`` package).

A :class:`Design` holds the data, the (possibly calibrated) weights and the sampling structure
(strata, primary sampling units, finite population corrections). Every estimator builds the
influence (linearization) values of its statistic, multiplies them by the weights and passes
them to one variance engine, which

1. replaces them with residuals from each calibration regression the weights went through
   (post-stratification, raking, GREG / raking / logit calibration: Deville & Särndal 1992;
   Lumley 2010, sec. 7.3–7.4), exactly as R's ``svyrecvar`` does for ``postStratify`` and
   ``calibrate``;
2. sums them to primary sampling units, centres them within strata and applies
   ``n_h/(n_h-1) * (1 - f_h)`` (ultimate-cluster with-replacement variance with the first-stage
   finite population correction; Lumley 2010, sec. 2.2 and 3.1).

Domains (``by=``) are estimated on the full design by zeroing the influence of rows outside the
domain — never by dropping rows — so the number of PSUs per stratum and the design degrees of
freedom are those of the whole sample (Lumley 2010, sec. 2.3). Missing values of the analysis
variable are treated the same way (like R's ``na.rm=TRUE``, which subsets the design).

All of this is sparse linear algebra: nothing loops over respondents, and domains are columns
of one sparse matrix.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy import sparse
from scipy import stats as sps

from ._linalg import dense, factorize_columns, one_blas_thread, onehot, rowscale, stable_pinv
from .errors import DesignError, EstimationError, WeightingError
from .proportion import CI_METHODS, CIMethod, proportion_ci
from .weighting import (
    CAL_METHODS,
    CalMethod,
    TrimReport,
    WeightingReport,
    calibrate_weights,
    rake_weights,
    trim_weights,
)

__all__ = ["LONELY_PSU_OPTIONS", "Design", "LonelyPSU", "check_option"]

LonelyPSU = Literal["fail", "adjust", "average", "remove", "certainty"]
LONELY_PSU_OPTIONS: tuple[str, ...] = get_args(LonelyPSU)
ChisqStatistic = Literal["F", "Chisq"]
ReplicateMethod = Literal["jackknife", "bootstrap"]

RESULT_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "n", "n_eff", "deff"]


DomainDF = Literal["domain", "design"]
DOMAIN_DF_OPTIONS: tuple[str, ...] = ("domain", "design")


def check_option(value: Any, allowed: Sequence[str], name: str) -> None:
    """Refuse an option value that is not exactly one of ``allowed`` (no prefixes, no case)."""
    if not isinstance(value, str) or value not in allowed:
        raise DesignError(
            f"{name}={value!r} is not a valid option; use exactly one of: {', '.join(allowed)}."
        )


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


@dataclass(frozen=True)
class _CalStep:
    """One calibration regression: rows' calibration variables and the weights around it."""

    x: sparse.csr_matrix
    w_before: np.ndarray
    w_after: np.ndarray
    ginv: np.ndarray
    recipe: tuple[str, dict[str, Any]]


@dataclass(frozen=True, eq=False)
class _CovParts:
    """What :meth:`Design._cov` reuses across calls (see :meth:`Design._cov_parts`), with what it
    was made from: a copy of the design (``copy.copy``, e.g. after another calibration step)
    shares the attribute but not the steps, and makes its own."""

    steps: tuple
    lonely_psu: str
    scale_h: np.ndarray
    P: sparse.csr_matrix
    H: sparse.csr_matrix
    scale_psu: np.ndarray
    nok: int
    xtrs: list
    xta: list
    a_list: list | None
    spa: list
    quads: dict
    hpa: list

    def owner(self, d: Design) -> bool:
        return (len(self.steps) == len(d._steps) and all(a is b for a, b in zip(self.steps, d._steps, strict=True))
                and self.lonely_psu == d.lonely_psu and self.scale_h is d._scale_h and self.P is d._P
                and self.H is d._H)


def _tcrit(df: float, level: float) -> float:
    if not np.isfinite(df):
        return float(sps.norm.ppf(0.5 + level / 2))
    if df <= 0:
        return float("nan")
    return float(sps.t.ppf(0.5 + level / 2, df))


class Design:
    """A complex survey design for Taylor-linearization estimation.

    Parameters
    ----------
    data : DataFrame
        One row per respondent. Column names may contain dots or spaces.
    weights : str
        Column of sampling weights (inverse inclusion probabilities), finite and >= 0.
    strata : str, optional
        Stratum column. PSUs are always taken as nested within strata.
    clusters : str or list of str, optional
        PSU column, or one column per stage for multistage designs. Only the first stage is
        used for variance estimation (the *ultimate cluster* approximation, Lumley 2010,
        sec. 3.2; R does the same when no second-stage fpc is given). Default: every row is
        its own PSU.
    fpc : str, optional
        First-stage finite population correction: either the population number of PSUs in the
        stratum (values > 1) or the sampling fraction (all values <= 1), constant within each
        stratum, as R's ``svydesign(fpc=)``; the variance is then the ultimate-cluster
        estimator, as R's ``svydesign(id=~a, fpc=~f1)``. A list of two columns with two
        cluster columns, ``clusters=["a", "b"], fpc=["f1", "f2"]``, gives the two-stage
        variance of R's ``svydesign(id=~a+b, fpc=~f1+f2)``: the first-stage term plus, within
        each PSU, the variance between its sampled second-stage units, times the first-stage
        sampling fraction (``f2`` is the number of second-stage units in the PSU, or the
        fraction sampled, constant within the PSU; Särndal, Swensson & Wretman 1992, result
        4.3.1). ``lonely_psu`` applies to a PSU with a single second-stage unit that is not
        completely enumerated (``fail`` and ``average`` refuse it). :class:`DomainMeans` and
        :meth:`replicate` refuse such a design.
    lonely_psu : {"fail", "adjust", "average", "remove", "certainty"}
        What to do with strata that have a single PSU, as R's ``options(survey.lonely.psu)``:
        ``fail`` raises :class:`DesignError` (default); ``certainty`` and ``remove`` make the
        stratum contribute nothing; ``adjust`` centres its PSU total at zero (the grand mean of
        the centred influence) instead of the stratum mean; ``average`` replaces its
        contribution by the average of the other strata.

    Notes
    -----
    Every estimator returns a tidy DataFrame: the domain columns (if ``by``), then
    ``estimate, se, ci_low, ci_high, df, n, n_eff, deff``. ``ci_*`` are Wald limits with the
    t distribution on the design degrees of freedom ``df`` (PSUs minus strata of the whole
    design, also for domains, as R's ``svyby``; :meth:`proportion` uses each domain's own df,
    :meth:`domain_degf`, as R's ``svyciprop`` on a subset); ``n`` is the number of respondents with a non-missing value
    and non-zero weight in the domain; ``deff`` is the design effect against simple random
    sampling of the same size without replacement from ``N = sum of weights`` (R's ``deff=TRUE``;
    Kish 1965) and ``n_eff = n v_srs / var`` the effective sample size, ``v_srs`` the variance
    under simple random sampling with replacement (NCHS; it stays ``n`` for a simple random
    sample with weights 1, where ``deff`` is infinite). Kish's weighting-only effective size is
    in :meth:`weight_diagnostics`.

    Attributes
    ----------
    weighting_report : WeightingReport or None
        Set by :meth:`poststratify`, :meth:`rake` and :meth:`calibrate`.
    trim_report : TrimReport or None
        Set by :meth:`trim`.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str,
        strata: str | None = None,
        clusters: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        check_option(lonely_psu, LONELY_PSU_OPTIONS, "lonely_psu")
        fpc2: str | None = None
        if fpc is not None and not isinstance(fpc, str):
            fpcs = list(fpc)
            ncl = len(_as_list(clusters))
            if len(fpcs) > 2 or (len(fpcs) == 2 and ncl != 2):
                raise DesignError(
                    f"fpc={fpcs!r} with clusters={clusters!r}: give one fpc column (first stage, "
                    "ultimate-cluster variance) or two with exactly two cluster columns "
                    "(two-stage variance, as R's svydesign(id=~a+b, fpc=~f1+f2)); three or more "
                    "stages with finite population corrections are not supported."
                )
            fpc = fpcs[0] if fpcs else None
            fpc2 = fpcs[1] if len(fpcs) == 2 else None
        if not isinstance(data, pd.DataFrame):
            raise DesignError("data must be a pandas DataFrame.")
        if len(data) == 0:
            raise DesignError("data has no rows; a design needs at least two PSUs.")
        self.data = data.reset_index(drop=True)
        self._spec = {"weights": weights, "strata": strata, "clusters": clusters, "fpc": fpc}
        self.lonely_psu = lonely_psu
        n = len(self.data)
        w = self._numeric(weights, what="weights")
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            bad = np.flatnonzero(~np.isfinite(w) | (w < 0))[:5].tolist()
            raise DesignError(
                f"weights column {weights!r} has missing, infinite or negative values "
                f"(rows {bad}); weights must be finite and >= 0."
            )
        if w.sum() <= 0:
            raise DesignError(f"weights column {weights!r} sums to zero.")
        self._w = w
        self._w_sampling = w
        # strata
        if strata is None:
            scode = np.zeros(n, dtype=np.int64)
            self._strata_labels = np.array(["(all)"], dtype=object)
        else:
            scode, lab = factorize_columns(self.data, [strata], what="strata")
            if np.any(scode < 0):
                raise DesignError(f"strata column {strata!r} has missing values; fill them.")
            self._strata_labels = lab[strata].to_numpy()
        # clusters (first stage = ultimate cluster)
        cl = _as_list(clusters)
        if cl:
            ccode, _ = factorize_columns(self.data, [cl[0]], what="clusters")
            if np.any(ccode < 0):
                raise DesignError(f"cluster column {cl[0]!r} has missing values; fill them.")
            for c in cl[1:]:
                factorize_columns(self.data, [c], what="clusters")
        else:
            ccode = np.arange(n, dtype=np.int64)
        psu = pd.factorize(scode * (int(ccode.max()) + 1) + ccode, sort=False)[0].astype(np.int64)
        npsu = int(psu.max()) + 1
        psu_stratum = np.zeros(npsu, dtype=np.int64)
        psu_stratum[psu] = scode
        nstrat = len(self._strata_labels)
        n_h = np.bincount(psu_stratum, minlength=nstrat).astype(float)
        self._psu = psu
        self._strata = scode
        self._psu_stratum = psu_stratum
        self._n_h = n_h
        # fpc
        f_h = np.ones(nstrat)
        if fpc is not None:
            fv = self._numeric(fpc, what="fpc")
            if np.any(~np.isfinite(fv)) or np.any(fv <= 0):
                raise DesignError(f"fpc column {fpc!r} has missing or non-positive values.")
            per = pd.Series(fv).groupby(scode).agg(["min", "max"])
            if np.any(per["min"].to_numpy() != per["max"].to_numpy()):
                bad = self._strata_labels[np.flatnonzero(per["min"] != per["max"])[0]]
                raise DesignError(
                    f"fpc column {fpc!r} varies within stratum {bad!r}; it must be constant "
                    "within each stratum (population size or sampling fraction)."
                )
            fh = per["min"].to_numpy()
            if np.all(fv <= 1):
                pop = n_h / fh
            else:
                pop = fh
                if np.any(pop < n_h):
                    bad = self._strata_labels[np.flatnonzero(pop < n_h)[0]]
                    raise DesignError(
                        f"fpc column {fpc!r}: population size in stratum {bad!r} is smaller than "
                        "the number of sampled PSUs; give population sizes or fractions."
                    )
            f_h = (pop - n_h) / pop
        self._f_h = f_h
        lonely = n_h == 1
        if lonely.any() and lonely_psu == "fail":
            bad = self._strata_labels[np.flatnonzero(lonely)[:5]].tolist()
            raise DesignError(
                f"Stratum {bad} of column {strata!r} has only one PSU, so its variance cannot be "
                "estimated. Collapse it with a neighbouring stratum, or choose "
                "lonely_psu='adjust', 'average', 'remove' or 'certainty'."
            )
        self._lonely = lonely
        self._stage2: tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray] | None = None
        if fpc2 is not None:
            self._stage2 = self._second_stage(cl, fpc2, psu, npsu, n_h, f_h, psu_stratum, lonely_psu)
        scale = np.where(n_h > 1, f_h * n_h / np.maximum(n_h - 1, 1), f_h)
        scale[f_h < 1e-7] = 0.0
        self._scale_h = scale
        # every row its own PSU (in row order): the PSU-sum matrix is the identity
        self._psu_is_row = bool(npsu == n and np.array_equal(psu, np.arange(n)))
        self._P = sparse.csr_matrix((np.ones(n), (psu, np.arange(n))), shape=(npsu, n))
        self._H = sparse.csr_matrix(
            (np.ones(npsu), (psu_stratum, np.arange(npsu))), shape=(nstrat, npsu)
        )
        self._steps: list[_CalStep] = []
        self.weighting_report: WeightingReport | None = None
        self.trim_report: TrimReport | None = None

    def _second_stage(self, cl, fpc2, psu, npsu, n_h, f_h, psu_stratum, lonely_psu):
        """Second-stage term of R's ``multistage`` variance (``svydesign(id=~a+b, fpc=~f1+f2)``).

        Within PSU ``i`` with ``n2`` sampled and ``N2`` population SSUs, the SSU totals ``Z_ij``
        of the influence contribute ``n1/N1 * (1 - n2/N2) * n2/(n2 - 1) * sum_j (Z_ij -
        mean_i Z)^2`` (Särndal, Swensson & Wretman 1992, result 4.3.1; Lumley 2010, sec. 3.2).
        Returns the SSU-sum matrix, each SSU's coefficient, each PSU's centring coefficient and
        the PSU index of each SSU.
        """
        n = len(psu)
        scode, _ = factorize_columns(self.data, [cl[1]], what="clusters")
        if np.any(scode < 0):
            raise DesignError(f"cluster column {cl[1]!r} has missing values; fill them.")
        ssu = pd.factorize(psu * (int(scode.max()) + 1) + scode, sort=False)[0].astype(np.int64)
        nssu = int(ssu.max()) + 1
        ssu_psu = np.zeros(nssu, dtype=np.int64)
        ssu_psu[ssu] = psu
        n2 = np.bincount(ssu_psu, minlength=npsu).astype(float)
        fv = self._numeric(fpc2, what="fpc")
        if np.any(~np.isfinite(fv)) or np.any(fv <= 0):
            raise DesignError(f"fpc column {fpc2!r} has missing or non-positive values.")
        per = pd.Series(fv).groupby(psu).agg(["min", "max"])
        if np.any(per["min"].to_numpy() != per["max"].to_numpy()):
            raise DesignError(
                f"fpc column {fpc2!r} varies within a first-stage cluster ({cl[0]!r} "
                f"{self.data[cl[0]].iloc[np.flatnonzero(psu == per.index[per['min'] != per['max']][0])[0]]!r}); "
                "the second-stage fpc must be constant within each PSU."
            )
        v2 = per["min"].to_numpy()
        pop2 = n2 / v2 if np.all(fv <= 1) else v2
        if np.any(pop2 < n2 - 1e-9):
            raise DesignError(
                f"fpc column {fpc2!r}: the population number of second-stage units is smaller "
                "than the number sampled in some PSU; give population sizes or fractions."
            )
        f2 = (pop2 - n2) / pop2
        f2[f2 < 1e-7] = 0.0
        lonely2 = (n2 == 1) & (f2 > 0)
        if lonely2.any() and lonely_psu in ("fail", "average"):
            bad = self.data[cl[0]].iloc[np.flatnonzero(np.isin(psu, np.flatnonzero(lonely2)))[0]]
            raise DesignError(
                f"PSU {bad!r} of column {cl[0]!r} has a single second-stage unit ({cl[1]!r}) "
                f"but is not completely enumerated by {fpc2!r}, so its second-stage variance "
                f"cannot be estimated (lonely_psu={lonely_psu!r}; R stops or returns NaN). Choose "
                "lonely_psu='adjust', 'remove' or 'certainty'."
            )
        frac1 = (1.0 - f_h)[psu_stratum]
        scale_psu = frac1 * np.where(n2 > 1, f2 * n2 / np.maximum(n2 - 1, 1), f2)
        if lonely_psu in ("certainty", "remove"):
            scale_psu[lonely2] = 0.0
        centre = np.where(lonely2, 0.0, scale_psu / n2)  # adjust: a lonely SSU is not centred
        S2 = sparse.csr_matrix((np.ones(n), (ssu, np.arange(n))), shape=(nssu, n))
        return S2, scale_psu[ssu_psu], centre, ssu_psu

    # ------------------------------------------------------------------ basics
    def _numeric(self, col: str, *, what: str) -> np.ndarray:
        if col not in self.data.columns:
            raise DesignError(
                f"{what}: column {col!r} is not in the data; available columns: "
                f"{', '.join(map(str, self.data.columns[:30]))}."
            )
        s = self.data[col]
        if s.dtype == bool:
            return s.to_numpy(dtype=float)
        try:
            return pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (ValueError, TypeError) as exc:
            raise DesignError(
                f"{what}: column {col!r} is not numeric (dtype {s.dtype}); convert it or use "
                "proportion() for categorical variables."
            ) from exc

    @property
    def weights(self) -> np.ndarray:
        """Current analysis weights (after any weighting steps)."""
        return self._w

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.data)

    @property
    def degf(self) -> float:
        """Design degrees of freedom: PSUs minus strata among rows with non-zero weight (R)."""
        inset = (self._w_sampling != 0).astype(float)
        npsu = np.count_nonzero(np.bincount(self._psu, weights=inset))
        nstr = np.count_nonzero(np.bincount(self._strata, weights=inset))
        return float(npsu - nstr)

    def _domain_df(self, codes: np.ndarray, nd: int) -> np.ndarray:
        """PSUs minus strata with at least one row of non-zero weight in each domain."""
        inside = (codes >= 0) & (self._w_sampling != 0)
        c = codes[inside]
        npsu = len(self._psu_stratum)
        nstr = len(self._strata_labels)
        psu_dom = np.unique(c * npsu + self._psu[inside]) // npsu
        str_dom = np.unique(c * nstr + self._strata[inside]) // nstr
        return (np.bincount(psu_dom, minlength=nd) - np.bincount(str_dom, minlength=nd)).astype(float)

    def domain_degf(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Degrees of freedom of each domain: its PSUs minus its strata.

        Counts the PSUs with at least one row of non-zero sampling weight in the domain and the
        strata with at least one such PSU, as R's ``degf(subset(design, domain))`` (the df that
        ``svyciprop`` on a subset uses) and the NCHS presentation standards for proportions
        (Parker et al. 2017, where fewer than 8 flags an estimate). Rows with a missing answer
        count, as in R's subset; pass a ``by`` that excludes them to count respondents only.
        Returns the domain columns and ``df`` (one row without ``by``: :attr:`degf`).
        """
        codes, labels, nd = self._domains(by, np.ones(self.n, dtype=bool))
        out = labels.reset_index(drop=True).copy()
        out["df"] = self._domain_df(codes, nd)
        return out

    def _derive(self, w: np.ndarray, step: _CalStep | None) -> Design:
        new = copy.copy(self)
        new._w = w
        new._w_sampling = w
        new._steps = [*self._steps, step] if step is not None else list(self._steps)
        new.weighting_report = self.weighting_report
        new.trim_report = self.trim_report
        return new

    # ------------------------------------------------------------------ variance engine
    def _psu_scale(self) -> tuple[np.ndarray, int]:
        """Each PSU's variance factor (its stratum's ``_scale_h``; 0 in a lonely stratum under
        ``lonely_psu="average"``) and the number of strata that count (all, or those with more than
        one PSU under "average")."""
        scale_psu = self._scale_h[self._psu_stratum].copy()
        nok = len(self._n_h)
        if self.lonely_psu == "average" and self._lonely.any():
            scale_psu[self._lonely[self._psu_stratum]] = 0.0
            nok -= int(self._lonely.sum())
        return scale_psu, nok

    def _cov_parts(self) -> _CovParts:
        """The parts of :meth:`_cov` that do not depend on the influence ``s`` (each calibration
        step's ``X' diag(w_before / w_after)``, its PSU totals of ``diag(w_after) X`` scaled by the
        strata's factors, their products with each other and their stratum totals), made once per
        design and reused by every call: the same operations on the same operands as when made
        per call, so the same numbers."""
        parts = self.__dict__.get("_cov_cache")
        if parts is not None and parts.owner(self):
            return parts
        scale_psu, nok = self._psu_scale()
        xtrs: list = []
        a_list: list = []
        xta: list = []
        for st in self._steps:
            r = np.divide(st.w_before, st.w_after, out=np.zeros_like(st.w_after),
                          where=st.w_after != 0)
            xtr = sparse.csr_matrix(st.x.T.multiply(r[None, :]))
            xta.append([dense(xtr @ a) for a in a_list])  # with the earlier steps' A
            xtrs.append(xtr)
            a_list.append(rowscale(st.w_after, st.x))
        pa = a_list if self._psu_is_row else [self._P @ a for a in a_list]
        spa = [rowscale(scale_psu, p) for p in pa]
        quads = {(i, j): dense(pa[i].T @ spa[j]) for i in range(len(pa)) for j in range(i, len(pa))}
        hpa = [dense(self._H @ p) for p in pa]
        parts = _CovParts(tuple(self._steps), self.lonely_psu, self._scale_h, self._P, self._H, scale_psu, nok,
                          xtrs, xta, a_list if self._stage2 is not None else None, spa, quads, hpa)
        self.__dict__["_cov_cache"] = parts  # this design's own (a derived design makes its own)
        return parts

    def _cov(self, s: sparse.spmatrix | np.ndarray) -> np.ndarray:
        """Linearization covariance of the totals of the columns of ``s`` (weighted influence).

        ``s`` is ``n x k`` (sparse or dense). Calibration steps turn it into
        ``s + sum_j A_j B_j`` with sparse ``A_j = diag(w_after) X_j`` and small dense ``B_j``;
        nothing ``n x k`` dense is formed beyond ``s`` itself. What does not depend on ``s``
        comes from :meth:`_cov_parts` (made once per design).
        """
        s = sparse.csr_matrix(s)
        return self._cov_blocks(s, [slice(0, s.shape[1])])[0]

    def _cov_blocks(self, s: sparse.spmatrix | np.ndarray, blocks: Sequence[slice]) -> list[np.ndarray]:
        """``[self._cov(s[:, b]) for b in blocks]``, the same numbers, with the sparse products
        over the ``n`` rows made once for every column of ``s`` (e.g. the influence of one model
        fitted in several domains, side by side); the small dense algebra of each block is that
        of its own :meth:`_cov` (the same operands, so the same sums)."""
        s = sparse.csr_matrix(s)
        parts = self._cov_parts()
        ms = [dense(xtr @ s) for xtr in parts.xtrs]  # every step's X'R S, all columns at once
        ps = s if self._psu_is_row else self._P @ s  # P x k sparse
        scale_psu = parts.scale_psu
        vv = dense(ps.T @ rowscale(scale_psu, ps))
        crosses = [dense(ps.T @ spa_j) for spa_j in parts.spa]
        tot_all = dense(self._H @ ps)
        nstrat = len(self._n_h)
        n_h = self._n_h
        centre = np.ones(nstrat, bool)
        if self.lonely_psu in ("adjust", "average"):
            centre &= ~self._lonely
        coef = np.where(centre, self._scale_h / n_h, 0.0)
        out = []
        for blk in blocks:
            k = len(range(*blk.indices(s.shape[1])))
            b_list: list[np.ndarray] = []
            for j, st in enumerate(self._steps):
                m = ms[j][:, blk]
                for xa, b in zip(parts.xta[j], b_list, strict=True):
                    m = m + xa @ b
                b_list.append(-st.ginv @ m)
            v = vv[blk, blk]
            for cr, b_j in zip(crosses, b_list, strict=True):
                cross = cr[blk] @ b_j
                v = v + cross + cross.T
            for i, b_i in enumerate(b_list):
                for j, b_j in enumerate(b_list):
                    if j < i:
                        continue
                    term = b_i.T @ parts.quads[i, j] @ b_j
                    v = v + (term if i == j else term + term.T)
            # stratum centring: subtract sum_h scale_h n_h m_h m_h'
            tot_h = tot_all[:, blk]
            for hpa_j, b_j in zip(parts.hpa, b_list, strict=True):
                tot_h = tot_h + hpa_j @ b_j
            v = v - tot_h.T @ (coef[:, None] * tot_h)
            v = (v + v.T) / 2
            if parts.nok < nstrat:
                v = v * nstrat / parts.nok
            if self._stage2 is not None:
                S2, c_ssu, c_psu, ssu_psu = self._stage2
                adj = sparse.csr_matrix(s[:, blk])
                for a_j, b_j in zip(parts.a_list, b_list, strict=True):
                    adj = adj + sparse.csr_matrix(a_j @ b_j)
                z = sparse.csr_matrix(S2 @ adj)  # SSU totals
                t = dense(sparse.csr_matrix((np.ones(len(ssu_psu)), (ssu_psu, np.arange(len(ssu_psu)))),
                                            shape=(len(c_psu), len(ssu_psu))) @ z)
                v2 = dense(z.T @ rowscale(c_ssu, z)) - t.T @ (c_psu[:, None] * t)
                v = v + (v2 + v2.T) / 2
            assert v.shape == (k, k)
            out.append(v)
        return out

    # ------------------------------------------------------------------ domains
    def _domains(self, by, valid: np.ndarray) -> tuple[np.ndarray, pd.DataFrame, int]:
        cols = _as_list(by)
        if not cols:
            codes = np.where(valid, 0, -1).astype(np.int64)
            return codes, pd.DataFrame(index=[0]), 1
        codes, labels = factorize_columns(self.data, cols, what="by")
        codes = np.where(valid & (codes >= 0), codes, -1)
        return codes, labels, len(labels)

    def _wvar(self, values: np.ndarray, codes: np.ndarray, nd: int) -> np.ndarray:
        """R's svyvar within each domain: weighted variance times n/(n-1)."""
        inside = codes >= 0
        c = codes[inside]
        w = self._w[inside]
        v = values[inside]
        sw = np.bincount(c, weights=w, minlength=nd)
        m = np.bincount(c, weights=w * v, minlength=nd) / sw
        ss = np.bincount(c, weights=w * (v - m[c]) ** 2, minlength=nd) / sw
        nn = np.bincount(c, weights=(w != 0).astype(float), minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ss * nn / (nn - 1)

    def _frame(
        self,
        labels: pd.DataFrame,
        est: np.ndarray,
        var: np.ndarray,
        n: np.ndarray,
        deff: np.ndarray,
        level: float,
        ci: tuple[np.ndarray, np.ndarray] | None = None,
        df: float | None = None,
        vwr: np.ndarray | None = None,
    ) -> pd.DataFrame:
        dfv = self.degf if df is None else df
        se = np.sqrt(np.maximum(var, 0))
        if ci is None:
            t = _tcrit(dfv, level)
            ci = (est - t * se, est + t * se)
        out = labels.reset_index(drop=True).copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            # against simple random sampling with replacement (NCHS): not n / deff, whose
            # without-replacement reference has no variance when the weights sum to n
            n_eff = n / deff if vwr is None else n * vwr / var
        cols = {
            "estimate": est,
            "se": se,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "df": np.full(len(est), dfv),
            "n": n.astype(np.int64),
            "n_eff": n_eff,
            "deff": deff,
        }
        for key, val in cols.items():
            out[key] = val
        return out

    def _counts(self, codes: np.ndarray, nd: int) -> np.ndarray:
        inside = codes >= 0
        return np.bincount(codes[inside], weights=(self._w[inside] != 0).astype(float),
                           minlength=nd)

    def _mean_parts(self, y: np.ndarray, by, *, na_ok: bool = True):
        valid = ~np.isnan(y)
        codes, labels, nd = self._domains(by, valid)
        inside = codes >= 0
        c = codes[inside]
        w = self._w[inside]
        yy = y[inside]
        sw = np.bincount(c, weights=w, minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.bincount(c, weights=w * yy, minlength=nd) / sw
        z = np.zeros(len(y))
        z[inside] = (yy - est[c]) / sw[c] * w
        s = onehot(codes, nd, z)
        return codes, labels, nd, est, s, sw

    # ------------------------------------------------------------------ estimators
    def mean(self, var: str, by: str | Sequence[str] | None = None, level: float = 0.95
             ) -> pd.DataFrame:
        """Weighted mean (Hájek ratio estimator) with linearized SE, overall or by domain.

        Design effect as R's ``svymean(deff=TRUE)``: variance over
        ``s^2 (N_d - n_d) / (N_d n_d)`` with ``s^2`` the weighted domain variance
        (Lumley 2010, sec. 2.3 and 2.4; Kish 1965).
        """
        y = self._numeric(var, what="mean")
        codes, labels, nd, est, s, sw = self._mean_parts(y, by)
        v = np.diag(self._cov(s))
        n = self._counts(codes, nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            vwr = self._wvar(y, codes, nd) / n
            deff = v / (vwr * (sw - n) / sw)
        return self._frame(labels, est, v, n, deff, level, vwr=vwr)

    def total(self, var: str, by: str | Sequence[str] | None = None, level: float = 0.95
              ) -> pd.DataFrame:
        """Horvitz–Thompson total with linearized SE (Lumley 2010, sec. 2.2)."""
        y = self._numeric(var, what="total")
        valid = ~np.isnan(y)
        codes, labels, nd = self._domains(by, valid)
        inside = codes >= 0
        vals = np.where(inside, self._w * np.where(valid, y, 0.0), 0.0)
        est = np.bincount(codes[inside], weights=vals[inside], minlength=nd)
        v = np.diag(self._cov(onehot(codes, nd, vals)))
        n = self._counts(codes, nd)
        sw = np.bincount(codes[inside], weights=self._w[inside], minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            vwr = self._wvar(y, codes, nd) * sw**2 / n
            deff = v / (vwr * (sw - n) / sw)
        return self._frame(labels, est, v, n, deff, level, vwr=vwr)

    def ratio(self, numerator: str, denominator: str, by: str | Sequence[str] | None = None,
              level: float = 0.95) -> pd.DataFrame:
        """Ratio of two totals ``Y/X`` with linearized SE (Lumley 2010, sec. 3.3.2)."""
        y = self._numeric(numerator, what="ratio numerator")
        x = self._numeric(denominator, what="ratio denominator")
        valid = ~np.isnan(y) & ~np.isnan(x)
        codes, labels, nd = self._domains(by, valid)
        inside = codes >= 0
        c = codes[inside]
        w = self._w[inside]
        ty = np.bincount(c, weights=w * y[inside], minlength=nd)
        tx = np.bincount(c, weights=w * x[inside], minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = ty / tx
        r = np.zeros(len(y))
        r[inside] = (y[inside] - est[c] * x[inside]) / tx[c]
        v = np.diag(self._cov(onehot(codes, nd, self._w * r)))
        n = self._counts(codes, nd)
        sw = np.bincount(c, weights=w, minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            vwr = self._wvar(r, codes, nd) * sw**2 / n
            deff = v / (vwr * (sw - n) / sw)
        return self._frame(labels, est, v, n, deff, level, vwr=vwr)

    def _indicator(self, var: str, level: Any) -> np.ndarray:
        if var not in self.data.columns:
            raise DesignError(f"proportion: column {var!r} is not in the data.")
        col = self.data[var]
        present = pd.unique(col.dropna())
        if level not in set(present.tolist()):
            raise EstimationError(
                f"proportion: level {level!r} does not occur in column {var!r}; levels present: "
                f"{sorted(map(str, present))[:20]}. Check spelling and type."
            )
        y = (col == level).to_numpy(dtype=float)
        y[col.isna().to_numpy()] = np.nan
        return y

    def proportion(
        self,
        var: str,
        level: Any,
        method: CIMethod = "logit",
        by: str | Sequence[str] | None = None,
        conf_level: float = 0.95,
        df: DomainDF = "domain",
    ) -> pd.DataFrame:
        """Proportion of rows with ``var == level`` and its confidence interval.

        The estimate and SE are those of :meth:`mean` on the indicator; the interval uses one of
        the methods of R's ``svyciprop`` (see :func:`~survey_pipeline.stats.proportion_ci`).
        Estimates of exactly 0 or 1 get the Korn–Graubard interval with effective n equal to
        the domain's respondent count (R gives NaN).

        ``df="domain"`` (default) uses each domain's own degrees of freedom,
        :meth:`domain_degf`, as R's ``svyciprop`` on ``subset(design, domain)`` and the NCHS
        standards for proportions do (Parker et al. 2017); ``df="design"`` uses the whole
        design's :attr:`degf` for every domain, as R's ``svyby`` with ``degf(design)``. Without
        ``by`` both are :attr:`degf`. The ``df`` column reports the one used.
        """
        check_option(method, CI_METHODS, "method")
        check_option(df, DOMAIN_DF_OPTIONS, "df")
        y = self._indicator(var, level)
        res = self.mean_of_array(y, by, conf_level)
        if df == "domain":
            codes, _, nd = self._domains(by, np.ones(self.n, dtype=bool))
            res["df"] = self._domain_df(codes, nd)
        lo, hi = proportion_ci(res["estimate"].to_numpy(), res["se"].to_numpy(),
                               res["df"].to_numpy(dtype=float), res["n"].to_numpy(),
                               method=method, level=conf_level)
        res["ci_low"] = lo
        res["ci_high"] = hi
        return res

    def mean_of_array(self, y: np.ndarray, by=None, level: float = 0.95) -> pd.DataFrame:
        """:meth:`mean` of an array aligned with the rows (NaN = missing)."""
        codes, labels, nd, est, s, sw = self._mean_parts(np.asarray(y, dtype=float), by)
        v = np.diag(self._cov(s))
        n = self._counts(codes, nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            vwr = self._wvar(y, codes, nd) / n
            deff = v / (vwr * (sw - n) / sw)
        return self._frame(labels, est, v, n, deff, level, vwr=vwr)

    def domain_means(self, y: str | np.ndarray, by: str | Sequence, *, count: np.ndarray | None = None,
                     cells: Sequence[str] | None = None, level: float = 0.95) -> pd.DataFrame:
        """:meth:`mean` of ``y`` by domain with variances only, fast for thousands of domains.

        The same estimates, SEs and design effects as ``mean(y, by=by)`` (to rounding) without
        the domains' covariance matrix. ``by`` may mix column names and arrays aligned with the
        rows; ``cells`` enables the per-cell moments of :class:`~.domains.DomainMeans`, which
        also estimates several classifications in one pass. Adds ``sum_weights`` and ``count``
        (the sum of ``count`` over each domain's rows, or 0).
        """
        from .domains import DomainMeans

        return DomainMeans(self, cells=cells).means(y, [by], count=count, level=level)[0]

    def difference(self, var: str, by: str, a: Any, b: Any, level: float = 0.95) -> pd.DataFrame:
        """Difference of domain means ``mean(a) - mean(b)`` with its covariance-aware SE.

        Equivalent to R's ``svycontrast(svyby(..., svymean, covmat=TRUE), c(1, -1))``: both
        domain means are linearized on the full design, so their covariance (shared PSUs) is
        included. Returns one row with a t test of zero difference on the design df.
        """
        y = self._numeric(var, what="difference")
        codes, labels, nd, est, s, _sw = self._mean_parts(y, by)
        lab = labels[by].tolist()
        for lv in (a, b):
            if lv not in lab:
                raise EstimationError(
                    f"difference: level {lv!r} is not a domain of {by!r}; domains: {lab[:20]}."
                )
        ia, ib = lab.index(a), lab.index(b)
        cov = self._cov(s[:, [ia, ib]])
        d = est[ia] - est[ib]
        var_d = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
        n = self._counts(codes, nd)
        out = self._frame(pd.DataFrame({"contrast": [f"{a} - {b}"]}), np.array([d]),
                          np.array([var_d]), np.array([n[ia] + n[ib]]), np.array([np.nan]),
                          level)
        se = out["se"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out["t"] = d / se
        df = self.degf
        out["p"] = 2 * (sps.t.sf(np.abs(out["t"]), df) if np.isfinite(df)
                        else sps.norm.sf(np.abs(out["t"])))
        return out

    def quantile(
        self,
        var: str,
        probs: float | Sequence[float] = (0.5,),
        by: str | Sequence[str] | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Quantiles with Woodruff (1952) confidence intervals, as R survey 4.1 ``svyquantile``.

        Defaults of R 4.1: ``qrule="math"`` (the smallest observed value whose weighted CDF
        reaches ``p``; no interpolation) and ``interval.type="mean"``: a Wald interval for the
        CDF at the estimate, ``F(q) = mean(y <= q)``, on the design df, is mapped back through
        the weighted quantile function; ``se = (upper - lower) / (2 t)`` (Lumley 2010,
        sec. 2.4.1). A CDF limit outside [0, 1] gives NaN, as in R.
        """
        y = self._numeric(var, what="quantile")
        probs_arr = np.atleast_1d(np.asarray(probs, dtype=float))
        if np.any((probs_arr < 0) | (probs_arr > 1)):
            raise EstimationError(f"quantile: probs {probs_arr.tolist()} must lie in [0, 1].")
        valid = ~np.isnan(y)
        codes, labels, nd = self._domains(by, valid)
        t = _tcrit(self.degf, level)
        rows = []
        for dom in range(nd):
            inside = (codes == dom) & (self._w > 0)
            yd = y[inside]
            wd = self._w[inside]
            order = np.argsort(yd, kind="stable")
            ys = yd[order]
            # R accumulates cumsum in long double and stores doubles
            cw = np.cumsum(wd[order].astype(np.longdouble)).astype(float)
            tot = float(cw[-1]) if len(cw) else 0.0
            for p in probs_arr:
                q = _qrule_math(ys, cw, tot, p)
                ind = np.where(valid, (y <= q).astype(float), np.nan)
                ind[codes != dom] = np.nan
                _, _, _, pe, s, _ = self._mean_parts(ind, None)
                se_p = float(np.sqrt(max(self._cov(s)[0, 0], 0)))
                lo_p, hi_p = pe[0] - t * se_p, pe[0] + t * se_p
                lo = np.nan if (np.isnan(lo_p) or lo_p < 0) else _qrule_math(ys, cw, tot, lo_p)
                hi = np.nan if (np.isnan(hi_p) or hi_p > 1) else _qrule_math(ys, cw, tot, hi_p)
                rows.append((dom, p, q, (hi - lo) / (2 * t), lo, hi, int(inside.sum())))
        res = pd.DataFrame(rows, columns=["_dom", "quantile", "estimate", "se", "ci_low",
                                          "ci_high", "n"])
        out = labels.reset_index(drop=True).iloc[res["_dom"].to_numpy()].reset_index(drop=True)
        for c in ["quantile", "estimate", "se", "ci_low", "ci_high"]:
            out[c] = res[c].to_numpy()
        out["df"] = self.degf
        out["n"] = res["n"].to_numpy()
        out["n_eff"] = np.nan
        out["deff"] = np.nan
        return out

    def chisq(self, row: str, col: str, statistic: ChisqStatistic = "F") -> pd.DataFrame:
        """Rao–Scott test of independence in a two-way table (R ``svychisq``).

        ``statistic="F"`` (default): second-order correction, ``X^2 / tr(Delta)`` referred to
        ``F(d0, d0 * df)`` with ``d0 = tr(Delta)^2 / tr(Delta^2)``; ``"Chisq"``: first-order,
        ``X^2 (r-1)(c-1) / tr(Delta)`` referred to ``chi^2_{(r-1)(c-1)}``. ``X^2`` is Pearson's
        statistic on the weighted table rescaled to the sample size (Rao & Scott 1984;
        Lumley 2010, sec. 6.1.1).
        """
        check_option(statistic, get_args(ChisqStatistic), "statistic")
        for c in (row, col):
            if c not in self.data.columns:
                raise DesignError(f"chisq: column {c!r} is not in the data.")
        valid = (self.data[row].notna() & self.data[col].notna()).to_numpy()
        rc, rl = factorize_columns(self.data, [row], what="chisq")
        cc, cl = factorize_columns(self.data, [col], what="chisq")
        nr, nc = len(rl), len(cl)
        if nr < 2 or nc < 2:
            raise EstimationError(f"chisq: {row!r} and {col!r} need at least two levels each.")
        cell = np.where(valid, rc + nr * cc, -1)
        ncell = nr * nc
        w = np.where(valid, self._w, 0.0)
        sw = w.sum()
        mean2 = np.bincount(cell[valid], weights=w[valid], minlength=ncell) / sw
        ind = onehot(cell, ncell)
        z = ind.toarray() - mean2[None, :]
        z[~valid] = 0.0
        vmat = self._cov(rowscale(w / sw, z))
        n_obs = float(len(self.data))
        rows_i, cols_j = np.meshgrid(np.arange(nr), np.arange(nc), indexing="ij")
        rows_i, cols_j = rows_i.ravel(order="F"), cols_j.ravel(order="F")
        x1 = np.column_stack([np.ones(ncell)]
                             + [(rows_i == i).astype(float) for i in range(1, nr)]
                             + [(cols_j == j).astype(float) for j in range(1, nc)])
        inter = np.column_stack([((rows_i == i) & (cols_j == j)).astype(float)
                                 for j in range(1, nc) for i in range(1, nr)])
        with one_blas_thread():  # matrices of the table's cells: small
            q, _ = np.linalg.qr(x1)
            cmat = inter - q @ (q.T @ inter)
            idm = np.diag(np.where(mean2 == 0, 0, 1 / np.where(mean2 == 0, 1, mean2)))
            denom = cmat.T @ (idm / n_obs) @ cmat
            numr = cmat.T @ idm @ vmat @ idm @ cmat
            delta = np.linalg.solve(denom, numr)
        tr = np.trace(delta)
        d0 = tr**2 / np.trace(delta @ delta)
        tab = (mean2 * n_obs).reshape((nr, nc), order="F")
        expct = np.outer(tab.sum(1), tab.sum(0)) / tab.sum()
        x2 = float(np.sum((tab - expct) ** 2 / expct))
        nu = self.degf
        if statistic == "F":
            stat = x2 / tr
            ndf, ddf = d0, d0 * nu
            p = sps.f.sf(stat, ndf, ddf)
        else:
            stat = x2 * (nr - 1) * (nc - 1) / tr
            ndf, ddf = float((nr - 1) * (nc - 1)), np.inf
            p = sps.chi2.sf(stat, ndf)
        return pd.DataFrame({"statistic": [statistic], "value": [stat], "ndf": [ndf],
                             "ddf": [ddf], "p": [p], "pearson": [x2], "mean_deff": [tr / ((nr - 1) * (nc - 1))]})

    # ------------------------------------------------------------------ weighting
    def _cells(self, key: str | tuple[str, ...], targets: Mapping[Any, float], what: str
               ) -> tuple[np.ndarray, np.ndarray]:
        cols = [key] if isinstance(key, str) else list(key)
        codes, labels = factorize_columns(self.data, cols, what=what)
        if np.any(codes < 0):
            raise WeightingError(
                f"{what}: column(s) {cols} have missing values in {int(np.sum(codes < 0))} rows; "
                "impute or give them a level before weighting."
            )
        sample_levels = [tuple(r) if len(cols) > 1 else r[0] for r in labels.itertuples(index=False)]
        tkeys = list(targets.keys())
        unknown = [lv for lv in sample_levels if lv not in targets]
        if unknown:
            raise WeightingError(
                f"{what}: level(s) {unknown[:10]} of {cols} occur in the sample but have no "
                "population target; add targets for them or recode them."
            )
        absent = [k for k in tkeys if k not in set(sample_levels)]
        if absent:
            raise WeightingError(
                f"{what}: target cell(s) {absent[:10]} of {cols} have no respondents (empty "
                "cell); collapse them with a neighbouring level."
            )
        tv = np.array([float(targets[lv]) for lv in sample_levels])
        if np.any(~np.isfinite(tv)) or np.any(tv <= 0):
            bad = [lv for lv, t in zip(sample_levels, tv, strict=True) if not t > 0]
            raise WeightingError(f"{what}: targets for {bad[:10]} of {cols} must be positive.")
        return codes, tv

    def _ginv(self, x: sparse.csr_matrix, w0: np.ndarray) -> np.ndarray:
        return stable_pinv(dense(x.T @ rowscale(w0, x)))

    def poststratify(self, var: str | tuple[str, ...], population: Mapping[Any, float]
                     ) -> Design:
        """Post-stratify to known population counts (R ``postStratify``; Lumley 2010, 7.2).

        ``var`` is a column, or a tuple of columns with tuple keys in ``population``.
        Variances use residuals from the post-stratum means, as R does.
        """
        codes, tv = self._cells(var, population, "poststratify")
        k = len(tv)
        current = np.bincount(codes, weights=self._w, minlength=k)
        g = (tv / current)[codes]
        w1 = self._w * g
        x = onehot(codes, k)
        step = _CalStep(x, self._w, w1, self._ginv(x, self._w),
                        ("poststratify", {"var": var, "population": dict(population)}))
        new = self._derive(w1, step)
        new.weighting_report = WeightingReport("poststratify", 1, 0.0, True, float(g.min()),
                                               float(g.max()))
        return new

    def _margins(self, margins: Mapping[Any, Mapping[Any, float]]):
        codes_list, targets_list, xs = [], [], []
        totals = []
        for key, targets in margins.items():
            codes, tv = self._cells(key, targets, "rake")
            codes_list.append(codes)
            targets_list.append(tv)
            xs.append(onehot(codes, len(tv)))
            totals.append((key, tv.sum()))
        ref = totals[0][1]
        for key, tot in totals[1:]:
            if abs(tot - ref) > 1e-6 * abs(ref):
                raise WeightingError(
                    f"rake: margin {key!r} sums to {tot:.10g} but margin {totals[0][0]!r} sums to "
                    f"{ref:.10g}; all margins must describe the same population total."
                )
        return codes_list, targets_list, sparse.hstack(xs, format="csr")

    def rake(
        self,
        margins: Mapping[Any, Mapping[Any, float]],
        bounds: tuple[float, float] | None = None,
        max_iter: int = 100,
        tol: float = 1e-10,
    ) -> Design:
        """Rake (iterative proportional fitting) to several marginal distributions.

        Parameters
        ----------
        margins : mapping
            ``{column: {level: population count}}``; a key may be a tuple of columns (a joint
            margin such as wave x age) with tuple levels.
        bounds : (lo, hi), optional
            Bounds on the adjustment ``g = w_new / w_old``, enforced in every iteration.
        max_iter, tol : see :func:`~survey_pipeline.stats.weighting.rake_weights`.

        Returns
        -------
        Design
            New design; ``weighting_report`` records iterations and the remaining error.
            Variances use residuals from the weighted regression on all margin indicators with
            the pre-raking weights — the linearization of R's ``calibrate(calfun="raking")``
            (Deville & Särndal 1992). (R's ``rake()`` instead approximates with 10 rounds of
            unweighted within-cell centring; the two agree closely but not to 1e-8.)
        """
        codes_list, targets_list, x = self._margins(margins)
        w1, rep = rake_weights(self._w, codes_list, targets_list, bounds=bounds,
                               max_iter=max_iter, tol=tol)
        step = _CalStep(x, self._w, w1, self._ginv(x, self._w),
                        ("rake", {"margins": margins, "bounds": bounds, "max_iter": max_iter,
                                  "tol": tol}))
        new = self._derive(w1, step)
        new.weighting_report = rep
        return new

    def _cal_matrix(self, totals: Mapping[Any, float]) -> tuple[sparse.csr_matrix, np.ndarray]:
        cols, pops = [], []
        for key, pop in totals.items():
            if key in ("_N", "(Intercept)"):
                cols.append(np.ones(self.n))
            elif isinstance(key, tuple) and len(key) == 2 and key[0] in self.data.columns:
                c, lv = key
                if lv not in set(self.data[c].dropna().tolist()):
                    raise WeightingError(
                        f"calibrate: level {lv!r} does not occur in column {c!r}."
                    )
                cols.append((self.data[c] == lv).to_numpy(dtype=float))
            else:
                v = self._numeric(str(key), what="calibrate")
                if np.any(np.isnan(v)):
                    raise WeightingError(
                        f"calibrate: column {key!r} has {int(np.isnan(v).sum())} missing values; "
                        "calibration variables must be complete."
                    )
                cols.append(v)
            pops.append(float(pop))
        return sparse.csr_matrix(np.column_stack(cols)), np.array(pops)

    def calibrate(
        self,
        totals: Mapping[Any, float],
        method: CalMethod = "linear",
        bounds: tuple[float, float] | None = None,
        max_iter: int = 50,
        tol: float = 1e-10,
    ) -> Design:
        """Calibrate weights to population totals (R ``calibrate``; Deville & Särndal 1992).

        Parameters
        ----------
        totals : mapping
            Keys: ``"_N"`` (or ``"(Intercept)"``) for the population size, a numeric column
            name for its total, or ``(column, level)`` for the count of a level.
        method : {"linear", "raking", "logit"}
            Distance function. ``logit`` needs finite ``bounds``.
        bounds : (lo, hi), optional
            Bounds on the g-weights.

        Variances use the GREG residuals ``e = z - X beta`` with ``beta`` from the regression
        weighted by the pre-calibration weights, multiplied by the calibrated weights, exactly
        as R's ``svyrecvar`` for a ``greg_calibration``.
        """
        check_option(method, CAL_METHODS, "method")
        x, pop = self._cal_matrix(totals)
        g, rep = calibrate_weights(x, self._w, pop, method=method, bounds=bounds,
                                   max_iter=max_iter, tol=tol)
        w1 = self._w * g
        step = _CalStep(x, self._w, w1, self._ginv(x, self._w),
                        ("calibrate", {"totals": dict(totals), "method": method,
                                       "bounds": bounds, "max_iter": max_iter, "tol": tol}))
        new = self._derive(w1, step)
        new.weighting_report = rep
        return new

    def trim(self, lower: float | Mapping[Any, float] | None = None,
             upper: float | Mapping[Any, float] | None = None, max_iter: int = 50,
             by: str | None = None) -> Design:
        """Trim weights to ``[lower, upper]`` with redistribution (R ``trimWeights``).

        With ``by`` (a column), each group is trimmed on its own and its excess redistributed
        inside the group, so group totals (e.g. each wave's population when waves are strata)
        are kept; ``lower`` and ``upper`` may then map each group to its own bound (groups not
        in the mapping are left alone). The record of what moved is in ``trim_report``
        (``lower``/``upper`` are None there when given per group). Calibration steps already
        applied are kept for variance estimation, as R does.
        """
        from .weighting import TrimReport

        if by is None:
            if isinstance(lower, Mapping) or isinstance(upper, Mapping):
                raise DesignError("trim: per-group bounds (a mapping) need by= (the group column).")
            w1, rep = trim_weights(self._w, lower=lower, upper=upper, max_iter=max_iter)
        else:
            if by not in self.data.columns:
                raise DesignError(f"trim: column {by!r} (by) is not in the data.")
            col = self.data[by]
            w1 = self._w.copy()
            its, n_lo, n_hi, moved, rows = 0, 0, 0, 0.0, []
            for g in pd.unique(col.dropna()):
                lo = lower.get(g) if isinstance(lower, Mapping) else lower
                hi = upper.get(g) if isinstance(upper, Mapping) else upper
                if lo is None and hi is None:
                    continue
                idx = np.flatnonzero((col == g).to_numpy())
                wg, r = trim_weights(self._w[idx], lower=lo, upper=hi, max_iter=max_iter)
                w1[idx] = wg
                its, n_lo, n_hi = max(its, r.iterations), n_lo + r.n_trimmed_low, n_hi + r.n_trimmed_high
                moved += r.weight_moved
                rows.append(idx[r.trimmed_rows])
            rep = TrimReport(None if isinstance(lower, Mapping) else lower,
                             None if isinstance(upper, Mapping) else upper, its, n_lo, n_hi, moved,
                             np.sort(np.concatenate(rows)) if rows else np.array([], dtype=np.int64))
        new = self._derive(w1, None)
        new.trim_report = rep
        return new

    def weight_diagnostics(self) -> dict[str, float]:
        """Diagnostics of the current weights (see :func:`.weighting.weight_diagnostics`)."""
        from .weighting import weight_diagnostics

        return weight_diagnostics(self._w)

    # ------------------------------------------------------------------ replicates
    def replicate(self, method: ReplicateMethod = "jackknife", replicates: int = 200,
                  seed: int = 12345) -> ReplicateDesign:
        """Convert to a replicate-weights design (R ``as.svrepdesign``).

        ``jackknife``: JK1 (delete-one-PSU, unstratified designs) or JKn (stratified), as R's
        ``type="auto"``, with the fpc in the replicate scales. ``bootstrap``: Rao–Wu rescaled
        bootstrap (``n_h - 1`` PSUs drawn with replacement per stratum), seeded.
        Weighting steps already applied are replayed in every replicate.
        """
        from .replicate import ReplicateDesign, make_replicate_weights

        check_option(method, get_args(ReplicateMethod), "method")
        if self._stage2 is not None:
            raise DesignError(
                "replicate(): replicate weights for a design with a second-stage fpc are not "
                "supported (they would resample PSUs only and drop the second-stage variance); "
                "use the linearization estimators of this Design."
            )
        base = self._w_base()
        reps, scale, rscales, kind = make_replicate_weights(self, method, replicates, seed)
        rd = ReplicateDesign(self.data, base, reps, scale, rscales, kind, self.degf)
        for name, args in (st.recipe for st in self._steps):
            rd = getattr(rd, name)(**_recipe_args(name, args))
        return rd

    def _w_base(self) -> np.ndarray:
        return self._steps[0].w_before if self._steps else self._w

    # ------------------------------------------------------------------ regression
    def glm(self, outcome: str, predictors: Sequence[str], family: Literal["gaussian", "binomial"]
            = "gaussian", intercept: bool = True, level: float = 0.95) -> pd.DataFrame:
        """Design-based linear or logistic regression (svyglm). See :func:`.regression.svyglm`."""
        from .regression import svyglm

        return svyglm(self, outcome, predictors, family=family, intercept=intercept, level=level)


def _recipe_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    if name == "poststratify":
        return {"var": args["var"], "population": args["population"]}
    return dict(args)


def _qrule_math(ys: np.ndarray, cw: np.ndarray, tot, p: float) -> float:
    """R survey's ``qrule_math``: sorted values, long-double cumulative weights (as R)."""
    if len(ys) == 0:
        return float("nan")
    target = p * tot
    pos = int(np.searchsorted(cw, target, side="right")) - 1
    if pos < 0:
        # no cumulative weight below p*total: R's last() of an empty set gives NA -> first value
        return float(ys[0])
    wlow = p - cw[pos] / tot
    if wlow == 0:
        return float(ys[pos])
    return float(ys[min(pos + 1, len(ys) - 1)])


from .replicate import ReplicateDesign  # noqa: E402  (type used in annotations above)
