"""Three vendor export layouts built from their documented conventions, with the facts planted in
them, and a judge of how many planted facts ``infer`` recovers.

- ETC-style (ETC Institute resident surveys, e.g. the City of San Diego 2015 file and its data
  dictionary): one header row of short SPSS-style names (``Q1A``, ``Q2B``, ``Q4_1``), numeric codes
  with ``5`` = the positive end, ``9`` = don't know and ``99`` = no answer, ``8``/``9`` after a
  4-point scale, ``-1`` for no answer, a police district column, ZIP codes with a ``99999``
  placeholder, and a ``WEIGHT`` column; a data dictionary (variable, label, value labels) that
  labels some questions and reverses one (``1 - Major problem``).
- Qualtrics (Qualtrics "Data & Analysis > Export > CSV" with choice text): three header rows —
  export tags, question text (``Question - Item`` for matrix rows), ``{"ImportId": ...}`` JSON —
  metadata columns first (``DistributionChannel``), matrix rows as ``Q3_1``..``Q3_6``, a
  questionnaire with English and Spanish answers mixed.
- SurveyMonkey ("Export > All responses > CSV, expanded"): two header rows — the question over its
  first column and the option/row (or ``Response`` / ``Open-Ended Response``) under each column; a
  "pick up to 3" question with one column per option holding the option's text or blank.

Everything is deterministic (no random numbers): answers cycle through fixed patterns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

N = 60


def _cycle(values: list, i: int, step: int = 1, offset: int = 0):
    return values[(i * step + offset) % len(values)]


def _csv(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@dataclass
class Layout:
    name: str
    files: dict[str, str]  # file name -> text
    export: str  # the export's file name
    codebook: str | None
    facts: list[tuple] = field(default_factory=list)  # (kind, target, expected)

    def write(self, where: Path) -> tuple[Path, Path | None]:
        for fname, text in self.files.items():
            (where / fname).write_text(text, encoding="utf-8")
        return where / self.export, (where / self.codebook if self.codebook else None)


# --- (a) ETC-style ----------------------------------------------------------------------------------


def etc_layout() -> Layout:
    header = ["ID", "Q1A", "Q1B", "Q1C", "Q1D", "Q1E", "Q2A", "Q2B", "Q2C", "Q3", "Q4_1", "Q4_2", "Q4_3", "Q5",
              "Q6", "Q7", "PDIST", "ZIP", "WEIGHT"]
    zips = {1: ["92101", "92102"], 2: ["92103", "92104"], 3: ["92105", "92106"], 4: ["92107", "92108"],
            5: ["92109", "92110"], 6: ["92111", "92113"]}
    rows = [header]
    for i in range(N):
        sat = [str(_cycle([5, 4, 4, 3, 2, 1, 5, 4, 9, 3, 4, 99], i, 1, k)) for k in range(5)]
        safe = [str(_cycle([4, 3, 3, 2, 1, 4, 8, 3, 9, 4], i, 1, k)) for k in range(3)]
        overall = str(_cycle([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 8, 99, 7], i))
        prob = [str(_cycle([1, 2, 3, 4, 2, 9, 3, 1], i, 1, k)) for k in range(3)]
        trust = str(_cycle([5, 4, 3, 2, 1, 4, -1, 5], i))
        age = str(_cycle([1, 2, 3, 4, 5, 6, 9], i))
        gender = str(_cycle([1, 2, 2, 1, 9], i))
        pdist = (i % 6) + 1
        z = "99999" if i % 17 == 5 else zips[pdist][i % 2]
        wt = f"{0.6 + (i % 7) * 0.137:.4f}"
        rows.append([str(i + 1), *sat, *safe, overall, *prob, trust, age, gender, str(pdist), z, wt])
    codebook = [
        ["variable", "label", "values"],
        ["Q1", "Please rate your satisfaction with each of the following City services using a scale of 1 to 5 "
               "where 5 means Very Satisfied and 1 means Very Dissatisfied", ""],
        ["Q1A", "Police services", ""], ["Q1B", "Fire and emergency medical services", ""],
        ["Q1C", "Parks and recreation programs", ""], ["Q1D", "Maintenance of streets and sidewalks", ""],
        ["Q1E", "Library services", ""],
        ["Q2", "How safe do you feel, where 4 means Very Safe and 1 means Very Unsafe", ""],
        ["Q2A", "In your neighborhood during the day", ""], ["Q2B", "In your neighborhood at night", ""],
        ["Q2C", "In City parks", ""],
        ["Q3", "On a scale of 1 to 10 where 10 means Excellent and 1 means Poor, how would you rate the overall "
               "quality of life in the City", ""],
        ["Q4", "How much of a problem is each of the following in your neighborhood",
         "1 - Major problem, 2 - Moderate problem, 3 - Minor problem, 4 - Not a problem, 9 - Don't know"],
        ["Q4_1", "Speeding traffic", "1 - Major problem, 2 - Moderate problem, 3 - Minor problem, 4 - Not a problem, 9 - Don't know"],
        ["Q4_2", "Graffiti", "1 - Major problem, 2 - Moderate problem, 3 - Minor problem, 4 - Not a problem, 9 - Don't know"],
        ["Q4_3", "Drug activity", "1 - Major problem, 2 - Moderate problem, 3 - Minor problem, 4 - Not a problem, 9 - Don't know"],
        ["Q5", "How much do you trust the police department to do what is right", ""],
        ["Q6", "What is your age", "1 - 18-24, 2 - 25-34, 3 - 35-44, 4 - 45-54, 5 - 55-64, 6 - 65+, 9 - Refused"],
        ["Q7", "Your gender", "1 - Male, 2 - Female, 9 - Refused"],
    ]
    lay = Layout("etc", {"etc.csv": _csv(rows), "etc_dictionary.csv": _csv(codebook)}, "etc.csv", "etc_dictionary.csv")
    f = lay.facts
    for cols, pos, miss, role in (
        (["Q1A", "Q1B", "Q1C", "Q1D", "Q1E"], [4, 5], {9: "dont_know", 99: "refused"}, "satisfaction"),
        (["Q2A", "Q2B", "Q2C"], [3, 4], {8: "dont_know", 9: "refused"}, "safety"),
        (["Q4_1", "Q4_2", "Q4_3"], [1, 2], {9: "dont_know"}, "problem"),
    ):
        f += [("scale", cols[0], None), ("positive", cols[0], pos), ("missing", cols[0], miss),
              ("grid", cols[0], cols), ("role", cols[0], role)]
    f += [("scale", "Q3", None), ("positive", "Q3", [9, 10]), ("missing", "Q3", {99: "refused"}),
          ("scale", "Q5", None), ("positive", "Q5", [4, 5]), ("missing", "Q5", {-1: "refused"}), ("role", "Q5", "trust"),
          ("order", "Q4_1", "Major problem"),  # the export's code 1 is the "Major problem" end
          ("role", "Q6", "demographic"), ("missing", "Q6", {9: "refused"}), ("role", "Q7", "demographic"),
          ("department", "Q1A", "police"), ("department", "Q1B", "fire"), ("department", "Q1C", "parks"),
          ("department", "Q1D", "public_works"), ("department", "Q1E", "libraries"),
          ("area", "PDIST", "police_district"), ("area", "ZIP", "zip"), ("placeholder", "ZIP", "99999"),
          ("nesting", ["PDIST", "ZIP"], None), ("weight", "WEIGHT", None)]
    return lay


def etc_without_dictionary_layout() -> Layout:
    """The same ETC-style file without its data dictionary: only the codes speak. Roles and
    departments need wording, and the problem battery's direction (1 = Major problem) cannot be
    known, so its positive end must be marked as a guess; ETC's convention (the high code is the
    positive end) holds for the other batteries."""
    lay = etc_layout()
    lay.name, lay.codebook = "etc_no_dictionary", None
    lay.files = {"etc.csv": lay.files["etc.csv"]}
    keep = {"scale", "missing", "grid", "area", "placeholder", "nesting", "weight"}
    facts = [f for f in lay.facts if f[0] in keep and f[1] not in ("Q6", "Q7")]
    facts += [("positive", "Q1A", [4, 5]), ("positive", "Q2A", [3, 4]), ("positive", "Q3", [9, 10]),
              ("positive", "Q5", [4, 5]), ("guessed_positive", "Q4_1", None)]
    lay.facts = facts
    return lay


# --- (b) Qualtrics ------------------------------------------------------------------------------------

_QUALTRICS_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"America/Chicago"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"America/Chicago"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"America/Chicago"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]
SAFE_EN = ["Very safe", "Somewhat safe", "Somewhat unsafe", "Very unsafe"]
SAFE_ES = ["Muy seguro", "Algo seguro", "Algo inseguro", "Muy inseguro"]
AGREE_EN = ["Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree"]
AGREE_ES = ["Totalmente de acuerdo", "De acuerdo", "Ni de acuerdo ni en desacuerdo", "En desacuerdo",
            "Totalmente en desacuerdo"]
SAT_EN = ["Very satisfied", "Satisfied", "Neither satisfied nor dissatisfied", "Dissatisfied", "Very dissatisfied",
          "Don't know"]
SAT_ES = ["Muy satisfecho", "Satisfecho", "Ni satisfecho ni insatisfecho", "Insatisfecho", "Muy insatisfecho", "No sé"]
PROBLEM = ["Major problem", "Moderate problem", "Minor problem", "Not a problem"]
QUALITY = ["Excellent", "Good", "Fair", "Poor"]
EFFECTIVE = ["Very effective", "Somewhat effective", "Somewhat ineffective", "Very ineffective"]
HOODS = ["Downtown", "Northside", "Eastwood", "Riverside", "Hillcrest"]
AGES = ["18 - 24", "25 - 34", "35 - 44", "45 - 54", "55 - 64", "65 or older"]


def qualtrics_layout() -> Layout:
    services = ["Police", "Fire and EMS", "Parks", "Street maintenance", "Library", "Code enforcement"]
    trust_items = ["The police treat people with respect", "I trust the police in my city",
                   "The police make fair decisions"]
    problems = ["Speeding", "Graffiti", "Drug dealing"]
    cols: list[tuple[str, str, str]] = list(_QUALTRICS_META)
    cols.append(("Q1", "How safe do you feel walking alone in your neighborhood at night?", '{"ImportId":"QID1"}'))
    stem2 = "How much do you agree or disagree with each statement?"
    cols += [(f"Q2_{k}", f"{stem2} - {t}", f'{{"ImportId":"QID2_{k}"}}') for k, t in enumerate(trust_items, 1)]
    stem3 = "How satisfied are you with each of the following city services?"
    cols += [(f"Q3_{k}", f"{stem3} - {t}", f'{{"ImportId":"QID3_{k}"}}') for k, t in enumerate(services, 1)]
    stem4 = "How much of a problem is each of the following in your neighborhood?"
    cols += [(f"Q4_{k}", f"{stem4} - {t}", f'{{"ImportId":"QID4_{k}"}}') for k, t in enumerate(problems, 1)]
    cols += [("Q5", "Overall, how would you rate the quality of police services in your city?", '{"ImportId":"QID5"}'),
             ("Q6", "How effective is the city at communicating with residents?", '{"ImportId":"QID6"}'),
             ("Q7", "Which neighborhood do you live in?", '{"ImportId":"QID7"}'),
             ("Q8", "What is your age?", '{"ImportId":"QID8"}'),
             ("Q9", "Please select 'Somewhat agree' for this item to show you are reading carefully.",
              '{"ImportId":"QID9"}'),
             ("Q10", "Is there anything else you would like to tell us?", '{"ImportId":"QID10_TEXT"}')]
    rows = [[c[0] for c in cols], [c[1] for c in cols], [c[2] for c in cols]]
    for i in range(N):
        es = i % 4 == 3  # a quarter of the respondents answered in Spanish
        meta = [f"2024-05-{1 + i % 28:02d} 10:{i % 60:02d}:00", f"2024-05-{1 + i % 28:02d} 10:{(i + 7) % 60:02d}:00",
                "IP Address", f"10.0.{i // 200}.{i % 200}", "100", str(300 + i), "True",
                f"2024-05-{1 + i % 28:02d} 10:{(i + 7) % 60:02d}:00", f"R_{i:05d}abcdEFGH", "anonymous",
                "ES" if es else "EN"]
        safe = (SAFE_ES if es else SAFE_EN)[_cycle([0, 1, 1, 2, 3, 0, 1], i)]
        agree = [(AGREE_ES if es else AGREE_EN)[_cycle([0, 1, 1, 2, 3, 4, 1], i, 1, k)] for k in range(3)]
        sat = [(SAT_ES if es else SAT_EN)[_cycle([0, 1, 2, 3, 4, 1, 0, 5], i, 1, k)] for k in range(6)]
        prob = [PROBLEM[_cycle([0, 1, 2, 3, 2], i, 1, k)] for k in range(3)]
        quality = QUALITY[_cycle([0, 1, 1, 2, 3], i)]
        eff = EFFECTIVE[_cycle([0, 1, 1, 2, 3], i)]
        hood = HOODS[i % 5]
        age = AGES[i % 6]
        attn = "Somewhat agree" if i % 9 else "Agree"
        comment = "" if i % 3 else f"comment number {i}"
        rows.append([*meta, safe, *agree, *sat, *prob, quality, eff, hood, age, attn, comment])
    lay = Layout("qualtrics", {"qualtrics.csv": _csv(rows)}, "qualtrics.csv", None)
    f = lay.facts
    f += [("scale", "Q1", None), ("positive", "Q1", "Very safe"), ("role", "Q1", "safety"), ("spanish", "Q1", "Muy seguro"),
          ("scale", "Q2_1", None), ("positive", "Q2_1", "Strongly agree"), ("grid", "Q2_1", ["Q2_1", "Q2_2", "Q2_3"]),
          ("role", "Q2_1", "trust"), ("spanish", "Q2_1", "Totalmente de acuerdo"),
          ("scale", "Q3_1", None), ("positive", "Q3_1", "Very satisfied"),
          ("grid", "Q3_1", [f"Q3_{k}" for k in range(1, 7)]), ("role", "Q3_1", "satisfaction"),
          ("missing", "Q3_1", {"Don't know": "dont_know"}), ("spanish", "Q3_1", "Muy satisfecho"),
          ("item_label", "Q3_3", "Parks"),
          ("department", "Q3_1", "police"), ("department", "Q3_2", "fire"), ("department", "Q3_3", "parks"),
          ("department", "Q3_4", "public_works"), ("department", "Q3_5", "libraries"),
          ("department", "Q3_6", "code_enforcement"),
          ("scale", "Q4_1", None), ("positive", "Q4_1", "Major problem"), ("grid", "Q4_1", ["Q4_1", "Q4_2", "Q4_3"]),
          ("role", "Q4_1", "problem"),
          ("scale", "Q5", None), ("positive", "Q5", "Excellent"),
          ("scale", "Q6", None), ("positive", "Q6", "Very effective"), ("guessed_order", "Q6", None),
          ("area", "Q7", "neighborhood"), ("role", "Q8", "demographic"), ("role", "Q9", "attention_check"),
          ("expected", "Q9", "Somewhat agree"),
          ("role", "Q10", "open_text"), ("mode", None, "web")]
    return lay


# --- (c) SurveyMonkey ---------------------------------------------------------------------------------


def surveymonkey_layout() -> Layout:
    meta = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
            "Last Name", "Custom Data 1"]
    q_sat = "How satisfied are you with the following city services?"
    sat_rows = ["Police", "Parks", "Street maintenance"]
    q_pick = "Which of the following should be the city's top priorities? (Pick up to 3)"
    options = ["Speeding", "Burglary", "Graffiti", "Homelessness", "Drug activity", "Potholes"]
    q_safe = "How safe do you feel in your neighborhood during the day?"
    q_zip = "What is your ZIP code?"
    q_age = "What is your age?"
    q_income = "What is your annual household income?"
    q_comment = "Do you have any other comments?"
    h1 = meta + [q_sat, "", ""] + [q_pick] + [""] * 5 + [q_safe, q_zip, q_age, q_income, q_comment]
    h2 = [""] * len(meta) + sat_rows + options + ["Response", "Response", "Response", "Response",
                                                  "Open-Ended Response"]
    sat = ["Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied", "Don't know"]
    safe = ["Very safe", "Safe", "Neither safe nor unsafe", "Unsafe", "Very unsafe"]
    incomes = ["Less than $25,000", "$25,000 - $49,999", "$50,000 - $74,999", "$75,000 - $99,999", "$100,000 or more",
               "Prefer not to answer"]
    rows = [h1, h2]
    for i in range(N):
        picks = {(i + k * 2) % 6 for k in range(1 + i % 3)}  # 1 to 3 picks
        r = [str(11000000000 + i), "400123456", "05/01/2024 10:00:00 AM", "05/01/2024 10:06:00 AM", "", "", "", "", ""]
        r += [sat[_cycle([0, 1, 2, 3, 4, 1, 5], i, 1, k)] for k in range(3)]
        r += [options[k] if k in picks else "" for k in range(6)]
        z = "00000" if i % 19 == 4 else f"606{10 + i % 7:02d}"
        r += [safe[_cycle([0, 1, 1, 2, 3, 4], i)], z, AGES[i % 6], incomes[i % 6], "" if i % 4 else "More lights"]
        rows.append(r)
    lay = Layout("surveymonkey", {"surveymonkey.csv": _csv(rows)}, "surveymonkey.csv", None)
    first_sat = f"{q_sat} [Police]"
    f = lay.facts
    f += [("scale", first_sat, None), ("positive", first_sat, "Very satisfied"),
          ("grid", first_sat, [f"{q_sat} [{r}]" for r in sat_rows]), ("role", first_sat, "satisfaction"),
          ("missing", first_sat, {"Don't know": "dont_know"}),
          ("department", first_sat, "police"), ("department", f"{q_sat} [Parks]", "parks"),
          ("department", f"{q_sat} [Street maintenance]", "public_works"),
          ("multi", f"{q_pick} [Speeding]", options), ("max_picks", f"{q_pick} [Speeding]", 3),
          ("role", f"{q_pick} [Speeding]", "importance"),
          ("scale", q_safe, None), ("positive", q_safe, "Very safe"), ("role", q_safe, "safety"),
          ("area", q_zip, "zip"), ("placeholder", q_zip, "00000"),
          ("role", q_age, "demographic"), ("role", q_income, "demographic"),
          ("missing", q_income, {"Prefer not to answer": "refused"}), ("role", q_comment, "open_text")]
    return lay


LAYOUTS = {"etc": etc_layout, "etc_no_dictionary": etc_without_dictionary_layout, "qualtrics": qualtrics_layout,
           "surveymonkey": surveymonkey_layout}


# --- the judge ------------------------------------------------------------------------------------------


def judge(report: dict, doc: dict, facts: list[tuple]) -> list[tuple[str, object, bool, str]]:
    """For each planted fact: (kind, target, recovered?, what was found). ``report`` is what
    ``infer_instrument`` returned, ``doc`` the draft YAML loaded as a mapping."""
    col_q = {c: qid for qid, e in report["evidence"].items() for c in e["columns"]}
    questions = {q["id"]: q for m in doc["modules"] for q in m["questions"]}
    lists = {**doc.get("scales", {}), **{k: {**v, "_choices": True} for k, v in doc.get("choice_lists", {}).items()}}

    def q_of(col: str) -> dict | None:
        return questions.get(col_q.get(col, ""))

    def list_of(col: str) -> dict | None:
        q = q_of(col)
        if q is None:
            return None
        return lists.get(q.get("scale") or q.get("choices") or "")

    def label_code(lst: dict, label: str) -> int | None:
        for c in lst.get("codes", lst.get("choices", [])):
            if label in c["label"].values():
                return c["code"]
        return None

    out = []
    for kind, target, expected in facts:
        ok, found = False, ""
        if kind == "scale":
            lst = list_of(target)
            ok = bool(lst) and lst.get("ordered") is True and "_choices" not in lst
            found = "ordered scale" if ok else f"{q_of(target) and q_of(target).get('type')} / not a scale"
        elif kind == "positive":
            lst = list_of(target)
            pos = sorted(lst.get("positive", [])) if lst else []
            exp = expected if isinstance(expected, list) else None
            if exp is None and lst:
                top = label_code(lst, expected)
                codes = sorted(c["code"] for c in lst.get("codes", []))
                exp = [top] if top is not None else []
                if top is not None and len(codes) > 3:
                    i = codes.index(top)
                    exp = sorted([top, codes[i - 1] if i == len(codes) - 1 else codes[i + 1]])
            ok = bool(pos) and pos == exp
            found = f"positive {pos}, expected {exp}"
            out.append(("positive_wrong", target, bool(pos) and pos != exp, found))
        elif kind == "missing":
            lst = list_of(target)
            miss = {m["code"]: k for k, m in (lst or {}).get("missing", {}).items()}
            if lst and all(isinstance(k, str) for k in expected):
                miss_labels = {m["label"]["en"]: k for k, m in lst.get("missing", {}).items()}
                ok = all(miss_labels.get(lab) == kind_ for lab, kind_ in expected.items())
                found = f"missing {miss_labels}"
            else:
                ok = all(miss.get(code) == kind_ for code, kind_ in expected.items())
                found = f"missing {miss}"
        elif kind == "grid":
            q = q_of(target)
            ok = bool(q) and q.get("type") == "grid" and report["evidence"][q["id"]]["columns"] == expected
            found = f"{q and q.get('type')} over {q and report['evidence'][q['id']]['columns']}"
        elif kind == "role":
            q = q_of(target)
            ok = bool(q) and q.get("role") == expected
            found = f"role {q and q.get('role')}"
        elif kind == "department":
            q = q_of(target)
            dep = None
            if q and q.get("type") == "grid":
                idx = report["evidence"][q["id"]]["columns"].index(target)
                dep = q["items"][idx].get("department")
            elif q:
                dep = q.get("department")
            ok = dep == expected
            found = f"department {dep}"
        elif kind == "order":
            lst = list_of(target)
            first = min(lst["codes"], key=lambda c: c["code"]) if lst and lst.get("codes") else None
            ok = bool(first) and expected in first["label"].values()
            found = f"lowest code labelled {first and first['label']}"
        elif kind == "area":
            hit = next((a for a in report["area_columns"] if a["column"] == target), None)
            ok = bool(hit) and hit["level"] == expected and (q_of(target) or {}).get("role") == "geography"
            found = f"area {hit and hit['level']}"
        elif kind == "placeholder":
            hit = next((a for a in report["area_columns"] if a["column"] == target), None)
            ok = bool(hit) and expected in hit["placeholders"]
            found = f"placeholders {hit and hit['placeholders']}"
        elif kind == "nesting":
            order = [a["column"] for a in report["area_columns"]]
            ok = [c for c in order if c in target] == target
            found = f"order {order}"
        elif kind == "weight":
            w = report["weight_column"]
            ok = bool(w) and w["column"] == target and target not in col_q
            found = f"weight {w}"
        elif kind == "spanish":
            lst = list_of(target)
            ok = bool(lst) and label_code(lst, expected) is not None
            found = "Spanish label present" if ok else "no Spanish label"
        elif kind == "item_label":
            q = q_of(target)
            idx = report["evidence"][q["id"]]["columns"].index(target) if q else -1
            ok = bool(q) and q.get("type") == "grid" and q["items"][idx]["label"]["en"] == expected
            found = f"item label {q and q['items'][idx]['label']}"
        elif kind == "expected":  # the attention check's expected answer is the one the wording asks for
            q, lst = q_of(target), list_of(target)
            ok = bool(q) and bool(lst) and q.get("expected") is not None and q.get("expected") == label_code(lst, expected)
            found = f"expected {q and q.get('expected')}"
        elif kind == "guessed_positive":  # the direction cannot be known: said to be a guess
            q = q_of(target)
            ok = bool(q) and "positive" in report["evidence"][q["id"]]["guessed"]
            found = f"guessed {q and report['evidence'][q['id']]['guessed']}"
        elif kind == "guessed_order":
            q = q_of(target)
            ok = bool(q) and "order" in report["evidence"][q["id"]]["guessed"]
            found = f"guessed {q and report['evidence'][q['id']]['guessed']}"
        elif kind == "multi":
            q = q_of(target)
            labels = [c["label"]["en"] for c in lists.get(q.get("choices", ""), {}).get("choices", [])] if q else []
            ok = bool(q) and q.get("type") == "multi" and labels == expected
            found = f"{q and q.get('type')} {labels}"
        elif kind == "max_picks":
            q = q_of(target)
            ok = bool(q) and q.get("max_picks") == expected
            found = f"max_picks {q and q.get('max_picks')}"
        elif kind == "mode":
            ok = (report["mode"] or {}).get("mode") == expected
            found = f"mode {report['mode']}"
        out.append((kind, target, ok, found))
    return out

