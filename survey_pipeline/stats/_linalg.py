"""Sparse-matrix helpers shared by the variance engine and the weighting solvers (private)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import sparse

from .errors import DesignError


def onehot(codes: np.ndarray, ncol: int, values: np.ndarray | None = None) -> sparse.csr_matrix:
    """An ``n x ncol`` sparse matrix with ``values[i]`` (default 1) at ``(i, codes[i])``.

    Rows whose code is negative are empty (outside every domain / cell).
    """
    n = len(codes)
    keep = codes >= 0
    rows = np.flatnonzero(keep)
    vals = np.ones(len(rows)) if values is None else np.asarray(values, dtype=float)[keep]
    return sparse.csr_matrix((vals, (rows, codes[keep])), shape=(n, ncol))


def rowscale(r: np.ndarray, m: sparse.spmatrix | np.ndarray) -> sparse.csr_matrix | np.ndarray:
    """``diag(r) @ m`` for a sparse or dense ``m``."""
    if sparse.issparse(m):
        m = sparse.csr_matrix(m)
        out = m.copy()
        out.data = m.data * np.repeat(np.asarray(r, dtype=float), np.diff(m.indptr))
        return out
    return r[:, None] * m


def dense(m: sparse.spmatrix | np.ndarray) -> np.ndarray:
    """A dense ndarray from a sparse matrix or array."""
    if sparse.issparse(m):
        return m.toarray()
    return np.asarray(m)


@functools.cache
def _threadpools():
    """The BLAS and OpenMP libraries loaded in this process (threadpoolctl), found once: looking
    them up costs ~3 ms, limiting them then ~15 µs per use."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS and OpenMP limited to one thread.

    For small dense algebra (calibration matrices of a few hundred columns): OpenBLAS's threads
    gain nothing there, and on a busy machine their spin-waits for a core turn a 15 ms
    pseudo-inverse of a 215 x 215 matrix into 0.1–2 s (benchmarks/bench_blas_threads.py).
    """
    with _threadpools().limit(limits=1):
        yield


def stable_pinv(g: np.ndarray, rcond: float = 1e-10) -> np.ndarray:
    """Moore–Penrose inverse of a symmetric PSD matrix after equilibration.

    Collinear calibration columns (e.g. two raking margins that both sum to the population)
    make ``X'WX`` singular; residuals are invariant to the choice of generalized inverse, as
    with R's ``qr.resid`` (Lumley 2010, sec. 7.4).
    """
    d = np.sqrt(np.abs(np.diag(g)))
    d[d == 0] = 1.0
    gs = g / d[:, None] / d[None, :]
    # SVD rather than eigh: LAPACK's eigh has a large first-call cost; one thread (see one_blas_thread)
    with one_blas_thread():
        return np.linalg.pinv(gs, rcond=rcond) / d[:, None] / d[None, :]


def factorize_columns(
    df: pd.DataFrame, cols: list[str], *, what: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes (sorted level order, -1 for missing) and the level table for ``cols``."""
    for c in cols:
        if c not in df.columns:
            raise DesignError(
                f"{what}: column {c!r} is not in the data; available columns: "
                f"{', '.join(map(str, df.columns[:30]))}. Fix the column name."
            )
    if len(cols) == 1:
        codes, uniques = pd.factorize(df[cols[0]], sort=True, use_na_sentinel=True)
        labels = pd.DataFrame({cols[0]: np.asarray(uniques)})
        return codes.astype(np.int64), labels
    parts = [pd.factorize(df[c], sort=True, use_na_sentinel=True) for c in cols]
    combined = np.zeros(len(df), dtype=np.int64)
    missing = np.zeros(len(df), dtype=bool)
    for codes_c, uniq_c in parts:
        combined = combined * (len(uniq_c) + 1) + codes_c
        missing |= codes_c < 0
    uniq, inv = np.unique(combined[~missing], return_inverse=True)
    codes = np.full(len(df), -1, dtype=np.int64)
    codes[~missing] = inv
    labels = {}
    rest = uniq
    for c, (_codes_c, uniq_c) in reversed(list(zip(cols, parts, strict=True))):
        labels[c] = np.asarray(uniq_c)[rest % (len(uniq_c) + 1)]
        rest = rest // (len(uniq_c) + 1)
    labels = pd.DataFrame({c: labels[c] for c in cols})
    return codes.astype(np.int64), labels
