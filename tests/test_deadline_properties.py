"""Properties that hold for every reference time and count (hypothesis)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.deadline import Kind, grammar, parse_deadline, parse_offset
from engine.deadline.dates import days_in_month
from engine.errors import DeadlineError
from engine.numerals import chinese_to_int, normalize
from engine.workcal import DEFAULT_CALENDAR, SiteEvent, WorkCalendar
from tests.examples import examples

SH = ZoneInfo("Asia/Shanghai")

refs = st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SH)
)
counts = st.integers(min_value=1, max_value=90)


@settings(max_examples=examples(300))
@given(ref=refs, n=counts)
def test_a_working_day_deadline_lands_on_a_working_day(ref: datetime, n: int) -> None:
    """ "N个工作日内" is due on a working day after the reference day, provisional exactly
    when the count crossed a year whose holidays are not known."""
    deadline = parse_deadline(f"{n}个工作日内", ref)
    assert DEFAULT_CALENDAR.is_workday(deadline.dues[0])
    assert deadline.dues[0] > ref.date()
    counted_years = range((ref.date() + timedelta(days=1)).year, deadline.dues[0].year + 1)
    unknown = any(not DEFAULT_CALENDAR.knows(year) for year in counted_years)
    assert deadline.provisional == unknown == bool(deadline.warnings)


@settings(max_examples=examples(300))
@given(
    ref=refs,
    a=counts,
    b=counts,
    unit=st.sampled_from(["日", "天", "个工作日", "周", "个月", "年", "小时", "分钟", "个自然日"]),
)
def test_more_days_never_move_a_deadline_earlier(ref: datetime, a: int, b: int, unit: str) -> None:
    """For N <= M, "N…内" is overdue no later than "M…内"."""
    low, high = sorted((a, b))
    first = parse_deadline(f"{low}{unit}内", ref)
    second = parse_deadline(f"{high}{unit}内", ref)
    assert first.overdue_at[0] <= second.overdue_at[0]
    assert first.dues[0] <= second.dues[0]
    assert first.overdue_at[0] > ref


recurrences = st.sampled_from(
    [
        "每季度末",
        "每月1日前",
        "每周五前",
        "每周",
        "每月",
        "每半年",
        "每年2次",
        "每季度",
        "每年",
        "每年12月25日前",
        "每月31日前",
        "每年2月29日前",
        "每两个月",
        "每5个月",
        "每天",
        "每个工作日",
        "每3个工作日",
        "每7天",
        "每两周",
        "每周一",
        "每月下旬",
        "每年3次",
        "每年4次",
        "每年6次",
        "每年12次",
        "每周五下午5点前",
        "每周一上午",
        "每天下班前",
        "每个工作日17时前",
        "每月最后一个工作日",
        "每月第一个工作日",
        "每季度最后一个工作日",
        "每周最后一个工作日",
        "每月初",
        "每季度首月10日前",
        "每季度末月15日前",
        "每半年首月5日前",
    ]
)


@settings(max_examples=examples(300))
@given(expression=recurrences, ref=refs, count=st.integers(min_value=1, max_value=12))
def test_recurring_dues_strictly_increase(expression: str, ref: datetime, count: int) -> None:
    """The dues of a recurrence strictly increase, and none is over at the reference."""
    deadline = parse_deadline(expression, ref, count=count)
    assert deadline.kind is Kind.RECURRING and len(deadline.dues) == count
    assert all(a < b for a, b in zip(deadline.dues, deadline.dues[1:], strict=False))
    assert all(at > ref for at in deadline.overdue_at)


@settings(max_examples=examples(200))
@given(expression=recurrences, ref=refs, later=st.integers(min_value=0, max_value=5000))
def test_next_dues_after_any_instant(expression: str, ref: datetime, later: int) -> None:
    """next_dues(after) are still open at `after`, increase, and the first is the earliest."""
    deadline = parse_deadline(expression, ref)
    after = ref + timedelta(hours=later)
    upcoming = deadline.next_overdue(after, 3)
    assert len(upcoming) == 3
    assert all(at > after for at in upcoming)
    assert all(a < b for a, b in zip(upcoming, upcoming[1:], strict=False))


@st.composite
def windows(draw: st.DrawFn) -> str:
    year = draw(st.integers(min_value=2005, max_value=2035))
    m1 = draw(st.integers(min_value=1, max_value=12))
    m2 = draw(st.integers(min_value=m1, max_value=12))
    d1 = draw(st.integers(min_value=1, max_value=days_in_month(year, m1)))
    shape = draw(st.sampled_from(["months", "days", "month-end", "year-span"]))
    if shape == "months":
        return f"{year}年{m1}月至{m2}月"
    if shape == "month-end":
        return f"{year}年{m1}月{d1}日起至{m2}月底"
    if shape == "year-span":
        return f"{year}年{m1}月至{year + 1}年{m2}月"
    d2 = draw(st.integers(min_value=1, max_value=days_in_month(year, m2)))
    return f"{m1}月{d1}日至{m2}月{d2}日"


@settings(max_examples=examples(300))
@given(expression=windows(), ref=refs)
def test_windows_start_before_they_end(expression: str, ref: datetime) -> None:
    """Every window's first day is on or before its last, which is its due."""
    deadline = parse_deadline(expression, ref)
    assert deadline.kind is Kind.WINDOW
    assert deadline.start is not None and deadline.start <= deadline.dues[0]


