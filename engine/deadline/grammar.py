"""The words of deadline expressions: one compiled pattern that finds time atoms.

After `engine.numerals.normalize`, an expression is a run of filler text and atoms.
An atom is one of these kinds, each named after the group of ATOM that holds it:

    every    每 + unit [+ month of the cycle] [+ anchor] [前] [… N次]
                                               每季度末, 每月1日前, 每周五前, 每年2次, 每3个工作日,
                                               每月最后一个工作日, 每季度首月10日前, 每月初
    iso      2020-12-31, 2020/9/1, 2020.12 [+ time]
    holiday  [festival] + 节/假期 + 后 + count     节后第一个工作日, 国庆节后3个工作日内, 节前
             (the run of days off of the working calendar, `engine.deadline.holiday`)
    festival [year] + festival [+ 假期/放假]      春节, 明年元旦, 国庆节放假
    event    [year] + an event of the site's calendar [+ 开始/结束 …] [+ 后 + count | 期间]
                                               两会前, 中考结束前, 两会期间, 两会后3个工作日内
             (each name written as one private-use character first, `engine.deadline.events`)
    school   开学 / 放假 / 寒假 / 暑假 / 学期末 [+ 后 + count | 第N周]   开学前, 开学后2周内,
             学期末, 开学后第一周
             (read against the site's terms, `engine.deadline.school`)
    abs      [year] + [half | quarter | month [day | 旬]] + [底/末]
                                               2020年底, 上半年, 第一季度末, 下月10日, 年内, 月底
    amount   count + unit                      3日, 十五个工作日, 半个月, 24小时, 1个半月
    week     [本/下/上]周[weekday]             下周三, 本周, 周五
    dayword  今天, 当日, 即日, 次日 …
    immediate 立整立改, 立即整改, 立行立改, 即查即改 …
    ongoing  长期坚持, 长期, 持续, 常态化 …

Any atom may be followed by a time of day (24时, 下午5点, 17:30, 中午, 上午, 下班) and by a relation
(前 之前 以前 内 以内 之内 为止 止). Between atoms the text decides how they combine:
nothing or a list mark (、,; 和 及 与) makes a list, a range mark (至 到 ~ -, perhaps
after 起/开始) a window. Everything the pattern does not take is filler, which the parser
checks (no stray digits, no hedges like 前后 / 左右 / 以后).

Alternatives are tried in the order above at each position, so "2020年内" is a year
with 内, not an amount of 2020 years, and "3月内" is March while "3个月内" is three
months. An amount of months needs 个 (or 半).
"""

from __future__ import annotations

import re

from engine.numerals import chinese_to_int

_YEAR_WORD = "今|本|当|这|明|次|翌|下一?|去|上一?"
_NEAR_WORD = "本|当|这个?|下一?个?|次|上一?个?"

_EVERY = r"""
(?P<every>每个?(?P<ev_n>\d+)?个?
  (?P<ev_unit>工作日|自然日|年度?|半年|季度?|月|周|星期|礼拜|天|日|学期|学年|旬|半月|小时)
  (?P<ev_school>开学|放假)?的?
  (?P<ev_cm>首月|末月|第\d{1,2}个?月|最后1?个月)?的?
  (?:(?P<ev_month>\d{1,2})月)?
  (?:(?P<ev_day>\d{1,2})[日号]|(?P<ev_xun>[上中下])旬
     |(?P<ev_wdn>第\d{1,2}|最后1?)个?工作日
     |(?:星期|礼拜|周)?(?P<ev_weekday>[一二三四五六日天]|[1-7](?![\d次个]))|(?P<ev_end>[底末])|(?P<ev_early>初))?
  (?P<ev_rel>之前|以前|前)?
  (?:[^\d每]{0,8}?(?P<ev_times>\d+)次)?)
"""

_ISO = r"""
(?P<iso>(?P<iso_y>\d{4})(?P<iso_sep>[-/.])(?P<iso_m>\d{1,2})(?:(?P=iso_sep)(?P<iso_d>\d{1,2})(?:(?:星期|周|礼拜)(?P<iso_wd>[一二三四五六日天]))?)?)
"""

_FEST_NAMES = "元旦|春节|除夕|元宵节?|清明节?|五一劳动节|五一|劳动节|端午节?|中秋节?|十一国庆节?|国庆节?|十一|重阳节?"

