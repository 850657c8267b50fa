"""The words of the ``sample_funnel`` steps: shared by the report and the dashboard.

:func:`~survey_pipeline.results.tables.funnel_steps` reads the steps from the results tables;
:func:`funnel_step_label` says one in words (translations in the catalogs, :mod:`survey_pipeline.i18n`).
"""

from __future__ import annotations

from survey_pipeline.i18n import N_, t

__all__ = ["EXCLUSIONS", "FUNNEL_NOTE", "STEPS", "funnel_step_label"]

FUNNEL_NOTE = N_("The response rate counts every complete interview (AAPOR); the analysis leaves out those the "
                 "quality rules exclude (each counted once, under its first reason) and adds the partial "
                 "interviews it can use.")
STEPS = {
    "start_aapor_completes": N_("Complete interviews counted for the response rate (AAPOR)"),
    "start_kept": N_("Responses kept by ingest"),
    "excluded": N_("− excluded: {reason}"),
    "added_partials": N_("+ partial interviews analysed"),
    "added_other": N_("+ other responses analysed (outside the invited areas)"),
    "analysed": N_("= responses analysed"),
}
#: The quality flags that keep a response out, in words.
EXCLUSIONS = {
    "speeder": N_("answered too fast"), "straightliner": N_("same answer to every item of a grid"),
    "attention_failed": N_("failed the attention check"), "duplicate_id": N_("duplicate response id"),
    "duplicate_contact": N_("same contact answered twice"), "duplicate_answers": N_("duplicate answers"),
    "breakoff": N_("stopped too early"), "preview": N_("preview"), "test": N_("test"), "bot": N_("bot"),
    "fraud_duplicate": N_("fraud check: duplicate"), "fraud_score": N_("fraud check: score"),
    "unknown_area": N_("area not recognised"),
}


def funnel_step_label(step: str, reason: str | None, lang: str) -> str:
    """A ``sample_funnel`` step (:func:`~survey_pipeline.results.tables.funnel_steps`) in words, in
    ``lang``; an exclusion reason without words is shown as stored."""
    if step == "excluded":
        why = t(EXCLUSIONS[reason], lang) if reason in EXCLUSIONS else reason
        return t(STEPS["excluded"], lang, reason=why)
    return t(STEPS[step], lang)
