"""Chinese numerals as deadlines write them, and the text clean-up that comes before parsing.

`normalize(text)` makes one canonical spelling of a deadline expression so the grammar
needs only ASCII digits: full-width characters (digits, letters, punctuation) become
half-width, white space goes, dash and tilde variants become "-" and "~", brackets and
quotes go, and Chinese numerals that count something ("十五个工作日", "二〇二〇年", "三季度", "每年两次") become digits.

Numerals are converted only in front of a unit, so ordinary words keep their characters:
"统一", "一岗双责", "十分重要", and the festival names "五一" and "十一" stay as written.
A small hand-written converter is used instead of `cn2an`: deadlines need only integers
up to the thousands, and this is several times faster.
"""

from __future__ import annotations

import re

_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SCALES = {"十": 10, "百": 100, "千": 1000}

# Full-width ASCII (digits, letters, punctuation) becomes ASCII, as NFKC folds it, so an
# event named "Ｇ20峰会" in calendar.yaml is found however it is typed.
_WIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_WIDTH.update(
    {
        "－": "-",
        "—": "-",
        "–": "-",
        "―": "-",
        "～": "~",
        "〜": "~",
        "：": ":",
        "．": ".",
        "／": "/",
        "，": ",",
        "；": ";",
        "Ｔ": "T",
    }
)
# White space, brackets and quotes carry no meaning in a deadline; they are dropped.
_DROP = " \t\r\n\u3000\xa0\u200b()（）[]【】“”‘’\"'《》「」『』"
_TABLE = str.maketrans(_WIDTH | {c: None for c in _DROP})

_NUM = "[〇零一二两三四五六七八九十百千]+"
# Units a count may stand before. 时/点 only after a day or a part of the day, and 分
# only after an hour, because "一时无法整改" and "十分重要" are words, not times.
_NUMERAL = re.compile(
    rf"{_NUM}(?=[年月日号天周个小季次工星礼])"
    rf"|(?<=[日号午晚上下夜早]){_NUM}(?=[时点])"
    rf"|(?<=[时点]){_NUM}(?=分)"
)
_HAS_NUMERAL = re.compile(_NUM)
# Anything normalize would change; most expressions have none and are returned as they are.
_NEEDS_WORK = re.compile("[" + re.escape("".join(_WIDTH) + _DROP) + "〇零一二两三四五六七八九十百千]")


def chinese_to_int(word: str) -> int:
    """The value of a Chinese numeral: "十五" → 15, "二〇二〇" → 2020, "两" → 2.

    Raises ValueError for anything that is not a well-formed numeral.
    """
    if not word:
        raise ValueError("empty numeral")
    if "十" not in word and "百" not in word and "千" not in word:  # no scale (_SCALES)
        return _digit_by_digit(word)
    return _positional(word)


def _digit_by_digit(word: str) -> int:
    """Years are read digit by digit ("二〇二〇"); so is a single digit."""
    value = 0
    for c in word:
        if c not in _DIGITS:
            raise ValueError(f"not a numeral: {word}")
        value = value * 10 + _DIGITS[c]
    return value


def _positional(word: str) -> int:
    """Numerals with 十/百/千: "十五" → 15, "三十" → 30, "一百零五" → 105."""
    total, digit, last_scale = 0, None, 10_000
    for c in word:
        if c in _DIGITS:
            if digit is not None and _DIGITS[c] != 0:
                raise ValueError(f"two digits in a row: {word}")
            digit = _DIGITS[c] if _DIGITS[c] else None
        elif c in _SCALES:
            scale = _SCALES[c]
            if scale >= last_scale:
                raise ValueError(f"scales out of order: {word}")
            total += (1 if digit is None else digit) * scale
            digit, last_scale = None, scale
        else:
            raise ValueError(f"not a numeral: {word}")
    return total + (digit or 0)


def _replace(match: re.Match[str]) -> str:
    start = match.start()
    if match.group() == "一" and start and match.string[start - 1] in "上下":
        return "一"  # 下一年, 上一个月: a word, not a count
    try:
        return str(chinese_to_int(match.group()))
    except ValueError:
        # Leave a malformed numeral in place: the grammar will not read it and says so.
        return match.group()


def normalize(text: str) -> str:
    """One canonical spelling of a deadline expression (see the module docstring)."""
    if _NEEDS_WORK.search(text) is None:
        return text
    text = text.translate(_TABLE)
    if _HAS_NUMERAL.search(text):
        text = _NUMERAL.sub(_replace, text)
    return text
