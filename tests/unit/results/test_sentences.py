"""The finding sentences: one writer, every comparison kind, English as the analysis has always
written it (the expected English strings are the demo city's ``finding`` column before the writer
moved here) and Spanish with its own grammar and decimal comma."""

from __future__ import annotations

import pandas as pd
import pytest

from survey_pipeline.analysis.comparisons import findings
from survey_pipeline.results.sentences import (
    Words,
    district_phrase,
    finding_sentence,
    group_phrase,
    indicator_phrase,
    indicator_phrases,
    wave_label,
)

EN = Words(labels={"safe_night": "Feeling safe (Your neighborhood, at night)",
                   "index_ce": "Collective efficacy score",
                   "sat_graffiti": "Satisfaction with Graffiti removal",
                   "problem_litter": "Litter, trash and illegal dumping as a serious problem"},
           area_names={"9": "Eastgate", "14": "Southside", "15": "Millbrook"},
           wave_labels={"w1": "Spring 2024", "w2": "Spring 2025", "w3": "Spring 2026"})
ES = Words(labels={"safe_night": "La sensación de seguridad (Su vecindario, de noche)",
                   "index_ce": "La puntuación de «Eficacia colectiva»",
                   "sat_graffiti": "La satisfacción con «Eliminación de grafiti»",
                   "problem_litter": "La proporción que considera «Basura» un problema grave"},
           area_names={"9": "Eastgate", "14": "Southside", "15": "Millbrook"},
           district_names={"east": "Este"},
           wave_labels={"w1": "Primavera 2024", "w2": "Primavera 2025", "w3": "Primavera 2026"}, lang="es")


def row(kind, indicator, estimate, lo, hi, *, level="neighborhood", area="9", area_ref=None, wave="w3",
        wave_ref="w2", group_dim="all", group="all", statistic="share"):
    return {"kind": kind, "wave": wave, "wave_ref": wave_ref, "area_level": level, "area": area,
            "area_ref": area_ref, "group_dim": group_dim, "group": group, "indicator": indicator,
            "statistic": statistic, "estimate": estimate, "ci_low": lo, "ci_high": hi}


CHANGE = row("wave_change", "safe_night", -0.234, -0.32, -0.15)
GROUP_CHANGE = row("wave_change", "index_ce", 0.404, 0.2, 0.61, level="district", area="south", wave="w2",
                   wave_ref="w1", group_dim="age_group", group="age_55_64", statistic="score")
GAP = row("group_vs_rest", "sat_graffiti", -0.41, -0.51, -0.31, level="district", area="east", wave_ref=None,
          group_dim="race_ethnicity", group="black")
DID = row("did", "problem_litter", -0.17, -0.25, -0.09, area="14;15", wave_ref="w1")
VS_REST = row("area_vs_rest", "safe_night", 0.081, 0.02, 0.14, area_ref="rest", wave_ref=None)
TREND = row("trend", "index_ce", 0.125, 0.05, 0.2, level="city", area="city", wave_ref="w1", statistic="score")
PAIR = row("area_pair", "safe_night", 0.12, 0.04, 0.2, area="9", area_ref="14", wave_ref=None)


def test_english_sentences_are_the_analysis_sentences():
    assert finding_sentence(CHANGE, EN) == \
        "Feeling safe (Your neighborhood, at night) in Eastgate fell 23 points (95% CI 15 to 32) since Spring 2025"
    assert finding_sentence(GROUP_CHANGE, EN) == ("Collective efficacy score among residents aged 55–64 in the South "
                                                  "district rose 0.40 (95% CI 0.20 to 0.61) since Spring 2024")
    assert finding_sentence(GAP, EN) == ("Satisfaction with Graffiti removal among Black residents in the East "
                                         "district is 41 points lower than among other residents (95% CI 31 to 51) "
                                         "in Spring 2026")
    assert finding_sentence(DID, EN) == ("Litter, trash and illegal dumping as a serious problem in Southside, "
                                         "Millbrook fell 17 points more than in the rest of the city (95% CI 9 to 25) "
                                         "from Spring 2024 to Spring 2026")
    assert finding_sentence(VS_REST, EN) == ("Feeling safe (Your neighborhood, at night) in Eastgate is 8 points "
                                             "higher than in the rest of the city (95% CI 2 to 14) in Spring 2026")
    assert finding_sentence(TREND, EN) == ("Collective efficacy score in the city rose 0.12 a wave (95% CI 0.05 to "
                                           "0.20) from Spring 2024 to Spring 2026")
    assert finding_sentence(PAIR, EN).endswith("in Eastgate is 12 points higher than in Southside (95% CI 4 to 20) "
                                               "in Spring 2026")


