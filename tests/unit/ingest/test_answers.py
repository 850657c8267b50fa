"""The long answers table built from the wide codes and kinds: packed (int16) and float paths agree."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey_pipeline.ingest.pipeline import _answer_matrices, _long_answers
from survey_pipeline.ingest.recode import KIND_DTYPE, Recoded


def _rec(codes: dict[str, list[float]], kinds: dict[str, list[str | None]]) -> Recoded:
    return Recoded(codes=pd.DataFrame(codes, dtype=float),
                   kinds=pd.DataFrame({c: pd.Categorical(v, dtype=KIND_DTYPE) for c, v in kinds.items()}),
                   open_text=pd.DataFrame(columns=["row", "variable", "text"]))


def _rows(rec: Recoded, chunk_rows: int = 2) -> list[tuple]:
    variables, codes, kinds = _answer_matrices(rec)
    out = pd.concat(_long_answers(variables, codes, kinds, np.array([2, 3, 5]), chunk_rows=chunk_rows))
    return sorted(({2: "a", 3: "b", 5: "c"}[r.source_row], str(r.variable), None if np.isnan(r.code) else r.code,
                   None if pd.isna(r.missing_kind) else str(r.missing_kind)) for r in out.itertuples())


def test_integer_codes_are_packed_and_come_back_exactly():
    rec = _rec({"q1": [1, np.nan, 30000], "top_x": [np.nan, 2, np.nan]},
               {"q1": [None, "dont_know", None], "top_x": [None, None, "skipped"]})
    assert _answer_matrices(rec)[1].dtype == np.int16
    assert _rows(rec) == [("a", "q1", 1.0, None), ("b", "q1", None, "dont_know"), ("b", "top_x", 2.0, None),
                          ("c", "q1", 30000.0, None), ("c", "top_x", None, "skipped")]  # ("a", "top_x"): unranked


def test_fractional_or_large_codes_keep_the_float_matrix():
    for value in (2.5, 1e6):
        rec = _rec({"q1": [value, np.nan, 1]}, {"q1": [None, "refused", None]})
        assert _answer_matrices(rec)[1].dtype == np.float64
        assert _rows(rec, chunk_rows=10) == [("a", "q1", value, None), ("b", "q1", None, "refused"), ("c", "q1", 1.0, None)]


def test_prefetched_chunks_keep_their_order_and_errors():
    import threading

    import pytest

    from survey_pipeline.ingest.pipeline import _prefetched

    assert list(_prefetched(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise ValueError("chunk 2 failed")

    got = []
    with pytest.raises(ValueError, match="chunk 2 failed"):
        for x in _prefetched(failing()):
            got.append(x)
    assert got == [1]
    gen = _prefetched(iter(range(10_000)), ahead=2)
    assert next(gen) == 0
    gen.close()  # the consumer stops early (a failed write): the thread ends too
    assert not [t for t in threading.enumerate() if t.name == "answers-chunks"]
