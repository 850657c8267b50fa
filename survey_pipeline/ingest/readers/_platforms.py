"""Survey platforms: recognise an export from its header rows and describe its columns.

Each platform has a detector (header patterns only: the file, never its name) and an annotator
that turns the header rows into :class:`RawColumn` objects and the standard metadata map.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from survey_pipeline.ingest.readers._model import RawColumn

Head = Sequence[Sequence[str | None]]

# ------------------------------------------------------------------------------ vocabularies

QUALTRICS_META = {
    "StartDate": "start", "EndDate": "end", "Status": "status", "IPAddress": "ip",
    "Progress": "progress", "Duration (in seconds)": "duration_s", "Finished": "finished",
    "RecordedDate": "submitted", "ResponseId": "response_id", "ResponseID": "response_id",
    "RecipientLastName": "recipient_last", "RecipientFirstName": "recipient_first",
    "RecipientEmail": "recipient_email", "ExternalReference": "external_ref",
    "ExternalDataReference": "external_ref", "LocationLatitude": "latitude",
    "LocationLongitude": "longitude", "DistributionChannel": "distribution_channel",
    "UserLanguage": "language", "Q_RecaptchaScore": "recaptcha_score",
    "Q_RelevantIDDuplicateScore": "duplicate_score", "Q_RelevantIDFraudScore": "fraud_score",
}
QUALTRICS_IMPORT_META = {
    "startDate": "start", "endDate": "end", "status": "status", "ipAddress": "ip",
    "progress": "progress", "duration": "duration_s", "finished": "finished",
    "recordedDate": "submitted", "_recordId": "response_id", "recipientLastName": "recipient_last",
    "recipientFirstName": "recipient_first", "recipientEmail": "recipient_email",
    "externalDataReference": "external_ref", "locationLatitude": "latitude",
    "locationLongitude": "longitude", "distributionChannel": "distribution_channel",
    "userLanguage": "language",
}
QUALTRICS_TEXT_LABELS = {  # the 2nd-row text Qualtrics writes under its metadata tags
    "StartDate": "Start Date", "EndDate": "End Date", "ResponseId": "Response ID",
    "ResponseID": "Response ID", "RecordedDate": "Recorded Date", "IPAddress": "IP Address",
    "Duration (in seconds)": "Duration (in seconds)", "DistributionChannel": "Distribution Channel",
    "UserLanguage": "User Language", "RecipientEmail": "Recipient Email",
}
#: The legacy export (Qualtrics' "Legacy Exporter"): ten metadata columns tagged V1..V10 whose 2nd
#: header row names them, then the questions (tag, question text); no ImportId row.
QUALTRICS_LEGACY_META: dict[str, str | None] = {
    "ResponseID": "response_id", "ResponseSet": None, "Name": "name",
    "ExternalDataReference": "external_ref", "EmailAddress": "email", "IPAddress": "ip",
    "Status": "status", "StartDate": "start", "EndDate": "end", "Finished": "finished",
}
QUALTRICS_LEGACY_TAIL = {"LocationLatitude": "latitude", "LocationLongitude": "longitude", "LocationAccuracy": None}
_LEGACY_TAG = re.compile(r"^V\d+$")
_QUALTRICS_OTHER_META = re.compile(r"^Q_[A-Z][A-Za-z]*$")
_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"\s*:')

SURVEYMONKEY_META = {
    "Respondent ID": "response_id", "Collector ID": "collector", "Start Date": "start",
    "End Date": "end", "IP Address": "ip", "Email Address": "email", "First Name": "recipient_first",
    "Last Name": "recipient_last", "Custom Data 1": "external_ref", "Custom Data": "external_ref",
}

GOOGLE_TIMESTAMPS = {
    "Timestamp", "Marca temporal", "Horodateur", "Zeitstempel", "Carimbo de data/hora",
    "Informazioni cronologiche", "Tijdstempel", "Sello de tiempo",
}
GOOGLE_META = {"Email Address": "email", "Email address": "email", "Adresse e-mail": "email",
               "Dirección de correo electrónico": "email", "Score": None, "Puntuación": None}

MS_FORMS_LOCALES: dict[str, dict[str, str | None]] = {
    "en": {"Start time": "start", "Completion time": "end", "Email": "email", "Name": "name",
           "Last modified time": None, "Total points": None, "Quiz feedback": None,
           "Grade posted to learners": None, "Language": "language"},
    "es": {"Hora de inicio": "start", "Hora de finalización": "end", "Correo electrónico": "email",
           "Nombre": "name", "Hora de la última modificación": None, "Total de puntos": None,
           "Comentarios del cuestionario": None},
    "fr": {"Heure de début": "start", "Heure de fin": "end", "Adresse de messagerie": "email",
           "Nom": "name", "Heure de la dernière modification": None},
    "de": {"Startzeit": "start", "Fertigstellungszeit": "end", "E-Mail": "email", "Name": "name"},
    "pt": {"Hora de início": "start", "Hora de conclusão": "end", "Email": "email", "Nome": "name"},
}
"""Microsoft Forms metadata headers per export language (the ID column is ``ID`` or ``Id``).
Where each was seen is listed in docs/platform-exports.md."""
MS_FORMS_META: dict[str, str | None] = {
    "ID": "response_id", "Id": "response_id",
    **{h: f for heads in MS_FORMS_LOCALES.values() for h, f in heads.items()},
}
_MS_FORMS_POINTS = re.compile(r"^((Points|Feedback) - |(Puntos|Comentarios): )")

KOBO_META = {
    "start": "start", "end": "end", "today": None, "deviceid": None, "username": None,
    "simserial": None, "subscriberid": None, "phonenumber": "phone", "audit": None,
    "_uuid": "uuid", "_submission_time": "submitted", "_index": "index", "_id": "response_id",
    "_validation_status": "status", "_status": None, "_submitted_by": None, "__version__": None,
    "_version_": None, "_notes": None, "_tags": None, "_xform_id_string": None,
    "_attachments": None, "_geolocation": None, "meta/instanceID": None, "instanceID": None,
    "formhub/uuid": None, "meta/rootUuid": None, "meta/deprecatedID": None,
}
ODK_META = {
    "SubmissionDate": "submitted", "KEY": "response_id", "meta-instanceID": "uuid",
    "instanceID": "uuid", "SubmitterID": None, "SubmitterName": None, "AttachmentsPresent": None,
    "AttachmentsExpected": None, "Status": None, "ReviewState": "status", "DeviceID": None,
    "Edits": None, "FormVersion": None, "start": "start", "end": "end", "today": None,
    "deviceid": None, "phonenumber": "phone", "username": None, "audit": None,
    "meta-audit": None,
}
LIMESURVEY_LOCALES: dict[str, dict[str, str | None]] = {
    # full headings as seen in real exports (see docs/platform-exports.md); the first is the response id
    "es": {"ID de respuesta": "response_id", "Fecha de envío": "submitted", "Última página": "lastpage",
           "Lenguaje inicial": "language", "Semilla": None, "Fecha de inicio": "start",
           "Fecha de la última acción": "end", "Código de acceso": "external_ref"},
    "fr": {"ID de la réponse": "response_id", "Date de soumission": "submitted", "Dernière page": "lastpage",
           "Langue de départ": "language", "Tête de série": None, "Date de lancement": "start",
           "Date de la dernière action": "end", "Code d'accès": "external_ref"},
}
LIMESURVEY_META = {
    "id": "response_id", "submitdate": "submitted", "lastpage": "lastpage",
    "startlanguage": "language", "seed": None, "startdate": "start", "datestamp": "end",
    "ipaddr": "ip", "refurl": None, "token": "external_ref", "interviewtime": "duration_s",
    "Response ID": "response_id", "Date submitted": "submitted", "Last page": "lastpage",
    "Start language": "language", "Seed": None, "Date started": "start",
    "Date last action": "end", "IP address": "ip", "Referrer URL": None, "Access code": "external_ref",
    "Token": "external_ref", "Total time": "duration_s",
    **{h: f for heads in LIMESURVEY_LOCALES.values() for h, f in heads.items()},
}
_LIME_TIMING = re.compile(r"^(groupTime\d+|[A-Za-z][A-Za-z0-9_]*Time)$")
_LIME_CODE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(?:\[([^\[\]]+)\])?(?:\[([^\[\]]+)\])?$")
_BRACKET_SUB = re.compile(r"^(.*\S)\s*\[([^\[\]]+)\]$")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _cells(row: Sequence[str | None] | None) -> list[str]:
    return [(c or "").strip() for c in row] if row is not None else []


def _is_import_row(row: Sequence[str | None] | None) -> bool:
    return row is not None and any(c and _IMPORT_ID.match(c) for c in row)


def _legacy_fields(h0: Sequence[str | None], h1: Sequence[str | None] | None) -> dict[int, str]:
    """Positions of a legacy Qualtrics export's ``V1``.. columns -> the field the 2nd row names."""
    c1 = _cells(h1)
    found = {}
    for i, tag in enumerate(_cells(h0)):
        if _LEGACY_TAG.match(tag) and i < len(c1) and c1[i] in QUALTRICS_LEGACY_META:
            found[i] = c1[i]
    return found