@settings(max_examples=examples(300))
@given(day=st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)), ref=refs)
def test_every_real_date_reads_as_itself_in_every_spelling(day: date, ref: datetime) -> None:
    """ "Y年M月D日前", ISO, slashes and Chinese numerals give the same day."""
    spellings = [
        f"{day.year}年{day.month}月{day.day}日前",
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{_digits(day.year)}年{_chinese(day.month)}月{_chinese(day.day)}日前",
    ]
    for text in spellings:
        assert parse_deadline(text, ref).dues == (day,), text


def _impossible_dates() -> st.SearchStrategy[tuple[int, int, int]]:
    """(year, month, day) with a month past 12 or a day past the month's end, built so
    (not filtered) so generation never starves."""
    years = st.integers(min_value=1990, max_value=2099)
    bad_month = st.tuples(years, st.integers(min_value=13, max_value=15), st.integers(min_value=1, max_value=35))
    bad_day = st.tuples(years, st.integers(min_value=1, max_value=12)).flatmap(
        lambda ym: st.tuples(st.just(ym[0]), st.just(ym[1]),
                             st.integers(min_value=days_in_month(*ym) + 1, max_value=35)))
    return st.one_of(bad_month, bad_day)


@settings(max_examples=examples(300))
@given(ymd=_impossible_dates(), ref=refs)
def test_impossible_dates_are_refused_never_rounded(ymd: tuple[int, int, int], ref: datetime) -> None:
    """A month past 12 or a day past the month's end is an error naming that part."""
    year, month, day = ymd
    assert month > 12 or day > days_in_month(year, month)
    text = f"{year}年{month}月{day}日前"
    try:
        parse_deadline(text, ref)
    except DeadlineError as exc:
        assert f"{month}月" in exc.part
    else:
        raise AssertionError(f"{text} was accepted")


@settings(max_examples=examples(500))
@given(n=st.integers(min_value=0, max_value=9999))
def test_chinese_numerals_round_trip(n: int) -> None:
    """Positional Chinese numerals read back as the number written."""
    assert chinese_to_int(_chinese(n)) == n


_ALPHABET = (
    "0123456789年月日底前内至每季度上下半周五一个工作立整改长期坚持春节国庆、今本明次号时点"
    "第元旦清明劳动端午中秋十重阳即边随马持常经后份旬天星期礼拜午晚:-/.~T当这翌去查行"
    "假迅现初首末最班\ue000\ue001开始结束期间"
)


@settings(max_examples=examples(1500))
@given(text=st.text(alphabet=_ALPHABET + "\ue001", max_size=20),
       atoms=st.sampled_from([grammar.ATOM, grammar.ATOM_WITH_EVENTS]))
