"""Splitting joined select-multiple answers against the known option labels."""

from __future__ import annotations

from collections.abc import Iterable


def split_multi(value: str | None, options: Iterable[str], sep: str = ", ") -> list[str]:
    """Split a joined multi-select answer into its options, knowing that labels may hold ``sep``.

    Google Forms joins checkbox answers with ``", "``, Microsoft Forms with ``";"``, SurveyMonkey
    (condensed) with ``"; "``, Qualtrics with ``","``; a label such as ``"Noise, music"`` then
    cannot be split on the separator alone. At each position the longest known option followed by
    the separator (or the end) is taken; text that matches no option is returned as it stands up
    to the next separator (an "other" answer), so nothing is dropped.

    Parameters
    ----------
    value
        The joined answer; ``None`` or empty gives ``[]``.
    options
        The known option labels.
    sep
        The separator the platform used.

    Returns
    -------
    list of str
        The parts in the order given, known options exactly as in ``options``.

    Examples
    --------
    >>> split_multi("Noise, music, Traffic", ["Noise, music", "Traffic"])
    ['Noise, music', 'Traffic']
    """
    if value is None or value == "":
        return []
    if not sep:
        raise ValueError("sep must be a non-empty string")
    opts = sorted({o for o in options if o}, key=len, reverse=True)
    out: list[str] = []
    pos, n = 0, len(value)
    bare = sep.strip()
    while pos < n:
        for opt in opts:
            end = pos + len(opt)
            if value.startswith(opt, pos) and (
                end == n or value.startswith(sep, end) or (bare and value.startswith(bare, end))
            ):
                out.append(opt)
                pos = end
                break
        else:
            nxt = value.find(sep, pos)
            if nxt < 0 and bare:
                nxt = value.find(bare, pos)
            end = n if nxt < 0 else nxt
            part = value[pos:end].strip()
            if part:
                out.append(part)
            pos = end
        if value.startswith(sep, pos):
            pos += len(sep)
        elif bare and value.startswith(bare, pos):
            pos += len(bare)
        while pos < n and value[pos] == " " and sep.endswith(" "):
            pos += 1
    return out