def _is_legacy_qualtrics(h0, h1) -> bool:
    names = set(_legacy_fields(h0, h1).values())
    return "ResponseID" in names and len(names) >= 3


def _ms_forms_locale(s0: set[str]) -> str | None:
    if not s0 & {"ID", "Id"}:
        return None
    for lang, heads in MS_FORMS_LOCALES.items():
        start = next(h for h, f in heads.items() if f == "start")
        end = next(h for h, f in heads.items() if f == "end")
        if {start, end} <= s0:
            return lang
    return None


# -------------------------------------------------------------------------------- detection


def detect(head: Head) -> tuple[str, int, str]:
    """Return (platform, number of header rows, why) from the first non-blank records."""
    if not head:
        return "generic", 1, "no header row"
    h0 = _cells(head[0])
    s0 = set(h0)
    h1 = head[1] if len(head) > 1 else None
    h2 = head[2] if len(head) > 2 else None

    if h1 is not None and _is_legacy_qualtrics(head[0], h1):
        return "qualtrics", 2, "legacy Qualtrics export (V1, V2... tags over ResponseID, ResponseSet..., and a question text row)"
    qual_tags = s0 & set(QUALTRICS_META)
    if _is_import_row(h1) or _is_import_row(h2) or (
        len(qual_tags) >= 3 and ({"ResponseId", "ResponseID"} & s0 or {"StartDate", "EndDate"} <= s0)
    ):
        rows = 1
        c1 = _cells(h1)
        labelled = sum(1 for i, tag in enumerate(h0)
                       if tag in QUALTRICS_TEXT_LABELS and i < len(c1) and c1[i] == QUALTRICS_TEXT_LABELS[tag])
        if h1 is not None and not _is_import_row(h1) and (labelled >= 2 or _is_import_row(h2)):
            rows = 2
        nxt = head[rows] if len(head) > rows else None
        if _is_import_row(nxt):
            rows += 1
        why = {1: "Qualtrics metadata headers (StartDate, EndDate, ResponseId...) with the 2nd and 3rd header rows removed",
               2: "Qualtrics export tags and question text rows",
               3: "Qualtrics export tags, question text and ImportId rows"}[rows]
        return "qualtrics", rows, why
    if "SubmissionDate" in s0 and s0 & {"KEY", "meta-instanceID", "instanceID", "ReviewState"}:
        return "odk", 1, "ODK Central headers (SubmissionDate, KEY, instanceID)"
    kobo = s0 & {"_uuid", "_submission_time", "_index", "_validation_status", "_id"}
    if len(kobo) >= 2:
        return "kobo", 1, f"KoboToolbox headers ({', '.join(sorted(kobo))})"
    lime = s0 & {"id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp"}
    lime_full = s0 & {"Response ID", "Date submitted", "Last page", "Start language", "Seed", "Date started"}
    if len(lime) >= 3 or len(lime_full) >= 3:
        return "limesurvey", 1, "LimeSurvey headers (id, submitdate, lastpage, startlanguage)"
    for lang, heads in LIMESURVEY_LOCALES.items():
        rid = next(iter(heads))
        if rid in s0 and len(s0 & set(heads)) >= 2:
            return "limesurvey", 1, f"LimeSurvey full headings ({lang}: {', '.join(h for h in heads if h in s0)})"
    lang = _ms_forms_locale(s0)
    if lang is not None:
        heads = [h for h, f in MS_FORMS_LOCALES[lang].items() if f in ("start", "end")]
        return "ms_forms", 1, f"Microsoft Forms headers ({lang}: ID, {', '.join(heads)})"
    if "Respondent ID" in s0 and s0 & {"Collector ID", "Start Date", "End Date"}:
        rows = 1
        if h1 is not None:
            c1 = _cells(h1)
            rid = h0.index("Respondent ID")
            if (rid < len(c1) and not c1[rid]) or {"Response", "Open-Ended Response"} & set(c1):
                rows = 2
        return "surveymonkey", rows, "SurveyMonkey headers (Respondent ID, Collector ID)" + (
            " with a 2nd header row of options" if rows == 2 else "")
    if h0 and h0[0] in GOOGLE_TIMESTAMPS:
        return "google_forms", 1, f"Google Forms header ('{h0[0]}' first)"
    return "generic", 1, "no platform header pattern found: one header row"


