"""What one cell holds: its text, a found date or a deadline read from it, formulas, and
the most characters a column's cell may hold."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.deadline.dates import FIRST_YEAR, LAST_YEAR, cn_date
from engine.model import text_limit


class Formula(str):
    """A cell holding a formula instead of a value (its text, e.g. "=SUM(A1:A3)")."""


# The longest text a cell takes, for columns that fill no field of the same name (the
# others take their field's limit, engine.model): README "Input limits".
_CELL_LIMITS = {"item_id": 20, "origin": 200, "kind": 20, "key": 100, "found_at": 64,
                "units": text_limit("unit_text")[1]}


def cell_limit(column: str) -> int:
    """The most characters a cell of `column` (a Column name) may hold."""
    return _CELL_LIMITS.get(column) or text_limit(column)[1]


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious .0, dates as ISO, whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:时](\d{2})?分?)?"),
)
EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001  (serial numbers carry no zone)


def parse_instant(value: Any, tz: ZoneInfo) -> datetime:
    """A found-date cell: a date or datetime cell, an Excel serial number, or text such as
    2021-03-01, 2021/3/1 9:30, 2021年3月1日. Raises ValueError with the reason."""
    instant = _read_instant(value, tz)
    if not FIRST_YEAR <= instant.year <= LAST_YEAR:
        raise ValueError(f"日期“{cell_text(value)}”超出可以计算的日期范围（{FIRST_YEAR}年至{LAST_YEAR}年）")
    return instant


def _read_instant(value: Any, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel date serial that lost its format
            return (EXCEL_EPOCH + timedelta(days=float(value))).replace(tzinfo=tz)
        raise ValueError(f"数字“{cell_text(value)}”不是日期")
    text = cell_text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            parts = [int(p) if p else 0 for p in m.groups()]
            try:
                return datetime(parts[0], parts[1], parts[2], parts[3], parts[4],
                                parts[5] if len(parts) > 5 else 0, tzinfo=tz)
            except ValueError as exc:
                raise ValueError(f"日期“{text}”不存在") from exc
    raise ValueError(f"无法识别的日期“{text}”（应写成 2021-03-01、2021/3/1 或 2021年3月1日）")


def deadline_text(value: Any) -> str:
    """A deadline cell as a deadline expression: a date cell becomes "2021年3月15日前"."""
    if isinstance(value, datetime | date):
        return f"{cn_date(value)}前"
    return cell_text(value)
