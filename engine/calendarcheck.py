"""What `rectify calendar check` finds in a site's calendar on a given day: notes (the
state of things) and warnings (what to do), as the lines the command prints."""

from __future__ import annotations

from datetime import date, timedelta

from engine.sitecalendar import CALENDAR_FILE, Arrangement, SiteCalendar, weekday_name

# How far ahead `check` wants a term to be known.
TERM_HORIZON = timedelta(days=90)
NEXT_TERM_NOTICE = timedelta(days=60)


def calendar_findings(cal: SiteCalendar, today: date, *, has_site: bool = True) -> tuple[list[str], list[str]]:
    """What `check` says: notes (the state of things) and warnings (what to do)."""
    notes = [f"检查日期：{today.isoformat()}"]
    warnings: list[str] = []
    if has_site and cal.source is None:
        warnings.append(f"站点没有 {CALENDAR_FILE}（学期和尚未内置年份的节假日安排都写在这里）："
                        "用 rectify calendar init 写入带说明的示例文件")
    years = [today.year, today.year + 1] if today.month >= 11 else [today.year]
    for year in years:
        kind = cal.arrangement(year)
        notes.append(f"{year}年法定节假日安排：{_ARRANGEMENT_WORDS[kind]}")
        if kind is Arrangement.PROVISIONAL:
            warnings.append(_missing_year(cal, year, today))
    for year, declared in sorted(cal.years.items()):
        if cal.workcal.published(year):
            notes.append(f"{cal.where(declared.line)}：{year}年的安排已内置且与之一致，这一段可以删除")
        for name, day in cal.missing_festivals(year):
            warnings.append(f"{cal.where(declared.line)}：{year}年的安排中{name}（{day.isoformat()}，"
                            f"{weekday_name(day)}）是工作日，是否漏写了{name}的放假日期？")
    for campus in (None, *[c for c in cal.campuses if any(t.campus == c for t in cal.terms)]):
        note, warning = _term_findings(cal, today, campus)
        notes += note
        warnings += warning
    return notes, warnings


_ARRANGEMENT_WORDS = {
    Arrangement.PUBLISHED: "已内置（国务院办公厅已公布）",
    Arrangement.DECLARED: f"已写入 {CALENDAR_FILE}",
    Arrangement.PROVISIONAL: "尚未写入（工作日期限暂按周末和固定日期节日计算，标记为暂定）",
}


def _missing_year(cal: SiteCalendar, year: int, today: date) -> str:
    when = "今年" if year == today.year else "下一年"
    return (f"{year}年（{when}）的法定节假日安排尚未写入：内置数据只到{cal.workcal.last_known}年。"
            f"国务院办公厅通常在每年11—12月公布下一年的放假安排；公布后请按通知原文把放假日期和调休上班日期"
            f"写入 {CALENDAR_FILE} 的 years: {year}（holidays 和 workdays，格式见文件中的示例），"
            f"或升级 chinese_calendar 软件包。在此之前，跨入{year}年的工作日期限只按周末和固定日期节日暂算，标记为暂定")


def _term_findings(cal: SiteCalendar, today: date, campus: str | None) -> tuple[list[str], list[str]]:
    scope = f"（{campus}）" if campus else ""
    current, upcoming = cal.term_at(today, campus), cal.next_term(today, campus)
    notes = []
    if current:
        notes.append(f"当前学期{scope}：{current.name}（{current.start.isoformat()} 至 {current.end.isoformat()}）")
    if upcoming:
        notes.append(f"下一学期{scope}：{upcoming.name}（{upcoming.start.isoformat()} 起）")
    if not cal.terms_for(campus):
        return notes, [f"{CALENDAR_FILE} 中没有学期{scope}：请在 terms 中写入本校校历（每学期的开始和结束日期）"]
    if current is None and (upcoming is None or upcoming.start > today + TERM_HORIZON):
        return notes, [f"没有学期{scope}包含今天（{today.isoformat()}），未来 {TERM_HORIZON.days} 天内也没有学期开始："
                       f"请在 {CALENDAR_FILE} 的 terms 中写入本校校历"]
    if current is not None and upcoming is None and current.end <= today + NEXT_TERM_NOTICE:
        return notes, [f"本学期{scope}“{current.name}”{current.end.isoformat()} 结束，下一学期尚未写入 "
                       f"{CALENDAR_FILE} 的 terms"]
    return notes, []
