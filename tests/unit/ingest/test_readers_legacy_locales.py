"""Legacy Qualtrics exports (V1..V10) and localized Microsoft Forms / LimeSurvey headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survey_pipeline import ingest
from survey_pipeline.ingest.readers import detect_platform, read_export
from survey_pipeline.project import init_project
from survey_pipeline.store import Store


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# The same two responses, exported by Qualtrics' legacy exporter and by the current one.
QUALTRICS_LEGACY = '''V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1,Q2,Q3,Q4,Q5,LocationLatitude,LocationLongitude,LocationAccuracy
ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,EndDate,Finished,Neighborhood,Any contact?,Treated fairly,Please pick Disagree,Your age,LocationLatitude,LocationLongitude,LocationAccuracy
R_1abc,Default Response Set,Anonymous,,a@x.org,1.2.3.4,0,2015-03-01 10:15:00,2015-03-01 10:20:00,1,Downtown,Yes,Agree,Disagree,34,40.1,-105.2,-1
R_2def,Default Response Set,Anonymous,,,1.2.3.5,1,2015-03-02 11:00:00,2015-03-02 11:01:00,0,Oak Hill,No,,Agree,,,,
'''

QUALTRICS_MODERN = '''StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,RecipientEmail,ExternalReference,LocationLatitude,LocationLongitude,Q1,Q2,Q3,Q4,Q5
Start Date,End Date,Response Type,IP Address,Progress,Duration (in seconds),Finished,Recorded Date,Response ID,Recipient Email,External Data Reference,Location Latitude,Location Longitude,Neighborhood,Any contact?,Treated fairly,Please pick Disagree,Your age
"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""status""}","{""ImportId"":""ipAddress""}","{""ImportId"":""progress""}","{""ImportId"":""duration""}","{""ImportId"":""finished""}","{""ImportId"":""recordedDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""recipientEmail""}","{""ImportId"":""externalDataReference""}","{""ImportId"":""locationLatitude""}","{""ImportId"":""locationLongitude""}","{""ImportId"":""QID1_TEXT""}","{""ImportId"":""QID2""}","{""ImportId"":""QID3""}","{""ImportId"":""QID4""}","{""ImportId"":""QID5_TEXT""}"
2015-03-01 10:15:00,2015-03-01 10:20:00,0,1.2.3.4,100,300,1,2015-03-01 10:20:00,R_1abc,a@x.org,,40.1,-105.2,Downtown,Yes,Agree,Disagree,34
2015-03-02 11:00:00,2015-03-02 11:01:00,1,1.2.3.5,40,60,0,2015-03-02 11:01:00,R_2def,,,,,Oak Hill,No,,Agree,
'''


def test_legacy_qualtrics_detected_and_named_by_its_second_row(tmp_path):
    raw = read_export(write(tmp_path, QUALTRICS_LEGACY))
    assert (raw.platform, raw.header_rows, len(raw.frame)) == ("qualtrics", 2, 2)
    assert raw.source_rows.tolist() == [3, 4]
    assert raw.meta == {"response_id": "ResponseID", "name": "Name", "external_ref": "ExternalDataReference",
                        "email": "EmailAddress", "ip": "IPAddress", "status": "Status", "start": "StartDate",
                        "end": "EndDate", "finished": "Finished", "latitude": "LocationLatitude",
                        "longitude": "LocationLongitude"}
    v5 = raw.column("EmailAddress")
    assert (v5.header, v5.role, v5.position) == ("V5", "meta", 4)
    assert raw.column("ResponseSet").role == "meta" and raw.column("LocationAccuracy").role == "meta"
    q2 = raw.column("Q2")
    assert (q2.text, q2.role, q2.key) == ("Any contact?", "answer", None)
    assert raw.frame["ResponseID"].tolist() == ["R_1abc", "R_2def"]
    assert raw.frame.loc[1, "Q3"] is None
    assert "legacy" in raw.notes[0]
    assert detect_platform(raw.file) == "qualtrics"


def test_v_columns_without_the_legacy_second_row_are_not_legacy(tmp_path):
    # a generic export whose variables happen to be V1, V2...: no ResponseID under them
    raw = read_export(write(tmp_path, "V1,V2,V3\n1,2,3\n4,5,6\n"))
    assert (raw.platform, raw.header_rows, len(raw.frame)) == ("generic", 1, 2)
    assert [c.name for c in raw.columns] == ["V1", "V2", "V3"]


def test_legacy_and_modern_qualtrics_give_the_same_clean_wave(tmp_path, project):
    legacy = write(tmp_path, QUALTRICS_LEGACY, "legacy.csv")
    modern = write(tmp_path, QUALTRICS_MODERN, "modern.csv")
    other = init_project(tmp_path / "proj2", instrument=str(tmp_path / "inst.yaml"), areas=tmp_path / "areas.csv")
    (other.root / ".contact_salt").write_bytes((project.root / ".contact_salt").read_bytes())  # same hashes
    s_old = ingest(project.root, legacy, "w1", mode="web")
    s_new = ingest(other.root, modern, "w1", mode="web")
    assert s_old.rows_kept == s_new.rows_kept == 2
    assert sorted(s_old.identifiers_dropped) == ["EmailAddress", "ExternalDataReference", "IPAddress",
                                                 "LocationLatitude", "LocationLongitude", "Name"]
    with Store(project.store_path, read_only=True) as st:
        old = st.read_clean_wave("w1", include_excluded=True)
        dump = " ".join(map(str, st.query("SELECT * FROM responses").to_numpy().ravel()))
    with Store(other.store_path, read_only=True) as st:
        new = st.read_clean_wave("w1", include_excluded=True)
    assert "a@x.org" not in dump and "1.2.3.4" not in dump
    assert old["source_row"].tolist() == [3, 4] and new["source_row"].tolist() == [4, 5]
    old, new = old.drop(columns=["source_row"]), new.drop(columns=["source_row"])
    assert list(old.columns) == list(new.columns)
    assert old["response_id"].tolist() == ["R_1abc", "R_2def"]
    assert old["flag_preview"].tolist() == [False, True]
    assert old.loc[0, "area_neighborhood"] == "Downtown" and old.loc[0, "age"] == 34
    pd.testing.assert_frame_equal(old, new, check_dtype=False)


# ------------------------------------------------------------------------ Microsoft Forms locales
# Header strings as Microsoft Forms writes them in each export language (sources: see
# docs/platform-exports.md). Quiz columns ("Puntos: ...") are metadata, not answers.
MS_FORMS = {
    "es": ("Id,Hora de inicio,Hora de finalización,Correo electrónico,Nombre,Hora de la última modificación,"
           "Total de puntos,Comentarios del cuestionario,¿Se siente seguro?,Puntos: ¿Se siente seguro?,"
           "Comentarios: ¿Se siente seguro?\n"
           "1,3/1/24 10:15:03,3/1/24 10:20:00,anonymous,,,,,Seguro,,\n",
           {"response_id": "Id", "start": "Hora de inicio", "end": "Hora de finalización",
            "submitted": "Hora de finalización", "email": "Correo electrónico", "name": "Nombre"},
           "¿Se siente seguro?"),
    "fr": ("ID,Heure de début,Heure de fin,Adresse de messagerie,Nom,Heure de la dernière modification,"
           "Total points,Quiz feedback,Vous sentez-vous en sécurité ?,Points - Vous sentez-vous en sécurité ?\n"
           "1,3/1/24 10:15:03,3/1/24 10:20:00,anonymous,,,,,Oui,\n",
           {"response_id": "ID", "start": "Heure de début", "end": "Heure de fin", "submitted": "Heure de fin",
            "email": "Adresse de messagerie", "name": "Nom"},
           "Vous sentez-vous en sécurité ?"),
    "de": ("Id,Startzeit,Fertigstellungszeit,E-Mail,Name,Fühlen Sie sich sicher?\n"
           "1,01.03.2024 10:15,01.03.2024 10:20,anonymous,,Ja\n",
           {"response_id": "Id", "start": "Startzeit", "end": "Fertigstellungszeit",
            "submitted": "Fertigstellungszeit", "email": "E-Mail", "name": "Name"},
           "Fühlen Sie sich sicher?"),
    "pt": ("Id,Hora de início,Hora de conclusão,Email,Nome,Você se sente seguro?\n"
           "1,01/03/2024 10:15,01/03/2024 10:20,anonymous,,Sim\n",
           {"response_id": "Id", "start": "Hora de início", "end": "Hora de conclusão",
            "submitted": "Hora de conclusão", "email": "Email", "name": "Nome"},
           "Você se sente seguro?"),
}


@pytest.mark.parametrize("lang", sorted(MS_FORMS))
def test_ms_forms_localized_headers(tmp_path, lang):
    text, meta, question = MS_FORMS[lang]
    raw = read_export(write(tmp_path, text))
    assert raw.platform == "ms_forms"
    assert f"({lang}:" in raw.notes[0]
    assert raw.meta == meta
    answers = [c.name for c in raw.columns if c.role == "answer"]
    assert answers == [question]
    assert raw.column(question).text == question


def test_spanish_nombre_alone_is_not_ms_forms(tmp_path):
    raw = read_export(write(tmp_path, "Id,Nombre,Barrio\n1,Ana,Centro\n"))
    assert raw.platform == "generic"


# ----------------------------------------------------------------------------- LimeSurvey Spanish

def test_limesurvey_spanish_full_headings(tmp_path):
    text = ("ID de respuesta,Fecha de envío,Última página,Lenguaje inicial,Semilla,Código de acceso,"
            "Fecha de inicio,Fecha de la última acción,¿Se siente seguro?,Problemas [Ruido]\n"
            "7,2024-03-01 10:20:00,2,es,123456,tok7,2024-03-01 10:15:00,2024-03-01 10:20:00,Seguro,Sí\n")
    raw = read_export(write(tmp_path, text))
    assert raw.platform == "limesurvey"
    assert raw.meta == {"response_id": "ID de respuesta", "submitted": "Fecha de envío",
                        "lastpage": "Última página", "language": "Lenguaje inicial",
                        "external_ref": "Código de acceso", "start": "Fecha de inicio",
                        "end": "Fecha de la última acción"}
    assert raw.column("Semilla").role == "meta"
    assert [c.name for c in raw.columns if c.role == "answer"] == ["¿Se siente seguro?", "Problemas [Ruido]"]
    ruido = raw.column("Problemas [Ruido]")
    assert (ruido.text, ruido.sub, ruido.role) == ("Problemas", "Ruido", "answer")


def test_limesurvey_french_full_headings(tmp_path):
    text = ("ID de la réponse;Date de soumission;Dernière page;Langue de départ;Tête de série;"
            "Date de lancement;Date de la dernière action;Vous sentez-vous en sécurité ?\n"
            "12;2024-03-01 10:20:00;3;fr;987;2024-03-01 10:15:00;2024-03-01 10:20:00;Oui\n")
    raw = read_export(write(tmp_path, text))
    assert raw.platform == "limesurvey" and raw.delimiter == ";"
    assert "(fr:" in raw.notes[0]
    assert raw.meta == {"response_id": "ID de la réponse", "submitted": "Date de soumission",
                        "lastpage": "Dernière page", "language": "Langue de départ",
                        "start": "Date de lancement", "end": "Date de la dernière action"}
    assert [c.name for c in raw.columns if c.role == "answer"] == ["Vous sentez-vous en sécurité ?"]


def test_id_de_respuesta_alone_is_not_limesurvey(tmp_path):
    # other platforms (QuestionPro, Zoho) also write "ID de respuesta"
    raw = read_export(write(tmp_path, "ID de respuesta,Respuesta iniciada,¿Barrio?\n1,2024-03-01,Centro\n"))
    assert raw.platform == "generic"


def test_ms_forms_spanish_workbook(tmp_path):
    # Microsoft Forms downloads responses as a workbook; its times are Excel datetimes
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["Id", "Hora de inicio", "Hora de finalización", "Correo electrónico", "Nombre", "¿Barrio?"])
    ws.append([1, dt.datetime(2024, 3, 1, 10, 15, 3), dt.datetime(2024, 3, 1, 10, 20), "anonymous", None, "Centro"])
    path = tmp_path / "Encuesta.xlsx"
    wb.save(path)
    raw = read_export(path)
    assert (raw.platform, raw.sheet) == ("ms_forms", "Sheet1")
    assert raw.meta["start"] == "Hora de inicio" and raw.meta["submitted"] == "Hora de finalización"
    assert raw.frame.loc[0, "Hora de finalización"] == "2024-03-01 10:20:00"
    assert raw.frame.loc[0, "Id"] == "1" and raw.frame.loc[0, "¿Barrio?"] == "Centro"


def test_dotted_day_first_timestamps_of_german_exports():
    from survey_pipeline.ingest.readers import parse_timestamps

    got = parse_timestamps(pd.Series(["01.03.2024 10:15", "13.03.2024 09:05:07", "1.3.24", "31.02.2024", None]),
                           tz="Europe/Berlin")
    assert got.dt.strftime("%Y-%m-%d %H:%M:%S").tolist()[:3] == [
        "2024-03-01 10:15:00", "2024-03-13 09:05:07", "2024-03-01 00:00:00"]
    assert got.isna().tolist() == [False, False, False, True, True]
    assert str(got.dt.tz) == "Europe/Berlin"
