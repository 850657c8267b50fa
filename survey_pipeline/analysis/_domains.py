"""Domain means for the analysis, on the public :class:`survey_pipeline.stats.DomainMeans`.

Thin adapters that keep the shapes the comparisons and the evaluation use: ``domain_codes``
(codes and labels of a ``by`` list), ``domain_means`` (the general path, frames or arrays) and
:class:`CellDomains` (the cell path over the domain columns plus the weighting-cell columns
``_m_<variable>`` that :func:`~survey_pipeline.analysis.weighting.weight_waves` adds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.stats import Design, DomainMeans, DomainSet

__all__ = ["CellDomains", "cell_domains", "domain_codes", "domain_means"]

_OUT = ("estimate", "se", "n", "n_eff", "deff", "sw", "count")


def _arrays(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: a["sum_weights" if k == "sw" else k] for k in _OUT}


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


def _set(dm: DomainMeans, by) -> DomainSet:
    if isinstance(by, DomainSet):
        return by
    if isinstance(by, tuple):
        return DomainSet(np.asarray(by[0], dtype=np.int64), by[1])
    return dm.domains(by)


def domain_means(design: Design, y: np.ndarray, domain_sets: list,
                 count: np.ndarray | None = None, as_arrays: bool = False) -> list:
    """Weighted domain means of ``y`` for each list of ``by`` columns, on the full design.

    A ``by`` entry is a column name or an array aligned with the rows (NaN = outside); a domain
    set may also be given already coded, as ``(codes, labels)`` from :func:`domain_codes`.
    Returns, per domain set, a frame with the ``by`` columns and ``estimate, se, n, n_eff, deff,
    sw, count`` (:meth:`survey_pipeline.stats.DomainMeans.arrays`); with ``as_arrays`` each item
    is ``(labels, {column: array})`` instead.
    """
    dm = DomainMeans(design)
    sets = [_set(dm, b) for b in domain_sets]
    out = []
    for ds, a in zip(sets, dm.arrays(y, sets, count=count), strict=True):
        cols = _arrays(a)
        if as_arrays:
            out.append((ds.labels, cols))
            continue
        f = ds.labels.copy()
        for c, v in cols.items():
            f[c] = v
        out.append(f)
    return out


class CellDomains:
    """Domain means from per-cell moments (:class:`~survey_pipeline.stats.DomainMeans` with cells)."""

    def __init__(self, design: Design, columns: list[str]):
        self.design = design
        self.columns = list(columns)
        self.dm = DomainMeans(design, cells=self.columns)
        self.ok = self.dm.uses_cells
        self._sets: dict[tuple, DomainSet] = {}

    def codes(self, by: list[str]) -> DomainSet:
        """The domains of ``by`` (reusable across indicators)."""
        key = tuple(by)
        if key not in self._sets:
            self._sets[key] = self.dm.domains(list(by))
        return self._sets[key]

    def means(self, y: np.ndarray, domain_sets: list, count: np.ndarray | None = None,
              ) -> list[tuple[pd.DataFrame, dict[str, np.ndarray]]]:
        """As ``domain_means(..., as_arrays=True)``; a domain set is a list of columns or a
        :class:`DomainSet` from :meth:`codes`."""
        sets = [b if isinstance(b, DomainSet) else self.codes(b) for b in domain_sets]
        return [(ds.labels, _arrays(a)) for ds, a in zip(sets, self.dm.arrays(y, sets, count=count),
                                                          strict=True)]

    def rest_means(self, y: np.ndarray, level: str, count: np.ndarray | None = None
                   ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """For every wave and area of ``level``: the mean of the rest of the city (all other rows
        of the wave, rows without an area included)."""
        child = self.codes(["wave", level])
        a = self.dm.complement_arrays(y, self.codes(["wave"]), child, count=count)
        return child.labels, _arrays(a)


def cell_domains(design: Design, columns: list[str]) -> CellDomains | None:
    """A :class:`CellDomains` over ``columns`` plus the weighting-cell columns, or None when the
    design is not eligible (clusters, several calibration steps, calibration rows that vary
    within a cell)."""
    cols = list(dict.fromkeys([c for c in columns if c in design.data.columns]
                              + [c for c in design.data.columns if str(c).startswith("_m_")]))
    cd = CellDomains(design, cols)
    return cd if cd.ok else None
