"""Every error rectify raises on purpose.

    RectifyError                 base; `str(err)` is a Chinese sentence for the user
    ├── ConfigError              a site file (YAML) is wrong; carries file and line
    ├── NotFound                 an item, unit, person or workflow does not exist
    ├── TooLong                  a text longer than its field may hold (engine.model)
    ├── Refused                  the workflow refuses an event (state, field, role, duty)
    ├── Forbidden                a site-wide command asked of someone without the role for it
    ├── ConcurrentUpdate         another writer changed the item first
    ├── AlreadyExists            an item with this origin (obligation period, sheet row) exists
    ├── DeadlineError            a deadline expression cannot be read with certainty
    ├── InvalidCharacter         text holds a control or invalid character (engine.text)
    ├── OutOfRange               a date the user gave is outside the years rectify computes with
    ├── UnknownCategory          a hazard's category is not among the rules' categories
    ├── FileAccess               a file or directory the user named cannot be written or read
    ├── SheetError               a spreadsheet cannot be imported; names sheet, row, column
    └── StoreError               the database is missing, locked or unreachable

Constructors take the facts and build the message, so every raise site says the
same thing the same way.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable, Sequence
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


class Forbidden(RectifyError):
    """A command for the safety office or the administrator (import, policy apply)."""

    def __init__(self, actor: str, what: str, needed: str) -> None:
        self.actor, self.what = actor, what
        super().__init__(f"{actor} 无权{what}：需要{needed}的角色")


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


class InvalidCharacter(RectifyError):
    """Text typed for a field holds a character engine.text forbids."""

    exit_code = 2

    def __init__(self, field: str, char: str, position: int) -> None:
        self.field, self.char, self.position = field, char, position
        code = ord(char)
        what = ("不可见的控制字符" if code < 0x20 or 0x7F <= code <= 0x9F
                else "无效字符（常见于编码错误）")
        super().__init__(f"“{field}”含有{what} U+{code:04X}（第{position}个字符），请删除后重试")
class OutOfRange(RectifyError):
    """A date or instant the user gave (an option, a report period) lies outside the years
    deadlines are computed in (engine.deadline.dates: FIRST_YEAR to LAST_YEAR)."""

    exit_code = 2

    def __init__(self, what: str, text: str) -> None:
        # Imported here: engine.deadline imports this module.
        from engine.deadline.dates import FIRST_YEAR, LAST_YEAR

        self.what, self.text = what, text
        shown = text if len(text) <= 60 else text[:60] + "…"
        super().__init__(f"{what}“{shown}”超出可以计算的日期范围（{FIRST_YEAR}年至{LAST_YEAR}年）")


class UnknownCategory(RectifyError):
    """A hazard's category the rules' `categories` do not list: refused the same way by
    `report` and by `import`, naming the closest known categories."""

    exit_code = 2

    def __init__(self, category: str, known: Sequence[str]) -> None:
        self.category, self.known = category, tuple(known)
        self.reason = unknown_category(category, known)
        super().__init__(self.reason)


def unknown_category(category: str, known: Sequence[str]) -> str:
    """"类别“X”不在规则文件的类别中（…）": all known categories when there are few, else
    the closest ones; with a guess when one is close."""
    shown = category if len(category) <= 40 else category[:40] + "…"
    close = difflib.get_close_matches(category, known, n=3, cutoff=0.5)
    if len(known) <= MAX_LISTED:
        listed = "、".join(known)
    else:
        nearest = close or list(known[:MAX_LISTED])
        listed = f"{'、'.join(nearest)}等 {len(known)} 个，见规则文件的 categories"
    guess = f"；是否应为“{close[0]}”？" if close else ""
    return f"类别“{shown}”不在规则文件的类别中（{listed}）{guess}"


# Categories named in full when the rules have no more than this many.
MAX_LISTED = 20


class FileAccess(RectifyError):
    """A file or directory the user named (an export, a report's folder, a new site)
    cannot be written or read; `reason` says why in Chinese."""

    def __init__(self, path: object, action: str, reason: str) -> None:
        self.path, self.action, self.reason = path, action, reason
        super().__init__(f"无法{action} {path}：{reason}")

    @classmethod
    def from_os_error(cls, exc: OSError, path: object, action: str) -> FileAccess:
        """An OSError from writing or reading `path` (what the user named, not a temporary
        file beside it), with the operating system's reason in Chinese."""
        code = exc.errno or 0
        return cls(path, action, _OS_REASONS.get(code) or f"操作系统报告错误 {errno.errorcode.get(code, code)}")


# Why the operating system refused a file operation, as a clerk reads it.
_OS_REASONS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限（请换一个有写入权限的位置，或请系统管理员授权）",
    errno.EPERM: "没有权限（请换一个有写入权限的位置，或请系统管理员授权）",
    errno.EROFS: "所在的磁盘只读",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "磁盘配额已用完",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.EEXIST: "已经存在",
    errno.ELOOP: "符号链接层数过多",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EBUSY: "正被其他程序占用",
}


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
