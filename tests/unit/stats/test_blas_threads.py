"""Small dense algebra runs with BLAS/OpenMP limited to one thread, and the limit is undone after."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from survey_pipeline.stats import _linalg


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_limits_and_restores():
    before = _blas_threads()
    assert before  # numpy's OpenBLAS is loaded
    with _linalg.one_blas_thread():
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before


def test_stable_pinv_runs_single_threaded(monkeypatch):
    seen = []
    real = np.linalg.pinv

    def spy(a, rcond):
        seen.append(_blas_threads())
        return real(a, rcond=rcond)

    monkeypatch.setattr(np.linalg, "pinv", spy)
    g = np.array([[2.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(_linalg.stable_pinv(g) @ g, np.eye(2), atol=1e-12)
    assert seen and all(n == 1 for n in seen[0])