# A festival ("春节", "国庆节放假"), or a count from a holiday, named or not ("节后第一个
#工作日", "国庆节后3个工作日内", "春节假期结束后第1个工作日", "节前"): one alternative, so
# festival names are tried once at each position. The `holiday` group marks the count.
_FESTIVAL = rf"""
(?P<festival>(?:(?:(?P<fest_y>\d{{4}})年|(?P<fest_yw>{_YEAR_WORD})年)?(?P<fest>{_FEST_NAMES})(?:(?<!节)节)?
    |(?P<ho_bare>节假日|节日|节|假期)(?=[假长小放结收返上复之以后前]))
  (?P<fest_off>(?<![假日])(?:假期|长假|小长假|放假))?
  (?P<holiday>(?:结束|收假|返岗|返校|上班|复工)?(?:之?后|以后)的?(?P<ho_work>(?:上班|返岗|复工|返校)后?)?
     (?:第(?P<ho_nth>\d+)个?(?P<ho_nth_unit>工作日|天|日)
       |(?P<ho_n>\d+)个?(?P<ho_unit>工作日|天|日|周|星期)(?=以内|之内|内))
   |(?(fest)(?!)|(?P<ho_eve>(?=之前|以前|前))))?
  (?(ho_bare)(?(holiday)|(?!))))
"""

# An event the site's calendar.yaml names, written by the parser as one private-use
# character before the atoms are found (`engine.deadline.events`): "两会前", "2027年两会前",
# "中考结束前", "两会期间", "两会后3个工作日内", "中考结束后第1个工作日".
_EVENT = rf"""
(?P<event>(?:(?P<evt_y>\d{{4}})年|(?P<evt_yw>{_YEAR_WORD})年)?(?P<evt>[\ue000-\uf8ff])
  (?P<evt_form>开始|开幕|召开|举行|到来|结束|闭幕)?
  (?:(?P<evt_after>之后|以后|后)的?
      (?:第(?P<evt_nth>\d+)个?(?P<evt_nth_unit>工作日|天|日)
        |(?P<evt_n>\d+)个?(?P<evt_unit>工作日|天|日|周|星期)(?=以内|之内|内))?
    |(?P<evt_during>期间))?)
"""

_SCHOOL = r"""
(?P<school>(?P<sc_word>开学|放假|寒假|暑假|本?学期[末底]|学期结束)
  (?:后(?P<sc_n>\d+|半)个?(?P<sc_unit>工作日|天|日|周|星期|礼拜|月)
    |(?:之?后|以后)?的?第(?P<sc_nth>\d+)个?(?P<sc_nth_unit>周|星期|天|日|月))?)
"""

_ABS = rf"""
(?P<abs>(?P<year>(?:(?P<y>\d{{4}})|(?P<yw>{_YEAR_WORD}))年度?)?
  (?:(?P<half>[上下])半年度?
    |第?(?P<q>\d)季度?
    |(?P<qw>{_NEAR_WORD})?(?P<quarter>季)度
    |(?:(?P<m>\d{{1,2}})|(?P<mw>{_NEAR_WORD}))?(?P<mon>月)份?
      (?:(?P<d>\d{{1,2}})[日号](?:(?:星期|周|礼拜)(?P<d_wd>[一二三四五六日天]))?
        |(?P<xun>上中|中下|[上中下])旬)?
    |(?P<bxun>上中|中下|[上中下])旬
    |(?(year)|(?P<ybare>年度?)))
  (?:(?P<end>年?[底末])|(?P<part>年?(?:初(?![中一二三])|中(?![小学旬心考层期间央秋午]))))?)
"""

_AMOUNT = r"""
(?P<amount>(?P<n>\d+|半)(?:个?(?P<n_half>半))?个?
  (?P<unit>工作日|自然日|日历日|日历天|天|日|号|周|星期|礼拜|(?<=[个半])月|年|小时|钟头|分钟))
"""

_WEEK = r"""
(?P<week>(?:(?P<wk_w>本|这|下一?|上一?|次)个?)?(?:周|星期|礼拜)
  (?:(?P<wk_d>[一二三四五六日天]|[1-7](?!\d))|(?(wk_w)|(?!))))
"""

_DAYWORD = r"(?P<dayword>今天|今日|当天|当日|本日|即日|明天|明日|次日|翌日|后天)"

