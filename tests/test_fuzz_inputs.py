"""Fuzzing what the safety office edits and what it receives (hypothesis).

A rule file broken as an editor breaks one (cut short, a stray character or line, a
value of the wrong type, a key gone, a rule twice, an unknown state, role or unit, a
deadline nobody can read) is either loaded whole or refused with a ConfigError whose
every problem names a rule file and, unless it is about the whole file, a line within
it: never another exception, never a policy missing part of what the files say; and
`rectify check` says so with exit code 1 (its code for problems in site files).

A spreadsheet with any value in any cell (text with control characters, numbers,
dates of the year 1 or 9999, formulas, very long text, nothing), a header cell gone
or junk rows added is, through `rectify import`, either imported with exactly the rows
reported, or refused with exit code 2, the place named as SheetError names it and
nothing written: never a traceback.

Each property runs on one SQLite site made for it; the plain tests at the end are the
bugs the fuzzing found, kept as examples. Names are the demo org.yaml's (invented).
"""

from __future__ import annotations

import copy
import csv
import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from adapters.sitefiles import load_config, load_site_files
from adapters.sitesetup import create_site
from engine import yamlfile
from engine.deadline import parse_deadline
from engine.errors import ConfigError, DeadlineError
from engine.policy import validate_offset
from tests.conftest import START, Cli
from tests.examples import examples
from tests.sheetdata import HAZARD_HEADER, HEADER, TASK_ROWS, hazard_list, one_sheet

pytestmark = pytest.mark.slow  # hypothesis over files and workbooks: minutes, not seconds

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- broken rule files -----------------------------------------------------------------

# Inserted anywhere, or in place of a whole line: YAML's traps, bytes that are not UTF-8,
# control characters, tags PyYAML would act on, very long and very deep values.
JUNK = [
    b"\t", b":", b": ", b'"', b"'", b"NO", b"1:30", b"- ", b"{", b"[", b"]", b"&a ", b"*a", b"? ", b"|",
    b"#", b"\r", b"\x00", b"\x1b", b"\xff\xfe", "消".encode()[:2], "\u2028".encode(), "\ufeff".encode(),
    b"!!timestamp 2020-13-45", b"!!int abc", b"!!bool x", b"!!binary ", b"!!set {a, b}",
    b"!!python/object/apply:os.system ['true']", b"%YAML 1.1\n---\n", b"\n---\n", b"[" * 400,
    b"x" * 5000, "长".encode() * 3000, b"9" * 5000,
]
# What a quoted value becomes when its quotes go: YAML 1.1 booleans, sexagesimals, octals …
TRAPS = [b"NO", b"yes", b"on", b"1:30", b"0x1F", b"0o17", b"1e3", b"1.5", b"12", b"-3", b"~", b"", b"true",
         b"2021-03-01", b".inf", b".nan", b"[]", b"{}", b"[1, 2]", b"{a: 1}", b"!!timestamp x", b"*nope"]

BAD_DEADLINES = ["随便写写", "约3日内", "13月底前", "10日前", "9999年底前", "9999年12月30日前", "0001年1月1日前",
                 "3000000日内", "99999年内", "每99999个月", "逾期9999999日", "逾期3000年", "3日前", "50%",
                 "150%", "nan%", "1:30", "NO", "", "立整立改\n长期坚持", "2021年", "2020年9月至2020年12月"]
# At most 8 characters: never more than 99,999 working days, which count quickly.
deadline_texts = st.one_of(st.text(alphabet="0123456789年月日底前内至每季度末半周工作个逾期即小时立整改长坚持春节、",
                                   max_size=8),
                           st.sampled_from(BAD_DEADLINES), st.text(max_size=8))
