"""Issue 12's bugs on exports: placeholder contacts, and the mode when nobody gives it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from survey_pipeline.ingest.mode import detect_mode, mode_from_channel, mode_from_name
from survey_pipeline.ingest.pipeline import ingest
from survey_pipeline.ingest.quality import contact_hash
from survey_pipeline.project import init_project
from tests.unit.ingest.conftest import AREAS, INSTRUMENT


@pytest.fixture
def proj(tmp_path: Path):
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    (tmp_path / "inst.yaml").write_text(INSTRUMENT, encoding="utf-8")
    return init_project(tmp_path / "p", instrument=str(tmp_path / "inst.yaml"), areas=tmp_path / "areas.csv")


def _ms_forms(n: int, email) -> str:
    """A Microsoft Forms export of an "anyone can respond" form: ID, times, Email, Name, questions."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["ID", "Start time", "Completion time", "Email", "Name", "Last modified time", "Neighborhood",
                "Any contact?", "Treated fairly", "I trust the police", "Police are rude", "Your age"])
    hoods = ["Downtown", "Riverside", "Oak Hill", "Las Palmas"]
    answers = ["Strongly agree", "Agree", "Disagree", "Neither"]
    for i in range(n):
        w.writerow([i + 1, f"3/{1 + i % 28}/24 10:{i % 60:02d}:03", f"3/{1 + i % 28}/24 10:{i % 60:02d}:59"
                    .replace(":59", ":59"), email(i), "", "", hoods[i % 4], "Yes" if i % 2 else "No",
                    answers[i % 4], answers[(i + 1) % 4], answers[(i + 2) % 4], 20 + i % 60])
    return buf.getvalue()


def test_ms_forms_anonymous_email_is_not_one_contact(proj, tmp_path):
    export = tmp_path / "forms.csv"
    export.write_text(_ms_forms(80, lambda i: "anonymous"), encoding="utf-8")
    s = ingest(proj, export, "w1", mode="web")
    assert s.platform == "ms_forms"
    assert s.rows_read == 80 == s.rows_kept + s.rows_quarantined
    assert "duplicate_contact" not in s.flagged_by_rule
    assert s.analysed == 80


def test_real_contacts_still_flag_duplicates(proj, tmp_path):
    export = tmp_path / "forms2.csv"
    emails = ["n/a", "none", "-", "", "someone@example.org", "SOMEONE@example.org ", "x@y"]
    export.write_text(_ms_forms(len(emails), lambda i: emails[i]), encoding="utf-8")
    s = ingest(proj, export, "w1", mode="web")
    assert s.flagged_by_rule.get("duplicate_contact") == 1  # the second someone@example.org only


@pytest.mark.parametrize("value", ["anonymous", "n/a", "none", "-", "N/A", "unknown", "x@y", "me at home"])
def test_placeholder_emails_are_not_hashed(value):
    got = contact_hash(pd.Series([value, "a@b.org"]), None, b"salt")
    assert pd.isna(got.iloc[0]) and isinstance(got.iloc[1], str)


def test_placeholder_phones_are_not_hashed():
    got = contact_hash(None, pd.Series(["0000000", "-", "12", "(555) 222-3333"]), b"salt")
    assert got.isna().tolist() == [True, True, True, False]


QUALTRICS = ("StartDate,EndDate,Status,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,"
             "DistributionChannel,UserLanguage,Neighborhood,I trust the police\n"
             "Start Date,End Date,Response Type,Progress,Duration (in seconds),Finished,Recorded Date,Response ID,"
             "Distribution Channel,User Language,Neighborhood,I trust the police\n"
             '{"ImportId":"startDate"},{"ImportId":"endDate"},{"ImportId":"status"},{"ImportId":"progress"},'
             '{"ImportId":"duration"},{"ImportId":"finished"},{"ImportId":"recordedDate"},{"ImportId":"_recordId"},'
             '{"ImportId":"distributionChannel"},{"ImportId":"userLanguage"},{"ImportId":"QID1"},{"ImportId":"QID2"}\n')


def _qualtrics(channels: list[str]) -> str:
    rows = [f"2024-03-01 10:00:00,2024-03-01 10:05:00,{'Survey Preview' if c == 'preview' else 'IP Address'},100,"
            f"300,True,2024-03-01 10:05:00,R_{i},{c},EN,Downtown,Agree\n" for i, c in enumerate(channels)]
    return QUALTRICS + "".join(rows)


def test_mode_from_qualtrics_distribution_channel(proj, tmp_path):
    export = tmp_path / "spring.csv"
    export.write_text(_qualtrics(["anonymous", "email", "gl"] * 4), encoding="utf-8")
    s = ingest(proj, export, "w1")  # no --mode, not in survey.toml
    assert s.mode == "web"
    assert s.notes[0].startswith("mode web: from the platform's DistributionChannel column")


def test_mode_not_taken_from_a_file_of_previews(tmp_path):
    # paper questionnaires keyed in through the preview link: the channel says nothing certain
    export = tmp_path / "returns.csv"
    export.write_text(_qualtrics(["preview"] * 8 + ["anonymous"] * 2), encoding="utf-8")
    mode, why = detect_mode(export)
    assert mode == "web" and "the default" in why
    named = tmp_path / "public_mail.csv"
    named.write_text(_qualtrics(["preview"] * 8 + ["anonymous"] * 2), encoding="utf-8")
    assert detect_mode(named) == ("mail", "mode mail: from the file name 'public_mail.csv'")


def test_default_mode_is_stated_in_the_summary(proj, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("Neighborhood,I trust the police\nDowntown,Agree\nRiverside,Disagree\n", encoding="utf-8")
    s = ingest(proj, export, "w1")
    assert s.mode == "web"
    assert any(n.startswith("mode web: the default") for n in s.notes)


def test_mode_helpers():
    assert mode_from_channel(pd.Series(["offline", "offline", "Distribution Channel"]))[0] == "in_person"
    assert mode_from_channel(pd.Series(["anonymous", "offline"])) is None  # two modes: not certain
    assert mode_from_name("wave2_phone_cati.csv")[0] == "phone"
    assert mode_from_name("web_and_mail.csv") is None
    assert mode_from_name("email_invites.csv") is None  # e-mailed links: a web survey, not mail
    assert mode_from_name("export.csv") is None
