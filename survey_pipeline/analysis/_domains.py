"""Many domain means of one variable at once, with diagonal-only linearization variances.

``stats.Design.mean_of_array(by=...)`` returns the full covariance machinery of its domains; the
analysis needs thousands of domains per indicator (wave x area x group) and only their variances,
so this module computes the same estimator and the same variance (residuals from every
calibration step, PSU totals, stratum centring, as ``Design._cov``) but only the diagonal, in
column chunks, for several domain sets in one pass. ``tests/unit/analysis`` checks it against
``Design.mean_of_array`` to 1e-10. (A candidate for ``stats`` as a public ``Design`` method.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from survey_pipeline.stats import Design

__all__ = ["CellDomains", "cell_domains", "domain_codes", "domain_means"]

_CHUNK = 256


def _diag_var(design: Design, s: sparse.csr_matrix) -> np.ndarray:
    d = design
    k = s.shape[1]
    out = np.zeros(k)
    scale_psu = d._scale_h[d._psu_stratum].copy()
    nstrat = len(d._n_h)
    nok = nstrat
    if d.lonely_psu == "average" and d._lonely.any():
        scale_psu[d._lonely[d._psu_stratum]] = 0.0
        nok = nstrat - int(d._lonely.sum())
    centre = np.ones(nstrat, bool)
    if d.lonely_psu in ("adjust", "average"):
        centre &= ~d._lonely
    coef = np.where(centre, d._scale_h / d._n_h, 0.0)
    steps = []
    for st in d._steps:
        r = np.divide(st.w_before, st.w_after, out=np.zeros_like(st.w_after), where=st.w_after != 0)
        xtr = sparse.csr_matrix(st.x.T.multiply(r[None, :]))
        a = sparse.csr_matrix(st.x.multiply(st.w_after[:, None]))
        steps.append((xtr, a, st.ginv))
    if len(steps) <= 1:
        # T = S + A B with B = -G X'R S: the diagonal of T'DT and of the stratum totals from
        # small products (K x p and p x p), never the n x K dense T
        ps = s if d._psu_is_row else sparse.csr_matrix(d._P @ s)
        dmat = sparse.diags(scale_psu)
        v = np.asarray(ps.multiply(ps).T @ scale_psu).ravel()
        tot_h = np.asarray((d._H @ ps).todense())
        if steps:
            xtr, a, ginv = steps[0]
            b = -ginv @ np.asarray((xtr @ s).todense())
            pa = a if d._psu_is_row else sparse.csr_matrix(d._P @ a)
            cross = np.asarray((ps.T @ dmat @ pa).todense())       # K x p
            ada = np.asarray((pa.T @ dmat @ pa).todense())          # p x p
            v = v + 2 * np.sum(cross * b.T, axis=1) + np.sum(b * (ada @ b), axis=0)
            tot_h = tot_h + np.asarray((d._H @ pa).todense()) @ b
        out = v - (coef[:, None] * tot_h * tot_h).sum(axis=0)
        return out * nstrat / nok if nok < nstrat else out
    for c0 in range(0, k, _CHUNK):
        sc = s[:, c0:c0 + _CHUNK]
        t = sc.toarray()
        for xtr, a, ginv in steps:
            m = xtr @ t
            t = t + a @ (-ginv @ m)
        if not d._psu_is_row:
            t = d._P @ t
        tot_h = d._H @ t
        v = (scale_psu[:, None] * t * t).sum(axis=0) - (coef[:, None] * tot_h * tot_h).sum(axis=0)
        out[c0:c0 + sc.shape[1]] = v
    if nok < nstrat:
        out = out * nstrat / nok
    return out


def domain_codes(data: pd.DataFrame, by: list) -> tuple[np.ndarray, pd.DataFrame]:
    """Domain code of every row (-1 outside) and the domain labels, for one ``by`` list."""
    if not by:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0])
    keys = [data[c] if isinstance(c, str) else pd.Series(np.asarray(c, dtype=object), index=data.index,
                                                         name=f"_by{i}")
            for i, c in enumerate(by)]
    g = data.groupby(keys, sort=True, dropna=True, observed=True)
    codes = g.ngroup().fillna(-1).to_numpy().astype(np.int64)
    return codes, g.size().index.to_frame(index=False)


def domain_means(design: Design, y: np.ndarray, domain_sets: list,
                 count: np.ndarray | None = None, as_arrays: bool = False) -> list:
    """Weighted domain means of ``y`` for each list of ``by`` columns, on the full design.

    A ``by`` entry is a column name or an array/Series aligned with the rows (NaN = outside); a
    domain set may also be given already coded, as ``(codes, labels)`` from :func:`domain_codes`
    (reused across indicators, which saves the grouping).
    Returns, per domain set, a frame with the ``by`` columns and ``estimate, se, n, n_eff, deff,
    sw, count`` (the Hájek estimator, its linearization SE and R's ``svymean`` design effect), like
    ``Design.mean_of_array(y, by)`` but computed together. Rows outside every domain (or with
    NaN ``y``) contribute nothing but stay in the design. ``count`` (optional, a 0/1 array) is
    summed over each domain's rows regardless of ``y`` (e.g. don't-know answers). With
    ``as_arrays`` each item is ``(labels, {column: array})`` instead of a frame (faster).
    """
    data = design.data
    w = design.weights
    y = np.asarray(y, float)
    valid = ~np.isnan(y) & (w != 0)
    yy = np.where(valid, y, 0.0)
    cols, blocks = [], []
    offset = 0
    for by in domain_sets:
        codes, lab = by if isinstance(by, tuple) else domain_codes(data, by)
        nd = len(lab)
        cnt = (np.bincount(codes[codes >= 0], weights=np.asarray(count, float)[codes >= 0], minlength=nd)
               if count is not None else np.zeros(nd))
        codes = np.where(valid & (codes >= 0), codes, -1)
        inside = codes >= 0
        sw = np.bincount(codes[inside], weights=w[inside], minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.bincount(codes[inside], weights=(w * yy)[inside], minlength=nd) / sw
        z = np.zeros(len(y))
        z[inside] = w[inside] * (yy[inside] - est[codes[inside]]) / sw[codes[inside]]
        rows = np.flatnonzero(inside)
        blocks.append((rows, codes[rows] + offset, z[rows]))
        n = np.bincount(codes[inside], minlength=nd).astype(float)
        dev2 = np.bincount(codes[inside], weights=(w * (yy - est[np.maximum(codes, 0)]) ** 2)[inside], minlength=nd)
        with np.errstate(divide="ignore", invalid="ignore"):
            wvar = dev2 / sw * n / (n - 1)
            vsrs = wvar * (sw - n) / (sw * n)
        cols.append((by, lab, est, n, sw, vsrs, offset, nd, cnt))
        offset += nd
    r_all = np.concatenate([b[0] for b in blocks])
    c_all = np.concatenate([b[1] for b in blocks])
    v_all = np.concatenate([b[2] for b in blocks])
    s = sparse.csr_matrix((v_all, (r_all, c_all)), shape=(len(y), offset))
    var = _diag_var(design, s)
    out = []
    for _by, lab, est, n, sw, vsrs, off, nd, cnt in cols:
        v = var[off:off + nd]
        with np.errstate(divide="ignore", invalid="ignore"):
            deff = v / vsrs
            n_eff = n / deff
        cols_ = {"estimate": est, "se": np.sqrt(np.maximum(v, 0)), "n": n, "n_eff": n_eff, "deff": deff,
                 "sw": sw, "count": cnt}
        if as_arrays:
            out.append((lab, cols_))
            continue
        f = lab.copy()
        for c, a in cols_.items():
            f[c] = a
        out.append(f)
    return out


class CellDomains:
    """Domain means from per-cell moments: one pass over the rows per indicator.

    The rows are grouped into *cells*, the cross-classification of every domain column and every
    calibration (margin) column. When each cell has one row of the calibration matrix and every
    row is its own PSU, the Hájek domain mean, its linearization variance with the calibration
    residuals and stratum centring (the same numbers as :func:`domain_means`), and the design
    effect are all functions of a few weighted sums per cell, so each indicator costs a handful
    of ``bincount`` passes over the rows and small dense algebra over the cells.

    Use :meth:`eligible` first; :func:`domain_means` is the general path.
    """

    def __init__(self, design: Design, columns: list[str]):
        d = design
        self.design = d
        data = d.data
        self.columns = list(columns)
        g = data.groupby(columns, sort=True, dropna=False, observed=True)
        self.cell = g.ngroup().to_numpy().astype(np.int64)
        self.cells = g.size().index.to_frame(index=False)
        nc = len(self.cells)
        first = np.full(nc, -1, dtype=np.int64)
        first[self.cell[::-1]] = np.arange(len(self.cell))[::-1]
        self.nc = nc
        self.ok = d._psu_is_row and len(d._steps) <= 1
        self.strat_cell = d._strata[first]
        self.s = d._scale_h[d._psu_stratum]  # per row (rows are PSUs)
        nstrat = len(d._n_h)
        self.nok = nstrat
        if d.lonely_psu == "average" and d._lonely.any():
            self.s = self.s.copy()
            self.s[d._lonely[d._psu_stratum]] = 0.0
            self.nok = nstrat - int(d._lonely.sum())
        self.nstrat = nstrat
        centre = np.ones(nstrat, bool)
        if d.lonely_psu in ("adjust", "average"):
            centre &= ~d._lonely
        self.coef = np.where(centre, d._scale_h / d._n_h, 0.0)
        self.step = None
        if self.ok and d._steps:
            st = d._steps[0]
            x = sparse.csr_matrix(st.x)
            xc = sparse.csr_matrix(x[first])
            if (x - xc[self.cell]).count_nonzero() != 0:
                self.ok = False
                return
            r = np.divide(st.w_before, st.w_after, out=np.zeros_like(st.w_after), where=st.w_after != 0)
            wa = st.w_after
            ada_c = np.bincount(self.cell, weights=self.s * wa * wa, minlength=nc)
            ada = np.asarray((xc.T @ sparse.diags(ada_c) @ xc).todense())
            wa_c = np.bincount(self.cell, weights=wa, minlength=nc)
            ha = np.zeros((nstrat, x.shape[1]))
            hc = sparse.csr_matrix((wa_c, (self.strat_cell, np.arange(nc))), shape=(nstrat, nc))
            ha = np.asarray((hc @ xc).todense())
            g_ = st.ginv
            # b = -G M (M: the domains' calibration sums, sparse: a domain touches few margin
            # cells), so b'ADA b = M'(G ADA G)M, cross'b = -Q'G M, HA b = -(HA G) M
            self.step = (xc, r, wa, g_, g_ @ ada @ g_, ha @ g_)

    def codes(self, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Domain code of every cell (-1 outside) and the labels, to reuse across indicators."""
        g = self.cells.groupby(by, sort=True, dropna=True, observed=True)
        return g.ngroup().fillna(-1).to_numpy().astype(np.int64), g.size().index.to_frame(index=False)

    def means(self, y: np.ndarray, domain_sets: list[list[str]], count: np.ndarray | None = None,
              ) -> list[tuple[pd.DataFrame, dict[str, np.ndarray]]]:
        """As ``domain_means(..., as_arrays=True)``.

        A domain set is a list of cell columns, or ``(codes, labels)`` with the domain code of
        every *cell* (-1 outside), e.g. "the rest of the city" in each wave.
        """
        mom = self._moments(y, count)
        nc = self.nc
        out = []
        for by in domain_sets:
            if isinstance(by, tuple):
                dc, lab = by
            else:
                g = self.cells.groupby(by, sort=True, dropna=True, observed=True)
                dc = g.ngroup().fillna(-1).to_numpy().astype(np.int64)
                lab = g.size().index.to_frame(index=False)
            nd = len(lab)
            inside = dc >= 0
            dci = dc[inside]

            def agg(v, dci=dci, inside=inside, nd=nd):
                return np.bincount(dci, weights=v[inside], minlength=nd)

            n, sw, swy, swy2 = agg(mom["N"]), agg(mom["W"]), agg(mom["WY"]), agg(mom["WY2"])
            with np.errstate(divide="ignore", invalid="ignore"):
                m = swy / sw
                mm = np.where(np.isfinite(m), m, 0.0)
                var = (agg(mom["A2"]) - 2 * mm * agg(mom["A1"]) + mm * mm * agg(mom["A0"])) / sw**2
                # stratum totals of the influence inside each domain
                md = np.zeros(nc)
                md[inside] = mm[dci]
                swd = np.ones(nc)
                swd[inside] = sw[dci]
                zc = np.where(inside, (mom["WY"] - md * mom["W"]) / swd, 0.0)
            tot = np.bincount(self.strat_cell[inside] * nd + dci, weights=zc[inside],
                              minlength=self.nstrat * nd).reshape(self.nstrat, nd)
            if self.step is not None:
                xc, _r, _wa, ginv, ada, ha = self.step
                with np.errstate(divide="ignore", invalid="ignore"):
                    u = np.where(inside, (mom["R1"] - md * mom["R0"]) / swd, 0.0)
                    q = np.where(inside, (mom["Q1"] - md * mom["Q0"]) / swd, 0.0)
                g_, kmat, hag = ginv, ada, ha
                oh_u = sparse.csr_matrix((u[inside], (np.flatnonzero(inside), dci)), shape=(nc, nd))
                oh_q = sparse.csr_matrix((q[inside], (np.flatnonzero(inside), dci)), shape=(nc, nd))
                mt = sparse.csr_matrix((xc.T @ oh_u).T)             # nd x p, sparse
                qt = sparse.csr_matrix((xc.T @ oh_q).T)             # nd x p, sparse
                gm = np.asarray(mt @ g_)                            # nd x p  (= (G M)')
                km = np.asarray(mt @ kmat)                          # nd x p  (= (K M)')
                quad = np.asarray(mt.multiply(km).sum(axis=1)).ravel()
                crs = np.asarray(qt.multiply(gm).sum(axis=1)).ravel()
                var = var - 2 * crs + quad
                tot = tot - np.asarray(mt @ hag.T).T
            out.append((lab, self._close(var, tot, m, mm, n, sw, swy, swy2, agg(mom["C"]))))
        return out

    def _moments(self, y: np.ndarray, count: np.ndarray | None) -> dict[str, np.ndarray]:
        d = self.design
        w = d.weights
        y = np.asarray(y, float)
        valid = (~np.isnan(y)) & (w != 0)
        yv = np.where(valid, y, 0.0)
        wv = np.where(valid, w, 0.0)
        c, nc, s = self.cell, self.nc, self.s

        def bc(weights):
            return np.bincount(c, weights=weights, minlength=nc)

        mom = {"N": bc(valid.astype(float)), "W": bc(wv), "WY": bc(wv * yv), "WY2": bc(wv * yv * yv),
               "A0": bc(s * wv * wv), "A1": bc(s * wv * wv * yv), "A2": bc(s * wv * wv * yv * yv),
               "C": bc(np.asarray(count, float)) if count is not None else np.zeros(nc)}
        if self.step is not None:
            _xc, r, wa, _g, _k, _h = self.step
            mom["R0"], mom["R1"] = bc(r * wv), bc(r * wv * yv)
            mom["Q0"], mom["Q1"] = bc(s * wv * wa), bc(s * wv * wa * yv)
        return mom

    def _linear(self, mom: dict[str, np.ndarray], dc: np.ndarray, nd: int) -> dict[str, np.ndarray]:
        """Sums of the cell moments over each domain (all linear, so they can be subtracted)."""
        inside = dc >= 0
        dci = dc[inside]
        rows = np.flatnonzero(inside)
        out = {k: np.bincount(dci, weights=mom[k][inside], minlength=nd)
               for k in ("N", "W", "WY", "WY2", "A0", "A1", "A2", "C")}
        hidx = self.strat_cell[inside] * nd + dci
        for k in ("W", "WY"):
            out[f"H{k}"] = np.bincount(hidx, weights=mom[k][inside], minlength=self.nstrat * nd).reshape(
                self.nstrat, nd)
        if self.step is not None:
            xc = self.step[0]
            for k in ("R0", "R1", "Q0", "Q1"):
                oh = sparse.csr_matrix((mom[k][inside], (dci, rows)), shape=(nd, self.nc))
                out[f"X{k}"] = sparse.csr_matrix(oh @ xc)              # nd x p, sparse
        return out

    def _finish(self, lin: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n, sw, swy, swy2 = lin["N"], lin["W"], lin["WY"], lin["WY2"]
        with np.errstate(divide="ignore", invalid="ignore"):
            m = swy / sw
            mm = np.where(np.isfinite(m), m, 0.0)
            sw1 = np.where(sw > 0, sw, 1.0)
            var = (lin["A2"] - 2 * mm * lin["A1"] + mm * mm * lin["A0"]) / sw1**2
            tot = (lin["HWY"] - mm[None, :] * lin["HW"]) / sw1[None, :]
        if self.step is not None:
            _xc, _r, _wa, g_, kmat, hag = self.step
            inv = sparse.diags(1.0 / sw1)
            # M' and Q' (nd x p) stay sparse: a domain touches the margin cells of its wave only
            mt = sparse.csr_matrix(inv @ (lin["XR1"] - sparse.diags(mm) @ lin["XR0"]))
            qt = sparse.csr_matrix(inv @ (lin["XQ1"] - sparse.diags(mm) @ lin["XQ0"]))
            quad = np.asarray(mt.multiply(np.asarray(mt @ kmat)).sum(axis=1)).ravel()
            crs = np.asarray(qt.multiply(np.asarray(mt @ g_)).sum(axis=1)).ravel()
            var = var + quad - 2 * crs
            tot = tot - np.asarray(mt @ hag.T).T
        return self._close(var, tot, m, mm, n, sw, swy, swy2, lin["C"])

    def _close(self, var, tot, m, mm, n, sw, swy, swy2, count) -> dict[str, np.ndarray]:
        """Finish a domain variance: the between-PSU term of the stratum totals, the lonely-stratum
        scaling, and the design effect against simple random sampling (as ``Design.mean``)."""
        var = var - (self.coef[:, None] * tot * tot).sum(axis=0)
        if self.nok < self.nstrat:
            var = var * self.nstrat / self.nok
        with np.errstate(divide="ignore", invalid="ignore"):
            wvar = (swy2 - 2 * mm * swy + mm * mm * sw) / sw * n / (n - 1)
            vsrs = wvar * (sw - n) / (sw * n)
            deff = var / vsrs
            n_eff = n / deff
        return {"estimate": m, "se": np.sqrt(np.maximum(var, 0)), "n": n, "n_eff": n_eff, "deff": deff,
                "sw": sw, "count": count}

    def rest_means(self, y: np.ndarray, level: str, count: np.ndarray | None = None
                   ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """For every wave and area of ``level``: the mean of the rest of the city (all other rows
        of the wave, rows without an area included), from wave sums minus area sums."""
        mom = self._moments(y, count)
        wc, wlab = self.codes(["wave"])
        ac, alab = self.codes(["wave", level])
        lw = self._linear(mom, wc, len(wlab))
        la = self._linear(mom, ac, len(alab))
        widx = pd.Index(wlab["wave"]).get_indexer(alab["wave"])
        rest = {k: (sparse.csr_matrix(lw[k][widx, :] - la[k]) if k.startswith("X") else lw[k][..., widx] - la[k])
                for k in la}
        return alab, self._finish(rest)


def cell_domains(design: Design, columns: list[str]) -> CellDomains | None:
    """A :class:`CellDomains` over ``columns`` plus the calibration columns, or None when the
    design is not eligible (clusters, several calibration steps, calibration rows that vary
    within a cell)."""
    cols = list(dict.fromkeys([c for c in columns if c in design.data.columns]
                              + [c for c in design.data.columns if str(c).startswith("_m_")]))
    cd = CellDomains(design, cols)
    return cd if cd.ok else None