other_values = st.one_of(
    st.none(), st.integers(), st.floats(), st.booleans(), st.text(max_size=10),
    st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=4)), max_size=2),
    st.just("x" * 5000), st.just({"a": {"b": [1, {"c": None}]}}),
)
# Keys whose values the policy checks against something else: other files, org.yaml,
# the workflows, the deadline grammar.
TARGETED: dict[str, st.SearchStrategy[Any]] = {
    **{key: deadline_texts for key in ("expr", "after", "repeat", "window", "every")},
    "remind": st.lists(deadline_texts, max_size=3),
    "from": st.sampled_from(["found", "assigned", "2021-02-30", "0001-01-01", "9999-12-31", "2021-03-01", "昨天"]),
    "reference": st.sampled_from(["2020-08-01", "2021-02-30", "0001-01-01", "9999-12-31", "去年"]),
    "pause_in": st.lists(st.sampled_from(["awaiting_funds", "no_such_state", "closed", ""]), max_size=2),
    "notify": st.lists(st.sampled_from(["leader", "校长", "nobody", "responsible"]), max_size=2),
    "send_to": st.lists(st.sampled_from(["principal", "校长", "watcher"]), max_size=2),
    "unit": st.one_of(st.sampled_from(["天文台", "保卫处", ""]), st.lists(st.sampled_from(["天文台", "总务处"]))),
    "units": st.sampled_from(["all", "none", ["天文台"], ["保卫处"], []]),
    "category": st.sampled_from(["核安全", "消防", ["燃气", "地震"], []]),
    "escalate": st.sampled_from(["不存在的阶梯", "一般隐患督办", []]),
    "campaign": st.sampled_from(["不存在的行动", "安全专项整治三年行动"]),
    "action": st.sampled_from(["训斥", "通报"]),
    "means": st.sampled_from(["all", "everyone"]),
    "period": st.sampled_from(["quarter", "fortnight"]),
    "kind": st.sampled_from(["hazard", "task", "both"]),
    "priority": st.sampled_from([0, 1, -1, "1:30", 1.5, True, 10**30]),
    "name": st.sampled_from(["一般隐患", "重大隐患", "动员部署", "", "x"]),
}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value below `node` (dict keys and list indexes)."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    found = []
    for key, value in children:
        found.append((*path, key))
        found += _paths(value, (*path, key))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def restructured(draw: st.DrawFn, text: bytes) -> bytes:
    """The file's data with values replaced, keys deleted or list items doubled, dumped again."""
    data = copy.deepcopy(yaml.safe_load(text))
    for _ in range(draw(st.integers(1, 2))):
        paths = _paths(data)
        if not paths:
            break
        kind = draw(st.sampled_from(["replace", "delete", "double", "targeted"]))
        if kind == "targeted":
            paths = [p for p in paths if p[-1] in TARGETED] or paths
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "double" and isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
        elif kind == "targeted" and path[-1] in TARGETED:
            parent[path[-1]] = copy.deepcopy(draw(TARGETED[path[-1]]))  # sampled values are shared
        else:
            parent[path[-1]] = copy.deepcopy(draw(other_values))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


@st.composite
def damaged(draw: st.DrawFn, text: bytes) -> bytes:
    """The file's bytes cut short, with junk inserted, a line replaced, dropped or doubled,
    or a quoted value unquoted."""
    junk = st.one_of(st.sampled_from(JUNK), st.binary(max_size=6), st.text(max_size=6).map(str.encode))
    kind = draw(st.sampled_from(["truncate", "insert", "line", "drop", "double", "unquote"]))
    if kind == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(junk) + text[at:]
    if kind == "unquote":
        quoted = [m.span() for m in re.finditer(rb'"[^"\n]*"', text)]
        if quoted:
            start, end = draw(st.sampled_from(quoted))
            return text[:start] + draw(st.sampled_from(TRAPS)) + text[end:]
        return text
    lines = text.split(b"\n")
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "line":
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip(b" "))] if draw(st.booleans()) else b""
        lines[i] = indent + draw(junk)
    elif kind == "drop":
        del lines[i]
    else:
        lines.insert(i, lines[i])
    return b"\n".join(lines)


@st.composite
def broken_variants(draw: st.DrawFn, text: bytes) -> bytes:
    restructure = draw(st.booleans())
    if restructure:
        text = draw(restructured(text))
    for _ in range(draw(st.integers(0 if restructure else 1, 2))):
        text = draw(damaged(text))
    return text


def _lines(path: Path) -> int:
    """How many lines any reader could count in the file (YAML also breaks at \\r, U+2028 …)."""
    return len(path.read_bytes().decode("utf-8", "replace").splitlines()) + 1


