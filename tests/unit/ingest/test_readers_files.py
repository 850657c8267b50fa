"""Readers: encodings, delimiters, ragged rows, XLSX, and every kind of bad input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.readers import parse_timestamps, read_export, split_multi


def write(tmp_path: Path, data: str | bytes, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def xlsx(tmp_path: Path, sheets: dict[str, list[list[object]]], name: str = "export.xlsx") -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


# ------------------------------------------------------------------------ encodings, delimiters

def test_utf8_bom(tmp_path):
    raw = read_export(write(tmp_path, "\ufeffName,Barrio\nJosé,Peñasco\n"))
    assert raw.encoding == "utf-8-sig"
    assert list(raw.frame.columns) == ["Name", "Barrio"]
    assert raw.frame.iloc[0].tolist() == ["José", "Peñasco"]


def test_cp1252_fallback_is_recorded(tmp_path):
    raw = read_export(write(tmp_path, "Name;Barrio;Note\nJosé;Peñasco;“quoted”\n", encoding="cp1252"))
    assert raw.encoding == "cp1252" and raw.delimiter == ";"
    assert raw.frame.iloc[0].tolist() == ["José", "Peñasco", "“quoted”"]
    assert any("cp1252" in n for n in raw.notes)


def test_utf16_with_bom(tmp_path):
    raw = read_export(write(tmp_path, "\ufeffa\tb\nJosé\t2\n", encoding="utf-16-le"))
    assert raw.encoding == "utf-16" and raw.delimiter == "\t"
    assert raw.frame.iloc[0].tolist() == ["José", "2"]


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiters_sniffed(tmp_path, delim):
    text = delim.join(["id", "q1", "q2"]) + "\n" + delim.join(["1", "a, b; c", "x"]).replace("a, b; c", '"a, b; c"') + "\n"
    raw = read_export(write(tmp_path, text))
    assert raw.delimiter == delim
    assert raw.frame.iloc[0].tolist() == ["1", "a, b; c", "x"]


def test_nothing_is_typed(tmp_path):
    raw = read_export(write(tmp_path, "zip,code,when,flag\n02139,007,2024-03-01,TRUE\n,NA,1e5,null\n"))
    assert raw.frame.iloc[0].tolist() == ["02139", "007", "2024-03-01", "TRUE"]
    assert raw.frame.iloc[1].tolist() == [None, "NA", "1e5", "null"]
    assert all(raw.frame[c].dtype == object for c in raw.frame.columns)


def test_multiline_cell_keeps_record_numbers(tmp_path):
    raw = read_export(write(tmp_path, 'id,comment\n1,"line one\nline two"\n2,ok\n'))
    assert raw.frame["comment"].tolist() == ["line one\nline two", "ok"]
    assert raw.source_rows.tolist() == [2, 3]


# ---------------------------------------------------------------------------- ragged, headers

def test_ragged_rows_rejected_or_trimmed_never_padded(tmp_path):
    # issue 19: a row missing a delimiter is quarantined, not padded (padding shifts later cells
    # into the wrong columns); so is a lone row with extra empty cells (one stray delimiter inside
    # a row whose last cell was empty looks exactly like that)
    text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12,,\n\n13,14,15\n"
    raw = read_export(write(tmp_path, text))
    assert raw.frame["a"].tolist() == ["1", "13"]
    assert raw.source_rows.tolist() == [2, 7]
    assert raw.rejected == [(3, "ragged: 2 cells, header has 3 (a missing delimiter or a cut row)"),
                            (4, "ragged: 4 cells, header has 3"),
                            (5, "ragged: 5 cells, header has 3 (an extra delimiter shifts the cells after it)")]
    assert not any("padded" in n for n in raw.notes)
    assert any("blank line" in n for n in raw.notes)


def test_duplicate_and_empty_headers(tmp_path):
    raw = read_export(write(tmp_path, "Q1,Q1,,Q1.1,Q1\n1,2,3,4,5\n"))
    assert list(raw.frame.columns) == ["Q1", "Q1.2", "column_3", "Q1.1", "Q1.3"]
    assert raw.column("Q1.2").duplicate_of == "Q1" and raw.column("Q1.2").header == "Q1"
    assert raw.column("Q1.1").duplicate_of is None
    assert any("duplicate headers renamed" in n for n in raw.notes)
    assert raw.frame.iloc[0].tolist() == ["1", "2", "3", "4", "5"]


def test_trailing_delimiters_everywhere(tmp_path):
    raw = read_export(write(tmp_path, "a,b,\n1,2,\n3,4,\n"))
    assert list(raw.frame.columns) == ["a", "b"] and len(raw.frame) == 2 and raw.rejected == []
    # a writer that ends most data lines with extra delimiters (header without): rows kept
    raw = read_export(write(tmp_path, "a,b\n1,2,\n3,4,\n5,6\n"))
    assert raw.frame["a"].tolist() == ["1", "3", "5"] and raw.rejected == []


def test_header_only_gives_zero_rows(tmp_path):
    raw = read_export(write(tmp_path, "StartDate,EndDate,Status,ResponseId,Q1\n"))
    assert raw.platform == "qualtrics" and len(raw.frame) == 0
    assert list(raw.frame.columns) == ["StartDate", "EndDate", "Status", "ResponseId", "Q1"]
    assert raw.source_rows.tolist() == []


# ------------------------------------------------------------------------------ bad inputs

@pytest.mark.parametrize(
    ("data", "name", "rule", "words"),
    [
        (b"", "export.csv", "file-empty", "empty"),
        (b"\n\n  \n", "export.csv", "file-empty", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "export.csv", "file-type", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "export.xlsx", "file-type", "password"),
        (b"", "export.xlsx", "file-empty", "0 bytes"),
        (b"PK\x03\x04" + b"\x00" * 40, "export.xlsx", "xlsx-corrupt", "damaged"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "export.csv.gz", "file-unreadable", "gzip"),
        (b"\x00\x01\x02\x00\x00\x00\x00\x00" * 100, "export.csv", "encoding", "binary"),
    ],
)
def test_bad_files_raise_ingest_error(tmp_path, data, name, rule, words):
    path = write(tmp_path, data, name)
    with pytest.raises(IngestError) as info:
        read_export(path)
    err = info.value
    assert err.rule == rule and err.file == str(path) and err.fix
    assert words.lower() in (str(err) + err.fix).lower()


def test_gzip_compressed_csv_reads_like_the_plain_file(tmp_path):
    import gzip

    text = "ResponseId,Q1,Q2\nR_1,Yes,3\nR_2,,4\n"
    plain = read_export(write(tmp_path, text.encode(), "plain.csv"))
    packed = read_export(write(tmp_path, gzip.compress(text.encode()), "packed.csv.gz"))
    assert packed.frame.equals(plain.frame)
    assert packed.source_rows.tolist() == plain.source_rows.tolist()
    assert any("gzip" in n for n in packed.notes)


def test_zip_renamed_csv(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("responses.csv", "a,b\n1,2\n")
    path = write(tmp_path, buf.getvalue())
    with pytest.raises(IngestError, match="ZIP archive") as info:
        read_export(path)
    assert "Unzip" in info.value.fix


def test_truncated_xlsx(tmp_path):
    good = xlsx(tmp_path, {"Sheet1": [["a", "b"], [1, 2]]})
    path = write(tmp_path, good.read_bytes()[: len(good.read_bytes()) // 2], "half.xlsx")
    with pytest.raises(IngestError) as info:
        read_export(path)
    assert info.value.rule == "xlsx-corrupt"


def test_missing_file_and_unknown_platform(tmp_path):
    with pytest.raises(IngestError, match="not found"):
        read_export(tmp_path / "nope.csv")
    path = write(tmp_path, "a\n1\n")
    with pytest.raises(IngestError, match="unknown platform 'qualtrix'") as info:
        read_export(path, platform="qualtrix")
    assert "qualtrics" in info.value.fix


# ----------------------------------------------------------------------------------- XLSX

def test_xlsx_values_become_text(tmp_path):
    path = xlsx(tmp_path, {"Responses": [
        ["ID", "Start time", "Completion time", "Email", "Name", "Score", "Agree"],
        [1, dt.datetime(2024, 3, 1, 10, 15), 45352.5, "anonymous", None, 3.5, True],
        [2, dt.datetime(2024, 3, 2, 9, 0, 30), 45353.0, "anonymous", "Ana", 4.0, False],
    ]})
    raw = read_export(path)
    assert raw.platform == "ms_forms" and raw.encoding is None and raw.delimiter is None
    assert raw.sheet == "Responses"
    assert raw.frame.iloc[0].tolist() == ["1", "2024-03-01 10:15:00", "45352.5", "anonymous", None, "3.5", "TRUE"]
    assert raw.frame.iloc[1].tolist() == ["2", "2024-03-02 09:00:30", "45353", "anonymous", "Ana", "4", "FALSE"]
    assert raw.source_rows.tolist() == [2, 3]
    when = parse_timestamps(raw.frame["Completion time"])
    assert when.tolist() == [pd.Timestamp("2024-03-01 12:00", tz="UTC"), pd.Timestamp("2024-03-02", tz="UTC")]


def test_xlsx_reads_the_sheet_with_data(tmp_path):
    path = xlsx(tmp_path, {"Cover": [], "Data": [["a", "b"], ["x", None], [None, None], ["y", "z"]]})
    raw = read_export(path)
    assert raw.sheet == "Data"
    # the empty row between responses is read (ingest quarantines it), as its CSV twin ",," is
    assert raw.frame["a"].tolist() == ["x", None, "y"] and raw.source_rows.tolist() == [2, 3, 4]
    assert any("'Cover' is empty" in n for n in raw.notes)


def _with_cached_value(path: Path, cell: str, value: str) -> None:
    """Give one formula cell a cached value, as Excel does when it saves."""
    src = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index(f'<c r="{cell}"')
                end = text.index("</c>", start)
                text = text[:start] + text[start:end].replace("<v></v>", f"<v>{value}</v>").replace("<v />", f"<v>{value}</v>") + text[end:]
                data = text.encode()
            zout.writestr(item, data)
    path.write_bytes(out.getvalue())


def test_xlsx_formulas_cached_or_rejected(tmp_path):
    path = xlsx(tmp_path, {"Sheet1": [["a", "total"], [1, "=1+1"], [2, "=2+2"]]})
    _with_cached_value(path, "B2", "2")
    raw = read_export(path)
    assert raw.frame["total"].tolist() == ["2"]
    assert raw.source_rows.tolist() == [2]
    assert len(raw.rejected) == 1 and raw.rejected[0][0] == 3
    assert "formula without a cached value in cell B3" in raw.rejected[0][1]
    assert any("formulas" in n for n in raw.notes)


def test_xlsx_named_csv_is_read_as_workbook(tmp_path):
    path = xlsx(tmp_path, {"Sheet1": [["a"], ["x"]]}, name="export.csv")
    raw = read_export(path)
    assert raw.frame["a"].tolist() == ["x"] and any("is an Excel workbook" in n for n in raw.notes)


# ------------------------------------------------------------------------ timestamps, multi

def test_parse_timestamps_formats():
    s = pd.Series(["2024-03-01 10:15:00", "2024-03-01T10:15:00.000-05:00", "2024-03-01T15:15:00.000Z",
                   "3/1/2024 10:15:03", "03/01/2024 10:15:00 AM", "3/1/2024 1:15 PM", "45352.4270833",
                   "", None, "junk", "2024-03-01"], index=list("abcdefghijk"))
    out = parse_timestamps(s, tz="America/New_York")
    assert str(out.dt.tz) == "America/New_York" and list(out.index) == list("abcdefghijk")
    at = pd.Timestamp("2024-03-01 10:15", tz="America/New_York")
    assert out["a"] == at and out["b"] == at and out["c"] == at and out["e"] == at
    assert out["d"] == at + pd.Timedelta(seconds=3)
    assert out["f"] == pd.Timestamp("2024-03-01 13:15", tz="America/New_York")
    assert out["g"] == at
    assert out[["h", "i", "j"]].isna().all()
    assert out["k"] == pd.Timestamp("2024-03-01", tz="America/New_York")


def test_parse_timestamps_day_first():
    auto = parse_timestamps(pd.Series(["14/8/2024 16:30", "1/8/2024 16:30"]))
    assert auto.tolist() == [pd.Timestamp("2024-08-14 16:30", tz="UTC"), pd.Timestamp("2024-08-01 16:30", tz="UTC")]
    us = parse_timestamps(pd.Series(["8/30/2024 15:33", "1/8/2024 16:30"]))
    assert us[1] == pd.Timestamp("2024-01-08 16:30", tz="UTC")
    forced = parse_timestamps(pd.Series(["1/8/2024"]), dayfirst=True)
    assert forced[0] == pd.Timestamp("2024-08-01", tz="UTC")


def test_split_multi_with_commas_in_labels():
    options = ["Noise, music", "Speeding", "Litter"]
    assert split_multi("Noise, music, Speeding", options) == ["Noise, music", "Speeding"]
    assert split_multi("Speeding, dogs barking, Litter", options) == ["Speeding", "dogs barking", "Litter"]
    assert split_multi("Noise;Speeding;", ["Noise", "Speeding"], ";") == ["Noise", "Speeding"]
    assert split_multi("Noise, music; Litter", options, "; ") == ["Noise, music", "Litter"]
    assert split_multi(None, options) == [] and split_multi("", options) == []


def test_truncated_in_the_middle_of_a_character(tmp_path):
    data = "a,b\nJosé,Peñ".encode()[:-1]  # the file ends inside 'ñ'
    raw = read_export(write(tmp_path, data))
    assert raw.encoding == "utf-8" and raw.frame.iloc[0].tolist() == ["José", "Pe"]
    assert any("incomplete character" in n for n in raw.notes)


def test_split_multi_separator_variants():
    assert split_multi("Noise,Speeding", ["Noise", "Speeding"], ", ") == ["Noise", "Speeding"]
    assert split_multi("noise speeding", ["noise", "speeding"], " ") == ["noise", "speeding"]
    assert split_multi("Noise, other thing", ["Noise"]) == ["Noise", "other thing"]


@pytest.mark.parametrize("big", [False, True])
def test_large_files_stream_from_disk(tmp_path, monkeypatch, big):
    """The same reading when each pass streams a large file from disk (threshold lowered here)."""
    from survey_pipeline.ingest.readers import _source

    if big:
        monkeypatch.setattr(_source, "BIG_FILE", 16)
    text = "\ufeffid;q1;q2\n1;é;x\n\n2;\"a\nb\";y;z\n3;c;\n4;d;;;\n"
    raw = read_export(write(tmp_path, text))
    assert raw.frame["id"].tolist() == ["1", "3", "4"] and raw.frame["q1"].tolist() == ["é", "c", "d"]
    assert raw.rejected == [(4, "ragged: 4 cells, header has 3")]
    assert raw.source_rows.tolist() == [2, 5, 6] and raw.encoding == "utf-8-sig"


def test_invalid_byte_near_the_end_is_another_encoding_not_a_truncated_file(tmp_path):
    # found by hypothesis: 'é' in cp1252 on the last line was taken for a cut UTF-8 character,
    # and the whole last row was dropped
    raw = read_export(write(tmp_path, b"StartDate,EndDate,Status,ResponseId,Q1\n\xe9,,,,\n", "export.csv"))
    assert raw.encoding in ("cp1252", "latin-1")
    assert len(raw.frame) == 1 and raw.frame.iloc[0, 0] == "é"
