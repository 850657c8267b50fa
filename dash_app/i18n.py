"""Interface text in English and Spanish. Indicator labels come from the results tables."""

from __future__ import annotations

import re
from typing import Literal

from survey_pipeline.results.funnel import FUNNEL_TEXT
from survey_pipeline.results.sentences import localize_numbers  # noqa: F401  (one way to write numbers)
from survey_pipeline.results.sentences import wave_label as _wave_label

Lang = Literal["en", "es"]
LANGS: tuple[Lang, ...] = ("en", "es")

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Community survey results", "es": "Resultados de la encuesta comunitaria"},
    "skip": {"en": "Skip to main content", "es": "Saltar al contenido principal"},
    "language": {"en": "Language", "es": "Idioma"},
    "nav": {"en": "Pages", "es": "Páginas"},
    "overview": {"en": "Overview", "es": "Resumen"},
    "priorities": {"en": "Priorities", "es": "Prioridades"},
    "map": {"en": "Map", "es": "Mapa"},
    "trends": {"en": "Trends", "es": "Tendencias"},
    "compare": {"en": "Compare areas", "es": "Comparar zonas"},
    "equity": {"en": "Equity", "es": "Equidad"},
    "importance": {"en": "Importance–satisfaction", "es": "Importancia–satisfacción"},
    "methodology": {"en": "Methodology", "es": "Metodología"},
    "comments": {"en": "Comments", "es": "Comentarios"},
    "wave": {"en": "Wave", "es": "Ola"},
    "indicator": {"en": "Indicator", "es": "Indicador"},
    "level": {"en": "Area level", "es": "Nivel geográfico"},
    "area": {"en": "Area", "es": "Zona"},
    "areas": {"en": "Areas", "es": "Zonas"},
    "group": {"en": "Demographic group", "es": "Grupo demográfico"},
    "order": {"en": "Order", "es": "Orden"},
    "by_rank": {"en": "By rank", "es": "Por rango"},
    "by_department": {"en": "By department", "es": "Por departamento"},
    "city": {"en": "City", "es": "Ciudad"},
    "city_benchmarks": {"en": "The city against its benchmarks", "es": "La ciudad frente a sus referencias"},
    "district": {"en": "District", "es": "Distrito"},
    "neighborhood": {"en": "Neighborhood", "es": "Vecindario"},
    "beat": {"en": "Beat", "es": "Sector policial"},
    "download_csv": {"en": "Download CSV", "es": "Descargar CSV"},
    "download_xlsx": {"en": "Download Excel", "es": "Descargar Excel"},
    "download_label": {"en": "Data behind this view", "es": "Datos de esta vista"},
    "table_view": {"en": "Table view of the chart", "es": "Vista de tabla del gráfico"},
    "all_columns": {"en": "Show every column", "es": "Mostrar todas las columnas"},
    "suppressed": {"en": "suppressed", "es": "suprimido"},
    "no_estimate": {"en": "no estimate", "es": "sin estimación"},
    "no_data": {"en": "No results for this selection.", "es": "No hay resultados para esta selección."},
    "no_map": {"en": "No area shapes (areas.geojson) in this project.",
               "es": "Este proyecto no tiene formas de zonas (areas.geojson)."},
    "latest_wave": {"en": "Latest wave", "es": "Ola más reciente"},
    "change_since": {"en": "Change since {wave}", "es": "Cambio desde {wave}"},
    "significant": {"en": "a significant change (adjusted p {p})", "es": "un cambio significativo (p ajustado {p})"},
    "not_significant": {"en": "no clear change: not significant (adjusted p {p})",
                        "es": "sin cambio claro: no significativo (p ajustado {p})"},
    "no_change": {"en": "no earlier wave to compare", "es": "no hay ola anterior para comparar"},
    "top_priority": {"en": "Top priority", "es": "Prioridad principal"},
    "findings": {"en": "Largest reliable findings", "es": "Hallazgos fiables más importantes"},
    "no_findings": {"en": "No significant, reliable differences this wave.",
                    "es": "No hay diferencias significativas y fiables en esta ola."},
    "ci_note": {"en": "Numbers in brackets are 95% confidence intervals.",
                "es": "Los números entre paréntesis son intervalos de confianza del 95%."},
    "estimate": {"en": "Estimate", "es": "Estimación"},
    "with_ci": {"en": "{label} (95% CI)", "es": "{label} (IC 95%)"},
    "ci_low_col": {"en": "95% CI low", "es": "IC 95% inferior"},
    "ci_high_col": {"en": "95% CI high", "es": "IC 95% superior"},
    "ci": {"en": "95% CI", "es": "IC 95%"},
    "n": {"en": "n (unweighted)", "es": "n (sin ponderar)"},
    "reliability": {"en": "Reliability", "es": "Fiabilidad"},
    "reason": {"en": "Why", "es": "Motivo"},
    "rank": {"en": "Rank", "es": "Rango"},
    "rank_range": {"en": "Rank range (95%)", "es": "Rango posible (95%)"},
    "problem": {"en": "Problem", "es": "Problema"},
    "department": {"en": "Department", "es": "Departamento"},
    "share_top": {"en": "Share naming it a top problem", "es": "Proporción que lo señala como problema principal"},
    "difference": {"en": "Difference vs rest of city", "es": "Diferencia con el resto de la ciudad"},
    "p_adj": {"en": "Adjusted p", "es": "p ajustado"},
    "sig_mark": {"en": "Significance", "es": "Significación"},
    "higher": {"en": "▲ higher", "es": "▲ mayor"},
    "lower": {"en": "▼ lower", "es": "▼ menor"},
    "same": {"en": "– no clear difference", "es": "– sin diferencia clara"},
    "city_value": {"en": "City", "es": "Ciudad"},
    "all_residents": {"en": "All residents", "es": "Todos los residentes"},
    "service": {"en": "Service", "es": "Servicio"},
    "importance_col": {"en": "Importance", "es": "Importancia"},
    "satisfaction_col": {"en": "Satisfaction", "es": "Satisfacción"},
    "is_score": {"en": "I–S score", "es": "Puntuación I–S"},
    "band": {"en": "Priority band", "es": "Banda de prioridad"},
    "band_highest": {"en": "Highest priority (I–S ≥ .20)", "es": "Prioridad máxima (I–S ≥ .20)"},
    "band_high": {"en": "High priority (.10–.20)", "es": "Prioridad alta (.10–.20)"},
    "band_medium": {"en": "Medium priority (.05–.10)", "es": "Prioridad media (.05–.10)"},
    "band_low": {"en": "Low priority (< .05)", "es": "Prioridad baja (< .05)"},
    "areas_summary": {"en": "{k} areas (each in the download)", "es": "{k} zonas (cada una en la descarga)"},
    "median": {"en": "median", "es": "mediana"},
    "sample": {"en": "Sample sizes", "es": "Tamaños de muestra"},
    "response_rates": {"en": "Response rates", "es": "Tasas de respuesta"},
    "weighting": {"en": "Weighting diagnostics", "es": "Diagnóstico de ponderación"},
    "rules": {"en": "Reliability rules", "es": "Reglas de fiabilidad"},
    "alpha": {"en": "Scale reliability (Cronbach's alpha)", "es": "Fiabilidad de escalas (alfa de Cronbach)"},
    "wording": {"en": "Indicators and question wording", "es": "Indicadores y redacción de las preguntas"},
    "metric": {"en": "Metric", "es": "Métrica"},
    "value": {"en": "Value", "es": "Valor"},
    "detail": {"en": "Detail", "es": "Detalle"},
    "definition": {"en": "Definition", "es": "Definición"},
    "question": {"en": "Question", "es": "Pregunta"},
    "run": {"en": "Analysis run", "es": "Ejecución del análisis"},
    "group_value": {"en": "Group", "es": "Grupo"},
    "age_group": {"en": "Age group", "es": "Grupo de edad"},
    "sex": {"en": "Sex", "es": "Sexo"},
    "race_ethnicity": {"en": "Race and ethnicity", "es": "Raza y etnia"},
    "tenure": {"en": "Housing tenure", "es": "Tenencia de vivienda"},
    "overview_intro": {"en": "Headline indicators for {wave}, citywide.",
                       "es": "Indicadores principales de {wave}, en toda la ciudad."},
    "priorities_intro": {"en": "What residents want fixed first, with 95% intervals. Problems are owned by the department that can act.",
                         "es": "Lo que los residentes quieren resolver primero, con intervalos del 95%. Cada problema corresponde al departamento que puede actuar."},
    "map_intro": {"en": "Grey areas have no reliable estimate (suppressed for too few answers, or not surveyed); hover for the reason. The colour range of a share spans at least 20 percentage points, so small differences do not look large.",
                  "es": "Las zonas grises no tienen una estimación fiable (suprimidas por pocas respuestas, o sin encuesta); pase el cursor para ver el motivo. La escala de color de una proporción abarca al menos 20 puntos porcentuales, para que diferencias pequeñas no parezcan grandes."},
    "trends_intro": {"en": "The city is the bold black line with its 95% confidence band in grey; each area's vertical bar is its 95% interval (areas are set slightly apart so the bars stay readable). Suppressed points are left out.",
                     "es": "La ciudad es la línea negra gruesa con su banda de confianza del 95% en gris; la barra vertical de cada zona es su intervalo del 95% (las zonas se separan un poco para que las barras se lean). Los puntos suprimidos se omiten."},
    "compare_intro": {"en": "Each area against the rest of the city; ▲/▼ mark differences that stay significant after "
                            "adjusting for the many areas compared at once. The intervals are not adjusted, so an "
                            "interval can miss zero while the difference is still not clear.",
                      "es": "Cada zona frente al resto de la ciudad; ▲/▼ marcan diferencias que siguen siendo "
                            "significativas tras ajustar por las muchas zonas comparadas a la vez. Los intervalos no "
                            "están ajustados: un intervalo puede excluir el cero sin que la diferencia sea clara."},
    "equity_intro": {"en": "The indicator by demographic group, with 95% intervals; the dashed line is all residents. "
                           "A diamond marks an estimate to use with caution (hover for why).",
                     "es": "El indicador por grupo demográfico, con intervalos del 95%; la línea discontinua son todos "
                           "los residentes. Un rombo marca una estimación que debe usarse con cautela (pase el cursor "
                           "para ver el motivo)."},
    "importance_intro": {"en": "Services residents rate important but are less satisfied with are the highest priorities (top left).",
                         "es": "Los servicios importantes con menor satisfacción son las prioridades más altas (arriba a la izquierda)."},
    "drivers_title": {"en": "Key drivers: which police services go with the overall ratings",
                      "es": "Factores clave: qué servicios policiales van con las valoraciones generales"},
    "drivers_intro": {"en": "Each dot is a service, at the share of residents satisfied with it (across) and its "
                            "importance from the model (up): how many percentage points more likely residents "
                            "satisfied with the service are to give the positive overall answer, the other services "
                            "held equal, with its 95% interval. Filled dots stay significant after adjusting for the "
                            "services compared. These are associations, not causes: a service high on the chart is "
                            "where to look, not proof that improving it will raise the overall rating. Only residents "
                            "who answered the overall question and every service count (complete cases; n on each panel).",
                      "es": "Cada punto es un servicio, según la proporción de residentes satisfechos con él (en "
                            "horizontal) y su importancia según el modelo (en vertical): cuántos puntos porcentuales "
                            "más probable es que quienes están satisfechos con el servicio den la respuesta general "
                            "positiva, con los demás servicios iguales, con su intervalo del 95%. Los puntos rellenos "
                            "siguen siendo significativos tras ajustar por los servicios comparados. Son asociaciones, "
                            "no causas: un servicio alto en el gráfico indica dónde mirar, no prueba que mejorarlo "
                            "suba la valoración general. Solo cuentan quienes respondieron la pregunta general y todos "
                            "los servicios (casos completos; n en cada panel)."},
    "drivers_x": {"en": "Satisfied with the service (%)", "es": "Satisfechos con el servicio (%)"},
    "drivers_y": {"en": "Importance: points more likely positive", "es": "Importancia: puntos más de respuesta positiva"},
    "drivers_none": {"en": "No driver model for this area: models are fitted for the city and for each district with "
                           "enough complete answers.",
                     "es": "No hay modelo de factores clave para esta zona: los modelos se ajustan para la ciudad y "
                           "para cada distrito con suficientes respuestas completas."},
    "drivers_n": {"en": "n = {n}", "es": "n = {n}"},
    "reason_drivers_few": {"en": "only {n} residents answered the overall question and every service: too few for a model",
                           "es": "solo {n} residentes respondieron la pregunta general y todos los servicios: "
                                 "muy pocos para un modelo"},
    "methodology_intro": {"en": "How the numbers were made and how far to trust them.",
                          "es": "Cómo se obtuvieron los números y cuánto confiar en ellos."},
    "not_found": {"en": "Page not found.", "es": "Página no encontrada."},
    "safety": {"en": "Safety", "es": "Seguridad"},
    "satisfaction": {"en": "Satisfaction", "es": "Satisfacción"},
    "trust": {"en": "Trust", "es": "Confianza"},
    "topic_safety": {"en": "Feeling safe", "es": "Sensación de seguridad"},
    "topic_satisfaction": {"en": "Satisfaction", "es": "Satisfacción"},
    "topic_importance": {"en": "Most important service", "es": "Servicio más importante"},
    "topic_problem": {"en": "Serious problem", "es": "Problema grave"},
    "topic_priority": {"en": "Top priority", "es": "Prioridad principal"},
    "topic_trust": {"en": "Trust", "es": "Confianza"},
    "topic_scale": {"en": "Index", "es": "Índice"},
    "topic_contact": {"en": "Police contact", "es": "Contacto con la policía"},
    "pts": {"en": "pts", "es": "puntos"},
    "pts_long": {"en": "percentage points", "es": "puntos porcentuales"},
    "to": {"en": "to", "es": "a"},
    "share_of_satisfaction": {"en": "satisfied", "es": "satisfechos"},
    "share_of_safety": {"en": "feel safe", "es": "se sienten seguros"},
    "share_of_trust": {"en": "trust the police", "es": "confían en la policía"},
    "share_of_other": {"en": "of residents", "es": "de los residentes"},
    "on_scale": {"en": "on a {lo}–{hi} scale", "es": "en una escala de {lo} a {hi}"},
    "index_word": {"en": "index", "es": "índice"},
    "points": {"en": "points", "es": "puntos"},
    "change_vs": {"en": "{change} since {wave}", "es": "{change} desde {wave}"},
    "stat": {"en": "Show as", "es": "Mostrar como"},
    "stat_share": {"en": "Percent", "es": "Porcentaje"},
    "share_axis": {"en": "Share of residents", "es": "Proporción de residentes"},
    "stat_mean": {"en": "Average answer", "es": "Respuesta media"},
    "stat_score": {"en": "Index score", "es": "Puntuación del índice"},
    "rank_of": {"en": "rank {rank} of {k}", "es": "puesto {rank} de {k}"},
    "rank_between": {"en": "rank {lo}–{hi} of {k} (95%)", "es": "puesto {lo}–{hi} de {k} (95%)"},
    "named_by": {"en": "name it a top problem", "es": "lo señalan como problema principal"},
    "reason_few": {"en": "fewer than {n} answers", "es": "menos de {n} respuestas"},
    "reason_neff": {"en": "too few answers once weighted (effective sample below {n})",
                    "es": "muy pocas respuestas tras ponderar (muestra efectiva menor que {n})"},
    "reason_wide": {"en": "too uncertain (confidence interval too wide)",
                    "es": "demasiado incierto (intervalo de confianza demasiado amplio)"},
    "reason_extreme": {"en": "0% or 100%: too few answers to tell", "es": "0% o 100%: muy pocas respuestas para saberlo"},
    "reason_wave": {"en": "one of the waves is unreliable", "es": "una de las olas no es fiable"},
    "weighting_fit": {"en": "largest gap to census targets", "es": "mayor diferencia con el censo"},
    "moe": {"en": "± margin of error (95%, at 50%)", "es": "± margen de error (95%, con 50%)"},
    "n_eff": {"en": "effective n", "es": "n efectiva"},
    "rows_count": {"en": "estimates", "es": "estimaciones"},
    "sample_note": {"en": "The margin of error is for a 50% answer, the widest case, and allows for the weighting "
                           "(effective n); an estimate for a smaller group is less precise.",
                    "es": "El margen de error corresponde a una respuesta del 50%, el caso más amplio, y tiene en cuenta "
                          "la ponderación (n efectiva); la estimación de un grupo más pequeño es menos precisa."},
    "rules_note": {"en": "Estimates with too few answers or too wide an interval are suppressed (not shown as "
                          "numbers); borderline ones are flagged.",
                   "es": "Las estimaciones con muy pocas respuestas o un intervalo demasiado amplio se suprimen (no se "
                         "muestran como números); las dudosas se marcan."},
    "metric_completes": {"en": "Completed surveys", "es": "Encuestas completas"},
    "sample_funnel": {"en": "From the response rate's completes to the responses analysed",
                      "es": "De las encuestas completas de la tasa de respuesta a las respuestas analizadas"},
    "sample_funnel_note": FUNNEL_TEXT["funnel_note"],
    "step": {"en": "Step", "es": "Paso"},
    "responses": {"en": "Responses", "es": "Respuestas"},
    "metric_kish_n_eff": {"en": "Effective sample size (Kish)", "es": "Tamaño de muestra efectivo (Kish)"},
    "metric_deff_weighting": {"en": "Design effect of the weights", "es": "Efecto de diseño de los pesos"},
    "metric_weight_min": {"en": "Smallest weight", "es": "Peso mínimo"},
    "metric_weight_max": {"en": "Largest weight", "es": "Peso máximo"},
    "metric_weight_ratio": {"en": "Largest / smallest weight", "es": "Peso máximo / mínimo"},
    "metric_max_margin_error": {"en": "Largest gap between weighted totals and census targets",
                                "es": "Mayor diferencia entre totales ponderados y el censo"},
    "metric_trimmed": {"en": "Weights trimmed", "es": "Pesos recortados"},
    "metric_base_weight_areas": {"en": "Areas with a base weight", "es": "Zonas con peso base"},
    "metric_collapsed_neighborhood": {"en": "Neighborhoods merged for weighting", "es": "Vecindarios agrupados para ponderar"},
    "metric_imputed_age_group": {"en": "Age group imputed (answers)", "es": "Grupo de edad imputado (respuestas)"},
    "metric_imputed_sex": {"en": "Sex imputed (answers)", "es": "Sexo imputado (respuestas)"},
    "metric_imputed_race_ethnicity": {"en": "Race and ethnicity imputed (answers)", "es": "Raza y etnia imputadas (respuestas)"},
    "metric_imputed_tenure": {"en": "Housing tenure imputed (answers)", "es": "Tenencia imputada (respuestas)"},
    "metric_recoded_sex": {"en": "Sex recoded (answers)", "es": "Sexo recodificado (respuestas)"},
    "metric_recoded_race_ethnicity": {"en": "Race and ethnicity recoded (answers)", "es": "Raza y etnia recodificadas (respuestas)"},
    "metric_estimates_ok": {"en": "Estimates shown", "es": "Estimaciones mostradas"},
    "metric_estimates_flag": {"en": "Estimates shown with a caution", "es": "Estimaciones mostradas con advertencia"},
    "metric_estimates_suppress": {"en": "Estimates suppressed", "es": "Estimaciones suprimidas"},
    "metric_alpha": {"en": "Cronbach's alpha", "es": "Alfa de Cronbach"},
    "metric_RR1": {"en": "Response rate (AAPOR RR1)", "es": "Tasa de respuesta (AAPOR RR1)"},
    "metric_RR3": {"en": "Response rate, unknown eligibility estimated (RR3)",
                   "es": "Tasa de respuesta, elegibilidad desconocida estimada (RR3)"},
    "metric_COOP1": {"en": "Cooperation rate (COOP1)", "es": "Tasa de cooperación (COOP1)"},
    "alpha_low": {"en": "below 0.70: the items hang together weakly; read this index with care",
                  "es": "menor que 0,70: los ítems concuerdan poco; interprete este índice con cuidado"},
    "ranking_title": {"en": "Each {level}, highest first", "es": "Cada {level}, de mayor a menor"},
    "ranking_intro": {"en": "The same values as the map, with 95% intervals; the dashed line is the city. Areas whose "
                            "intervals overlap may not really differ; a diamond marks an estimate to use with caution.",
                      "es": "Los mismos valores del mapa, con intervalos del 95%; la línea discontinua es la ciudad. "
                            "Las zonas cuyos intervalos se solapan quizá no difieran realmente; un rombo marca una "
                            "estimación que debe usarse con cautela."},
    "caution": {"en": "use with caution", "es": "usar con cautela"},
    "index_col": {"en": "Index", "es": "Índice"},
    "alpha_card": {"en": "⚠ Its questions agree only weakly (Cronbach's alpha {alpha}, below 0.70): read with care.",
                   "es": "⚠ Sus preguntas concuerdan poco (alfa de Cronbach {alpha}, menor que 0,70): interprételo con cuidado."},
    "modeled_legend": {"en": "◇ Modeled (small-area estimate)", "es": "◇ Modelado (estimación de áreas pequeñas)"},
    "modeled_hover": {"en": "modeled (small-area estimate)", "es": "modelado (estimación de áreas pequeñas)"},
    "source": {"en": "Source", "es": "Fuente"},
    "direct": {"en": "Direct (survey answers)", "es": "Directa (respuestas de la encuesta)"},
    "modeled_short": {"en": "◇ Modeled (small-area estimate)", "es": "◇ Modelada (estimación de áreas pequeñas)"},
    "modeled_tag": {"en": "◇ Modeled", "es": "◇ Modelado"},
    "direct_tag": {"en": "Direct", "es": "Directo"},
    "not_tested_modeled": {"en": "not tested (modeled number)", "es": "sin prueba (número modelado)"},
    "modeled_note": {"en": "◇ marks a modeled number (small-area estimate): where an area has too few answers for a "
                           "reliable number of its own, a model combines its answers with its district, its previous "
                           "wave and its population. It is shown with its 95% interval and is never tested for "
                           "significant differences.",
                     "es": "◇ marca un número modelado (estimación de áreas pequeñas): donde una zona tiene muy pocas "
                           "respuestas para un número fiable propio, un modelo combina sus respuestas con su distrito, "
                           "su ola anterior y su población. Se muestra con su intervalo del 95% y nunca se somete a "
                           "pruebas de diferencias significativas."},
    "methodology_modeled": {"en": "Small areas. Where a neighborhood or beat has too few answers for a reliable "
                                  "direct estimate, the map, the comparison and the trends show a modeled number "
                                  "(◇, small-area estimate): a Fay–Herriot model combines the area's own answers "
                                  "with its district's estimate, its previous wave and its population make-up, and "
                                  "the areas are adjusted to add up to their district and the city. Its interval "
                                  "comes from the model's mean squared error; a modeled number whose error is over "
                                  "half of it is still suppressed, and modeled numbers never enter the significant "
                                  "changes or differences.",
                            "es": "Zonas pequeñas. Donde un vecindario o un sector policial tiene muy pocas respuestas "
                                  "para una estimación directa fiable, el mapa, la comparación y las tendencias "
                                  "muestran un número modelado (◇, estimación de áreas pequeñas): un modelo de "
                                  "Fay–Herriot combina las respuestas de la zona con la estimación de su distrito, su "
                                  "ola anterior y la composición de su población, y las zonas se ajustan para sumar "
                                  "lo de su distrito y la ciudad. Su intervalo sale del error cuadrático medio del "
                                  "modelo; un número modelado cuyo error supera la mitad del número sigue suprimido, "
                                  "y los números modelados nunca entran en los cambios o diferencias significativos."},
    "reason_modeled": {"en": "modeled (small-area estimate)", "es": "modelado (estimación de áreas pequeñas)"},
    "reason_rrmse": {"en": "model error {n}% of the estimate", "es": "error del modelo del {n}% de la estimación"},
    "reason_rrmse_c": {"en": "model error {n}% of 100% minus the estimate",
                       "es": "error del modelo del {n}% de 100% menos la estimación"},
    "reason_synthetic": {"en": "no usable direct estimate: from the model alone",
                         "es": "sin estimación directa utilizable: solo del modelo"},
    "not_shown": {"en": "Not shown (too few answers or too uncertain here)",
                  "es": "No se muestran (muy pocas respuestas o demasiado inciertos aquí)"},
    "satisfaction_axis": {"en": "Satisfied with the service (%)", "es": "Satisfechos con el servicio (%)"},
    "importance_axis": {"en": "Name it among the most important (%)", "es": "Lo señalan entre los más importantes (%)"},
}