def assert_loaded_whole_or_refused(site: Path, broken: str) -> None:
    """Load the site's files as `rectify check` and the daemon do: either every rule file
    is in the policy, whole, or ConfigError names a rule file (and a line in it) for each problem."""
    config = load_config(site.resolve())
    rules_dir = config.rules_dir
    try:
        files = load_site_files(config)
    except ConfigError as err:
        assert err.problems, "ConfigError without a problem"
        for problem in err.problems:
            path = Path(problem.file)
            assert path.parent == rules_dir and path.suffix == ".yaml", problem
            assert str(problem).startswith(problem.file), problem
            if problem.line is None:  # only what is about the whole file has no line
                assert "（文件顶层）" in problem.message or "嵌套层次过深" in problem.message, problem
            else:
                assert 1 <= problem.line <= _lines(path), (problem, _lines(path))
        assert broken in str(err)
        return
    policy = files.rules
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in sorted(rules_dir.glob("*.yaml"))}
    assert policy.sources == on_disk
    parsed = [yamlfile.loads(text, name) or {} for name, text in on_disk.items()]
    for key, loaded in (("rules", policy.rules), ("campaigns", policy.campaigns),
                        ("obligations", policy.obligations), ("reports", policy.reports),
                        ("unit_phrases", policy.unit_phrases)):
        assert len(loaded) == sum(len(data.get(key, [])) for data in parsed), key
    assert {r.name for r in policy.rules} == {r["name"] for data in parsed for r in data.get("rules", [])}


@pytest.fixture(scope="module")
def rules_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rules") / "site"
    create_site(directory)
    return directory


@settings(FUZZ, max_examples=examples(150))
@given(data=st.data())
def test_a_broken_rule_file_is_loaded_whole_or_refused_with_file_and_line(rules_site: Path,
                                                                          data: st.DataObject) -> None:
    rules_dir = rules_site / "rules"
    name = data.draw(st.sampled_from(sorted(p.name for p in rules_dir.glob("*.yaml"))), label="file")
    original = (rules_dir / name).read_bytes()
    (rules_dir / name).write_bytes(data.draw(broken_variants(original), label="broken"))
    try:
        assert_loaded_whole_or_refused(rules_site, name)
    finally:
        (rules_dir / name).write_bytes(original)


# -- broken spreadsheets ---------------------------------------------------------------

EXTRA_COLUMNS = {"责任人": "张海峰", "报告人": "郭晓明", "描述": "压力表指针在红区", "专人盯防": "马建军",
                 "配合单位": "总务处", "台账编号": None, "来源编号": None, "事项类型": "隐患", "整改资金": "2000元"}
MEANINGFUL = ["保卫处", "后勤处、安全保卫处", "天文台", "相关部门", "、", "张海峰", "李大山", "重大", "特大", "major",
              "消防", "燃气", "地震", "隐患", "整治任务", "task", "3日内", "15个工作日内", "立整立改\n长期坚持",
              "2020年底前", "9999年12月30日前", "每季度末", "尽快吧", "2021-03-01", "2021/3/1 9:30",
              "2021年2月30日", "0001-01-01", "1", "999999", "-1", "H1", "[/x]", "[bold]", ":fire:"]
FORMULAS = ["=A1", "=SUM(1,2)", "=", '="x"', "=1/0"]
LONG = ["长" * 5000, "x" * 33000]


def cell_values(fmt: str) -> st.SearchStrategy[Any]:
    """Anything a cell can hold; openpyxl cannot write most control characters, a CSV can."""
    text = st.text(max_size=20)
    if fmt == "xlsx":
        text = text.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s))
    return st.one_of(
        st.none(), text, st.integers(min_value=-2**63, max_value=2**63), st.floats(), st.booleans(),
        st.dates(), st.datetimes(), st.times(), st.sampled_from(MEANINGFUL + FORMULAS + LONG),
    )


def _hazard_row(n: int, extras: list[str]) -> list[Any]:
    return [f"H{n}", f"灭火器压力不足（H{n}）", "消防", "一般", "保卫处", f"图书馆{n}楼东侧", "2021-03-01", "3日内",
            "更换灭火器", *(EXTRA_COLUMNS[c] for c in extras)]


