"""Reading a 责任单位 or 配合单位 cell: the units and their aliases (org.yaml) and the rules'
unit_phrases, which unit leads and which assist, and the closest units to a word that
names none."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import NotFound
from engine.names import did_you_mean
from engine.org import Org
from engine.policy import Policy


@dataclass(frozen=True)
class Units:
    """A 责任单位 cell understood: the lead unit, the assisting ones, and how it was read."""

    lead: str
    others: tuple[str, ...]
    reading: str

    @property
    def co_units(self) -> str:
        return "、".join(self.others)


_SEPARATORS = set("、，,；;/／ \t\r\n及和与等")


class UnitReader:
    """Reads 责任单位 cells against org.yaml and the rules' unit_phrases."""

    def __init__(self, org: Org, policy: Policy) -> None:
        self.org = org
        self.vocabulary: dict[str, tuple[str, str]] = {}  # word -> ("unit", name) | ("phrase", meaning)
        for phrase in policy.unit_phrases:
            self.vocabulary[phrase.phrase] = ("phrase", phrase.means)
        for unit in org.units.values():
            for word in (unit.name, *unit.aliases):
                self.vocabulary[word] = ("unit", unit.name)  # a real unit wins over a phrase
        self.longest = max((len(w) for w in self.vocabulary), default=1)
        self._cache: dict[str, Units] = {}

    def read(self, text: str) -> Units:
        """Raises NotFound naming the part that is neither a unit nor a known phrase."""
        key = text.strip()
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._read(key)
        return found

    def co_units(self, text: str, lead: str) -> str | None:
        """A 配合单位 cell: the units it names besides `lead`, or None for none; raises
        NotFound as `read` does."""
        read = self.read(text)
        names = [u for u in (read.lead, *read.others) if u != lead]
        return "、".join(names) or None

    def _read(self, text: str) -> Units:
        named, meanings = self._words(text)
        if not named and not meanings:
            raise NotFound("单位", text or "（空）", "责任单位不能为空")
        extra, lead_by_office = self._meant(meanings)
        ordered = list(dict.fromkeys(named + extra))
        if named:
            lead = named[0]
        elif lead_by_office or extra:
            lead = self.org.safety_office  # nobody named: the coordinating office leads
        else:
            raise NotFound("单位", text, "这一栏没有指出任何单位")
        others = tuple(u for u in ordered if u != lead)
        reading = f"牵头：{lead}" + (f"；配合：{'、'.join(others)}" if others else "")
        return Units(lead, others, reading)

    def _words(self, text: str) -> tuple[list[str], list[str]]:
        """The units the text names and the phrases' meanings, in order; raises NotFound
        at the first part that is neither."""
        named: list[str] = []
        meanings: list[str] = []
        i = 0
        while i < len(text):
            word = self._word_at(text, i)
            if word is not None:
                what, value = self.vocabulary[word]
                (named if what == "unit" else meanings).append(value)
                i += len(word)
            elif text[i] in _SEPARATORS:
                i += 1
            else:
                j = i
                while j < len(text) and text[j] not in _SEPARATORS:
                    j += 1
                unknown = text[i:j]
                raise NotFound("单位", unknown, self._suggest(unknown))
        return named, meanings

    def _suggest(self, unknown: str) -> str:
        """The hint for a word naming no unit: the closest units, or where to register it."""
        close = did_you_mean(unknown, [w for w, v in self.vocabulary.items() if v[0] == "unit"])
        return close or "请在 org.yaml 中登记该单位（或其别名），或在规则文件 unit_phrases 中说明这种说法"

    def _meant(self, meanings: list[str]) -> tuple[list[str], bool]:
        """The units the phrases mean, and whether one of them asks the safety office to lead."""
        extra: list[str] = []
        lead_by_office = False
        for meaning in meanings:
            if meaning == "all":
                extra += list(self.org.units)
            elif meaning == "offices":
                extra += [u.name for u in self.org.units.values() if u.kind == "office"]
            elif meaning == "colleges":
                extra += [u.name for u in self.org.units.values() if u.kind == "college"]
            elif meaning == "safety_office":
                extra.append(self.org.safety_office)
                lead_by_office = True
        return extra, lead_by_office

    def _word_at(self, text: str, i: int) -> str | None:
        for length in range(min(self.longest, len(text) - i), 0, -1):
            word = text[i:i + length]
            if word in self.vocabulary:
                return word
        return None
