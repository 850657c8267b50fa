"""Names a user types that become part of a file name or a path (wave ids, file stems).

A wave id becomes part of the mapping file's name (``mappings/<wave>__<export>.csv``), of report
and dashboard addresses and of the store's rows, so it is checked before any path is built from
it: 1 to :data:`WAVE_ID_MAX` characters, letters, digits, ``-`` and ``_``, starting with a letter
or a digit (so no ``/``, ``..``, spaces, quotes or ``<script>``). :func:`file_stem` makes the
other part of such a name (an export's file name) safe and short.
"""

from __future__ import annotations

import hashlib
import re

from survey_pipeline.errors import Problem, ProjectError

__all__ = ["WAVE_ID_EXAMPLE", "WAVE_ID_MAX", "WAVE_ID_RULE", "check_wave_id", "file_stem", "wave_id_problem"]

WAVE_ID_MAX = 40
WAVE_ID_EXAMPLE = "2026-spring"
WAVE_ID_RULE = (f"1 to {WAVE_ID_MAX} characters: letters, digits, - and _, starting with a letter or a digit "
                f"(e.g. {WAVE_ID_EXAMPLE} or 2026q1)")
_WAVE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
STEM_MAX = 80


def wave_id_problem(wave: object, *, file: str | None = None, column: str | None = None) -> Problem | None:
    """The problem with ``wave`` as a wave id, or None when it is a valid one."""
    if not isinstance(wave, str):
        msg = f"a wave id must be text, got {wave!r}."
    elif not wave.strip():
        msg = "the wave id is empty."
    elif len(wave) > WAVE_ID_MAX:
        msg = f"the wave id '{wave[:WAVE_ID_MAX]}...' has {len(wave)} characters (at most {WAVE_ID_MAX})."
    elif not _WAVE_ID.fullmatch(wave):
        bad = sorted({ch for ch in wave if not (ch.isascii() and (ch.isalnum() or ch in "-_"))})
        what = ("characters " + " ".join(repr(c) for c in bad)) if bad else "a first character that is not a letter or digit"
        msg = f"the wave id {wave!r} has {what}."
    else:
        return None
    return Problem(file=file, rule="bad-wave-id", message=msg, column=column,
                   fix=f"Use {WAVE_ID_RULE}.")


def check_wave_id(wave: object, *, file: str | None = None, column: str | None = None) -> str:
    """``wave`` when it is a valid wave id (see the module docstring); else :class:`ProjectError`."""
    p = wave_id_problem(wave, file=file, column=column)
    if p is not None:
        raise ProjectError(f"{p.message}", problems=[p], file=file, rule="bad-wave-id")
    return wave  # type: ignore[return-value]


def file_stem(name: str) -> str:
    """A short, safe file-name part for ``name``: characters other than letters, digits, ``.``,
    ``-`` and ``_`` become ``_``; longer than :data:`STEM_MAX` characters, it is cut and a short
    hash of the whole name keeps different names apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "file"
    if len(safe) > STEM_MAX:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe[:STEM_MAX - 11]}-{digest}"
    return safe
