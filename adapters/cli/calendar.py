"""`rectify calendar show|check|init`: the site calendar as a person checks it against the
State Council's notice and the school calendar, and warnings when next year is missing.

    rectify calendar show 2027 [--month 2] [--campus 东校区] [--json]
    rectify calendar check [--at 2026-11-01] [--json]
    rectify calendar init
    rectify calendar apply [--dry-run] [--json]

`calendar apply` counts provisional deadlines again with the site calendar, by hand, as
the daemon does when calendar.yaml changes (engine.provisional).
"""

from __future__ import annotations

import calendar as monthgrid
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any

import click

from adapters.cli.base import Context, cli, echo_json, fail, handle_errors
from adapters.cli.render import parse_time
from adapters.sitefiles import load_config
from engine.access import require_office
from engine.calendarcheck import calendar_findings
from engine.deadline.model import SHANGHAI
from engine.errors import FileAccess, RectifyError
from engine.provisional import RecountSummary
from engine.sitecalendar import (
    CALENDAR_FILE,
    Arrangement,
    Day,
    DayKind,
    SiteCalendar,
    Term,
    Vacation,
    weekday_name,
)

pass_ctx = click.make_pass_decorator(Context)

MARKS = {DayKind.HOLIDAY: "休", DayKind.MAKEUP: "班", DayKind.LOCAL_OFF: "校", DayKind.LOCAL_WORK: "补"}
LEGEND = "图例：休 法定放假  班 调休上班  校 学校放假  补 学校上班（本地安排）；六、日两列无标记的为普通周末"


@cli.group("calendar")
def calendar_group() -> None:
    """站点日历：法定节假日安排、学校放假和上班日、学期（calendar.yaml）。"""


class BadCampus(RectifyError):
    exit_code = 2


def _load(ctx: Context, campus: str | None) -> tuple[Any, SiteCalendar]:
    config, cal = ctx.site_calendar()
    if campus is not None and campus not in cal.campuses:
        known = "、".join(cal.campuses) or "无"
        raise BadCampus(f"未知的校区“{campus}”（calendar.yaml 的 campuses 中已登记：{known}）")
    return config, cal


# -- show -----------------------------------------------------------------------------


@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1901, 2099))
@click.option("--month", type=click.IntRange(1, 12), help="只看这个月")
@click.option("--campus", help="校区（calendar.yaml 的 campuses 之一）；默认全校")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def calendar_show(ctx: Context, year: int, month: int | None, campus: str | None, as_json: bool) -> None:
    """按年（或月）列出工作日、放假日、调休上班日和学期，便于与国务院通知、本校校历核对。"""
    config, cal = _load(ctx, campus)
    view = year_view(cal, year, month, campus)
    if as_json:
        echo_json(view)
        return
    site = f"站点“{config.name}”" if config else "未指定站点（只用内置节假日数据）"
    click.echo(f"{year}年{f'{month}月' if month else ''} · {site}" + (f" · {campus}" if campus else ""))
    for line in _text(cal, view):
        click.echo(line)


def year_view(cal: SiteCalendar, year: int, month: int | None, campus: str | None) -> dict[str, Any]:
    """Everything `show` prints, as data (the --json output)."""
    first = date(year, month or 1, 1)
    last = date(year, month or 12, monthgrid.monthrange(year, month or 12)[1])
    days = list(cal.days(first, last, campus))
    declared = cal.years.get(year)
    return {
        "year": year,
        "month": month,
        "campus": campus,
        "arrangement": cal.arrangement(year).value,
        "source": cal.where(declared.line) if declared else None,
        "notice": declared.notice if declared else None,
        "workdays": sum(d.working for d in days),
        "days_off": sum(not d.working for d in days),
        "holidays": _holiday_runs(days),
        "makeup_workdays": [_day_json(d) for d in days if d.kind is DayKind.MAKEUP],
        "local": [{**_day_json(d), "off": d.kind is DayKind.LOCAL_OFF}
                  for d in days if d.kind in (DayKind.LOCAL_OFF, DayKind.LOCAL_WORK)],
        "terms": [_term_json(t) for t in cal.terms_for(campus) if t.start <= last and t.end >= first],
        "vacations": [_vacation_json(v) for v in cal.vacations(campus)
                      if v.start <= last and (v.end is None or v.end >= first)],
        "events": [{"name": e.name, "start": e.start.isoformat(), "end": e.end.isoformat(),
                    "source": cal.where(e.line)}
                   for e in sorted(cal.events, key=lambda e: (e.start, e.end)) if e.start <= last and e.end >= first],
        "months": [_month(days, m) for m in range(first.month, last.month + 1)],
    }


