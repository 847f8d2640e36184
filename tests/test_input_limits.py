"""Resource bombs and oversized input, each refused before it costs memory or time.

Site files: a YAML alias bomb (billion laughs) in any site file is refused at its first
anchor or alias, by `rectify check` and by a reloading daemon (the last good files stay,
the administrator is told); so are files over 1 MiB and nesting over 32 levels.
Spreadsheets: a file over 20 MiB, an .xlsx that unpacks to a gigabyte, a row wider than
256 columns, a CSV line of megabytes, a cell longer than its column takes, more rows
than --max-rows: each refused with its place named and nothing imported. Typed values
(`report`, `fire --set`, `--note`) keep the same limits, and `show`/`list` print a huge
value stored before the limits existed without stalling the terminal.

The bombs run in a child process whose address space is capped (RLIMIT_AS), so a
regression fails the test instead of taking the machine's memory.
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from structlog.testing import capture_logs

from adapters import daemon as daemon_mod
from adapters.daemon import Daemon
from adapters.schema import items as items_table
from adapters.sheets import open_tables
from adapters.wiring import open_app
from engine import yamlfile
from engine.errors import ConfigError
from tests.conftest import Cli
from tests.sheetdata import HAZARD_HEADER, hazard_list

ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20


def capped(site: Path, *args: str, memory: int = 768 * MIB, timeout: float = 120) -> tuple[int, str, float]:
    """`rectify --site SITE ARGS` in a child process that cannot map more than `memory`
    bytes: (exit code, stderr, seconds)."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "adapters.cli", "--site", str(site), *args],
                          capture_output=True, text=True, timeout=timeout, preexec_fn=cap, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stderr, time.perf_counter() - started


@pytest.fixture(autouse=True)
def memory_cap() -> Iterator[None]:
    """This process may map at most 1 GiB more while a test here runs: what a test does
    in-process (a reload, a command through CliRunner) fails with MemoryError on a
    regression instead of growing by gigabytes."""
    with open("/proc/self/status", encoding="ascii") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + 1024 * MIB, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def stored(site: Path) -> list[dict[str, Any]]:
    return json.loads(Cli(site)("list", "--json").stdout)


# -- site files ---------------------------------------------------------------------------

