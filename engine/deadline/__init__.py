"""Chinese deadline expressions, read as a school safety office reads them.

Public API:

    parse_deadline(expression: str, ref: datetime, tz: tzinfo | str = "Asia/Shanghai", *,
                   calendar: WorkCalendar | None = None, count: int = 4) -> Deadline
        Reads "2020年底前", "5个工作日内", "春节前", "9月21日至12月20日", "每季度末", "学期末",
        "立整立改\\n长期坚持" … at the aware reference instant `ref`, in the site's zone.
        Raises DeadlineError(expression, part, reason) naming what it could not read.

    Deadline  (frozen) kind: Kind, expression, dues: tuple[date, ...],
              overdue_at: tuple[datetime, ...], start: date | None, ongoing: bool,
              provisional: bool, warnings: tuple[str, ...], recurrence;
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
- Anything uncertain is an error: "13月底前", "2月30日前", "10日前" (10 days ago, or
  the 10th?), "年前" (year end, or the Spring Festival?), "2020年底前后", "约3日内".
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