def _day_json(d: Day) -> dict[str, Any]:
    return {"date": d.day.isoformat(), "weekday": d.day.isoweekday(), "working": d.working,
            "kind": d.kind.value, "name": d.name}


def _term_json(t: Term) -> dict[str, Any]:
    return {"name": t.name, "start": t.start.isoformat(), "end": t.end.isoformat(), "campus": t.campus}


def _vacation_json(v: Vacation) -> dict[str, Any]:
    return {"name": v.name, "start": v.start.isoformat(), "end": v.end.isoformat() if v.end else None,
            "after": v.after.name}


def _month(days: list[Day], month: int) -> dict[str, Any]:
    mine = [d for d in days if d.day.month == month]
    return {"month": month, "workdays": sum(d.working for d in mine),
            "days_off": sum(not d.working for d in mine), "days": [_day_json(d) for d in mine]}


def _holiday_runs(days: Iterable[Day]) -> list[dict[str, Any]]:
    """Consecutive statutory days off with one name, as the notice lists them."""
    runs: list[dict[str, Any]] = []
    previous: Day | None = None
    for d in days:
        if d.kind is not DayKind.HOLIDAY:
            previous = None
            continue
        if previous is not None and runs and runs[-1]["name"] == d.name:
            runs[-1]["end"] = d.day.isoformat()
            runs[-1]["days"] += 1
        else:
            runs.append({"name": d.name, "start": d.day.isoformat(), "end": d.day.isoformat(), "days": 1})
        previous = d
    return runs


def _text(cal: SiteCalendar, view: dict[str, Any]) -> list[str]:
    year = view["year"]
    lines = [_arrangement_line(cal, view), f"工作日 {view['workdays']} 天，休息日 {view['days_off']} 天", ""]
    lines += _notice_lines(view)
    if view["local"]:
        lines += ["学校安排（calendar.yaml 的 local）："]
        lines += [f"  {_md(x['date'])} {'放假' if x['off'] else '上班'}：{x['name']}" for x in view["local"]]
    lines += _term_lines(view)
    if view["events"]:
        lines += ["事件（calendar.yaml 的 events，期限“两会前”“中考结束前”等按此计算）："]
        lines += [f"  {e['name']}：{e['start']}" + (f" 至 {e['end']}" if e["end"] != e["start"] else "")
                  for e in view["events"]]
    for month in view["months"]:
        lines += ["", *_grid(year, month, view)]
    lines += ["", LEGEND]
    return lines


def _arrangement_line(cal: SiteCalendar, view: dict[str, Any]) -> str:
    year, kind = view["year"], Arrangement(view["arrangement"])
    if kind is Arrangement.PUBLISHED:
        return f"法定节假日安排：已内置（chinese_calendar，国务院办公厅已公布的{year}年安排）"
    if kind is Arrangement.DECLARED:
        notice = f"，{view['notice']}" if view["notice"] else ""
        return f"法定节假日安排：按站点日历 {view['source']} 的 years: {year}{notice}"
    return (f"法定节假日安排：尚未公布——内置数据只到{cal.workcal.last_known}年，calendar.yaml 也未写入{year}年；"
            "以下只按周末和固定日期节日（元旦、劳动节、国庆节）暂算，工作日期限为暂定")


