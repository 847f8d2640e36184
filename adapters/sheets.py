"""Spreadsheet files in and out: .xlsx through openpyxl (read-only streaming, write-only
writing, so memory stays bounded whatever the size) and .csv (UTF-8 or the GB18030 that
Chinese Excel writes).

Reading yields engine.importing.Table objects of plain cell values; a file that is not
a spreadsheet, is encrypted, is an old .xls or is damaged is refused with a SheetError
that says so, before anything is imported.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import olefile
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from adapters.sheetcells import csv_uncell
from adapters.sheetlimits import MAX_COLUMNS, bounded_lines, check_file, check_width
from engine.errors import CellProblem, SheetError
from engine.importing import Formula, Table

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_FORMULAS = (ArrayFormula, DataTableFormula)  # formula cells openpyxl gives as objects


def _refuse(path: Path, message: str) -> SheetError:
    return SheetError([CellProblem(str(path), None, None, None, message)], "没有导入任何内容")


def sniff(path: Path) -> str:
    """'xlsx' or 'csv', or a SheetError saying what the file is instead."""
    if not path.is_file():
        raise _refuse(path, "文件不存在")
    with path.open("rb") as f:
        start = f.read(8192)
    if not start:
        raise _refuse(path, "文件是空的（0 字节）")
    if start.startswith(_OLE_MAGIC):
        try:
            with olefile.OleFileIO(str(path)) as ole:
                encrypted = ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
        except OSError:
            encrypted = False
        if encrypted:
            raise _refuse(path, "工作簿设置了打开密码（已加密），无法读取；请在表格软件中取消密码后另存为 .xlsx 再导入")
        raise _refuse(path, "这是旧版 Excel（.xls）或其他 Office 文件；请在表格软件中另存为 .xlsx 再导入")
    if start.startswith(_ZIP_MAGIC):
        return "xlsx"
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        raise _refuse(path, "扩展名是 .xlsx，但内容不是 Excel 工作簿（文件可能已损坏或被改了扩展名）")
    if b"\x00" in start:
        raise _refuse(path, "不是电子表格：内容是二进制数据；支持 .xlsx 和 .csv")
    if suffix not in (".csv", ".txt", ""):
        raise _refuse(path, f"不支持的文件类型“{suffix}”；支持 .xlsx 和 .csv")
    return "csv"


@contextmanager
def open_tables(path: Path) -> Iterator[list[Table]]:
    """The file's sheets as Tables whose rows stream while the file is open."""
    kind = sniff(path)
    check_file(path, kind)
    if kind == "xlsx":
        try:
            wb = load_workbook(str(path), read_only=True, data_only=False)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise _refuse(path, f"不是有效的 .xlsx 工作簿（{type(exc).__name__}: {exc}）") from None
        except Exception as exc:  # openpyxl raises many kinds for damaged files
            raise _refuse(path, f"无法读取工作簿（{type(exc).__name__}: {exc}）") from None
        for ws in wb.worksheets:
            if (ws.max_column or 0) > MAX_COLUMNS:  # rows would be padded that wide: read them as stored
                ws.reset_dimensions()
        try:
            yield [Table(ws.title, _xlsx_rows(path, ws), ws.max_row if ws.max_row and ws.max_row > 1 else None)
                   for ws in wb.worksheets]
        finally:
            wb.close()
    else:
        encoding = _csv_encoding(path)
        with path.open(encoding=encoding, newline="") as f:
            yield [Table(path.stem, _csv_rows(path, bounded_lines(path, f)), None)]


def _xlsx_rows(path: Path, ws: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        for number, values in _typed_rows(ws):
            check_width(path, ws.title, number, values)
            yield number, values
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _refuse(path, f"工作表“{ws.title}”读取失败（{type(exc).__name__}: {exc}）") from None


def _typed_rows(ws: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    """Cell values, a formula cell's as a Formula, told by the cell's type: a text cell
    whose text begins with "=" (as the export writes a title "=1+1") is text.

    openpyxl gives a formula and such a text alike as "=…" among a row's values; only the
    parsed row they come from (ReadOnlyWorksheet._get_row's argument) has the types. It
    is kept, and looked at for the rare row holding such a value, so rows are read at
    `values_only` speed. Should that hook go away, every cell is read with its type."""
    get_row = getattr(ws, "_get_row", None)
    if get_row is None:
        for number, cells in enumerate(ws.iter_rows(), 1):
            yield number, tuple(_formula(c.value) if c.data_type == "f" else c.value for c in cells)
        return
    parsed: list[Any] = [()]

    def keep(row: Any, *args: Any, **kwargs: Any) -> Any:
        parsed[0] = row
        return get_row(row, *args, **kwargs)

    ws._get_row = keep
    for number, values in enumerate(ws.iter_rows(values_only=True), 1):
        if any(isinstance(v, str) and v.startswith("=") or isinstance(v, _FORMULAS) for v in values):
            formulas = {cell["column"] - 1 for cell in parsed[0] if cell["data_type"] == "f"}
            values = tuple(_formula(v) if i in formulas else v for i, v in enumerate(values))
        yield number, values


def _formula(value: Any) -> Formula:
    text = getattr(value, "text", value)  # an array or data table formula keeps its text apart
    return Formula(text if isinstance(text, str) else "=")


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GB18030."""
    for encoding, name in (("utf-8", "utf-8-sig"), ("gb18030", "gb18030")):
        decoder = codecs.getincrementaldecoder(encoding)()
        with path.open("rb") as f:
            try:
                while chunk := f.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return name
            except UnicodeDecodeError:
                continue
    raise _refuse(path, "CSV 文件既不是 UTF-8 也不是 GBK/GB18030 编码，无法读取")


def _csv_rows(path: Path, f: Iterable[str]) -> Iterator[tuple[int, Sequence[Any]]]:
    reader = csv.reader(f)
    try:
        for values in reader:
            check_width(path, None, reader.line_num, values)
            yield reader.line_num, [Formula(v) if v.startswith("=") else csv_uncell(v) for v in values]
    except csv.Error as exc:
        if str(exc).startswith("field larger than field limit"):  # csv's own, process-wide limit
            raise _refuse(path, f"第{reader.line_num}行附近有一格超过 {csv.field_size_limit():,} 个字符，未读取") from None
        raise _refuse(path, f"第{reader.line_num}行 CSV 格式错误：{exc}") from None
    except UnicodeDecodeError:
        raise _refuse(path, f"第{reader.line_num + 1}行附近的字符无法按所检测的编码读取（文件可能被截断或混用了编码）") from None


# -- writing -------------------------------------------------------------------------


def csv_writer(path: Path) -> Any:
    """A csv writer on a file Excel opens as UTF-8 (with a BOM)."""
    f = path.open("w", encoding="utf-8-sig", newline="")
    return f, csv.writer(f)