def test_the_first_character_filter_changes_no_match(text: str, atoms: re.Pattern[str]) -> None:
    """The fast pre-check of FIRST_CHARS finds exactly what the full grammar finds, with
    and without the site's events (written as private-use characters)."""
    slow = re.compile(atoms.pattern.split(")", 1)[1], re.VERBOSE)
    text = normalize(text)
    assert [m.span() for m in atoms.finditer(text)] == [m.span() for m in slow.finditer(text)]


_AS_WRITTEN = {
    grammar.ATOM: re.compile(grammar.atom_source(grammar.KINDS_WITHOUT_EVENTS, grammar.FIRST_CHARS), re.VERBOSE),
    grammar.ATOM_WITH_EVENTS: re.compile(
        grammar.atom_source(grammar.KINDS_WITH_EVENTS, grammar.FIRST_CHARS + grammar.EVENT_CHARS), re.VERBOSE),
}


@settings(max_examples=examples(1500))
@given(text=st.text(alphabet=_ALPHABET + "\ue001", max_size=20),
       atoms=st.sampled_from([grammar.ATOM, grammar.ATOM_WITH_EVENTS]))
def test_optional_groups_as_branches_find_the_same_atoms_and_groups(text: str, atoms: re.Pattern[str]) -> None:
    """The compiled grammar (optional groups written as branches) reads every text as the
    grammar as written does: the same atoms, each with the same groups."""
    text = normalize(text)
    assert [(m.span(), m.groupdict()) for m in atoms.finditer(text)] == [
        (m.span(), m.groupdict()) for m in _AS_WRITTEN[atoms].finditer(text)
    ]


def test_the_bench_expressions_read_alike_with_optional_groups_as_branches() -> None:
    from bench.bench_deadline import EXPRESSIONS

    for expression in EXPRESSIONS:
        text = grammar.expand_ranges(normalize(expression))
        for atoms, written in _AS_WRITTEN.items():
            assert [(m.span(), m.groupdict()) for m in atoms.finditer(text)] == [
                (m.span(), m.groupdict()) for m in written.finditer(text)
            ], expression


@pytest.mark.parametrize(("written", "compiled"), [
    ("(a)?b", "(?:(a)|)b"),
    ("(?P<x>a(b)?)?", "(?:(?P<x>a(?:(b)|))|)"),
    ("(?:a|b)?c", "(?:(?:a|b)|)c"),
    ("(a)??(b)*(c)+(d){0,1}", "(a)??(b)*(c)+(d){0,1}"),  # only greedy ? changes
    ("(?=a)?(?!b)?(?<=c)?(?<!d)?", "(?=a)?(?!b)?(?<=c)?(?<!d)?"),  # lookarounds stay
    (r"\(a\)?[)]?[^)]?[]()]?", r"\(a\)?[)]?[^)]?[]()]?"),  # escaped and in classes
    ("(?P<g>x)?(?(g)a|(b)?)", "(?:(?P<g>x)|)(?(g)a|(?:(b)|))"),
])
def test_optional_as_branch_rewrites_only_optional_groups(written: str, compiled: str) -> None:
    assert grammar.optional_as_branch(written) == compiled
    re.compile(compiled)


@settings(max_examples=examples(800))
@given(text=st.text(alphabet="".join(c for c in _ALPHABET if not "\ue000" <= c <= "\uf8ff"), max_size=20))
def test_without_events_both_grammars_find_the_same_atoms(text: str) -> None:
    """An expression naming no event reads alike with or without the event alternative."""
    text = normalize(text)
    assert [m.span() for m in grammar.ATOM.finditer(text)] == [
        m.span() for m in grammar.ATOM_WITH_EVENTS.finditer(text)
    ]


_DIGITS = "〇一二三四五六七八九"


def _digits(n: int) -> str:
    return "".join(_DIGITS[int(c)] for c in str(n))


def _chinese(n: int) -> str:
    """A positional Chinese numeral, as documents write them (十五, 一百零五, 二千)."""
    if n == 0:
        return "零"
    parts, zero = [], False
    for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            if zero and parts:
                parts.append("零")
            parts.append(
                ("" if (value == 10 and not parts and digit == 1) else _DIGITS[digit]) + name
            )
            zero = False
        else:
            zero = True
    return "".join(parts)