def test_findings_column_is_written_by_the_writer():
    """findings() picks the rows; the sentence is finding_sentence's, word for word."""
    comp = pd.DataFrame([{**CHANGE, "significant": True, "reliability": "ok", "finding": None},
                         {**GAP, "significant": True, "reliability": "ok", "finding": None},
                         {**DID, "significant": True, "reliability": "ok", "finding": None}])
    f = findings(comp, dict(EN.labels), dict(EN.area_names), dict(EN.wave_labels), top=4)
    assert f["finding"].tolist() == [finding_sentence(r, EN) for r in (CHANGE, GAP, DID)]


@pytest.mark.parametrize(("r", "expected"), [
    (CHANGE, "La sensación de seguridad (Su vecindario, de noche) en Eastgate bajó 23 puntos (IC 95% 15 a 32) "
             "desde Primavera 2025"),
    (GROUP_CHANGE, "La puntuación de «Eficacia colectiva» entre los residentes de 55–64 años en el distrito South "
                   "subió 0.40 (IC 95% 0.20 a 0.61) desde Primavera 2024"),
    (GAP, "La satisfacción con «Eliminación de grafiti» entre los residentes negros en el distrito Este es 41 puntos "
          "menor que entre los demás residentes (IC 95% 31 a 51) en Primavera 2026"),
    (DID, "La proporción que considera «Basura» un problema grave en Southside y Millbrook bajó 17 puntos más que en "
          "el resto de la ciudad (IC 95% 9 a 25) entre Primavera 2024 y Primavera 2026"),
    (VS_REST, "La sensación de seguridad (Su vecindario, de noche) en Eastgate es 8 puntos mayor que en el resto de "
              "la ciudad (IC 95% 2 a 14) en Primavera 2026"),
    (TREND, "La puntuación de «Eficacia colectiva» en la ciudad subió 0.12 por ola (IC 95% 0.05 a 0.20) entre "
            "Primavera 2024 y Primavera 2026"),
    (PAIR, "La sensación de seguridad (Su vecindario, de noche) en Eastgate es 12 puntos mayor que en Southside "
           "(IC 95% 4 a 20) en Primavera 2026"),
    ({**CHANGE, "estimate": 0.012, "ci_low": 0.005, "ci_high": 0.02}, "La sensación de seguridad (Su vecindario, de "
     "noche) en Eastgate subió 1 punto (IC 95% 0 a 2) desde Primavera 2025"),
])
def test_spanish_sentence_of_each_kind(r, expected):
    assert finding_sentence(r, ES) == expected


def test_an_unknown_kind_or_language_is_refused():
    with pytest.raises(ValueError, match="kind 'ratio'"):
        finding_sentence({**CHANGE, "kind": "ratio"}, EN)
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        Words(lang="fr")


def test_phrases():
    assert indicator_phrase("Street lighting", "satisfaction") == "Satisfaction with Street lighting"
    assert indicator_phrase("Alumbrado público", "satisfaction", "es") == "La satisfacción con «Alumbrado público»"
    assert indicator_phrase("Public Works", "priority", department=True) == \
        "Naming a problem of Public Works as a top priority"
    ind = pd.DataFrame({"indicator": ["priority_dept_parks", "safe_night", "safe_night"],
                        "topic": ["priority", "safety", "safety"], "statistic": ["share", "share", "mean"],
                        "label_en": ["Parks", "At night", "At night"], "label_es": ["Parques", None, None]})
    assert indicator_phrases(ind, "es") == {
        "priority_dept_parks": "La proporción que señala un problema de «Parques» como prioridad principal",
        "safe_night": "La sensación de seguridad (At night)"}  # no Spanish label: the English one
    assert group_phrase("age_group", "age_65_plus", "es") == "los residentes de 65 años o más"
    assert group_phrase("tenure", "rent", "es") == "los inquilinos" and group_phrase("tenure", "rent") == "renters"
    assert group_phrase("language", "es", "es") == "los residentes con language «es»"


def test_district_names_read_naturally():
    assert district_phrase("east") == "the East district" and district_phrase("east", lang="es") == "el distrito East"
    assert district_phrase("east", "Eastside") == "the Eastside district"
    assert district_phrase("east", "Eastside District") == "the Eastside District"
    assert district_phrase("3", "District 3") == "District 3" and district_phrase("District 9") == "District 9"
    assert district_phrase("east", "Este", "es") == "el distrito Este"
    assert district_phrase("3", "Distrito 3", "es") == "el Distrito 3"


def test_wave_labels():
    assert wave_label("2026-spring", "es") == "Primavera 2026" and wave_label("2026q1", "es") == "2026 T1"
    assert wave_label("2026-spring", "es", "Spring 2026") == "Primavera 2026"
    assert wave_label("w1", "es", "Ronda uno") == "Ronda uno" and wave_label("w1", "en", "Round one") == "Round one"
    assert wave_label("2026-spring", "en") == "Spring 2026" and wave_label("w7", "en") == "w7"
