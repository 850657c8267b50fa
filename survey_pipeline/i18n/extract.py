"""The message extractor ``pybabel extract`` runs on the sources (``babel.cfg``): Babel's own Python
extractor, plus the calls inside f-strings.

Up to Python 3.11 the tokenizer reads an f-string as one string token, so Babel cannot see a
``t("Wave", lang)`` written inside ``f"{t('Wave', lang)}: ..."``; the parse tree can. This
extractor yields what Babel finds and then every ``t``/``nt``/``N_`` call with literal messages
inside an f-string that Babel did not report (same line, same message), so the catalogs hold every
message whatever Python runs the extraction.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from io import BytesIO
from typing import IO, Any

__all__ = ["extract_python"]


def extract_python(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: list[str],
                   options: Mapping[str, Any]) -> Iterator[tuple[int, str, str | tuple[str, ...], list[str]]]:
    """Babel's extraction method interface: ``(lineno, funcname, message(s), comments)`` per call."""
    from babel.messages.extract import extract_python as babel_python

    source = fileobj.read()
    seen: set[tuple[int, str | None]] = set()
    for lineno, funcname, messages, comments in babel_python(BytesIO(source), keywords, comment_tags, options):
        seen.add((lineno, _first(messages)))
        yield lineno, funcname, messages, comments
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        for call in ast.walk(node):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in keywords):
                continue
            # as Babel reports a call: every positional argument, None where it is not a literal string
            args = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                         for a in call.args)
            messages = args[0] if len(args) == 1 else args
            if (call.lineno, _first(messages)) not in seen and _first(messages) is not None:
                seen.add((call.lineno, _first(messages)))
                yield call.lineno, call.func.id, messages, []


def _first(messages: object) -> str | None:
    return messages[0] if isinstance(messages, tuple) and messages else messages  # type: ignore[return-value]