# ------------------------------------------------------------------------------- annotation


def _col(pos: int, header: str, *, text=None, key=None, sub=None, role="answer") -> RawColumn:
    return RawColumn(name=header, header=header, text=text, key=key, sub=sub, role=role, position=pos)


def annotate(platform: str, header_rows: Head, width: int) -> tuple[list[RawColumn], dict[str, str], list[str]]:
    """Describe each of the ``width`` columns from the header rows; return columns, meta, notes."""
    rows = [list(r) + [None] * (width - len(r)) for r in header_rows]
    rows = [r[:width] for r in rows]
    headers = [(c if c is not None else "") for c in rows[0]] if rows else [""] * width
    fn = {
        "qualtrics": _qualtrics, "surveymonkey": _surveymonkey, "google_forms": _google,
        "ms_forms": _ms_forms, "kobo": _kobo, "odk": _odk, "limesurvey": _limesurvey,
    }.get(platform, _generic)
    columns, meta_fields = fn(headers, rows)
    notes = _dedupe(columns)
    meta: dict[str, str] = {}
    for col, fieldname in zip(columns, meta_fields, strict=True):
        if fieldname and fieldname not in meta:
            meta[fieldname] = col.name
    if platform == "ms_forms" and "end" in meta:  # Microsoft's completion time is the submission
        meta["submitted"] = meta["end"]
    return columns, meta, notes


