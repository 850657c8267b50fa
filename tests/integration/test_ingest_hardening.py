"""Hardened ingest through the CLI (issue 19): refusals exit 2 with one message and leave the
store as it was; typed identifiers are redacted; damaged metadata is flagged, not stored."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from survey_pipeline.cli import main
from survey_pipeline.store import Store
from tests.unit.ingest.conftest import AREAS, INSTRUMENT

HEAD = ("ResponseId,Status,Duration (in seconds),Finished,StartDate,EndDate,UserLanguage,Neighborhood,Any contact?,"
        "Treated fairly,I trust the police,Police are rude,serious_drugs,serious_litter,serious_speeding,top,attn,"
        "Your age,Comments")
EXPORT = HEAD + "\n" + textwrap.dedent("""\
    R1,IP Address,300,True,2024-03-01 10:00:00,2024-03-01 10:05:00,EN,Downtown,Yes,Agree,Agree,Disagree,Agree,Agree,Agree,Litter,Disagree,34,Call me at (555) 014-2368
    R2,IP Addrexs,320,,9999-12-31 23:59:59,2024-03-01 10:06:00,EN,Oak Hill,No,Agree,Agree,Agree,Agree,Agree,Agree,Speeding,Disagree,40,mail jane.roe@example.org
    R3,jane.roe@example.org,310,False,2024-03-01 10:02:00,2024-03-01 10:09:00,203.0.113.9,Downtown,Yes,Agree,Agree,Agree,Agree,Agree,Agree,Litter,Disagree,51,+44 20 7946 0958 any time
    """)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "areas.csv").write_text(AREAS)
    (tmp_path / "inst.yaml").write_text(INSTRUMENT)
    proj = tmp_path / "proj"
    assert main(["init", str(proj), "--instrument", str(tmp_path / "inst.yaml"), "--areas", str(tmp_path / "areas.csv")]) == 0
    return proj


def _ingest(proj: Path, path: Path, wave: str, *extra: str) -> int:
    return main(["ingest", str(path), "--project", str(proj), "--wave", wave, "--mode", "web", *extra])


def _dump(proj: Path) -> str:
    with Store(proj / "warehouse.duckdb", read_only=True) as st:
        return " ".join(str(v) for t in ("responses", "answers", "open_text", "quarantine", "flags", "sources")
                        for v in st.query(f"SELECT * FROM {t}").astype(str).to_numpy().ravel())


def test_identifiers_redacted_and_bad_metadata_flagged_not_stored(project, tmp_path, capsys):
    export = tmp_path / "web.csv"
    export.write_text(EXPORT)
    assert _ingest(project, export, "w1", "--json") == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["rows_read"], s["rows_kept"]) == (3, 3)
    assert s["redacted"] == {"email": 1, "phone": 2}
    dump = _dump(project)
    for leak in ("jane.roe@example.org", "014-2368", "7946", "IP Addrexs", "203.0.113.9"):
        assert leak not in dump
    with Store(project / "warehouse.duckdb", read_only=True) as st:
        r = st.query("SELECT platform_response_id, status_raw, survey_language, finished, start_time "
                     "FROM responses ORDER BY platform_response_id")
        text = st.query("SELECT text FROM open_text ORDER BY text")["text"].tolist()
        flags = st.query("SELECT rule, count(*) AS n FROM flags WHERE rule LIKE 'unrecognised%' GROUP BY rule ORDER BY rule")
    assert r["status_raw"].tolist()[0] == "IP Address" and r["status_raw"].isna().tolist() == [False, True, True]
    assert r["survey_language"].isna().tolist() == [False, False, True]
    assert r["finished"].isna().tolist() == [False, True, False]  # an empty Finished is unknown
    assert r["start_time"].isna().tolist() == [False, True, False]  # year 9999 is no time
    assert text == ["Call me at [phone]", "[phone] any time", "mail [email]"]
    assert dict(zip(flags["rule"], flags["n"], strict=True)) == {"unrecognised_language": 1, "unrecognised_status": 2}


@pytest.mark.parametrize(("name", "data", "says"), [
    ("header_only.csv", HEAD + "\n", "holds only its header"),
    ("switched.csv", HEAD + "\n" + "\n".join(
        line.replace(",", "\t") if i >= 1 else line
        for i, line in enumerate(EXPORT.splitlines()[1:] * 4)) + "\n", "another number of cells than the header"),
])
def test_refusals_exit_2_with_one_message_and_the_store_unchanged(project, tmp_path, capsys, name, data, says):
    good = tmp_path / "web.csv"
    good.write_text(EXPORT)
    assert _ingest(project, good, "w1") == 0
    before = _dump(project)
    capsys.readouterr()
    bad = tmp_path / name
    bad.write_text(data)
    assert _ingest(project, bad, "w2") == 2
    err = capsys.readouterr().err
    assert says in err and str(bad) in err
    assert "Traceback" not in err and "Fix" in err
    assert _dump(project) == before
