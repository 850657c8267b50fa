"""The long answers written from the wide codes and kinds (one INSERT ... SELECT): packed (int16)
and float paths agree, exactly one of code and kind, unranked options not stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.errors import StoreError
from survey_pipeline.ingest.pipeline import _answer_matrices
from survey_pipeline.ingest.recode import KIND_DTYPE, Recoded
from survey_pipeline.store import Store, WideAnswers


def _rec(codes: dict[str, list[float]], kinds: dict[str, list[str | None]]) -> Recoded:
    return Recoded(codes=pd.DataFrame(codes, dtype=float),
                   kinds=pd.DataFrame({c: pd.Categorical(v, dtype=KIND_DTYPE) for c, v in kinds.items()}),
                   open_text=pd.DataFrame(columns=["row", "variable", "text"]))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "w.duckdb") as st:
        yield st


def _rows(store: Store, rec: Recoded, sid: int = 1) -> list[tuple]:
    variables, codes, kinds = _answer_matrices(rec)
    store._insert_wide_answers(WideAnswers(list(variables), codes, kinds, np.array([2, 3, 5])), sid, "x.csv")
    got = store.con.execute(
        "SELECT c.source_row, v.variable, c.code, k.missing_kind FROM answer_cells c "
        "JOIN variable_keys v USING (variable_key) LEFT JOIN missing_kinds k USING (kind) "
        "WHERE c.source_id = ?", [sid]).fetchall()
    return sorted(({2: "a", 3: "b", 5: "c"}[r], v, None if code is None or np.isnan(code) else code, k)
                  for r, v, code, k in got)


def test_integer_codes_are_packed_and_come_back_exactly(store):
    rec = _rec({"q1": [1, np.nan, 30000], "top_x": [np.nan, 2, np.nan]},
               {"q1": [None, "dont_know", None], "top_x": [None, None, "skipped"]})
    assert _answer_matrices(rec)[1].dtype == np.int16
    assert _rows(store, rec) == [("a", "q1", 1.0, None), ("b", "q1", None, "dont_know"), ("b", "top_x", 2.0, None),
                                 ("c", "q1", 30000.0, None), ("c", "top_x", None, "skipped")]  # ("a", "top_x"): unranked


def test_fractional_or_large_codes_keep_the_float_matrix(store):
    for sid, value in enumerate((2.5, 1e6), 1):
        rec = _rec({"q1": [value, np.nan, 1]}, {"q1": [None, "refused", None]})
        assert _answer_matrices(rec)[1].dtype == np.float64
        assert _rows(store, rec, sid) == [("a", "q1", value, None), ("b", "q1", None, "refused"), ("c", "q1", 1.0, None)]


def test_a_code_wins_over_a_kind_and_keys_are_shared(store):
    rec = _rec({"q1": [1, 2, np.nan]}, {"q1": ["invalid", None, None]})  # a code and a kind: the code
    assert _rows(store, rec) == [("a", "q1", 1.0, None), ("b", "q1", 2.0, None)]
    rec2 = _rec({"q2": [np.nan, 4, 4], "q1": [3, 3, 3]}, {"q2": ["not_asked", None, None], "q1": [None] * 3})
    _rows(store, rec2, 2)
    keys = dict(store.con.execute("SELECT variable, variable_key FROM variable_keys").fetchall())
    assert keys == {"q1": 0, "q2": 1}  # q1 keeps its key; q2 gets the next


def test_bad_kind_codes_are_refused(store):
    with pytest.raises(StoreError, match="missing kind"):
        store._insert_wide_answers(WideAnswers(["q1"], np.zeros((1, 2), np.int16), np.array([[0, 9]], np.int8),
                                               np.array([2, 3])), 1, "x.csv")