@settings(max_examples=examples(300))
@given(
    instant=refs,
    a=st.integers(min_value=0, max_value=40),
    b=st.integers(min_value=0, max_value=40),
    unit=st.sampled_from(["个工作日", "日", "小时", "个月", "周"]),
)
def test_offsets_move_monotonically(instant: datetime, a: int, b: int, unit: str) -> None:
    """ "逾期N…" never comes earlier for a larger N, and "N…前" never later."""
    low, high = sorted((a, b))

    def after(n: int) -> datetime:
        return parse_offset(f"逾期{n}{unit}").apply(instant) if n else instant

    def before(n: int) -> datetime:
        return parse_offset(f"{n}{unit}前").apply(instant) if n else instant

    assert instant <= after(low) <= after(high)
    assert instant >= before(low) >= before(high)


@settings(max_examples=examples(300))
@given(
    instant=refs,
    n=st.integers(min_value=1, max_value=30),
    direction=st.sampled_from(["逾期{}个工作日", "{}个工作日前"]),
)
def test_working_day_offsets_span_exactly_n_working_days(
    instant: datetime, n: int, direction: str
) -> None:
    """Between an instant and its offset lie exactly N working days of working time, and
    the result is the earliest such instant (never a midnight after a day off)."""
    result = parse_offset(direction.format(n)).apply(instant)
    low, high = sorted((instant, result))
    elapsed = timedelta(0)
    day = low.date()
    while day <= high.date():
        if DEFAULT_CALENDAR.is_workday(day):
            start = datetime.combine(day, datetime.min.time(), SH)
            elapsed += max(timedelta(0), min(high, start + timedelta(days=1)) - max(low, start))
        day += timedelta(days=1)
    assert elapsed == timedelta(days=n)
    if result.time() == datetime.min.time():
        assert DEFAULT_CALENDAR.is_workday(result.date() - timedelta(days=1))


# -- the forms of the second round (issue 20) ------------------------------------------

_DASHES = ["-", "—", "–", "～", "~", "至", "到"]


@st.composite
def ranges(draw: st.DrawFn) -> str:
    """Day ranges in a month, month ranges and ranges across months and years, with every
    dash people type."""
    year = draw(st.integers(min_value=2005, max_value=2035))
    m1 = draw(st.integers(min_value=1, max_value=12))
    m2 = draw(st.integers(min_value=m1, max_value=12))
    d1 = draw(st.integers(min_value=1, max_value=days_in_month(year, m1)))
    d2 = draw(st.integers(min_value=d1, max_value=days_in_month(year, m1)))
    d3 = draw(st.integers(min_value=1, max_value=days_in_month(year + 1, m2)))
    dash = draw(st.sampled_from(_DASHES))
    shapes = [
        f"{year}年{m1}月{d1}{dash}{d2}日",
        f"{year}年{m1}月{d1}日{dash}{d2}日",
        f"{year}年{m1}{dash}{m2}月",
        f"{year}年{m1}月{dash}{year + 1}年{m2}月{d3}日",
        f"{m1}月{d1}{dash}{d2}日",
        f"{m1}{dash}{m2}月期间",
        f"自即日起{dash if dash in ('至', '到') else '至'}{year + 31}年{m2}月{d3}日",
    ]
    return draw(st.sampled_from(shapes))


_PARTS = [
    "上旬", "中旬", "下旬", "上中旬", "中下旬", "初", "中",
]
_PERIODS = [
    "第一季度", "第二季度", "第三季度", "第四季度", "上半年", "下半年", "年初", "年中",
]


@st.composite
def parts(draw: st.DrawFn) -> str:
    """Parts of periods named alone: windows."""
    year = draw(st.sampled_from(["", "2021年", "今年", "明年"]))
    if draw(st.booleans()):
        month = draw(st.integers(min_value=1, max_value=12))
        return f"{year}{month}月{draw(st.sampled_from(_PARTS))}"
    return f"{year}{draw(st.sampled_from(_PERIODS))}"


@settings(max_examples=examples(400))
@given(expression=st.one_of(ranges(), parts()), ref=refs)
def test_new_windows_start_before_they_end(expression: str, ref: datetime) -> None:
    """Ranges with any dash and parts of periods are windows whose start is not after
    their end."""
    deadline = parse_deadline(expression, ref)
    assert deadline.kind is Kind.WINDOW, expression
    assert deadline.start is not None and deadline.start <= deadline.dues[0]


