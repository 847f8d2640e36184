"""The limits a spreadsheet is held to before and while it is read (README "Input limits").

Checked before openpyxl opens a workbook: the file's size, then, from the zip's central
directory alone (nothing is decompressed), every part's unpacked size, the total and
the compression ratio, so a small file that unpacks to gigabytes (a sharedStrings.xml
of 1 GiB, which openpyxl would read whole) is refused unread. While rows stream: a row's
width, and a CSV line's length. Each refusal is a SheetError naming the file and what
was too large; nothing is imported.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from engine.errors import CellProblem, SheetError

MIB = 1 << 20
# A spreadsheet file's largest size on disk (.xlsx or .csv).
MAX_FILE_BYTES = 20 * MIB
# An .xlsx: all its parts unpacked; one worksheet (streamed); any other part (openpyxl
# reads those whole: shared strings, styles …); the most a part of over 1 MiB may be
# compressed (unpacked size to packed size; real workbooks stay under 20).
MAX_UNPACKED_BYTES = 256 * MIB
MAX_SHEET_BYTES = 256 * MIB
MAX_PART_BYTES = 64 * MIB
MAX_RATIO = 100
RATIO_FROM_BYTES = MIB
# The zip's table of contents (a workbook has a few dozen parts, ~100 bytes each).
MAX_DIRECTORY_BYTES = MIB
# The most columns a row may use, and the longest line of a CSV file, in characters.
MAX_COLUMNS = 256
MAX_CSV_LINE = 65_536

_END_OF_DIRECTORY = b"PK\x05\x06"


def _refuse(path: Path, message: str) -> SheetError:
    return SheetError([CellProblem(str(path), None, None, None, message)], "没有导入任何内容")


def _size(n: int) -> str:
    return f"{n:,} 字节（{n / MIB:.1f} MiB）" if n >= MIB else f"{n:,} 字节"


def check_file(path: Path, kind: str) -> None:
    """Refuses a file too large to import, or an .xlsx whose parts unpack too large."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _refuse(path, f"文件过大：{_size(size)}，导入的文件最大 {_size(MAX_FILE_BYTES)}；请分成几个文件导入")
    if kind == "xlsx":
        check_zip(path)


def check_zip(path: Path) -> None:
    """The central directory's sizes against the limits; raises SheetError."""
    with path.open("rb") as f:
        directory = _directory_size(f)
    if directory is not None and directory > MAX_DIRECTORY_BYTES:
        raise _refuse(path, f"工作簿的目录过大（{_size(directory)}），不像是表格软件保存的文件，未读取")
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(path, f"不是有效的 .xlsx 工作簿（{type(exc).__name__}: {exc}）") from None
    total = 0
    for part in parts:
        name, unpacked = part.filename, part.file_size
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(path, f"工作簿中的“{name}”使用了表格软件不用的压缩方式，未读取")
        sheet = name.startswith("xl/worksheets/")
        limit = MAX_SHEET_BYTES if sheet else MAX_PART_BYTES
        if unpacked > limit:
            raise _refuse(path, f"工作簿中的“{name}”解压后有 {_size(unpacked)}，超过上限 {_size(limit)}；"
                                "文件可能是恶意构造的（压缩炸弹），未读取")
        if unpacked > RATIO_FROM_BYTES and unpacked > MAX_RATIO * max(part.compress_size, 1):
            raise _refuse(path, f"工作簿中的“{name}”压缩比异常（{_size(part.compress_size)} 解压后为 "
                                f"{_size(unpacked)}，超过 {MAX_RATIO} 倍）；文件可能是恶意构造的（压缩炸弹），未读取")
        total += unpacked
    if total > MAX_UNPACKED_BYTES:
        raise _refuse(path, f"工作簿解压后共有 {_size(total)}，超过上限 {_size(MAX_UNPACKED_BYTES)}；"
                            "请分成几个文件导入")


def _directory_size(f: IO[bytes]) -> int | None:
    """The central directory's size as the end record states it (as zipfile finds that
    record), or None when there is none (zipfile then refuses the file)."""
    f.seek(0, 2)
    length = f.tell()
    f.seek(max(0, length - (1 << 16) - 22))
    tail = f.read()
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        return None
    (size,) = struct.unpack("<I", tail[at + 12:at + 16])
    return int(size)


def check_width(path: Path, sheet: str | None, number: int, values: Sequence[object]) -> None:
    """Refuses a row using more than MAX_COLUMNS columns (trailing blank cells do not count)."""
    if len(values) <= MAX_COLUMNS:
        return
    used = len(values)
    while used > MAX_COLUMNS and _blank(values[used - 1]):
        used -= 1
    if used > MAX_COLUMNS:
        where = f"工作表“{sheet}”第{number}行" if sheet else f"第{number}行"
        raise _refuse(path, f"{where}用到了第 {used:,} 列，超过上限 {MAX_COLUMNS} 列")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def bounded_lines(path: Path, f: IO[str]) -> Iterator[str]:
    """A text file's lines, refusing one longer than MAX_CSV_LINE characters unread past that."""
    number = 0
    while line := f.readline(MAX_CSV_LINE + 1):
        number += 1
        if len(line) > MAX_CSV_LINE:
            raise _refuse(path, f"第{number}行过长（超过 {MAX_CSV_LINE:,} 个字符），不像是清单的一行，未读取")
        yield line

