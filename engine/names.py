"""Names as people type them: one normal form, so that look-alikes are one name.

A name copied from a spreadsheet or a chat often carries a full-width space, a
zero-width space or a compatibility form of a character; two such names look the
same to a person and must be the same name to rectify (or be refused as duplicates).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

# Characters that show nothing: zero-width spaces and joiners, the word joiner, the
# byte-order mark, soft hyphen, and the bidirectional marks.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)
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



def _key(word: str) -> str:
    return normalise(word).casefold()


class Vocabulary:
    """The names people may type for one kind of thing (events, fields, roles, states):
    each internal name with its Chinese title and other words for it. `name_of` takes any
    of them as typed — "assign", "交办", "ASSIGN", "交\u3000办 " — and gives the name."""

    def __init__(self, entries: Mapping[str, str | Iterable[str]]) -> None:
        self.titles: dict[str, str] = {}
        self.words: dict[str, str] = {}  # every word accepted, as written → its name
        self._lookup: dict[str, str] = {}
        for name, said in entries.items():
            words = [said] if isinstance(said, str) else list(said)
            self.titles[name] = words[0] if words else name
            for word in (name, *words):
                self.words.setdefault(word, name)
                self._lookup.setdefault(_key(word), name)

    def name_of(self, typed: str) -> str | None:
        """The internal name `typed` stands for, or None."""
        return self._lookup.get(_key(typed)) if isinstance(typed, str) else None

    def listing(self, names: Iterable[str] | None = None) -> str:
        """“assign（交办）、start（开始整改）” for `names` (default: all)."""
        shown = list(self.titles) if names is None else list(names)
        return "、".join(f"{n}（{self.titles[n]}）" if self.titles.get(n, n) != n else n for n in shown)

    def suggest(self, typed: str, names: Iterable[str] | None = None) -> str:
        """“是否指：assign（交办）？” for the names closest to `typed` by any of their words, or ""."""
        allowed = set(self.titles) if names is None else set(names)
        words = {w: n for w, n in self.words.items() if n in allowed}
        found = list(dict.fromkeys(words[w] for w in closest(typed, words)))
        return f"是否指：{self.listing(found)}？" if found else ""