def wave_label(wave: str, lang: str) -> str:
    """A wave id as read: '2026-spring' -> 'Spring 2026' / 'Primavera 2026', '2026q1' -> '2026 Q1';
    other ids as stored (:func:`survey_pipeline.results.sentences.wave_label`, as the findings)."""
    return _wave_label(wave, lang)


_REASONS = [  # (pattern of the analysis' reliability reason, text key)
    (re.compile(r"^modeled without a usable direct estimate"), "reason_synthetic"),
    (re.compile(r"^modeled$"), "reason_modeled"),
    (re.compile(r"relative RMSE of its complement (\d+)%"), "reason_rrmse_c"),
    (re.compile(r"relative RMSE (\d+)%"), "reason_rrmse"),
    (re.compile(r"fewer than (\d+) valid answers"), "reason_few"),
    (re.compile(r"effective sample size below (\d+)"), "reason_neff"),
    (re.compile(r"CI width|relative CI width"), "reason_wide"),
    (re.compile(r"estimate is 0 or 1"), "reason_extreme"),
    (re.compile(r"a wave's estimate is flagged or suppressed"), "reason_wave"),
    (re.compile(r"^(\d+) complete cases, fewer than"), "reason_drivers_few"),
]


def reason_text(reason: object, lang: str) -> str:
    """A reliability reason in plain words ("CI width >= 0.30" -> "too uncertain ..."); unknown
    reasons as stored. Parts joined with ';' are translated one by one, repeats dropped."""
    if reason is None or (isinstance(reason, float) and reason != reason) or not str(reason).strip():
        return ""
    out: list[str] = []
    for part in str(reason).split(";"):
        part = part.strip()
        text = part
        for pattern, key in _REASONS:
            m = pattern.search(part)
            if m:
                text = t(key, lang, n=m.group(1)) if m.groups() else t(key, lang)
                break
        if text not in out:
            out.append(text)
    return "; ".join(out)