@st.composite
def spreadsheets(draw: st.DrawFn) -> tuple[str, str, list[list[Any]]]:
    """(format, sheet title, rows): a valid hazard or task list, then broken."""
    fmt = draw(st.sampled_from(["xlsx", "xlsx", "csv"]))
    if draw(st.booleans()):
        extras = draw(st.lists(st.sampled_from(sorted(EXTRA_COLUMNS)), unique=True, max_size=3))
        title = "隐患清单"
        rows = [[*HAZARD_HEADER, *extras]] + [_hazard_row(n, extras) for n in range(1, draw(st.integers(1, 4)) + 1)]
    else:
        title = "任务清单"
        rows = [["安全专项整治问题清单、任务清单、责任清单"], list(HEADER)] + [list(r) for r in TASK_ROWS]
    values = cell_values(fmt)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["cell", "cell", "cell", "header", "junk", "blank", "drop", "double"]))
        r = draw(st.integers(0, len(rows) - 1))
        if kind == "cell":
            c = draw(st.integers(0, len(rows[r])))
            rows[r] += [None] * (c + 1 - len(rows[r]))
            rows[r][c] = draw(values)
        elif kind == "header":
            header = rows[0] if title == "隐患清单" or len(rows) < 2 else rows[1]
            if not header:
                continue
            header[draw(st.integers(0, len(header) - 1))] = draw(
                st.sampled_from([None, "", "备注", "隐患名称", "序号", "发现时间", "[/yellow]"]))
        elif kind == "junk":
            rows.insert(r, draw(st.lists(values, max_size=len(rows[0]) + 2)))
        elif kind == "blank":
            rows.insert(r, [])
        elif kind == "drop" and len(rows) > 1:
            del rows[r]
        elif kind == "double":
            rows.insert(r, list(rows[r]))
    return fmt, title, rows


def _write(path: Path, fmt: str, title: str, rows: list[list[Any]], encoding: str) -> Path:
    if fmt == "xlsx":
        return one_sheet(path, rows, title)
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([["" if v is None else str(v) for v in row] for row in rows])
    return path


def stored(site: Path) -> tuple[dict[int, tuple[Any, ...]], int]:
    """Every item's (version, ledger head) by id, and the ledger's length, read from the database."""
    url = load_config(site.resolve()).database_url
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
        items = {row[0]: row[1:] for row in db.execute("SELECT id, version, ledger_head FROM items")}
        (ledger,) = db.execute("SELECT COUNT(*) FROM ledger").fetchone()
    return items, ledger


_SUMMARY = re.compile(r"(新增|更新|不变|未改动) (\d+) 项")
_ACTIONS = {"新增": "new", "更新": "changed", "不变": "unchanged", "未改动": "kept"}
# The place of a problem as SheetError writes it: FILE [工作表“S”] [第N行] [“C”列]：…
_PLACE = r"错误：{file}( 工作表“[^”]*”)?( 第\d+行)?( “[^”]*”列)?："


def assert_imported_whole_or_refused_untouched(run: Cli, path: Path, *args: str) -> Any:
    """Import `path`; either exactly the rows reported are written, or exit 2 with the place
    named and nothing written. The CLI result."""
    before = stored(run.site)
    result = run("import", str(path), *args, code=None)
    output = result.stdout + result.stderr
    after = stored(run.site)
    assert "Traceback" not in output
    if result.exit_code == 2:
        assert after == before, "a refused import wrote something"
        assert re.match(_PLACE.format(file=re.escape(str(path))), result.stderr), result.stderr[:500]
        assert "没有导入任何内容" in result.stderr
        return result
    assert result.exit_code == 0, (result.exit_code, output[-2000:])
    if "--json" in args:
        out = json.loads(result.stdout)
        summary = out["summary"]
        assert len(out["rows"]) == sum(summary.values())
        reported_new = {r["item_id"] for r in out["rows"] if r["action"] == "new"}
    else:
        line = [s for s in result.stdout.splitlines() if s.startswith(("已导入：", "预检："))][-1]
        summary = {a: 0 for a in _ACTIONS.values()} | {_ACTIONS[w]: int(n) for w, n in _SUMMARY.findall(line)}
        reported_new = None
    if "--dry-run" in args:
        assert after == before, "a dry run wrote something"
        return result
    items_before, ledger_before = before
    items_after, ledger_after = after
    created = items_after.keys() - items_before.keys()
    changed = {i for i in items_before if items_after.get(i) != items_before[i]}
    assert items_before.keys() <= items_after.keys()
    assert len(created) == summary["new"] and len(changed) == summary["changed"]
    assert ledger_after - ledger_before == summary["new"] + summary["changed"]
    if reported_new is not None:
        assert reported_new == created
    return result


