"""Chinese numerals and the clean-up of an expression before the grammar reads it."""

from __future__ import annotations

import pytest

from engine.numerals import chinese_to_int, normalize


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("三十一", 31),
        ("一百零五", 105),
        ("两", 2),
        ("二〇二〇", 2020),
        ("二零二一", 2021),
        ("一千零一", 1001),
        ("九", 9),
    ],
)
def test_numerals(word: str, value: int) -> None:
    """Positional and digit-by-digit numerals."""
    assert chinese_to_int(word) == value


@pytest.mark.parametrize("word", ["", "十十", "五五十", "abc"])
def test_malformed_numerals(word: str) -> None:
    """Malformed numerals are refused, not approximated."""
    with pytest.raises(ValueError):
        chinese_to_int(word)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("十五个工作日内", "15个工作日内"),
        ("二〇二〇年底前", "2020年底前"),
        ("每年两次", "每年2次"),
        ("十二月三十一日下午五时前", "12月31日下午5时前"),
        ("１２月３１日 前", "12月31日前"),
        ("（2020年10月至12月）", "2020年10月至12月"),
        ("立整立改\n长期坚持", "立整立改长期坚持"),
    ],
)
def test_counts_become_digits(text: str, expected: str) -> None:
    """Counts before a unit become digits; widths, spaces and brackets are normalised."""
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    ["五一前", "十一前", "统一部署", "一岗双责", "一时无法整改", "十分重要", "下一年", "上一个月"],
)
def test_words_keep_their_numerals(text: str) -> None:
    """Festival names and ordinary words are left alone."""
    assert normalize(text) == text
