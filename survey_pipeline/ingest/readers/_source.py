"""From a file's bytes to a table of text records: file-type sniffing, encodings, delimiters, XLSX.

Nothing here knows about survey platforms. The result is a :class:`Table`: the first few records
(for platform detection), the number of cells of every record, and a loader that returns all
records as a DataFrame of ``str``/``None`` cut to a given width.

CSV is read twice: once to count the cells of each record (and, for the few records longer than
the header, where the last non-empty one is), and once with pandas' C parser, which builds the
columns. The counts decide which rows are ragged; the row count of the two parsers is compared,
and when they disagree (malformed quoting) the records of the ``csv`` module are used instead, so
no row is ever lost.

Counting is vectorised over the bytes (:func:`_fast_lens`: quote parity, unquoted delimiters and
line ends) when the file's quoting is regular — every quote opens a field, closes it or doubles
inside it, as the standard library's ``csv`` module reads it. Anything else (a quote inside an
unquoted field, text after a closing quote, NUL bytes, UTF-16) is counted record by record with
the ``csv`` module, which defines what a record is.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gzip
import io
import os
import re
import tempfile
import threading
import weakref
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from survey_pipeline.errors import IngestError

HEAD_RECORDS = 8
_SNIFF_BYTES = 1 << 16
#: CSV files at least this large are read from disk by each pass instead of being held in memory
BIG_FILE = 1 << 22
DELIMITERS = (",", ";", "\t", "|")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 compound file (a legacy .xls workbook or a password-protected .xlsx)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3", "an SQLite database"),
    (b"{\\rtf", "an RTF document"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)


def limit(name: str, default: int) -> int:
    """A resource limit: ``SURVEY_PIPELINE_<NAME>`` from the environment, else ``default``."""
    var = f"SURVEY_PIPELINE_{name}"
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise IngestError(f"{var}={raw!r} is not a positive whole number.", rule="limit-setting",
                          fix=f"Set {var} to a positive integer, or unset it (default {default}).")
    return value


LIMITS = {
    "MAX_DECOMPRESSED_MB": 2000,  # a .csv.gz decompressed
    "MAX_XLSX_MB": 1024,  # the parts of a workbook, uncompressed (as the archive declares them)
    "MAX_CELLS": 10_000_000,  # cells of a workbook's sheets (rows x the width of each row)
    "MAX_COLUMNS": 20_000,  # cells of one row (CSV line or sheet row)
    "MAX_CELL_CHARS": 1_000_000,  # characters of one cell (workbook or CSV)
    "MAX_LINES": 10_000_000,  # lines of a CSV file
    "MAX_XLSX_RATIO": 100,  # uncompressed / compressed size of a workbook part over 10 MB (a zip bomb)
    "MAX_GZIP_RATIO": 100,  # decompressed / compressed size of a .csv.gz past 64 MB (a gzip bomb)
}
"""Resource limits and their defaults; each can be raised with ``SURVEY_PIPELINE_<NAME>``."""


def _limit_error(path: Path, what: str, name: str, value: int, unit: str = "") -> IngestError:
    var = f"SURVEY_PIPELINE_{name}"
    return IngestError(
        f"{path}: {what}, more than the limit of {value:,}{unit} ({var}). The limit keeps a damaged or "
        "hostile file from exhausting the machine's memory.",
        file=path, rule="resource-limit",
        fix=f"If the file is a genuine export, raise the limit (e.g. {var}={value * 4}) and ingest again; "
            "otherwise export the responses again from the survey platform.")


@dataclass
class Table:
    """Records of a file before any platform logic."""

    head: list[list[str | None]]
    head_rows: list[int]
    lens: np.ndarray
    rows: np.ndarray
    load: Callable[[int], pd.DataFrame]
    filled: Callable[[np.ndarray], np.ndarray]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    bad_cells: dict[int, str] = field(default_factory=dict)


def _err(file: Path, message: str, fix: str, rule: str) -> IngestError:
    return IngestError(f"{file}: {message}", file=file, rule=rule, fix=fix)


def read_table(path: Path) -> Table:
    """Read ``path`` (CSV or XLSX, decided from its bytes) into a :class:`Table`."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            start = fh.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise _err(path, "file not found.", "Check the path and the file name.", "file-missing") from None
    except IsADirectoryError:
        raise _err(path, "is a folder, not an export file.", "Give the path of the CSV or XLSX file inside it.", "file-type") from None
    except OSError as exc:
        raise _err(path, f"cannot be read ({exc.strerror}).", "Check the file's permissions.", "file-unreadable") from None
    suffix = path.suffix.lower()
    if size == 0 or (size <= len(start) and not start.strip(b" \t\r\n\x00\xef\xbb\xbf")):
        what = "an empty workbook file (0 bytes)" if suffix in {".xlsx", ".xlsm"} else "empty"
        raise _err(path, f"the file is {what}: there is no header row and no response.",
                   "Export the responses again from the survey platform; the download may have failed.", "file-empty")
    if start[:2] == b"\x1f\x8b":
        return _read_gzip(path)
    if start[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _read_xlsx(path, path.read_bytes(), suffix)
    for magic, what in _MAGIC:
        if start.startswith(magic):
            fix = ("Remove the password in Excel (File > Info > Protect Workbook) or save the sheet as .xlsx or CSV."
                   if magic.startswith(b"\xd0\xcf") else
                   "Export the responses as CSV or XLSX from the survey platform.")
            raise _err(path, f"this is {what}, not a CSV or XLSX export.", fix, "file-type")
    table = _read_csv(path)
    if suffix in {".xlsx", ".xlsm"}:
        table.notes.insert(0, f"file named {path.suffix} is text, not a workbook; read as CSV")
    return table


_GZIP_RATIO_FROM = 64 << 20


def _read_gzip(path: Path, nested: bool = False) -> Table:
    """A gzip-compressed export (``.csv.gz``): decompress to a temporary file and read that.

    Decompression stops at ``SURVEY_PIPELINE_MAX_DECOMPRESSED_MB``, or once past 64 MB it exceeds
    ``SURVEY_PIPELINE_MAX_GZIP_RATIO`` times the archive's size. The temporary file lives as
    long as the returned table (its loaders read it lazily) and is deleted on any failure.
    """
    if nested:
        raise _err(path, "holds a gzip archive inside a gzip archive.",
                   "Decompress the file yourself and ingest the CSV inside.", "file-type")
    cap = limit("MAX_DECOMPRESSED_MB", LIMITS["MAX_DECOMPRESSED_MB"])
    ratio = limit("MAX_GZIP_RATIO", LIMITS["MAX_GZIP_RATIO"])
    # past 64 MB, more than ``ratio`` times the archive's size is a bomb: refused before the
    # temporary file grows to the absolute cap (a real export compresses 5-20 times)
    ratio_after = max(_GZIP_RATIO_FROM, ratio * path.stat().st_size)
    fd, tmp_name = tempfile.mkstemp(suffix=Path(path.stem).suffix or ".csv", prefix="survey-pipeline-")
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as src:
                written = 0
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > ratio_after:
                        raise _limit_error(path, f"the gzip archive decompresses to more than {ratio:,} times its "
                                           f"size ({written >> 20:,} MB so far from {path.stat().st_size:,} bytes)",
                                           "MAX_GZIP_RATIO", ratio, " times")
                    if written > cap << 20:
                        raise _limit_error(path, "the gzip archive decompresses to more than "
                                           f"{cap:,} MB", "MAX_DECOMPRESSED_MB", cap, " MB")
                    out.write(chunk)
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            raise _err(path, f"the gzip archive is damaged and cannot be decompressed ({exc}).",
                       "Download or copy the file again, or decompress it yourself and ingest the CSV.",
                       "file-unreadable") from None
        try:
            with tmp.open("rb") as fh:
                if fh.read(2) == b"\x1f\x8b":
                    return _read_gzip(path, nested=True)
            inner = read_table(tmp)
        except IngestError as exc:
            raise IngestError(str(exc).replace(str(tmp), f"{path} (decompressed)"), file=path, rule=exc.rule,
                              fix=exc.fix) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    weakref.finalize(inner, tmp.unlink, missing_ok=True)
    inner.notes.insert(0, "gzip-compressed; decompressed before reading")
    return inner


# ---------------------------------------------------------------------------------------- CSV


def _decode_strict(raw: bytes, encoding: str) -> tuple[str, bytes, bool]:
    """Decode strictly, forgiving only a character cut in half at the very end (a truncated file)."""
    if encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):  # error offsets counted from the BOM
        text, used, cut = _decode_strict(raw[3:], "utf-8")
        return text, codecs.BOM_UTF8 + used, cut
    try:
        return raw.decode(encoding), raw, False
    except UnicodeDecodeError as exc:
        # only a sequence cut by the end of the file ("unexpected end of data" / "truncated data")
        # is forgiven; an invalid byte near the end means another encoding, not a truncated file
        if exc.start < len(raw) - 3 or not any(w in str(exc.reason) for w in ("end of data", "truncated")):
            raise
        cut = raw[: exc.start]
        return cut.decode(encoding), cut, True


