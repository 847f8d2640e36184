"""`rectify deadline EXPR`: read a Chinese deadline expression and say what it means,
in Chinese (the day, the overdue instant, the working days, 暂定 and why), or with
--json as the machine format:

    rectify deadline 2020年底前 --ref 2020-08-01 --json
    {"kind": "once", "dues": ["2020-12-31"], "overdue_at": ["2021-01-01T00:00:00+08:00"], …}

Working days follow the site's calendar (calendar.yaml: years the package does not know
yet, the school's own days) when there is a site: --site, $RECTIFY_SITE, or the current
directory if it is one, and "开学前", "学期末", "每学期" are read against its terms, "两会前",
"中考结束前" against its events; elsewhere the package's calendar alone (and term and event
words are refused). "下班前" is the
site's end of the working day (rectify.yaml deadlines.workday_end, default 17:30). Anything the
engine cannot read with certainty exits 2 with the unreadable part on stderr.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

import click

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import in_range
from engine.deadline import Deadline, Kind, parse_deadline, zone_of
from engine.deadline.dates import cn_date
from engine.ports import Clock
from engine.workcal import WorkCalendar

KIND_TITLES = {Kind.ONCE: "一次性期限", Kind.WINDOW: "时间段", Kind.RECURRING: "周期性期限",
               Kind.IMMEDIATE: "立即整改", Kind.ONGOING: "长期坚持"}
WEEKDAYS = "一二三四五六日"
MAX_COUNTED_DAYS = 3660  # working days are counted for dues up to ten years ahead


def _zone(name: str) -> tzinfo:
    try:
        return zone_of(name)
    except ValueError as exc:
        raise click.BadParameter(f"未知时区：{name}", param_hint="--tz") from exc


def _reference(text: str | None, zone: tzinfo, clock: Clock) -> datetime:
    """--ref as a date or a date and time in the site's zone; now when not given."""
    if text is None:
        return clock.now().astimezone(zone)
    try:
        when = datetime.fromisoformat(text) if "T" in text or " " in text else None
        if when is None:
            when = datetime.combine(date.fromisoformat(text), time(0))
    except ValueError as exc:
        raise click.BadParameter(
            f"应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM：{text}", param_hint="--ref"
        ) from exc
    return in_range(when if when.tzinfo else when.replace(tzinfo=zone), zone, "--ref", text)


@cli.command("deadline", short_help="解析期限表述：最后一天、逾期时间和其间的工作日。")
@click.argument("expression")
@click.option("--ref", "--at", "ref", metavar="YYYY-MM-DD[THH:MM]", help="参考时间（默认：现在）")
@click.option(
    "--count", type=click.IntRange(min=1), default=4, show_default=True, help="周期性期限列出几次"
)
@click.option("--tz", "tz", help="时区（默认：站点的时区，无站点时 Asia/Shanghai）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（kind、dues、start、overdue_at、ongoing、provisional、warnings）")
@click.pass_obj
@handle_errors
def deadline_command(ctx: Context, expression: str, ref: str | None, count: int, tz: str | None,
                     as_json: bool) -> None:
    """解析期限表述（如“2020年底前”“5个工作日内”“每季度末”），说明最后一天、逾期时间和其间的工作日。
    有站点时按站点日历（calendar.yaml）计算工作日，“开学前”“学期末”“每学期”等按其中的学期计算，
    “两会前”“中考结束前”等按其中的事件（events）计算；
    跨入尚无节假日安排的年份时结果为暂定，并说明原因。--json 输出机器可读的格式。"""
    config, calendar = ctx.site_calendar()
    zone = _zone(tz) if tz else (config.timezone if config else _zone("Asia/Shanghai"))
    at = _reference(ref, zone, ctx.clock)
    # The calendar carries the site's events and end of the working day (下班前).
    result = parse_deadline(expression, at, zone, calendar=calendar.workcal, count=count)
    if as_json:
        echo_json(result.to_json())
        return
    for line in describe(result, at.astimezone(zone), calendar.workcal):
        click.echo(line)


def _day(day: date) -> str:
    return f"{cn_date(day)}（星期{WEEKDAYS[day.weekday()]}）"


def _instant(at: datetime) -> str:
    return f"{cn_date(at.date())} {at:%H:%M}"


def workdays(calendar: WorkCalendar, after: date, last: date) -> int | None:
    """Working days in (after, last]; None when `last` is too far ahead to count."""
    if (last - after).days > MAX_COUNTED_DAYS:
        return None
    count, day = 0, after + timedelta(days=1)
    while day <= last:
        count += calendar.is_workday(day)
        day += timedelta(days=1)
    return count


def _working_days(due: date, at: datetime, calendar: WorkCalendar, span: bool = True) -> str:
    """The working days from the day after `at` to the due day, as a phrase (with the
    days they run over when `span`)."""
    today = at.date()
    if due < today:
        return "期限已过"
    if due == today:
        return "今天到期"
    counted = workdays(calendar, today, due)
    days = f"{cn_date(today + timedelta(days=1))}至{cn_date(due)}" if span else ""
    if counted is None:
        return days or "超过十年，未计算工作日"
    return f"{days}，共 {counted} 个工作日" if span else f"还有 {counted} 个工作日"


def describe(result: Deadline, at: datetime, calendar: WorkCalendar) -> list[str]:
    """What the expression means, in Chinese, one line each."""
    zone = at.tzinfo or _zone("Asia/Shanghai")
    shown = " ".join(result.expression.split())
    out = [f"期限“{shown}”（按 {_instant(at)} 起算）：{KIND_TITLES[result.kind]}"]
    if result.kind is Kind.IMMEDIATE:
        out.append("  应立即整改，没有截止日期")
    if result.kind is Kind.WINDOW and result.start is not None:
        out.append(f"  起始：{_day(result.start)}")
    pairs = list(zip(result.dues, result.overdue_at, strict=True))
    if len(pairs) == 1:
        due, overdue_at = pairs[0]
        out += [f"  {'截止' if result.kind is Kind.WINDOW else '最后一天'}：{_day(due)}",
                f"  逾期时间：{_instant(overdue_at.astimezone(zone))} 起",
                f"  工作日：{_working_days(due, at, calendar)}"]
    for n, (due, overdue_at) in enumerate(pairs if len(pairs) > 1 else [], start=1):
        out.append(f"  第{n}次：{_day(due)}，{_instant(overdue_at.astimezone(zone))} 起逾期"
                   f"（{_working_days(due, at, calendar, span=False)}）")
    if result.ongoing:
        out.append("  长期坚持：没有截止日期，定期复查")
    if result.provisional:
        out.append("  暂定：" + ("；".join(result.warnings) if result.warnings else "期限跨入节假日安排尚未公布的年份"))
    elif result.warnings:
        out += [f"  注意：{w}" for w in result.warnings]
    return out