# Common demographic categories; others are shown as stored, first letter capitalised.
GROUPS: dict[str, dict[str, str]] = {
    "female": {"en": "Female", "es": "Mujer"}, "male": {"en": "Male", "es": "Hombre"},
    "nonbinary": {"en": "Non-binary", "es": "No binario"}, "other": {"en": "Other", "es": "Otro"},
    "black": {"en": "Black", "es": "Negro"}, "white": {"en": "White", "es": "Blanco"},
    "hispanic": {"en": "Hispanic or Latino", "es": "Hispano o latino"}, "asian": {"en": "Asian", "es": "Asiático"},
    "owner": {"en": "Owner", "es": "Propietario"}, "renter": {"en": "Renter", "es": "Inquilino"},
    "own": {"en": "Owns their home", "es": "Vivienda propia"}, "rent": {"en": "Rents", "es": "Alquila"},
    "no_rent": {"en": "Lives without paying rent", "es": "Vive sin pagar alquiler"},
    "aian": {"en": "American Indian or Alaska Native", "es": "Indígena americano o nativo de Alaska"},
    "nhpi": {"en": "Native Hawaiian or Pacific Islander", "es": "Nativo de Hawái o de las islas del Pacífico"},
    "multiracial": {"en": "Multiracial", "es": "Multirracial"}, "other_race": {"en": "Another race", "es": "Otra raza"},
    "another_gender": {"en": "Another gender", "es": "Otro género"},
}


