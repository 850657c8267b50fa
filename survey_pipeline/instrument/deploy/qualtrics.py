"""Qualtrics "Advanced Format" TXT import, one language.

One block per module; ``[[ID:<question id>]]`` on every question so Qualtrics' export tags are
the question ids (a grid's statements follow Qualtrics' ``<id>_<n>`` numbering, in item order:
the codebook lists the item ids in the same order). Qualtrics assigns recode values 1..n in
choice order and the TXT format cannot set them, nor skip logic (display logic): both are listed
in a first "SETUP" block for the survey builder to apply after import, then delete.
"""

from __future__ import annotations

from survey_pipeline.instrument.deploy.common import options, text
from survey_pipeline.instrument.model import Instrument, Question

__all__ = ["build_qualtrics_txt"]


def _one_line(s: str) -> str:
    """Qualtrics reads a choice per line: keep each label on one line."""
    return " ".join(s.split())


def build_qualtrics_txt(inst: Instrument, language: str) -> str:
    """The Advanced Format TXT of ``inst`` in ``language``."""
    lines: list[str] = ["[[AdvancedFormat]]", ""]

    def question(tag: str, q: Question | None, qid: str, body: str) -> None:
        lines.extend([f"[[Question:{tag}]]", f"[[ID:{qid}]]", body.strip(), ""])

    def choice_block(header: str, labels: list[str]) -> None:
        lines.append(f"[[{header}]]")
        lines.extend(_one_line(lab) for lab in labels)
        lines.append("")

    # What the TXT format cannot carry: recode values other than 1..n, and display logic.
    recodes: dict[str, list[str]] = {}
    logic: list[str] = []
    for q in inst.questions():
        opts = options(inst, q.answer_list) if q.answer_list else []
        if q.type in ("single", "multi", "grid") and any(o.code != i + 1 for i, o in enumerate(opts)):
            recodes.setdefault(q.answer_list or "", []).append(q.id)
        if q.relevant:
            logic.append(f"{q.id}: display only if {q.relevant}")
    setup: list[str] = []
    for lst, qids in recodes.items():
        codes = ", ".join(f"'{_one_line(text(o.label, language))}' = {o.code}" for o in options(inst, lst))
        setup.append(f"Recode values of {', '.join(qids)}: {codes}")
    setup.extend(logic)

    if setup:
        lines.extend(["[[Block:SETUP - delete this block before launch]]", ""])
        question("DB", None, f"{inst.id}_setup",
                 "After import, set these recode values (Recode Values) and display logic, then delete "
                 "this block:<br>" + "<br>".join(setup))
    for mi, m in enumerate(inst.modules):
        lines.extend([f"[[Block:{_one_line(text(m.title, language)) or m.id}]]", ""])
        if mi == 0:
            head = [text(inst.title, language)]
            if inst.agency:
                head.append(inst.agency)
            if inst.description:
                head.append(text(inst.description, language))
            question("DB", None, f"{inst.id}_intro", "<br>".join(h for h in head if h))
        for q in m.questions:
            label = text(q.label, language)
            if q.hint:
                label = f"{label}<br><i>{text(q.hint, language)}</i>"
            opts = options(inst, q.answer_list) if q.answer_list else []
            opt_labels = [text(o.label, language) for o in opts]
            if q.type == "note":
                question("DB", q, q.id, label)
            elif q.type == "single":
                question("MC:SingleAnswer:Vertical", q, q.id, label)
                choice_block("Choices", opt_labels)
            elif q.type == "multi":
                question("MC:MultipleAnswer:Vertical", q, q.id, label)
                choice_block("Choices", opt_labels)
            elif q.type == "rank":
                question("RankOrder", q, q.id, label)
                choice_block("Choices", [text(o.label, language) for o in opts if not o.missing])
            elif q.type == "grid":
                question("Matrix", q, q.id, label)
                choice_block("Choices", [text(it.label, language) for it in q.items or []])
                choice_block("Answers", opt_labels)
            elif q.type == "integer":
                question("TE:SingleLine", q, q.id, label)
            elif q.type == "text":
                tag = "TE:Essay" if q.role and q.role.value == "open_text" else "TE:SingleLine"
                question(tag, q, q.id, label)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