# Yearless forms that look ahead from the reference: bare days, weekdays, day words with
# times, festivals and holidays, counts, recurrences with times and working days.
_AHEAD = st.sampled_from(
    [
        "25日前", "1日前", "31日前", "15号前", "29日前", "30日下班前", "10日17时前",
        "周五前", "下周一前", "下周三下班前", "本周日前", "今天下班前", "当天", "当日24时前",
        "明天上午10点前", "次日中午前", "十一前", "五一前", "端午前", "中秋前", "元旦前",
        "春节前", "清明前", "国庆节前", "节前", "下月初", "下月上旬前", "下季度末",
        "明年年初前", "每周五下午5点前", "每周一上午", "每天下班前", "每月最后一个工作日",
        "每月第一个工作日", "每月初", "每季度首月10日前", "每季度末月15日前",
        "每周最后一个工作日", "每个工作日17时前", "7个工作日内", "3日内", "限时3日内",
        "立即", "第一时间", "长期坚持",
    ]
)


@settings(max_examples=examples(600))
@given(expression=_AHEAD, ref=refs)
def test_forms_without_a_year_are_due_on_or_after_the_reference(
    expression: str, ref: datetime
) -> None:
    """Every due of an accepted yearless look-ahead form is on or after the reference day,
    and a recurrence lists none already over. The one exception is documented: "元旦前"
    read on 元旦 itself names the eve just past, and says so in a warning."""
    try:
        deadline = parse_deadline(expression, ref)
    except DeadlineError as exc:
        # Only a holiday in a year whose arrangement is not published may be refused.
        assert "尚未公布" in exc.reason, (expression, exc.reason)
        return
    past = [due for due in deadline.dues if due < ref.date()]
    if past:
        assert expression.endswith("前") and any("已逾期" in w for w in deadline.warnings)
        assert past == [ref.date() - timedelta(days=1)], expression
    if deadline.kind is Kind.RECURRING:
        assert all(at > ref for at in deadline.overdue_at), expression


@settings(max_examples=examples(300))
@given(
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=28),
    ref=refs,
)
def test_a_month_and_day_without_a_year_is_never_silently_past(
    month: int, day: int, ref: datetime
) -> None:
    """A yearless "M月D日前" is this year's (documents mean it); when that is already past
    at the reference, the result says so in a warning: never a silent past due."""
    deadline = parse_deadline(f"{month}月{day}日前", ref)
    if deadline.dues[0] < ref.date():
        assert any("已逾期" in w for w in deadline.warnings)


_FRAGMENTS = [
    "2020年", "5月", "8", "日", "号", "至", "到", "-", "—", "～", "~", "前", "内", "之前", "底",
    "末", "初", "中", "上", "下", "旬", "第", "季度", "半年", "年", "周", "星期", "五", "一",
    "（", "）", "下班", "上午", "下午", "中午", "5点", "17:30", "24时", "每", "月", "工作日",
    "最后一个", "首月", "节", "后", "春节", "国庆", "十一", "五一", "假期", "开学", "第一周",
    "即日起", "当天", "第一时间", "立即", "尽快", "另行通知", "限时", "两会结束", "个", "3",
    "25", "12", "31", "0", "99", "、", "和", "，", "报送", "于", "截至", "长期坚持",
    "两会", "中考", "开始", "期间", "召开", "闭幕", "2027年", "明年", "第一个", "\ue000",
]
# A calendar naming events, for the forms of calendar.yaml's `events:` (invented dates).
EVENT_CAL = WorkCalendar(events=[
    SiteEvent("两会", date(2027, 3, 5), date(2027, 3, 11)),
    SiteEvent("两会", date(2028, 3, 5), date(2028, 3, 12)),
    SiteEvent("中考", date(2027, 6, 20), date(2027, 6, 20)),
])
calendars = st.sampled_from([DEFAULT_CALENDAR, EVENT_CAL])


