"""`rectify import` refusing bad input: each problem named by file, sheet, row and column
in Chinese, exit code 2, no traceback, and nothing imported (all or nothing).

Every name and place below is invented; units and people are those of the demo org.yaml.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from tests.conftest import Cli
from tests.sheetdata import HAZARD_HEADER, HEADER, TASK_ROWS, hazard_list, one_sheet, task_list

SHEET = "隐患清单"


def good_row(key: str = "H1", **changes: Any) -> list[Any]:
    """A valid hazard row in HAZARD_HEADER order; keyword arguments replace cells by column title."""
    row = {"编号": key, "隐患名称": f"灭火器压力不足（{key}）", "类别": "消防", "等级": "一般",
           "责任单位": "保卫处", "位置": "图书馆一楼东侧", "发现时间": "2021-03-01", "整改时限": "3日内",
           "整改措施": "更换灭火器"}
    for title, value in changes.items():
        assert title in row, title
        row[title] = value
    return [row[title] for title in HAZARD_HEADER]


def sheet(path: Path, rows: list[list[Any]], title: str = SHEET) -> Path:
    """A one-sheet workbook holding exactly `rows` (header included, if any)."""
    return one_sheet(path, rows, title)


def items(run: Cli) -> list[dict[str, Any]]:
    return json.loads(run("list", "--json").stdout)


def refused(run: Cli, path: Path, *args: str) -> str:
    """Imports `path`, expects exit code 2, no traceback, nothing imported; the message."""
    before = items(run)
    result = run("import", str(path), *args, code=2)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.stderr.startswith("错误："), result.stderr
    assert "没有导入任何内容" in result.stderr
    assert items(run) == before
    return result.stderr


def where(path: Path, row: int | None = None, column: str | None = None, sheet_name: str = SHEET) -> str:
    """The place prefix of a problem line: 'FILE 工作表“S” 第N行 “COL”列：'."""
    parts = [str(path), f"工作表“{sheet_name}”"]
    if row is not None:
        parts.append(f"第{row}行")
    if column is not None:
        parts.append(f"“{column}”列")
    return " ".join(parts) + "："


# -- not a spreadsheet ---------------------------------------------------------------


def test_random_bytes_named_xlsx_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "隐患清单.xlsx"
    path.write_bytes(bytes(range(7, 256)) * 8)
    message = refused(run, path)
    assert f"{path}：扩展名是 .xlsx，但内容不是 Excel 工作簿" in message


def _png() -> bytes:
    """A real 1x1 white PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def test_png_renamed_csv_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "检查照片.csv"
    path.write_bytes(_png())
    message = refused(run, path)
    assert f"{path}：不是电子表格：内容是二进制数据" in message


def test_zip_that_is_not_a_workbook_is_refused(run: Cli, tmp_path: Path) -> None:
    """A word-processor document (a zip) renamed .xlsx."""
    path = tmp_path / "整改通知.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document><w:body><w:p>关于消防通道整改的通知</w:p></w:body></w:document>")
    message = refused(run, path)
    assert f"{path}：不是有效的 .xlsx 工作簿" in message or f"{path}：无法读取工作簿" in message
    assert len(message.strip().splitlines()) == 2  # one problem line and the summary


def test_plain_zip_named_xlsx_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "附件.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("说明.txt", "这不是工作簿")
    message = refused(run, path)
    assert f"{path}：不是有效的 .xlsx 工作簿" in message or f"{path}：无法读取工作簿" in message


# -- OLE2 compound files: encrypted workbooks and legacy .xls ------------------------

_FREE, _END, _FAT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int = _NOSTREAM, right: int = _NOSTREAM) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _NOSTREAM, right, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
            + struct.pack("<IQ", _END, 0))


