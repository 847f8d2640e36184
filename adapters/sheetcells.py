"""Cell values as every spreadsheet rectify writes must hold them: values, never formulas.

Whatever a title, location or note says, it is written as text, so a 台账 or stage
report opened in Excel (or WPS) computes nothing and calls nothing:

- .xlsx: `xlsx_cell` makes a text cell of every string (openpyxl would make a formula
  of one starting with "=" and an error cell of "#N/A"), without the characters that
  XML forbids (engine.text.clean: what reached the database before the rule existed
  would otherwise stop the whole workbook with IllegalCharacterError);
- .csv: a file has no cell types, so `csv_cell` puts the usual neutralising `'` before
  a string that a spreadsheet would read as a formula (one starting with = + - @, tab,
  carriage return or line feed, after any `'`s). `csv_uncell`, used when any .csv is
  imported, takes exactly that `'` off again: `csv_cell` adds one `'` to every string
  that already looks like that, so in a file rectify wrote such a `'` is always its own
  and export → import gives back every string unchanged (in a .csv made elsewhere, a
  cell `'=x` becomes the text `=x`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

from engine.text import clean

# What a spreadsheet would take for a formula (OWASP "CSV injection"), after any `'`s.
_ACTIVE = re.compile("'*[=+\\-@\t\r\n]")
_ESCAPED = re.compile("'+[=+\\-@\t\r\n]")


def xlsx_cell(ws: Worksheet, value: Any, number_format: str | None = None) -> Any:
    """`value` for `ws.append`: a text cell for a string, a date cell for a date, a
    number as it is (or a cell, to carry `number_format`). For write-only sheets and
    ordinary ones alike."""
    text = isinstance(value, str)
    if value is None or not (text or number_format or isinstance(value, date)):
        return value
    cell = WriteOnlyCell(ws, value=clean(value) if text else value)
    if text:
        cell.data_type = "s"
    if number_format is not None:
        cell.number_format = number_format
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def xlsx_row(ws: Worksheet, values: list[Any]) -> list[Any]:
    return [xlsx_cell(ws, v) for v in values]


def csv_cell(value: Any) -> Any:
    """A string for a .csv row: cleaned, and neutralised when a spreadsheet would run it."""
    if not isinstance(value, str):
        return value
    value = clean(value)
    return "'" + value if _ACTIVE.match(value) else value


def csv_uncell(value: str) -> str:
    """What `csv_cell` was given: one `'` less before a would-be formula."""
    return value[1:] if _ESCAPED.match(value) else value
