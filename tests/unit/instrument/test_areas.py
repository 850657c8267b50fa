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


def test_district_names_by_language_are_read_once_per_district(tmp_path, write_instrument):
    from survey_pipeline.instrument.areas import district_labels

    p = tmp_path / "areas.csv"
    p.write_text("code,neighborhood,district,district_label,district_label_es\n"
                 "1,Old Town,central,Central District,Distrito Centro\n"
                 "2,Riverside,central,,\n"  # one row of a district may name it for all
                 "3,Eastgate,east,Eastside,\n", encoding="utf-8")
    areas = read_areas(p)
    assert [a.district_label for a in areas.items] == [{"_": "Central District", "es": "Distrito Centro"}] * 2 + [
        {"_": "Eastside"}]
    assert district_labels(areas, "es") == {"central": "Distrito Centro", "east": "Eastside"}
    assert district_labels(areas) == {"central": "Central District", "east": "Eastside"}
    from survey_pipeline import load_instrument

    from .conftest import MINIMAL

    inst = apply_areas(load_instrument(write_instrument(MINIMAL)), areas)
    assert inst.areas.items[2].district_label == dict.fromkeys(inst.languages, "Eastside")
    # district_name beside a district code column is the name; alone it stays the code (as before)
    p.write_text("neighborhood,district,district_name\nOld Town,c1,Central\n", encoding="utf-8")
    assert read_areas(p, codes="optional").items[0].district_label == {"_": "Central"}
    p.write_text("neighborhood,district_name\nOld Town,central\n", encoding="utf-8")
    a = read_areas(p, codes="optional").items[0]
    assert (a.district, a.district_label) == ("central", None)
    # without the column: no names, districts are named from their codes
    p.write_text("neighborhood,district\nOld Town,central\n", encoding="utf-8")
    assert district_labels(read_areas(p, codes="optional")) == {}


def test_conflicting_district_names_say_where_which_rule_and_the_fix(tmp_path):
    p = tmp_path / "areas.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": 1, "name": "Old Town", "district": "c", "district_label": "Central"}},
        {"type": "Feature", "properties": {"code": 2, "name": "Mill", "district": "c", "district_label": "Middle"}},
        {"type": "Feature", "properties": {"code": 3, "name": "Lake", "district": "", "district_label": "East"}},
    ]}), encoding="utf-8")
    with pytest.raises(InstrumentError) as err:
        read_areas(p)
    probs = {pr.rule: pr for pr in err.value.problems}
    conflict = probs["areas-district-name-conflict"]
    assert (conflict.row, conflict.column) == (2, "district_label")
    assert "'Middle' here but 'Central' on feature 1" in conflict.message and "one name" in conflict.fix
    alone = probs["areas-district-name-without-district"]
    assert alone.row == 3 and "district" in alone.fix
