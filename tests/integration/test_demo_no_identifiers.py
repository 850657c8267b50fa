"""No e-mail address or phone number anywhere the demo shows or keeps (issue 15).

The session's demo project (``demo_project``) is copied, and the comments of its last wave's
export are replaced by the planted comments of the redaction corpus (``tests/unit/ingest/
redaction_corpus.yaml``: e-mails, phones, addresses, URLs, handles, names), English and Spanish.
That export is ingested again (``replace``) and the project analysed. Then every text column of
every store table, the report (XLSX in English, HTML in Spanish), every dashboard page's layout
and download (CSV and XLSX, both languages, every wave) and the results feed (JSON and CSV of
each table, through the Flask test client) are searched for e-mail and phone patterns and for
each planted e-mail and phone as typed. The demo's own exports hold e-mails too (the Qualtrics
export's ``RecipientEmail``, the SurveyMonkey ``Email Address``): they must not surface either.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import plotly.utils
import pytest
import yaml
from openpyxl import load_workbook

from survey_pipeline.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "unit" / "ingest" / "redaction_corpus.yaml"
WAVE = "2026-spring"
EXPORT = f"exports/{WAVE}_kobo.csv.gz"

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+\s*@\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(
    r"(?<![\w.])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w.])"  # US as typed
    r"|(?<![\w.+])\+(?=(?:[\s()-]*\d){8})\d{1,3}[\s-]?\(?\d{1,4}\)?(?:[\s-]?\d{2,4}){2,4}(?![\w.])"  # any + international number
    r"|(?<![\w.])\d{3}-\d{4}(?![\w.])")  # a local 867-5309
"""The patterns searched for: an e-mail address as typed (also with spaces around the ``@``), a
US number in its usual forms, any ``+`` international number, a seven-digit local number."""
_MAYBE_PHONE = re.compile(r"\d[\s.()-]{1,2}\d{3}[\s.-]\d|\d-\d{4}|\+\d")
"""A cheap pre-check that every match of ``PHONE`` passes (the results feed is 100 MB of JSON)."""


def _planted() -> list[dict]:
    return [it for it in yaml.safe_load(CORPUS.read_text(encoding="utf-8")) if it.get("gone")]


def _contact_strings(items: list[dict]) -> list[str]:
    """The planted e-mails and phones, as typed."""
    return [g for it in items for g in it["gone"] if EMAIL.search(g) or PHONE.search(g)]


def _hits(texts, planted: list[str]) -> list[str]:
    """The texts holding an e-mail or phone pattern or a planted e-mail or phone."""
    found = []
    for s in texts:
        s = str(s)
        if (("@" in s and EMAIL.search(s)) or (_MAYBE_PHONE.search(s) and PHONE.search(s))
                or any(p in s for p in planted)):
            found.append(s[:300])
    return found


@pytest.fixture(scope="module")
def planted_demo(demo_project, tmp_path_factory):
    """The demo copied, its last wave's comments replaced by the corpus' planted comments,
    re-ingested and analysed again; with the report written in both formats."""
    from survey_pipeline.analysis.results import analyze_project
    from survey_pipeline.ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("planted") / "riverton"
    shutil.copytree(demo_project, root)
    path = root / EXPORT
    raw = gzip.decompress(path.read_bytes()).decode("utf-8")
    df = pd.read_csv(io.StringIO(raw), sep=";", dtype=str, keep_default_na=False)
    improve = next(c for c in df.columns if c.endswith("/comment_improve"))
    other = next(c for c in df.columns if c.endswith("/comments"))
    items = _planted()
    texts = [it["text"] for it in items]
    assert len(df) > 2 * len(texts)
    df.loc[df.index[:len(texts)], improve] = texts
    df.loc[df.index[len(texts):2 * len(texts)], other] = texts[::-1]
    path.write_bytes(gzip.compress(df.to_csv(sep=";", index=False).encode("utf-8"), mtime=0))
    summary = ingest(root, path, WAVE, mode="web", platform="kobo", replace=True)
    analyze_project(root)
    for name, lang in (("report.xlsx", "en"), ("report.html", "es")):
        assert main(["report", "--project", str(root), "--out", str(root / name), "--language", lang]) == 0
    return root, summary, items


def test_planted_comments_reached_the_store_redacted(planted_demo):
    root, summary, items = planted_demo
    assert summary.rows_kept > 2 * len(items)
    for rule in ("email", "phone", "address", "url", "handle", "name", "case"):
        assert summary.redacted.get(rule, 0) > 0, summary.redacted
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        text = con.execute("SELECT text FROM open_text WHERE wave = ?", [WAVE]).df()["text"]
        notes = " ".join(con.execute("SELECT notes FROM sources").df()["notes"].astype(str))
    joined = " ".join(text)
    assert joined.count("[phone]") == 2 * sum(o.count("[phone]") for o in _redacted(items))
    assert "break-in" in joined and "robo" in joined  # the comments are there, only identifiers went
    assert f"{summary.redacted['phone']} phone by [phone]" in notes  # counted per rule in the store


def _redacted(items: list[dict]) -> list[str]:
    from survey_pipeline.ingest.redact import redact_text

    return [redact_text(it["text"])[0] for it in items]


def test_no_store_table_holds_an_email_or_phone(planted_demo):
    root, _summary, items = planted_demo
    planted = _contact_strings(items)
    found = {}
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE data_type = 'VARCHAR' ORDER BY table_name, column_name").fetchall()
        assert len({t for t, _ in cols}) >= 15
        for table, col in cols:
            values = con.execute(f'SELECT DISTINCT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL').fetchall()
            hits = _hits((v for (v,) in values), planted)
            if hits:
                found[f"{table}.{col}"] = hits[:3]
    assert found == {}


def test_the_report_holds_no_email_or_phone(planted_demo):
    root, _summary, items = planted_demo
    planted = _contact_strings(items)
    wb = load_workbook(root / "report.xlsx", read_only=True)
    cells = [v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert len(cells) > 100
    assert _hits(cells, planted) == []
    html = (root / "report.html").read_text(encoding="utf-8")
    assert len(html) > 10_000
    assert _hits(re.split(r"<[^>]+>", html), planted) == []


def test_the_dashboard_shows_and_serves_no_email_or_phone(planted_demo):
    from dash_app import create_app
    from dash_app.export import to_csv_bytes, to_xlsx_bytes
    from dash_app.feed import TABLES
    from dash_app.pages import PAGES
    from dash_app.pages._common import page_layout

    root, _summary, items = planted_demo
    planted = _contact_strings(items)
    app = create_app(root)
    data = app.results.get()
    found = []
    for mod in PAGES:
        for wave in data.waves:
            for lang in ("en", "es"):
                q = {"wave": wave, "lang": lang}
                layout = json.dumps(page_layout(mod, data, q, lang), cls=plotly.utils.PlotlyJSONEncoder,
                                    ensure_ascii=False)
                df = mod.view_data(data, mod.state(data, q), lang)
                xlsx = load_workbook(io.BytesIO(to_xlsx_bytes(df, mod.PAGE)), read_only=True)
                cells = [v for row in xlsx.active.iter_rows(values_only=True) for v in row if isinstance(v, str)]
                found += [(mod.PAGE, wave, lang, h) for h in _hits(
                    [*re.split(r'"[a-zA-Z_]+": ', layout), *to_csv_bytes(df).decode("utf-8-sig").splitlines(), *cells],
                    planted)]
    client = app.server.test_client()
    for table in TABLES:  # the whole table as CSV; as JSON (the same values, 2.5 times the bytes) the planted wave
        for fmt, query in (("csv", ""), ("json", f"?wave={WAVE}")):
            r = client.get(f"/feed/{table}.{fmt}{query}")
            assert r.status_code == 200, (table, fmt)
            found += [(table, fmt, h) for h in _hits(r.get_data(as_text=True).splitlines(), planted)]
    for path in ["/_dash-layout", *(f"/{mod.PAGE}?lang=es" for mod in PAGES)]:
        r = client.get(path)
        assert r.status_code == 200, path
        found += [(path, h) for h in _hits([r.get_data(as_text=True)], planted)]
    assert found == []


def test_the_patterns_find_what_they_look_for():
    """The search is no test if it finds nothing: each pattern catches the planted forms."""
    contacts = _contact_strings(_planted())
    assert len(contacts) >= 30 and len(_hits(contacts, [])) == len(contacts)
    assert _hits(["call (555) 014-2368", "a.b@example.org", "+52 55 1234 5678", "867-5309"], []) != []
    assert len(_hits(["call (555) 014-2368", "a.b@example.org", "+52 55 1234 5678", "867-5309",
                      "555.201.4477", "1-555-303-9912"], [])) == 6
    assert _hits(["0.5123", "2026-03-09T22:20:16", "114005136103", "+1.2 points", "54104", "(95% CI 0.41-0.47)",
                  "+0.04 since Spring 2024 (95% CI −0.03 to +0.11)", "+12 34 56"], []) == []
    assert len(_hits(["+44 20 7946 0958", "+34 612 34 56 78", "+1 (555) 014 2368", "+44 7700 900123"], [])) == 4
