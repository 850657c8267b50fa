"""Property: mangled CSV bytes never raise anything but IngestError and never lose a row."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.readers import _source, read_export

CELL = st.text(alphabet=st.sampled_from([*'ab éñ1,;\t|"\n\r', "“", "€", "\x00", "漢"]), max_size=8)
HEADERS = st.sampled_from([
    ["StartDate", "EndDate", "Status", "ResponseId", "Q1"],
    ["Respondent ID", "Collector ID", "Start Date", "Q1"],
    ["Timestamp", "Q1", "Q2 [Row]"],
    ["_uuid", "_submission_time", "q/a", "q"],
    ["id", "submitdate", "lastpage", "startlanguage"],
    ["a", "b", "a"],
])


def _count_rows(data: bytes, encoding: str, delimiter: str, header_rows: int) -> int:
    """Data rows of the file by the csv module alone.

    The header rows are the first ``header_rows`` records with a non-empty cell; every non-blank
    record after them is a data row, up to the last record with a non-empty cell (records of only
    empty cells after it are not responses).
    """
    text = data.decode(encoding, errors="ignore")  # the reader drops a cut last character too
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    seen = 0
    for i, rec in enumerate(records):
        if any(rec):
            seen += 1
            if seen == header_rows:
                data = records[i + 1:]
                last = max((j for j, r in enumerate(data) if any(r)), default=-1)
                return sum(1 for r in data[: last + 1] if r)
    return 0


@st.composite
def mangled_csv(draw) -> bytes:
    header = draw(HEADERS)
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    n = draw(st.integers(0, 6))
    rows = [header] + [draw(st.lists(CELL, min_size=0, max_size=len(header) + 2)) for _ in range(n)]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delim, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerows(rows)
    text = buf.getvalue()
    for _ in range(draw(st.integers(0, 3))):  # stray quotes, delimiters, line breaks
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.sampled_from(['"', delim, "\n", '""', "\r"])) + text[pos:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_csv(), st.booleans())
def test_mangled_csv_never_loses_a_row(data, from_disk):
    default = _source.BIG_FILE
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        try:
            _source.BIG_FILE = 16 if from_disk else default  # each pass streams from disk when big
            raw = read_export(path)
        except IngestError as err:
            event(f"IngestError {err.rule}")
            assert err.fix and err.file == str(path)
            return
        finally:
            _source.BIG_FILE = default
        event("read with csv module fallback" if any("csv module" in n for n in raw.notes) else "read")
        event(f"rejected rows: {bool(raw.rejected)}")
        expected = _count_rows(data, raw.encoding, raw.delimiter, raw.header_rows)
        assert len(raw.frame) + len(raw.rejected) == expected
        rows = raw.source_rows.tolist() + [r for r, _ in raw.rejected]
        assert len(set(rows)) == len(rows) and raw.source_rows.tolist() == sorted(raw.source_rows.tolist())
        assert list(raw.frame.columns) == [c.name for c in raw.columns]
        assert len(set(raw.frame.columns)) == raw.frame.shape[1]
        for col in raw.frame.columns:
            assert all(v is None or (isinstance(v, str) and v != "") for v in raw.frame[col])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_csv(), st.sampled_from([",", ";", "\t", "|"]), st.sampled_from([1 << 24, 2, 5]))
def test_vectorised_cell_counts_equal_the_csv_module(data, delim, block):
    """_fast_lens counts what the csv module counts, or declines (None) and lets it count."""
    default = _source._BLOCK
    try:
        _source._BLOCK = block  # records and quoted fields across block edges
        for encoding in ("utf-8", "utf-8-sig", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            try:
                expected = _source._lens(io.StringIO(text, newline=""), delim).tolist()
            except csv.Error:
                continue
            got = _source._fast_lens(data, delim, encoding)
            event("vectorised" if got is not None else "declined")
            if got is not None:
                assert got.tolist() == expected
    finally:
        _source._BLOCK = default


def test_vectorised_cell_counts_on_regular_quoting():
    data = b'a,"b, ""c""\r\nd",e\r\n\r\n"",x,\n"\n"\rlast'
    assert _source._fast_lens(data, ",", "utf-8").tolist() == [3, 0, 3, 1, 1]
    assert _source._fast_lens(b'a,b"c\n', ",", "utf-8") is None  # a quote inside an unquoted field
    assert _source._fast_lens(b'"a"b,c\n', ",", "utf-8") is None  # text after a closing quote


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_csv())
def test_two_halves_in_parallel_read_what_one_piece_reads(data):
    """Parsing the file as two halves (split at a record boundary, in two threads) changes nothing."""
    default = _source.SPLIT_RECORDS
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        got = []
        for split in (default, 2):
            _source.SPLIT_RECORDS = split
            try:
                raw = read_export(path)
            except IngestError as err:
                got.append(("error", err.rule))
                continue
            finally:
                _source.SPLIT_RECORDS = default
            got.append((raw.frame.to_dict("split"), raw.source_rows.tolist(), raw.rejected,
                        [n for n in raw.notes if "csv module" not in n]))
        assert got[0] == got[1]


def test_two_halves_on_quoted_multiline_cells(monkeypatch, tmp_path):
    rows = ['ResponseId,Q1,Q2'] + [f'R{i},"a\r\nb, ""{i}""",{i}' for i in range(9)]
    path = tmp_path / "export.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    monkeypatch.setattr(_source, "SPLIT_RECORDS", 2)
    raw = read_export(path, platform="generic")
    assert raw.frame["Q1"].tolist() == [f'a\r\nb, "{i}"' for i in range(9)]
    assert raw.frame["ResponseId"].tolist() == [f"R{i}" for i in range(9)]
    assert raw.source_rows.tolist() == list(range(2, 11))


def test_numeric_looking_text_is_kept_as_written(monkeypatch, tmp_path):
    """ZIP codes, zero-padded ids and '1.0' stay the text of the file, whole or in two halves
    (pandas >= 3.1 turns the parser's numeric-looking categories into numbers: '02134' -> 2134)."""
    rows = ["ResponseId,zip,code,flag"] + [f"R{i},0213{i % 4},{'01' if i % 2 else '1.0'},TRUE" for i in range(40)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n")
    for split in (_source.SPLIT_RECORDS, 2):
        monkeypatch.setattr(_source, "SPLIT_RECORDS", split)
        frame = read_export(path).frame
        assert frame["zip"].tolist()[:5] == ["02130", "02131", "02132", "02133", "02130"]
        assert frame["code"].tolist()[:2] == ["1.0", "01"] and frame["flag"].tolist()[0] == "TRUE"
        assert all(isinstance(v, str) for col in frame for v in frame[col])


def test_equal_cells_share_one_str_and_empty_cells_are_none(monkeypatch, tmp_path):
    """Equal cells of a column are one ``str`` object (memory; recode factorizes by identity);
    empty cells are None, whole or in two halves."""
    rows = ["ResponseId,Q1,Q2,Q3"] + [f"R{i},{'Agree' if i % 3 else ''},{i % 2}" + (",x" if i % 5 else ",") for i in range(30)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n")
    for split in (_source.SPLIT_RECORDS, 2):
        monkeypatch.setattr(_source, "SPLIT_RECORDS", split)
        frame = read_export(path, platform="generic").frame
        q1 = frame["Q1"].tolist()
        assert q1[:4] == [None, "Agree", "Agree", None]
        assert len({id(v) for v in q1[:10] if v is not None}) == 1  # one half
        assert frame["Q3"].tolist()[:6] == [None, "x", "x", "x", "x", None]
        assert all(v is None or isinstance(v, str) for col in frame for v in frame[col])