def group_label(group: str, lang: str) -> str:
    """A demographic category as shown: translated when known, else as stored (capitalised)."""
    entry = GROUPS.get(str(group).lower())
    if entry:
        return entry.get(lang) or entry["en"]
    m = re.fullmatch(r"age_(\d+)_(\d+)", str(group))
    if m:  # age_18_24 -> 18–24
        return f"{m.group(1)}–{m.group(2)}"
    m = re.fullmatch(r"age_(\d+)_(plus|over|older)", str(group))
    if m:  # age_65_plus -> 65+
        return f"{m.group(1)}+"
    g = str(group).replace("_", " ")
    return g[:1].upper() + g[1:]


def t(key: str, lang: str, **fmt: object) -> str:
    """The interface text ``key`` in ``lang`` (English when missing), formatted with ``fmt``."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


# Spanish headers of the downloads' column codes (English downloads keep the codes: scripts read them).
HEADERS_ES: dict[str, str] = {
    "wave": "Ola", "wave_ref": "Ola anterior", "indicator": "Id del indicador", "label": "Indicador",
    "topic": "Tema", "alpha": "Alfa de Cronbach", "statistic": "Estadístico", "scale": "Escala",
    "estimate": "Estimación", "estimate_value": "Estimación", "estimate_text": "Estimación (IC 95%)",
    "ci_low": "IC 95% inferior", "ci_high": "IC 95% superior", "n": "n (sin ponderar)",
    "reliability": "Fiabilidad", "reliability_reason": "Motivo", "reason": "Motivo",
    "change": "Cambio", "change_ci_low": "Cambio: IC 95% inferior", "change_ci_high": "Cambio: IC 95% superior",
    "p_adj": "p ajustado", "significant": "Significativo", "change_reliability": "Fiabilidad del cambio",
    "area": "Zona", "code": "Código de la zona", "area_level": "Nivel geográfico",
    "city": "Ciudad (IC 95%)", "difference": "Diferencia con el resto de la ciudad",
    "difference_text": "Diferencia con el resto de la ciudad (IC 95%)", "significance": "Significación",
    "adjust": "Ajuste por comparaciones múltiples", "kind": "Tipo", "metric": "Métrica", "value": "Valor",
    "detail": "Detalle", "method": "Método", "source": "Fuente",
}


def download_headers(columns: list[str], lang: str) -> list[str]:
    """A download's column headers in ``lang``: English keeps the column codes (``p_adj``,
    ``ci_low``: people script against them); Spanish translates the codes it knows and leaves
    headers already written in Spanish as they are."""
    if lang != "es":
        return [str(c) for c in columns]
    return [HEADERS_ES.get(str(c), str(c)) for c in columns]