def billion_laughs(key: str = "categories") -> str:
    """Nine levels of nine aliases: about 400 bytes that stand for 387,420,489 strings."""
    lines = [f"{key}:", '  - &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  - &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.slow  # a real child process under a memory cap
def test_a_billion_laughs_rules_file_fails_check_at_once_in_little_memory(sqlite_site: Path) -> None:
    """It once took 13.5 GB (schema validation walked the shared nodes as a tree): now
    `rectify check` names the first anchor's line and exits 1 within seconds, in a
    process that may not map more than 512 MiB."""
    path = sqlite_site / "rules" / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    code, err, seconds = capped(sqlite_site, "check", memory=512 * MIB)
    assert code == 1, err[-2000:]
    assert f"{path}:2: 使用了 YAML 锚点（&a），站点文件不允许使用锚点和别名，请直接写出内容" in err
    assert "Traceback" not in err and "MemoryError" not in err
    assert seconds < 30


SITE_FILES = ["rectify.yaml", "org.yaml", "calendar.yaml", "workflows/hazard.yaml", "rules/policy.yaml"]


@pytest.mark.parametrize("name", SITE_FILES)
def test_an_alias_in_any_site_file_is_refused_at_its_line(sqlite_site: Path, name: str) -> None:
    """Every site file is read through engine.yamlfile: an alias (here one that names no
    anchor, as a clerk might paste it) is refused with the file and line, never expanded."""
    path = sqlite_site / name
    text = path.read_text(encoding="utf-8")
    line = text.count("\n") + 2
    path.write_text(text + "\nzz_pasted: *lol\n", encoding="utf-8")
    result = Cli(sqlite_site)("check", code=1)
    assert f"{path}:{line}: 使用了 YAML 别名（*lol），站点文件不允许使用锚点和别名，请直接写出内容" in result.stderr


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: &x 1\nb: 2\n", 1, "使用了 YAML 锚点（&x）"),
    ("a:\n  - 1\n  - *x\n", 3, "使用了 YAML 别名（*x）"),
    ("--- &doc\na: 1\n", 1, "使用了 YAML 锚点（&doc）"),
    ("a: {b: &m {c: 1}}\n", 1, "使用了 YAML 锚点（&m）"),
])
def test_anchors_and_aliases_are_refused_wherever_they_stand(text: str, line: int, message: str) -> None:
    """An anchor is refused even when nothing refers to it: site files have no use for either."""
    with pytest.raises(ConfigError) as caught:
        yamlfile.loads(text, "f.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (line, f"{message}，站点文件不允许使用锚点和别名，请直接写出内容")


def test_nesting_deeper_than_32_levels_is_refused_at_its_line() -> None:
    """Depth is counted while composing (before the constructor or the schema recurse):
    32 levels load, the 33rd is refused with its line."""
    assert yamlfile.loads("a:\n  " + "[" * 31 + "]" * 31 + "\n", "f.yaml") is not None
    with pytest.raises(ConfigError) as caught:
        yamlfile.loads("a:\n  " + "[" * 32 + "]" * 32 + "\n", "f.yaml")
    assert str(caught.value) == "f.yaml:2: YAML 格式错误：列表或键值表嵌套层次过深（最多 32 层）"


def test_nesting_just_inside_the_limit_is_a_schema_problem_not_a_crash(sqlite_site: Path) -> None:
    """31 levels of lists inside a rule file reach the schema check, which reports them
    (a deeper structure once escaped validation as RecursionError)."""
    path = sqlite_site / "rules" / "deep.yaml"
    path.write_text("categories:\n  - " + "[" * 30 + "]" * 30 + "\n", encoding="utf-8")
    result = Cli(sqlite_site)("check", code=1)
    assert f"{path}:2: " in result.stderr and "Traceback" not in result.stderr


def test_a_site_file_over_1_mib_is_refused_unread(sqlite_site: Path) -> None:
    """A 4 GiB org.yaml (sparse: no disk is used) is refused by its size: only the first
    1 MiB and a byte are ever read, so `check` answers at once."""
    path = sqlite_site / "org.yaml"
    with path.open("r+b") as f:
        f.truncate(4 << 30)
    started = time.perf_counter()
    result = Cli(sqlite_site)("check", code=1)
    assert f"{path}: 文件过大（4,294,967,296 字节），站点文件最大 1,048,576 字节（1 MiB）" in result.stderr
    assert time.perf_counter() - started < 10


@pytest.mark.slow
def test_a_rules_file_just_over_1_mib_is_refused_and_one_at_the_limit_is_read(sqlite_site: Path) -> None:
    """The limit is on bytes, before the YAML is parsed: 1 MiB of comment loads, one byte more does not."""
    path = sqlite_site / "rules" / "notes.yaml"
    body = "# 说明\n"
    path.write_text(body + "#" * (MIB - len(body.encode()) - 1) + "\n", encoding="utf-8")
    Cli(sqlite_site)("check")
    path.write_text(body + "#" * (MIB - len(body.encode())) + "\n", encoding="utf-8")
    assert f"{path}: 文件过大（1,048,577 字节）" in Cli(sqlite_site)("check", code=1).stderr


def test_a_bomb_saved_under_the_reloading_daemon_is_refused_and_the_admin_told(sqlite_site: Path) -> None:
    """It once held the tick lock ~20 s and failed with an empty error and no alert: the
    reload is refused at once, the last good policy stays, the log names file:line and
    the administrator's email says what was wrong."""
    daemon = Daemon(sqlite_site)
    try:
        version = daemon.version
        path = sqlite_site / "rules" / "bomb.yaml"
        path.write_text(billion_laughs(), encoding="utf-8")
        started = time.perf_counter()
        with capture_logs() as logs:
            assert daemon.reload("test") is False
        assert time.perf_counter() - started < 5
        assert daemon.version == version
        (refused,) = [e for e in logs if e["event"] == "reload_refused"]
        assert refused["problems"] == [f"{path}:2: 使用了 YAML 锚点（&a），站点文件不允许使用锚点和别名，请直接写出内容"]
        (alert,) = list((sqlite_site / "mail").glob("*.eml"))
        assert f"{path}:2: 使用了 YAML 锚点（&a）" in _body(alert)
    finally:
        daemon.close()


def _body(path: Path) -> str:
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(path.read_bytes(), policy=default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.parametrize("exc", [MemoryError(), RecursionError("maximum recursion depth exceeded")])
def test_an_unexpected_failure_while_reloading_is_logged_by_type_and_alerted(
        sqlite_site: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Whatever escapes loading the site files (here a MemoryError, whose message is empty)
    is logged with its type, the last good files stay, and the administrator is told."""
    daemon = Daemon(sqlite_site)
    try:
        version = daemon.version

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise exc

        monkeypatch.setattr(daemon_mod, "load_site_files", fail)
        with capture_logs() as logs:
            assert daemon.reload("test") is False
        assert daemon.version == version
        (failed,) = [e for e in logs if e["event"] == "reload_failed"]
        assert failed["error"].startswith(type(exc).__name__)
        (alert,) = list((sqlite_site / "mail").glob("*.eml"))
        assert f"重新加载站点文件时出错（{type(exc).__name__}" in _body(alert)
    finally:
        daemon.close()


# -- spreadsheets ------------------------------------------------------------------------

def good_row(key: str = "H1", **changes: Any) -> list[Any]:
    row = {"编号": key, "隐患名称": f"灭火器压力不足（{key}）", "类别": "消防", "等级": "一般", "责任单位": "保卫处",
           "位置": "图书馆一楼东侧", "发现时间": "2021-03-01", "整改时限": "3日内", "整改措施": "更换灭火器"}
    row.update(changes)
    return [row[title] for title in HAZARD_HEADER]


def _deflated(chunks: list[tuple[bytes, int]]) -> tuple[bytes, int, int]:
    """Raw deflate of each (bytes, repeat) in turn, without compressing the repeats again:
    each chunk is flushed whole, so its compressed form repeats as it does. (data, crc, size)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out, crc, size = [], 0, 0
    for chunk, repeat in chunks:
        block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
        out.append(block * repeat)
        for _ in range(repeat):
            crc = zlib.crc32(chunk, crc)
        size += len(chunk) * repeat
    out.append(c.flush())
    return b"".join(out), crc, size


def write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of already deflated members (name, data, crc, size), written by hand."""
    body, directory = bytearray(), bytearray()
    for name, data, crc, size in members:
        encoded = name.encode()
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                 len(encoded), 0, 0, 0, 0, 0, len(body)) + encoded
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                            len(encoded), 0) + encoded + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))
    return path


SHARED_STRINGS = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                  b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')


def with_shared_strings(source: Path, path: Path, chunks: list[tuple[bytes, int]]) -> Path:
    """`source` (a workbook openpyxl wrote, its strings inline) with a sharedStrings.xml
    made of `chunks`, repeated as given, declared as Excel declares it (openpyxl reads the
    part named in [Content_Types].xml whole when it opens the workbook)."""
    members = []
    with zipfile.ZipFile(source) as z:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", SHARED_STRINGS + b"</Types>")
            members.append((info.filename, *_deflated([(data, 1)])))
    members.append(("xl/sharedStrings.xml", *_deflated(chunks)))
    return write_zip(path, members)


SST_HEAD = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'


@pytest.mark.slow  # a real child process under a memory cap
def test_a_1_mb_workbook_whose_shared_strings_unpack_to_1_gib_is_refused_unopened(site: Path,
                                                                                   tmp_path: Path) -> None:
    """It once took 4.7 GB before failing: the zip directory says what each part unpacks
    to, so the import is refused before openpyxl reads a byte of it, in a process that
    may not map more than 768 MiB, and nothing is imported (SQLite and PostgreSQL)."""
    source = hazard_list(tmp_path / "源.xlsx", [good_row()])
    head, lol, tail = SST_HEAD, b"lol" * (MIB // 3), b"</t></si></sst>"
    path = with_shared_strings(source, tmp_path / "隐患清单.xlsx", [(head, 1), (lol, 1024), (tail, 1)])
    assert path.stat().st_size < 2 * MIB
    unpacked = len(head) + 1024 * len(lol) + len(tail)
    before = stored(site)
    code, err, seconds = capped(site, "import", str(path))
    assert code == 2, err[-2000:]
    assert err.startswith(f"错误：{path}：工作簿中的“xl/sharedStrings.xml”解压后有 {unpacked:,} 字节（1024.0 MiB），"
                          "超过上限 67,108,864 字节（64.0 MiB）；文件可能是恶意构造的（压缩炸弹），未读取"), err
    assert "没有导入任何内容" in err and seconds < 60
    assert stored(site) == before


def test_a_part_compressed_more_than_100_times_is_refused(run: Cli, tmp_path: Path) -> None:
    """A 40 MB cell of one repeated character packs into 40 KB: under the size limits, but
    no spreadsheet compresses a part 1,000 times, so it is refused as a bomb."""
    source = hazard_list(tmp_path / "源.xlsx", [good_row()])
    path = with_shared_strings(source, tmp_path / "隐患清单.xlsx",
                               [(SST_HEAD, 1), (b"x" * MIB, 40), (b"</t></si></sst>", 1)])
    result = run("import", str(path), code=2)
    assert "工作簿中的“xl/sharedStrings.xml”压缩比异常" in result.stderr and "超过 100 倍" in result.stderr
    assert stored(run.site) == []


def test_a_file_over_20_mib_is_refused_before_it_is_read(site: Path, tmp_path: Path) -> None:
    """A 40 MB CSV (one 40 MB cell) is refused by its size; nothing is imported (SQLite and PostgreSQL)."""
    path = tmp_path / "隐患清单.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HAZARD_HEADER) + "\n" + ",".join(str(v) for v in good_row()) + "\n")
        f.write("H2,")
        for _ in range(40):
            f.write("长" * (MIB // 3))
        f.write(",消防,一般,保卫处,图书馆,2021-03-01,3日内,更换\n")
    before = stored(site)
    result = Cli(site)("import", str(path), code=2)
    assert result.stderr.startswith(f"错误：{path}：文件过大：")
    assert "导入的文件最大 20,971,520 字节（20.0 MiB）" in result.stderr
    assert stored(site) == before


@pytest.mark.parametrize(("column", "length", "limit"), [
    ("隐患名称", 201, 200), ("整改措施", 5001, 5000), ("位置", 201, 200), ("编号", 101, 100), ("责任单位", 1001, 1000),
])
def test_a_cell_longer_than_its_column_takes_is_refused_at_its_place(site: Path, tmp_path: Path, column: str,
                                                                     length: int, limit: int) -> None:
    """The cell is named (file, sheet, row, column) with its length and the limit, and no
    row of the file is imported, not even the good one above it (SQLite and PostgreSQL)."""
    path = hazard_list(tmp_path / "隐患清单.xlsx", [good_row("H1"), good_row("H2", **{column: "长" * length})])
    result = Cli(site)("import", str(path), code=2)
    assert (f"{path} 工作表“隐患清单” 第3行 “{column}”列：内容过长：共 {length:,} 个字符，"
            f"这一列最多 {limit:,} 个字符") in result.stderr
    assert stored(site) == []
    ok = hazard_list(tmp_path / "隐患清单.xlsx", [good_row("H1"), good_row("H2", **{column: "长" * limit})])
    if column != "责任单位":  # a unit cell that long names no unit
        Cli(site)("import", str(ok))
        assert len(stored(site)) == 2


def test_a_csv_line_of_megabytes_is_refused_without_reading_it_whole(run: Cli, tmp_path: Path) -> None:
    """A line longer than 65,536 characters is refused as soon as that much of it is read."""
    path = tmp_path / "隐患清单.csv"
    path.write_text(",".join(HAZARD_HEADER) + "\n" + "H1," + "x" * (5 * MIB) + "\n", encoding="utf-8")
    result = run("import", str(path), code=2)
    assert result.stderr.startswith(f"错误：{path}：第2行过长（超过 65,536 个字符）")
    assert stored(run.site) == []


def test_a_csv_cell_over_the_csv_module_limit_is_refused_in_chinese(run: Cli, tmp_path: Path) -> None:
    """A quoted cell spread over many short lines outgrows the csv module's own field limit
    (left as it is: it is process-wide); the refusal says so in Chinese, and the limit is untouched."""
    limit = csv.field_size_limit()
    path = tmp_path / "隐患清单.csv"
    lines = "\n".join(["x" * 1000] * 200)
    path.write_text(",".join(HAZARD_HEADER) + '\nH1,"' + lines + '",消防\n', encoding="utf-8")
    result = run("import", str(path), code=2)
    assert f"附近有一格超过 {limit:,} 个字符，未读取" in result.stderr
    assert csv.field_size_limit() == limit


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_row_wider_than_256_columns_is_refused(run: Cli, tmp_path: Path, fmt: str) -> None:
    """A row that uses column 300 is refused with its row; trailing empty cells do not count."""
    row = [*good_row(), *[None] * 290, "多余"]
    if fmt == "xlsx":
        path = hazard_list(tmp_path / "隐患清单.xlsx", [good_row("H0"), row])
    else:
        path = tmp_path / "隐患清单.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([HAZARD_HEADER, good_row("H0"), ["" if v is None else v for v in row]])
    result = run("import", str(path), code=2)
    assert "第3行用到了第 300 列，超过上限 256 列" in result.stderr
    assert stored(run.site) == []


@pytest.mark.slow
def test_a_sheet_that_claims_16384_columns_is_read_as_stored(run: Cli, tmp_path: Path) -> None:
    """A blank cell typed in column XFD makes the sheet's dimension 16,384 columns wide; the
    rows are read as stored (not padded to that width) and import."""
    path = tmp_path / "隐患清单.xlsx"
    hazard_list(path, [good_row("H1"), good_row("H2")], header=[*HAZARD_HEADER, *[None] * 16374, " "])
    with zipfile.ZipFile(path) as z:
        assert 'ref="A1:XFD3"' in z.read("xl/worksheets/sheet1.xml").decode()
    with open_tables(path) as (table,):
        assert [len(values) for _, values in table.rows] == [16384, 9, 9]
    started = time.perf_counter()
    run("import", str(path))
    assert len(stored(run.site)) == 2 and time.perf_counter() - started < 20


@pytest.mark.slow
def test_more_rows_than_the_default_limit_are_refused_and_nothing_imported(site: Path, tmp_path: Path) -> None:
    """Without --max-rows an import reads at most 100,000 rows (blank ones count): row
    100,002 is named and the good row at the top is not imported (SQLite and PostgreSQL)."""
    path = tmp_path / "隐患清单.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HAZARD_HEADER) + "\n" + ",".join(str(v) for v in good_row()) + "\n")
        f.write(",\n" * 100_000)
    result = Cli(site)("import", str(path), code=2)
    assert f"{path} 工作表“隐患清单” 第100002行：超过单次导入的上限 100000 行" in result.stderr
    assert stored(site) == []


# -- typed values -------------------------------------------------------------------------

def test_a_40_mb_title_is_never_stored(site: Path) -> None:
    """`report --title` with 40 MB is refused at once with the limit (the value is not
    echoed back), and nothing is stored (SQLite and PostgreSQL)."""
    run = Cli(site)
    started = time.perf_counter()
    result = run("report", "--title", "隐" * 40_000_000, "--category", "消防", "--unit", "保卫处",
                 "--reporter", "郭晓明", code=2)
    assert result.stderr.strip() == "错误：“标题”（title）过长：共 40,000,000 个字符，最多 200 个字符"
    assert time.perf_counter() - started < 10
    assert stored(site) == []


@pytest.mark.parametrize(("option", "message"), [
    (["--set", "measures=" + "改" * 5001], "“整改措施”（measures）过长：共 5,001 个字符，最多 5,000 个字符"),
    (["--set", "responsible=" + "张" * 129], "“责任人”（responsible）过长：共 129 个字符，最多 128 个字符"),
    (["--set", "no_such_field=" + "x" * 10**6], "“no_such_field”（no_such_field）过长：共 1,000,000 个字符"),
    (["--note", "备" * 5001], "“备注”（note）过长：共 5,001 个字符，最多 5,000 个字符"),
])
def test_fire_refuses_an_over_long_value_and_changes_nothing(site: Path, option: list[str], message: str) -> None:
    """`fire --set` and `--note` hold the same limits as `report` and the import: the item
    keeps its version and history (SQLite and PostgreSQL)."""
    run = Cli(site)
    item = json.loads(run("report", "--title", "楼梯扶手松动", "--category", "消防", "--unit", "保卫处",
                          "--reporter", "郭晓明", "--json").stdout)
    before = run("show", str(item["id"]), "--json").stdout
    result = run("fire", str(item["id"]), "assign", "--actor", "赵卫东", "--set", "responsible=马建军", *option, code=2)
    assert message in result.stderr and len(result.stderr) < 500
    assert run("show", str(item["id"]), "--json").stdout == before


def test_an_unknown_unit_of_a_megabyte_is_quoted_short(run: Cli) -> None:
    """A message quotes at most 100 characters of what was typed."""
    result = run("report", "--title", "楼梯扶手松动", "--unit", "单" * 120, "--reporter", "郭晓明", code=None)
    assert result.exit_code != 0
    assert "（共 120 个字符）" in result.stderr and "单" * 101 not in result.stderr


def test_show_and_list_cut_a_huge_value_stored_before_the_limits(run: Cli) -> None:
    """A 1 MB title and location stored by an older version print at once, cut with a
    note; --json still gives them whole."""
    item = json.loads(run("report", "--title", "楼梯扶手松动", "--category", "消防", "--unit", "保卫处",
                          "--reporter", "郭晓明", "--json").stdout)
    huge = "隐" * MIB
    app = open_app(run.site)
    try:
        with app.store.write() as conn:
            conn.execute(update(items_table).values(title=huge, location=huge))
    finally:
        app.close()
    started = time.perf_counter()
    shown = run("show", str(item["id"])).stdout
    listed = run("list").stdout
    assert time.perf_counter() - started < 20
    # As printed, less the table's borders and the folding of long cells.
    assert f"…（共{MIB:,}个字符，只显示前1,000个；完整内容请用--json查看）" in re.sub(r"[\s│]", "", shown)
    assert "只显示前200个" in re.sub(r"[\s│]", "", listed)
    assert len(shown) < 20_000 and len(listed) < 20_000
    assert json.loads(run("show", str(item["id"]), "--json").stdout)["title"] == huge

