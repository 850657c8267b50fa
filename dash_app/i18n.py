"""The dashboard's vocabularies: message ids (English, marked with ``N_``) of the words it picks by a
code (pages, area levels, statistics, metrics, reliability reasons, demographic groups, download
headers). Their translations are in the catalogs (:mod:`survey_pipeline.i18n`); indicator labels
come from the results tables."""

from __future__ import annotations

import re

from survey_pipeline.i18n import N_, languages, t
from survey_pipeline.results.sentences import wave_label as _wave_label

__all__ = ["BANDS", "DIMS", "LANGS", "LEVELS", "METRICS", "PAGE_TITLES", "STATS", "TOPICS", "download_headers", "group_label",
           "reason_text", "t", "wave_label"]

#: The languages of the interface: those with a catalog (``survey_pipeline/i18n/locale``).
LANGS: tuple[str, ...] = languages()

PAGE_TITLES = {"overview": N_("Overview"), "priorities": N_("Priorities"), "map": N_("Map"), "trends": N_("Trends"),
         "compare": N_("Compare areas"), "equity": N_("Equity"), "importance": N_("Importance–satisfaction"),
         "methodology": N_("Methodology"), "comments": N_("Comments")}
LEVELS = {"city": N_("City"), "district": N_("District"), "neighborhood": N_("Neighborhood"), "beat": N_("Beat")}
DIMS = {"age_group": N_("Age group"), "sex": N_("Sex"), "race_ethnicity": N_("Race and ethnicity"),
        "tenure": N_("Housing tenure")}
TOPICS = {"safety": N_("Feeling safe"), "satisfaction": N_("Satisfaction"), "importance": N_("Most important service"),
          "problem": N_("Serious problem"), "priority": N_("Top priority"), "trust": N_("Trust"), "scale": N_("Index"),
          "contact": N_("Police contact")}
STATS = {"share": N_("Percent"), "mean": N_("Average answer"), "score": N_("Index score")}
BANDS = {"highest": N_("Highest priority (I–S ≥ .20)"), "high": N_("High priority (.10–.20)"),
         "medium": N_("Medium priority (.05–.10)"), "low": N_("Low priority (< .05)")}
SHARE_OF = {"satisfaction": N_("satisfied"), "safety": N_("feel safe"), "trust": N_("trust the police"),
            "other": N_("of residents")}
METRICS = {
    "completes": N_("Completed surveys"), "kish_n_eff": N_("Effective sample size (Kish)"),
    "deff_weighting": N_("Design effect of the weights"), "weight_min": N_("Smallest weight"),
    "weight_max": N_("Largest weight"), "weight_ratio": N_("Largest / smallest weight"),
    "max_margin_error": N_("Largest gap between weighted totals and census targets"),
    "trimmed": N_("Weights trimmed"), "base_weight_areas": N_("Areas with a base weight"),
    "collapsed_neighborhood": N_("Neighborhoods merged for weighting"),
    "imputed_age_group": N_("Age group imputed (answers)"), "imputed_sex": N_("Sex imputed (answers)"),
    "imputed_race_ethnicity": N_("Race and ethnicity imputed (answers)"),
    "imputed_tenure": N_("Housing tenure imputed (answers)"), "recoded_sex": N_("Sex recoded (answers)"),
    "recoded_race_ethnicity": N_("Race and ethnicity recoded (answers)"),
    "estimates_ok": N_("Estimates shown"), "estimates_flag": N_("Estimates shown with a caution"),
    "estimates_suppress": N_("Estimates suppressed"), "alpha": N_("Cronbach's alpha"),
    "RR1": N_("Response rate (AAPOR RR1)"), "RR3": N_("Response rate, unknown eligibility estimated (RR3)"),
    "COOP1": N_("Cooperation rate (COOP1)"),
}
#: The methodology page's sections and the notes under them.
SECTIONS = {"sample": N_("Sample sizes"), "response_rates": N_("Response rates"),
            "sample_funnel": N_("From the response rate's completes to the responses analysed"),
            "weighting": N_("Weighting diagnostics"), "rules": N_("Reliability rules"),
            "alpha": N_("Scale reliability (Cronbach's alpha)"), "wording": N_("Indicators and question wording")}
SECTION_NOTES = {
    "sample": N_("The margin of error is for a 50% answer, the widest case, and allows for the weighting "
                 "(effective n); an estimate for a smaller group is less precise."),
    "rules": N_("Estimates with too few answers or too wide an interval are suppressed (not shown as "
                "numbers); borderline ones are flagged."),
    "sample_funnel": N_("The response rate counts every complete interview (AAPOR); the analysis leaves out those "
                        "the quality rules exclude (each counted once, under its first reason) and adds the "
                        "partial interviews it can use."),
}


