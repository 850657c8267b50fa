"""Interface text in English and Spanish. Indicator labels come from the results tables."""

from __future__ import annotations

from typing import Literal

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
    "district": {"en": "District", "es": "Distrito"},
    "neighborhood": {"en": "Neighborhood", "es": "Vecindario"},
    "beat": {"en": "Beat", "es": "Sector policial"},
    "download_csv": {"en": "Download CSV", "es": "Descargar CSV"},
    "download_xlsx": {"en": "Download Excel", "es": "Descargar Excel"},
    "download_label": {"en": "Data behind this view", "es": "Datos de esta vista"},
    "table_view": {"en": "Table view of the chart", "es": "Vista de tabla del gráfico"},
    "suppressed": {"en": "suppressed", "es": "suprimido"},
    "no_estimate": {"en": "no estimate", "es": "sin estimación"},
    "no_data": {"en": "No results for this selection.", "es": "No hay resultados para esta selección."},
    "no_map": {"en": "No area shapes (areas.geojson) in this project.",
               "es": "Este proyecto no tiene formas de zonas (areas.geojson)."},
    "latest_wave": {"en": "Latest wave", "es": "Ola más reciente"},
    "change_since": {"en": "Change since {wave}", "es": "Cambio desde {wave}"},
    "significant": {"en": "significant (adjusted p {p})", "es": "significativo (p ajustado {p})"},
    "not_significant": {"en": "not significant (adjusted p {p})", "es": "no significativo (p ajustado {p})"},
    "no_change": {"en": "no earlier wave to compare", "es": "no hay ola anterior para comparar"},
    "top_priority": {"en": "Top priority", "es": "Prioridad principal"},
    "findings": {"en": "Largest reliable findings", "es": "Hallazgos fiables más importantes"},
    "no_findings": {"en": "No significant, reliable differences this wave.",
                    "es": "No hay diferencias significativas y fiables en esta ola."},
    "ci_note": {"en": "Numbers in brackets are 95% confidence intervals.",
                "es": "Los números entre paréntesis son intervalos de confianza del 95%."},
    "estimate": {"en": "Estimate", "es": "Estimación"},
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
    "trends_intro": {"en": "Bands are 95% confidence intervals; the city is the bold black line. Suppressed points are left out.",
                     "es": "Las bandas son intervalos de confianza del 95%; la ciudad es la línea negra gruesa. Los puntos suprimidos se omiten."},
    "compare_intro": {"en": "Each area against the rest of the city; ▲/▼ mark differences significant after adjustment for multiple comparisons.",
                      "es": "Cada zona frente al resto de la ciudad; ▲/▼ marcan diferencias significativas tras ajustar por comparaciones múltiples."},
    "equity_intro": {"en": "The indicator by demographic group, with 95% intervals; the dashed line is all residents.",
                     "es": "El indicador por grupo demográfico, con intervalos del 95%; la línea discontinua son todos los residentes."},
    "importance_intro": {"en": "Services residents rate important but are less satisfied with are the highest priorities (top left).",
                         "es": "Los servicios importantes con menor satisfacción son las prioridades más altas (arriba a la izquierda)."},
    "methodology_intro": {"en": "How the numbers were made and how far to trust them.",
                          "es": "Cómo se obtuvieron los números y cuánto confiar en ellos."},
    "not_found": {"en": "Page not found.", "es": "Página no encontrada."},
    "safety": {"en": "Safety", "es": "Seguridad"},
    "satisfaction": {"en": "Satisfaction", "es": "Satisfacción"},
    "trust": {"en": "Trust", "es": "Confianza"},
}

# Common demographic categories; others are shown as stored, first letter capitalised.
GROUPS: dict[str, dict[str, str]] = {
    "female": {"en": "Female", "es": "Mujer"}, "male": {"en": "Male", "es": "Hombre"},
    "nonbinary": {"en": "Non-binary", "es": "No binario"}, "other": {"en": "Other", "es": "Otro"},
    "black": {"en": "Black", "es": "Negro"}, "white": {"en": "White", "es": "Blanco"},
    "hispanic": {"en": "Hispanic or Latino", "es": "Hispano o latino"}, "asian": {"en": "Asian", "es": "Asiático"},
    "owner": {"en": "Owner", "es": "Propietario"}, "renter": {"en": "Renter", "es": "Inquilino"},
}


def group_label(group: str, lang: str) -> str:
    """A demographic category as shown: translated when known, else as stored (capitalised)."""
    entry = GROUPS.get(str(group).lower())
    if entry:
        return entry.get(lang) or entry["en"]
    g = str(group).replace("_", " ")
    return g[:1].upper() + g[1:]


def t(key: str, lang: str, **fmt: object) -> str:
    """The interface text ``key`` in ``lang`` (English when missing), formatted with ``fmt``."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text