@pytest.mark.slow  # fuzzing: thousands of generated expressions (make test runs it)
@settings(max_examples=examples(2000))
@given(
    pieces=st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=8),
    ref=refs,
    count=st.integers(min_value=1, max_value=6),
    calendar=calendars,
)
def test_parsing_is_total(pieces: list[str], ref: datetime, count: int, calendar: WorkCalendar) -> None:
    """Any text made of the language's words gives a Deadline or a DeadlineError, never
    another exception; what is accepted keeps its own invariants (also with events)."""
    expression = "".join(pieces)
    try:
        deadline = parse_deadline(expression, ref, count=count, calendar=calendar)
    except DeadlineError as exc:
        assert exc.reason  # a refusal always says why
        return
    assert len(deadline.dues) == len(deadline.overdue_at)
    if deadline.kind is Kind.WINDOW:
        assert deadline.start is not None and deadline.start <= deadline.dues[0]
    if deadline.kind in (Kind.IMMEDIATE, Kind.ONGOING):
        assert deadline.dues == ()


@pytest.mark.slow  # fuzzing: random text (make test runs it)
@settings(max_examples=examples(1000))
@given(text=st.text(alphabet=_ALPHABET + "节假迅现初旬最后首末~—（）下班午两会中考", max_size=24), ref=refs,
       calendar=calendars)
def test_parsing_random_text_is_total(text: str, ref: datetime, calendar: WorkCalendar) -> None:
    """Random text over the grammar's alphabet: an answer or a refusal, nothing else."""
    try:
        parse_deadline(text, ref, calendar=calendar)
    except DeadlineError:
        pass


# -- events of the site's calendar (calendar.yaml's events:) ---------------------------

_EVENT_FORMS = [
    "{}前", "{}开始前", "{}召开前", "{}结束前", "{}闭幕前", "{}期间", "{}", "{}后{n}个工作日内",
    "{}结束后{n}天内", "{}后第{n}个工作日", "{}开幕后{n}天内", "即日起至{}结束", "请于{}前报送",
]


@st.composite
def event_calendars(draw: st.DrawFn) -> tuple[WorkCalendar, list[tuple[date, date]]]:
    """A calendar naming one event with one to three occurrences that do not overlap."""
    first = draw(st.dates(min_value=date(2005, 1, 1), max_value=date(2035, 6, 30)))
    occurrences = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        length = draw(st.integers(min_value=0, max_value=20))
        occurrences.append((first, first + timedelta(days=length)))
        first += timedelta(days=length + draw(st.integers(min_value=1, max_value=400)))
    events = [SiteEvent("两会", a, b) for a, b in occurrences]
    return WorkCalendar(events=draw(st.permutations(events))), occurrences


@settings(max_examples=examples(500))
@given(found=event_calendars(), form=st.sampled_from(_EVENT_FORMS), n=st.integers(min_value=1, max_value=30),
       ref=refs)
def test_event_deadlines_look_ahead_to_the_first_open_occurrence(
    found: tuple[WorkCalendar, list[tuple[date, date]]], form: str, n: int, ref: datetime
) -> None:
    """Every event form is read: a window's start is not after its end; the due falls
    within a day of an occurrence or after it; it is on or after the reference day unless
    every occurrence is past, and then it is the last one's, with a warning. The one
    refusal: a window from today to an event already over."""
    calendar, occurrences = found
    expression = form.format("两会", n=n)
    try:
        deadline = parse_deadline(expression, ref, calendar=calendar)
    except DeadlineError as exc:
        assert expression.startswith("即日起") and occurrences[-1][1] < ref.date(), (expression, exc.reason)
        assert "早于开始" in exc.reason
        return
    assert len(deadline.dues) == 1 == len(deadline.overdue_at)
    due = deadline.dues[0]
    if deadline.kind is Kind.WINDOW:
        assert deadline.start is not None and deadline.start <= due
    assert any(a - timedelta(days=1) <= due for a, _ in occurrences)
    if due < ref.date():
        assert any("已逾期" in w for w in deadline.warnings), expression
        last_start, last_end = occurrences[-1]
        assert last_start - timedelta(days=1) <= due <= last_end + timedelta(days=2 * n + 14), expression
