"""The report's own words in each supported language (``en``, ``es``).

Labels and wording of indicators, problems and services come from the results tables
(``label_<lang>``, ``wording_<lang>``); the plain-language findings are written in the report's
language from the comparison rows (:mod:`survey_pipeline.results.sentences`).
"""

from __future__ import annotations

from typing import Literal, get_args

from survey_pipeline.results.funnel import FUNNEL_TEXT, funnel_step_label

__all__ = ["LANGUAGES", "Language", "funnel_step_label", "t"]

Language = Literal["en", "es"]
LANGUAGES: tuple[str, ...] = get_args(Language)

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Community survey report", "es": "Informe de la encuesta comunitaria"},
    "summary": {"en": "Summary", "es": "Resumen"},
    "priorities": {"en": "Priorities", "es": "Prioridades"},
    "problem_topic": {"en": "Problems", "es": "Problemas"},
    "satisfaction": {"en": "Satisfaction", "es": "Satisfacción"},
    "safety": {"en": "Safety", "es": "Seguridad"},
    "trust": {"en": "Trust and scales", "es": "Confianza y escalas"},
    "contact": {"en": "Police contact", "es": "Contacto con la policía"},
    "importance": {"en": "Importance-satisfaction", "es": "Importancia-satisfacción"},
    "comparisons": {"en": "Area comparisons", "es": "Comparación de zonas"},
    "methodology": {"en": "Methodology", "es": "Metodología"},
    "project": {"en": "Project", "es": "Proyecto"},
    "wave": {"en": "Wave", "es": "Ola"},
    "previous_wave": {"en": "Previous wave", "es": "Ola anterior"},
    "none": {"en": "none", "es": "ninguna"},
    "computed": {"en": "Results computed", "es": "Resultados calculados"},
    "instrument": {"en": "Instrument", "es": "Cuestionario"},
    "areas_count": {"en": "Areas", "es": "Zonas"},
    "headline": {"en": "Headline indicators, citywide", "es": "Indicadores principales, toda la ciudad"},
    "benchmarks": {"en": "How the city compares", "es": "Cómo se compara la ciudad"},
    "benchmark": {"en": "Benchmark", "es": "Referencia"},
    "benchmarks_note": {"en": "Peers: the program's agencies, each one vote; the difference from the program mean is "
                              "tested with both samples' uncertainty and adjusted for the number of agencies. Outside "
                              "references are tested only when their standard error is published.",
                        "es": "Pares: las agencias del programa, un voto cada una; la diferencia con la media del "
                              "programa se prueba con la incertidumbre de ambas muestras y se ajusta por el número de "
                              "agencias. Las referencias externas solo se prueban cuando se publica su error estándar."},
    "top_priority": {"en": "Top priority, citywide", "es": "Prioridad principal, toda la ciudad"},
    "findings": {"en": "Largest reliable findings", "es": "Hallazgos fiables más grandes"},
    "no_findings": {"en": "No reliable difference large enough to report in this wave.",
                    "es": "Ninguna diferencia fiable suficientemente grande en esta ola."},
    "findings_language": {"en": "Findings: the largest reliable, significant changes, written from the comparisons.",
                          "es": "Hallazgos: los cambios fiables y significativos más grandes, redactados a partir de "
                                "las comparaciones."},
    "legend": {"en": "How to read this report", "es": "Cómo leer este informe"},
    "legend_ci": {"en": "95% CI (CI low to CI high): the 95% confidence interval of the estimate or change.",
                  "es": "IC 95% (IC inferior a IC superior): el intervalo de confianza del 95% de la estimación o del cambio."},
    "legend_suppressed": {
        "en": "Suppressed (grey rows, no number): too few answers or too imprecise to show; the note says why.",
        "es": "Suprimido (filas grises, sin número): muy pocas respuestas o demasiado imprecisa; la nota explica el motivo."},
    "legend_flag": {"en": "Interpret with care: shown, but less precise than usual; the note says why.",
                    "es": "Interpretar con cautela: se muestra, pero es menos precisa de lo habitual; la nota explica el motivo."},
    "legend_modeled": {
        "en": "◇ Modeled (small-area estimate): where a neighborhood or beat has too few answers for a reliable "
              "direct estimate, the number shown comes from a Fay–Herriot model that combines the area's answers "
              "with its district's estimate, its previous wave and its population; its interval is the model's. "
              "A modeled number is never tested for a change or a difference (those cells stay empty).",
        "es": "◇ Modelado (estimación de áreas pequeñas): donde un vecindario o un sector policial tiene muy pocas "
              "respuestas para una estimación directa fiable, el número mostrado sale de un modelo de Fay–Herriot "
              "que combina las respuestas de la zona con la estimación de su distrito, su ola anterior y su "
              "población; su intervalo es el del modelo. Un número modelado nunca se somete a pruebas de cambio ni "
              "de diferencia (esas celdas quedan vacías)."},
    "modeled": {"en": "modeled (small-area estimate)", "es": "modelado (estimación de áreas pequeñas)"},
    "legend_change": {
        "en": "Change: this wave minus the previous one (percentage points for shares); significant = adjusted p < 0.05.",
        "es": "Cambio: esta ola menos la anterior (puntos porcentuales en proporciones); significativo = p ajustado < 0,05."},
    "legend_share": {"en": "Shares are percentages of valid answers; scores and means are on the item's scale.",
                     "es": "Las proporciones son porcentajes de respuestas válidas; puntuaciones y medias en la escala del ítem."},
    "indicator": {"en": "Indicator", "es": "Indicador"},
    "level": {"en": "Level", "es": "Nivel"},
    "area": {"en": "Area", "es": "Zona"},
    "estimate": {"en": "Estimate", "es": "Estimación"},
    "ci95": {"en": "95% CI", "es": "IC 95%"},
    "change_ci95": {"en": "95% CI of the change", "es": "IC 95% del cambio"},
    "ci_low": {"en": "CI low", "es": "IC inferior"},
    "ci_high": {"en": "CI high", "es": "IC superior"},
    "n": {"en": "n (answers)", "es": "n (respuestas)"},
    "change": {"en": "Change since {wave}", "es": "Cambio desde {wave}"},
    "change_ci_low": {"en": "Change CI low", "es": "Cambio IC inferior"},
    "change_ci_high": {"en": "Change CI high", "es": "Cambio IC superior"},
    "p_adj": {"en": "Adjusted p", "es": "p ajustado"},
    "significant": {"en": "Significant", "es": "Significativo"},
    "vs_rest": {"en": "Difference vs rest of city", "es": "Diferencia con el resto de la ciudad"},
    "vs_rest_sig": {"en": "Significant vs rest", "es": "Significativo frente al resto"},
    "reliability": {"en": "Reliability", "es": "Fiabilidad"},
    "note": {"en": "Note", "es": "Nota"},
    "yes": {"en": "yes", "es": "sí"},
    "no": {"en": "no", "es": "no"},
    "rel_ok": {"en": "", "es": ""},
    "rel_flag": {"en": "interpret with care", "es": "interpretar con cautela"},
    "rel_suppress": {"en": "suppressed", "es": "suprimido"},
    "city": {"en": "City", "es": "Ciudad"},
    "district": {"en": "District", "es": "Distrito"},
    "neighborhood": {"en": "Neighborhood", "es": "Vecindario"},
    "beat": {"en": "Beat", "es": "Sector policial"},
    "statistic": {"en": "Statistic", "es": "Estadístico"},
    "stat_share": {"en": "share", "es": "proporción"},
    "stat_score": {"en": "score", "es": "puntuación"},
    "stat_mean": {"en": "mean", "es": "media"},
    "problem": {"en": "Problem", "es": "Problema"},
    "department": {"en": "Department", "es": "Departamento"},
    "rank": {"en": "Rank", "es": "Posición"},
    "rank_low": {"en": "Rank range from", "es": "Rango desde"},
    "rank_high": {"en": "Rank range to", "es": "Rango hasta"},
    "share_top": {"en": "Share naming it a top problem", "es": "Proporción que lo señala como problema principal"},
    "service": {"en": "Service", "es": "Servicio"},
    "drivers_title": {"en": "Key drivers of overall satisfaction and trust",
                      "es": "Factores clave de la satisfacción general y la confianza"},
    "drivers_outcome": {"en": "Overall rating", "es": "Valoración general"},
    "drivers_driver": {"en": "Service", "es": "Servicio"},
    "drivers_coefficient": {"en": "Importance (points)", "es": "Importancia (puntos)"},
    "drivers_n": {"en": "n (complete cases)", "es": "n (casos completos)"},
    "drivers_note": {
        "en": "Importance is the coefficient of a design-based linear probability model (svyglm on the raked "
              "weights): how many percentage points more likely residents satisfied with the service are to give "
              "the positive overall answer, the other services held equal, with its 95% interval and the p-value "
              "adjusted over the services of the model. These are associations among residents, not causes. Only "
              "residents who answered the overall question and every service count (complete cases, n); a model "
              "needs at least 100 of them and 10 per service.",
        "es": "La importancia es el coeficiente de un modelo lineal de probabilidad basado en el diseño (svyglm con "
              "los pesos calibrados): cuántos puntos porcentuales más probable es que quienes están satisfechos con "
              "el servicio den la respuesta general positiva, con los demás servicios iguales, con su intervalo del "
              "95% y el valor p ajustado por los servicios del modelo. Son asociaciones entre residentes, no causas. "
              "Solo cuentan quienes respondieron la pregunta general y todos los servicios (casos completos, n); un "
              "modelo necesita al menos 100 y 10 por servicio."},
    "importance_col": {"en": "Importance", "es": "Importancia"},
    "importance_se": {"en": "Importance SE", "es": "EE importancia"},
    "satisfaction_col": {"en": "Satisfaction", "es": "Satisfacción"},
    "satisfaction_se": {"en": "Satisfaction SE", "es": "EE satisfacción"},
    "is_score": {"en": "I-S score", "es": "Puntuación I-S"},
    "band": {"en": "Priority band", "es": "Banda de prioridad"},
    "band_highest": {"en": "highest (I-S >= .20)", "es": "máxima (I-S >= .20)"},
    "band_high": {"en": "high (.10-.20)", "es": "alta (.10-.20)"},
    "band_medium": {"en": "medium (.05-.10)", "es": "media (.05-.10)"},
    "band_low": {"en": "low (< .05)", "es": "baja (< .05)"},
    "priorities_intro": {
        "en": "What residents want fixed first in {wave}, by area, with 95% intervals and the range of ranks the "
              "intervals allow. Each problem is owned by the department that can act.",
        "es": "Lo que los residentes quieren resolver primero en {wave}, por zona, con intervalos del 95% y el rango "
              "de posiciones que permiten. Cada problema corresponde al departamento que puede actuar."},
    "topic_intro": {"en": "{topic} in {wave}, by area (headline statistic of each indicator, all residents).",
                    "es": "{topic} en {wave}, por zona (estadístico principal de cada indicador, todos los residentes)."},
    "importance_intro": {
        "en": "Services rated important but with lower satisfaction are the highest priorities (ETC Institute "
              "importance-satisfaction bands), {wave}.",
        "es": "Los servicios importantes con menor satisfacción son las prioridades más altas (bandas de "
              "importancia-satisfacción del ETC Institute), {wave}."},
    "comparisons_intro": {
        "en": "Each area against the rest of the city in {wave}: every area for the headline indicators, and every "
              "significant reliable difference for the others (p adjusted for multiple comparisons).",
        "es": "Cada zona frente al resto de la ciudad en {wave}: todas las zonas para los indicadores principales y "
              "toda diferencia fiable y significativa para los demás (p ajustado por comparaciones múltiples)."},
    "difference": {"en": "Difference vs rest", "es": "Diferencia con el resto"},
    "methodology_intro": {"en": "How the numbers were made and how far to trust them.",
                          "es": "Cómo se obtuvieron los números y cuánto confiar en ellos."},
    "sample": {"en": "Completed interviews per wave and area", "es": "Entrevistas completas por ola y zona"},
    "weighting_areas": {"en": "Weighting diagnostics by area, {wave}", "es": "Diagnóstico de ponderación por zona, {wave}"},
    "weighting_waves": {"en": "Weighting diagnostics by wave, citywide", "es": "Diagnóstico de ponderación por ola, toda la ciudad"},
    "completes": {"en": "Completes", "es": "Completas"},
    "n_eff": {"en": "Effective n (Kish)", "es": "n efectivo (Kish)"},
    "deff": {"en": "Design effect of weighting", "es": "Efecto de diseño de la ponderación"},
    "margin_gap": {"en": "Largest gap to a weighting target (relative)",
                   "es": "Mayor desvío respecto de un objetivo de ponderación (relativo)"},
    "weight_min": {"en": "Smallest weight", "es": "Peso mínimo"},
    "weight_max": {"en": "Largest weight", "es": "Peso máximo"},
    "weight_ratio": {"en": "Largest / smallest", "es": "Máximo / mínimo"},
    "trimmed": {"en": "Weights trimmed", "es": "Pesos recortados"},
    "weight_notes": {"en": "Notes", "es": "Notas"},
    "response_rates": {"en": "Response rates (AAPOR)", "es": "Tasas de respuesta (AAPOR)"},
    "no_response_rates": {"en": "No response rates: no invitations are recorded in survey.toml.",
                          "es": "Sin tasas de respuesta: survey.toml no registra invitaciones."},
    "funnel": {"en": "From the response rate's completes to the responses analysed, {wave}",
               "es": "De las encuestas completas de la tasa de respuesta a las respuestas analizadas, {wave}"},
    "step": {"en": "Step", "es": "Paso"},
    "responses": {"en": "Responses", "es": "Respuestas"},
    **FUNNEL_TEXT,
    "rules": {"en": "Reliability rules", "es": "Reglas de fiabilidad"},
    "setting": {"en": "Rule", "es": "Regla"},
    "value": {"en": "Value", "es": "Valor"},
    "reliability_counts": {"en": "Reliability of the estimates for all residents, {wave}",
                           "es": "Fiabilidad de las estimaciones para todos los residentes, {wave}"},
    "estimates_count": {"en": "Estimates", "es": "Estimaciones"},
    "reason": {"en": "Reason", "es": "Motivo"},
    "alpha": {"en": "Scale reliability (Cronbach's alpha)", "es": "Fiabilidad de escalas (alfa de Cronbach)"},
    "index": {"en": "Index", "es": "Índice"},
    "alpha_col": {"en": "Alpha", "es": "Alfa"},
    "wording": {"en": "Indicators and question wording", "es": "Indicadores y redacción de las preguntas"},
    "indicator_id": {"en": "Indicator id", "es": "Id del indicador"},
    "topic": {"en": "Topic", "es": "Tema"},
    "question": {"en": "Question wording", "es": "Redacción de la pregunta"},
    "definition": {"en": "Definition", "es": "Definición"},
    "rule_min_n": {"en": "Suppress with fewer valid answers than", "es": "Suprimir con menos respuestas válidas que"},
    "rule_nchs": {"en": "NCHS data presentation standards for proportions", "es": "Normas NCHS de presentación de proporciones"},
    "rule_ci": {"en": "Confidence interval method for shares", "es": "Método del intervalo de confianza de proporciones"},
    "rule_adjust": {"en": "Multiple-comparison adjustment", "es": "Ajuste por comparaciones múltiples"},
    "rule_level": {"en": "Confidence level", "es": "Nivel de confianza"},
    "generated": {"en": "Made by survey-pipeline from the results tables only.",
                  "es": "Generado por survey-pipeline solo a partir de las tablas de resultados."},
    "contents": {"en": "Contents", "es": "Contenido"},
}


def t(key: str, lang: str, **fmt: object) -> str:
    """The report text ``key`` in ``lang`` (English when missing), formatted with ``fmt``."""
    entry = TEXT[key]
    text = entry.get(lang, entry["en"])
    return text.format(**fmt) if fmt else text
