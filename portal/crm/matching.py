"""The keys a customer is recognised by, whoever typed them: the company name folded (case, width,
spaces, punctuation and the legal-form suffix, so "ACME Co., Ltd." and "acme" and "ＡＣＭＥ有限公司"
are one), the tax id (unified social credit code) upper-cased without separators, the phone in E.164
(a mainland number without a country code is taken as +86) and the email lower-cased."""

from __future__ import annotations

import re
import unicodedata

# Legal forms stripped from the end of a name: Chinese ones from the text (longest first, so
# "股份有限公司" goes before "有限公司"), Latin ones as whole words only ("Visa" keeps its "sa").
CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "分公司", "公司", "集团")
WORD_SUFFIXES = frozenset(
    (
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "plc",
        "gmbh",
        "sa",
        "ag",
        "bv",
    )
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def name_key(name: str | None) -> str | None:
    """The name as matching compares it; None when nothing but a legal form or punctuation is left."""
    if not name:
        return None
    words = _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", name).casefold()).split()
    while words and words[-1] in WORD_SUFFIXES:
        words.pop()
    text = "".join(words)
    stripped = True
    while stripped:
        stripped = False
        for suffix in CJK_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, stripped = text[: -len(suffix)], True
                break
    return text[:200] or None


def tax_key(tax_id: str | None) -> str | None:
    if not tax_id:
        return None
    text = _NOT_WORD.sub("", unicodedata.normalize("NFKC", tax_id)).upper()
    return text[:40] or None


def phone_key(phone: str | None) -> str | None:
    """E.164, or None when the text is not a phone number (too few or too many digits)."""
    if not phone:
        return None
    text = unicodedata.normalize("NFKC", phone).strip()
    digits = "".join(_DIGITS.findall(text))
    if text.startswith("00"):
        digits, international = digits[2:], True
    else:
        international = text.startswith("+")
    if not international:
        digits = digits.lstrip("0")
        # a mainland mobile (11 digits from 1) or a number with its area code: China's
        digits = "86" + digits
    if not 8 <= len(digits) <= 15:
        return None
    return "+" + digits


def email_key(email: str | None) -> str | None:
    if not email:
        return None
    text = unicodedata.normalize("NFKC", email).strip().lower()
    return text if _EMAIL.match(text) and len(text) <= 254 else None
