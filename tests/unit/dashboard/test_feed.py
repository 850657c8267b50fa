"""The results feed: filters from the query string, the pages' suppression (suppressed rows carry
no number), nothing about a person, refusals for unknown tables and filters."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

from dash_app import create_app
from dash_app.feed import SUPPRESSED_EMPTY, FeedError, feed_frame
from tests.fixtures_results import make_results_project

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return create_app(make_results_project(tmp_path_factory.mktemp("p"))).server.test_client()


def test_filters_select_rows(client):
    r = client.get("/feed/estimates.json?wave=2025-spring&area_level=neighborhood&indicator=safe_night,safe_day&group_dim=all")
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    rows = pd.DataFrame(body["rows"])
    assert body["count"] == len(rows) > 0
    assert set(rows["wave"]) == {"2025-spring"} and set(rows["area_level"]) == {"neighborhood"}
    assert set(rows["indicator"]) == {"safe_night", "safe_day"} and set(rows["group_dim"]) == {"all"}
    assert len(rows) == 2 * 12  # both indicators in the fixture's 12 neighborhoods
    page = client.get("/feed/estimates.json?wave=2025-spring&limit=5&offset=5").get_json()["rows"]
    whole = client.get("/feed/estimates.json?wave=2025-spring&limit=10").get_json()["rows"]
    assert page == whole[5:10]


def test_suppressed_rows_carry_no_number_in_json_and_csv(client):
    for table in ("estimates", "comparisons", "priorities"):
        rows = pd.DataFrame(client.get(f"/feed/{table}.json").get_json()["rows"])
        sup = rows[rows["reliability"] == "suppress"]
        assert len(sup) > 0, table
        for col in SUPPRESSED_EMPTY:
            if col in rows.columns:
                assert sup[col].isna().all(), (table, col)
        ok = rows[rows["reliability"] == "ok"]
        assert ok["estimate"].notna().all(), table
        csv = pd.read_csv(io.BytesIO(client.get(f"/feed/{table}.csv").data), encoding="utf-8-sig")
        assert len(csv) == len(rows)
        assert csv.loc[csv["reliability"] == "suppress", "estimate"].isna().all()


def test_feed_holds_no_identifiers_and_no_response_rows(client):
    for table in ("estimates", "comparisons", "priorities"):
        for fmt in ("json", "csv"):
            text = client.get(f"/feed/{table}.{fmt}").data.decode("utf-8-sig")
            assert not EMAIL.search(text) and not PHONE.search(text), (table, fmt)
        cols = set(client.get(f"/feed/{table}.json?limit=1").get_json()["rows"][0])
        assert not cols & {"response_id", "open_text", "email", "phone", "ip_address", "source_row"}
    assert client.get("/feed/responses.json").status_code == 404
    assert client.get("/feed/open_text.csv").status_code == 404


def test_unknown_filters_and_bad_paging_are_refused(client):
    r = client.get("/feed/estimates.json?colour=red")
    assert r.status_code == 400 and "colour" in r.get_json()["error"]
    assert client.get("/feed/priorities.json?kind=wave_change").status_code == 400  # no such column there
    assert client.get("/feed/estimates.json?limit=-1").status_code == 400
    assert client.get("/feed/estimates.json?limit=ten").status_code == 400
    assert client.get("/feed/estimates.xml").status_code == 404


def test_csv_text_that_a_spreadsheet_would_run_is_neutralised():
    df = pd.DataFrame({"wave": ["w"], "area": ["=HYPERLINK(\"http://x\")"], "estimate": [-0.5], "reliability": ["ok"]})
    out = feed_frame(df, {})
    assert out["estimate"].iloc[0] == -0.5
    from survey_pipeline.safe import neutralise

    assert neutralise(out)["area"].iloc[0].startswith("'=")
    with pytest.raises(FeedError):
        feed_frame(df, {"nope": "1"})
    assert json.loads(json.dumps({"ok": 1}))  # the JSON body is plain JSON (no NaN): checked above via get_json


def test_json_writes_infinite_numbers_as_null():
    from dash_app.feed import _json_body

    df = pd.DataFrame({"indicator": ["a", "b"], "deff": [float("inf"), 1.5], "n": [3, 4],
                       "mixed": pd.Series([float("-inf"), "x"], dtype=object)})
    rows = json.loads(_json_body(df, "estimates", {}))["rows"]
    assert rows == [{"indicator": "a", "deff": None, "n": 3, "mixed": None},
                    {"indicator": "b", "deff": 1.5, "n": 4, "mixed": "x"}]
