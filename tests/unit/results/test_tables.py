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


# --- shown_estimates: the direct number where reliable, else the modeled one ----------------------

MODELED = "modeled (Fay–Herriot)"


def _row(area, reliability, estimate, method="taylor; raked weights; logit CI", statistic="share", wave="w2",
         reason=None):
    return {"wave": wave, "area_level": "neighborhood", "area": area, "group_dim": "all", "group": "all",
            "indicator": "safe_night", "statistic": statistic, "estimate": estimate, "reliability": reliability,
            "reliability_reason": reason, "method": method}


def _shown(rows):
    from survey_pipeline.results.tables import shown_estimates

    out = shown_estimates(pd.DataFrame(rows))
    return {(r["area"], r["statistic"], r["wave"]): (r["estimate"], r["reliability"], bool(r["modeled"]))
            for r in out.to_dict("records")}, out


def test_shown_estimates_prefers_a_reliable_direct_number():
    got, out = _shown([_row("a", "ok", 0.5), _row("a", "ok", 0.45, MODELED),
                       _row("b", "flag", 0.6), _row("b", "ok", 0.55, MODELED)])
    assert got == {("a", "share", "w2"): (0.5, "ok", False), ("b", "share", "w2"): (0.6, "flag", False)}
    assert len(out) == 2


def test_shown_estimates_takes_the_model_where_the_direct_number_is_suppressed_or_missing():
    got, out = _shown([_row("a", "ok", 0.5), _row("b", "suppress", 0.9, reason="fewer than 30 valid answers"),
                       _row("c", "ok", 0.3), _row("b", "flag", 0.41, MODELED), _row("d", "ok", 0.62, MODELED)])
    assert got[("b", "share", "w2")] == (0.41, "flag", True)
    assert got[("d", "share", "w2")] == (0.62, "ok", True)  # no direct row at all (an area without answers)
    assert got[("a", "share", "w2")] == (0.5, "ok", False)
    # the modeled row takes the place of the direct one it replaces; a new area comes last
    assert out["area"].tolist() == ["a", "b", "c", "d"]


def test_a_suppressed_modeled_number_stays_suppressed():
    got, _ = _shown([_row("b", "suppress", 0.9, reason="fewer than 30 valid answers"),
                     _row("b", "suppress", 0.2, MODELED, reason="modeled; relative RMSE 66% over 50%"),
                     _row("e", "suppress", 0.1, MODELED, reason="modeled; relative RMSE 80% over 50%")])
    assert got[("b", "share", "w2")] == (0.9, "suppress", False)  # the direct row, with its own reason
    assert got[("e", "share", "w2")] == (0.1, "suppress", True)  # only the model has the area: still suppressed


def test_shown_estimates_never_crosses_statistics_or_waves():
    got, out = _shown([_row("a", "suppress", 0.9), _row("a", "ok", 2.5, MODELED, statistic="mean"),
                       _row("a", "suppress", 3.1, statistic="mean", wave="w1"),
                       _row("a", "ok", 0.3, MODELED, wave="w1")])
    assert got[("a", "share", "w2")] == (0.9, "suppress", False)
    assert got[("a", "mean", "w2")] == (2.5, "ok", True)
    assert got[("a", "mean", "w1")] == (3.1, "suppress", False)
    assert got[("a", "share", "w1")] == (0.3, "ok", True)
    assert len(out) == 4


def test_shown_estimates_without_modeled_rows_or_a_method_column():
    from survey_pipeline.results.tables import is_modeled, shown_estimates

    plain = pd.DataFrame([_row("a", "suppress", 0.9), _row("b", "ok", 0.4)]).drop(columns="method")
    out = shown_estimates(plain)
    assert out["modeled"].tolist() == [False, False] and out["estimate"].tolist() == [0.9, 0.4]
    mixed = pd.DataFrame([_row("a", "ok", 0.4, method=None), _row("a", "ok", 0.4, MODELED)])
    assert is_modeled(mixed).tolist() == [False, True]