def compound_file(*streams: str) -> bytes:
    """A minimal version-3 Compound File Binary (what .xls and encrypted Office files are):
    a header, one FAT sector and one directory sector holding the root and empty streams."""
    assert 1 <= len(streams) <= 3
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108)
    fat = struct.pack("<II", _FAT, _END) + struct.pack("<I", _FREE) * 126
    entries = [_dir_entry("Root Entry", 5, child=1)]
    for index, name in enumerate(streams, 1):
        entries.append(_dir_entry(name, 2, right=index + 1 if index < len(streams) else _NOSTREAM))
    entries += [_dir_entry("", 0)] * (4 - len(entries))
    data = header + fat + b"".join(entries)
    assert len(header) == 512 and len(data) == 1536
    return data


def test_compound_file_helper_is_read_by_olefile(tmp_path: Path) -> None:
    import olefile

    path = tmp_path / "x.xlsx"
    path.write_bytes(compound_file("EncryptionInfo", "EncryptedPackage"))
    with olefile.OleFileIO(str(path)) as ole:
        assert ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
        assert not ole.exists("Workbook")


def test_encrypted_workbook_is_refused_as_password_protected(run: Cli, tmp_path: Path) -> None:
    try:
        import msoffcrypto  # noqa: F401
    except ImportError:
        path = tmp_path / "加密清单.xlsx"
        path.write_bytes(compound_file("EncryptionInfo", "EncryptedPackage"))
    else:  # pragma: no cover - only where msoffcrypto-tool happens to be installed
        import io

        from msoffcrypto.format.ooxml import OOXMLFile

        plain = hazard_list(tmp_path / "plain.xlsx", [good_row()])
        path = tmp_path / "加密清单.xlsx"
        with plain.open("rb") as src, path.open("wb") as out:
            buf = io.BytesIO()
            OOXMLFile(src).encrypt("mima123", buf)
            out.write(buf.getvalue())
    message = refused(run, path)
    assert f"{path}：工作簿设置了打开密码（已加密），无法读取" in message
    assert "旧版 Excel" not in message


