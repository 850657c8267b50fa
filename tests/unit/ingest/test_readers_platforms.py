"""Platform readers: one small inline export per platform, pyxform style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.ingest.readers import detect_platform, parse_timestamps, read_export
from tests.realdata import NO_TAMPA, SAN_DIEGO, TAMPA


def write(tmp_path: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


QUALTRICS_3 = '''StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,LocationLatitude,LocationLongitude,DistributionChannel,UserLanguage,Q_RecaptchaScore,Q1,Q5_1,Q5_2,Q5_7,Q5_7_TEXT,Q5_DO,district
Start Date,End Date,Response Type,IP Address,Progress,Duration (in seconds),Finished,Recorded Date,Response ID,Location Latitude,Location Longitude,Distribution Channel,User Language,Q_RecaptchaScore,How safe do you feel?,Which problems? - Selected Choice - Noise,"Which problems? - Selected Choice - Speeding, racing",Which problems? - Selected Choice - Other,Which problems? - Other - Text,Which problems? - Display Order,district
"{""ImportId"":""startDate"",""timeZone"":""America/Denver""}","{""ImportId"":""endDate"",""timeZone"":""America/Denver""}","{""ImportId"":""status""}","{""ImportId"":""ipAddress""}","{""ImportId"":""progress""}","{""ImportId"":""duration""}","{""ImportId"":""finished""}","{""ImportId"":""recordedDate"",""timeZone"":""America/Denver""}","{""ImportId"":""_recordId""}","{""ImportId"":""locationLatitude""}","{""ImportId"":""locationLongitude""}","{""ImportId"":""distributionChannel""}","{""ImportId"":""userLanguage""}","{""ImportId"":""Q_RecaptchaScore""}","{""ImportId"":""QID1""}","{""ImportId"":""QID5"",""choiceId"":""1""}","{""ImportId"":""QID5"",""choiceId"":""2""}","{""ImportId"":""QID5"",""choiceId"":""7""}","{""ImportId"":""QID5_7_TEXT""}","{""ImportId"":""QID5_DO""}","{""ImportId"":""district""}"
2024-03-01 10:15:00,2024-03-01 10:20:00,0,10.0.0.1,100,300,1,2024-03-01 10:20:01,R_abc,40.1,-105.2,anonymous,EN,0.9,4,1,,1,graffiti,1|2|7,D3
2024-03-02 11:00:00,2024-03-02 11:01:00,1,10.0.0.2,40,60,0,2024-03-02 11:09:00,R_def,,,preview,ES,,2,,1,,,2|1|7,
'''


def test_qualtrics_three_header_rows(tmp_path):
    raw = read_export(write(tmp_path, QUALTRICS_3))
    assert raw.platform == "qualtrics"
    assert raw.header_rows == 3
    assert len(raw.frame) == 2
    assert raw.source_rows.tolist() == [4, 5]
    assert raw.meta["response_id"] == "ResponseId"
    assert raw.meta["start"] == "StartDate" and raw.meta["submitted"] == "RecordedDate"
    assert raw.meta["latitude"] == "LocationLatitude" and raw.meta["recaptcha_score"] == "Q_RecaptchaScore"
    assert raw.meta["language"] == "UserLanguage"
    q1 = raw.column("Q1")
    assert (q1.key, q1.text, q1.role) == ("QID1", "How safe do you feel?", "answer")
    assert raw.column("Q5_2").sub == "Speeding, racing"
    assert raw.column("Q5_7_TEXT").sub == "TEXT" and raw.column("Q5_7_TEXT").role == "answer"
    assert raw.column("Q5_DO").role == "meta"
    assert raw.column("StartDate").role == "meta"
    assert raw.column("StartDate").timezone == "America/Denver" and raw.column("Status").timezone is None
    assert raw.column("district").key == "district" and raw.column("district").role == "answer"
    # every cell stays text, empties are None
    assert raw.frame.loc[0, "Status"] == "0" and raw.frame.loc[1, "Q5_1"] is None
    assert raw.frame.loc[0, "Q5_7_TEXT"] == "graffiti"
    assert detect_platform(raw.file) == "qualtrics"


def test_qualtrics_tags_only_labels(tmp_path):
    text = ("StartDate,EndDate,Status,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,Q1\n"
            "8/30/2024 15:33,8/30/2024 15:49,IP Address,100,944,True,8/30/2024 15:49,R_1,Very safe\n"
            "8/30/2024 15:33,8/30/2024 15:49,Survey Preview,100,944,True,8/30/2024 15:49,R_2,Unsafe\n")
    raw = read_export(write(tmp_path, text))
    assert (raw.platform, raw.header_rows, len(raw.frame)) == ("qualtrics", 1, 2)
    assert raw.source_rows.tolist() == [2, 3]
    assert raw.frame["Status"].tolist() == ["IP Address", "Survey Preview"]
    assert raw.column("Q1").key is None and raw.column("Q1").text is None


SURVEYMONKEY = '''Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,How safe do you feel at night?,Which problems matter most?,,,Rate the police on:,
,,,,,,,,,Response,Noise,Speeding,Other (please specify),Respect,Response time
114000001,4000001,03/01/2024 10:15:00 AM,03/01/2024 10:20:00 AM,1.2.3.4,,,,B7,Very safe,Noise,,,Good,Poor
114000002,4000001,03/02/2024 01:00:00 PM,03/02/2024 01:05:00 PM,1.2.3.5,,,,B8,Unsafe,,Speeding,dogs barking,Fair,
'''


def test_surveymonkey_two_header_rows_forward_filled(tmp_path):
    raw = read_export(write(tmp_path, SURVEYMONKEY))
    assert (raw.platform, raw.header_rows) == ("surveymonkey", 2)
    assert raw.source_rows.tolist() == [3, 4]
    assert raw.meta == {"response_id": "Respondent ID", "collector": "Collector ID", "start": "Start Date",
                        "end": "End Date", "ip": "IP Address", "email": "Email Address",
                        "recipient_first": "First Name", "recipient_last": "Last Name",
                        "external_ref": "Custom Data 1"}
    cols = {c.position: c for c in raw.columns}
    assert cols[9].text == "How safe do you feel at night?" and cols[9].sub is None
    assert [cols[i].text for i in (10, 11, 12)] == ["Which problems matter most?"] * 3
    assert [cols[i].sub for i in (10, 11, 12)] == ["Noise", "Speeding", "Other (please specify)"]
    assert cols[11].header == "" and cols[11].name == "Which problems matter most? [Speeding]"
    assert cols[14].text == "Rate the police on:" and cols[14].sub == "Response time"
    assert len({c.name for c in raw.columns}) == len(raw.columns)
    assert raw.frame[cols[12].name].tolist() == [None, "dogs barking"]


GOOGLE = '''Timestamp,Email Address,How safe do you feel?,Which problems matter? ,Rate services [Police],Rate services [Parks]
3/1/2024 10:15:03,a@x.org,Very safe,"Noise, music, Speeding",Good,Fair
3/2/2024 9:01:00,b@x.org,Unsafe,Speeding,,Poor
'''


def test_google_forms(tmp_path):
    raw = read_export(write(tmp_path, GOOGLE))
    assert (raw.platform, raw.header_rows) == ("google_forms", 1)
    assert raw.meta == {"submitted": "Timestamp", "email": "Email Address"}
    police = raw.column("Rate services [Police]")
    assert (police.text, police.sub) == ("Rate services", "Police")
    assert raw.column("How safe do you feel?").text == "How safe do you feel?"
    # checkboxes stay joined: splitting is downstream (split_multi)
    assert raw.frame.iloc[0, 3] == "Noise, music, Speeding"


def test_ms_forms(tmp_path):
    text = ("ID,Start time,Completion time,Email,Name,Last modified time,How safe?,Problems\n"
            "1,3/1/24 10:15:03,3/1/24 10:20:00,anonymous,,,Safe,Noise;Speeding;\n")
    raw = read_export(write(tmp_path, text))
    assert raw.platform == "ms_forms"
    assert raw.meta == {"response_id": "ID", "start": "Start time", "end": "Completion time",
                        "submitted": "Completion time", "email": "Email", "name": "Name"}
    assert raw.column("Last modified time").role == "meta"
    assert raw.frame.loc[0, "Problems"] == "Noise;Speeding;"


KOBO = '''start;end;consent;grp_area/district;grp_area/problems;grp_area/problems/noise;grp_area/problems/speeding;_gps_latitude;_gps_longitude;_id;_uuid;_submission_time;_validation_status;_index
2024-03-01T10:15:00.000-05:00;2024-03-01T10:20:00.000-05:00;yes;d3;noise speeding;1;1;40.1;-105.2;101;aaa-1;2024-03-01T15:21:00;validation_status_approved;1
2024-03-01T11:15:00.000-05:00;2024-03-01T11:20:00.000-05:00;yes;d1;speeding;0;1;;;102;aaa-2;2024-03-01T16:21:00;;2
'''


def test_kobo_semicolon_groups_and_split_columns(tmp_path):
    raw = read_export(write(tmp_path, KOBO))
    assert (raw.platform, raw.delimiter, raw.header_rows) == ("kobo", ";", 1)
    assert raw.meta == {"start": "start", "end": "end", "latitude": "_gps_latitude",
                        "longitude": "_gps_longitude", "response_id": "_id", "uuid": "_uuid",
                        "submitted": "_submission_time", "status": "_validation_status", "index": "_index"}
    district = raw.column("grp_area/district")
    assert (district.key, district.role, district.sub) == ("grp_area/district", "answer", None)
    noise = raw.column("grp_area/problems/noise")
    assert (noise.key, noise.role, noise.sub) == ("grp_area/problems", "split", "noise")
    assert raw.column("grp_area/problems").role == "answer"
    assert raw.frame["grp_area/problems/noise"].tolist() == ["1", "0"]


def test_kobo_labels_split_columns(tmp_path):
    text = ("Which problems?,Which problems?/Noise,Which problems?/Cars / trucks,_uuid,_submission_time\n"
            "Noise,1,0,u1,2024-03-01T15:21:00\n")
    raw = read_export(write(tmp_path, text))
    cars = raw.column("Which problems?/Cars / trucks")
    assert (cars.role, cars.sub, cars.key, cars.text) == ("split", "Cars / trucks", None, "Which problems?")


ODK = '''SubmissionDate,start,end,grp-district,grp-problems,grp-problems/noise,grp-problems/speeding,meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion
2024-03-01T15:21:00.000Z,2024-03-01T10:15:00.000-05:00,2024-03-01T10:20:00.000-05:00,d3,noise speeding,1,1,uuid:1,uuid:1,5,enum1,0,0,,approved,collect:x,0,2024030101
'''


def test_odk_central(tmp_path):
    raw = read_export(write(tmp_path, ODK))
    assert raw.platform == "odk"
    assert raw.meta["submitted"] == "SubmissionDate" and raw.meta["response_id"] == "KEY"
    assert raw.meta["uuid"] == "meta-instanceID" and raw.meta["status"] == "ReviewState"
    assert raw.column("grp-district").key == "grp/district"
    speeding = raw.column("grp-problems/speeding")
    assert (speeding.role, speeding.key, speeding.sub) == ("split", "grp/problems", "speeding")
    assert raw.column("SubmitterName").role == "meta"


LIME = '''id,submitdate,lastpage,startlanguage,seed,startdate,datestamp,safe,sat[SQ001],sat[SQ002],prob[other],Q1Time
1,2024-03-01 10:20:00,3,en,12345,2024-03-01 10:15:00,2024-03-01 10:20:00,A1,A5,A4,dogs,12.5
2,,1,es,999,2024-03-01 11:15:00,2024-03-01 11:16:00,A2,,,,
'''


def test_limesurvey(tmp_path):
    raw = read_export(write(tmp_path, LIME))
    assert raw.platform == "limesurvey"
    assert raw.meta == {"response_id": "id", "submitted": "submitdate", "lastpage": "lastpage",
                        "language": "startlanguage", "start": "startdate", "end": "datestamp"}
    sat = raw.column("sat[SQ002]")
    assert (sat.key, sat.sub, sat.role) == ("sat", "SQ002", "answer")
    assert raw.column("safe").key == "safe" and raw.column("safe").sub is None
    assert raw.column("prob[other]").sub == "other"
    assert raw.column("seed").role == "meta"
    assert raw.frame["submitdate"].tolist() == ["2024-03-01 10:20:00", None]


def test_generic_and_forced_platform(tmp_path):
    path = write(tmp_path, "Num,Q1_1,ZIP\n1,5,92124\n2,9,99999\n")
    raw = read_export(path)
    assert (raw.platform, raw.meta, raw.header_rows) == ("generic", {}, 1)
    assert all(c.role == "answer" for c in raw.columns)
    forced = read_export(path, platform="google_forms")
    assert forced.platform == "google_forms" and any("given" in n for n in forced.notes)


@pytest.mark.parametrize(
    ("name", "rows"),
    [("public_web.csv", 1072), ("public_mail.csv", 68), ("innetwork.csv", 199)],
)
def test_real_tampa_bay_qualtrics(name, rows):
    path = TAMPA / name
    if not path.exists():
        pytest.skip(NO_TAMPA)
    raw = read_export(path)
    assert (raw.platform, raw.header_rows) == ("qualtrics", 1)
    assert len(raw.frame) == rows and raw.rejected == []
    assert raw.source_rows[0] == 2 and raw.source_rows[-1] == rows + 1
    assert raw.meta["response_id"] == "ResponseId" and raw.meta["fraud_score"] == "Q_RelevantIDFraudScore"
    assert raw.frame["ResponseId"].is_unique
    if name == "public_mail.csv":
        assert (raw.frame["Status"] == "Survey Preview").sum() == 52


def test_real_san_diego_generic():
    path = SAN_DIEGO / "resident_survey_weighted_datasd.csv"
    if not path.exists():
        pytest.skip("real data not available")
    raw = read_export(path)
    assert raw.platform == "generic"
    assert raw.frame.shape == (2477, 119)
    assert len(raw.frame) + len(raw.rejected) == 2477
    assert np.array_equal(raw.source_rows, np.arange(2, 2479))
    assert raw.frame.columns[-1] == "ZIP"


def test_surveymonkey_header_only(tmp_path):
    head = "\n".join(SURVEYMONKEY.splitlines()[:2]) + "\n"
    raw = read_export(write(tmp_path, head))
    assert (raw.platform, raw.header_rows, len(raw.frame), raw.rows_in) == ("surveymonkey", 2, 0, 0)
    assert raw.frame.shape[1] == 15


def test_kobo_xlsx(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    for line in KOBO.splitlines():
        ws.append(line.split(";"))
    wb.create_sheet("repeat_members").append(["name", "_parent_index"])
    path = tmp_path / "kobo.xlsx"
    wb.save(path)
    raw = read_export(path)
    assert (raw.platform, raw.sheet, raw.encoding, raw.delimiter) == ("kobo", "survey", None, None)
    assert raw.column("grp_area/problems/speeding").role == "split"
    assert raw.frame["_validation_status"].tolist() == ["validation_status_approved", None]
    assert any("repeat_members" in n for n in raw.notes)


def test_detect_platform_reads_only_the_start_of_a_large_file(tmp_path):
    body = "".join(f"{i};{i};yes;d1;noise;1;0;;;{i};u{i};2024-03-01T15:21:00;;{i}\n" for i in range(30000))
    path = write(tmp_path, KOBO.splitlines()[0] + "\n" + body + "ragged;;\"unterminated\n")
    assert path.stat().st_size > 1 << 20
    assert detect_platform(path) == "kobo"


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [("public_web.csv", "2024-08-14 16:16", "2024-09-12 15:20"),  # day/month/year in this file
     ("public_mail.csv", "2024-08-30 15:33", "2024-12-31 13:36")],  # month/day/year in this one
)
def test_real_tampa_bay_timestamps(name, first, last):
    path = TAMPA / name
    if not path.exists():
        pytest.skip(NO_TAMPA)
    raw = read_export(path)
    start = parse_timestamps(raw.frame[raw.meta["start"]], tz="America/New_York")
    assert start.notna().all()
    assert start.min() == pd.Timestamp(first, tz="America/New_York")
    assert start.max() == pd.Timestamp(last, tz="America/New_York")
