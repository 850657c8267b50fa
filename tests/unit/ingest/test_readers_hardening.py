"""Readers on hostile and damaged files (issue 19): encodings, structure, resource limits."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.readers import read_export

HEAD = "ResponseId,Status,Q1,Q2,Q3,Q4,Comment"
ROWS = [f"R_{i:03d},IP Address,Agree,Disagree,{i},x,Más policía en el parque" for i in range(40)]
TEXT = "\n".join([HEAD, *ROWS]) + "\n"


def write(tmp_path: Path, data: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-16", "utf-32"])
def test_utf16_and_utf32_with_or_without_bom_are_read(tmp_path, enc):
    raw = read_export(write(tmp_path, TEXT.encode(enc)), platform="generic")
    assert len(raw.frame) == 40 and raw.frame["Comment"].iloc[5] == "Más policía en el parque"
    assert raw.frame["ResponseId"].iloc[-1] == "R_039"


def test_one_invalid_byte_is_one_cell_not_a_cp1252_file(tmp_path):
    data = TEXT.encode("utf-8").replace(b"R_007,IP Address,Agree", b"R_007,IP Address,Agr\xffee", 1)
    raw = read_export(write(tmp_path, data), platform="generic")
    assert raw.encoding == "utf-8"
    assert raw.frame["Comment"].tolist() == ["Más policía en el parque"] * 40  # not 'MÃ¡s'
    assert raw.frame["Q1"].iloc[7] == "Agr\ufffdee"
    note = next(n for n in raw.notes if "invalid UTF-8" in n)
    assert "row(s) 9" in note  # the 8th response is row 9 of the file


def test_a_cp1252_file_is_still_read_as_cp1252(tmp_path):
    raw = read_export(write(tmp_path, TEXT.encode("cp1252")), platform="generic")
    assert raw.encoding == "cp1252" and raw.frame["Comment"].iloc[0] == "Más policía en el parque"


def test_nul_bytes_quarantine_their_row(tmp_path):
    data = TEXT.encode().replace(b"R_010,IP", b"R_010\x00,IP", 1)
    raw = read_export(write(tmp_path, data), platform="generic")
    assert raw.rejected == [(12, "NUL byte(s) in the row: the file is damaged")]
    assert len(raw.frame) == 39


def test_short_rows_are_quarantined_and_a_mostly_ragged_file_refused(tmp_path):
    rows = list(ROWS)
    rows[3] = rows[3].replace("Agree,", "Agree", 1)  # one missing delimiter: every later cell would shift
    raw = read_export(write(tmp_path, ("\n".join([HEAD, *rows]) + "\n").encode()), platform="generic")
    assert raw.rejected == [(5, "ragged: 6 cells, header has 7 (a missing delimiter or a cut row)")]
    assert "R_003" not in raw.frame["ResponseId"].tolist()
    switched = [HEAD, *ROWS[:20], *(r.replace(",", "\t") for r in ROWS[20:])]  # the delimiter changes
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, ("\n".join(switched) + "\n").encode(), "switched.csv"), platform="generic")
    assert err.value.rule == "ragged-file" and "rows 22, 23" in str(err.value)


def test_a_stray_quote_that_swallows_rows_is_refused(tmp_path):
    rows = list(ROWS)
    rows[4] = rows[4].replace(",x,", ',"x,', 1)  # a quote opened and never closed
    rows[30] = rows[30].replace(",x,", ',"x",', 1)
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, ("\n".join([HEAD, *rows]) + "\n").encode()), platform="generic")
    assert err.value.rule == "csv-quote" and "line 6" in str(err.value) and err.value.fix


def test_cells_spanning_lines_are_fine(tmp_path):
    rows = list(ROWS)
    rows[4] = rows[4].replace("Más policía en el parque", '"line one\nline two, and three\nend"')
    raw = read_export(write(tmp_path, ("\n".join([HEAD, *rows]) + "\n").encode()), platform="generic")
    assert len(raw.frame) == 40 and raw.frame["Comment"].iloc[4] == "line one\nline two, and three\nend"


def test_platform_that_would_store_header_rows_is_refused(tmp_path):
    text = "StartDate,EndDate,Status,ResponseId,Q1\nStart Date,End Date,Response Type,Response ID,Q1 text\n" \
           "2024-01-01 10:00:00,2024-01-01 10:05:00,IP Address,R_1,Yes\n"
    path = write(tmp_path, text.encode())
    assert read_export(path).header_rows == 2
    with pytest.raises(IngestError) as err:
        read_export(path, platform="kobo")
    assert err.value.rule == "platform-mismatch" and "--platform qualtrics" in err.value.fix


def test_gzip_bomb_stops_at_the_limit_and_leaves_no_temp_file(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv("SURVEY_PIPELINE_MAX_DECOMPRESSED_MB", "2")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    path = write(tmp_path, gzip.compress(b"a,b\n" + b"1,2\n" * (1 << 20), mtime=0), "export.csv.gz")
    with pytest.raises(IngestError) as err:
        read_export(path)
    assert err.value.rule == "resource-limit" and "SURVEY_PIPELINE_MAX_DECOMPRESSED_MB" in str(err.value)
    assert list(tmp.iterdir()) == []


def test_too_many_columns_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_PIPELINE_MAX_COLUMNS", "50")
    path = write(tmp_path, (HEAD + "\n" + ",".join(["x"] * 200) + "\n").encode())
    with pytest.raises(IngestError) as err:
        read_export(path)
    assert err.value.rule == "resource-limit" and "SURVEY_PIPELINE_MAX_COLUMNS" in err.value.fix


def test_bad_limit_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_PIPELINE_MAX_COLUMNS", "lots")
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, TEXT.encode()))
    assert err.value.rule == "limit-setting"


def _package(sheet: bytes) -> bytes:
    ns = "http://schemas.openxmlformats.org/"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", f'<Types xmlns="{ns}package/2006/content-types">'
                    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    "</Types>")
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
                    f'Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships">'
                    '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
                    f'Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def test_xlsx_cell_bomb_is_refused_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_PIPELINE_MAX_CELLS", "100000")
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>" * 1 + (b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>") * 5000
             + b"</sheetData></worksheet>")
    path = write(tmp_path, _package(sheet), "export.xlsx")
    assert path.stat().st_size < 50_000
    with pytest.raises(IngestError) as err:
        read_export(path)
    assert err.value.rule == "resource-limit" and "SURVEY_PIPELINE_MAX_CELLS" in str(err.value)


def test_xlsx_declared_huge_dimension_is_not_materialised(tmp_path):
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/>'
             b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>q</t></is></c></row>'
             b'<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="B2" t="inlineStr"><is><t>yes</t></is></c></row>'
             b"</sheetData></worksheet>")
    raw = read_export(write(tmp_path, _package(sheet), "export.xlsx"))
    assert raw.frame.shape == (1, 2)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_xlsx_is_one_clear_error(tmp_path, damage):
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + b"".join(b'<row><c t="inlineStr"><is><t>cell %d</t></is></c></row>' % i for i in range(2000))
             + b"</sheetData></worksheet>")
    data = bytearray(_package(sheet))
    at = data.find(b"xl/worksheets/sheet1.xml") + 100
    if damage == "truncate":
        data = data[:at]
    else:
        data[at:at + 40] = bytes(40)
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, bytes(data), "export.xlsx"))
    assert err.value.rule == "xlsx-corrupt" and err.value.fix


def test_xlsx_far_cell_below_the_data_is_refused_not_padded(tmp_path):
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>'
             b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, _package(sheet), "export.xlsx"))
    assert err.value.rule == "resource-limit" and "1,048,576 rows x 16,384 columns" in str(err.value)


def test_xlsx_compression_bomb_is_refused_before_parsing(tmp_path):
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + b"<row><c><v>1</v></c></row>" * 600_000 + b"</sheetData></worksheet>")
    path = write(tmp_path, _package(sheet), "export.xlsx")
    with pytest.raises(IngestError) as err:
        read_export(path)
    assert err.value.rule == "resource-limit" and "SURVEY_PIPELINE_MAX_XLSX_RATIO" in str(err.value)


def test_gzip_bomb_is_refused_by_its_ratio_long_before_the_absolute_cap(tmp_path, monkeypatch):
    import tempfile

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    seen: list[int] = []
    real_unlink = Path.unlink

    def unlink(self, missing_ok=False):  # the temporary file's size when it is removed
        if self.parent == tmp and self.exists():
            seen.append(self.stat().st_size)
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    bomb = gzip.compress(b"a,b\n", mtime=0) + gzip.compress(b"\x00" * (1 << 20), mtime=0) * 100  # 100 MB from ~100 KB
    path = write(tmp_path, bomb, "export.csv.gz")
    with pytest.raises(IngestError) as err:
        read_export(path)
    assert err.value.rule == "resource-limit" and "SURVEY_PIPELINE_MAX_GZIP_RATIO" in err.value.fix
    assert "times its size" in str(err.value)
    assert seen and max(seen) <= (64 << 20) + (1 << 20)  # stopped just past 64 MB, not at 2,000 MB
    assert list(tmp.iterdir()) == []


def test_a_real_export_compressed_is_under_the_ratio(tmp_path):
    path = write(tmp_path, gzip.compress(TEXT.encode(), mtime=0), "export.csv.gz")
    assert len(read_export(path).frame) == 40


@pytest.mark.parametrize("irregular", [False, True], ids=["fast-scanner", "csv-module"])
def test_a_csv_cell_over_the_limit_is_refused_naming_row_and_column(tmp_path, monkeypatch, irregular):
    monkeypatch.setenv("SURVEY_PIPELINE_MAX_CELL_CHARS", "1000")
    rows = list(ROWS)
    rows[2] = rows[2].rsplit(",", 1)[0] + ',"' + "long comment, " * 400 + '"'
    if irregular:  # a quote inside an unquoted cell: the byte scanner gives up, the csv module reads it
        rows[5] = rows[5].replace(",x,", ',x"y,')
    path = write(tmp_path, ("\n".join([HEAD, *rows]) + "\n").encode())
    with pytest.raises(IngestError) as err:
        read_export(path)
    msg = str(err.value)
    assert err.value.rule == "resource-limit" and "SURVEY_PIPELINE_MAX_CELL_CHARS" in err.value.fix
    assert "row 4" in msg and "column 7 ('Comment')" in msg and "5,600 characters" in msg
    monkeypatch.setenv("SURVEY_PIPELINE_MAX_CELL_CHARS", "10000")
    frame = read_export(path).frame
    assert len(frame) == 40 and frame["Comment"].str.len().max() == 5600


def test_two_rows_merged_by_a_stray_quote_are_refused_not_read_as_one(tmp_path):
    """The fuzz corpus found it: a quote opened mid-cell and closed in the next line merges two
    responses into one ragged record; quarantined as one row, the other response was lost."""
    rows = list(ROWS)
    rows[4] = rows[4].replace(",Disagree,", ',"Disagree,', 1)
    rows[5] = rows[5].replace(",x,", ',x",', 1)
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, ("\n".join([HEAD, *rows]) + "\n").encode()), platform="generic")
    assert err.value.rule == "csv-quote" and "lines 6-7 are read as one row" in str(err.value)
    assert "1 following line that looks like a whole row" in str(err.value)


def test_a_wide_export_with_two_rows_merged_into_the_header_s_cell_count_is_refused(tmp_path):
    head = ",".join(["ResponseId", *(f"Q{i}" for i in range(1, 30)), "Comment"])
    body = [",".join([f"R_{r:03d}", *("3" for _ in range(29)), "ok"]) for r in range(30)]
    body[10] = body[10].replace(",3,3,", ',"3,3,', 1)  # opened at cell 2 ...
    body[11] = body[11].replace(",3,3,", ',3",3,', 1)  # ... closed at cell 2 of the next line: 31 cells
    with pytest.raises(IngestError) as err:
        read_export(write(tmp_path, ("\n".join([head, *body]) + "\n").encode()), platform="generic")
    assert err.value.rule == "csv-quote" and "lines 12-13" in str(err.value)


def test_a_ragged_row_with_a_comment_in_paragraphs_is_still_quarantined(tmp_path):
    rows = list(ROWS)
    rows[3] = rows[3].replace("Agree,", "Agree", 1).replace("Más policía en el parque",
                                                              '"Más policía\nen el parque, por favor"')
    raw = read_export(write(tmp_path, ("\n".join([HEAD, *rows]) + "\n").encode()), platform="generic")
    assert len(raw.frame) == 39 and [r for r, _ in raw.rejected] == [5]


def test_a_wide_export_with_a_long_comment_in_paragraphs_loads(tmp_path):
    head = ",".join(["ResponseId", "Comment", *(f"Q{i}" for i in range(1, 30))])
    body = [",".join([f"R_{r:03d}", "ok", *("3" for _ in range(29))]) for r in range(30)]
    body[7] = body[7].replace(",ok,", ',"First, second, third;\nfourth, fifth.",', 1)
    raw = read_export(write(tmp_path, ("\n".join([head, *body]) + "\n").encode()), platform="generic")
    assert len(raw.frame) == 30 and raw.frame["Comment"].iloc[7] == "First, second, third;\nfourth, fifth."


def test_a_wide_export_with_a_cell_of_many_lines_and_delimiters_loads(tmp_path):
    """A well-quoted cell of 2,000 lines, each with a delimiter, is one cell, not merged rows (the
    delimiters inside the cell do not count towards a row's)."""
    head = ",".join(["ResponseId", "Comment", *(f"Q{i}" for i in range(1, 30))])
    body = [",".join([f"R_{r:03d}", "ok", *("3" for _ in range(29))]) for r in range(30)]
    cell = "line\n," * 2000
    body[7] = body[7].replace(",ok,", ',"' + cell + '",', 1)
    raw = read_export(write(tmp_path, ("\n".join([head, *body]) + "\n").encode()), platform="generic")
    assert len(raw.frame) == 30 and raw.frame["Comment"].iloc[7] == cell
