"""A printable questionnaire: one self-contained HTML page with print CSS, in one language.

Questions are numbered (notes are not); options carry a box (☐); grids print as tables;
skip logic prints in words twice: as a direction after the question it depends on ("If you
answered 'No' to question 12, skip to question 14") when a run of following questions depends
on that one question only, and as "Answer only if ..." on each conditional question.
No PDF: no well-kept pure-Python HTML-to-PDF library works without native libraries; print
the page to PDF from a browser (the CSS sets A4/Letter-safe margins and page breaks).
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.deploy.common import (
    Option,
    compare_parts,
    matching_codes,
    numbered_questions,
    options,
    parse_relevant,
    phrases,
    text,
)
from survey_pipeline.instrument.model import Instrument, Question

__all__ = ["build_paper", "describe_relevant", "skip_directions"]

BOX = "☐"

CSS = """
@page { size: auto; margin: 18mm 16mm; }
body { font-family: "Helvetica Neue", Arial, sans-serif; font-size: 11.5pt; line-height: 1.35; color: #000;
       max-width: 46em; margin: 0 auto; padding: 1em; }
header { border-bottom: 2px solid #000; margin-bottom: 1em; }
h1 { font-size: 18pt; margin: 0 0 .2em; }
.agency { font-size: 12pt; font-weight: bold; margin: 0; }
.meta { font-size: 9pt; color: #333; }
.instructions { border: 1px solid #000; padding: .6em .8em; margin: 1em 0; }
h2 { font-size: 13pt; border-bottom: 1px solid #000; margin: 1.4em 0 .6em; break-after: avoid; }
.q { margin: 0 0 1.1em; break-inside: avoid; page-break-inside: avoid; }
.qtext { font-weight: bold; }
.num { display: inline-block; min-width: 2em; }
.how, .hint { font-style: italic; font-size: 10pt; margin: .15em 0 .3em 2em; }
.only-if { font-size: 10pt; margin: .15em 0 .3em 2em; }
ul.opts { list-style: none; margin: .2em 0 0 2em; padding: 0; }
ul.opts li { margin: .15em 0; }
.box { font-size: 14pt; margin-right: .35em; }
.code { font-size: 7pt; color: #555; vertical-align: super; margin-left: .2em; }
.skip { font-weight: bold; margin: .3em 0 0 2em; }
table.grid { border-collapse: collapse; margin: .3em 0 0 2em; font-size: 10pt; }
table.grid th, table.grid td { border: 1px solid #000; padding: .2em .35em; }
table.grid th { font-weight: normal; vertical-align: bottom; }
table.grid td.box { text-align: center; }
.line { border-bottom: 1px solid #000; height: 1.6em; margin: 0 0 0 2em; }
.numbox { display: inline-block; border: 1px solid #000; width: 5em; height: 1.5em; margin-left: 2em; }
footer { margin-top: 2em; border-top: 1px solid #000; padding-top: .5em; font-size: 10pt; }
@media print { body { padding: 0; } a { color: #000; text-decoration: none; } }
"""


def _answers_words(opts: list[Option], language: str, words: dict[str, str]) -> str:
    quoted = [f"'{text(o.label, language)}'" for o in opts]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + f" {words['or']} " + quoted[-1]


def describe_relevant(inst: Instrument, node, language: str, numbers: dict[str, int]) -> str:
    """A skip-logic expression in words: "you answered 'Yes' to question 12"."""
    words = phrases(language, "paper")
    qs = {q.id: q for q in inst.questions()}

    def opts_of(qid: str) -> list[Option]:
        q = qs.get(qid)
        return options(inst, q.answer_list) if q and q.answer_list else []

    def one_question(n) -> str | None:
        """A sub-expression about one single-choice question, as the answers that satisfy it."""
        refs = skiplogic.references(n)
        names = {name for name, _ in refs}
        if len(names) != 1 or any(choice is not None for _, choice in refs):
            return None
        qid = names.pop()
        q = qs.get(qid)
        if q is None or q.type != "single" or not opts_of(qid):
            return None
        opts = opts_of(qid)
        hit = skiplogic.evaluate(n, pd.DataFrame({qid: [o.code for o in opts]}))
        chosen = [o for o, h in zip(opts, hit, strict=True) if h]
        return words["answered"].format(answers=_answers_words(chosen, language, words),
                                        q=numbers.get(qid, qid))

    def render(n) -> str:
        if not isinstance(n, skiplogic.Compare) and (said := one_question(n)) is not None:
            return said
        if isinstance(n, skiplogic.BoolOp):
            return f" {words[n.op]} ".join(render(p) for p in n.parts)
        if isinstance(n, skiplogic.Not):
            return f"{words['not']} ({render(n.part)})"
        if isinstance(n, skiplogic.Selected):
            hit = [o for o in opts_of(n.name) if o.name == n.choice or f"c{o.code}" == n.choice]
            label = text(hit[0].label, language) if hit else n.choice
            return words["marked"].format(answer=label, q=numbers.get(n.name, n.name))
        parts = compare_parts(n)
        if parts and not isinstance(parts[2], str) and opts_of(parts[0]):
            qid, op, value = parts
            q_no = numbers.get(qid, qid)
            if op == "!=":
                hit = matching_codes("=", float(value), opts_of(qid))
                return words["not_answered"].format(answers=_answers_words(hit, language, words), q=q_no)
            hit = matching_codes(op, float(value), opts_of(qid))
            return words["answered"].format(answers=_answers_words(hit, language, words), q=q_no)
        if parts:
            qid, op, value = parts
            return f"{words['question']} {numbers.get(qid, qid)} {op} {value:g}" if isinstance(value, float) \
                else f"{words['question']} {numbers.get(qid, qid)} {op} '{value}'"
        return inst.question(n.name).id if isinstance(n, skiplogic.Ref) else str(n)

    return render(node)


def skip_directions(inst: Instrument, language: str, numbers: dict[str, int]) -> dict[str, str]:
    """Directions printed after a question: which answers skip the questions that follow.

    For a single-choice question S followed by a run of questions whose skip logic names S
    alone, the answers of S that make every one of them not apply send the reader to the first
    question after the run (or the end).
    """
    words = phrases(language, "paper")
    qs = inst.questions()
    out: dict[str, str] = {}
    for i, s in enumerate(qs):
        if s.type != "single" or not s.answer_list:
            continue
        run: list = []
        j = i + 1
        while j < len(qs):
            node = parse_relevant(qs[j])
            if node is None:
                if qs[j].type == "note" and run:
                    j += 1
                    continue
                break
            refs = {name for name, _ in skiplogic.references(node)}
            if refs != {s.id}:
                break
            run.append(node)
            j += 1
        if not run:
            continue
        opts = options(inst, s.answer_list)
        frame = pd.DataFrame({s.id: [o.code for o in opts]})
        applies = np.zeros(len(opts), dtype=bool)
        for node in run:
            applies |= skiplogic.evaluate(node, frame)
        skip = [o for o, a in zip(opts, applies, strict=True) if not a]
        if not skip:
            continue
        target = next((qs[k] for k in range(j, len(qs)) if qs[k].id in numbers), None)
        answers = _answers_words(skip, language, words)
        if target is None:
            out[s.id] = words["skip_end"].format(answers=answers, q=numbers[s.id])
        else:
            out[s.id] = words["skip"].format(answers=answers, q=numbers[s.id], to=numbers[target.id])
    return out


def _options_html(opts: list[Option], language: str) -> str:
    items = "".join(f'<li><span class="box">{BOX}</span>{escape(text(o.label, language))}'
                    f'<span class="code">{o.code}</span></li>' for o in opts)
    return f'<ul class="opts">{items}</ul>'


def build_paper(inst: Instrument, language: str) -> str:
    """The questionnaire as one HTML document (inline CSS, no external requests)."""
    words = phrases(language, "paper")
    numbers = numbered_questions(inst)
    directions = skip_directions(inst, language, numbers)
    title = escape(text(inst.title, language))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{CSS}</style></head><body>",
        "<header>",
    ]
    if inst.agency:
        parts.append(f'<p class="agency">{escape(words["agency"].format(agency=inst.agency))}</p>')
    parts.append(f"<h1>{title}</h1>")
    parts.append(f'<p class="meta">{escape(inst.id)} · {escape(words["version"])} {escape(inst.version)}</p>')
    parts.append("</header>")
    if inst.description:
        parts.append(f"<p>{escape(text(inst.description, language))}</p>")
    parts.append(f'<div class="instructions">{escape(words["instructions"])}</div>')

    def question_html(q: Question) -> str:
        h = [f'<div class="q" id="{escape(q.id)}">']
        if q.type == "note":
            h.append(f"<p>{escape(text(q.label, language))}</p></div>")
            return "".join(h)
        h.append(f'<p class="qtext"><span class="num">{numbers[q.id]}.</span>{escape(text(q.label, language))}</p>')
        node = parse_relevant(q)
        if node is not None:
            h.append(f'<p class="only-if">{escape(words["only_if"].format(condition=describe_relevant(inst, node, language, numbers)))}</p>')
        if q.hint:
            h.append(f'<p class="hint">{escape(text(q.hint, language))}</p>')
        opts = options(inst, q.answer_list) if q.answer_list else []
        if q.type == "single":
            h.append(f'<p class="how">{escape(words["mark_one"])}</p>')
            h.append(_options_html(opts, language))
        elif q.type == "multi":
            h.append(f'<p class="how">{escape(words["mark_all"])}</p>')
            h.append(_options_html(opts, language))
        elif q.type == "rank":
            h.append(f'<p class="how">{escape(words["rank"].format(n=q.max_picks or len(opts)))}</p>')
            items = "".join(f'<li><span class="box">____</span>{escape(text(o.label, language))}</li>'
                            for o in opts if not o.missing)
            h.append(f'<ul class="opts">{items}</ul>')
        elif q.type == "grid":
            h.append(f'<p class="how">{escape(words["mark_one_per_row"])}</p>')
            head = "".join(f"<th>{escape(text(o.label, language))}</th>" for o in opts)
            rows = "".join(
                f"<tr><td>{escape(text(it.label, language))}</td>"
                + "".join(f'<td class="box">{BOX}</td>' for _ in opts) + "</tr>"
                for it in q.items or []
            )
            h.append(f'<table class="grid"><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table>')
        elif q.type == "integer":
            how = words["between"].format(min=f"{q.min:g}", max=f"{q.max:g}") \
                if q.min is not None and q.max is not None else words["write_number"]
            h.append(f'<p class="how">{escape(how)}</p><span class="numbox"></span>')
        elif q.type == "text":
            h.append(f'<p class="how">{escape(words["write_answer"])}</p>')
            n_lines = 4 if q.role and q.role.value == "open_text" else 1
            h.append('<div class="line"></div>' * n_lines)
        if q.id in directions:
            h.append(f'<p class="skip">→ {escape(directions[q.id])}</p>')
        h.append("</div>")
        return "".join(h)

    for m in inst.modules:
        parts.append(f'<section id="module-{escape(m.id)}">')
        if m.title:
            parts.append(f"<h2>{escape(text(m.title, language))}</h2>")
        parts.extend(question_html(q) for q in m.questions)
        parts.append("</section>")
    parts.append(f"<footer>{escape(words['thanks'])}</footer></body></html>")
    return "\n".join(parts)
