"""Why an expression with no readable time is refused, in words a person can act on.

When the grammar finds no date, count, period or 立即-word, the text is one of these:

    a vague word        尽快, 尽早, 近期, 近日, 适时, 择机, 及时, 抓紧, 按期, 按时, 限期,
                        限时 (without a time), 规定时间内
    a date to come      另行通知, 另行安排, 待定, 另定, 视情况
    an event            两会结束前, 中考前, 检查验收前: a day the site's calendar does not know
                        (calendar.yaml's `events` may name it: `engine.deadline.events`)

Each is refused saying why, and what to write instead. The vocabulary is genuine
vocabulary, not answers for particular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.workcal import SiteEvent

SUGGESTION = "请写明具体日期（如“5月31日前”）、时长（如“7个工作日内”）或周期（如“每月5日前”）"

_VAGUE = re.compile(
    r"尽快|尽早|从速|近期|近日|适时|择机|择期|及时|抓紧|按期|按时|如期|限期|限时"
    r"|规定时间|规定期限|要求时间|时限内|期限内"
)
_LATER = re.compile(r"另行通知|另行安排|另行下发|另定|待定|待通知|视情况|根据情况|根据需要|以后再定")
# A time of day with no day: "下班前", "17时前".
_CLOCK_ONLY = re.compile(r"(?:下班|上午|中午|下午|晚上|\d{1,2}[时点]|\d{1,2}:\d{2})(?:之前|以前|前)")
_DIGITS = re.compile(r"\d+(?:[./:-]\d+)*")
# "两会结束前", "中考前", "上级检查前": something before 前 that is not a date.
_EVENT = re.compile(r"(?P<event>[^\d,;、。]{1,12}?)(?:结束|召开|开始|举行|到来)?(?:之前|以前|前)")

_REASONS = {
    "尽快": "“尽快”没有确定的截止日期",
    "尽早": "“尽早”没有确定的截止日期",
    "近期": "“近期”没有确定的截止日期",
    "近日": "“近日”没有确定的截止日期",
    "适时": "“适时”没有确定的截止日期",
    "及时": "“及时”没有确定的截止日期",
    "按期": "“按期”没有写明是哪个期限",
    "按时": "“按时”没有写明是哪个时间",
    "如期": "“如期”没有写明是哪个期限",
    "限期": "“限期”没有写明期限",
    "限时": "“限时”没有写明时限",
}


UNKNOWN_EVENT = "站点日历中没有“"
EVENT_ADVICE = "或在站点 calendar.yaml 的 events 中写入其日期"


def unknown_event(reason_given: str) -> bool:
    """Whether a refusal is for an event the site's calendar does not name (which a
    site's calendar.yaml could add)."""
    return reason_given.startswith(UNKNOWN_EVENT) and EVENT_ADVICE in reason_given


def reason(text: str, known: Sequence[SiteEvent] = ()) -> str:
    """Why `text` (normalised, with no time atom) states no deadline, and what to write;
    `known` are the events the site's calendar names (listed when one is missing)."""
    clock = _CLOCK_ONLY.search(text)
    if clock:
        return f"“{clock.group()}”没有写明哪一天，请写如“今天{clock.group()}”或“5月8日{clock.group()}”"
    digits = _DIGITS.search(text)
    if digits:
        return f"数字“{digits.group()}”无法识别为日期或时长，请写成完整的日期（如“9月30日前”）或时长（如“3日内”）"
    later = _LATER.search(text)
    if later:
        return f"“{later.group()}”表示期限尚未确定，请在确定后写明具体日期"
    vague = _VAGUE.search(text)
    if vague:
        word = vague.group()
        why = _REASONS.get(word, f"“{word}”没有确定的截止日期")
        if word in ("限期", "限时"):
            return f"{why}，请写成如“限时3日内”“限期7个工作日内”或具体日期"
        return f"{why}，{SUGGESTION}"
    if "周末" in text:
        return "“周末”指周六还是周日无法确定，请写“周五前”“周日前”或具体日期"
    event = _EVENT.search(text)
    if event:
        name = event.group("event")
        names = "、".join(dict.fromkeys(e.name for e in known))
        listed = f"（日历中已有的事件：{names}）" if names else ""
        return (f"{UNKNOWN_EVENT}{name}”的日期，无法计算“{event.group()}”；请写明具体日期，如“3月10日前”，"
                f"{EVENT_ADVICE}{listed}")
    return f"没有可识别的期限，{SUGGESTION}"
