"""Names as people type them: one normal form, so that look-alikes are one name.

A name copied from a spreadsheet or a chat often carries a full-width space, a
zero-width space or a compatibility form of a character; two such names look the
same to a person and must be the same name to rectify (or be refused as duplicates).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

# Characters that show nothing: zero-width spaces and joiners, the word joiner, the
# byte-order mark, soft hyphen, and the bidirectional marks.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")


def normalise(name: str) -> str:
    """Unicode NFKC, invisible characters removed, runs of white space made one space,
    and trimmed: "郭晓明\\u3000" and "郭\\u200b晓明" are both "郭晓明"."""
    text = unicodedata.normalize("NFKC", name)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names most like `name`, best first (for “是否指…”)."""
    return difflib.get_close_matches(normalise(name), list(known), n, 0.5)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """“是否指：甲、乙？” for the closest names, or "" when none is close."""
    found = closest(name, known)
    return f"是否指：{'、'.join(found)}？" if found else ""
