"""Chinese deadline expressions, read as a school safety office reads them.

Public API:

    parse_deadline(expression: str, ref: datetime, tz: tzinfo | str = "Asia/Shanghai", *,
                   calendar: WorkCalendar | None = None, count: int = 4,
                   workday_end: time | None = None) -> Deadline
        Reads "2020年底前", "5个工作日内", "春节前", "9月21日至12月20日", "每季度末", "学期末",
        "两会前", "立整立改\\n长期坚持" … at the aware reference instant `ref`, in the site's
        zone. `calendar` is the site's WorkCalendar: working days, terms, events and the
        end of the working day all come from it, so every caller reads alike.
        Raises DeadlineError(expression, part, reason) naming what it could not read.

    Deadline  (frozen) kind: Kind, expression, dues: tuple[date, ...],
              overdue_at: tuple[datetime, ...], start: date | None, ongoing: bool,
              provisional: bool, warnings: tuple[str, ...], recurrence,
              clock (a recurrence's time of day);
              .next_dues(after, n) / .next_overdue(after, n): what is still open at
              any instant (the scheduler asks this of recurring deadlines);
              .to_json(): the CLI's JSON object.
    Kind      once | window | recurring | immediate | ongoing

    parse_offset(text: str) -> Offset
        Offsets of rule files: "3日前", "1个工作日前", "24小时前" (before an instant),
        "逾期即", "逾期3个工作日", "逾期1个月" (after it), "每3个工作日重复直至整改",
        "每7日" (a repetition interval). Offset.apply(instant, calendar, tz) -> datetime.

Conventions (as the documents mean them):
- "X前" includes X: "8月25日前" is due on 25 August, "2022年前" by the end of 2022,
  "9月前" by the end of September. A deadline ends at the end of its last day in the
  site's zone; the item is overdue from that instant (the next day's 00:00).
- Counts start the day after the reference ("3日内" from 10 May: by the end of 13 May);
  working days are China's statutory ones with make-up days (`engine.workcal`);
  "1个月内" is calendar-month arithmetic (31 Jan + 1 month = 28/29 Feb); 半个月 is 15
  days; hours and minutes are counted to the minute.
- A missing year is the reference's ("8月25日前"), or the one of the date before it in
  the same expression ("2020年9月底、12月底前"). A date already past at the reference
  is kept and warned about, never moved to next year.
- "春节前" is the day before the next 春节 on or after the reference day.
- School words ("开学前", "开学后两周内", "放假前", "寒假前", "暑假前", "学期末", "每学期",
  "每学期开学前") are read against the site's terms, `calendar.terms` (from calendar.yaml;
  see `engine.deadline.school`); a term the calendar lacks is an error naming it.
- "25日前" with no month is the 25th of this month while it is still ahead (today
  included), else of the next month that has that day. "3天前" (days ago) is refused.
- A period named alone is a window: "2021年", "2020年8月", "6月上旬", "6月上中旬",
  "第二季度", "下半年", "年初" (January-February), "年中" (June-July), "6月初" (1st-5th),
  "本月中" (11th-20th); with 前/内 it is due at its end; "…末" and "…底" are single days.
- Ranges: "5月8-12日", "5月8日至12日", "3-4月", "2018年3—5月期间", across months and
  years, with -, —, –, ～, ~, 至 or 到; "即日起至…" starts at the reference day.
- A time of day sets the overdue instant on its day: 上午/下午/晚上 N 点, N时, N:MM, 中午
  and 上午 (12:00), 24时 (the day's end), 下班 (`calendar.workday_end`, the site's end of
  the working day from rectify.yaml, default 17:30; `workday_end=` overrides it). 下午 /
  晚上 with no hour, and a time with no day, are refused.
- A weekday beside a day confirms it ("5月8日（星期五）", "25日（周一）", "下周一（5月11日）");
  one that names another day is refused, naming both.
- "节后第一个工作日", "国庆节后3个工作日内", "节前": counted from the run of days off
  (`engine.deadline.holiday`); "开学后第一周": the first 7 days of the next term.
- Events the site names (`calendar.events`, calendar.yaml's `events`; see
  `engine.deadline.events`): "两会前" / "两会开始前" is the day before it starts, as
  "春节前" and "开学前" are (an event's 前 does not include it, unlike a date's);
  "两会结束前" its last day; "两会" / "两会期间" a window over it; "两会后3个工作日内"
  counted from its last day. Of several occurrences, the first not yet past is read.
- Immediate: 立整立改, 立即, 马上, 即刻, 第一时间, 立行立改, 即知即改 …; 当天 / 当日 is the
  reference day (a deadline, not immediate).
- Anything uncertain is an error that says why and what to write instead
  (`engine.deadline.vague`): "13月底前", "2月30日前", "年前" (year end, or the Spring
  Festival?), "2020年底前后", "约3日内", 尽快, 近期, 适时, 及时, 按期, 限时 without a time,
  另行通知, 待定, an event the site's calendar does not name ("两会结束前": the refusal
  says it may be added under `events:` in calendar.yaml), "两会后" with no count.
"""

from engine.deadline.dates import zone_of
from engine.deadline.model import Deadline, Kind
from engine.deadline.offset import Direction, Offset, OffsetUnit, parse_offset
from engine.deadline.parser import parse_deadline

__all__ = [
    "Deadline",
    "Direction",
    "Kind",
    "Offset",
    "OffsetUnit",
    "parse_deadline",
    "parse_offset",
    "zone_of",
]
