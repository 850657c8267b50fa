"""The language layer: gettext message catalogs read with Babel, and numbers written by the locale.

Every interface word of the library, the report and the dashboard is an English message in the
source (``t("Wave", lang)``), extracted with ``pybabel extract`` (``make messages``) into
``survey_pipeline/i18n/messages.pot``; each other language has one catalog,
``survey_pipeline/i18n/locale/<lang>/LC_MESSAGES/messages.po``. English is the source language and
has no catalog. The languages are the catalogs found (:func:`languages`): adding a ``.po`` file
adds a language. The instrument's own labels (questions, choices, indicators) stay in the
instrument YAML and reach readers through the results tables (``label_<lang>``).

Catalogs are compiled on first use: the ``.po`` file is read with Babel's reader and compiled in
memory to a gettext ``.mo`` (:func:`translations`, cached per process), so a fresh clone and an
installed wheel work without a build step (the ``.po`` files are package data). Untranslated and
fuzzy messages fall back to English (``tests/unit/test_i18n.py`` fails on any in a shipped catalog).

Numbers, percentages and dates go through Babel with the reader's locale (:func:`locale_of`):
``en_US`` for English, ``es_US`` for Spanish (``58.3%``, ``1,234``, as US and Mexican Spanish
write them) unless a project picks ``es_ES`` (``58,3 %``, ``1.234``) in ``[reporting] locales``
of survey.toml, ``vi_VN`` for Vietnamese. :func:`use_locales` sets a project's choice for a block
of work (the report and each dashboard request).
"""

from __future__ import annotations

import gettext as _gettext
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from copy import copy
from datetime import date, datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

__all__ = [
    "DEFAULT_LOCALES",
    "DOMAIN",
    "KEYWORDS",
    "LOCALE_DIR",
    "N_",
    "SOURCE_LANGUAGE",
    "UnknownLanguageError",
    "check_language",
    "fmt_date",
    "fmt_int",
    "fmt_number",
    "fmt_percent",
    "language_name",
    "languages",
    "locale_of",
    "nt",
    "number_separators",
    "project_locales",
    "t",
    "translations",
    "use_locales",
]

DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
#: The gettext functions ``pybabel extract`` looks for (``make messages``, the catalog test):
#: ``t(message, lang)``, ``nt(singular, plural, n, lang)`` and the marker ``N_(message)``.
KEYWORDS = {"t": (1,), "nt": (1, 2), "N_": None}
#: The locale numbers and dates are written in, by language, unless a project says otherwise.
DEFAULT_LOCALES: dict[str, str] = {"en": "en_US", "es": "es_US", "vi": "vi_VN"}


class UnknownLanguageError(ValueError):
    """A language without a catalog (the message names the languages there are)."""


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translated later with :func:`t`)."""
    return message


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages there are: English (the source) and each language with a catalog, sorted."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *[lang for lang in found if lang != SOURCE_LANGUAGE])


def check_language(lang: str) -> str:
    """``lang`` when it has a catalog; else :class:`UnknownLanguageError` naming the languages."""
    if lang not in languages():
        raise UnknownLanguageError(f"unknown language {lang!r}: use one of {', '.join(languages())}")
    return lang


def language_name(lang: str) -> str:
    """A language in its own words, for a language switch: ``es`` -> "Español", ``vi`` -> "Tiếng Việt"."""
    from babel import Locale

    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang``: its ``.po`` file read with Babel and compiled to a ``.mo``
    in memory on first use (cached). English, the source language, translates to itself.

    Fuzzy messages are left out (they read as English), as gettext does.
    """
    check_language(lang)
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def t(message: str, lang: str, **fmt: object) -> str:
    """``message`` (English, as in the source) in ``lang``, formatted with ``fmt`` (``str.format``)."""
    text = translations(lang).gettext(message) if lang != SOURCE_LANGUAGE else message
    return text.format(**fmt) if fmt else text


def nt(singular: str, plural: str, n: int, lang: str, **fmt: object) -> str:
    """The singular or plural of a message as ``lang``'s plural rule says for ``n`` (gettext's
    ``ngettext``), formatted with ``n`` and ``fmt``."""
    text = translations(lang).ngettext(singular, plural, n)
    return text.format(n=n, **fmt)


# ---------------------------------------------------------------------------------------------
# Numbers and dates, by locale

