"""Issue 12's "done when" on the real files: every Tampa Bay export and San Diego with its codebook
go through `init --from-export` + `run` with no edits, conserve rows, and give area rows."""

from __future__ import annotations

import json

import duckdb
import pytest

from survey_pipeline.cli import main
from survey_pipeline.start import init_from_export
from tests.realdata import NO_TAMPA, TAMPA
from tests.realdata import SAN_DIEGO as SD

pytestmark = [pytest.mark.slow]

CASES = {  # file, codebook, rows, mode, area column
    "tampa_mail": (TAMPA / "public_mail.csv", None, 68, "mail", "ZIPCODE_RESIDENT"),
    "tampa_web": (TAMPA / "public_web.csv", None, 1072, "web", "ZIPCODE_RESIDENT"),
    "tampa_innetwork": (TAMPA / "innetwork.csv", None, 199, "web", "ZIPCODE_RESIDENT"),
    "san_diego": (SD / "resident_survey_weighted_datasd.csv", SD / "resident_survey_dictionary_datasd.csv", 2477,
                  "web", "ZIP"),
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.skipif(
    c.startswith("tampa") and not TAMPA.exists(), reason=NO_TAMPA)) for c in CASES])
def test_real_export_to_area_estimates_with_no_edits(tmp_path, capsys, case):
    export, codebook, rows, mode, area_col = CASES[case]
    proj = tmp_path / case
    r = init_from_export(proj, export, codebook=codebook)
    assert r.mode == mode
    assert r.areas is not None and r.areas["derived"]
    assert [a["column"] for a in r.areas["columns"] if a["result_level"] == "neighborhood"] == [area_col]
    assert main(["run", "--project", str(proj), "--json", "--jobs", "1"]) == 0
    got = json.loads(capsys.readouterr().out)
    s = got["ingests"][0]
    assert s["rows_read"] == rows == s["rows_kept"] + s["rows_quarantined"]
    with duckdb.connect(str(proj / "warehouse.duckdb"), read_only=True) as con:
        est = con.sql("SELECT area_level, area, reliability FROM estimates").df()
        zips = set(con.sql("SELECT DISTINCT area_neighborhood FROM responses WHERE area_neighborhood IS NOT NULL")
                   .df()["area_neighborhood"])
    nb = est[est["area_level"] == "neighborhood"]
    assert len(nb) > 0 and set(nb["area"]) <= zips
    assert all(len(z) == 5 and z.isdigit() for z in zips)  # ZIP codes, named as in the data
    assert "99999" not in zips
    if case == "san_diego":  # enough respondents per ZIP for estimates that are shown
        assert (nb["reliability"] != "suppress").sum() > 100