@pytest.fixture(scope="module")
def import_site(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    directory = tmp_path_factory.mktemp("import") / "site"
    create_site(directory)
    return Cli(directory)


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")
@settings(FUZZ, max_examples=examples(120))
@given(sheet=spreadsheets(), stem=st.sampled_from(["隐患清单", "复查清单"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       options=st.lists(st.sampled_from(["--dry-run", "--json", "--kind hazard", "--kind task", "--max-rows 3"]),
                        unique=True, max_size=3))
def test_a_broken_spreadsheet_is_imported_whole_or_refused_untouched(
        import_site: Cli, tmp_path_factory: pytest.TempPathFactory, sheet: tuple[str, str, list[list[Any]]],
        stem: str, encoding: str, options: list[str]) -> None:
    fmt, title, rows = sheet
    path = _write(tmp_path_factory.getbasetemp() / f"{stem}.{fmt}", fmt, title, rows, encoding)
    args = [part for option in options for part in option.split()]
    assert_imported_whole_or_refused_untouched(import_site, path, *args)


# -- what the fuzzing found -------------------------------------------------------------


def _edit(old: str | bytes, new: str | bytes) -> Callable[[bytes], bytes]:
    """The file with the first `old` replaced by `new`."""
    def as_bytes(s: str | bytes) -> bytes:
        return s.encode() if isinstance(s, str) else s

    return lambda text: text.replace(as_bytes(old), as_bytes(new), 1)


def _at(marker: str, below: int, message: str) -> Callable[[str], str]:
    """The problem as reported for the line `below` lines under the first line holding
    `marker` in the shipped file (so the shipped file's comments may change)."""
    def expected(text: str) -> str:
        line = text[: text.index(marker)].count("\n") + 1 + below
        return f":{line}: {message}"
    return expected


# (file, how it is broken, what its problem says). Each once escaped as another exception
# (AttributeError, ValueError, RecursionError, OverflowError) or named the rules directory
# instead of the file; the first is the control.
BROKEN_RULES = [
    pytest.param("policy.yaml", _edit("", ""), None, id="control"),
    pytest.param("policy.yaml", _edit('expr: "15', 'expr: !!timestamp "15'),
                 _at('expr: "15', 0, "YAML 格式错误：无法读取的值“15个工作日内”"), id="timestamp-tag"),
    pytest.param("policy.yaml", _edit('escalate: "一般隐患督办"\n', 'escalate: "一般隐患督办"\n    priority: ' + "9" * 5000 + "\n"),
                 _at('escalate: "一般隐患督办"\n', 1, "YAML 格式错误：无法读取的值“999"), id="5000-digit-number"),
    pytest.param("policy.yaml", _edit("rules:\n", "rules:\n  - " + "[" * 400 + "]" * 400 + "\n"),
                 _at("rules:\n", 1, "YAML 格式错误：列表或键值表嵌套层次过深（最多 32 层）"), id="deep-nesting"),
    pytest.param("policy.yaml", _edit("“逾期即”", "“逾期即\x00”"), ":15: 文件中含有不允许的控制字符（#x0000）", id="nul-byte"),
    pytest.param("campaign.yaml", _edit("动员部署", "动员部署".encode()[:-1]), ":11: 文件不是 UTF-8 编码的文本",
                 id="invalid-utf8"),
    pytest.param("campaign.yaml", _edit('"2022年"', '"9999年底前"'),
                 ":14: 阶段时间“9999年底前”无法识别：超出可以计算的日期范围", id="window-9999"),
    pytest.param("campaign.yaml", _edit('"2020-08-01"', '"0001-01-01"'),
                 ":9: 日期“0001-01-01”超出可以计算的日期范围", id="reference-year-1"),
    pytest.param("policy.yaml", _edit('"逾期20个工作日"', '"逾期9999999日"'),
                 _at('"逾期20个工作日"', 0, "after“逾期9999999日”无法识别：时长过长"), id="offset-overflow"),
    pytest.param("policy.yaml", _edit('expr: "15个工作日内"', 'expr: "9999年12月30日前"'),
                 _at('expr: "15个工作日内"', 0, "规则“一般隐患”的期限“9999年12月30日前”无法识别：9999-12-30 超出可以计算的日期范围"),
                 id="deadline-9999"),
]


@pytest.mark.parametrize(("name", "breaks", "expected"), BROKEN_RULES)
def test_rule_files_that_once_escaped_as_other_exceptions(run: Cli, name: str, breaks: Callable[[bytes], bytes],
                                                          expected: str | Callable[[str], str] | None) -> None:
    path = run.site / "rules" / name
    original = path.read_bytes()
    if callable(expected):
        expected = expected(original.decode())
    path.write_bytes(breaks(original))
    assert_loaded_whole_or_refused(run.site, name)
    result = run("check", code=None)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if expected is None:
        assert result.exit_code == 0 and "站点文件校验通过" in result.stdout
        return
    assert result.exit_code == 1, output
    assert f"{path}{expected}" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("站点文件未通过校验")


@pytest.mark.parametrize("text", ["9999年底前", "9999年12月30日前", "0001年1月1日前", "3000000日内", "每99999个月"])
def test_deadlines_beyond_the_calendar_are_refused_not_overflowed(text: str) -> None:
    with pytest.raises(DeadlineError, match="超出可以计算的日期范围"):
        parse_deadline(text, START)


@pytest.mark.parametrize("text", ["逾期9999999日", "逾期36000个月", "每99999个月", "400000日前"])
def test_rule_offsets_beyond_the_calendar_are_refused_not_overflowed(text: str) -> None:
    with pytest.raises(DeadlineError, match="超出可以计算的日期范围"):
        validate_offset(text)


@pytest.mark.parametrize(("column", "value"), [
    ("整改时限", "9999年12月30日前"), ("整改时限", "3000000日内"), ("发现时间", date(1, 1, 1)),
    ("发现时间", "9999-12-31"), ("发现时间", date(1000, 1, 1)),
])
def test_dates_beyond_the_calendar_are_refused_at_their_cell(run: Cli, tmp_path: Path, column: str,
                                                            value: Any) -> None:
    """They once crashed the import with OverflowError (the 9999 deadline while planning
    its escalations, the year-1 found date while storing it)."""
    row = _hazard_row(1, [])
    row[HAZARD_HEADER.index(column)] = value
    path = hazard_list(tmp_path / "隐患清单.xlsx", [row])
    result = assert_imported_whole_or_refused_untouched(run, path)
    assert result.exit_code == 2
    assert f"{path} 工作表“隐患清单” 第2行 “{column}”列：" in result.stderr
    assert "超出可以计算的日期范围（1900年至2999年）" in result.stderr


def test_a_category_emptied_in_a_list_imported_again_is_cleared(run: Cli, tmp_path: Path) -> None:
    """It once failed with exit 1 and "来源为  的事项已经存在" (the items table has no null category)."""
    row = _hazard_row(1, [])
    path = hazard_list(tmp_path / "隐患清单.xlsx", [row])
    run("import", str(path))
    row[HAZARD_HEADER.index("类别")] = None
    path = hazard_list(tmp_path / "隐患清单.xlsx", [row])
    assert_imported_whole_or_refused_untouched(run, path, "--json")
    (item,) = json.loads(run("list", "--json").stdout)
    assert item["category"] == ""
    history = json.loads(run("show", str(item["id"]), "--json").stdout)["history"]
    assert history[-1]["event"] == "import" and history[-1]["changes"]["category"] == ["消防", ""]


def test_cells_that_look_like_markup_are_shown_as_written(run: Cli, tmp_path: Path) -> None:
    """A title "[/x]…" or a header "[/yellow]" once crashed the printed table after the
    rows were written (rich markup), leaving a traceback over a finished import."""
    row = [*_hazard_row(1, []), "备用"]
    row[HAZARD_HEADER.index("隐患名称")] = "[/x]灭火器压力不足 :fire:"
    path = hazard_list(tmp_path / "隐患清单.xlsx", [row], header=[*HAZARD_HEADER, "[/yellow]"])
    for args in (["--dry-run"], []):
        out = assert_imported_whole_or_refused_untouched(run, path, *args).stdout
        assert "[/x]灭火器" in out and ":fire:" in out and "这些列不导入：[/yellow]" in out
    assert len(json.loads(run("list", "--json").stdout)) == 1