_LOCALES: ContextVar[Mapping[str, str]] = ContextVar("survey_pipeline_locales", default=DEFAULT_LOCALES)


@contextmanager
def use_locales(locales: Mapping[str, str] | None) -> Iterator[None]:
    """Within the block, write numbers of each language in ``locales`` (``{"es": "es_ES"}``; the
    others keep :data:`DEFAULT_LOCALES`). A project's ``[reporting] locales``."""
    token = _LOCALES.set({**DEFAULT_LOCALES, **(locales or {})})
    try:
        yield
    finally:
        _LOCALES.reset(token)


def project_locales(root: str | Path) -> dict[str, str]:
    """A project's ``[reporting] locales``, read through the settings model
    (:func:`survey_pipeline.settings.read_settings`); ``{}`` when there is no survey.toml or it is
    broken (:func:`survey_pipeline.project.check_project` reports a broken file)."""
    from survey_pipeline.errors import SurveyPipelineError
    from survey_pipeline.settings import read_settings

    toml = Path(root) / "survey.toml"
    if not toml.is_file():
        return {}
    try:
        return dict(read_settings(toml).reporting.locales)
    except SurveyPipelineError:
        return {}


def locale_of(lang: str) -> str:
    """The locale numbers and dates of ``lang`` are written in (``es`` -> ``es_US`` unless set)."""
    return _LOCALES.get().get(lang) or DEFAULT_LOCALES.get(lang) or lang


@cache
def _locale(tag: str):
    from babel import Locale

    return Locale.parse(tag)


@cache
def _pattern(tag: str, kind: str, decimals: int, sign: bool):
    from babel.numbers import parse_pattern

    loc = _locale(tag)
    base = (loc.percent_formats if kind == "percent" else loc.decimal_formats)[None]
    p = copy(base)
    p.frac_prec = (decimals, decimals)
    if sign:  # an explicit plus for positive numbers ("+3"), the locale's minus for negative ones
        pos = parse_pattern(base.pattern)
        p.prefix = ("+" + pos.prefix[0], pos.prefix[1] if len(pos.prefix) > 1 else "-" + pos.prefix[0])
    return p


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_number(x: float | None, lang: str, decimals: int = 0, *, sign: bool = False, missing: str = "–") -> str:
    """``x`` with ``decimals`` decimals, grouped, in ``lang``'s locale: ``1234.5`` -> "1,234.50"
    (en_US, es_US), "1.234,50" (es_ES, vi_VN). ``sign`` writes "+" before positive numbers."""
    if _missing(x):
        return missing
    tag = locale_of(lang)
    return _pattern(tag, "decimal", decimals, sign).apply(float(x), _locale(tag))


def fmt_int(n: float | None, lang: str, *, missing: str = "–") -> str:
    """A count, grouped the locale's way: ``1234`` -> "1,234" (en_US, es_US), "1.234" (es_ES)."""
    return fmt_number(None if _missing(n) else round(float(n)), lang, 0, missing=missing)


def fmt_percent(x: float | None, lang: str, decimals: int = 0, *, sign: bool = False, missing: str = "–") -> str:
    """A fraction as a percentage in ``lang``'s locale: ``0.583`` -> "58.3%" (en_US, es_US),
    "58,3 %" (es_ES), "58,3%" (vi_VN)."""
    if _missing(x):
        return missing
    tag = locale_of(lang)
    return _pattern(tag, "percent", decimals, sign).apply(float(x), _locale(tag))


def fmt_date(d: date | datetime | str | None, lang: str, format: str = "long", *, missing: str = "") -> str:
    """A date in ``lang``'s locale ("June 1, 2026", "1 de junio de 2026"); ISO text is parsed first."""
    if d is None or (isinstance(d, str) and not d.strip()):
        return missing
    from babel.dates import format_date

    if isinstance(d, str):
        try:
            d = datetime.fromisoformat(d.strip().replace("Z", "+00:00"))
        except ValueError:
            return d
    return format_date(d.date() if isinstance(d, datetime) else d, format=format, locale=_locale(locale_of(lang)))


def number_separators(lang: str) -> str:
    """The decimal and group separators of ``lang``'s locale as plotly's ``separators`` wants them
    (``".,"`` for en_US and es_US, ``",."`` for es_ES and vi_VN)."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    tag = locale_of(lang)
    return get_decimal_symbol(tag) + get_group_symbol(tag)
