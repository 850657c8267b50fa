"""init -> ingest -> store through the CLI: summaries, no-op re-ingest, atomicity, clear errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from survey_pipeline.cli import main
from survey_pipeline.errors import StoreError
from survey_pipeline.ingest import pipeline
from survey_pipeline.store import MISSING_KINDS, Store
from tests.unit.ingest._generic import read_generic
from tests.unit.ingest.conftest import AREAS, INSTRUMENT

EXPORT = """\
ResponseId,Status,Duration (in seconds),Email,IPAddress,Neighborhood,Any contact?,Treated fairly,I trust the police,Police are rude,serious_drugs,serious_litter,serious_speeding,top,attn,Your age,Comments
R1,IP Address,300,a@x.org,1.2.3.4,Downtown,Yes,Agree,Strongly agree,Disagree,Agree,Agree,Agree,"Drugs, Litter",Disagree,34,Great work
R2,IP Address,20,b@x.org,1.2.3.5,downtwn,No,,De acuerdo,No sé,4,4,4,Speeding,Agree,abc,
R3,Survey Preview,280,c@x.org,1.2.3.6,Atlantis,Sí,Maybe,Agree,,,,,,,,
,,,,,,,,,,,,,,,,
R5,IP Address,310,d@x.org,1.2.3.7,Oak Hill,Yes,Agree,Agree,Agree,Agree,Agree,Agree,Litter,Disagree,51,
"""


@pytest.fixture
def setup(tmp_path: Path):
    (tmp_path / "areas.csv").write_text(AREAS)
    (tmp_path / "inst.yaml").write_text(INSTRUMENT)
    proj = tmp_path / "proj"
    rc = main(["init", str(proj), "--instrument", str(tmp_path / "inst.yaml"), "--areas", str(tmp_path / "areas.csv")])
    assert rc == 0
    export = tmp_path / "web.csv"
    export.write_text(textwrap.dedent(EXPORT))
    return proj, export


def run_json(capsys, args) -> tuple[int, dict | None]:
    rc = main(args)
    out = capsys.readouterr().out
    return rc, (json.loads(out) if rc == 0 else None)


def test_ingest_conserves_rows_and_drops_identifiers(setup, capsys):
    proj, export = setup
    rc, s = run_json(capsys, ["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web", "--json"])
    assert rc == 0
    assert (s["rows_read"], s["rows_kept"], s["rows_quarantined"]) == (5, 4, 1)
    assert s["quarantined_by_reason"] == {"empty row": 1}
    assert s["flagged_by_rule"] == {"speeder": 1, "attention_failed": 1, "preview": 1, "unknown_area": 1}
    assert s["identifiers_dropped"] == ["Email", "IPAddress"]
    assert s["unknown_values"]["contact_fair"]["examples"] == ["Maybe"]
    assert s["unknown_areas"] == {"Atlantis": 1}
    with Store(proj / "warehouse.duckdb", read_only=True) as st:
        dump = " ".join(str(v) for t in ("responses", "answers", "open_text", "quarantine", "flags", "sources")
                        for v in st.query(f"SELECT * FROM {t}").astype(str).to_numpy().ravel())
        assert "a@x.org" not in dump and "1.2.3.4" not in dump
        wide = st.read_clean_wave("w1", include_excluded=True)
        assert wide["source_row"].tolist() == [2, 3, 4, 6]
        assert wide.loc[0, "area_neighborhood"] == "Downtown" and wide.loc[1, "area_neighborhood"] == "Downtown"
        assert wide.loc[0, "area_district"] == "Central" and pd.isna(wide.loc[2, "area_neighborhood"])
        assert wide.loc[1, "legit_rude__missing"] == "dont_know" and wide["legit_rude"].isna()[1]
        assert wide.loc[0, "top_drugs"] == 1 and wide.loc[0, "top_litter"] == 2
        assert st.read_open_text("w1")["text"].tolist() == ["Great work"]
        assert st.read_clean_wave("w1")["response_id"].tolist() == ["R1", "R5"]
        funnel = st.funnel("w1").set_index("step")["rows"]
        assert funnel["rows read"] == 5 and funnel["analysed"] == 2


def test_reingest_is_a_noop(setup, capsys):
    proj, export = setup
    main(["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web", "--json"])
    capsys.readouterr()
    with Store(proj / "warehouse.duckdb") as st:
        before = st.counts()
    rc, s = run_json(capsys, ["ingest", str(export), "--project", str(proj), "--wave", "w1", "--json"])
    assert rc == 0 and s["status"] == "already loaded"
    with Store(proj / "warehouse.duckdb") as st:
        assert st.counts() == before


def test_failure_midway_leaves_store_unchanged(setup, capsys, monkeypatch):
    proj, export = setup
    with Store(proj / "warehouse.duckdb") as st:
        before = st.counts()
    calls = []
    orig = Store._insert

    def spy(self, table, df):
        calls.append(table)
        return orig(self, table, df)

    def boom(self, *args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "_insert", spy)
    monkeypatch.setattr(Store, "_insert_wide_answers", boom)  # the answers, after the responses
    with pytest.raises(RuntimeError):
        pipeline.ingest(proj, export, "w1", mode="web")
    assert "responses" in calls  # responses were written inside the transaction before the failure
    monkeypatch.undo()
    with Store(proj / "warehouse.duckdb") as st:
        assert st.counts() == before


def test_second_file_for_same_wave_and_mode_is_refused(setup, capsys, tmp_path):
    proj, export = setup
    main(["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web", "--json"])
    other = tmp_path / "web2.csv"
    other.write_text(export.read_text().replace("R5", "R6"))
    capsys.readouterr()
    rc = main(["ingest", str(other), "--project", str(proj), "--wave", "w1", "--mode", "web"])
    err = capsys.readouterr().err
    assert rc == 2 and "already holds web.csv" in err and "--append" in err
    rc, s = run_json(capsys, ["ingest", str(other), "--project", str(proj), "--wave", "w1", "--mode", "web", "--append", "--json"])
    assert rc == 0 and s["flagged_by_rule"]["duplicate_id"] == 3  # R1, R2, R3 seen before


def test_export_of_another_instrument_is_refused(setup, capsys, tmp_path):
    proj, _ = setup
    other = tmp_path / "other.csv"
    other.write_text("ResponseId,Favourite colour,Pets,Shoe size\nR1,Blue,Cat,42\n")
    rc = main(["ingest", str(other), "--project", str(proj), "--wave", "w1", "--mode", "web"])
    err = capsys.readouterr().err
    assert rc == 2 and "different instrument" in err and "instrument infer" in err
    assert not (proj / "warehouse.duckdb").exists() or Store(proj / "warehouse.duckdb").counts()["sources"] == 0


@pytest.mark.parametrize("name,content,expect", [
    ("empty.csv", "", "empty"),
    ("notes.pdf", "%PDF", "not an export type"),
])
def test_bad_files_give_one_message_and_exit_2(setup, capsys, tmp_path, name, content, expect):
    proj, _ = setup
    f = tmp_path / name
    f.write_text(content)
    rc = main(["ingest", str(f), "--project", str(proj), "--wave", "w1", "--mode", "web"])
    err = capsys.readouterr().err
    assert rc == 2 and expect in err and "Traceback" not in err


def test_mode_when_unknown_is_detected_and_said(setup, capsys):
    # issue 12: no longer refused; the summary says where the mode came from (here the file name)
    proj, export = setup
    rc = main(["ingest", str(export), "--project", str(proj), "--wave", "w9", "--json"])
    s = json.loads(capsys.readouterr().out)
    assert rc == 0 and s["mode"] == "web"
    assert s["notes"][0] == f"mode web: from the file name '{export.name}'"


def test_mapping_edits_win_on_the_next_wave(setup, capsys, tmp_path):
    proj, export = setup
    main(["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web", "--json"])
    mfile = proj / "mappings" / "w1__web.csv"
    assert "Any contact?,contact,text,100,yes" in mfile.read_text()


def test_infer_writes_a_valid_draft(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pipeline, "_default_reader", read_generic)
    f = tmp_path / "x.csv"
    f.write_text(textwrap.dedent("""\
        ResponseId,SAT_POLICE,SAT_PARKS,SAT_ROADS,PRIORITY_A,HOW,INCOME,COMMENT_TEXT,AGE_YEARS
        R1,Very satisfied,Satisfied,Don't know,Top priority,"Phone,Email","$100,000 or more",hello,40
        R2,Dissatisfied,Very dissatisfied,Satisfied,Low priority,Phone,"Less than $25,000",,51
        R3,Satisfied,Satisfied,Very satisfied,Not a priority,Email,"$25,000 - $49,999",bye,33
        """))
    rc = main(["instrument", "infer", str(f), "--out", str(tmp_path / "d.yaml"), "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rc == 0 and rep["multi"] == 1 and rep["skipped_meta"] == 1
    from survey_pipeline import load_instrument

    inst = load_instrument(tmp_path / "d.yaml")
    q = {x.id: x for x in inst.questions()}
    assert q["how"].type == "multi" and q["income"].type == "single" and q["age_years"].type == "integer"
    assert q["comment_text"].type == "text" and q["sat_grid"].type == "grid"
    sat = inst.scales[q["sat_grid"].scale]
    assert sat.codes[0].label["en"] == "Very dissatisfied" and sat.missing["dont_know"].code == 8
    assert "TODO" in (tmp_path / "d.yaml").read_text()


def test_edited_mapping_is_honoured_with_replace(setup, capsys):
    proj, export = setup
    main(["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web", "--json"])
    mfile = proj / "mappings" / "w1__web.csv"
    # the analyst decides 'Your age' is not to be used, and maps 'Comments' nowhere either
    mfile.write_text(mfile.read_text().replace("Your age,age,text,100,yes", "Your age,age,text,100,no"))
    capsys.readouterr()
    rc, s = run_json(capsys, ["ingest", str(export), "--project", str(proj), "--wave", "w1", "--replace", "--json"])
    assert rc == 0 and s["status"] == "loaded" and s["mapped_by_method"]["stored"] == 11
    assert "age" not in s["unknown_values"]
    with Store(proj / "warehouse.duckdb") as st:
        assert st.counts()["sources"] == 1 and len(st.read_responses("w1")) == 4
        assert "age" not in st.read_clean_wave("w1", include_excluded=True).columns
        assert st.query("SELECT count(*) n FROM answers WHERE variable = 'age'")["n"][0] == 0


def test_refused_export_can_be_mapped_by_hand(setup, capsys, tmp_path):
    proj, _ = setup
    other = tmp_path / "other.csv"
    other.write_text("ResponseId,Q_a,Q_b,Q_c,Q_d\nR1,Yes,Agree,Disagree,40\nR2,No,,Agree,51\n")
    assert main(["ingest", str(other), "--project", str(proj), "--wave", "w2", "--mode", "web"]) == 2
    mfile = proj / "mappings" / "w2__other.csv"
    text = mfile.read_text()
    for col, var in (("Q_a", "contact"), ("Q_b", "contact_fair"), ("Q_c", "legit_trust"), ("Q_d", "age")):
        text = text.replace(f"{col},,unmapped,,no", f"{col},{var},,,yes")
    mfile.write_text(text)
    capsys.readouterr()
    rc, s = run_json(capsys, ["ingest", str(other), "--project", str(proj), "--wave", "w2", "--mode", "web", "--json"])
    assert rc == 0 and s["columns_mapped"] == 4 and s["rows_kept"] == 2


def test_response_rates_per_area_from_invitations(setup, capsys):
    proj, export = setup
    toml = proj / "survey.toml"
    toml.write_text(toml.read_text() + '''
[[waves]]
id = "w1"
modes = ["web"]
eligibility_rate = 0.9
[waves.invitations]
"Downtown" = 10
"Oak Hill" = 5
''')
    rc, s = run_json(capsys, ["ingest", str(export), "--project", str(proj), "--wave", "w1", "--json"])
    assert rc == 0
    rates = {r["area"]: r for r in s["response_rates"]}
    # Downtown: R1 complete and R2 ('downtwn') complete; Oak Hill: R5 complete; R3 is a web preview (not a case)
    assert (rates["Downtown"]["I"], rates["Downtown"]["UH_UO"]) == (2, 8)
    assert rates["Downtown"]["RR1"] == 0.2 and rates["Oak Hill"]["RR1"] == 0.2
    assert abs(rates["all"]["RR3"] - 3 / (3 + 0.9 * 12)) < 1e-12
    assert rates["all"]["e"] == 0.9


def test_export_without_answer_columns_is_refused(setup, capsys, tmp_path):
    proj, _ = setup
    f = tmp_path / "meta.csv"
    f.write_text("StartDate,EndDate,Status,ResponseId\n2024-01-01 10:00:00,2024-01-01 10:05:00,0,R1\n")
    rc = main(["ingest", str(f), "--project", str(proj), "--wave", "w1", "--mode", "web"])
    err = capsys.readouterr().err
    assert rc == 2 and "no answer columns" in err


QUALTRICS_3ROWS = '''\
StartDate,EndDate,Status,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,RecipientEmail,UserLanguage,contact,legit_1,legit_2,top_1,top_2,top_3
Start Date,End Date,Response Type,Progress,Duration (in seconds),Finished,Recorded Date,Response ID,Recipient Email,User Language,Any contact?,Agree or disagree - I trust the police,Agree or disagree - Police are rude,Top two - Drugs,Top two - Litter,Top two - Speeding
"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""status""}","{""ImportId"":""progress""}","{""ImportId"":""duration""}","{""ImportId"":""finished""}","{""ImportId"":""recordedDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""recipientEmail""}","{""ImportId"":""userLanguage""}","{""ImportId"":""QID1""}","{""ImportId"":""QID3_1""}","{""ImportId"":""QID3_2""}","{""ImportId"":""QID5_1""}","{""ImportId"":""QID5_2""}","{""ImportId"":""QID5_3""}"
2024-03-01 10:00:00,2024-03-01 10:06:00,0,100,360,1,2024-03-01 10:06:00,R_a,x@y.org,EN,1,4,2,1,2,
2024-03-01 11:00:00,2024-03-01 11:05:00,0,100,300,1,2024-03-01 11:05:00,R_b,z@y.org,ES,2,5,8,,1,2
'''


def test_qualtrics_three_header_rows_with_numeric_values(setup, capsys, tmp_path):
    proj, _ = setup
    f = tmp_path / "qualtrics.csv"
    f.write_text(QUALTRICS_3ROWS)
    rc, s = run_json(capsys, ["ingest", str(f), "--project", str(proj), "--wave", "q1", "--mode", "web", "--json"])
    assert rc == 0 and s["platform"] == "qualtrics" and s["unmapped_columns"] == []
    assert s["identifiers_dropped"] == ["RecipientEmail"] and s["unknown_values"] == {}
    with Store(proj / "warehouse.duckdb") as st:
        w = st.read_clean_wave("q1", include_excluded=True).set_index("platform_response_id")
    assert w.loc["R_a", ["contact", "legit_trust", "legit_rude", "top_drugs", "top_litter"]].tolist() == [1, 4, 2, 1, 2]
    assert w.loc["R_b", "legit_rude__missing"] == "dont_know" and w.loc["R_b", "top_speeding"] == 2
    assert str(w.loc["R_a", "start_time"]).startswith("2024-03-01 10:00:00")


def _to_legacy_layout(path) -> None:
    """Rewrite a store the way survey-pipeline before 0.3 kept answers: one string-keyed table."""
    import duckdb
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE answers_old AS SELECT * FROM answers")
    con.execute("DROP VIEW answers")
    con.execute("ALTER TABLE answers_old RENAME TO answers")
    con.execute("DELETE FROM answer_cells")
    con.execute("DELETE FROM variable_keys")
    con.close()


def test_a_store_of_the_earlier_layout_is_upgraded_without_loss(setup, capsys):
    proj, export = setup
    assert main(["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web"]) == 0
    path = proj / "warehouse.duckdb"
    order = "ORDER BY response_id, variable"
    with Store(path, read_only=True) as st:
        answers = st.query(f"SELECT * FROM answers {order}")
        wide = st.read_clean_wave("w1", include_excluded=True)
    assert len(answers) > 20 and answers["missing_kind"].notna().any()
    _to_legacy_layout(path)
    with Store(path, read_only=True) as st, pytest.raises(StoreError) as err:  # a reader cannot upgrade: it says how
        st.read_clean_wave("w1")
    assert err.value.rule == "store-layout" and "survey-pipeline run" in err.value.fix
    assert Store.upgrade(path) is True and Store.upgrade(path) is False
    with Store(path, read_only=True) as st:
        pd.testing.assert_frame_equal(st.query(f"SELECT * FROM answers {order}"), answers)
        pd.testing.assert_frame_equal(st.read_clean_wave("w1", include_excluded=True), wide)
        assert st.counts()["answers"] == len(answers)


def test_answers_are_integer_keyed_cells_behind_the_documented_view(setup, capsys):
    proj, export = setup
    assert main(["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web"]) == 0
    with Store(proj / "warehouse.duckdb", read_only=True) as st:
        types = dict(st.query("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_name = 'answer_cells'").itertuples(index=False))
        view = st.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'answers' "
                        "ORDER BY ordinal_position")["column_name"].tolist()
        kinds = st.query("SELECT missing_kind FROM missing_kinds ORDER BY kind")["missing_kind"].tolist()
    assert types == {"source_id": "INTEGER", "source_row": "INTEGER", "variable_key": "SMALLINT",
                     "code": "DOUBLE", "kind": "UTINYINT"}
    assert view == ["response_id", "wave", "variable", "code", "missing_kind"]
    assert kinds == list(MISSING_KINDS)