def _dedupe(columns: list[RawColumn]) -> list[str]:
    notes: list[str] = []
    empty = [c.position + 1 for c in columns if not c.name.strip()]
    for col in columns:
        if not col.name.strip():
            col.name = f"column_{col.position + 1}"
    if empty:
        notes.append(f"{len(empty)} column(s) have an empty header; named column_N by position: {empty[:10]}")
    taken = {c.name for c in columns}
    seen: dict[str, int] = {}
    renamed: list[str] = []
    for col in columns:
        base = col.name
        if base in seen:
            n = seen[base]
            new = f"{base}.{n}"
            while new in taken:
                n += 1
                new = f"{base}.{n}"
            seen[base] = n + 1
            col.duplicate_of = base
            col.name = new
            taken.add(new)
            renamed.append(f"'{base}' at column {col.position + 1} -> '{new}'")
        else:
            seen[base] = 1
    if renamed:
        notes.append("duplicate headers renamed: " + "; ".join(renamed[:20]) + (" ..." if len(renamed) > 20 else ""))
    return notes


GENERIC_META: dict[str, str | None] = {
    **{f: f for f in ("response_id", "start", "end", "submitted", "duration_s", "status", "finished",
                      "progress", "language", "ip", "email", "phone", "latitude", "longitude",
                      "recaptcha_score", "duplicate_score", "fraud_score", "external_ref")},
    "respondent_id": "response_id", "responseid": "response_id", "start_time": "start",
    "start_date": "start", "startdate": "start", "end_time": "end", "end_date": "end", "enddate": "end",
    "submission_time": "submitted", "submitted_at": "submitted", "duration": "duration_s",
    "duration_seconds": "duration_s", "duration_in_seconds": "duration_s", "complete": "finished",
    "survey_language": "language", "email_address": "email", "ip_address": "ip",
    "wave": None, "platform": None,
}
"""Metadata headers of a generic export (one header row of variable names), normalized with
spaces and dashes as ``_`` and casefolded -> the standard field (None: metadata kept out of the answers)."""


