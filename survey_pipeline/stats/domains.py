"""Means of one variable in many domains at once, with linearization variances and covariances.

:meth:`Design.mean` returns the full covariance machinery of its domains. A survey report needs
thousands of domains per variable (wave x area x group) and only their variances, so
:class:`DomainMeans` computes the same estimator — the Hájek domain mean — and the same
linearized variance as :meth:`Design.mean` (residuals from every calibration step, PSU totals,
stratum centring, the first-stage fpc and the ``lonely_psu`` rule; Lumley 2010, sec. 2.3 and 7.4)
but only the diagonal, for several domain classifications in one pass::

    from survey_pipeline.stats import Design, DomainMeans

    dm = DomainMeans(design, cells=["stype", "sch.wide"])
    by_type = dm.domains("stype")
    by_both = dm.domains(["stype", "sch.wide"])
    t1, t2 = dm.means("api00", [by_type, by_both])       # one tidy frame per classification

:meth:`DomainMeans.rest_contrasts` compares each domain with the rest of its parent domain (an
area against the rest of its wave) with the full covariance of the two sides, on either path.
The covariance of the domain means themselves is there too, when a comparison needs it:
:meth:`DomainMeans.covariance` (the matrix), :meth:`DomainMeans.contrasts` (linear
combinations ``L m``, e.g. a difference-in-differences) and
:meth:`DomainMeans.pairwise_contrasts` (every two domains of one parent: two areas of a wave),
all from blocks of the covariance of linked domains, never one pair at a time::

    pairs = dm.pairwise_contrasts("api00", "stype", ["stype", "awards"])   # diff, se_diff
    did = dm.contrasts("api00", ["stype", "awards"], [[1, -1, -1, 1, 0, 0]])

Domains are estimated on the full design (rows outside a domain, or with a missing value,
contribute zero influence but stay in the design), as R's ``svyby(..., svymean)``.

Two paths give the same numbers (checked to 1e-10 in the tests, and against R's ``svyby`` in
``tests/reference``):

* the general path builds the sparse influence matrix of all domains and takes the diagonal of
  the variance, in column chunks;
* the *cell* path (``cells=`` given, every row its own PSU, at most one calibration step whose
  regressors are constant within cells): rows are grouped into cells (the cross-classification
  of ``cells`` and the strata); each domain is a union of cells, and every sum the variance
  needs is a sum of a few per-cell moments. A variable then costs a handful of passes over the
  rows plus small sparse algebra over the cells and domains, whatever the number of domains.
  When a condition fails, the general path is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ._linalg import one_blas_thread
from .errors import DesignError, EstimationError

if TYPE_CHECKING:
    from .design import Design

__all__ = ["DomainMeans", "DomainSet"]

_CHUNK_NNZ = 4_000_000
_BATCH = 8  # variables per pass on the cell path (memory: a few n_pairs x _BATCH arrays)
# Domains per covariance block of contrasts: only small components (e.g. single domains) are
# packed together. A block spanning several components (e.g. waves) multiplies over the union
# of their calibration columns, mostly zeros, and such mid-size products are where a threaded
# BLAS on a busy machine is slowest.
_BLOCK = 8
_DENSE = 200_000  # combinations x domains of a block up to which its coefficients are dense


@dataclass(frozen=True, eq=False)
class DomainSet:
    """One classification of the rows into domains.

    Attributes
    ----------
    codes : ndarray of int64
        The domain of every row of the design, ``-1`` for rows outside every domain.
    labels : DataFrame
        One row per domain (in code order): the values of the classifying columns.
    """

    codes: np.ndarray
    labels: pd.DataFrame
    _cell_codes: np.ndarray | None = field(default=None, repr=False)
    _owner: object | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)


def _keys(data: pd.DataFrame, by) -> list[pd.Series]:
    cols = [by] if isinstance(by, str) else list(by)
    keys = []
    for i, c in enumerate(cols):
        if isinstance(c, str):
            if c not in data.columns:
                raise DesignError(
                    f"domains: column {c!r} is not in the data; available columns: "
                    f"{', '.join(map(str, data.columns[:30]))}. Fix the column name."
                )
            keys.append(data[c])
        else:
            arr = np.asarray(c, dtype=object)
            if arr.shape != (len(data),):
                raise DesignError(
                    f"domains: array number {i} of by has shape {arr.shape}; it must have one "
                    f"value per row ({len(data)})."
                )
            keys.append(pd.Series(arr, index=data.index, name=f"_by{i}"))
    return keys


def _group_codes(keys: list[pd.Series]) -> tuple[np.ndarray, pd.DataFrame]:
    """Domain code of every row (-1 when a key is missing) and the labels, in sorted order."""
    names = [k.name for k in keys]
    if len(set(names)) != len(names):
        raise DesignError(f"domains: a column is named twice in by ({names}).")
    g = pd.concat(keys, axis=1).groupby(names, sort=True, dropna=True, observed=True)
    codes = g.ngroup().to_numpy(dtype=float, na_value=np.nan)
    codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
    return codes, g.size().index.to_frame(index=False)


class DomainMeans:
    """Hájek means of a variable in many domains of one design, with linearized variances.

    Parameters
    ----------
    design : Design
        The (possibly calibrated, trimmed) design. Its weights and calibration steps are read
        when the object is made; make a new one after further weighting.
    cells : list of str, optional
        Columns whose cross-classification (with the strata) groups rows that share their
        calibration regressors — typically the domain columns and the weighting-cell columns.
        Enables the cell path (see the module docstring) when the design allows it; domains of
        columns outside ``cells`` are still estimated, on the general path.

    Notes
    -----
    Output columns, as :meth:`Design.mean`: ``estimate, se, ci_low, ci_high, df, n, n_eff,
    deff`` (Wald limits on the design df), plus ``sum_weights`` (the domain's weighted count of
    valid answers) and ``count`` (the sum of ``count=`` over the domain's rows, or 0).
    """

    def __init__(self, design: Design, cells: Sequence[str] | None = None) -> None:
        d = design
        if getattr(d, "_stage2", None) is not None:
            raise DesignError(
                "DomainMeans does not compute the second-stage variance term of a design with a "
                "second-stage fpc (Design(..., fpc=[f1, f2])); use Design.mean(var, by=...) on "
                "that design, or give only the first-stage fpc (ultimate-cluster variance)."
            )
        self.design = d
        self._w = d.weights
        n = d.n
        self._cache_key: tuple | None = None
        self._cache_val = None
        self._stack_key: tuple = ()
        self._stack_val = None
        self._lin_cache: dict[int, tuple] = {}
        self._parent_cache: dict[tuple[int, int], tuple] = {}
        self._known_cache: dict[tuple, tuple] = {}
        self._path_cache: dict[int, tuple] = {}  # id(DomainSet) -> (set, on the cell path)
        self._cal_dense_val: tuple | None = None
        self._cal_blocks: list | None = None
        # ---- shared pieces of the variance (as Design._cov)
        scale_psu, nok = d._psu_scale()
        nstrat = len(d._n_h)
        centre = np.ones(nstrat, bool)
        if d.lonely_psu in ("adjust", "average"):
            centre &= ~d._lonely
        self._scale_psu = scale_psu
        self._nstrat = nstrat
        self._nok = nok
        self._coef = np.where(centre, d._scale_h / d._n_h, 0.0)
        self._steps = []
        for st in d._steps:
            r = np.divide(st.w_before, st.w_after, out=np.zeros_like(st.w_after),
                          where=st.w_after != 0)
            self._steps.append((sparse.csr_matrix(st.x), r, st.w_after, st.ginv))
        # ---- the cell path
        self.cells: pd.DataFrame | None = None
        self._cell = None
        if cells is None or not d._psu_is_row or len(self._steps) > 1:
            return
        cols = list(dict.fromkeys(cells))
        keys = [*_keys(d.data, cols), pd.Series(d._strata, index=d.data.index, name="_stratum")]
        g = pd.concat(keys, axis=1).groupby([k.name for k in keys], sort=True, dropna=False,
                                            observed=True)
        cell = g.ngroup().to_numpy().astype(np.int64)
        table = g.size().index.to_frame(index=False)
        nc = len(table)
        first = np.full(nc, -1, dtype=np.int64)
        first[cell[::-1]] = np.arange(n)[::-1]
        step = None
        if self._steps:
            x, r, wa, ginv = self._steps[0]
            xc = sparse.csr_matrix(x[first])
            if (x - xc[cell]).count_nonzero() != 0:
                return  # calibration regressors vary within a cell: general path
            s = scale_psu
            ada_c = np.bincount(cell, weights=s * wa * wa, minlength=nc)
            ada = np.asarray((xc.T @ sparse.diags(ada_c) @ xc).todense())
            wa_c = np.bincount(cell, weights=wa, minlength=nc)
            hc = sparse.csr_matrix((wa_c, (table["_stratum"].to_numpy(), np.arange(nc))),
                                   shape=(nstrat, nc))
            ha = np.asarray((hc @ xc).todense())
            # with M the domains' calibration sums: b'ADA b = M'(G ADA G)M, HA b = -(HA G) M
            with one_blas_thread():  # small dense products (calibration columns squared)
                kmat = ginv @ ada @ ginv
                ha_g = ha @ ginv
            # calibration columns that never share a row (e.g. the margins of different strata)
            # make G and G ADA G block-diagonal: the quadratic forms are sums over the blocks
            _ncomp, comp = connected_components(sparse.csr_matrix(xc.T @ xc), directed=False)
            same = comp[:, None] == comp[None, :]
            step = (xc, ginv, kmat, ha_g, comp,
                    sparse.csr_matrix(np.where(same, kmat, 0.0)), sparse.csr_matrix(np.where(same, ginv, 0.0)))
        self._cell = cell
        self.cells = table
        self._nc = nc
        self._strat_cell = table["_stratum"].to_numpy().astype(np.int64)
        self._cstep = step
        self._cmat = sparse.csr_matrix((np.ones(n), (cell, np.arange(n))), shape=(nc, n))
        base = [np.ones(n), self._w, scale_psu * self._w * self._w]
        if step is not None:
            _x, r, wa, _g = self._steps[0]
            base += [r * self._w, scale_psu * self._w * wa]
        self._base = np.column_stack(base)
        # when the weights (and so every per-row factor) are constant within each cell, a
        # variable's cell moments are these factors times three sums over the rows
        base_c = self._base[first]
        self._base_cell = base_c if np.array_equal(self._base, base_c[cell]) else None

    # ------------------------------------------------------------------ domains
    @property
    def uses_cells(self) -> bool:
        """Whether the cell path is available (see the module docstring)."""
        return self._cell is not None

    def domains(self, by: str | Sequence) -> DomainSet:
        """The domains of ``by``: a column, or a list of columns and arrays aligned with the rows.

        Rows with a missing value in any ``by`` entry are outside every domain. Domains are in
        sorted order of their labels.
        """
        cols = [by] if isinstance(by, str) else list(by)
        if self._cell is not None and cols and all(isinstance(c, str) and c in self.cells.columns
                                                   for c in cols):
            cc, labels = _group_codes([self.cells[c] for c in cols])
            return DomainSet(cc[self._cell], labels, cc, self)
        if not cols:
            cc = np.zeros(self._nc, dtype=np.int64) if self._cell is not None else None
            return DomainSet(np.zeros(self.design.n, dtype=np.int64), pd.DataFrame(index=[0]), cc,
                             self if cc is not None else None)
        codes, labels = _group_codes(_keys(self.design.data, cols))
        return DomainSet(codes, labels)

    def _cell_codes(self, ds: DomainSet) -> np.ndarray | None:
        if self._cell is None:
            return None
        if ds._owner is self and ds._cell_codes is not None:
            return ds._cell_codes
        if len(ds.codes) != self.design.n:
            raise DesignError(f"domains: a DomainSet has {len(ds.codes)} codes; the design has "
                              f"{self.design.n} rows.")
        cc = np.full(self._nc, -1, dtype=np.int64)
        cc[self._cell] = ds.codes
        return cc if np.array_equal(cc[self._cell], ds.codes) else None

    def _as_set(self, by) -> DomainSet:
        return by if isinstance(by, DomainSet) else self.domains(by)

    def _values(self, y) -> np.ndarray:
        if isinstance(y, str):
            return self.design._numeric(y, what="domain means")
        y = np.asarray(y, dtype=float)
        if y.shape != (self.design.n,):
            raise DesignError(f"domain means: y has shape {y.shape}; it must have one value per row "
                              f"({self.design.n}).")
        return y

    # ------------------------------------------------------------------ public estimators
    def arrays(self, y, domains: Sequence, count: np.ndarray | None = None
               ) -> list[dict[str, np.ndarray]]:
        """As :meth:`means`, but each item a dict of arrays in the domains' label order (faster).

        Keys: ``estimate, se, n, n_eff, deff, sum_weights, count``.
        """
        return self.arrays_many([y], domains, None if count is None else [count])[0]

    def arrays_many(self, ys: Sequence, domains: Sequence, counts: Sequence | None = None
                    ) -> list[list[dict[str, np.ndarray]]]:
        """:meth:`arrays` for several variables at once: one list per variable.

        On the cell path the variables share every sparse product (one pass over the cells and
        domains for all of them), which is several times faster than one variable at a time.
        ``counts``, when given, has one entry (array or None) per variable.
        """
        vals = [self._values(y) for y in ys]
        cnts = [None if c is None else np.asarray(c, dtype=float)
                for c in (counts if counts is not None else [None] * len(vals))]
        if len(cnts) != len(vals):
            raise DesignError(f"domain means: {len(vals)} variables but {len(cnts)} counts.")
        sets = [self._as_set(b) for b in domains]
        out: list[list] = [[None] * len(sets) for _ in vals]
        fast, slow = [], []
        for i, ds in enumerate(sets):
            (fast if self._cell_codes(ds) is not None else slow).append(i)
        if fast:
            res = self._cell_means([sets[i] for i in fast], vals, cnts)
            for v in range(len(vals)):
                for j, i in enumerate(fast):
                    out[v][i] = res[v][j]
        for v, (y, c) in enumerate(zip(vals, cnts, strict=True)):
            if slow:
                for i, r in zip(slow, self._general_means(y, [sets[i] for i in slow], c), strict=True):
                    out[v][i] = r
        return out

    def means(self, y, domains: Sequence, count: np.ndarray | None = None,
              level: float = 0.95) -> list[pd.DataFrame]:
        """Domain means of ``y`` for each classification in ``domains``.

        Parameters
        ----------
        y : str or array
            A numeric column, or an array aligned with the rows; NaN = missing (outside the
            domain for this variable, like R's ``na.rm=TRUE``).
        domains : list
            Classifications: :class:`DomainSet` (from :meth:`domains`, reusable across
            variables), or anything :meth:`domains` accepts.
        count : array, optional
            Summed over each domain's rows whatever ``y`` (e.g. "don't know" answers).
        level : float
            Confidence level of the Wald limits.

        Returns
        -------
        list of DataFrame
            One per classification: its label columns, then ``estimate, se, ci_low, ci_high,
            df, n, n_eff, deff, sum_weights, count``.
        """
        sets = [self._as_set(b) for b in domains]
        return [self._frame(ds.labels, a, level) for ds, a in zip(sets, self.arrays(y, sets, count),
                                                                  strict=True)]

    def complement_means(self, y, within, domains, count: np.ndarray | None = None,
                         level: float = 0.95) -> pd.DataFrame:
        """For each domain of ``domains``: the mean over the other rows of its ``within`` domain.

        E.g. ``within`` = wave and ``domains`` = (wave, area): each area against the rest of the
        city in the same wave, rows without an area included in the rest. Every domain must lie
        inside one ``within`` domain. The result has the labels of ``domains``.

        Raises
        ------
        EstimationError
            When a domain spans several ``within`` domains or lies outside all of them.
        """
        ds = self._as_set(domains)
        return self._frame(ds.labels, self.complement_arrays(y, within, ds, count), level)

    def complement_arrays(self, y, within, domains, count: np.ndarray | None = None
                          ) -> dict[str, np.ndarray]:
        """As :meth:`complement_means`, as a dict of arrays (see :meth:`arrays`)."""
        y = self._values(y)
        parent, child = self._as_set(within), self._as_set(domains)
        parent_of = self._parent_of(parent, child, "complement means")
        cnt = None if count is None else np.asarray(count, dtype=float)
        pc, cc = self._cell_codes(parent), self._cell_codes(child)
        if pc is not None and cc is not None:
            mom = self._moments(y, cnt, reuse=True)
            lp = self._linear(mom, parent)
            lc = self._linear(mom, child)
            rest = {k: (lp[k][parent_of, :] - lc[k] if k.startswith("X")
                        else lp[k][..., parent_of] - lc[k]) for k in lc}
            return self._finish(rest)
        return self._general_complement(y, parent, child, parent_of, cnt)

    def _parent_of(self, parent: DomainSet, child: DomainSet, what: str) -> np.ndarray:
        """The ``parent`` domain of every ``child`` domain (each must lie inside exactly one)."""
        nd = len(child)
        got = self._parent_cache.get((id(parent), id(child)))
        if got is not None and got[0] is parent and got[1] is child:
            return got[2]
        inside = child.codes >= 0
        pin, cin = parent.codes[inside], child.codes[inside]
        parent_of = np.full(nd, -1, dtype=np.int64)
        parent_of[cin] = pin
        wrong = (parent_of < 0) | (np.bincount(cin, weights=(pin != parent_of[cin]).astype(float),
                                               minlength=nd) > 0)
        if wrong.any():
            bad = child.labels.iloc[int(np.flatnonzero(wrong)[0])]
            raise EstimationError(
                f"{what}: domain {bad.to_dict()} does not lie inside one domain of within; every "
                "domain must be part of exactly one within-domain (with known=, its rows must all "
                "be known)."
            )
        self._parent_cache[(id(parent), id(child))] = (parent, child, parent_of)
        return parent_of

    def restrict(self, domains, known) -> DomainSet:
        """The domains of ``domains`` keeping only the rows where ``known`` holds.

        Parameters
        ----------
        domains : DomainSet or anything :meth:`domains` accepts
        known : str or array of bool
            A column (rows where it is not missing) or a mask aligned with the rows.

        Returns
        -------
        DomainSet
            Same labels, rows outside ``known`` outside every domain. On the cell path it stays
            a cell classification when ``known`` is constant within cells (e.g. a column of
            ``cells``).
        """
        ds = self._as_set(domains)
        if isinstance(known, str):
            if known not in self.design.data.columns:
                raise DesignError(f"domains: known column {known!r} is not in the data. Fix the "
                                  "column name.")
            mask = self.design.data[known].notna().to_numpy()
        else:
            mask = np.asarray(known, dtype=bool)
            if mask.shape != (self.design.n,):
                raise DesignError(f"domains: known has shape {mask.shape}; it must have one value "
                                  f"per row ({self.design.n}).")
        codes = np.where(mask, ds.codes, -1)
        cc = self._cell_codes(ds)
        if cc is not None:
            ntrue = np.bincount(self._cell, weights=mask.astype(float), minlength=self._nc)
            size = np.bincount(self._cell, minlength=self._nc)
            if np.all((ntrue == 0) | (ntrue == size)):
                return DomainSet(codes, ds.labels, np.where(ntrue > 0, cc, -1), self)
        return DomainSet(codes, ds.labels)

    def rest_contrasts(self, y, within, domains, known=None, level: float = 0.95) -> pd.DataFrame:
        """Each domain minus the rest of its ``within`` domain, with the covariance of the sides.

        For every domain of ``domains`` (e.g. wave x area), the mean of ``y`` in it, the mean over
        the other rows of its ``within`` domain (e.g. the wave: other areas and rows without an
        area), and their difference. Both sides are domains of the one design, so they are not
        independent: the variance of the difference is the linearization variance of the total
        of ``z_domain - z_rest`` (the two influence functions), with the calibration residuals
        (Deville & Särndal 1992), the stratum centring, the fpc and the ``lonely_psu`` rule --
        what R's ``svycontrast(svyby(~y, ~dom, design, svymean, covmat = TRUE), c(1, -1))``
        computes. With every row its own PSU only the calibration and stratum terms couple the
        sides; with clusters the shared PSUs do too (general path).

        Parameters
        ----------
        y : str or array
            As :meth:`means`.
        within, domains : DomainSet or anything :meth:`domains` accepts
            Every domain must lie inside one ``within`` domain.
        known : str or array of bool, optional
            Keep only these rows in ``within`` (:meth:`restrict`): e.g. "everyone else in the
            area whose age is known". The domains' rows must all be known.
        level : float
            Confidence level of the limits of the difference.

        Returns
        -------
        DataFrame
            The labels of ``domains``, then ``estimate, se, n, n_eff`` (the domain),
            ``estimate_ref, se_ref, n_ref, n_eff_ref`` (the rest), ``diff, se_diff, ci_low,
            ci_high, df`` (the difference; Wald limits on the design df).

        Raises
        ------
        EstimationError
            When a domain spans several ``within`` domains or lies outside all of them.
        """
        from .design import _tcrit

        ds = self._as_set(domains)
        a = self.rest_contrast_arrays(y, within, ds, known)
        out = ds.labels.reset_index(drop=True).copy()
        for k in ("estimate", "se", "n", "n_eff", "estimate_ref", "se_ref", "n_ref", "n_eff_ref",
                  "diff", "se_diff"):
            out[k] = a[k]
        t = _tcrit(self.design.degf, level)
        out["ci_low"] = a["diff"] - t * a["se_diff"]
        out["ci_high"] = a["diff"] + t * a["se_diff"]
        out["df"] = self.design.degf
        return out

    def rest_contrast_arrays(self, y, within, domains, known=None) -> dict[str, np.ndarray]:
        """As :meth:`rest_contrasts`, as a dict of arrays in the domains' label order (faster).

        Keys: ``estimate, se, n, n_eff, deff, sum_weights`` of the domain, the same with suffix
        ``_ref`` for the rest, and ``diff, se_diff``. ``se_diff`` is NaN when a side is empty.
        """
        y = self._values(y)
        parent, child = self._as_set(within), self._as_set(domains)
        if known is not None:
            parent = self._restricted(parent, known)
        parent_of = self._parent_of(parent, child, "rest contrasts")
        pc, cc = self._cell_codes(parent), self._cell_codes(child)
        if pc is not None and cc is not None:
            mom = self._moments(y, None, reuse=True)
            side_a, side_r, var_d = self._rest_cell(self._linear(mom, parent), self._linear(mom, child), parent_of)
        else:
            side_a = self._general_means(y, [child], None)[0]
            side_r, var_d = self._general_complement(y, parent, child, parent_of, None, side_a)
        return self._rest_out(side_a, side_r, var_d)

    def _rest_cell(self, lp: dict, lc: dict, parent_of: np.ndarray) -> tuple[dict, dict, np.ndarray]:
        """The cell path of :meth:`rest_contrast_arrays` from the linear sums of the parents and
        children: the children's results, the rests' results and the variance of the differences."""
        lr = {k: (lp[k][parent_of, :] - lc[k] if k.startswith("X")
                  else lp[k][..., parent_of] - lc[k]) for k in lc}
        pa, pr = self._parts(lc), self._parts(lr)
        ka = kr = None
        if self._cstep is not None:
            ka, kr = self._cal_products(pa[5]), self._cal_products(pr[5])
        side_a, side_r = self._finish(lc, pa, ka), self._finish(lr, pr, kr)
        # rows are disjoint (every row its own PSU): no cross term in the squared influences;
        # the calibration residuals and the stratum centring couple the two sides
        var = pa[3] + pr[3]
        tot = pa[4] - pr[4]
        if self._cstep is not None:
            kd = tuple(x - y for x, y in zip(ka, kr, strict=True))
            dv, dt = self._cal_terms(pa[5] - pr[5], pa[6] - pr[6], kd)
            var, tot = var + dv, tot - dt
        return side_a, side_r, self._centre(var, tot)

    @staticmethod
    def _rest_out(side_a: dict, side_r: dict, var_d: np.ndarray) -> dict[str, np.ndarray]:
        out = {k: side_a[k] for k in ("estimate", "se", "n", "n_eff", "deff", "sum_weights")}
        out.update({f"{k}_ref": side_r[k] for k in ("estimate", "se", "n", "n_eff", "deff", "sum_weights")})
        out["diff"] = side_a["estimate"] - side_r["estimate"]
        both = (side_a["sum_weights"] > 0) & (side_r["sum_weights"] > 0)
        out["se_diff"] = np.where(both, np.sqrt(np.maximum(var_d, 0)), np.nan)
        return out

    def _restricted(self, parent: DomainSet, known) -> DomainSet:
        if not isinstance(known, str):
            return self.restrict(parent, known)
        key = (id(parent), known)
        got = self._known_cache.get(key)
        if got is None or got[0] is not parent:
            got = (parent, self.restrict(parent, known))
            self._known_cache[key] = got
        return got[1]

    def rest_contrast_arrays_many(self, ys: Sequence, pairs: Sequence) -> list[list[dict[str, np.ndarray]]]:
        """:meth:`rest_contrast_arrays` for several variables and several classifications at once.

        ``pairs``: ``(within, domains)`` or ``(within, domains, known)`` tuples. Returns one list
        per variable, one dict per pair (the keys of :meth:`rest_contrast_arrays`), the same numbers.
        On the cell path a variable's cell moments are computed once for all the pairs, and the
        sums of a parent shared by several pairs once.
        """
        vals = [self._values(y) for y in ys]
        prep = []
        for pr in pairs:
            within, domains, known = (*pr, None)[:3]
            parent, child = self._as_set(within), self._as_set(domains)
            if known is not None:
                parent = self._restricted(parent, known)
            parent_of = self._parent_of(parent, child, "rest contrasts")
            fast = self._cell_codes(parent) is not None and self._cell_codes(child) is not None
            prep.append((parent, child, parent_of, fast))
        out: list[list] = []
        for v0 in range(0, len(vals), _BATCH):
            chunk = vals[v0:v0 + _BATCH]
            if not any(f for *_x, f in prep):
                out += [[self.rest_contrast_arrays(y, parent, child) for parent, child, _p, _f in prep]
                        for y in chunk]
                continue
            nb = self._base.shape[1]
            cal = [3, nb + 3, 4, nb + 4]
            moms = [self._moments(y, None) for y in chunk]
            m2s = [np.ascontiguousarray(m[:, [1, nb + 1]]) for m in moms]
            # the calibration sums of the batch's variables in one pass per domain set (columns
            # 4 v .. 4 v + 3 for variable v; each sum still adds its cells in cell order)
            mcal = np.concatenate([m[:, cal] for m in moms], axis=1) if self._cstep is not None else None
            rs: dict[int, tuple] = {}
            lin: dict[tuple, tuple] = {}  # the current variable's sums of each domain set

            def linear(ds, v, moms=moms, m2s=m2s, mcal=mcal, rs=rs, lin=lin):
                got = lin.get((id(ds), v))
                if got is None or got[0] is not ds:
                    if lin and next(iter(lin))[1] != v:
                        lin.clear()
                    r = None
                    if mcal is not None:
                        got_r = rs.get(id(ds))
                        if got_r is None or got_r[0] is not ds:
                            got_r = rs[id(ds)] = (ds, np.asarray(self._linear_maps(ds)[2][2] @ mcal))
                        r = got_r[1][:, 4 * v:4 * v + 4]
                    got = lin[(id(ds), v)] = (ds, self._linear(moms[v], ds, m2s[v], r))
                return got[1]

            for v, y in enumerate(chunk):
                row = []
                for parent, child, parent_of, fast in prep:
                    if fast:
                        row.append(self._rest_out(*self._rest_cell(linear(parent, v), linear(child, v), parent_of)))
                    else:
                        row.append(self.rest_contrast_arrays(y, parent, child))
                out.append(row)
        return out

    # ------------------------------------------------------------------ covariances
    def covariance(self, y, domains) -> pd.DataFrame:
        """Linearized covariance matrix of the means of ``y`` in the domains of ``domains``.

        The covariance of Hájek domain means of one design: the linearization covariance of
        the totals of their influence functions ``z_d = w (y - m_d) / W_d`` (rows of ``d``
        only), after the calibration residuals of every weighting step (Deville & Särndal
        1992), with PSU totals, stratum centring, the first-stage fpc and the ``lonely_psu``
        rule (Lumley 2010, sec. 2.3 and 7.4) -- what R's ``vcov(svyby(~y, ~dom, design,
        svymean, covmat = TRUE))`` gives (``tests/reference/make_pairs.R``). Its diagonal is
        the squared ``se`` of :meth:`means`. Domains of different strata (e.g. waves raked
        separately, strata = wave) come out uncorrelated because the design says so, not by
        assumption.

        Parameters
        ----------
        y : str or array
            As :meth:`means`.
        domains : DomainSet or anything :meth:`domains` accepts

        Returns
        -------
        DataFrame
            ``nd x nd``, rows and columns indexed by the domain labels (a MultiIndex with
            several label columns), in label order. Rows and columns of domains with no valid
            answer are NaN.
        """
        ds = self._as_set(domains)
        y = self._values(y)
        src = self._cov_source(y, ds)
        nd = len(ds)
        v = src.block(np.arange(nd))
        bad = ~(src.sw > 0)
        v[bad, :] = np.nan
        v[:, bad] = np.nan
        idx = (pd.MultiIndex.from_frame(ds.labels) if ds.labels.shape[1] > 1
               else pd.Index(ds.labels.iloc[:, 0], name=ds.labels.columns[0]) if ds.labels.shape[1]
               else pd.RangeIndex(nd))
        return pd.DataFrame(v, index=idx, columns=idx.copy())

    def contrasts(self, y, domains, coefficients, names: Sequence[str] | None = None,
                  level: float = 0.95) -> pd.DataFrame:
        """Linear combinations ``L m`` of the domain means ``m``, with their linearized SEs.

        Each row of ``coefficients`` (``L``) is one combination of the means of ``y`` in the domains of
        ``domains`` (e.g. ``[1, -1, 0]``: the first domain minus the second; a
        difference-in-differences has four non-zero entries). The variance is ``l' V l`` with
        ``V`` the full linearized covariance of the domain means (:meth:`covariance`), so the
        covariance that calibration, shared PSUs and stratum centring create between domains
        is included -- what R's ``svycontrast`` computes on ``svyby(..., covmat = TRUE)``.

        Only the blocks of ``V`` the combinations need are formed: domains linked by a
        combination are grouped (connected components), and each group's covariance comes
        from small products over cells (cell path) or from the influence matrix of its
        domains (general path), so thousands of pairwise contrasts cost about as much as one
        covariance matrix per group.

        Parameters
        ----------
        y : str or array
            As :meth:`means`.
        domains : DomainSet or anything :meth:`domains` accepts
        coefficients : array or scipy sparse matrix, shape (m, nd)
            One row per combination, one column per domain in label order.
        names : list of str, optional
            A name per combination (column ``contrast``); default ``0 .. m-1``.
        level : float
            Confidence level of the Wald limits (t on the design df).

        Returns
        -------
        DataFrame
            ``contrast, estimate, se, ci_low, ci_high, df``. ``estimate`` and ``se`` are NaN
            when the combination puts weight on a domain without valid answers.

        Raises
        ------
        DesignError
            When ``coefficients`` does not have one column per domain, or ``names`` one entry
            per row.
        """
        from .design import _tcrit

        ds = self._as_set(domains)
        a = self.contrast_arrays(y, ds, coefficients)
        m = len(a["estimate"])
        if names is not None and len(names) != m:
            raise DesignError(f"contrasts: {len(names)} names for {m} combinations; give one name "
                              "per row of coefficients.")
        t = _tcrit(self.design.degf, level)
        return pd.DataFrame({"contrast": list(names) if names is not None else np.arange(m),
                             "estimate": a["estimate"], "se": a["se"],
                             "ci_low": a["estimate"] - t * a["se"], "ci_high": a["estimate"] + t * a["se"],
                             "df": self.design.degf})

    def contrast_arrays(self, y, domains, coefficients) -> dict[str, np.ndarray]:
        """As :meth:`contrasts`, as a dict of arrays ``estimate, se`` (one entry per row of
        ``coefficients``)."""
        ds = self._as_set(domains)
        y = self._values(y)
        lmat = self._coefficients(coefficients, len(ds))
        return self._combine(self._cov_source(y, ds), lmat)

    def pairwise_contrasts(self, y, within, domains, level: float = 0.95) -> pd.DataFrame:
        """Every pair of domains of one ``within`` domain: ``a - b``, with the covariance.

        E.g. ``within`` = wave and ``domains`` = (wave, area): every two areas of a wave. Pairs
        are ``a`` before ``b`` in label order. The variance of ``a - b`` is
        ``V_aa + V_bb - 2 V_ab`` from the covariance of the domain means (:meth:`covariance`),
        computed once per group of ``within`` domains, not pair by pair.

        Parameters
        ----------
        y : str or array
            As :meth:`means`.
        within, domains : DomainSet or anything :meth:`domains` accepts
            Every domain must lie inside one ``within`` domain.
        level : float
            Confidence level of the limits of the difference.

        Returns
        -------
        DataFrame
            The labels of ``a``, the labels of ``b`` (suffix ``_ref``), ``estimate, n`` of
            ``a``, ``estimate_ref, n_ref`` of ``b``, and ``diff, se_diff, ci_low, ci_high, df``.

        Raises
        ------
        EstimationError
            When a domain spans several ``within`` domains or lies outside all of them.
        """
        from .design import _tcrit

        ds = self._as_set(domains)
        a = self.pairwise_arrays(y, within, ds)
        lab = ds.labels.reset_index(drop=True)
        out = lab.iloc[a["a"]].reset_index(drop=True)
        ref = lab.iloc[a["b"]].reset_index(drop=True)
        for c in ref.columns:
            out[f"{c}_ref"] = ref[c].to_numpy()
        for k in ("estimate", "n", "estimate_ref", "n_ref", "diff", "se_diff"):
            out[k] = a[k]
        t = _tcrit(self.design.degf, level)
        out["ci_low"] = a["diff"] - t * a["se_diff"]
        out["ci_high"] = a["diff"] + t * a["se_diff"]
        out["df"] = self.design.degf
        return out

    def pairwise_arrays(self, y, within, domains) -> dict[str, np.ndarray]:
        """As :meth:`pairwise_contrasts`, as a dict of arrays (faster).

        Keys: ``a, b`` (domain codes, i.e. positions in label order), ``estimate, n,
        estimate_ref, n_ref, diff, se_diff``. ``se_diff`` is NaN when a side has no valid
        answer.
        """
        return self.pairwise_arrays_many(y, [(within, domains)])[0]

    def pairwise_arrays_many(self, y, classifications: Sequence[tuple]) -> list[dict[str, np.ndarray]]:
        """:meth:`pairwise_arrays` for several ``(within, domains)`` classifications of one
        variable (e.g. two area levels), sharing the per-cell moments of ``y``: one pass over
        the rows for all of them."""
        y = self._values(y)
        plans = []
        for within, domains in classifications:
            parent, child = self._as_set(within), self._as_set(domains)
            plans.append((child, self._pair_plan(parent, child)))
        mom = None
        if plans and all(self._on_cells(child) for child, _ in plans):
            mom = self._moments(y, None)
        out = []
        for child, (a, b, plan) in plans:
            src = self._cov_source(y, child, mom)
            c = self._combine(src, plan)
            out.append({"a": a, "b": b, "estimate": src.m[a], "n": src.n[a], "estimate_ref": src.m[b],
                        "n_ref": src.n[b], "diff": c["estimate"], "se_diff": c["se"]})
        return out

    def _pair_plan(self, parent: DomainSet, child: DomainSet) -> tuple:
        """The pairs of ``child`` domains within ``parent`` domains and their combination plan
        (kept: the same for every variable)."""
        key = (id(parent), id(child), "pairs")
        got = self._parent_cache.get(key)
        if got is not None and got[0] is parent and got[1] is child:
            return got[2]
        parent_of = self._parent_of(parent, child, "pairwise contrasts")
        a, b = _pairs(parent_of)
        lmat = sparse.csr_matrix((np.tile([1.0, -1.0], len(a)), np.column_stack([a, b]).ravel(),
                                  np.arange(0, 2 * len(a) + 1, 2)), shape=(len(a), len(child)))
        val = (a, b, self._plan(lmat))
        self._parent_cache[key] = (parent, child, val)
        return val

    def _coefficients(self, coefficients, nd: int) -> sparse.csr_matrix:
        lmat = sparse.csr_matrix(coefficients, dtype=float)
        if lmat.ndim != 2 or lmat.shape[1] != nd:
            raise DesignError(f"contrasts: coefficients has shape {lmat.shape}; it must have one column per "
                              f"domain ({nd}), in the domains' label order.")
        if not np.all(np.isfinite(lmat.data)):
            raise DesignError("contrasts: coefficients has a missing or infinite entry; give finite numbers.")
        lmat.eliminate_zeros()
        lmat.sort_indices()
        return lmat

    def _on_cells(self, ds: DomainSet) -> bool:
        got = self._path_cache.get(id(ds))
        if got is None or got[0] is not ds:
            got = (ds, self._cell_codes(ds) is not None)
            self._path_cache[id(ds)] = got
        return got[1]

    def _cal_dense(self) -> tuple[np.ndarray, np.ndarray]:
        """``K`` and ``G`` of the calibration step as dense arrays, zero between blocks of
        calibration columns that never share a row (as the variances use them)."""
        if self._cal_dense_val is None:
            self._cal_dense_val = (self._cstep[5].toarray(), self._cstep[6].toarray())
        return self._cal_dense_val

    def _cov_source(self, y: np.ndarray, ds: DomainSet, mom: np.ndarray | None = None) -> _CovSource:
        """The domain means of ``y`` and a function giving blocks of their covariance."""
        scale = self._nstrat / self._nok
        if self._on_cells(ds):
            if mom is None:
                mom = self._moments(y, None, reuse=True)
            lin = self._linear(mom, ds)
            m, _mm, _sw1, var, tot, mt, qt = self._parts(lin)
            coef = self._coef[:, None]
            if mt is not None:
                kd, gd = self._cal_dense()
                tot = tot - (mt @ self._cstep[3].T).T

            def block(idx: np.ndarray) -> np.ndarray:
                # V = diag(S'DS) + M K M' - Q G M' - M G Q' - T' C T (the diagonal is _finish's),
                # over the calibration columns the block's domains touch
                v = np.diag(var[idx])
                if mt is not None:
                    mb, qb = mt[idx], qt[idx]
                    cols = np.flatnonzero(np.any(mb != 0, axis=0) | np.any(qb != 0, axis=0))
                    mb, qb = mb[:, cols], qb[:, cols]
                    ix = np.ix_(cols, cols)
                    cross = qb @ gd[ix] @ mb.T
                    v = v + mb @ kd[ix] @ mb.T - cross - cross.T
                t = tot[:, idx]
                return (v - t.T @ (coef * t)) * scale

            return _CovSource(m, lin["W"], lin["N"], block)
        w = self._w
        nd = len(ds)
        valid = ~np.isnan(y) & (w != 0)
        yy = np.where(valid, y, 0.0)
        codes = np.where(valid & (ds.codes >= 0), ds.codes, -1)
        inside = codes >= 0
        c = codes[inside]
        sw = np.bincount(c, weights=w[inside], minlength=nd)
        swy = np.bincount(c, weights=(w * yy)[inside], minlength=nd)
        n = np.bincount(c, minlength=nd).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = swy / sw
        mm = np.where(np.isfinite(m), m, 0.0)
        sw1 = np.where(sw > 0, sw, 1.0)
        z = w[inside] * (yy[inside] - mm[c]) / sw1[c]
        s = sparse.csc_matrix((z, (np.flatnonzero(inside), c)), shape=(len(y), nd))
        design = self.design

        def block_general(idx: np.ndarray) -> np.ndarray:
            return design._cov(s[:, idx])

        return _CovSource(m, sw, n, block_general)

    @staticmethod
    def _plan(lmat: sparse.csr_matrix) -> tuple:
        """How to evaluate ``L V L'`` by blocks: ``(L, [(domains, rows, L[rows][:, domains])])``.

        Domains linked by a row of ``L`` are connected components; each block is one component,
        or several small ones packed up to ``_BLOCK`` domains, and its covariance is formed once.
        """
        nm, nd = lmat.shape
        blocks = []
        if lmat.nnz:
            pat = sparse.csr_matrix((np.ones(lmat.nnz), lmat.indices, lmat.indptr), shape=lmat.shape)
            ncomp, comp = connected_components(sparse.csr_matrix(pat.T @ pat), directed=False)
            used = np.zeros(nd, bool)
            used[lmat.indices] = True
            size = np.bincount(comp[used], minlength=ncomp)
            # greedy: a component joins the current block while the block stays <= _BLOCK
            block_of = np.zeros(ncomp, dtype=np.int64)
            k, fill = 0, 0
            for c in np.flatnonzero(size):
                if fill and fill + size[c] > _BLOCK:
                    k, fill = k + 1, 0
                block_of[c] = k
                fill += size[c]
            dom_block = np.where(used, block_of[comp], -1)
            has = np.diff(lmat.indptr) > 0
            row_block = np.full(nm, -1, dtype=np.int64)
            row_block[has] = dom_block[lmat.indices[lmat.indptr[:-1][has]]]
            for k in np.unique(row_block[has]):
                idx = np.flatnonzero(dom_block == k)
                rows = np.flatnonzero(row_block == k)
                lb = sparse.csr_matrix(lmat[rows][:, idx])
                # small blocks dense: one product instead of several sparse operations
                blocks.append((idx, rows, lb.toarray() if len(rows) * len(idx) <= _DENSE else lb))
        return lmat, blocks

    def _combine(self, src: _CovSource, plan) -> dict[str, np.ndarray]:
        """``L m`` and the diagonal of ``L V L'`` (``plan`` from :meth:`_plan`, or ``L``)."""
        lmat, blocks = plan if isinstance(plan, tuple) else self._plan(plan)
        var = np.zeros(lmat.shape[0])
        for idx, rows, lb in blocks:
            v = src.block(idx)
            if isinstance(lb, np.ndarray):
                var[rows] = np.einsum("ij,ij->i", lb @ v, lb)
            else:
                var[rows] = np.asarray(lb.multiply(lb @ v).sum(axis=1)).ravel()
        ok = src.sw > 0
        est = lmat @ np.where(ok, src.m, 0.0)
        empty = np.asarray(abs(lmat) @ (~ok).astype(float)).ravel() > 0
        est = np.where(empty, np.nan, est)
        se = np.where(empty, np.nan, np.sqrt(np.maximum(var, 0)))
        return {"estimate": est, "se": se}

    # ------------------------------------------------------------------ output
    def _frame(self, labels: pd.DataFrame, a: dict[str, np.ndarray], level: float) -> pd.DataFrame:
        from .design import _tcrit

        dfv = self.design.degf
        t = _tcrit(dfv, level)
        out = labels.reset_index(drop=True).copy()
        out["estimate"] = a["estimate"]
        out["se"] = a["se"]
        out["ci_low"] = a["estimate"] - t * a["se"]
        out["ci_high"] = a["estimate"] + t * a["se"]
        out["df"] = dfv
        out["n"] = a["n"].astype(np.int64)
        out["n_eff"] = a["n_eff"]
        out["deff"] = a["deff"]
        out["sum_weights"] = a["sum_weights"]
        out["count"] = a["count"]
        return out

    def _centre(self, var: np.ndarray, tot: np.ndarray) -> np.ndarray:
        """Subtract the between-PSU term of the stratum totals ``tot`` (strata first) and apply
        the ``lonely_psu="average"`` scaling."""
        coef = self._coef.reshape((-1,) + (1,) * (tot.ndim - 1))
        var = var - (coef * tot * tot).sum(axis=0)
        if self._nok < self._nstrat:
            var = var * self._nstrat / self._nok
        return var

    def _close(self, var, tot, m, mm, n, sw, swy, swy2, count, wvar=None) -> dict[str, np.ndarray]:
        """The between-PSU term of the stratum totals, the lonely-stratum scaling and the design
        effect against simple random sampling (as ``Design.mean``)."""
        var = np.where(sw > 0, self._centre(var, tot), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            if wvar is None:
                wvar = (swy2 - 2 * mm * swy + mm * mm * sw) / sw * n / (n - 1)
            vsrs = wvar * (sw - n) / (sw * n)
            deff = var / vsrs
            n_eff = wvar / var  # against sampling with replacement, as Design.mean
        return {"estimate": m, "se": np.sqrt(np.maximum(var, 0)), "n": n, "n_eff": n_eff,
                "deff": deff, "sum_weights": sw, "count": count}

    # ------------------------------------------------------------------ cell path
    def _moments(self, y: np.ndarray, count: np.ndarray | None, reuse: bool = False) -> np.ndarray:
        """Per-cell sums (nc x k): N, W, A0 [R0, Q0], then times y, then W and A0 times y^2, C.

        ``reuse``: keep them for the next call with an equal variable (complements of one
        variable for several classifications, e.g. two area levels).
        """
        ck = self._cache_key
        if (reuse and ck is not None and np.array_equal(ck[0], y, equal_nan=True)
                and ((ck[1] is None and count is None)
                     or (ck[1] is not None and count is not None and np.array_equal(ck[1], count)))):
            return self._cache_val
        key = (y.copy(), None if count is None else np.array(count, dtype=float)) if reuse else None
        valid = ~np.isnan(y) & (self._w != 0)
        yv = np.where(valid, y, 0.0)
        b = self._base
        nb = b.shape[1]
        if self._base_cell is not None:
            bc = self._base_cell
            nc = self._nc

            def total(v):
                return np.bincount(self._cell, weights=v, minlength=nc)

            mom = np.empty((nc, 2 * nb + 3))
            np.multiply(bc, total(valid.astype(float))[:, None], out=mom[:, :nb])
            np.multiply(bc, total(yv)[:, None], out=mom[:, nb:2 * nb])
            np.multiply(bc[:, 1:3], total(yv * yv)[:, None], out=mom[:, 2 * nb:2 * nb + 2])
            mom[:, -1] = 0.0 if count is None else total(np.asarray(count, dtype=float))
            if reuse:
                self._cache_key, self._cache_val = key, mom
            return mom
        f = np.empty((len(y), 2 * nb + 3))
        np.multiply(b, valid[:, None], out=f[:, :nb])
        np.multiply(f[:, :nb], yv[:, None], out=f[:, nb:2 * nb])
        np.multiply(f[:, nb + 1:nb + 3], yv[:, None], out=f[:, 2 * nb:2 * nb + 2])
        f[:, -1] = 0.0 if count is None else count
        mom = np.asarray(self._cmat @ f)
        if reuse:
            self._cache_key, self._cache_val = key, mom
        return mom

    def _stack(self, sets: list[DomainSet]):
        """Aggregation matrices (cells to domains, and to stratum x domain) of several
        classifications stacked, and their calibration structure; kept for the next call."""
        if len(self._stack_key) == len(sets) and all(a is b for a, b in zip(self._stack_key, sets, strict=True)):
            return self._stack_val
        cidx, didx, offs = [], [], []
        off = 0
        for ds in sets:
            cc = self._cell_codes(ds)
            keep = np.flatnonzero(cc >= 0)
            cidx.append(keep)
            didx.append(cc[keep] + off)
            offs.append(off)
            off += len(ds)
        ci = np.concatenate(cidx)
        di = np.concatenate(didx)
        nd = off
        # the (cell, domain) pairs sorted by domain then cell: agg in canonical CSR order
        order = np.lexsort((ci, di))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(di, minlength=nd))])
        agg = sparse.csr_matrix((np.ones(len(ci)), ci[order], indptr), shape=(nd, self._nc))
        hrow = self._strat_cell[ci] * nd + di
        hagg = sparse.csr_matrix((np.ones(len(ci)), (hrow, ci)), shape=(self._nstrat * nd, self._nc))
        cal = self._cal_structure(agg, nd) if self._cstep is not None else None
        val = (offs, nd, agg, hagg, cal)
        self._stack_key, self._stack_val = tuple(sets), val
        return val

    def _emap(self, agg: sparse.csr_matrix, nd: int):
        """The pattern ``pm`` of ``agg @ xc`` (domain x calibration column), the domain of each
        entry, and the matrix mapping per-cell moments to the entries (``agg @ diag(r) @ xc``)."""
        xc = self._cstep[0]
        agg = sparse.csr_matrix(agg)
        agg.sort_indices()
        p = xc.shape[1]
        pm = sparse.csr_matrix(agg @ xc)
        pm.sort_indices()
        rowp = np.repeat(np.arange(nd), np.diff(pm.indptr))
        pkey = rowp.astype(np.int64) * p + pm.indices
        cc = agg.indices
        dd = np.repeat(np.arange(nd), np.diff(agg.indptr))
        xlen = np.diff(xc.indptr)[cc]
        pair = np.repeat(np.arange(len(cc)), xlen)
        first = np.cumsum(xlen) - xlen
        xi = np.repeat(xc.indptr[cc], xlen) + (np.arange(len(pair)) - np.repeat(first, xlen))
        e = np.searchsorted(pkey, dd[pair].astype(np.int64) * p + xc.indices[xi])
        emap = sparse.csr_matrix((xc.data[xi], (e, cc[pair])), shape=(pm.nnz, self._nc))
        return pm, rowp, emap

    def _cal_structure(self, agg: sparse.csr_matrix, nd: int):
        """Fixed index structure of the domains' calibration sums ``M = sum_c r_c x_c``.

        ``pm`` holds the pattern (domain x calibration column) of ``agg @ xc``; ``emap`` maps the
        per-cell moments to its entries (one sparse product per variable), and the pairs of
        entries of one domain in one calibration block give the quadratic forms by ``bincount``.
        """
        _xc, ginv, kmat, _hag, comp = self._cstep[:5]
        pm, rowp, emap = self._emap(agg, nd)
        k = np.diff(pm.indptr)[rowp]
        e1 = np.repeat(np.arange(pm.nnz), k)
        first = np.cumsum(k) - k
        e2 = np.repeat(pm.indptr[rowp], k) + (np.arange(len(e1)) - np.repeat(first, k))
        j1, j2 = pm.indices[e1], pm.indices[e2]
        keep = comp[j1] == comp[j2]
        e1, e2, j1, j2 = e1[keep], e2[keep], j1[keep], j2[keep]
        # entry-level forms: (K m)_e = sum over the entries f of e's domain and block of K_jf m_f
        ne = pm.nnz
        kp = sparse.csr_matrix((kmat[j1, j2], (e1, e2)), shape=(ne, ne))
        gp = sparse.csr_matrix((ginv[j1, j2], (e1, e2)), shape=(ne, ne))
        rsum = sparse.csr_matrix((np.ones(ne), (rowp, np.arange(ne))), shape=(nd, ne))
        hag = self._cstep[3]
        nh = hag.shape[0]
        hrow = (np.arange(nh)[:, None] * nd + rowp[None, :]).ravel()
        hcol = np.tile(np.arange(pm.nnz), nh)
        hmat = sparse.csr_matrix((hag[:, pm.indices].ravel(), (hrow, hcol)), shape=(nh * nd, pm.nnz))
        return pm, rowp, emap, kp, gp, rsum, hmat

    def _cell_means(self, sets: list[DomainSet], ys: list[np.ndarray], counts: list
                    ) -> list[list[dict[str, np.ndarray]]]:
        """Cell-path results of several variables (the outer list) for several classifications."""
        offs, nd, agg, hagg, cal = self._stack(sets)
        nb = self._base.shape[1]
        out: list[list] = []
        for v0 in range(0, len(ys), _BATCH):
            chunk = list(range(v0, min(v0 + _BATCH, len(ys))))
            mom = np.stack([self._moments(ys[v], counts[v]) for v in chunk], axis=1)  # nc x K x F
            k = len(chunk)
            # the domain sums the variance needs: N, W, A0, WY, A1, WY2, A2, C
            cols = [0, 1, 2, nb + 1, nb + 2, 2 * nb, 2 * nb + 1, mom.shape[2] - 1]
            s = np.asarray(agg @ mom[:, :, cols].reshape(self._nc, k * len(cols))).reshape(nd, k, len(cols))
            n, sw, a0, swy, a1, swy2, a2, cnt = (s[:, :, i] for i in range(len(cols)))
            h = np.asarray(hagg @ mom[:, :, [1, nb + 1]].reshape(self._nc, 2 * k)).reshape(self._nstrat, nd, k, 2)
            hw, hwy = h[..., 0], h[..., 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                m = swy / sw
                mm = np.where(np.isfinite(m), m, 0.0)
                sw1 = np.where(sw > 0, sw, 1.0)
                var = (a2 - 2 * mm * a1 + mm * mm * a0) / sw1**2
                tot = (hwy - mm[None] * hw) / sw1[None]
            if self._cstep is not None:
                pm, rowp, emap, kp, gp, rsum, hmat = cal
                # the calibration sums of each domain's centred influence (entries of pm)
                r = np.asarray(emap @ mom[:, :, [3, nb + 3, 4, nb + 4]].reshape(self._nc, 4 * k))
                r = r.reshape(pm.nnz, k, 4)
                mt = (r[:, :, 1] - mm[rowp] * r[:, :, 0]) / sw1[rowp]
                qt = (r[:, :, 3] - mm[rowp] * r[:, :, 2]) / sw1[rowp]
                quad = np.asarray(rsum @ (mt * np.asarray(kp @ mt)))
                crs = np.asarray(rsum @ (qt * np.asarray(gp @ mt)))
                var = var + quad - 2 * crs
                tot = tot - np.asarray(hmat @ mt).reshape(self._nstrat, nd, k)
            res = self._close(var, tot, m, mm, n, sw, swy, swy2, cnt)
            for j in range(k):
                out.append([{key: val[off:off + len(ds), j] for key, val in res.items()}
                            for ds, off in zip(sets, offs, strict=True)])
        return out

    def _linear_maps(self, ds: DomainSet) -> tuple:
        """The matrices summing cell moments over the domains of ``ds`` (kept for reuse)."""
        got = self._lin_cache.get(id(ds))
        if got is None or got[0] is not ds:
            nd = len(ds)
            dc = self._cell_codes(ds)
            inside = dc >= 0
            dci = dc[inside]
            rows = np.flatnonzero(inside)
            agg = sparse.csr_matrix((np.ones(len(dci)), (dci, rows)), shape=(nd, self._nc))
            hagg = sparse.csr_matrix((np.ones(len(dci)), (self._strat_cell[inside] * nd + dci, rows)),
                                     shape=(self._nstrat * nd, self._nc))
            emap = self._emap(agg, nd) if self._cstep is not None else None
            # by cell (CSC): one sequential pass over the cell moments, each sum still adding its
            # cells in cell order
            if emap is not None:
                emap = (emap[0], emap[1], emap[2].tocsc())
            got = (ds, agg.tocsc(), hagg.tocsc(), emap)
            self._lin_cache[id(ds)] = got
        return got[1:]

    def _linear(self, mom: np.ndarray, ds: DomainSet, m2: np.ndarray | None = None,
                r: np.ndarray | None = None) -> dict:
        """Sums of the cell moments over each domain (all linear, so they can be subtracted).

        ``m2`` (the moment columns W, WY) and ``r`` (the calibration sums, ``em @`` the columns
        R0, RY, Q0, QY) may be given when already computed (several domain sets or variables)."""
        nb = self._base.shape[1]
        nd = len(ds)
        agg, hagg, emap = self._linear_maps(ds)
        s = np.asarray(agg @ mom)
        out = {"N": s[:, 0], "W": s[:, 1], "A0": s[:, 2], "WY": s[:, nb + 1], "A1": s[:, nb + 2],
               "WY2": s[:, 2 * nb], "A2": s[:, 2 * nb + 1], "C": s[:, -1]}
        h = np.asarray(hagg @ (mom[:, [1, nb + 1]] if m2 is None else m2))
        out["HW"] = h[:, 0].reshape(self._nstrat, nd)
        out["HWY"] = h[:, 1].reshape(self._nstrat, nd)
        if emap is not None:
            pm, rowp, em = emap
            if r is None:
                r = np.asarray(em @ mom[:, [3, nb + 3, 4, nb + 4]])
            for i, k in enumerate(("XR0", "XR1", "XQ0", "XQ1")):
                x = np.zeros(pm.shape)
                x[rowp, pm.indices] = r[:, i]
                out[k] = x
        return out

    def _parts(self, lin: dict) -> tuple:
        """The pieces of a domain-mean variance from its linear sums: ``m, mm, sw1``, the squared
        influences ``var``, the stratum totals ``tot`` and the calibration sums ``mt, qt`` of the
        centred influence (None without calibration). All linear in the influence, so the pieces
        of a difference of two domains are the differences of their pieces."""
        sw, swy = lin["W"], lin["WY"]
        with np.errstate(divide="ignore", invalid="ignore"):
            m = swy / sw
            mm = np.where(np.isfinite(m), m, 0.0)
            sw1 = np.where(sw > 0, sw, 1.0)
            var = (lin["A2"] - 2 * mm * lin["A1"] + mm * mm * lin["A0"]) / sw1**2
            tot = (lin["HWY"] - mm[None, :] * lin["HW"]) / sw1[None, :]
        mt = qt = None
        if self._cstep is not None:
            mt = (lin["XR1"] - mm[:, None] * lin["XR0"]) / sw1[:, None]
            qt = (lin["XQ1"] - mm[:, None] * lin["XQ0"]) / sw1[:, None]
        return m, mm, sw1, var, tot, mt, qt

    def _cal_products(self, mt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``K m``, ``G m`` and ``HA G m`` for every domain (rows of ``mt``); linear in ``mt``, so
        those of a difference of domains are the differences."""
        hag, comp, kbd, gbd = self._cstep[3], self._cstep[4], self._cstep[5], self._cstep[6]
        ht = (mt @ hag.T).T
        if self._cal_blocks is None:
            self._cal_blocks = []
            for b in np.unique(comp):
                cols = np.flatnonzero(comp == b)
                self._cal_blocks.append((b, cols, sparse.csr_matrix(kbd[cols][:, cols]),
                                         sparse.csr_matrix(gbd[cols][:, cols])))
        # block-diagonal forms (sparse): (K m) for every domain at once. A domain within one block
        # (e.g. one wave of a design raked wave by wave) is multiplied by that block only: the same
        # sums (a row of a block holds the row's every entry), a fraction of the work
        nz = mt != 0  # (few domains: one product is quicker)
        first = np.where(nz, comp[None, :], len(comp)).min(axis=1)
        last = np.where(nz, comp[None, :], -1).max(axis=1)
        if len(self._cal_blocks) == 1 or len(mt) < 32 or np.any((last >= 0) & (first != last)):
            return np.asarray(kbd @ mt.T).T, np.asarray(gbd @ mt.T).T, ht
        km, gm = np.zeros(mt.shape), np.zeros(mt.shape)
        for b, cols, kb, gb in self._cal_blocks:
            rows = np.flatnonzero(first == b)
            if len(rows):
                ix = np.ix_(rows, cols)
                sub = mt[ix].T
                km[ix] = np.asarray(kb @ sub).T
                gm[ix] = np.asarray(gb @ sub).T
        return km, gm, ht

    def _cal_terms(self, mt: np.ndarray, qt: np.ndarray, prods: tuple | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The calibration terms: added to the squared influences, subtracted from the stratum
        totals (``b'ADA b + 2 cross'b`` and ``HA b`` with ``b = -G M``)."""
        km, gm, ht = prods if prods is not None else self._cal_products(mt)
        quad = np.einsum("ij,ij->i", mt, km)
        crs = np.einsum("ij,ij->i", qt, gm)
        return quad - 2 * crs, ht

    def _finish(self, lin: dict, parts: tuple | None = None, prods: tuple | None = None
                ) -> dict[str, np.ndarray]:
        m, mm, _sw1, var, tot, mt, qt = parts if parts is not None else self._parts(lin)
        if mt is not None:
            dv, dt = self._cal_terms(mt, qt, prods)
            var, tot = var + dv, tot - dt
        return self._close(var, tot, m, mm, lin["N"], lin["W"], lin["WY"], lin["WY2"], lin["C"])

    # ------------------------------------------------------------------ general path
    def _diag_var(self, s: sparse.csr_matrix) -> np.ndarray:
        """Diagonal of ``Design._cov(s)`` without forming the off-diagonal (before the
        ``lonely_psu="average"`` scaling)."""
        d = self.design
        k = s.shape[1]
        scale_psu, coef = self._scale_psu, self._coef
        if len(self._steps) <= 1:
            # T = S + A B with B = -G X'R S: the diagonal of T'DT and the stratum totals from
            # small products (k x p and p x p), never the n x k dense T
            ps = s if d._psu_is_row else sparse.csr_matrix(d._P @ s)
            v = np.asarray(ps.multiply(ps).T @ scale_psu).ravel()
            tot_h = np.asarray((d._H @ ps).todense())
            if self._steps:
                x, r, wa, ginv = self._steps[0]
                xtr = sparse.csr_matrix(x.T.multiply(r[None, :]))
                a = sparse.csr_matrix(x.multiply(wa[:, None]))
                b = -ginv @ np.asarray((xtr @ s).todense())
                pa = a if d._psu_is_row else sparse.csr_matrix(d._P @ a)
                dmat = sparse.diags(scale_psu)
                cross = np.asarray((ps.T @ dmat @ pa).todense())
                ada = np.asarray((pa.T @ dmat @ pa).todense())
                v = v + 2 * np.sum(cross * b.T, axis=1) + np.sum(b * (ada @ b), axis=0)
                tot_h = tot_h + np.asarray((d._H @ pa).todense()) @ b
            out = v - (coef[:, None] * tot_h * tot_h).sum(axis=0)
        else:
            out = np.zeros(k)
            steps = [(sparse.csr_matrix(x.T.multiply(r[None, :])), sparse.csr_matrix(x.multiply(wa[:, None])), g)
                     for x, r, wa, g in self._steps]
            chunk = max(1, min(256, _CHUNK_NNZ // max(d.n, 1)))
            for c0 in range(0, k, chunk):
                t = s[:, c0:c0 + chunk].toarray()
                for xtr, a, ginv in steps:
                    t = t + a @ (-ginv @ (xtr @ t))
                if not d._psu_is_row:
                    t = d._P @ t
                tot_h = d._H @ t
                out[c0:c0 + t.shape[1]] = ((scale_psu[:, None] * t * t).sum(axis=0)
                                           - (coef[:, None] * tot_h * tot_h).sum(axis=0))
        return out  # the lonely-stratum scaling is applied by _close

    def _general_means(self, y: np.ndarray, sets: list[DomainSet], count: np.ndarray | None
                       ) -> list[dict[str, np.ndarray]]:
        w = self._w
        valid = ~np.isnan(y) & (w != 0)
        yy = np.where(valid, y, 0.0)
        out = []
        for ds in sets:
            nd = len(ds)
            codes = ds.codes
            cnt = (np.bincount(codes[codes >= 0], weights=count[codes >= 0], minlength=nd)
                   if count is not None else np.zeros(nd))
            codes = np.where(valid & (codes >= 0), codes, -1)
            inside = codes >= 0
            c = codes[inside]
            sw = np.bincount(c, weights=w[inside], minlength=nd)
            swy = np.bincount(c, weights=(w * yy)[inside], minlength=nd)
            swy2 = np.bincount(c, weights=(w * yy * yy)[inside], minlength=nd)
            n = np.bincount(c, minlength=nd).astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                m = swy / sw
            mm = np.where(np.isfinite(m), m, 0.0)
            sw1 = np.where(sw > 0, sw, 1.0)
            rows = np.flatnonzero(inside)
            z = w[inside] * (yy[inside] - mm[c]) / sw1[c]
            var = np.zeros(nd)
            # columns in chunks of bounded non-zeros (a domain's rows are one column)
            for lo, hi in _chunks(np.bincount(c, minlength=nd), _CHUNK_NNZ):
                sel = (c >= lo) & (c < hi)
                s = sparse.csr_matrix((z[sel], (rows[sel], c[sel] - lo)), shape=(len(y), hi - lo))
                var[lo:hi] = self._diag_var(s)
            # R's svyvar within the domain, from the deviations (as Design.mean)
            dev2 = np.bincount(c, weights=w[inside] * (yy[inside] - mm[c]) ** 2, minlength=nd)
            with np.errstate(divide="ignore", invalid="ignore"):
                wvar = dev2 / sw * n / (n - 1)
            out.append(self._close(var, np.zeros((self._nstrat, nd)), m, mm, n, sw, swy, swy2, cnt, wvar))
        return out

    def _general_complement(self, y, parent: DomainSet, child: DomainSet, parent_of: np.ndarray,
                            count: np.ndarray | None, side_a: dict | None = None):
        """The rest of each child's parent; with ``side_a`` (the children's own results) also the
        variance of the difference child - rest: returns ``(rest, var_diff)``."""
        w = self._w
        valid = ~np.isnan(y) & (w != 0)
        yy = np.where(valid, y, 0.0)
        nd, npar = len(child), len(parent)

        def sums(codes, k, weights):
            ins = codes >= 0
            return np.bincount(codes[ins], weights=weights[ins], minlength=k)

        cnt = (sums(parent.codes, npar, count)[parent_of] - sums(child.codes, nd, count)
               if count is not None else np.zeros(nd))
        pv = np.where(valid, parent.codes, -1)
        cv = np.where(valid, child.codes, -1)
        one = valid.astype(float)
        n = sums(pv, npar, one)[parent_of] - sums(cv, nd, one)
        sw = sums(pv, npar, w)[parent_of] - sums(cv, nd, w)
        swy = sums(pv, npar, w * yy)[parent_of] - sums(cv, nd, w * yy)
        swy2 = sums(pv, npar, w * yy * yy)[parent_of] - sums(cv, nd, w * yy * yy)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = swy / sw
        mm = np.where(np.isfinite(m), m, 0.0)
        sw1 = np.where(sw > 0, sw, 1.0)
        order = np.argsort(pv, kind="stable")
        bounds = np.searchsorted(pv[order], np.arange(npar + 1))
        rows_of = [order[bounds[p]:bounds[p + 1]] for p in range(npar)]
        var = np.zeros(nd)
        var_d = np.zeros(nd) if side_a is not None else None
        if side_a is not None:
            ea, swa = side_a["estimate"], side_a["sum_weights"]
            mma = np.where(np.isfinite(ea), ea, 0.0)
            swa1 = np.where(swa > 0, swa, 1.0)
        sizes = np.array([len(rows_of[p]) for p in parent_of], dtype=np.int64)
        for lo, hi in _chunks(sizes, _CHUNK_NNZ):
            r_all, c_all, v_all, a_all = [], [], [], []
            for j in range(lo, hi):
                rows = rows_of[parent_of[j]]
                mine = child.codes[rows] == j
                rest = rows[~mine]
                r_all.append(rest)
                c_all.append(np.full(len(rest), j - lo))
                v_all.append(w[rest] * (yy[rest] - mm[j]) / sw1[j])
                if side_a is not None:
                    own = rows[mine]
                    a_all.append((own, np.full(len(own), j - lo), w[own] * (yy[own] - mma[j]) / swa1[j]))
            shape = (len(y), hi - lo)
            s = sparse.csr_matrix((np.concatenate(v_all), (np.concatenate(r_all), np.concatenate(c_all))),
                                  shape=shape)
            var[lo:hi] = self._diag_var(s)
            if side_a is not None:
                sa = sparse.csr_matrix((np.concatenate([x[2] for x in a_all]),
                                        (np.concatenate([x[0] for x in a_all]),
                                         np.concatenate([x[1] for x in a_all]))), shape=shape)
                var_d[lo:hi] = self._diag_var(sparse.csr_matrix(sa - s))
        rest = self._close(var, np.zeros((self._nstrat, nd)), m, mm, n, sw, swy, swy2, cnt)
        if side_a is None:
            return rest
        return rest, self._centre(var_d, np.zeros((self._nstrat, nd)))


@dataclass(frozen=True, eq=False)
class _CovSource:
    """Domain means of one variable and ``block(idx)``: the covariance of the means of the
    domains ``idx`` (an ``len(idx) x len(idx)`` array, centred and lonely-scaled)."""

    m: np.ndarray
    sw: np.ndarray
    n: np.ndarray
    block: object


def _pairs(parent_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(a, b)``, ``a < b``, of domains with the same parent, by parent then ``a``."""
    order = np.lexsort((np.arange(len(parent_of)), parent_of))
    bounds = np.flatnonzero(np.diff(parent_of[order])) + 1
    av, bv = [], []
    for g in np.split(order, bounds):
        i, j = np.triu_indices(len(g), 1)
        av.append(g[i])
        bv.append(g[j])
    if not av:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(av).astype(np.int64), np.concatenate(bv).astype(np.int64)


def _chunks(sizes: np.ndarray, limit: int):
    """Consecutive index ranges whose summed sizes stay under ``limit`` (at least one each)."""
    lo, acc = 0, 0
    for i, s in enumerate(sizes):
        if i > lo and acc + s > limit:
            yield lo, i
            lo, acc = i, 0
        acc += s
    if len(sizes):
        yield lo, len(sizes)
