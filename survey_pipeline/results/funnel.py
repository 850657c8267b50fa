"""The words of the ``sample_funnel`` steps, in each language: shared by the report and the dashboard.

:func:`~survey_pipeline.results.tables.funnel_steps` reads the steps from the results tables;
:func:`funnel_step_label` says one in words.
"""

from __future__ import annotations

__all__ = ["FUNNEL_TEXT", "funnel_step_label"]

FUNNEL_TEXT: dict[str, dict[str, str]] = {
    "funnel_note": {
        "en": "The response rate counts every complete interview (AAPOR); the analysis leaves out those the quality "
              "rules exclude (each counted once, under its first reason) and adds the partial interviews it can use.",
        "es": "La tasa de respuesta cuenta toda entrevista completa (AAPOR); el análisis deja fuera las que excluyen "
              "las reglas de calidad (cada una una vez, por su primer motivo) y suma las entrevistas parciales que "
              "puede usar."},
    "funnel_start_aapor_completes": {"en": "Complete interviews counted for the response rate (AAPOR)",
                                     "es": "Entrevistas completas contadas en la tasa de respuesta (AAPOR)"},
    "funnel_start_kept": {"en": "Responses kept by ingest", "es": "Respuestas conservadas en la carga"},
    "funnel_excluded": {"en": "− excluded: {reason}", "es": "− excluidas: {reason}"},
    "funnel_added_partials": {"en": "+ partial interviews analysed", "es": "+ entrevistas parciales analizadas"},
    "funnel_added_other": {"en": "+ other responses analysed (outside the invited areas)",
                           "es": "+ otras respuestas analizadas (fuera de las zonas invitadas)"},
    "funnel_analysed": {"en": "= responses analysed", "es": "= respuestas analizadas"},
    "excl_speeder": {"en": "answered too fast", "es": "respondieron demasiado rápido"},
    "excl_straightliner": {"en": "same answer to every item of a grid", "es": "la misma respuesta en toda una tabla"},
    "excl_attention_failed": {"en": "failed the attention check", "es": "no superaron la pregunta de control"},
    "excl_duplicate_id": {"en": "duplicate response id", "es": "identificador de respuesta duplicado"},
    "excl_duplicate_contact": {"en": "same contact answered twice", "es": "el mismo contacto respondió dos veces"},
    "excl_duplicate_answers": {"en": "duplicate answers", "es": "respuestas duplicadas"},
    "excl_breakoff": {"en": "stopped too early", "es": "abandonaron demasiado pronto"},
    "excl_preview": {"en": "preview", "es": "vista previa"}, "excl_test": {"en": "test", "es": "prueba"},
    "excl_bot": {"en": "bot", "es": "bot"},
    "excl_fraud_duplicate": {"en": "fraud check: duplicate", "es": "control de fraude: duplicado"},
    "excl_fraud_score": {"en": "fraud check: score", "es": "control de fraude: puntuación"},
    "excl_unknown_area": {"en": "area not recognised", "es": "zona no reconocida"},
}
"""The words of the ``sample_funnel`` steps (report and dashboard)."""


def funnel_step_label(step: str, reason: str | None, lang: str) -> str:
    """A ``sample_funnel`` step (:func:`~survey_pipeline.results.tables.funnel_steps`) in words, in
    ``lang`` (English where a word is missing); an exclusion reason without words is shown as stored."""
    def word(key: str) -> str:
        entry = FUNNEL_TEXT[key]
        return entry.get(lang, entry["en"])

    if step == "excluded":
        key = f"excl_{reason}"
        return word("funnel_excluded").format(reason=word(key) if key in FUNNEL_TEXT else reason)
    return word(f"funnel_{step}")
