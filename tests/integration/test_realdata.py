"""The real Tampa Bay Qualtrics files, end to end: infer an instrument, ingest three exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey_pipeline.cli import main
from survey_pipeline.store import Store
from tests.realdata import NO_TAMPA, SAN_DIEGO, TAMPA

pytestmark = [pytest.mark.slow]


@pytest.mark.skipif(not TAMPA.exists(), reason=NO_TAMPA)
def test_tampa_bay_three_exports_ingest_with_rows_conserved(tmp_path: Path, capsys):
    draft = tmp_path / "tampa.yaml"
    assert main(["instrument", "infer", str(TAMPA / "public_web.csv"), "--out", str(draft), "--json"]) == 0
    capsys.readouterr()
    proj = tmp_path / "tampa"
    assert main(["init", str(proj), "--instrument", str(draft)]) == 0
    toml = proj / "survey.toml"
    toml.write_text(toml.read_text() + '''
[[waves]]
id = "2024"
modes = ["web", "mail"]
exports = [{file = "public_web.csv", mode = "web"}, {file = "public_mail.csv", mode = "mail"},
           {file = "innetwork.csv", mode = "web"}]
''')
    capsys.readouterr()
    summaries = {}
    for name in ("public_web.csv", "public_mail.csv", "innetwork.csv"):
        assert main(["ingest", str(TAMPA / name), "--project", str(proj), "--wave", "2024", "--json"]) == 0
        summaries[name] = json.loads(capsys.readouterr().out)
    assert [summaries[n]["rows_read"] for n in summaries] == [1072, 68, 199]
    for s in summaries.values():
        assert s["rows_read"] == s["rows_kept"] + s["rows_quarantined"]
        assert s["columns_mapped"] >= 140
    mail = summaries["public_mail.csv"]
    assert mail["mode"] == "mail" and "preview" not in mail["flagged_by_rule"]
    assert any("52 row(s) recorded through the survey preview were kept" in n for n in mail["notes"])
    with Store(proj / "warehouse.duckdb", read_only=True) as st:
        r = st.read_responses("2024")
        assert len(r) == 1339
        prev = r[(r["mode"] == "mail") & (r["status_raw"] == "Survey Preview")]
        assert len(prev) == 52 and not prev["flag_preview"].any()
        assert not prev["exclusion_reasons"].fillna("").str.contains("preview").any()
        web_prev = r[(r["mode"] == "web") & (r["status_raw"] == "Survey Preview")]
        assert web_prev["flag_preview"].all() and len(web_prev) == 1
        funnel = st.funnel("2024").set_index("step")["rows"]
        assert funnel["rows read"] == 1339 and funnel["kept"] == 1339
        assert funnel["analysed"] == int((~r["excluded"]).sum())
        wide = st.read_clean_wave("2024")
        assert len(wide) == funnel["analysed"]
        pr = wide["priority_acsnat"].dropna()
        assert set(pr.unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}  # Not a priority .. Top priority




@pytest.mark.skipif(not SAN_DIEGO.exists(), reason="real data not available")
def test_san_diego_with_codebook_keeps_dont_know_out_of_the_numbers(tmp_path: Path, capsys):
    draft = tmp_path / "sd.yaml"
    assert main(["instrument", "infer", str(SAN_DIEGO / "resident_survey_weighted_datasd.csv"), "--codebook",
                 str(SAN_DIEGO / "resident_survey_dictionary_datasd.csv"), "--out", str(draft)]) == 0
    proj = tmp_path / "sd"
    assert main(["init", str(proj), "--instrument", str(draft)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(SAN_DIEGO / "resident_survey_weighted_datasd.csv"), "--project", str(proj),
                 "--wave", "2015", "--mode", "phone", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["rows_read"] == s["rows_kept"] == 2477
    assert "duplicate_answers" not in s["flagged_by_rule"]  # replicated rows (weighting) have no times
    with Store(proj / "warehouse.duckdb", read_only=True) as st:
        w = st.read_clean_wave("2015", include_excluded=True)
    raw = __import__("pandas").read_csv(SAN_DIEGO / "resident_survey_weighted_datasd.csv", dtype=str)
    n_dk = int((raw["Q1_1"] == "9").sum())
    assert n_dk > 0 and int((w["q1_1__missing"] == "dont_know").sum()) == n_dk
    assert w["q1_1"].max() == 5  # 9 = Don't know is never a number
