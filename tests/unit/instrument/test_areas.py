"""read_areas: CSV and GeoJSON with the usual column names, and clear errors."""

from __future__ import annotations

import json

import pytest

from survey_pipeline.errors import InstrumentError
from survey_pipeline.instrument.areas import apply_areas, read_areas, slug


def test_csv_rows_per_beat_merge_into_one_neighborhood(tmp_path):
    p = tmp_path / "areas.csv"
    p.write_text("ID,Neighborhood,District,Beat,label_es\n"
                 "1,Old Town,Central,111,Casco Antiguo\n"
                 "1,Old Town,Central,112,Casco Antiguo\n"
                 "2,Riverside,North,211 212,\n", encoding="utf-8")
    areas = read_areas(p)
    assert areas.levels == ["district", "neighborhood", "beat"]
    assert [(a.code, a.name, a.district, a.beats) for a in areas.items] == [
        (1, "old_town", "Central", ["111", "112"]),
        (2, "riverside", "North", ["211", "212"]),
    ]
    assert areas.items[0].label == {"_": "Old Town", "es": "Casco Antiguo"}


def test_geojson_properties_and_feature_id(tmp_path):
    p = tmp_path / "areas.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 7, "properties": {"name": "Lakeview", "zip": "00003"}, "geometry": None},
        {"type": "Feature", "id": 8, "properties": {"name": "Eastwood"}, "geometry": None},
    ]}), encoding="utf-8")
    areas = read_areas(p)
    assert [(a.code, a.name, a.zips) for a in areas.items] == [(7, "lakeview", ["00003"]), (8, "eastwood", [])]
    assert areas.levels == ["neighborhood"]


def test_geojson_list_properties_are_lists_not_text(tmp_path):
    p = tmp_path / "areas.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": 1, "name": "Downtown", "district": "central",
                                           "beats": ["101", "102"], "zips": ["54101"]}, "geometry": None},
    ]}), encoding="utf-8")
    (a,) = read_areas(p).items
    assert (a.beats, a.zips) == (["101", "102"], ["54101"])


def test_missing_columns_names_file_columns_found_and_fix(tmp_path):
    p = tmp_path / "hoods.csv"
    p.write_text("hood,precinct\nDowntown,1\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        read_areas(p)
    msg = exc.value.render()
    assert str(p) in msg
    assert "'hood', 'precinct'" in msg
    assert "code" in msg and "neighborhood" in exc.value.fix
    assert exc.value.rule == "areas-columns"


def test_every_bad_row_reported_with_its_row_number(tmp_path):
    p = tmp_path / "areas.csv"
    p.write_text("code,name,district\nx,Downtown,A\n2,,A\n3,Hill,A\n3,Hill,B\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        read_areas(p)
    got = {(pr.rule, pr.row) for pr in exc.value.problems}
    assert got == {("areas-bad-code", 2), ("areas-no-name", 3), ("areas-conflict", 5)}


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(InstrumentError, match="not found"):
        read_areas(tmp_path / "nope.csv")
    bad = tmp_path / "areas.xls"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(InstrumentError, match="unsupported"):
        read_areas(bad)


def test_apply_areas_fills_every_language(tmp_path, write_instrument):
    from survey_pipeline import load_instrument

    from .conftest import MINIMAL

    p = tmp_path / "a.csv"
    p.write_text("code,name,label_es\n1,Old Town,Casco Antiguo\n2,Hill,\n", encoding="utf-8")
    inst = apply_areas(load_instrument(write_instrument(MINIMAL)), read_areas(p))
    assert [a.label for a in inst.areas.items] == [
        {"en": "Old Town", "es": "Casco Antiguo"}, {"en": "Hill", "es": "Hill"}]


def test_slug():
    assert slug("Old Town") == "old_town"
    assert slug("Peñasco Norte") == "penasco_norte"
    assert slug("5th Ward") == "a5th_ward"


def test_codes_optional_reads_a_file_without_codes_in_file_order(tmp_path):
    p = tmp_path / "hoods.csv"
    p.write_text("Neighborhood,Police District,Beat,label_es\n"
                 "Old Town,Central,Beat 12,Casco Antiguo\n"
                 "old town,Central,Beat 14,\n"
                 "Riverside,North,211 212,\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        read_areas(p)  # an instrument needs stable codes
    assert exc.value.rule == "areas-columns" and "'code'" in exc.value.fix
    areas = read_areas(p, codes="optional")
    assert [(a.code, a.name, a.district, a.beats) for a in areas.items] == [
        (1, "old_town", "Central", ["Beat 12", "Beat 14"]),
        (2, "riverside", "North", ["211", "212"]),
    ]
    assert areas.items[0].label == {"_": "Old Town", "es": "Casco Antiguo"}


def test_codes_optional_reports_every_row_problem(tmp_path):
    p = tmp_path / "hoods.csv"
    p.write_text("neighborhood,district,beat\nDowntown,A,1\n,A,2\nDowntown,B,3\n,,\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        read_areas(p, codes="optional")
    got = {(pr.rule, pr.row, pr.column) for pr in exc.value.problems}
    assert got == {("areas-no-name", 3, "neighborhood"), ("areas-conflict", 4, None)}
    msg = exc.value.render()
    assert str(p) in msg and "row 2" in msg  # the conflict names the first row of 'Downtown'


def test_unknown_codes_option_is_refused():
    with pytest.raises(InstrumentError) as exc:
        read_areas("areas.csv", codes="maybe")
    assert exc.value.rule == "option" and "required, optional" in exc.value.fix


def test_one_column_and_semicolon_files(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("Neighborhood\nDowntown\nOak Hill\n", encoding="utf-8")
    assert [a.label["_"] for a in read_areas(one, codes="optional").items] == ["Downtown", "Oak Hill"]
    semi = tmp_path / "semi.csv"
    semi.write_text("\ufeffcode;name;beats\n1;Downtown;101, 102\n", encoding="utf-8")
    (a,) = read_areas(semi).items
    assert (a.label["_"], a.beats) == ("Downtown", ["101", "102"])
    bad = tmp_path / "hood.csv"
    bad.write_text("hood\nX\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        read_areas(bad, codes="optional")
    assert "Columns found: 'hood'." in str(exc.value)
