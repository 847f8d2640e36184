"""Every error rectify raises on purpose.

    RectifyError                 base; `str(err)` is a Chinese sentence for the user
    ├── ConfigError              a site file (YAML) is wrong; carries file and line
    ├── NotFound                 an item, unit, person or workflow does not exist
    ├── TooLong                  a text longer than its field may hold (engine.model)
    ├── Refused                  the workflow refuses an event (state, field, role, duty)
    ├── ConcurrentUpdate         another writer changed the item first
    ├── AlreadyExists            an item with this origin (obligation period, sheet row) exists
    ├── DeadlineError            a deadline expression cannot be read with certainty
    ├── SheetError               a spreadsheet cannot be imported; names sheet, row, column
    └── StoreError               the database is missing, locked or unreachable

Constructors take the facts and build the message, so every raise site says the
same thing the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class RectifyError(Exception):
    """Base of all deliberate errors; the message is meant for the user."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file, at one line."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ConfigError(RectifyError):
    """One or more problems in the site's files; nothing was loaded."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str, line: int | None, message: str) -> ConfigError:
        return cls([Problem(file, line, message)])


# How much of a value a message quotes: a message must stay readable whatever was typed.
QUOTED_CHARS = 100


def quoted(value: object) -> str:
    """`value` as text, cut to QUOTED_CHARS characters with a note of its full length."""
    text = str(value)
    if len(text) <= QUOTED_CHARS:
        return text
    return f"{text[:QUOTED_CHARS]}…（共 {len(text):,} 个字符）"


class NotFound(RectifyError):
    def __init__(self, what: str, key: object, hint: str = "") -> None:
        self.what, self.key = what, key
        super().__init__(f"找不到{what}：{quoted(key)}" + (f"（{hint}）" if hint else ""))


class TooLong(RectifyError):
    """A text longer than the field it is for may hold; nothing was stored."""

    exit_code = 2

    def __init__(self, field: str, title: str, length: int, limit: int) -> None:
        self.field, self.length, self.limit = field, length, limit
        super().__init__(f"“{title}”（{field}）过长：共 {length:,} 个字符，最多 {limit:,} 个字符")


class Refused(RectifyError):
    """The workflow will not fire this event; `reason` says why in Chinese."""

    def __init__(self, item_id: object, event: str, reason: str) -> None:
        self.item_id, self.event, self.reason = item_id, event, reason
        super().__init__(f"事项 {item_id} 不能执行“{event}”：{reason}")


class ConcurrentUpdate(RectifyError):
    def __init__(self, item_id: object) -> None:
        self.item_id = item_id
        super().__init__(f"事项 {item_id} 已被其他操作修改，请重新读取后再试")


class AlreadyExists(RectifyError):
    def __init__(self, origin: str) -> None:
        self.origin = origin
        super().__init__(f"来源为 {origin} 的事项已经存在，未重复创建")


class DeadlineError(RectifyError):
    """A deadline expression that cannot be read with certainty."""

    exit_code = 2

    def __init__(self, expression: str, part: str, reason: str) -> None:
        self.expression, self.part, self.reason = expression, part, reason
        shown = part if part else expression
        super().__init__(f"无法识别期限“{expression}”中的“{shown}”：{reason}")


@dataclass(frozen=True)
class CellProblem:
    """One thing wrong in an imported spreadsheet: where (sheet, row, column) and what."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"工作表“{self.sheet}”")
        if self.row:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"“{self.column}”列")
        return f"{' '.join(where)}：{self.message}"


class SheetError(RectifyError):
    """A spreadsheet that cannot be imported; nothing of it was imported."""

    exit_code = 2

    def __init__(self, problems: Iterable[CellProblem], summary: str = "") -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        if summary:
            lines.append(summary)
        super().__init__("\n".join(lines))


class StoreError(RectifyError):
    """The database cannot be used; `reason` names the database and the cause."""


class Unreachable(StoreError):
    """The database server cannot be reached (refused, down, restarting): worth retrying."""


class AlreadyRunning(StoreError):
    """Another daemon already serves this SQLite database."""
