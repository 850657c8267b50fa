from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REF = Path(__file__).resolve().parents[2] / "reference"


@pytest.fixture(scope="session")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(REF / "apistrat.csv")


@pytest.fixture(scope="session")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(REF / "apiclus1.csv")


@pytest.fixture(scope="session")
def apisrs() -> pd.DataFrame:
    return pd.read_csv(REF / "apisrs.csv")


