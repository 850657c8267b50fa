"""Words the analysis writes into the results tables in each language of the instrument: messages of
the catalogs (:mod:`survey_pipeline.i18n`, ``docs/i18n.md``), extracted from this module alone (babel.cfg)."""

from __future__ import annotations

from survey_pipeline.i18n import N_, languages, translations

__all__ = ["THEME_WORDING", "in_language"]

#: The wording of a comment-theme indicator (``wording_<lang>`` of the ``indicators`` table).
THEME_WORDING = N_("Share of respondents who commented whose comments mention: {label}")


def in_language(message: str, lang: str, **fmt: object) -> str:
    """``message`` in ``lang`` when it has a catalog, else in English (an instrument may declare a
    language the interface has no catalog for), formatted with ``fmt``."""
    return translations(lang if lang in languages() else "en").gettext(message).format(**fmt)
