"""The site calendar (calendar.yaml): holiday arrangements the calendar package does not
know yet, the school's own days off and working days, and its terms.

The State Council publishes each year's holiday arrangement (放假调休安排) in November or
December of the year before; the `chinese_calendar` package knows the years published
before it was released. A site declares later years in `years:` as the notice gives
them, which makes their working-day counts exact instead of provisional. `local:` adds
the school's own days (a city's extra day off, a campus closure, a Saturday of classes);
`terms:` gives each term's first and last day, and the vacations (寒假, 暑假) are the
gaps between consecutive terms; `events:` names what deadlines are set around ("两会前",
"中考结束后3个工作日内"), each a day, a range or a list of them.

    years:
      2027:
        notice: "国务院办公厅关于2027年部分节假日安排的通知"
        holidays: {"2027-01-01至2027-01-03": "元旦", "2027-02-06至2027-02-13": "春节"}
        workdays: {"2027-02-14": "春节"}
    campuses: ["本部", "东校区"]
    local:
      - {days: "2027-03-12", off: "全市中小学停课一天"}
      - {days: "2027-04-10", work: "运动会调课，周六上课", campus: "东校区"}
    terms:
      - {name: "2026-2027学年第一学期", start: "2026-09-01", end: "2027-01-22"}
    events:
      两会: {start: "2027-03-05", end: "2027-03-11"}
      中考: "2027-06-20至2027-06-22"
      期末考试: ["2027-01-18至2027-01-20", "2027-07-05至2027-07-07"]

Rules (every problem is reported with its line; any problem means nothing is loaded):
- a day is listed once per meaning: the same day named twice differently, or both a
  holiday and a make-up working day, is refused; a make-up working day (调休上班) is a
  Saturday or Sunday by definition;
- a year's entry may hold days of its own year and of the December before (the notice
  for 2019 set 元旦 from 30 December 2018); a year the package already knows may be
  declared only as the package has it (a site written before the package was upgraded
  keeps working); the school's own changes go in `local:`;
- local days win over the statutory arrangement; a local day that changes nothing (an
  extra day off on a day off) is refused as a likely typo;
- terms: end on or after start, no overlap with another term of the same scope, campus
  named in `campuses:`. A term with a campus replaces, for that campus, the site-wide
  terms it overlaps; a campus without terms of its own follows the site-wide ones.
- a vacation starts the day after a term ends and ends the day before the next term
  starts (open-ended after the last term); it is 寒假 when it starts in November to
  March, 暑假 when it starts in May to September.
- events: a name the deadline language reads as something else is refused ("春节",
  "开学", "学期" as in 学期结束前, "当天": `engine.deadline.events.builtin_word`), so is a
  name written twice (folded as expressions are), an end before the start, more than a
  year, and two occurrences of one event that overlap. Events are site-wide.
- the site's end of the working day (rectify.yaml's deadlines.workday_end) is given to
  `loads` and carried by every WorkCalendar built, with the terms and events.

Items carry no campus yet: deadlines use the site-wide calendar (`workcal`);
`calendar_for(campus)` adds that campus's local days.

    schema.py  the JSON Schema calendar.yaml is checked against (`schema_document`)
    model.py   SiteCalendar, Day, Term, Vacation, Event, …: what a day is, which term covers it
    build.py   calendar.yaml's text → SiteCalendar (`loads`), with every problem collected
"""

from engine.sitecalendar.build import loads
from engine.sitecalendar.model import (
    ADVICE,
    CALENDAR_FILE,
    STATUTORY_FESTIVALS,
    Arrangement,
    Day,
    DayKind,
    DeclaredYear,
    Event,
    LocalDay,
    SiteCalendar,
    Term,
    Vacation,
    weekday_name,
)
from engine.sitecalendar.schema import SCHEMA, schema_document

__all__ = [
    "ADVICE", "CALENDAR_FILE", "SCHEMA", "STATUTORY_FESTIVALS", "Arrangement", "Day", "DayKind",
    "DeclaredYear", "Event", "LocalDay", "SiteCalendar", "Term", "Vacation", "loads", "schema_document",
    "weekday_name",
]