def _notice_lines(view: dict[str, Any]) -> list[str]:
    """Festival by festival, as the notice reads: days off, then the make-up working days."""
    if not view["holidays"] and not view["makeup_workdays"]:
        return ["放假安排：无"]
    lines = ["放假安排（请与国务院办公厅通知逐条核对）："]
    names = list(dict.fromkeys([r["name"] for r in view["holidays"]]
                               + [d["name"] for d in view["makeup_workdays"]]))
    for name in names:
        parts = [f"{_md(r['start'])}至{_md(r['end'])}放假，共{r['days']}天" if r["days"] > 1
                 else f"{_md(r['start'])}放假，共1天"
                 for r in view["holidays"] if r["name"] == name]
        work = [_md(d["date"]) for d in view["makeup_workdays"] if d["name"] == name]
        if work:
            parts.append("、".join(work) + "上班")
        lines.append(f"  {name}：" + "；".join(parts))
    return lines


def _term_lines(view: dict[str, Any]) -> list[str]:
    periods = sorted([(t["start"], f"{t['name']}：{t['start']} 至 {t['end']}") for t in view["terms"]]
                     + [(v["start"], f"{v['name']}：{v['start']} 至 {v['end']}" if v["end"]
                         else f"{v['name']}：{v['start']} 起（下一学期尚未写入）") for v in view["vacations"]])
    if not periods:
        return ["学期：calendar.yaml 中没有这段时间的学期"]
    return ["学期与假期：", *(f"  {text}" for _, text in periods)]


def _grid(year: int, month: dict[str, Any], view: dict[str, Any]) -> list[str]:
    kinds = {d["date"]: DayKind(d["kind"]) for d in month["days"]}
    lines = [f"{month['month']}月  工作日 {month['workdays']} 天，休息日 {month['days_off']} 天",
             "".join(f"{w}   " for w in "一二三四五六日").rstrip()]
    for week in monthgrid.Calendar().monthdatescalendar(year, month["month"]):
        cells = []
        for day in week:
            if day.month != month["month"]:
                cells.append("     ")
                continue
            mark = MARKS.get(kinds[day.isoformat()], "  ")
            cells.append(f"{day.day:>2}{mark} ")
        lines.append("".join(cells).rstrip())
    periods = _periods_in(view, year, month["month"])
    if periods:
        lines.append("  " + "；".join(periods))
    return lines


def _periods_in(view: dict[str, Any], year: int, month: int) -> list[str]:
    first = date(year, month, 1)
    last = date(year, month, monthgrid.monthrange(year, month)[1])
    found = []
    for item in [*view["terms"], *view["vacations"]]:
        start = date.fromisoformat(item["start"])
        end = date.fromisoformat(item["end"]) if item["end"] else None
        if start > last or (end is not None and end < first):
            continue
        if end is None and start < first:
            continue  # an open vacation is shown where it starts; its end is not known
        shown = f"{_md(max(start, first), False)}—{_md(min(end, last), False)}" if end \
            else f"{_md(start, False)}起（下一学期尚未写入）"
        found.append((max(start, first), f"{item['name']} {shown}"))
    return [text for _, text in sorted(found)]


def _md(day: date | str, weekday: bool = True) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.month}月{day.day}日" + (f"（{weekday_name(day)}）" if weekday else "")


# -- check ----------------------------------------------------------------------------


