"""Project files read safely: inside the project folder, regular files, bounded size, UTF-8 text.

The settings (:mod:`survey_pipeline.settings`) name files — the areas file, its crosswalk, the
census targets, an instrument. Each is checked before it is read: the path stays inside the project
folder (no ``..`` escape, no absolute path elsewhere, no link leading out), it is a regular file
(not a directory, a device such as ``/dev/zero`` or a FIFO) of at most a bounded size, and text
files are UTF-8 (an UTF-16 or Windows-1252 file, an empty file or one full of NUL bytes is
refused with the reason). Reads never go past the limit, so an endless stream cannot hang a run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from survey_pipeline.errors import Problem, ProjectError

__all__ = ["DEFAULT_MAX_FILE_MB", "confined_path", "file_problem", "read_text_bounded", "text_problem"]

DEFAULT_MAX_FILE_MB = 100
"""The default size limit of a project's areas, crosswalk, targets and instrument files
(``[project] max_file_mb`` raises it)."""


def _mb(n: float) -> str:
    return f"{n:g} MB"


def confined_path(root: Path, text: str) -> tuple[Path, str | None]:
    """``root / text`` and, when it leaves the project folder, why (else None).

    The path is resolved (``..`` and links followed) and must stay inside ``root``: files of a
    project live in its folder, so a copied project works and a survey.toml cannot reach other
    files of the machine.
    """
    p = Path(text)
    full = p if p.is_absolute() else root / p
    try:
        resolved = full.resolve()
        base = root.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop
        return full, f"the path cannot be resolved ({exc})"
    if resolved != base and base not in resolved.parents:
        how = "is an absolute path outside" if p.is_absolute() else \
            ("leads out of" if ".." in p.parts else "is a link leading out of")
        return full, f"'{text}' {how} the project folder {base}"
    return full, None


def file_problem(path: Path, *, max_mb: float, what: str, key: str | None = None,
                 file: str | None = None) -> Problem | None:
    """Why ``path`` cannot be read as a project file (missing, not a regular file, too large), or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Problem(file=file, column=key, rule="missing-file", message=f"{what} '{path}' does not exist.",
                       fix="Put the file in the project folder and give its path relative to survey.toml, "
                           "or remove the key.")
    except OSError as exc:
        return Problem(file=file, column=key, rule="unreadable-file",
                       message=f"{what} '{path}' cannot be read ({exc.strerror}).",
                       fix="Check the path and the file's permissions.")
    if stat.S_ISDIR(st.st_mode):
        kind = "a directory"
    elif stat.S_ISFIFO(st.st_mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        kind = "a device"
    elif stat.S_ISSOCK(st.st_mode):
        kind = "a socket"
    elif not stat.S_ISREG(st.st_mode):
        kind = "not a regular file"
    else:
        kind = None
    if kind is not None:
        return Problem(file=file, column=key, rule="not-a-file", message=f"{what} '{path}' is {kind}.",
                       fix="Give the path of a regular file in the project folder.")
    if st.st_size > max_mb * 1_000_000:
        return Problem(file=file, column=key, rule="file-too-large",
                       message=f"{what} '{path}' has {st.st_size / 1e6:.1f} MB, over the limit of {_mb(max_mb)}.",
                       fix="Check that this is the right file; if it is, raise the limit with "
                           "[project] max_file_mb in survey.toml.")
    return None


def text_problem(data: bytes, *, what: str, path: Path, key: str | None = None,
                 file: str | None = None) -> Problem | None:
    """Why ``data`` (a whole file's bytes) is not usable UTF-8 text, or None."""
    def prob(rule: str, msg: str, fix: str) -> Problem:
        return Problem(file=file, column=key, rule=rule, message=f"{what} '{path}' {msg}", fix=fix)

    save = ("Save it as UTF-8 text: in a text editor choose the UTF-8 encoding; in a spreadsheet, "
            "save as 'CSV UTF-8'.")
    if not data.strip():
        return prob("empty-file", "is empty." if not data else "holds only white space.",
                    "Give a file with a header row and data rows.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return prob("bad-encoding", "is UTF-16 text (it starts with a UTF-16 byte-order mark).", save)
    if b"\x00" in data:
        zeros = data.count(b"\x00")
        if zeros == len(data):
            return prob("bad-encoding", f"holds only NUL bytes ({len(data)} of them): it is not text.",
                        "Give the CSV file itself (the file looks damaged or is not a text file).")
        return prob("bad-encoding", f"holds {zeros} NUL byte(s): it is UTF-16 text without a byte-order mark "
                    "or a binary file, not UTF-8 text.", save)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = ""
        try:
            data.decode("cp1252")
            guess = " (it looks like Windows-1252 / Latin-1 text)"
        except UnicodeDecodeError:
            pass
        return Problem(file=file, column=key, rule="bad-encoding", line=line,
                       message=f"{what} '{path}' is not UTF-8: byte 0x{data[exc.start]:02x} at line {line}, "
                               f"column {col}{guess}.", fix=save)
    return None


def read_text_bounded(path: str | Path, *, max_mb: float = DEFAULT_MAX_FILE_MB, what: str = "the file",
                      key: str | None = None, error: type[Exception] = ProjectError) -> str:
    """The UTF-8 text of a regular file of at most ``max_mb`` MB (a BOM is dropped).

    Raises ``error`` (a :class:`~survey_pipeline.errors.SurveyPipelineError`) for a missing file,
    a directory, device or FIFO, a file over the limit, and an empty, UTF-16, NUL-filled or
    non-UTF-8 file — never reads more than the limit.
    """
    path = Path(path)
    p = file_problem(path, max_mb=max_mb, what=what, key=key, file=str(path))
    if p is None:
        limit = int(max_mb * 1_000_000)
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            p = Problem(file=str(path), column=key, rule="unreadable-file",
                        message=f"{what} '{path}' cannot be read ({exc.strerror}).",
                        fix="Check the path and the file's permissions.")
        else:
            if len(data) > limit:  # grew while read
                p = Problem(file=str(path), column=key, rule="file-too-large",
                            message=f"{what} '{path}' is over the limit of {_mb(max_mb)}.",
                            fix="Raise the limit with [project] max_file_mb in survey.toml.")
            else:
                p = text_problem(data, what=what, path=path, key=key, file=str(path))
                if p is None:
                    return data.decode("utf-8").removeprefix("\ufeff")
    raise error(f"{path}: {what} cannot be read.", problems=[p], file=path, rule=p.rule, fix=p.fix)
