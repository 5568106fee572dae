"""Facts a ticket states that a reply may need: amounts, dates, video references and ticket references.

Templates take them from the ticket (copilot/drafting/grounding.py), and redaction keeps them (a date or an
amount is not personal data, and "1 200 000" or "2026-03-01" is not a phone number).
"""

from __future__ import annotations

import re

AMOUNT = re.compile(
    r"(?:(?:USD|EUR|GBP|BRL|IDR|MXN|US\$|R\$|\$|€|£)\s?\d[\d.,]*"
    r"|\d[\d.,]*\s?(?:USD|EUR|GBP|BRL|IDR|MXN|dollars|euros|reais))"
)
# Month names (and their abbreviations) in the taxonomy's Latin-script languages, whole words only: a prefix
# alone took street names for dates ("Calle Mayor 5", "Avenida Marina 12").
_MONTH = (
    r"(?:jan(?:uary|uar|uari|vier|eiro)?|feb(?:ruary|ruar|ruari|rero|braio)?|fevereiro|febbraio|f[ée]vrier"
    r"|mar(?:ch|zo|et|s|ço)?|m[äa]rz|apr(?:il|ile)?|abril|avril|may|mayo|mai|maio|mei|maggio"
    r"|june?|junio|junho|juni|juin|giugno|july?|julio|julho|juli|juillet|luglio"
    r"|aug(?:ust|ustus)?|agosto|agustus|août|sep(?:t|tember|tiembre|tembre)?|setiembre|setembro|settembre"
    r"|oct(?:ober|ubre)?|okt(?:ober)?|outubro|octobre|ottobre|nov(?:ember|iembre|embro|embre)?"
    r"|dec(?:ember)?|dez(?:ember|embro)?|desember|diciembre|d[ée]cembre|dicembre|enero|gennaio)\b"
)
DATE = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
    rf"|{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}(?:,? \d{{4}})?)\b",
    re.IGNORECASE,
)
VIDEO_REFERENCE = re.compile(r"https?://\S+|\bvideo (?:id|ID)[: #]*\w+")
