"""Which characters text may hold: one rule for everything people type or import.

Forbidden: the C0 control characters other than tab and newline (a carriage return is
not forbidden but normalised: CRLF and a lone CR become a newline), DEL, the C1 control
characters U+0080–U+009F, the lone surrogates (what undecodable bytes on a command line
become) and the noncharacters U+FFFE and U+FFFF. None of them can be seen or typed on
purpose; most cannot be written to an .xlsx at all (XML forbids them), so a title
holding one would make every workbook listing it fail.

    refuse(field, text)   report and fire: the text normalised, or InvalidCharacter
                          naming the field, the character and where it is;
    strip(text)           import: the text without them, and which were removed;
    clean(text)           writers: the text without them, silently (for what slipped in
                          before the rule existed).
"""

from __future__ import annotations

import re

from engine.errors import InvalidCharacter

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CR = re.compile("\r\n?")


def normalise_newlines(text: str) -> str:
    return _CR.sub("\n", text) if "\r" in text else text


def first_forbidden(text: str) -> tuple[int, str] | None:
    """(index, character) of the first forbidden character, or None."""
    found = FORBIDDEN.search(text)
    return (found.start(), found.group()) if found else None


def refuse(field: str, text: str) -> str:
    """`text` with its line breaks normalised; InvalidCharacter if it holds a forbidden
    character (`field` is the field's Chinese title, for the message)."""
    found = first_forbidden(text)
    if found is not None:
        raise InvalidCharacter(field, found[1], found[0] + 1)
    return normalise_newlines(text)


def strip(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` without forbidden characters, line breaks normalised; and the distinct
    characters removed, in order of first appearance (empty when none were)."""
    removed = tuple(dict.fromkeys(FORBIDDEN.findall(text)))
    if removed:
        text = FORBIDDEN.sub("", text)
    return normalise_newlines(text), removed


def clean(text: str) -> str:
    """`text` as a writer may put it in a file: forbidden characters dropped."""
    return normalise_newlines(FORBIDDEN.sub("", text))


def code_points(chars: tuple[str, ...]) -> str:
    """"U+0007、U+001B" for a warning."""
    return "、".join(f"U+{ord(c):04X}" for c in chars)
