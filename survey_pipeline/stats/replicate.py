"""Replicate-weight designs: jackknife (JK1/JKn) and Rao–Wu bootstrap (R ``svrepdesign``).

Variance of a statistic is ``scale * sum_r rscale_r (theta_r - mean(theta))^2`` (R's default
``mse=FALSE``). Weighting (post-stratification, raking, calibration) is redone in every
replicate, as R's ``calibrate``/``postStratify``/``rake`` on an ``svyrep.design``
(Lumley 2010, sec. 2.5 and 7.4; Rao & Wu 1988).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._linalg import factorize_columns, onehot
from .errors import DesignError, EstimationError, WeightingError
from .proportion import CI_METHODS, CIMethod, proportion_ci
from .weighting import CAL_METHODS, CalMethod, WeightingReport, calibrate_weights, rake_weights

if TYPE_CHECKING:
    from .design import Design

__all__ = ["ReplicateDesign", "make_replicate_weights"]


def make_replicate_weights(design: Design, method: str, replicates: int, seed: int):
    """Replicate weight multipliers (n x R), ``scale``, ``rscales`` and the type name."""
    psu = design._psu
    ps = design._psu_stratum
    n_h = design._n_h
    f_h = design._f_h
    npsu = len(ps)
    nstrat = len(n_h)
    if method == "jackknife":
        ok = n_h > 1
        if not ok.all() and design.lonely_psu in ("fail", "adjust"):
            raise DesignError(
                "replicate: strata with one PSU are not supported for lonely_psu="
                f"{design.lonely_psu!r}; use 'remove', 'certainty' or 'average'."
            )
        kept = np.flatnonzero(ok[ps])  # PSUs that define a replicate
        mult = np.ones((npsu, len(kept)))
        for j, p in enumerate(kept):
            h = ps[p]
            mult[ps == h, j] = n_h[h] / (n_h[h] - 1)
            mult[p, j] = 0.0
        if nstrat == 1:
            kind = "JK1"
            scale = float(f_h[0] * (n_h[0] - 1) / n_h[0])
            rscales = np.ones(len(kept))
        else:
            kind = "JKn"
            scale = 1.0
            h = ps[kept]
            rscales = f_h[h] * (n_h[h] - 1) / n_h[h]
            if design.lonely_psu == "average" and len(kept) < npsu:
                scale = npsu / len(kept)
        return mult[psu], scale, rscales, kind
    rng = np.random.default_rng(seed)
    mult = np.zeros((npsu, replicates))
    for h in range(nstrat):
        members = np.flatnonzero(ps == h)
        m = len(members)
        if m < 2:
            mult[members, :] = 1.0
            continue
        draws = rng.integers(0, m, size=(m - 1, replicates))
        counts = np.zeros((m, replicates))
        np.add.at(counts, (draws, np.arange(replicates)[None, :]), 1.0)
        lam = np.sqrt(f_h[h])  # Rao-Wu lambda with m_h = n_h - 1; f_h here is 1 - n_h/N_h
        mult[members, :] = 1 - lam + lam * counts * m / (m - 1)
    return mult[psu], 1.0 / (replicates - 1), np.ones(replicates), "bootstrap"


class ReplicateDesign:
    """A design carried by replicate weights (see :meth:`Design.replicate`)."""

    def __init__(self, data: pd.DataFrame, w: np.ndarray, mult: np.ndarray, scale: float,
                 rscales: np.ndarray, kind: str, degf: float) -> None:
        self.data = data
        self._w = w
        self._rep = mult * w[:, None]
        self.scale = scale
        self.rscales = rscales
        self.kind = kind
        self.degf = degf
        self.weighting_report: WeightingReport | None = None

    @property
    def weights(self) -> np.ndarray:
        return self._w

    @property
    def replicate_weights(self) -> np.ndarray:
        return self._rep

    def _numeric(self, col: str, what: str = "estimate") -> np.ndarray:
        if col not in self.data.columns:
            raise DesignError(f"{what}: column {col!r} is not in the data.")
        return pd.to_numeric(self.data[col]).to_numpy(dtype=float, na_value=np.nan)

    def _var(self, theta: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        ok = self.rscales > 0
        centre = thetas[:, ok].mean(axis=1)
        return self.scale * ((thetas - centre[:, None]) ** 2 * self.rscales[None, :]).sum(axis=1)

    def _domains(self, by, valid):
        from .design import _as_list

        cols = _as_list(by)
        if not cols:
            return np.where(valid, 0, -1), pd.DataFrame(index=[0]), 1
        codes, labels = factorize_columns(self.data, cols, what="by")
        return np.where(valid & (codes >= 0), codes, -1), labels, len(labels)

    def _frame(self, labels, est, var, n, level):
        from .design import _tcrit

        se = np.sqrt(var)
        t = _tcrit(self.degf, level)
        out = labels.reset_index(drop=True).copy()
        out["estimate"] = est
        out["se"] = se
        out["ci_low"] = est - t * se
        out["ci_high"] = est + t * se
        out["df"] = self.degf
        out["n"] = n.astype(np.int64)
        out["n_eff"] = np.nan
        out["deff"] = np.nan
        return out

    def _totals(self, vals: np.ndarray, codes: np.ndarray, nd: int):
        m = onehot(codes, nd).T
        full = m @ (self._w * vals)
        reps = np.asarray(m @ (self._rep * vals[:, None]))
        return np.asarray(full).ravel(), reps

    def _mean(self, y: np.ndarray, by, level: float) -> pd.DataFrame:
        valid = ~np.isnan(y)
        codes, labels, nd = self._domains(by, valid)
        y0 = np.where(valid, y, 0.0)
        ty, ry = self._totals(y0, codes, nd)
        tn, rn = self._totals(np.ones(len(y)), codes, nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            est, reps = ty / tn, ry / rn
        n = np.bincount(codes[codes >= 0], minlength=nd)
        return self._frame(labels, est, self._var(est, reps), n, level)

    def mean(self, var: str, by: str | Sequence[str] | None = None, level: float = 0.95
             ) -> pd.DataFrame:
        """Weighted mean with replicate variance."""
        return self._mean(self._numeric(var), by, level)

    def total(self, var: str, by: str | Sequence[str] | None = None, level: float = 0.95
              ) -> pd.DataFrame:
        """Weighted total with replicate variance."""
        y = self._numeric(var)
        valid = ~np.isnan(y)
        codes, labels, nd = self._domains(by, valid)
        est, reps = self._totals(np.where(valid, y, 0.0), codes, nd)
        n = np.bincount(codes[codes >= 0], minlength=nd)
        return self._frame(labels, est, self._var(est, reps), n, level)

    def ratio(self, numerator: str, denominator: str, by: str | Sequence[str] | None = None,
              level: float = 0.95) -> pd.DataFrame:
        """Ratio of totals with replicate variance."""
        y, x = self._numeric(numerator), self._numeric(denominator)
        valid = ~np.isnan(y) & ~np.isnan(x)
        codes, labels, nd = self._domains(by, valid)
        ty, ry = self._totals(np.where(valid, y, 0.0), codes, nd)
        tx, rx = self._totals(np.where(valid, x, 0.0), codes, nd)
        est, reps = ty / tx, ry / rx
        n = np.bincount(codes[codes >= 0], minlength=nd)
        return self._frame(labels, est, self._var(est, reps), n, level)

    def proportion(self, var: str, level: Any, method: CIMethod = "logit",
                   by: str | Sequence[str] | None = None, conf_level: float = 0.95
                   ) -> pd.DataFrame:
        """Proportion with replicate SE and an ``svyciprop`` interval."""
        from .design import check_option

        check_option(method, CI_METHODS, "method")
        col = self.data[var]
        if level not in set(col.dropna().tolist()):
            raise EstimationError(f"level {level!r} does not occur in column {var!r}.")
        y = (col == level).to_numpy(dtype=float)
        y[col.isna().to_numpy()] = np.nan
        res = self._mean(y, by, conf_level)
        lo, hi = proportion_ci(res["estimate"].to_numpy(), res["se"].to_numpy(), self.degf,
                               res["n"].to_numpy(), method=method, level=conf_level)
        res["ci_low"], res["ci_high"] = lo, hi
        return res

    # ---------------------------------------------------------------- weighting per replicate
    def _derive(self, w: np.ndarray, rep: np.ndarray, report: WeightingReport) -> ReplicateDesign:
        new = ReplicateDesign.__new__(ReplicateDesign)
        new.__dict__.update(self.__dict__)
        new._w = w
        new._rep = rep
        new.weighting_report = report
        return new

    def _cells(self, *args, **kwargs):
        from .design import Design

        return Design._cells(self, *args, **kwargs)

    def _margins(self, margins):
        from .design import Design

        return Design._margins(self, margins)

    def poststratify(self, var, population: Mapping[Any, float]) -> ReplicateDesign:
        """Post-stratify the full-sample and every replicate's weights."""

        codes, tv = self._cells(var, population, "poststratify")
        k = len(tv)

        def ps(w):
            return w * (tv / np.bincount(codes, weights=w, minlength=k))[codes]

        w = ps(self._w)
        rep = np.column_stack([ps(self._rep[:, r]) for r in range(self._rep.shape[1])])
        return self._derive(w, rep, WeightingReport("poststratify", 1, 0.0, True,
                                                    float((w / self._w).min()),
                                                    float((w / self._w).max())))

    def rake(self, margins, bounds=None, max_iter: int = 100, tol: float = 1e-10
             ) -> ReplicateDesign:
        """Rake the full-sample and every replicate's weights."""

        codes_list, targets_list, _ = self._margins(margins)
        w, report = rake_weights(self._w, codes_list, targets_list, bounds=bounds,
                                 max_iter=max_iter, tol=tol)
        cols = []
        for r in range(self._rep.shape[1]):
            wr, _ = rake_weights(self._rep[:, r], codes_list, targets_list, bounds=bounds,
                                 max_iter=max_iter, tol=tol)
            cols.append(wr)
        return self._derive(w, np.column_stack(cols), report)

    def calibrate(self, totals: Mapping[Any, float], method: CalMethod = "linear",
                  bounds=None, max_iter: int = 50, tol: float = 1e-10) -> ReplicateDesign:
        """Calibrate the full-sample and every replicate's weights (R calibrate on svrep)."""
        from .design import Design, check_option

        check_option(method, CAL_METHODS, "method")
        x, pop = Design._cal_matrix(self, totals)
        g, report = calibrate_weights(x, self._w, pop, method=method, bounds=bounds,
                                      max_iter=max_iter, tol=tol)
        cols = []
        for r in range(self._rep.shape[1]):
            try:
                gr, _ = calibrate_weights(x, self._rep[:, r], pop, method=method, bounds=bounds,
                                          max_iter=max_iter, tol=tol)
            except WeightingError as exc:
                raise WeightingError(f"calibration failed in replicate {r}: {exc}") from exc
            cols.append(self._rep[:, r] * gr)
        return self._derive(self._w * g, np.column_stack(cols), report)

    @property
    def n(self) -> int:
        return len(self.data)

    def _tcrit(self, level: float) -> float:
        return float(sps.t.ppf(0.5 + level / 2, self.degf))