def wave_label(wave: str, lang: str) -> str:
    """A wave id as read: '2026-spring' -> 'Spring 2026' / 'Primavera 2026', '2026q1' -> '2026 Q1';
    other ids as stored (:func:`survey_pipeline.results.sentences.wave_label`, as the findings)."""
    return _wave_label(wave, lang)


_REASONS = [  # (pattern of the analysis' reliability reason, message)
    (re.compile(r"^modeled without a usable direct estimate"), N_("no usable direct estimate: from the model alone")),
    (re.compile(r"^modeled$"), N_("modeled (small-area estimate)")),
    (re.compile(r"relative RMSE of its complement (\d+)%"), N_("model error {n}% of 100% minus the estimate")),
    (re.compile(r"relative RMSE (\d+)%"), N_("model error {n}% of the estimate")),
    (re.compile(r"fewer than (\d+) valid answers"), N_("fewer than {n} answers")),
    (re.compile(r"effective sample size below (\d+)"), N_("too few answers once weighted (effective sample below {n})")),
    (re.compile(r"CI width|relative CI width"), N_("too uncertain (confidence interval too wide)")),
    (re.compile(r"estimate is 0 or 1"), N_("0% or 100%: too few answers to tell")),
    (re.compile(r"a wave's estimate is flagged or suppressed"), N_("one of the waves is unreliable")),
    (re.compile(r"^(\d+) complete cases, fewer than"),
     N_("only {n} residents answered the overall question and every service: too few for a model")),
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
GROUPS: dict[str, str] = {
    "female": N_("Female"), "male": N_("Male"), "nonbinary": N_("Non-binary"), "other": N_("Other"),
    "black": N_("Black"), "white": N_("White"), "hispanic": N_("Hispanic or Latino"), "asian": N_("Asian"),
    "owner": N_("Owner"), "renter": N_("Renter"), "own": N_("Owns their home"), "rent": N_("Rents"),
    "no_rent": N_("Lives without paying rent"), "aian": N_("American Indian or Alaska Native"),
    "nhpi": N_("Native Hawaiian or Pacific Islander"), "multiracial": N_("Multiracial"),
    "other_race": N_("Another race"), "another_gender": N_("Another gender"),
}


def group_label(group: str, lang: str) -> str:
    """A demographic category as shown: translated when known, else as stored (capitalised)."""
    entry = GROUPS.get(str(group).lower())
    if entry:
        return t(entry, lang)
    m = re.fullmatch(r"age_(\d+)_(\d+)", str(group))
    if m:  # age_18_24 -> 18–24
        return f"{m.group(1)}–{m.group(2)}"
    m = re.fullmatch(r"age_(\d+)_(plus|over|older)", str(group))
    if m:  # age_65_plus -> 65+
        return f"{m.group(1)}+"
    g = str(group).replace("_", " ")
    return g[:1].upper() + g[1:]


# The downloads' column codes in words (English downloads keep the codes: scripts read them).
HEADERS: dict[str, str] = {
    "wave": N_("Wave"), "wave_ref": N_("Previous wave"), "indicator": N_("Indicator id"), "label": N_("Indicator"),
    "topic": N_("Topic"), "alpha": N_("Cronbach's alpha"), "statistic": N_("Statistic"), "scale": N_("Scale"),
    "estimate": N_("Estimate"), "estimate_value": N_("Estimate"), "estimate_text": N_("Estimate (95% CI)"),
    "ci_low": N_("95% CI low"), "ci_high": N_("95% CI high"), "n": N_("n (unweighted)"),
    "reliability": N_("Reliability"), "reliability_reason": N_("Why"), "reason": N_("Why"),
    "change": N_("Change"), "change_ci_low": N_("Change: 95% CI low"), "change_ci_high": N_("Change: 95% CI high"),
    "p_adj": N_("Adjusted p"), "significant": N_("Significant"), "change_reliability": N_("Reliability of the change"),
    "area": N_("Area"), "code": N_("Area code"), "area_level": N_("Area level"),
    "city": N_("City (95% CI)"), "difference": N_("Difference vs rest of city"),
    "difference_text": N_("Difference vs rest of city (95% CI)"), "significance": N_("Significance"),
    "adjust": N_("Multiple-comparison adjustment"), "kind": N_("Kind"), "metric": N_("Metric"), "value": N_("Value"),
    "detail": N_("Detail"), "method": N_("Method"), "source": N_("Source"),
}


def download_headers(columns: list[str], lang: str) -> list[str]:
    """A download's column headers in ``lang``: English keeps the column codes (``p_adj``,
    ``ci_low``: people script against them); other languages translate the codes they know and
    leave headers already written in that language as they are."""
    if lang == "en":
        return [str(c) for c in columns]
    return [t(HEADERS[str(c)], lang) if str(c) in HEADERS else str(c) for c in columns]
