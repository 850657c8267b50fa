"""Identifiers typed into free text, replaced before anything reaches the store.

Residents type their e-mail address, phone number, street address or name into comment boxes
("call me at 555-014-2368, I live at 12 Elm St"). The export's identifier *columns* are dropped
by ingest; this module closes the other leak: :func:`redact_series` replaces what identifies a
person in open-ended answers and other free-text fields by a token, and counts what it replaced
per rule (:data:`RULES`):

============  ===============  =============================================================
rule          token            what it catches
============  ===============  =============================================================
``email``     ``[email]``      ``name@domain.tld``, also with spaces around the ``@``
``url``       ``[url]``        ``https://...``, ``www.x.org/...``, bare ``x.com/path`` (known TLDs)
``handle``    ``[handle]``     ``@name`` (a social-media handle; e-mails are taken first)
``case``      ``[case]``       case/report numbers: ``case #22-12345``, ``folio 2024-001234``
``phone``     ``[phone]``      US national and ``+`` international numbers (``phonenumbers``)
``address``   ``[address]``    house number + street (US and Spanish forms), PO Box, apartado
``name``      ``[name]``       a name after a cue ("my name is", "me llamo", "soy") or a title
                               ("Officer Smith" becomes "Officer [name]", "la oficial Pérez")
============  ===============  =============================================================

The rules run in that order, each on the text the earlier ones left, so a token is never matched
again. Phone numbers are found with ``phonenumbers`` (Google's libphonenumber): numbers written
with a leading ``+`` in any country's format, and national numbers of the regions given (US by
default: ``(555) 014-2368``, ``555.014.2368``, ``1-555-014-2368``, ``867-5309``). Its *possible*
leniency is used, not *valid*: a number is redacted when it has the length and shape of a phone
number, whether or not the number is assigned (fictional 555 numbers included). Text without
seven digits is never given to it, so survey answers, years and ZIP codes are left alone. The
other rules are compiled regular expressions; why no library does them better is in
``docs/redaction.md``, with each rule's known limits.

Pure and vectorised over distinct values: each distinct text is examined once, and only by the
rules whose cheap pre-check it passes (an ``@``, a dot, a digit, seven digits, a cue word).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["EMAIL_TOKEN", "PHONE_TOKEN", "RULES", "TOKENS", "redact_series", "redact_text"]

RULES: tuple[str, ...] = ("email", "url", "handle", "case", "phone", "address", "name")
"""The redaction rules, in the order they run; the keys of every count this module returns."""
TOKENS: dict[str, str] = {r: f"[{r}]" for r in RULES}
EMAIL_TOKEN = TOKENS["email"]
PHONE_TOKEN = TOKENS["phone"]
DEFAULT_REGIONS: tuple[str, ...] = ("US",)
_MIN_PHONE_DIGITS = 7
_I = re.IGNORECASE

# --- e-mail, url, handle ------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*\s*@\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}(?![\w\-])")
"""An address as typed: ``name@domain.tld``, also with spaces around the ``@``."""
_TLDS = ("com|org|net|gov|edu|mil|int|info|biz|io|co|us|mx|es|uk|ca|me|ly|tv|app|ai|dev|page|site|online|"
         "store|link|news|social|xyz|gob|gob\\.mx|com\\.mx|org\\.mx|co\\.uk")
_URL = re.compile(
    r"(?<![\w@.\-])(?:(?:https?|ftp)://[^\s<>\"')\]]+"
    r"|www\.[^\s<>\"')\]]+"
    rf"|[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:{_TLDS})(?![\w\-])(?:/[^\s<>\"')\]]*)?)", _I)
"""A link with a scheme, one starting ``www.``, or a bare domain with a known top-level domain
(``riverton-watch.org/meeting``): ``etc.``, ``St.`` or ``3.5`` are no domains."""
_URL_TRAIL = ".,;:!?"
_HANDLE = re.compile(r"(?<![\w@.+\-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,29}[A-Za-z0-9_])?(?![\w@])")
"""``@name`` as typed on Instagram, X, TikTok: 1 to 31 letters, digits, ``_`` or inner dots."""

# --- case numbers ---------------------------------------------------------------------------
_CASE = re.compile(
    r"(?:\b(?:case|report|incident|complaint|ticket|caso|reporte|incidente|queja|folio|expediente|denuncia)"
    r"(?:\s+(?:number|num\.?|no\.?|n[º°o]\.?|número|numero))?(?:\s+(?:is|was|es|era|de))?\s*[:#]?\s*#?\s*"
    r"|(?<![\w#])#\s*)"
    r"(?=[A-Z]{0,4}-?\d)(?!(?:19|20)\d\d\b(?![-/]\d))([A-Z]{0,4}-?\d[\d\-/]{2,}\d)\b", _I)
"""A case, report or folio number after its cue word or a ``#``: it links the comment to a police
record that names the resident, so it goes (``[case]``), and is never counted as a phone. A year
alone is no case number ("the report 2023 said")."""

# --- addresses ------------------------------------------------------------------------------
_US_SUFFIX = (r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|place|pl|way|"
              r"terrace|ter|circle|cir|highway|hwy|parkway|pkwy|trail|trl|square|sq|loop|alley|aly|row|"
              r"crescent|cres|pike|plaza|plz)")
_DIRECTION = r"(?:north|south|east|west|n|s|e|w|ne|nw|se|sw)"
_US_STOP = (r"(?:on|at|in|near|by|the|a|an|and|or|of|to|from|for|with|times?|blocks?|minutes?|hours?|days?|"
            r"weeks?|months?|years?|cars?|houses?|homes?|people|kids|pm|am|percent|dollars|miles?|feet|ft|"
            r"is|are|was|were|has|have|had|i|we|they|it|our|my|every|each|per|more|less|than|y|de|la|el)")
_US_WORD = rf"(?!{_US_STOP}\b)(?:\d{{1,3}}(?:st|nd|rd|th)|[A-Za-z][A-Za-z'\-]*\.?)"
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#|no\.?)\s*\.?\s*#?\s*[A-Za-z]?\d+[A-Za-z]?\b)"
_US_ADDRESS = re.compile(
    rf"(?<![\w$#.,\-])\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?\s+(?:{_DIRECTION}\.?\s+)?(?:{_US_WORD}\s+){{0,3}}?"
    rf"{_US_SUFFIX}\b\.?(?:\s+{_DIRECTION}\b\.?)?{_UNIT}?", _I)
"""``12 Elm St``, ``1234 N. Main Street Apt 5``, ``45 W 3rd Ave``: a house number, an optional
direction, up to three name words (never a preposition, article or unit such as "times") and a
street suffix, with an optional apartment or unit."""
_PO_BOX = re.compile(r"\b(?:p\.?\s*o\.?\s*box|post\s+office\s+box|apartado(?:\s+postal)?)\s*#?\s*\d+\b", _I)
_ES_TYPE = (r"(?:calle|c/|avenida|av\.?|avda\.?|bulevar|boulevard|blvd\.?|calzada|calz\.?|camino|carretera|"
            r"callejón|callejon|privada|priv\.?|paseo|prolongación|prolongacion|prol\.?|andador|cerrada|circuito|"
            r"retorno|diagonal|periférico|periferico)")
_ES_STOP = (r"(?:está|esta|están|estan|es|son|hay|tiene|tienen|no|muy|con|por|para|que|y|o|en|a|al|se|su|sus|"
            r"mi|mis|nos|le|les|lo|un|una|ya|pero|porque|cuando|donde|siempre|nunca|todos?|todas?|cada|desde|"
            r"hasta|veces|años|minutos|horas|días|dias|semanas|meses|cuadras|pasan|hace|fue|era|estuvo)")
_ES_WORD = rf"(?!{_ES_STOP}\b)(?:\d{{1,2}}\s+de(?=\s)|[^\W\d_][\w'.\-]*)"
_ES_NUMBER = r"(?:\s*,?\s*(?:#|no\.?|núm\.?|num\.?|número|numero)\s*\d+[A-Za-z]?|\s+\d+[A-Za-z]?)"
_ES_UNIT = r"(?:,?\s*(?:int\.?|interior|depto\.?|departamento|dpto\.?|piso|casa|lote|mz\.?|manzana)\s*#?\s*\w{1,4})"
_COLONIA = (r"(?:,?\s*(?:col\.?|colonia|fracc\.?|fraccionamiento)\s+[^\W\d_][\w'\-]*"
            rf"(?:\s+(?:(?:de|del|la|las|los|el)\s+)?(?!{_ES_STOP}\b)[^\W\d_][\w'\-]*){{0,2}})")
_ES_ADDRESS = re.compile(
    rf"\b{_ES_TYPE}\s+(?:{_ES_WORD}\s+){{0,3}}{_ES_WORD}{_ES_NUMBER}"
    rf"(?![\d.,]*\s*(?:veces|años|minutos|horas|días|dias|semanas|pm|am|%))\b{_ES_UNIT}*{_COLONIA}?", _I)
"""``Calle 5 de Mayo 123``, ``Av. Juárez #45 int. 2``, ``calle Hidalgo núm. 12, Col. Centro``: a
street type, one to four name words (never a verb or connective such as "está", "que") and a
house number, with optional interior and colonia."""
_LIVE_AT = re.compile(
    r"\b(?:i\s+live\s+(?:at|on)|we\s+live\s+(?:at|on)|living\s+at|my\s+(?:house|home|address)\s+(?:is\s+)?(?:at\s+)?"
    r"|vivo\s+en|vivimos\s+en|mi\s+(?:casa|domicilio|dirección|direccion)\s+(?:es|está|esta)?\s*(?:en\s+)?)\s*"
    r"((?:la\s+|el\s+)?\d{1,6}[A-Za-z]?\s+(?:[^\W\d_][\w'.\-]*)(?:\s+(?!(?:and|y|but|pero|since|desde|for|por)\b)"
    r"[A-ZÁÉÍÓÚÑ][\w'.\-]*)?)", _I)
"""A house number and a street name without suffix after "I live at", "vivo en": ``45 Oakwood``."""

# --- names ------------------------------------------------------------------------------------
_CAP = r"(?:[A-ZÁÉÍÓÚÑÜ][A-Za-zÁÉÍÓÚÑÜáéíóúñüàèìòùç'’\-]+|[A-Z]\.)"
"""A capitalised name word (``Pérez``, ``O'Brien``, ``McDonald``, ``Smith-Jones``) or an initial."""
_LOW = r"[a-záéíóúñü][a-záéíóúñüç'’\-]+"
_NOT_NAME = (
    "The|This|That|These|Those|It|Its|I|We|You|They|He|She|Not|So|Very|Just|Really|Also|Still|Here|There|And|"
    "But|Or|If|When|Because|Tired|Sorry|Glad|Happy|Sad|Afraid|Scared|Concerned|Worried|Disappointed|Grateful|"
    "Thankful|Angry|Upset|Done|Sure|Retired|Disabled|Single|Married|Black|White|Hispanic|Latino|Latina|Latinx|"
    "Mexican|American|African|Asian|Native|Catholic|Christian|Muslim|Jewish|Spanish|English|Republican|Democrat|"
    "Independent|Veteran|Homeowner|Renter|Resident|Neighbor|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
    "Sunday|January|February|March|April|May|June|July|August|September|October|November|December|"
    "Officers?|Police|Sheriff|Deputy|Deputies|Sergeant|Detectives?|Chief|Captain|Lieutenant|Trooper|Corporal|"
    "Sgt|Ofc|Off|Det|Dep|Lt|Capt|Cpl|City|County|Council|Mayor|Miss|Rev|Reverend|Pastor|Father|Fr|Coach|Padre|"
    "Department|Dept|Downtown|Riverton|Mr|Mrs|Ms|Dr|Sr|Sra|Srta|"
    "Yo|Él|Ella|Nosotros|Muy|No|Sí|Si|Que|Una|Un|La|El|Los|Las|De|Del|Madre|Padre|Mamá|Papá|Vecino|Vecina|"
    "Residente|Mexicano|Mexicana|Latino|Hispano|Hispana|Lunes|Martes|Miércoles|Jueves|Viernes|Sábado|Domingo|"
    "Enero|Febrero|Marzo|Abril|Mayo|Junio|Julio|Agosto|Septiembre|Octubre|Noviembre|Diciembre|Policía|Oficial|"
    "Oficiales|Agente|Agentes|Comandante|Sargento|Teniente|Capitán|Jefe|Jefa|Don|Doña|Lic|Señor|Señora|Señorita|"
    "Ciudad|Gracias|Por|Para|Con|Pero|Porque|Cuando|Hola|Buenos|Buenas|Ok|Okay|Thanks|Thank")
_NAME_WORD = rf"(?!(?:{_NOT_NAME})\b){_CAP}"
_CUE_STRONG = re.compile(
    r"\b(?i:my\s+name\s+is|my\s+name'?s|name\s*:|me\s+llamo|mi\s+nombre\s+es|nombre\s*:|signed|firma|att\.?|atte\.?|"
    r"atentamente|sincerely|regards|saludos)\s*,?\s*"
    rf"((?:{_NAME_WORD}|(?!(?:and|i|but|y|pero|from|de|del|soy|i'm|im|my|mi|the|el|la|a|an|un|una|who|que|"
    rf"live|vivo|tengo|have|am|and|o|or|not|no|es|is|was|era|very|muy|just|solo)\b){_LOW})"
    rf"(?:\s+(?:{_NAME_WORD}|(?:de\s+la|del|de|van|von|da|di|la)\s+{_CAP}))*"
    rf"(?:\s+(?!(?:and|i|but|y|pero|from|de|del|soy|my|mi|the|el|la|who|que|live|vivo|tengo|have|am|o|or|not|"
    rf"no|es|is|was|era|very|muy|just|solo|here|aquí|aqui|in|en|on|at|since|desde|a|an|un|una|for|por|"
    rf"para|with|con|to|and)\b){_LOW})?"
    rf"(?:\s*(?:,|and|y|&)\s+{_NAME_WORD}(?:\s+{_NAME_WORD})*)*)")
"""A name after a strong cue ("my name is jane doe", "me llamo María", "Sincerely, Tom Reyes"):
capitalised words, or a lower-case first name and surname."""
_CUE_WEAK = re.compile(
    r"(?:\b(?i:i\s+am|i'm|i’m|im|this\s+is|soy|yo\s+soy|habla|les\s+escribe|les\s+habla|call\s+me|ask\s+for|"
    r"pregunten\s+por|pregunte\s+por)\s+)"
    rf"((?:{_NAME_WORD})(?:\s+(?:{_NAME_WORD}|(?:de\s+la|del|de|van|von|da|di)\s+{_CAP}))*)")
"""A capitalised name after a weak cue ("I'm Jane", "soy Carlos Ruiz"), unless the word is no
name ("I'm Hispanic", "I'm Very upset", "soy Vecina"): see ``_NOT_NAME``."""
_TITLE = re.compile(
    r"\b((?i:officers?|ofc\.?|off\.?|sgt\.?|sergeant|detectives?|det\.?|deputy|deputies|dep\.?|lt\.?|lieutenant|"
    r"captain|capt\.?|cpl\.?|corporal|chief|sheriff|trooper|mr\.?|mrs\.?|ms\.?|miss|dr\.?|"
    r"rev\.?|reverend|pastor|father|fr\.?|coach|padre|pastora|"
    r"oficial(?:es)?|agentes?|comandante|sargento|teniente|capitán|capitan|jefe|jefa|detective|"
    r"sr\.?|sra\.?|srta\.?|señor|señora|señorita|don|doña|lic\.?|licenciad[oa]|ing\.?|profe|maestr[oa])\s+)"
    rf"({_NAME_WORD}(?:\s+(?:{_NAME_WORD}|(?:de\s+la|del|de|van|von|da|di)\s+{_CAP}))*"
    rf"(?:\s*(?:,|and|y|&)\s+{_NAME_WORD}(?:\s+{_NAME_WORD})*)*)")
"""A title and a capitalised name: ``Officer Smith``, ``Sgt. J. Ruiz``, ``la oficial Pérez``,
``Officers Lee and Park``. The title stays, the name goes: ``Officer [name]``. A lower-case word
after a title is no name (``Officer friendly``, ``the officer on duty``)."""


def _split(words: str) -> list[str]:
    return words.split()


_LETTERS = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
_NAME_CUE_WORDS = frozenset(_split(
    "name nombre llamo signed firma att atte atentamente sincerely regards saludos am m im this soy habla "
    "escribe call ask pregunte pregunten officer officers ofc off sgt sergeant detective detectives det deputy "
    "deputies dep lt lieutenant captain capt cpl corporal chief sheriff trooper mr mrs ms miss dr oficial "
    "oficiales agente agentes comandante sargento teniente capitán capitan jefe jefa detective sr sra srta señor "
    "señora señorita don doña lic licenciado licenciada ing profe maestro maestra rev reverend pastor father fr "
    "coach padre pastora"))
"""The words (lower case, letters only) one of which every name rule needs: a text without any is
never given to the name patterns."""
_STREET_CUE_WORDS = frozenset(_split(
    "calle c avenida av avda bulevar boulevard blvd calzada calz camino carretera callejón callejon privada "
    "priv paseo prolongación prolongacion prol andador cerrada circuito retorno diagonal periférico periferico "
    "live living vivo vivimos house home address casa domicilio dirección direccion"))
"""The words one of which the Spanish-address and "I live at" patterns need."""


def _phones(text: str, regions: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) of every phone number in ``text``, merged across ``regions``."""
    import phonenumbers

    spans: list[tuple[int, int]] = []
    for region in regions:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE,
                                                 max_tries=1000):
            spans.append((m.start, m.end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _splice(text: str, spans: list[tuple[int, int]], token: str) -> str:
    for a, b in reversed(spans):
        text = text[:a] + token + text[b:]
    return text


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _URL.finditer(text):
        a, b = m.span()
        while b > a and text[b - 1] in _URL_TRAIL:
            b -= 1
        spans.append((a, b))
    return spans


def _group_spans(pattern: re.Pattern, text: str, group: int) -> list[tuple[int, int]]:
    return [m.span(group) for m in pattern.finditer(text)]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def redact_text(text: str, regions: Iterable[str] = DEFAULT_REGIONS) -> tuple[str, dict[str, int]]:
    """``text`` with every identifier of :data:`RULES` replaced by its token, and how many of each.

    >>> redact_text("write to ana.ruiz@example.org or call (555) 014-2368")[0]
    'write to [email] or call [phone]'
    >>> redact_text("Officer Smith came to 12 Elm St fast, see www.example.org")[0]
    'Officer [name] came to [address] fast, see [url]'
    """
    counts = dict.fromkeys(RULES, 0)
    if "@" in text:
        text, n = _EMAIL.subn(TOKENS["email"], text)
        counts["email"] = n
    if "." in text:
        spans = _url_spans(text)
        if spans:
            text = _splice(text, spans, TOKENS["url"])
            counts["url"] = len(spans)
    if "@" in text:
        text, n = _HANDLE.subn(TOKENS["handle"], text)
        counts["handle"] = n
    words = set(_LETTERS.findall(text.lower()))
    if _DIGIT.search(text):
        spans = _group_spans(_CASE, text, 1)
        if spans:
            text = _splice(text, spans, TOKENS["case"])
            counts["case"] = len(spans)
        if len(_DIGIT.findall(text)) >= _MIN_PHONE_DIGITS:
            spans = _phones(text, regions)
            text = _splice(text, spans, TOKENS["phone"])
            counts["phone"] = len(spans)
        if _DIGIT.search(text):
            spans = [m.span() for m in _US_ADDRESS.finditer(text)] + [m.span() for m in _PO_BOX.finditer(text)]
            if not words.isdisjoint(_STREET_CUE_WORDS):
                spans += [m.span() for m in _ES_ADDRESS.finditer(text)]
                spans += _group_spans(_LIVE_AT, text, 1)
            spans = _merge(spans)
            if spans:
                text = _splice(text, spans, TOKENS["address"])
                counts["address"] = len(spans)
    if not words.isdisjoint(_NAME_CUE_WORDS):
        spans = _merge(_group_spans(_CUE_STRONG, text, 1) + _group_spans(_CUE_WEAK, text, 1)
                       + _group_spans(_TITLE, text, 2))
        if spans:
            text = _splice(text, spans, TOKENS["name"])
            counts["name"] = len(spans)
    return text, counts


def redact_series(values: pd.Series, regions: Iterable[str] = DEFAULT_REGIONS) -> tuple[pd.Series, dict[str, int]]:
    """:func:`redact_text` on every text of ``values`` (None stays None), index kept.

    Each distinct value is examined once; the counts are per cell (a value repeated in three cells
    counts three times) and have every rule of :data:`RULES` as a key.
    """
    regions = tuple(regions)
    s = pd.Series(values, copy=False)
    counts = dict.fromkeys(RULES, 0)
    if not len(s):
        return s, counts
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    if not len(uniq):
        return s, counts
    new = np.asarray(uniq, dtype=object).copy()
    per_value = np.bincount(codes[codes >= 0], minlength=len(uniq))
    changed = False
    for j in range(len(uniq)):
        out, got = redact_text(str(uniq[j]), regions)
        if out != uniq[j]:
            new[j] = out
            changed = True
            for k, v in got.items():
                counts[k] += v * int(per_value[j])
    if not changed:
        return s, counts
    result = new.take(np.where(codes >= 0, codes, 0))
    result[codes < 0] = None
    return pd.Series(result, index=s.index, dtype=object), counts