@calendar_group.command("check")
@click.option("--at", "at", metavar="YYYY-MM-DD", help="按这一天检查（默认：今天）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def calendar_check(ctx: Context, at: str | None, as_json: bool) -> None:
    """检查站点日历：11月1日起提醒尚未写入的下一年法定节假日安排，并提醒缺少的学期。
    有警告时退出码为 1。"""
    config, cal = ctx.site_calendar()
    zone = config.timezone if config else SHANGHAI
    today = (parse_time(at, zone, "--at") if at else ctx.clock.now()).astimezone(zone).date()
    notes, warnings = calendar_findings(cal, today, has_site=config is not None)
    if as_json:
        echo_json({"at": today.isoformat(), "years": {str(y): cal.arrangement(y).value
                                                      for y in (today.year, today.year + 1)},
                   "notes": notes, "warnings": warnings})
    else:
        for line in notes:
            click.echo(line)
        for line in warnings:
            click.echo(f"警告：{line}", err=True)
    if warnings and as_json:
        sys.exit(1)
    if warnings:
        fail(f"站点日历有 {len(warnings)} 条警告")
    if not as_json:
        click.echo("站点日历检查通过")


# -- init -----------------------------------------------------------------------------


@calendar_group.command("init")
@pass_ctx
@handle_errors
def calendar_init(ctx: Context) -> None:
    """为已有站点写入带说明的 calendar.yaml（示例学期为虚构，请改为本校校历）。"""
    from adapters.sitesetup import write_calendar

    config = load_config(ctx.site_dir)
    try:
        path = write_calendar(config.root)
    except OSError as exc:
        raise FileAccess.from_os_error(exc, config.root / CALENDAR_FILE, "写入") from exc
    click.echo(f"已写入 {path}；请按本校校历修改学期，修改后用 rectify calendar check 检查")


@calendar_group.command("apply")
@click.option("--actor", help="操作人：综治办人员或系统管理员（正式执行时必填）")
@click.option("--dry-run", is_flag=True, help="只列出将重新计算的事项，不改动数据、不发邮件")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def calendar_apply(ctx: Context, actor: str | None, dry_run: bool, as_json: bool) -> None:
    """按当前站点日历重新计算在办事项的暂定期限，以及按学期计算的期限（如“寒假前”“学期末”）
    （守护进程在 calendar.yaml 改动后会自动执行）。期限改变的事项记入台账并通知责任人（无责任人时通知单位负责人）。"""
    app = ctx.app
    if actor:
        require_office(app.site.org, actor, "按站点日历重新计算在办事项的期限")
    elif not dry_run:
        fail("重新计算期限须用 --actor 指明操作人（综治办人员或系统管理员）；只看结果请加 --dry-run", 2)
    summary = app.recount().run("cli", dry_run=dry_run)
    if as_json:
        tz = app.config.timezone
        echo_json({**summary.counts(), "items": [r.to_json(tz) for r in summary.items]})
        return
    _print_apply(summary)


def _print_apply(summary: RecountSummary) -> None:
    click.echo(f"按当前站点日历重新计算暂定期限及按学期计算的期限：在办事项 {summary.checked} 项")
    for r in summary.items:
        click.echo(f"  事项 {r.item_id} {r.title}：{_apply_due(r.old_due, r.was_provisional)} → {_apply_due(r.new_due, r.provisional)}"
                   + (f"，{'将通知' if summary.dry_run else '已通知'} {'、'.join(r.notified)}" if r.notified else ""))
    click.echo(f"期限改变 {summary.moved} 项，期限不变改为确定 {summary.confirmed} 项，"
               f"仍为暂定 {summary.still_provisional} 项"
               + (f"，按学期计算且期限不变 {summary.terms_unchanged} 项" if summary.terms_unchanged else "")
               + (f"，出错 {summary.failed} 项（见日志）" if summary.failed else ""))
    if summary.dry_run:
        click.echo("（预演）未改动任何数据；去掉 --dry-run 执行")
    elif any(r.notified for r in summary.items):
        click.echo("已记入台账；通知邮件已排队，由守护进程（或 rectify tick）发送")
    elif summary.items:
        click.echo("已记入台账")


def _apply_due(day: Any, provisional: bool) -> str:
    return (day.isoformat() if day else "无") + ("（暂定）" if provisional else "（确定）")