def test_legacy_xls_is_refused_with_save_as_advice(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "隐患清单.xls"
    path.write_bytes(compound_file("Workbook"))
    message = refused(run, path)
    assert f"{path}：这是旧版 Excel（.xls）或其他 Office 文件；请在表格软件中另存为 .xlsx 再导入" in message


def test_legacy_xls_renamed_xlsx_is_refused_as_legacy(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "隐患清单.xlsx"
    path.write_bytes(compound_file("Workbook"))
    message = refused(run, path)
    assert "旧版 Excel（.xls）" in message and "加密" not in message


# -- empty files -----------------------------------------------------------------------


def test_zero_byte_file_is_refused(run: Cli, tmp_path: Path) -> None:
    for name in ("空文件.xlsx", "空文件.csv"):
        path = tmp_path / name
        path.write_bytes(b"")
        assert f"{path}：文件是空的（0 字节）" in refused(run, path)


def test_missing_file_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "不存在.xlsx"
    assert f"{path}：文件不存在" in refused(run, path)


def test_empty_workbook_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "空表.xlsx"
    Workbook().save(path)
    message = refused(run, path)
    assert f"{path}：工作表“Sheet”：前20行中找不到表头" in message


def test_workbook_with_header_only_is_refused(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "只有表头.xlsx", [])
    message = refused(run, path)
    assert f"{path}：文件中没有任何数据行" in message


def test_csv_with_header_only_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "只有表头.csv"
    path.write_text(",".join(HAZARD_HEADER) + "\r\n", encoding="utf-8")
    assert f"{path}：文件中没有任何数据行" in refused(run, path)


# -- missing columns -------------------------------------------------------------------


def test_hazard_list_without_unit_column_is_refused(run: Cli, tmp_path: Path) -> None:
    header = [c for c in HAZARD_HEADER if c != "责任单位"]
    rows = [[v for c, v in zip(HAZARD_HEADER, good_row(), strict=True) if c != "责任单位"]]
    path = hazard_list(tmp_path / "缺列.xlsx", rows, header=header)
    message = refused(run, path)
    assert "第1行像是表头，但缺少必需的列：责任单位" in message
    assert f"工作表“{SHEET}”" in message
    message = refused(run, path, "--kind", "hazard", "--sheet", SHEET)
    assert f"{where(path)}第1行像是表头，但缺少必需的列：责任单位" in message


def test_task_list_without_deadline_column_is_refused(run: Cli, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws.append(["安全专项整治问题清单、任务清单、责任清单"])
    ws.append(HEADER[:-1])
    for row in TASK_ROWS:
        ws.append(list(row[:-1]))
    path = tmp_path / "任务清单.xlsx"
    wb.save(path)
    message = refused(run, path, "--kind", "task")
    assert "工作表“任务清单”" in message
    assert "第2行像是表头，但缺少必需的列：完成时间" in message


def test_task_list_imports_when_complete(run: Cli, tmp_path: Path) -> None:
    """The control for the test above: the same list with 完成时间 imports."""
    path = task_list(tmp_path / "任务清单.xlsx")
    out = json.loads(run("import", str(path), "--kind", "task", "--json").stdout)
    assert out["summary"]["new"] == 9 and len(items(run)) == 9  # task 3 has two requirements


# -- bad cells -------------------------------------------------------------------------


@pytest.mark.parametrize(("found", "expected"), [
    ("明天", "无法识别的日期“明天”（应写成 2021-03-01、2021/3/1 或 2021年3月1日）"),
    ("2021-02-30", "日期“2021-02-30”不存在"),
    ("2021年13月1日", "日期“2021年13月1日”不存在"),
    ("3月1日", "无法识别的日期“3月1日”"),
])
def test_unparsable_found_date(run: Cli, tmp_path: Path, found: str, expected: str) -> None:
    path = hazard_list(tmp_path / "日期.xlsx", [good_row("H1"), good_row("H2", 发现时间=found)])
    message = refused(run, path)
    assert f"{where(path, 3, '发现时间')}{expected}" in message
    assert "第2行" not in message


def test_empty_found_date(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "日期.xlsx", [good_row("H1", 发现时间=None)])
    assert f"{where(path, 2, '发现时间')}发现时间为空" in refused(run, path)


def test_unknown_unit_suggests_close_names(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "单位.xlsx", [good_row("H1", 责任单位="保卫科")])
    message = refused(run, path)
    assert f"{where(path, 2, '责任单位')}找不到单位：保卫科（是否指：" in message
    line = next(line for line in message.splitlines() if "保卫科" in line)
    assert "保卫处" in line.split("是否指：", 1)[1]


def test_unknown_unit_without_close_names_says_how_to_register(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "单位.xlsx", [good_row("H1", 责任单位="天文台")])
    message = refused(run, path)
    assert (f"{where(path, 2, '责任单位')}找不到单位：天文台（请在 org.yaml 中登记该单位（或其别名），"
            "或在规则文件 unit_phrases 中说明这种说法）") in message
    assert "是否指" not in message


def test_unit_alias_and_phrase_are_accepted(run: Cli, tmp_path: Path) -> None:
    """Control: an alias from org.yaml is a unit, not an error."""
    path = hazard_list(tmp_path / "单位.xlsx", [good_row("H1", 责任单位="后勤处、安全保卫处")])
    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["rows"][0]["unit"] == "总务处" and out["rows"][0]["units"] == "牵头：总务处；配合：保卫处"


def test_duplicate_key_in_one_file(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "重复.xlsx", [good_row("H7"), good_row("H8"), good_row("H7", 位置="实验楼")])
    message = refused(run, path)
    assert f"{where(path, 4)}与工作表“{SHEET}”第2行是同一事项（编号 H7），同一文件中不能出现两次" in message


def test_unparsable_deadline(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "时限.xlsx", [good_row("H1", 整改时限="约3日内")])
    message = refused(run, path)
    assert f"{where(path, 2, '整改时限')}无法识别期限“约3日内”" in message


def test_task_deadline_that_does_not_parse(run: Cli, tmp_path: Path) -> None:
    rows = [list(r) for r in TASK_ROWS]
    rows[4][6] = "尽快吧"  # task 4's 完成时间, on sheet row 7
    path = task_list(tmp_path / "任务清单.xlsx", [tuple(r) for r in rows])
    message = refused(run, path, "--kind", "task")
    assert f"{where(path, 7, '完成时间', '任务清单')}无法识别期限“尽快吧”" in message


@pytest.mark.parametrize("column", ["编号", "隐患名称", "整改时限", "发现时间"])
def test_formula_instead_of_value(run: Cli, tmp_path: Path, column: str) -> None:
    path = hazard_list(tmp_path / "公式.xlsx", [good_row("H1"), good_row("H2", **{column: "=SUM(1,2)"})])
    message = refused(run, path)
    assert (f"{where(path, 3, column)}单元格是公式（=SUM(1,2)）而不是数值；"
            "请在表格软件中复制后“选择性粘贴为数值”再导入") in message


def test_formula_in_csv(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "公式.csv"
    rows = [HAZARD_HEADER, good_row("H1", 整改措施="=A1&B1")]
    path.write_text("\r\n".join(",".join(str(v) for v in r) for r in rows) + "\r\n", encoding="utf-8")
    message = refused(run, path)
    assert f"{where(path, 2, '整改措施', '公式')}单元格是公式（=A1&B1）而不是数值" in message


def test_unknown_category(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "类别.xlsx", [good_row("H1", 类别="地震")])
    message = refused(run, path)
    assert f"{where(path, 2, '类别')}类别“地震”不在规则文件的类别中（消防、食品安全、" in message


def test_unknown_level(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "等级.xlsx", [good_row("H1", 等级="特大")])
    assert f"{where(path, 2, '等级')}等级“特大”应为 一般 或 重大" in refused(run, path)


def test_unknown_person_in_responsible(run: Cli, tmp_path: Path) -> None:
    header = [*HAZARD_HEADER, "责任人"]
    path = hazard_list(tmp_path / "责任人.xlsx", [good_row("H1") + ["张海峰"], good_row("H2") + ["李大山"]],
                       header=header)
    message = refused(run, path)
    assert f"{where(path, 3, '责任人')}人员“李大山”不在 org.yaml 中；请先登记，或清空这一格" in message
    assert "张海峰" not in message


def test_every_problem_is_listed_at_once(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "多处.xlsx", [
        good_row("H1", 类别="地震"), good_row("H2"), good_row("H3", 等级="特大", 发现时间="明天")])
    message = refused(run, path)
    assert where(path, 2, "类别") in message
    assert where(path, 4, "等级") in message and where(path, 4, "发现时间") in message
    assert "第3行" not in message
    assert message.rstrip().endswith("共 3 处问题；没有导入任何内容")


# -- CSV encodings -------------------------------------------------------------------


def _csv(rows: list[list[Any]]) -> str:
    return "\r\n".join(",".join("" if v is None else str(v) for v in r) for r in rows) + "\r\n"


def test_gb18030_csv_imports(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "隐患清单.csv"
    path.write_bytes(_csv([HAZARD_HEADER, good_row("G1", 隐患名称="锅炉房𠮷字门牌脱落", 责任单位="后勤处"),
                           good_row("G2", 隐患名称="学生宿舍私拉电线", 责任单位="宿管办",
                                    发现时间="2021年3月2日")]).encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["summary"] == {"new": 2, "changed": 0, "unchanged": 0, "kept": 0}
    stored = sorted(items(run), key=lambda i: i["id"])
    assert [(i["title"], i["unit"], i["location"]) for i in stored] == [
        ("锅炉房𠮷字门牌脱落", "总务处", "图书馆一楼东侧"), ("学生宿舍私拉电线", "宿管办", "图书馆一楼东侧")]
    assert stored[1]["found_at"] == "2021-03-02T00:00:00+08:00"


def test_utf8_bom_csv_imports(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "隐患清单.csv"
    path.write_text(_csv([HAZARD_HEADER, good_row("U1")]), encoding="utf-8-sig")
    run("import", str(path))
    assert [i["title"] for i in items(run)] == ["灭火器压力不足（U1）"]


def test_csv_in_neither_encoding_is_refused(run: Cli, tmp_path: Path) -> None:
    path = tmp_path / "乱码.csv"
    path.write_bytes(_csv([HAZARD_HEADER]).encode("utf-8") + b"H1,\xff\xfe\xff,\xff\xff\r\n")
    assert f"{path}：CSV 文件既不是 UTF-8 也不是 GBK/GB18030 编码，无法读取" in refused(run, path)


def test_csv_truncated_in_a_gb18030_character_is_refused(run: Cli, tmp_path: Path) -> None:
    """Valid GB18030 up to a last, incomplete double-byte character (a file cut short)."""
    path = tmp_path / "截断.csv"
    path.write_bytes(_csv([HAZARD_HEADER, good_row("H1")]).encode("gb18030") + "消".encode("gb18030")[:1])
    assert f"{path}：CSV 文件既不是 UTF-8 也不是 GBK/GB18030 编码，无法读取" in refused(run, path)


# -- all or nothing ------------------------------------------------------------------


def test_good_row_and_bad_row_import_nothing(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "混合.xlsx", [good_row("H1"), good_row("H2", 责任单位="天文台")])
    message = refused(run, path, "--dry-run")
    assert where(path, 3, "责任单位") in message
    message = refused(run, path, "--dry-run", "--json")
    assert where(path, 3, "责任单位") in message
    result = run("import", str(path), "--json", code=2)
    assert result.stdout == ""
    assert where(path, 3, "责任单位") in result.stderr and "Traceback" not in result.stderr
    assert items(run) == []


def test_bad_row_does_not_touch_items_already_imported(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "清单.xlsx", [good_row("H1")])
    run("import", str(path))
    before = items(run)
    assert len(before) == 1
    path = hazard_list(tmp_path / "清单.xlsx", [good_row("H1", 位置="图书馆二楼"), good_row("H2", 等级="特大")])
    message = refused(run, path)
    assert where(path, 3, "等级") in message
    assert items(run) == before and before[0]["location"] == "图书馆一楼东侧"


def test_max_rows_is_enforced(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "十行.xlsx", [good_row(f"H{n}") for n in range(1, 11)])
    message = refused(run, path, "--max-rows", "5")
    assert f"{where(path, 7)}超过单次导入的上限 5 行，请分批导入（或用 --max-rows 调高上限）" in message
    message = refused(run, path, "--max-rows", "5", "--dry-run")
    assert "超过单次导入的上限 5 行" in message
    out = json.loads(run("import", str(path), "--max-rows", "10", "--json").stdout)
    assert out["summary"]["new"] == 10


def test_unknown_sheet_is_named(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "清单.xlsx", [good_row("H1")])
    message = refused(run, path, "--sheet", "NOPE")
    assert f"{where(path, sheet_name='NOPE')}文件中没有这个工作表" in message


# -- importing again -------------------------------------------------------------------


def _rows() -> list[list[Any]]:
    return [good_row("H1"),
            good_row("H2", 隐患名称="食堂排烟管道油污", 类别="食品安全", 责任单位="总务处",
                     位置="第一食堂后厨", 发现时间="2021-03-02", 整改时限="15个工作日内", 整改措施="清洗排烟管道")]


def test_importing_twice_creates_no_duplicates(run: Cli, tmp_path: Path) -> None:
    path = hazard_list(tmp_path / "隐患清单.xlsx", _rows())
    first = json.loads(run("import", str(path), "--json").stdout)
    assert first["summary"] == {"new": 2, "changed": 0, "unchanged": 0, "kept": 0}
    second = json.loads(run("import", str(path), "--json").stdout)
    assert second["summary"] == {"new": 0, "changed": 0, "unchanged": 2, "kept": 0}
    assert [r["item_id"] for r in second["rows"]] == [r["item_id"] for r in first["rows"]]
    assert len(items(run)) == 2


def test_importing_with_and_without_kind_creates_no_duplicates(run: Cli, tmp_path: Path) -> None:
    """`--kind hazard` only says what the header already says; the rows are the same items."""
    path = hazard_list(tmp_path / "隐患清单.xlsx", _rows())
    run("import", str(path), "--json")
    again = json.loads(run("import", str(path), "--kind", "hazard", "--json").stdout)
    assert again["summary"] == {"new": 0, "changed": 0, "unchanged": 2, "kept": 0}
    assert len(items(run)) == 2


@pytest.mark.parametrize(("column", "field", "value"), [
    ("整改措施", "measures", "清洗排烟管道并加装油烟净化器"),
    ("位置", "location", "第二食堂后厨"),
])
def test_changed_cell_is_reported_and_recorded(run: Cli, tmp_path: Path, column: str, field: str,
                                               value: str) -> None:
    rows = _rows()
    path = hazard_list(tmp_path / "隐患清单.xlsx", rows)
    first = json.loads(run("import", str(path), "--json").stdout)
    h2 = first["rows"][1]["item_id"]
    old = rows[1][HAZARD_HEADER.index(column)]
    rows[1][HAZARD_HEADER.index(column)] = value
    path = hazard_list(tmp_path / "隐患清单.xlsx", rows)

    preview = json.loads(run("import", str(path), "--dry-run", "--json").stdout)
    assert preview["summary"]["changed"] == 1
    assert json.loads(run("show", str(h2), "--json").stdout)[field] == old

    out = json.loads(run("import", str(path), "--json").stdout)
    assert out["summary"] == {"new": 0, "changed": 1, "unchanged": 1, "kept": 0}
    changed = [r for r in out["rows"] if r["action"] == "changed"]
    assert len(changed) == 1
    assert changed[0]["item_id"] == h2 and changed[0]["row"] == 3
    assert changed[0]["changes"] == {field: [old, value]}

    shown = json.loads(run("show", str(h2), "--json").stdout)
    assert shown[field] == value
    imports = [h for h in shown["history"] if h["event"] == "import"]
    assert len(imports) == 1
    assert imports[0]["changes"] == {field: [old, value]}
    assert imports[0]["note"] == f"按 {SHEET} 第3行更新"
    assert len(items(run)) == 2

    again = json.loads(run("import", str(path), "--json").stdout)
    assert again["summary"] == {"new": 0, "changed": 0, "unchanged": 2, "kept": 0}


def test_two_hazard_lists_with_the_same_numbers_are_different_items(run: Cli, tmp_path: Path) -> None:
    """Hazard lists are keyed by file name (see `import --help`: 隐患清单用文件名), so 编号 1 of
    the March list and 编号 1 of the April list are two hazards, not one changed twice."""
    march = hazard_list(tmp_path / "三月排查.xlsx", [good_row("1", 隐患名称="配电箱门未上锁")])
    april = hazard_list(tmp_path / "四月排查.xlsx", [good_row("1", 隐患名称="消防通道堆放杂物",
                                                              发现时间="2021-04-06")])
    run("import", str(march))
    out = json.loads(run("import", str(april), "--json").stdout)
    assert out["summary"] == {"new": 1, "changed": 0, "unchanged": 0, "kept": 0}
    assert sorted(i["title"] for i in items(run)) == ["消防通道堆放杂物", "配电箱门未上锁"]
