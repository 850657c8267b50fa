"""The data layer reads results tables only, caches them, and re-reads when the store changes."""

from __future__ import annotations

import os
import time

import duckdb
import pytest

from dash_app.data import ResultsSource, find_areas_geojson
from survey_pipeline.errors import ProjectError
from tests.fixtures_results import make_results_project


def test_reads_results_and_rereads_on_change(tmp_path):
    root = make_results_project(tmp_path / "p")
    src = ResultsSource(root)
    first = src.get()
    assert src.get() is first  # cached
    assert first.waves == ["2024-spring", "2025-spring", "2026-spring"]
    assert first.area_name("neighborhood", "9") == "Eastgate"
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("DELETE FROM estimates WHERE wave = '2024-spring'")
    con.close()
    st = os.stat(root / "warehouse.duckdb")
    os.utime(root / "warehouse.duckdb", (st.st_atime, st.st_mtime + 5))
    second = src.get()
    assert second is not first and second.waves == ["2025-spring", "2026-spring"]


def test_never_reads_responses(tmp_path, monkeypatch):
    root = make_results_project(tmp_path / "p")
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE TABLE responses AS SELECT 1 AS response_id")
    con.execute("CREATE TABLE open_text AS SELECT 'secret' AS text")
    con.close()
    data = ResultsSource(root).get()
    assert "responses" not in data.tables and "open_text" not in data.tables


def test_no_results_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="no store") as exc:
        ResultsSource(tmp_path / "empty")
    assert "survey-pipeline run --project" in exc.value.fix
    duckdb.connect(str(tmp_path / "empty" / "warehouse.duckdb")).execute("CREATE TABLE responses (x INT)").close()
    with pytest.raises(ProjectError, match="no results yet"):
        ResultsSource(tmp_path / "empty")


def test_accepts_an_object_with_store_path(tmp_path):
    root = make_results_project(tmp_path / "p")

    class P:
        store_path = root / "warehouse.duckdb"

    assert ResultsSource(P()).get().geojson is not None
    assert find_areas_geojson(root) == root / "areas.geojson"
    time.sleep(0)


def test_districts_named_by_the_areas_file_in_tables_and_spanish_findings(tmp_path):
    import json

    from dash_app.pages import overview

    root = make_results_project(tmp_path / "p")
    gj = json.loads((root / "areas.geojson").read_text(encoding="utf-8"))
    for f in gj["features"]:
        if f["properties"]["district"] == "east":
            f["properties"].update(district_label="Eastside District", district_label_es="Distrito Este")
    (root / "areas.geojson").write_text(json.dumps(gj), encoding="utf-8")
    data = ResultsSource(root).get()
    assert data.area_name("district", "east") == "Eastside District" and data.area_name("district", "north") == "North"
    assert data.area_name("district", "east", "es") == "Distrito Este" and data.area_name("district", "north", "es") == "North"
    row = {"kind": "wave_change", "wave": "2026-spring", "wave_ref": "2025-spring", "area_level": "district",
           "area": "east", "group_dim": "all", "group": "all", "indicator": "safe_night", "statistic": "share",
           "estimate": 0.1, "ci_low": 0.05, "ci_high": 0.15}
    assert " en el Distrito Este subió 10 puntos " in overview.finding_text(data, row, "es")
    assert " in the Eastside District rose 10 points " in overview.finding_text(data, row, "en")