_BAD_AT = threading.local()
_MAX_BAD_RECORDED = 10_000


def _record_bad(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Codec error handler: note where an invalid sequence starts, put U+FFFD in its place."""
    got = getattr(_BAD_AT, "positions", None)
    if got is not None and len(got) < _MAX_BAD_RECORDED:
        got.append(exc.start)
    return "\ufffd", exc.end


codecs.register_error("survey_pipeline.record", _record_bad)


def _decode_recording(raw: bytes, encoding: str) -> tuple[str, list[int]]:
    """Decode, replacing each invalid sequence with U+FFFD; return the text and the byte offsets of
    the (first :data:`_MAX_BAD_RECORDED`) invalid sequences."""
    _BAD_AT.positions = []
    try:
        text = raw.decode(encoding, errors="survey_pipeline.record")
        return text, _BAD_AT.positions
    finally:
        _BAD_AT.positions = None


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16/32 without a byte-order mark, from where the NUL bytes of (mostly ASCII) text fall;
    ``None`` when NUL bytes are rare (an 8-bit or UTF-8 file); ``"binary"`` when they fit no pattern."""
    head = head[: len(head) // 4 * 4]
    if len(head) < 8 or head.count(0) <= len(head) // 8:
        return None
    z = np.frombuffer(head, dtype=np.uint8) == 0
    m = [float(z[i::4].mean()) for i in range(4)]
    hi, lo = 0.9, 0.5
    if m[1] > hi and m[2] > hi and m[3] > hi and m[0] < lo:
        return "utf-32-le"
    if m[0] > hi and m[1] > hi and m[2] > hi and m[3] < lo:
        return "utf-32-be"
    if m[1] > 0.7 and m[3] > 0.7 and m[0] < lo and m[2] < lo:
        return "utf-16-le"
    if m[0] > 0.7 and m[2] > 0.7 and m[1] < lo and m[3] < lo:
        return "utf-16-be"
    return "binary"


_LEGACY = ("cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850")
"""8-bit encodings a survey export may be saved in; charset-normalizer picks among them."""


def _legacy(raw: bytes) -> tuple[str, str, str]:
    """(text, encoding, note) for a file that is not UTF-8.

    Windows-1252 unless charset-normalizer, given enough non-ASCII bytes to judge (64 or more in
    the first MB), finds that another 8-bit encoding (Mac Roman, DOS cp850) reads the text better;
    latin-1 when cp1252 cannot decode the bytes.
    """
    guess = None
    sample = raw[: 1 << 20]
    if len(sample) - len(sample.decode("latin-1").encode("ascii", "ignore")) >= 64:
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(sample, cp_isolation=list(_LEGACY)).best()
            guess = best.encoding if best is not None and best.encoding in ("mac_roman", "cp850") else None
        except Exception:
            guess = None
    for enc in ([guess] if guess else []) + ["cp1252"]:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        how = "detected by charset-normalizer; the file is not valid UTF-8" if enc == guess else "Windows-1252; the file is not valid UTF-8"
        return text, enc, f"encoding {enc} ({how})"
    return raw.decode("latin-1"), "latin-1", "encoding latin-1 (the file is neither UTF-8 nor Windows-1252)"


def _decode(path: Path, raw: bytes) -> tuple[str, str, str, bytes, list[int]]:
    """Return (text, encoding, note, the bytes the text came from, offsets of invalid sequences).

    UTF-8 (with or without BOM), UTF-16 and UTF-32 (with a byte-order mark, or without one when the
    NUL bytes of ASCII text show which), else an 8-bit encoding chosen by charset-normalizer. A
    UTF-8 file with a few invalid bytes stays UTF-8: each invalid sequence becomes U+FFFD in its
    cell and its offset is returned (reported by the caller), rather than the whole file being
    re-decoded in another encoding. A file is taken as 8-bit only when its invalid sequences
    outnumber its valid non-ASCII UTF-8 characters.
    """
    def cut_note(cut: bool) -> str:
        return "; the last, incomplete character was dropped (truncated file?)" if cut else ""

    wide = None
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        wide, note = "utf-32", "encoding utf-32 (with byte-order mark)"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not raw.startswith(codecs.BOM_UTF8):
        wide, note = "utf-16", "encoding utf-16 (with byte-order mark)"
    elif not raw.startswith(codecs.BOM_UTF8):
        guess = _wide_encoding(raw[:4096])
        if guess == "binary":
            raise _err(path, "holds binary data (many NUL bytes), not text.",
                       "Export the responses as CSV (UTF-8) or XLSX from the survey platform.", "encoding")
        if guess is not None:
            wide, note = guess, f"encoding {guess} without byte-order mark"
    if wide is not None:
        try:
            text, used, cut = _decode_strict(raw, wide)
        except UnicodeDecodeError as exc:
            raise _err(path, f"reads as {wide} text but holds bytes that are not {wide} (at byte {exc.start}).",
                       "Save the file again as CSV UTF-8.", "encoding") from None
        return text, wide, note + cut_note(cut), used, []
    enc = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    note = "encoding utf-8 with byte-order mark" if enc == "utf-8-sig" else "encoding utf-8"
    try:
        text, used, cut = _decode_strict(raw, enc)
        return text, enc, note + cut_note(cut), used, []
    except UnicodeDecodeError:
        pass
    text, bad = _decode_recording(raw, enc)
    n_bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii - n_bad >= n_bad:  # mostly valid UTF-8: a few damaged bytes
        return text, enc, note + f"; {len(bad)} invalid byte sequence(s) replaced by U+FFFD", raw, bad
    text, enc, note = _legacy(raw)
    return text, enc, note, raw, []


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into the most, most consistent, cells."""
    sample = text[:65536]
    cut = sample.rfind("\n")
    if 0 < cut < len(sample) - 1 and len(text) > len(sample):
        sample = sample[:cut]
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        try:
            recs = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim) if r][:50]
        except csv.Error:
            continue
        if not recs:
            continue
        width = len(recs[0])
        if width < 2:
            continue
        same = sum(1 for r in recs if len(r) == width) / len(recs)
        score = (same * width if same >= 0.5 else 0.0, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _head(stream, delim: str) -> tuple[list[list[str]], list[int]]:
    """The first records with a non-empty cell, and their 0-based record numbers."""
    head: list[list[str]] = []
    idx: list[int] = []
    for i, rec in enumerate(csv.reader(stream, delimiter=delim)):
        if any(rec):
            head.append(rec)
            idx.append(i)
            if len(head) >= HEAD_RECORDS:
                break
    return head, idx


def _lens(stream, delim: str) -> np.ndarray:
    """Number of cells of every record (0 for a blank line), at the C speed of the csv module."""
    return np.fromiter(map(len, csv.reader(stream, delimiter=delim)), dtype=np.int64)


_ASCII_SAFE = {"utf-8", "utf-8-sig", "cp1252", "latin-1"}
"""Encodings in which a quote, a delimiter, CR and LF are single ASCII bytes, never part of another character."""
_BLOCK = 1 << 22


def _fast_lens(data: bytes, delim: str, encoding: str) -> np.ndarray | None:
    """What :func:`_lens` returns, computed on the bytes with numpy; None when the quoting is irregular.

    See :func:`_fast_records`.
    """
    got = _fast_records(data, delim, encoding)
    return None if got is None else got[0]


def _fast_records(data: bytes, delim: str, encoding: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The number of cells of every record and the byte offset in ``data`` where each record ends
    (after its line end); None when the quoting is irregular.

    A byte is inside quotes when an odd number of quotes precede it (a doubled quote inside a
    quoted field counts twice, so it never changes the parity). This agrees with the ``csv``
    module exactly when every quote that opens (even parity before it) starts a field (follows a
    delimiter, a line end, the start of the file, or the first quote of a doubled pair) and every
    quote that closes is followed by a quote, a delimiter, a line end or the end of the file, and
    the file does not end inside quotes; otherwise (or with NUL bytes) None is returned and the
    caller counts with the ``csv`` module. Records end at an unquoted LF, CRLF or lone CR; a record
    with no bytes is blank (0 cells), any other has one more cell than unquoted delimiters.
    """
    if encoding not in _ASCII_SAFE or len(delim) != 1 or ord(delim) > 127:
        return None
    b = np.frombuffer(data, dtype=np.uint8)
    skip = 0
    if encoding == "utf-8-sig" and bytes(b[:3]) == codecs.BOM_UTF8:
        b, skip = b[3:], 3
    n = len(b)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if b"\x00" in data:
        return None
    D, Q, CR, LF = ord(delim), ord('"'), 13, 10
    parity = 0  # quote parity before the block
    delims_before = 0  # unquoted delimiters before the block
    term_pos: list[np.ndarray] = []  # global positions of record ends
    term_cnt: list[np.ndarray] = []  # unquoted delimiters up to each record end
    empty = np.zeros(0, dtype=np.int64)
    for lo in range(0, n, _BLOCK):
        hi = min(lo + _BLOCK, n)
        blk = b[lo:hi]
        q_at = np.flatnonzero(blk == Q) + lo
        d_at = np.flatnonzero(blk == D) + lo
        lf_at = np.flatnonzero(blk == LF) + lo
        cr_at = np.flatnonzero(blk == CR) + lo
        if len(q_at):
            # the k-th quote of the block has parity (parity + k) before it
            opening = ((parity + np.arange(len(q_at))) & 1) == 0
            prev = b[np.maximum(q_at - 1, 0)]
            nxt = b[np.minimum(q_at + 1, n - 1)]
            ok_open = (q_at == 0) | (prev == D) | (prev == LF) | (prev == CR) | (prev == Q)
            ok_close = (q_at == n - 1) | (nxt == Q) | (nxt == D) | (nxt == LF) | (nxt == CR)
            if not (ok_open[opening].all() and ok_close[~opening].all()):
                return None

            def unquoted(pos: np.ndarray, q_at=q_at, parity=parity) -> np.ndarray:
                return pos[((np.searchsorted(q_at, pos) + parity) & 1) == 0]

            d_at, lf_at, cr_at = unquoted(d_at), unquoted(lf_at), unquoted(cr_at)
            parity = (parity + len(q_at)) & 1
        elif parity:  # the whole block is inside one quoted field
            d_at = lf_at = cr_at = empty
        if len(cr_at):  # a CR ends a record unless an LF follows it (CRLF)
            lone = cr_at[b[np.minimum(cr_at + 1, n - 1)] != LF]  # (a CR last in the file: b[n-1] is that CR)
            t = np.union1d(lf_at, lone)
        else:
            t = lf_at
        term_pos.append(t)
        term_cnt.append(np.searchsorted(d_at, t) + delims_before)
        delims_before += len(d_at)
    if parity:  # the file ends inside quotes
        return None
    pos = np.concatenate(term_pos)
    cnt = np.concatenate(term_cnt)
    crlf = np.zeros(len(pos), dtype=bool)  # the record end is the LF of a CRLF
    inner = pos > 0
    crlf[inner] = (b[pos[inner]] == LF) & (b[pos[inner] - 1] == CR)
    if not len(pos) or pos[-1] < n - 1:  # a last record without a line end
        pos = np.append(pos, n)
        cnt = np.append(cnt, delims_before)
        crlf = np.append(crlf, False)
    prev_pos = np.concatenate([[-1], pos[:-1]])
    prev_cnt = np.concatenate([[0], cnt[:-1]])
    content = pos - prev_pos - 1 - crlf
    ends = np.minimum(pos + 1, n) + skip
    return np.where(content > 0, cnt - prev_cnt + 1, 0).astype(np.int64), ends.astype(np.int64)


def _eol_positions(arr: np.ndarray) -> np.ndarray:
    """Offsets of the line ends as the ``csv`` module counts lines: LF (a CRLF ends on its LF) and
    lone CR."""
    lf = np.flatnonzero(arr == 10)
    cr = np.flatnonzero(arr == 13)
    if not len(cr):
        return lf
    lone = cr[(cr == len(arr) - 1) | (arr[np.minimum(cr + 1, len(arr) - 1)] != 10)]
    return np.union1d(lf, lone) if len(lone) else lf


def _record_end_lines(data: bytes, ends: np.ndarray) -> np.ndarray:
    """For each record (byte offsets after each record, :func:`_fast_records`), the 1-based number
    of the physical line it ends on."""
    arr = np.frombuffer(data, dtype=np.uint8)
    eol = _eol_positions(arr)
    out = np.searchsorted(eol, ends, side="left").astype(np.int64)
    if len(out) and (not len(eol) or int(ends[-1]) > int(eol[-1]) + 1):
        out[-1] += 1  # the last record has no line end
    return out


def _lens_lines(stream, delim: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_lens` and the physical line each record ends on (the ``csv`` module's count)."""
    reader = csv.reader(stream, delimiter=delim)
    lens: list[int] = []
    lines: list[int] = []
    for rec in reader:
        lens.append(len(rec))
        lines.append(reader.line_num)
    return np.asarray(lens, dtype=np.int64), np.asarray(lines, dtype=np.int64)


def _widest_line(data: bytes, delim: str) -> tuple[int, int]:
    """The most cells any physical line could hold (its delimiters + 1, quotes ignored) and that
    line's number: a bound checked before the ``csv`` module builds a record in memory."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if not len(arr):
        return 0, 1
    eol = _eol_positions(arr)
    counts = np.zeros(len(eol) + 1, dtype=np.int64)
    code = ord(delim)
    for lo in range(0, len(arr), _BLOCK):
        d = np.flatnonzero(arr[lo:lo + _BLOCK] == code) + lo
        if len(d):
            u, c = np.unique(np.searchsorted(eol, d), return_counts=True)
            counts[u] += c
    i = int(np.argmax(counts))
    return int(counts[i]) + 1, i + 1


_SWALLOW_EXAMINED = 500
_SWALLOW_WIDE = 20


def _check_swallowed(path: Path, data: bytes, delim: str, rec_lines: np.ndarray, header_cells: int,
                     lens: np.ndarray | None = None) -> None:
    """Refuse a file where a stray quote makes one cell of many lines that look like whole rows.

    A quoted cell may hold line breaks (a comment in paragraphs); but when two or more of the
    lines inside one record hold at least half as many delimiters as the header has cells, a
    quote opened by mistake has swallowed the responses that followed it, and reading on would
    lose them without a trace. One such line is enough when it and the record's first line hold one
    and a half rows' delimiters or more and either its cell count (``lens``) is not the header's or the header
    is wide (:data:`_SWALLOW_WIDE` cells; a comment in paragraphs cannot hold half a row's
    delimiters there): two responses merged into one record, which would be read, or quarantined,
    as one response.
    """
    if header_cells < 6 or not len(rec_lines):
        return
    span = np.diff(np.concatenate([[0], rec_lines]))
    ragged = (lens != header_cells) if lens is not None and len(lens) == len(span) else np.zeros(len(span), bool)
    wide = header_cells >= _SWALLOW_WIDE
    cand = np.flatnonzero((span >= 3) | ((span == 2) & (ragged | wide)))
    if not len(cand):
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    eol = _eol_positions(arr)
    starts = np.concatenate([[0], eol + 1])
    d = delim.encode()
    thr = max(4, header_cells // 2)
    for i in cand[:_SWALLOW_EXAMINED]:
        first = int(rec_lines[i - 1]) + 1 if i else 1
        last = int(rec_lines[i])
        lo = int(starts[first - 1]) if first - 1 < len(starts) else len(data)
        hi = int(starts[last]) if last < len(starts) else len(data)
        lines = data[lo:hi].splitlines()
        counts = [ln.count(d) for ln in lines]
        rowlike = sum(1 for c in counts[1:] if c >= thr)
        # one row-like line is enough when it and the record's first line hold well over one row's
        # delimiters between them (a row with a comment in paragraphs holds about one row's there,
        # however many delimiters the comment's own lines hold)
        merged = (rowlike == 1 and (ragged[i] or wide)
                  and counts[0] + max(counts[1:]) >= 1.5 * max(header_cells - 1, 1))
        if rowlike >= 2 or merged:
            what = "1 following line that looks like a whole row (with" if rowlike == 1 else \
                f"{rowlike} following lines that look like whole rows (each with"
            raise IngestError(
                f"{path}: lines {first}-{last} are read as one row: a quote opened in line {first} is not closed "
                f"where its cell ends, so {what} {thr} or more delimiters) became part of one cell. Reading on "
                "would lose those responses.",
                file=path, rule="csv-quote",
                fix=f"Open the file in a text editor at line {first}, find the stray \" (a cell that starts with a "
                    "quote that never ends) and remove or double it, then ingest again; or export the responses again.")


def _check_cell_size(path: Path, data: bytes, delim: str, encoding: str, rec_lines: np.ndarray,
                     ends: np.ndarray | None, header: list) -> None:
    """Refuse a file with a cell longer than ``SURVEY_PIPELINE_MAX_CELL_CHARS`` characters.

    A record's bytes bound its longest cell (a character takes at least one byte), so only the
    records longer than the limit are parsed to find the cell; most files need no parsing at all.
    """
    max_chars = limit("MAX_CELL_CHARS", LIMITS["MAX_CELL_CHARS"])
    if len(data) <= max_chars or not len(rec_lines):
        return
    if ends is not None:
        starts = np.concatenate([[3 if data.startswith(codecs.BOM_UTF8) else 0], ends[:-1]])
        stops = ends
    else:
        line_starts = np.concatenate([[0], _eol_positions(np.frombuffer(data, dtype=np.uint8)) + 1, [len(data)]])
        first = np.concatenate([[1], rec_lines[:-1] + 1])
        starts = line_starts[np.minimum(first - 1, len(line_starts) - 1)]
        stops = line_starts[np.minimum(rec_lines, len(line_starts) - 1)]
    for i in np.flatnonzero(stops - starts > max_chars)[:_SWALLOW_EXAMINED]:
        text = data[int(starts[i]):int(stops[i])].decode(encoding, errors="replace")
        cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=delim), [])
        for j, cell in enumerate(cells):
            if len(cell) > max_chars:
                name = header[j] if j < len(header) and header[j] else None
                col = f"column {j + 1}" + (f" ('{name[:60]}')" if name else "")
                line = int(rec_lines[i - 1]) + 1 if i else 1
                raise _limit_error(path, f"row {i + 1} (from line {line}), {col} holds a cell of {len(cell):,} characters",
                                   "MAX_CELL_CHARS", max_chars, " characters")


def _filled(stream, delim: str, indices: np.ndarray) -> np.ndarray:
    """For the records at ``indices``: the number of cells up to the last non-empty one."""
    want = {int(i) for i in indices}
    found: dict[int, int] = {}
    if want:
        for i, rec in enumerate(csv.reader(stream, delimiter=delim)):
            if i in want:
                n = len(rec)
                while n and not rec[n - 1]:
                    n -= 1
                found[i] = n
                if len(found) == len(want):
                    break
    return np.asarray([found.get(int(i), 0) for i in indices], dtype=np.int64)


@contextlib.contextmanager
def _big_fields():
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _none_for_empty(frame: pd.DataFrame, padded: bool = True) -> pd.DataFrame:
    """Object columns of ``str`` with ``None`` for empty cells; consumes ``frame``.

    ``padded``: some records are shorter than the frame, so the parser filled cells with NaN.
    Columns are taken out of ``frame`` one by one, so each original is freed once converted.
    """
    index, columns = frame.index, list(frame.columns)
    out = {}
    for col in columns:
        values = np.array(frame.pop(col).to_numpy(dtype=object), dtype=object, copy=True)
        mask = values == ""
        if padded:
            mask |= pd.isna(values)
        values[mask] = None
        out[col] = values
    return pd.DataFrame(out, index=index, columns=columns, dtype=object, copy=False)


def _read_csv(path: Path, raw: bytes | None = None) -> Table:
    """Read a CSV file (or, when ``raw`` is given, those bytes of it)."""
    from_disk = raw is None
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _err(path, f"cannot be read ({exc.strerror}).", "Check the file's permissions.", "file-unreadable") from None
    size = len(raw)
    max_lines = limit("MAX_LINES", LIMITS["MAX_LINES"])
    n_lines = raw.count(b"\n") or raw.count(b"\r")
    if n_lines > max_lines:
        raise _limit_error(path, f"the file has {n_lines:,} lines", "MAX_LINES", max_lines)
    text, encoding, enc_note, raw, bad_at = _decode(path, raw)
    parse_enc = encoding
    notes_extra: list[str] = []
    if encoding not in _ASCII_SAFE or bad_at:
        # UTF-16/32, an 8-bit encoding other than cp1252/latin-1, or UTF-8 with replaced bytes: the
        # text is parsed as UTF-8, so every pass reads ASCII quotes, delimiters and line ends
        raw = text.encode("utf-8")
        parse_enc = "utf-8"
    # byte offsets (in ``raw`` as parsed) of replaced sequences and of NUL bytes
    replaced_at = np.asarray([m.start() for m in re.finditer(b"\xef\xbf\xbd", raw)], dtype=np.int64) \
        if bad_at else np.zeros(0, dtype=np.int64)
    nul_at = np.zeros(0, dtype=np.int64)
    if b"\x00" in raw:  # NUL bytes: their rows are quarantined, not read as text
        nul_at = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 0)
        raw = raw.replace(b"\x00", b"\x1a")
        text = raw.decode(parse_enc, errors="replace")
    modified = parse_enc != encoding or len(raw) != size or bool(len(nul_at))
    delim = _sniff_delimiter(text)
    small = text if len(text) < BIG_FILE else None
    del text
    if from_disk and not modified and size >= BIG_FILE:
        del raw  # each pass streams the file from disk: the bytes are not held in memory

        def source():
            return path.open("rb")
    else:
        def source():
            return io.BytesIO(raw)

    def stream():
        if small is not None:
            return io.StringIO(small, newline="")
        return io.TextIOWrapper(source(), encoding=parse_enc, newline="")

    max_cols = limit("MAX_COLUMNS", LIMITS["MAX_COLUMNS"])
    with _big_fields():
        try:
            lens = ends = None
            with source() as fh:
                data = fh.read()
            got = _fast_records(data, delim, parse_enc)
            if got is not None:
                lens, ends = got
                rec_lines = _record_end_lines(data, ends)
            else:
                widest, at_line = _widest_line(data, delim)
                if widest > max_cols:
                    raise _limit_error(path, f"line {at_line} has {widest:,} cells", "MAX_COLUMNS", max_cols)
                with stream() as fh:
                    lens, rec_lines = _lens_lines(fh, delim)
            if len(lens) and int(lens.max()) > max_cols:
                i = int(np.argmax(lens))
                raise _limit_error(path, f"row {i + 1} has {int(lens[i]):,} cells", "MAX_COLUMNS", max_cols)
            with stream() as fh:
                head, head_idx = _head(fh, delim)
            if head:
                _check_swallowed(path, data, delim, rec_lines, len(head[0]), lens)
            _check_cell_size(path, data, delim, parse_enc, rec_lines, ends, head[0] if head else [])
            del data
        except csv.Error as exc:  # pragma: no cover - the csv module in non-strict mode rarely refuses
            raise _err(path, f"cannot be parsed as CSV ({exc}).", "Open the file in a spreadsheet and save it again as CSV UTF-8.", "csv-syntax") from None
        except OSError as exc:
            raise _err(path, f"cannot be read ({exc.strerror}).", "Check the file's permissions.", "file-unreadable") from None
    encoding_for_pandas = parse_enc
    bad_cells: dict[int, str] = {}
    if len(nul_at) or len(replaced_at):  # byte offsets -> the records (0-based) that hold them
        def records_of(offsets: np.ndarray) -> np.ndarray:
            if ends is not None:
                return np.searchsorted(ends, offsets, side="right")
            eol = _eol_positions(np.frombuffer(raw, dtype=np.uint8))
            return np.searchsorted(rec_lines, np.searchsorted(eol, offsets) + 1, side="left")

        for rec in np.unique(records_of(nul_at)):
            if rec < len(lens):
                bad_cells[int(rec) + 1] = "NUL byte(s) in the row: the file is damaged"
        if len(replaced_at):
            rows = np.unique(records_of(replaced_at)) + 1
            notes_extra.append(f"{len(bad_at)} invalid UTF-8 byte sequence(s) replaced by U+FFFD in their cells "
                               f"(row(s) {', '.join(map(str, rows[:20].tolist()))}{' ...' if len(rows) > 20 else ''}); "
                               "the rest of the file is read as UTF-8")
    def filled(indices: np.ndarray) -> np.ndarray:
        with _big_fields(), stream() as fh:
            return _filled(fh, delim, indices)

    n_records = len(lens)
    max_len = int(lens.max()) if n_records else 0
    notes = [f"{enc_note}; delimiter {delim!r}", *notes_extra]

    def load(width: int) -> pd.DataFrame:
        width = max(1, min(width, max_len))
        frame = None
        if n_records and max_len:
            short = np.flatnonzero(lens < max_len)
            try:
                if ends is not None and n_records >= SPLIT_RECORDS:  # two halves, parsed in parallel
                    with source() as fh:
                        frame = _load_in_two(fh.read(), int(ends[n_records // 2 - 1]), n_records // 2,
                                             delim, encoding_for_pandas, width, max_len, n_records, short)
                if frame is None:
                    with source() as fh:
                        frame = _load_with_c_parser(fh, delim, encoding_for_pandas, width, max_len, n_records, short)
            except (pd.errors.ParserError, ValueError, UnicodeDecodeError, MemoryError, OverflowError, OSError):
                frame = None
            if frame is not None:
                return frame
        if frame is None:
            try:
                with source() as fh:
                    frame = _load_with_csv_module(fh, encoding_for_pandas, delim, width)
            except OSError as exc:
                raise _err(path, f"cannot be read ({exc.strerror}).", "Check the file's permissions.", "file-unreadable") from None
            notes.append("the fast CSV parser disagreed with the file's quoting; read it with Python's csv module instead")
            if len(frame) != n_records:  # pragma: no cover - both passes use the same reader
                raise _err(path, "the number of rows changed between two reads of the file.",
                           "Report this file to the survey-pipeline maintainers.", "csv-syntax")
        return _none_for_empty(frame, padded=bool((lens < width).any()))

    return Table(
        head=[[c if c != "" else None for c in rec] for rec in head],
        head_rows=[i + 1 for i in head_idx],
        lens=lens,
        rows=np.arange(1, n_records + 1, dtype=np.int64),
        load=load,
        filled=filled,
        encoding=encoding,
        delimiter=delim,
        notes=notes,
        bad_cells=bad_cells,
    )


LOAD_CELLS = 1 << 23
"""Cells per chunk of the C parser (its tokens for one chunk are held at once)."""


def _none_for_empty_cells(cells: np.ndarray) -> None:
    """Empty cells (``""``) of one parsed column to None, in place.

    The C parser with ``dtype=object, na_filter=False`` gives every cell as a ``str`` and boxes
    equal cells of a column (within a chunk) as one ``str`` object, so a 1M-row export does not hold
    ~150M separate strings (~9 GB); the text stays exactly as written. The parser's
    ``dtype="category"`` is not used, because pandas >= 3.1 converts numeric-looking categories
    ("02134" -> 2134).
    """
    cells[cells == ""] = None


def _none_for_padding(out: np.ndarray, short: np.ndarray) -> None:
    """Cells the parser gave as NaN in the records ``short`` (shorter than the widest) to None.

    Only a record with fewer cells than the widest can be padded by the parser; its padded cells
    are ``""`` (made None by :func:`_none_for_empty_cells`) or, should a parser pad with NaN, NaN.
    """
    if len(short):
        sub = out[:, short]
        sub[pd.isna(sub)] = None
        out[:, short] = sub


def _parse_into(binary, delim: str, encoding: str, width: int, max_len: int, out: np.ndarray, row0: int,
                n_rows: int) -> bool:
    """Parse ``binary`` with pandas' C parser into rows ``row0 ..`` of ``out`` (columns x rows, object).

    The file is parsed in chunks of about :data:`LOAD_CELLS` cells (:func:`_none_for_empty_cells`:
    equal cells share one ``str``). False when the parser's record count is not ``n_rows``.
    """
    at = 0
    with pd.read_csv(
        binary, sep=delim, header=None, names=range(max_len), usecols=range(width) if width < max_len else None,
        dtype=object, na_filter=False, skip_blank_lines=False, encoding=encoding, engine="c",
        quotechar='"', doublequote=True, encoding_errors="strict", low_memory=False,
        chunksize=max(1024, LOAD_CELLS // max_len),
    ) as chunks:
        for chunk in chunks:
            m = len(chunk)
            if at + m > n_rows:
                return False
            for j in range(width):
                cells = out[j, row0 + at:row0 + at + m]  # a view: filled in place
                cells[:] = chunk[j].to_numpy(dtype=object)
                _none_for_empty_cells(cells)
            at += m
    return at == n_rows


def _load_with_c_parser(binary, delim: str, encoding: str, width: int, max_len: int, n_records: int,
                        short: np.ndarray) -> pd.DataFrame | None:
    """All records as a frame of ``str``/None, cut to ``width`` columns, with pandas' C parser.

    Each chunk is written into one preallocated object matrix (the frame is built on it without a
    copy). ``short``: the records with fewer cells than ``max_len`` (see :func:`_none_for_padding`).
    Returns None when the parser's record count is not ``n_records`` (malformed quoting: the
    caller reads with the ``csv`` module instead).
    """
    out = np.empty((width, n_records), dtype=object)
    if not _parse_into(binary, delim, encoding, width, max_len, out, 0, n_records):
        return None
    _none_for_padding(out, short)
    return pd.DataFrame(out.T, columns=range(width), dtype=object, copy=False)


SPLIT_RECORDS = 100_000
"""Files with at least this many records are parsed as two halves in two threads."""


def _load_in_two(data: bytes, split: int, k: int, delim: str, encoding: str, width: int, max_len: int,
                 n_records: int, short: np.ndarray) -> pd.DataFrame | None:
    """:func:`_load_with_c_parser` on the records before and from record ``k`` (byte ``split``, a
    record boundary found by :func:`_fast_records`) in two threads: the C parser tokenizes without
    the GIL, so the two halves use both cores. None when either half's record count differs (the
    caller then parses the file in one piece)."""
    halves = [(io.BytesIO(data[:split]), 0, k), (io.BytesIO(data[split:]), k, n_records - k)]
    del data
    out = np.empty((width, n_records), dtype=object)
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda h: _parse_into(h[0], delim, encoding, width, max_len, out, h[1], h[2]), halves))
    if not all(done):
        return None
    _none_for_padding(out, short)
    return pd.DataFrame(out.T, columns=range(width), dtype=object, copy=False)


def _load_with_csv_module(binary, encoding: str, delim: str, width: int) -> pd.DataFrame:
    stream = io.TextIOWrapper(binary, encoding=encoding, newline="")
    with _big_fields():
        recs = [(rec + [""] * width)[:width] for rec in csv.reader(stream, delimiter=delim)]
    frame = pd.DataFrame(recs, columns=range(width), dtype=object) if recs else pd.DataFrame(columns=range(width), dtype=object)
    return frame


# --------------------------------------------------------------------------------------- XLSX


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return repr(value.total_seconds())
    return str(value)


def _sheet_has_formulas(zf: zipfile.ZipFile) -> bool:
    for name in zf.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            with zf.open(name) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    buf = tail + chunk
                    if b"<f>" in buf or b"<f " in buf or b"<f/>" in buf:
                        return True
                    tail = buf[-4:]
    return False


class _SheetLimit(Exception):
    """A sheet passed one of the workbook limits (converted to an IngestError by the caller)."""

    def __init__(self, what: str, name: str, value: int):
        super().__init__(what)
        self.what, self.name, self.value = what, name, value


def _sheet_rows(ws, budget: list[int] | None = None) -> tuple[list[tuple], int]:
    """The rows of a worksheet down to its last row with a value, and how many empty rows follow.

    Spreadsheets often report thousands of formatted but empty rows below the data (the sheet's
    "used range"); they are counted, never materialized. Empty rows above or between rows with
    values are kept (as empty tuples), so row numbers stay those of the sheet.

    The sheet's declared dimension is ignored (a damaged or hostile file may declare
    ``A1:XFD1048576`` to make every row 16,384 cells wide); ``budget`` is ``[cells left]`` across the
    workbook's sheets, and a row wider than ``SURVEY_PIPELINE_MAX_COLUMNS``, a cell longer than
    ``SURVEY_PIPELINE_MAX_CELL_CHARS`` or more cells in all than the budget raise :class:`_SheetLimit`.
    """
    max_cols = limit("MAX_COLUMNS", LIMITS["MAX_COLUMNS"])
    max_chars = limit("MAX_CELL_CHARS", LIMITS["MAX_CELL_CHARS"])
    budget = budget if budget is not None else [limit("MAX_CELLS", LIMITS["MAX_CELLS"])]
    with contextlib.suppress(AttributeError):
        ws.reset_dimensions()  # read-only sheets: no padding to the declared dimension
    out: list[tuple] = []
    pending = 0
    for n, r in enumerate(ws.iter_rows(values_only=True), 1):
        if len(r) > max_cols:
            raise _SheetLimit(f"row {n} of sheet '{ws.title}' has {len(r):,} cells", "MAX_COLUMNS", max_cols)
        budget[0] -= len(r)
        if budget[0] < 0:
            raise _SheetLimit(f"the sheets hold more cells than the limit (at row {n} of sheet '{ws.title}')",
                              "MAX_CELLS", limit("MAX_CELLS", LIMITS["MAX_CELLS"]))
        if any(v is not None and v != "" for v in r):
            for v in r:
                if isinstance(v, str) and len(v) > max_chars:
                    raise _SheetLimit(f"a cell in row {n} of sheet '{ws.title}' holds {len(v):,} characters",
                                      "MAX_CELL_CHARS", max_chars)
            if pending:
                out.extend([()] * pending)
                pending = 0
            out.append(tuple(r))
        else:
            pending += 1
    return out, pending


def _read_xlsx(path: Path, raw: bytes, suffix: str) -> Table:
    """Read a workbook; any failure of a damaged archive or workbook is one :class:`IngestError`."""
    try:
        return _read_xlsx_checked(path, raw, suffix)
    except IngestError:
        raise
    except _SheetLimit as exc:
        raise _limit_error(path, exc.what, exc.name, exc.value) from None
    except MemoryError:
        raise IngestError(f"{path}: the workbook needs more memory than this machine has.", file=path,
                          rule="resource-limit",
                          fix="Export the responses as CSV (UTF-8) from the survey platform, or lower "
                              "SURVEY_PIPELINE_MAX_CELLS so such files are refused early.") from None
    except Exception as exc:
        raise _err(path, f"the workbook is damaged and cannot be read ({type(exc).__name__}: {str(exc)[:200]}).",
                   "Open it in Excel and save a copy as .xlsx, or export CSV from the survey platform.",
                   "xlsx-corrupt") from None


def _read_xlsx_checked(path: Path, raw: bytes, suffix: str) -> Table:
    import openpyxl  # imported here: only XLSX reading needs it
    from openpyxl.utils import get_column_letter

    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
        names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        raise _err(path, "looks like a ZIP/XLSX file but is damaged (truncated or corrupt).",
                   "Download or export the file again, or open it in Excel and save a copy.", "xlsx-corrupt") from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise _err(path, "is a ZIP archive, not an Excel workbook or a CSV export.",
                   "Unzip it and give the CSV or XLSX file inside.", "file-type")
    cap_mb = limit("MAX_XLSX_MB", LIMITS["MAX_XLSX_MB"])
    declared = sum(i.file_size for i in infos)  # zipfile never inflates an entry past its declared size
    if declared > cap_mb << 20:
        raise _limit_error(path, f"the workbook's parts decompress to {declared / (1 << 20):,.0f} MB",
                           "MAX_XLSX_MB", cap_mb, " MB")
    ratio = limit("MAX_XLSX_RATIO", LIMITS["MAX_XLSX_RATIO"])
    for i in infos:
        if i.file_size > 10 << 20 and i.file_size > ratio * max(i.compress_size, 1):
            raise _limit_error(path, f"the part {i.filename} decompresses {i.file_size // max(i.compress_size, 1):,} times "
                               f"({i.file_size / (1 << 20):,.0f} MB from {i.compress_size / (1 << 20):,.1f} MB): a "
                               "compression bomb, not a spreadsheet's XML", "MAX_XLSX_RATIO", ratio, " times")
    notes: list[str] = []
    if suffix not in {".xlsx", ".xlsm"}:
        notes.append(f"file named {path.suffix or '(no extension)'} is an Excel workbook; read as XLSX")
    formulas = _sheet_has_formulas(zf)

    def open_wb(data_only: bool):
        try:
            return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only)
        except MemoryError:
            raise
        except Exception as exc:  # openpyxl raises many types on damaged files
            raise _err(path, f"the workbook cannot be opened ({type(exc).__name__}: {str(exc)[:200]}).",
                       "Open it in Excel and save a copy as .xlsx, or export CSV from the survey platform.", "xlsx-corrupt") from None

    budget = [limit("MAX_CELLS", LIMITS["MAX_CELLS"])]
    wb = open_wb(True)
    try:
        rows: list[tuple] | None = None
        chosen = None
        data_sheets = []
        below = 0
        for ws in wb.worksheets:
            try:
                sheet_rows, empty_below = _sheet_rows(ws, budget)
            except (_SheetLimit, MemoryError):
                raise
            except Exception as exc:
                raise _err(path, f"sheet '{ws.title}' cannot be read ({type(exc).__name__}: {str(exc)[:200]}).",
                           "Open it in Excel and save a copy as .xlsx.", "xlsx-corrupt") from None
            if sheet_rows:
                data_sheets.append(ws.title)
                if rows is None:
                    rows, chosen, below = sheet_rows, ws.title, empty_below
                else:
                    del sheet_rows  # only the first sheet with data is read
        if rows is None:
            raise _err(path, "the workbook has no sheet with any data.",
                       "Export the responses again; the workbook is empty.", "file-empty")
        if wb.worksheets[0].title != chosen:
            notes.append(f"sheet '{wb.worksheets[0].title}' is empty; read sheet '{chosen}'")
        if len(data_sheets) > 1:
            others = ", ".join(repr(s) for s in data_sheets if s != chosen)
            notes.append(f"read sheet '{chosen}'; other sheets with data were not read: {others}")
    finally:
        wb.close()

    bad_cells: dict[int, str] = {}
    if formulas:
        fwb = open_wb(False)
        try:
            fws = fwb[chosen]
            with contextlib.suppress(AttributeError):
                fws.reset_dimensions()
            for r_i, frow in enumerate(fws.iter_rows()):
                for c_i, cell in enumerate(frow):
                    if getattr(cell, "data_type", None) == "f":
                        cached = rows[r_i][c_i] if r_i < len(rows) and c_i < len(rows[r_i]) else None
                        if cached is None:
                            ref = f"{get_column_letter(c_i + 1)}{r_i + 1}"
                            bad_cells.setdefault(r_i + 1, f"formula without a cached value in cell {ref} ({cell.value}); formulas are never evaluated")
        finally:
            fwb.close()
        n_f = len(bad_cells)
        notes.append("the sheet holds formulas: their cached values were read"
                     + (f"; {n_f} row(s) have a formula with no cached value" if n_f else ""))
        if bad_cells and max(bad_cells) > len(rows):  # a row below the data holds only such formulas
            extra = max(bad_cells) - len(rows)
            rows.extend([()] * extra)
            below -= extra
    if below > 0:
        notes.append(f"{below} empty row(s) below the data ignored (rows the sheet formats but that hold no value)")

    text_rows = [[_cell_text(v) for v in r] for r in rows]
    lens = np.asarray([len(r) for r in text_rows], dtype=np.int64)
    effs = np.zeros(len(text_rows), dtype=np.int64)
    head: list[list[str | None]] = []
    head_rows: list[int] = []
    for i, r in enumerate(text_rows):
        n = len(r)
        while n and r[n - 1] is None:
            n -= 1
        effs[i] = n
        if n and len(head) < HEAD_RECORDS:
            head.append(r[:n])
            head_rows.append(i + 1)
    lens = effs.copy()  # a workbook row has no delimiters: its length is its last filled cell

    max_cells = limit("MAX_CELLS", LIMITS["MAX_CELLS"])

    def load(width: int) -> pd.DataFrame:
        width = max(1, width)
        if len(text_rows) * width > max_cells:  # e.g. a far cell (XFD1048576) below the data
            raise _limit_error(path, f"sheet '{chosen}' spans {len(text_rows):,} rows x {width:,} columns "
                               f"({len(text_rows) * width:,} cells)", "MAX_CELLS", max_cells)
        data = [(r + [None] * width)[:width] for r in text_rows]
        if not data:
            return pd.DataFrame(columns=range(width), dtype=object)
        return pd.DataFrame(data, columns=range(width), dtype=object)

    return Table(head=head, head_rows=head_rows, lens=lens,
                 rows=np.arange(1, len(text_rows) + 1, dtype=np.int64), load=load,
                 filled=lambda indices: effs[indices],
                 sheet=chosen, notes=notes, bad_cells=bad_cells)
