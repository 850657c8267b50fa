"""The police beat of a response from its beat or ZIP answer (ingest fills ``area_beat``)."""

from __future__ import annotations

import pandas as pd

from survey_pipeline.ingest.recode import fill_beats
from survey_pipeline.project import Areas, _read_areas_crosswalk


def _areas(crosswalk: pd.DataFrame | None = None) -> Areas:
    table = pd.DataFrame([("Downtown", "central", "101"), ("Downtown", "central", "102"),
                          ("Old Town", "central", "103"), ("Old Town", "central", "104")],
                         columns=["neighborhood", "district", "beat"], dtype=object)
    xw = crosswalk if crosswalk is not None else pd.DataFrame(columns=["key", "neighborhood"])
    return Areas(table=table, crosswalk=xw)


def test_an_answered_beat_of_the_neighborhood_is_used_and_one_of_another_is_not():
    nb = pd.Series(["Downtown", "Downtown", "Old Town", None, "Old Town"], dtype=object)
    beat = pd.Series(["101", " 102 ", "101", "103", ""], dtype=object)
    got = fill_beats([beat], nb, _areas())
    # 101 is not in Old Town: contradicts the neighborhood answer; no neighborhood: no beat
    assert got.tolist() == ["101", "102", None, None, None]


def test_a_zip_gives_the_beat_when_the_crosswalk_puts_one_beat_of_the_neighborhood_in_it(tmp_path):
    path = tmp_path / "xw.csv"
    path.write_text("zip,beat,neighborhood\n54101,101,Downtown\n54101,103,Old Town\n54101,104,Old Town\n"
                    "54102,102,Downtown\n", encoding="utf-8")
    xw = _read_areas_crosswalk(path)
    assert list(xw.columns) == ["key", "neighborhood", "beat"]
    nb = pd.Series(["Downtown", "Old Town", "Downtown", "Downtown"], dtype=object)
    zips = pd.Series(["54101", "54101", "54102", "54101"], dtype=object)
    beat = pd.Series([None, None, None, "102"], dtype=object)
    got = fill_beats([zips, beat], nb, _areas(xw))
    # Downtown has one beat in 54101 (101); Old Town has two there (103, 104): ambiguous;
    # an answered beat wins over the ZIP even when the ZIP column comes first
    assert got.tolist() == ["101", None, "102", "102"]


def test_no_areas_or_no_beats_give_no_beat():
    nb = pd.Series(["Downtown"], dtype=object)
    assert fill_beats([pd.Series(["101"])], nb, None).tolist() == [None]
    empty = Areas(table=pd.DataFrame({"neighborhood": ["Downtown"], "district": ["c"], "beat": [None]}, dtype=object),
                  crosswalk=pd.DataFrame(columns=["key", "neighborhood"]))
    assert fill_beats([pd.Series(["101"])], nb, empty).tolist() == [None]
