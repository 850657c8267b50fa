"""The shared reading and labelling helpers: headline picks, wave order, area names, neutralising."""

from __future__ import annotations

import pandas as pd

from survey_pipeline.results.tables import (
    area_names_from_geojson,
    headline_indicators,
    headline_statistics,
    wave_order,
)
from survey_pipeline.safe import neutralise, safe_text


def indicators(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["indicator", "topic", "statistic"])


def test_headline_prefers_a_trust_index_over_a_single_trust_item():
    # the resident template: the trust index is a scale, the single item is topic 'trust'
    ind = indicators([("safe_nbhd_day", "safety", "share"), ("safe_nbhd_night", "safety", "share"),
                      ("sat_police_overall", "satisfaction", "share"), ("sat_police_overall", "satisfaction", "mean"),
                      ("trust_overall", "trust", "share"), ("index_procedural_justice", "scale", "score"),
                      ("index_trust_in_police", "scale", "score")])
    assert headline_indicators(ind) == ["sat_police_overall", "safe_nbhd_night", "index_trust_in_police"]
    without_index = ind[~ind["indicator"].str.startswith("index_")]
    assert headline_indicators(without_index)[-1] == "trust_overall"
    assert headline_statistics(ind) == {"safe_nbhd_day": "share", "safe_nbhd_night": "share",
                                        "sat_police_overall": "share", "trust_overall": "share",
                                        "index_procedural_justice": "score", "index_trust_in_police": "score"}


def test_wave_order_follows_the_run_not_the_alphabet():
    est = pd.DataFrame({"wave": ["2025-fall", "2025-spring", "2025-fall"]})
    runs = pd.DataFrame({"waves": ["2025-spring,2025-fall"]})
    assert wave_order({"estimates": est, "runs": runs}) == ["2025-spring", "2025-fall"]
    assert wave_order({"estimates": est, "runs": pd.DataFrame()}) == ["2025-fall", "2025-spring"]
    stale = pd.DataFrame({"waves": ["2025-spring"]})  # a run that does not cover every wave is not trusted
    assert wave_order({"estimates": est, "runs": stale}) == ["2025-fall", "2025-spring"]


def test_area_names_in_the_report_language():
    gj = {"features": [{"properties": {"code": 1, "name": "Downtown", "label_es": "Centro"}},
                       {"properties": {"code": 2, "name": "Old Town"}}]}
    assert area_names_from_geojson(gj)[("neighborhood", "1")] == "Downtown"
    es = area_names_from_geojson(gj, "es")
    assert es[("neighborhood", "1")] == "Centro" and es[("neighborhood", "Downtown")] == "Centro"
    assert es[("neighborhood", "downtown")] == "Centro" and es[("neighborhood", "2")] == "Old Town"


def test_neutralise_text_never_numbers():
    assert [safe_text(v) for v in ("=1+1", "+1", "-x", "@a", "\tx", "\rx", "ok", -3.5)] == \
        ["'=1+1", "'+1", "'-x", "'@a", "'\tx", "'\rx", "ok", -3.5]
    df = neutralise(pd.DataFrame({"=c": ["=SUM(A1)", "fine"], "n": [-1.0, 2.0]}))
    assert list(df.columns) == ["'=c", "n"] and df["'=c"].tolist() == ["'=SUM(A1)", "fine"]
    assert df["n"].tolist() == [-1.0, 2.0]
