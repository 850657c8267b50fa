"""Domain degrees of freedom: PSUs minus strata with at least one row in the domain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.stats import Design, DesignError

# two strata; PSUs 1-3 in s1, 4-5 in s2; domain A reaches PSUs 1, 2 (s1) and 4 (s2);
# domain B only PSU 3 and 5; the row of PSU 5 in domain C has weight 0
ROWS = [
    # stratum, psu, dom, y, w
    ("s1", 1, "A", "yes", 1.0),
    ("s1", 1, "B", "no", 1.0),
    ("s1", 2, "A", None, 1.0),  # missing answer: R's subset still counts the PSU
    ("s1", 3, "B", "yes", 1.0),
    ("s2", 4, "A", "no", 1.0),
    ("s2", 5, "B", "yes", 1.0),
    ("s2", 5, "C", "no", 0.0),
    ("s2", 4, "C", "yes", 1.0),
]


@pytest.fixture
def design() -> Design:
    df = pd.DataFrame(ROWS, columns=["stratum", "psu", "dom", "y", "w"])
    return Design(df, weights="w", strata="stratum", clusters="psu")


def test_domain_degf_counts_psus_and_strata_in_the_domain(design):
    got = design.domain_degf("dom").set_index("dom")["df"].to_dict()
    # A: PSUs {1, 2, 4} - strata {s1, s2}; B: {1, 3, 5} - {s1, s2}; C: {4} - {s2} (5 has weight 0)
    assert got == {"A": 1.0, "B": 1.0, "C": 0.0}
    assert design.domain_degf().loc[0, "df"] == design.degf == 3.0


def test_proportion_uses_domain_df_by_default(design):
    a = design.proportion("y", level="yes", by="dom", method="beta").set_index("dom")
    b = design.proportion("y", level="yes", by="dom", method="beta", df="design").set_index("dom")
    assert a["df"].to_dict() == {"A": 1.0, "B": 1.0, "C": 0.0}
    assert (b["df"] == 3.0).all()
    np.testing.assert_array_equal(a["estimate"], b["estimate"])
    assert a.loc["A", "ci_high"] - a.loc["A", "ci_low"] > b.loc["A", "ci_high"] - b.loc["A", "ci_low"]
    with pytest.raises(DesignError, match=r"df='psu' is not a valid option; use exactly one of: domain, design"):
        design.proportion("y", level="yes", by="dom", df="psu")