_IMMEDIATE = r"""
(?P<immediate>立[即刻]?[整查行知改办纠]立[改整办纠]|即[查知发]即改|边查边改|随查随改
  |随时发现随时(?=整改|改正|处置|处理)
  |立即|立刻|立马|马上|即刻|即时|当即|迅即|第一时间|(?:当场|现场)(?=整改|改正|处置|处理|纠正))
"""

_ONGOING = r"(?P<ongoing>长期坚持|长期|持续|常态化|长效|经常性)"

_TIME = r"""
(?P<clock>T?(?P<ampm>上午|中午|下午|晚上|晚|早上|凌晨)?(?P<hh>\d{1,2})
  (?:[时点](?:(?P<mi>\d{1,2})分|(?P<hh_half>半))?|:(?P<mi2>\d{2}))
  |(?P<tword>(?:下午)?下班|上午|中午|下午|晚上))
"""

# A weekday after a date confirms it ("25日（周一）", "5月11日（下周一）"); brackets are
# gone after normalize. Checked against the date, never a second deadline.
_CONFIRM = r"(?P<confirm>(?P<cf_w>本|这|下一?|上一?)?个?(?:星期|周|礼拜)(?P<cf_d>[一二三四五六日天]))"

_RELATION = r"(?P<rel>之前|以前|前|以内|之内|内|为止|止)"

# Every character an atom can start with. Checking it first lets the engine skip filler
# in one step instead of trying every alternative at each position (4x faster on
# "整治方案请于8月25日前报学校综治办汇总"); a test checks the set against the grammar.
FIRST_CHARS = "\\d节假每今本当这明次翌下去上第季年月元春除清五劳端中十国重半周星礼立即边随马长持常经后开放寒暑学迅现"
EVENT_CHARS = "\\ue000-\\uf8ff"  # the private-use characters events are written as


def optional_as_branch(pattern: str) -> str:
    """`pattern` with every optional group `(…)?` written `(?:(…)|)`, which matches the
    same text with the same groups.

    Python's regex engine runs `(…)?` as a repeat, and inside a repeat every
    alternative it tries copies all the capture marks set so far: with ATOM's 78 groups
    that was a third of the time spent finding atoms. An alternative with an empty
    branch is tried in the same order (the group first, then nothing) without the copies.
    Lookarounds, lazy `??` and other quantifiers are left as they are.
    """
    out: list[str] = []
    opened: list[int] = []  # where each open group starts in `out`
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        step = 2 if c == "\\" else 1
        out.append(pattern[i : i + step])
        i += step
        if step == 2:
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i = _class_start(pattern, i, out)
        elif c == "(":
            opened.append(len(out) - 1)
        elif c == ")":
            start = opened.pop()
            if pattern.startswith("?", i) and not pattern.startswith(("??", "?+"), i):
                group = "".join(out[start:])
                if not group.startswith(("(?=", "(?!", "(?<=", "(?<!")):
                    out[start:] = [f"(?:{group}|)"]
                    i += 1
    return "".join(out)


def _class_start(pattern: str, i: int, out: list[str]) -> int:
    """A character class's leading "^" and "]" (a literal there), copied to `out`."""
    for literal in ("^", "]"):
        if pattern.startswith(literal, i):
            out.append(literal)
            i += 1
    return i


def _atom(kinds: tuple[str, ...], first: str) -> re.Pattern[str]:
    return re.compile(optional_as_branch(atom_source(kinds, first)), re.VERBOSE)


def atom_source(kinds: tuple[str, ...], first: str) -> str:
    """The atom pattern as written (`optional_as_branch` makes the one compiled)."""
    return (
        f"(?=[{first}])(?:" + "|".join(kinds)
        + f"){_CONFIRM}?(?:(?=[T上中下晚早凌\\d]){_TIME})?{_RELATION}?"
    )


# ATOM reads every expression; ATOM_WITH_EVENTS those in which a name of the site's
# calendar events was written as its character (the event alternative, tried before
# the absolute dates for "2027年两会前", would cost every other expression its time).
KINDS_WITHOUT_EVENTS = (_EVERY, _ISO, _FESTIVAL, _SCHOOL, _ABS, _AMOUNT, _WEEK, _DAYWORD, _IMMEDIATE, _ONGOING)
KINDS_WITH_EVENTS = (_EVERY, _ISO, _FESTIVAL, _EVENT, _SCHOOL, _ABS, _AMOUNT, _WEEK, _DAYWORD, _IMMEDIATE, _ONGOING)
ATOM = _atom(KINDS_WITHOUT_EVENTS, FIRST_CHARS)
ATOM_WITH_EVENTS = _atom(KINDS_WITH_EVENTS, FIRST_CHARS + EVENT_CHARS)