def _generic(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    cols, fields = [], []
    for i, h in enumerate(headers):
        key = re.sub(r"[\s\-]+", "_", h.strip().casefold()).strip("_")
        key = re.sub(r"[()]", "", key)
        if key in GENERIC_META:
            cols.append(_col(i, h, role="meta"))
            fields.append(GENERIC_META[key])
        else:
            cols.append(_col(i, h))
            fields.append(None)
    return cols, fields


def _qualtrics(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    text_row = None
    import_row = None
    for r in rows[1:]:
        if _is_import_row(r):
            import_row = r
        elif text_row is None:
            text_row = r
    legacy: dict[int, str] = {}
    if text_row is not None and import_row is None and _is_legacy_qualtrics(headers, text_row):
        legacy = _legacy_fields(headers, text_row)
    cols: list[RawColumn] = []
    fields: list[str | None] = []
    for i, tag in enumerate(headers):
        text = text_row[i] if text_row is not None else None
        if i in legacy:  # legacy V1..V10: named by the field the 2nd row gives
            col = _col(i, tag, text=text, role="meta")
            col.name = legacy[i]
            cols.append(col)
            fields.append(QUALTRICS_LEGACY_META[legacy[i]])
            continue
        if legacy and tag.strip() in QUALTRICS_LEGACY_TAIL:
            cols.append(_col(i, tag, text=text, role="meta"))
            fields.append(QUALTRICS_LEGACY_TAIL[tag.strip()])
            continue
        key = tz = None
        if import_row is not None and import_row[i]:
            try:
                spec = json.loads(import_row[i])
                key = str(spec.get("ImportId")) or None
                tz = spec.get("timeZone") or None
            except (ValueError, AttributeError):
                key = None
        fieldname = QUALTRICS_META.get(tag.strip()) or (QUALTRICS_IMPORT_META.get(key) if key else None)
        role = "meta" if fieldname or _QUALTRICS_OTHER_META.match(tag.strip()) else "answer"
        sub = None
        if tag.endswith("_DO") or (key or "").endswith("_DO"):
            role = "meta"
        elif tag.endswith("_TEXT") or (key or "").endswith("_TEXT"):
            sub = "TEXT"
        elif re.search(r"_\d+$", tag) and text and " - " in text:
            sub = text.rsplit(" - ", 1)[1].strip() or None
        col = _col(i, tag, text=text, key=key, sub=sub, role=role)
        col.timezone = str(tz) if tz else None
        cols.append(col)
        fields.append(fieldname)
    return cols, fields


def _surveymonkey(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    subs = rows[1] if len(rows) > 1 else [None] * len(headers)
    questions: list[str] = []
    current = ""
    for h in headers:
        if h.strip():
            current = h
        questions.append(current if current not in SURVEYMONKEY_META else h)
    span: dict[str, int] = {}
    for q in questions:
        span[q] = span.get(q, 0) + 1
    cols: list[RawColumn] = []
    fields: list[str | None] = []
    for i, (h, q) in enumerate(zip(headers, questions, strict=True)):
        fieldname = SURVEYMONKEY_META.get(h.strip())
        if fieldname:
            cols.append(_col(i, h, role="meta"))
            fields.append(fieldname)
            continue
        sub = subs[i]
        sub = sub.strip() if sub else None
        if sub == "Response":
            sub = None
        name = f"{q} [{sub}]" if span.get(q, 1) > 1 and sub else (q or h)
        col = _col(i, h, text=q or None, sub=sub)
        col.name = name
        cols.append(col)
        fields.append(None)
    return cols, fields


def _google(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    cols, fields = [], []
    for i, h in enumerate(headers):
        hs = h.strip()
        if hs in GOOGLE_TIMESTAMPS or hs in GOOGLE_META:
            cols.append(_col(i, h, role="meta"))
            fields.append("submitted" if hs in GOOGLE_TIMESTAMPS else GOOGLE_META[hs])
            continue
        m = _BRACKET_SUB.match(hs)
        if m:
            cols.append(_col(i, h, text=m.group(1), sub=m.group(2).strip()))
        else:
            cols.append(_col(i, h, text=hs or None))
        fields.append(None)
    return cols, fields


def _ms_forms(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    cols, fields = [], []
    for i, h in enumerate(headers):
        hs = h.strip()
        if hs in MS_FORMS_META or _MS_FORMS_POINTS.match(hs):
            cols.append(_col(i, h, role="meta"))
            fields.append(MS_FORMS_META.get(hs))
        else:
            cols.append(_col(i, h, text=hs or None))
            fields.append(None)
    return cols, fields


def _xml_path(path: str, sep: str) -> str | None:
    parts = path.split(sep)
    if all(_XML_NAME.match(p) for p in parts):
        return "/".join(parts)
    return None


def _xform(headers: list[str], sep: str, meta_map: dict[str, str | None]) -> tuple[list[RawColumn], list[str | None]]:
    """KoboToolbox (sep '/') and ODK Central (sep '-'): groups, split select_multiple columns, meta."""
    present = {h.strip() for h in headers}
    cols, fields = [], []
    geo_done: set[str] = set()
    for i, h in enumerate(headers):
        hs = h.strip()
        if hs in meta_map or hs.startswith(("_", "meta" + sep, "formhub" + sep, "meta/")):
            fieldname = meta_map.get(hs)
            if fieldname is None and hs.startswith("_"):
                for coord in ("latitude", "longitude"):
                    if hs.endswith("_" + coord) and coord not in geo_done:
                        fieldname = coord
                        geo_done.add(coord)
            cols.append(_col(i, h, role="meta"))
            fields.append(fieldname)
            continue
        parent = None
        for pos in range(len(hs) - 1, 0, -1):  # longest prefix that is itself a column
            if hs[pos] == "/" and hs[:pos] in present:
                parent = hs[:pos]
                break
        if parent is not None:
            key = _xml_path(parent, sep)
            cols.append(_col(i, h, text=None if key else parent, key=key, sub=hs[len(parent) + 1:], role="split"))
        else:
            key = _xml_path(hs, sep)
            cols.append(_col(i, h, text=None if key else (hs or None), key=key))
        fields.append(None)
    return cols, fields


def _kobo(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    return _xform(headers, "/", KOBO_META)


def _odk(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    return _xform(headers, "-", ODK_META)


def _limesurvey(headers: list[str], rows) -> tuple[list[RawColumn], list[str | None]]:
    cols, fields = [], []
    codes = {m.group(1) for h in headers if (m := _LIME_CODE.match(h.strip()))}
    for i, h in enumerate(headers):
        hs = h.strip()
        timing = _LIME_TIMING.match(hs) and (hs.startswith("groupTime") or hs[:-4] in codes)
        if hs in LIMESURVEY_META or timing:
            cols.append(_col(i, h, role="meta"))
            fields.append(LIMESURVEY_META.get(hs))
            continue
        m = _LIME_CODE.match(hs)
        if m:
            sub = m.group(2)
            if m.group(3):
                sub = f"{sub}_{m.group(3)}"
            cols.append(_col(i, h, key=m.group(1), sub=sub))
        else:
            b = _BRACKET_SUB.match(hs)
            if b:
                cols.append(_col(i, h, text=b.group(1), sub=b.group(2).strip()))
            else:
                cols.append(_col(i, h, text=hs or None))
        fields.append(None)
    return cols, fields
