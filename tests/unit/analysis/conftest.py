"""Shared inline data for the analysis tests: the MINIMAL instrument and a tiny clean frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.instrument.load import load_instrument
from tests.unit.instrument.conftest import MINIMAL


@pytest.fixture
def mini(tmp_path):
    p = tmp_path / "mini.yaml"
    p.write_text(MINIMAL, encoding="utf-8")
    return load_instrument(p)


@pytest.fixture
def tiny() -> pd.DataFrame:
    """Six respondents, hand-checkable: codes as the store gives them (missing codes -> NaN + kind)."""
    nan = np.nan
    return pd.DataFrame({
        "response_id": [f"r{i}" for i in range(6)],
        "wave": ["w1"] * 6,
        "district": ["d1", "d1", "d1", "d2", "d2", "d2"],
        "neighborhood": ["a", "a", "b", "c", "c", "c"],
        "contact": [1, 1, 1, 2, 1, 1.0],
        "contact_fair": [5, 4, 2, nan, nan, 1],
        "contact_fair__missing": [None, None, None, "not_asked", "dont_know", None],
        "legit_trust": [5, 4, 1, nan, 3, 2],
        "legit_rude": [1, 2, 5, 4, nan, 2],
        "serious_drugs": [5, 1, 4, 2, 3, 4.0],
        "serious_litter": [nan] * 6,
        "serious_speeding": [1, 1, 1, 1, 1, 5.0],
        "top_drugs": [1, 2, nan, nan, nan, 1],
        "top_litter": [2, nan, 1, nan, nan, nan],
        "top_speeding": [nan, 1, 2, nan, nan, 2],
    })