# Names of the outer groups, one per kind of atom, to tell a match's kind.
# Most frequent first, since kind_of tries them in order.
KINDS: tuple[str, ...] = (
    "abs",
    "amount",
    "every",
    "immediate",
    "ongoing",
    "holiday",  # inside a festival match: check it first
    "festival",
    "school",
    "iso",
    "week",
    "dayword",
    "event",
)

# "5月8-12日", "3—5月", "8至12日": a range whose first number shares the unit written
# after the second. `expand_ranges` writes the unit after both ("5月8日-12日"), so the
# range reads like any other. Not after a digit, "." "/" or "-" (2020.09-12 stays refused).
# The first number may be a Chinese numeral ("三至五月": normalize only converts numerals
# before a unit), and quarters may share 季度 ("第二至第三季度").
_CN_NUM = "[一二两三四五六七八九十]{1,3}"
SHARED_UNIT = re.compile(
    rf"(?<![\d./:\-周期拜])(第?)(\d{{1,2}}|{_CN_NUM})([-~至到])(第?\d{{1,2}})(?=[日号月]|季度)"
)
_SHARED_UNIT_HINT = re.compile(rf"(?:\d|{_CN_NUM})[-~至到]第?\d")


def expand_ranges(text: str) -> str:
    """ "5月8-12日" → "5月8日-12日", "3-4月" → "3月-4月", "三至5月" → "3月至5月",
    "第二至第3季度" → "第2季度至第3季度" (see SHARED_UNIT)."""
    if "-" not in text and "~" not in text and "至" not in text and "到" not in text:
        return text
    if _SHARED_UNIT_HINT.search(text) is None:
        return text
    return SHARED_UNIT.sub(lambda m: _shared(m, text), text)


def _shared(m: re.Match[str], text: str) -> str:
    unit = "季度" if text.startswith("季度", m.end()) else text[m.end()]
    first = m[2] if m[2].isdigit() else str(chinese_to_int(m[2]))
    return f"{m[1]}{first}{unit}{m[3]}{m[4]}"


LIST_MARK = re.compile(r"[、,;/和及与]|以及|并且?")
RANGE_MARK = re.compile(r"(?:起|开始)?(?:至|到|~|-)")
# A number left in the filler is unread time ("3至5个工作日", "9.30前") unless it counts
# something else ("开展1次", "100%", "3项").
# Five or more digits, or digits in an e-mail address or a code ("abc123@163.com",
# "电话88881234"), are never a time.
STRAY_NUMBER = re.compile(
    r"(?<![\dA-Za-z@._-])\d{1,4}(?![\d次项份%％名人条处家所批类件遍轮套台篇@_])"
)
# Filler that changes what a date means: "约2020年底", "2020年底前后", "3月以后", "2021年起".
# ("收到通知后3个工作日内" is fine: the count starts at the reference.)
HEDGE_BEFORE = re.compile(
    r"(?:约|大约|大概|或|或者|除|非|不是|不在|不|不早于|不得早于"
    r"|(?<![不得])早于|(?<![不得最])晚于|(?<![不得最])迟于)$"  # "早于12月31日": before, exclusive
)
# "到2022年", "截至2020年8月": a bare year or month read as a limit, not a window.
UNTIL = re.compile(r"(?:到|至|截至|截止|截止到|截止至|不晚于|不迟于)$")
HEDGE_AFTER = re.compile(r"后|以后|之后|起|开始|左右|上下|以来|期间|或|至|到|~|-")
# An end marker or unit left over after an atom: "20年底前" (a year needs four digits).
UNREAD_PART = re.compile(r"[底末旬年月日号]")
# A date with no relation of its own, followed soon by one: "下半年3号前".
LATER_RELATION = re.compile(r"[^,;、。]{0,4}?[前后]")


def kind_of(match: re.Match[str]) -> str:
    """Which kind of atom a match is (one of KINDS)."""
    for kind in KINDS:
        if match.start(kind) >= 0:
            return kind
    raise AssertionError("atom without a kind")
