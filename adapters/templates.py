"""Email texts from Jinja2 templates: the shipped ones in templates/, overridable per site.

A file in the site's templates/ directory with the same name as a shipped one wins.
Every template problem (a syntax error, an undefined variable, a failing expression)
is reported as a ConfigError naming the template file and line, never as a raw
Jinja exception, so `rectify check` and the daemon can tell the site what to fix.

Site templates are edited by a safety-office clerk, so every template (the site's and
the shipped ones alike) renders in Jinja2's sandbox (`SiteSandbox`): no attribute
starting with "_", no unsafe method, no changing the data a template is given, and no
range, power or repetition big enough to take the daemon's memory. A template the
sandbox refuses is a ConfigError like any other template problem.

Messages: digest (reminders and escalations), deadline_changed (a provisional deadline
counted again), admin_alert, stage_report. Templates per message, for a base name such
as "digest":
    digest.subject.j2   one line; whitespace and line breaks are collapsed afterwards
    digest.txt.j2       the plain-text body
    digest.html.j2      the HTML body (autoescaped); optional, no HTML part without it
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from adapters.resources import shipped
from engine.deadline.dates import cn_date
from engine.errors import ConfigError, Problem
from engine.mail import header_text
from engine.notices import (
    AdminAlert,
    DeadlineChange,
    Digest,
    Notice,
    StepLine,
    duty,
    kind_title,
    measure,
    provisional_note,
    role_title,
)
from engine.reports import Count, OverdueRow, StageReport, parse_period

_WHITESPACE = re.compile(r"\s+")


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the process, by template file and source
    checksum (Jinja checks it on load): a reload, a new App and every web request's
    Templates compile each template once, and an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


@dataclass(frozen=True)
class Rendered:
    subject: str  # a single line, safe for a header
    text: str
    html: str | None


class Templates:
    """The site's templates over the shipped ones; renders digests and admin alerts."""

    def __init__(self, site_dir_templates: Path | None) -> None:
        self.site_dir = site_dir_templates
        self.shipped_dir = shipped("templates")
        loaders: list[jinja2.BaseLoader] = []
        if site_dir_templates is not None and site_dir_templates.is_dir():
            loaders.append(FileSystemLoader(str(site_dir_templates), encoding="utf-8"))
        loaders.append(FileSystemLoader(str(self.shipped_dir), encoding="utf-8"))
        self.env = SiteSandbox(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=_autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=True,  # an edited site override is picked up on the next render
            bytecode_cache=COMPILED,
        )
        self.env.filters.update(cndate=_cndate, cntime=_cntime, oneline=_oneline)
        self.env.globals.update(duty=duty, role_title=role_title, kind_title=kind_title, measure=measure,
                                range=_range, step_title=step_title)
        # lipsum(n=10**6) writes megabytes of filler: no message needs it.
        self.env.globals.pop("lipsum", None)

    def digest(self, d: Digest, links: Mapping[int, str] | None = None, link_days: float = 7) -> Rendered:
        """The digest; `links` (item id -> URL) open each item for the recipient on the
        web workbench, when it has a public address."""
        given = dict(links or {})
        signed = any("/login/" in url for url in given.values())
        return self._render("digest", _digest_context(d) | {"links": given, "signed": signed,
                                                            "link_days": f"{link_days:g}"})

    def deadline_changed(self, d: DeadlineChange, link: str | None = None, link_days: float = 7) -> Rendered:
        """The deadline change; `link` opens the item for the recipient on the web
        workbench, when it has a public address."""
        return self._render("deadline_changed", _fields(d) | {"change": d, "link": link or "",
                                                              "link_days": f"{link_days:g}"})

    def admin_alert(self, a: AdminAlert) -> Rendered:
        return self._render("admin_alert", _fields(a) | {"alert": a})

    def stage_report(
        self, report: StageReport, timezone: ZoneInfo, chart_cid: str | None = None
    ) -> Rendered:
        """The stage report email; the HTML shows the chart `cid:{chart_cid}` when given."""
        return self._render("stage_report", _stage_report_context(report, timezone, chart_cid))

    def check(self) -> None:
        """Compile every template and render each message with sample data; raise one
        ConfigError listing every problem (file and line), or return None."""
        problems: list[Problem] = []
        for name in sorted(self.env.list_templates(extensions=["j2"])):
            try:
                self.env.get_template(name)
            except Exception as exc:
                problems.append(_problem(exc, self._path_of(name)))
        for render in _samples(self):
            try:
                render()
            except ConfigError as exc:
                problems += exc.problems
        unique = list(dict.fromkeys(problems))
        if unique:
            raise ConfigError(unique)

    # -- internals -------------------------------------------------------------------

    def _render(self, base: str, context: dict[str, Any]) -> Rendered:
        subject = self._render_one(f"{base}.subject.j2", context)
        text = self._render_one(f"{base}.txt.j2", context)
        html = self._render_one(f"{base}.html.j2", context, optional=True)
        assert subject is not None and text is not None
        return Rendered(_one_line(subject), text, html)

    def shipped_names(self) -> list[str]:
        return sorted(p.name for p in self.shipped_dir.glob("*.j2"))

    def overrides(self) -> list[str]:
        """The site's own template files, shipped name or not."""
        if self.site_dir is None or not self.site_dir.is_dir():
            return []
        return sorted(p.name for p in self.site_dir.glob("*.j2"))

    def _path_of(self, name: str) -> str:
        """The file a template name loads from: the site's override, else the shipped one."""
        for directory in (self.site_dir, self.shipped_dir):
            if directory is not None and (directory / name).is_file():
                return str(directory / name)
        return name

    def _render_one(
        self, name: str, context: dict[str, Any], optional: bool = False
    ) -> str | None:
        try:
            template = self.env.get_template(name)
        except TemplateNotFound as exc:
            if exc.name == name:
                if optional:
                    return None
                raise ConfigError.single(
                    name, None, f"找不到模板“{name}”（站点和随程序提供的模板目录中都没有）"
                ) from None
            raise ConfigError([_problem(exc, self._path_of(name))]) from None
        except Exception as exc:
            raise ConfigError([_problem(exc, self._path_of(name))]) from None
        try:
            return template.render(context)
        except Exception as exc:
            where = _template_frame(exc.__traceback__)
            if where is None and not isinstance(exc, TemplateError):
                raise  # a bug in rectify, not in the template
            raise ConfigError([_problem(exc, template.filename or name)]) from None


# What the sandbox lets a template build: longest range(), longest repeated text or
# list, largest power.
MAX_RANGE = 10_000
MAX_REPEAT = 100_000
MAX_POWER_BITS = 4_096


class TemplateRefused(SecurityError):
    """The sandbox refused something a template asked for; the message is Chinese."""


class SiteSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, also refusing `*` and `**` whose results would be huge
    ("x" * 10**9, 10**10**10): a template cannot stall or exhaust the daemon that way."""

    intercepted_binops = frozenset(["*", "**"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._safe: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Jinja2's answer, remembered per (type, attribute): it depends on nothing else
        (the name, and what kind of object it is: internal, a known mutable), and a digest
        of a thousand steps asks it a hundred thousand times."""
        key = (type(obj), attr)
        found = self._safe.get(key)
        if found is None:
            found = self._safe[key] = super().is_safe_attribute(obj, attr, value)
        return found

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _huge_power(left, right):
            raise TemplateRefused(f"模板被拒绝：乘方 {_short(left)} ** {_short(right)} 的结果过大")
        if operator == "*" and _huge_repeat(left, right):
            raise TemplateRefused(f"模板被拒绝：重复后的文字或列表超过 {MAX_REPEAT} 个")
        return super().call_binop(context, operator, left, right)


def _huge_power(base: Any, exponent: Any) -> bool:
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 1 or abs(base) <= 1:
        return False
    return base.bit_length() * exponent > MAX_POWER_BITS


def _huge_repeat(left: Any, right: Any) -> bool:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and not isinstance(times, bool):
            return len(seq) * times > MAX_REPEAT
    return False


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 20 else text[:20] + "…"


def _range(*args: int) -> range:
    """range() for templates, refused beyond MAX_RANGE numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateRefused(f"模板被拒绝：range() 最多 {MAX_RANGE} 个数，这里要 {len(numbers)} 个")
    return numbers


_UNSAFE_ATTRIBUTE = re.compile(r"attribute '([^']{1,60})'")


def _refusal(exc: SecurityError) -> str:
    """The sandbox's refusal in Chinese: ours say it already, Jinja's name the attribute."""
    if isinstance(exc, TemplateRefused):
        return str(exc)
    found = _UNSAFE_ATTRIBUTE.search(str(exc))
    what = f"“{found.group(1)}”" if found else "的属性或方法"
    return (f"模板被拒绝：不允许访问{what}（模板中不能使用以下划线开头的属性、不安全的方法，"
            "也不能修改传入的数据），未渲染")


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith(".html.j2")


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _digest_context(d: Digest) -> dict[str, Any]:
    # One entry per item (engine.digests); an entry built by hand without its steps
    # lists itself.
    notices = tuple(n if n.steps else dataclasses.replace(n, steps=(_line(n),)) for n in d.notices)
    office = d.office or None
    return _fields(d) | {
        "digest": d,
        "notices": notices,
        # The safety office by the name org.yaml gives it, in roles and duties.
        "role_title": lambda role, unit=None: role_title(role, unit, office),
        "duty": lambda notice: duty(notice, office),
        # The subject's counts are the entries' counts.
        "item_count": len({n.item_id for n in notices}),
        "overdue_count": len({n.item_id for n in notices if n.step_kind in ("escalate", "overdue")}),
        "late": any(s.late for n in notices for s in n.steps),
    }


def _line(n: Notice) -> StepLine:
    return StepLine(n.step_kind, n.action, n.step_label, n.at, n.late, n.repeats, n.first_at)


def step_title(kind: str, action: str) -> str:
    """How a step is headed in a digest: 整改提醒, 逾期督办·通报, 已逾期, 延期申请 …"""
    if kind == "escalate":
        return "逾期督办" if action == "提醒" else f"逾期督办·{action}"
    if kind == "overdue":
        return "已逾期"
    if kind == "extension":
        return action
    return "整改提醒"


def _stage_report_context(
    report: StageReport, timezone: ZoneInfo, chart_cid: str | None
) -> dict[str, Any]:
    return _fields(report) | {
        "report": report,
        "supervised": report.supervised,
        "timezone": timezone,
        "chart_cid": chart_cid,
        "counted_to": report.counted_to,
        "partial": report.partial,
        # The email lists at most this many overdue items; the workbook has them all.
        "overdue_limit": 50,
    }


def _one_line(subject: str) -> str:
    """No line breaks, control or format characters, runs of whitespace as one space."""
    return _WHITESPACE.sub(" ", header_text(subject)).strip()


# -- filters -------------------------------------------------------------------------


def _local(context: jinja2.runtime.Context, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"时间应带时区：{value.isoformat()}")
    tz = context.get("timezone")
    return value.astimezone(tz) if isinstance(tz, ZoneInfo) else value


@jinja2.pass_context
def _cndate(context: jinja2.runtime.Context, value: date | datetime | None) -> str:
    """2021年3月4日; a datetime is first converted to the message's timezone."""
    if value is None:
        return "未设定"
    if isinstance(value, datetime):
        value = _local(context, value)
    return cn_date(value)


@jinja2.pass_context
def _cntime(context: jinja2.runtime.Context, value: datetime | None) -> str:
    """2021年3月4日 09:00 in the message's timezone."""
    if value is None:
        return "未设定"
    local = _local(context, value)
    return f"{cn_date(local)} {local:%H:%M}"


def _oneline(value: object) -> str:
    """User text (a title, a location) on one line: it cannot fake lines of the email."""
    return _WHITESPACE.sub(" ", header_text(str(value))).strip()


# -- errors --------------------------------------------------------------------------


def _template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """The innermost template file and line in a traceback Jinja has rewritten."""
    found = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _problem(exc: BaseException, name: str) -> Problem:
    """A template exception as `file:line: 中文说明`."""
    if isinstance(exc, TemplateSyntaxError):
        return Problem(exc.filename or exc.name or name, exc.lineno, f"模板语法错误：{exc.message}")
    where = _template_frame(exc.__traceback__)
    file, line = where if where else (name, None)
    if isinstance(exc, SecurityError):
        message = _refusal(exc)
    elif isinstance(exc, UndefinedError):
        message = f"模板使用了未定义的变量或属性：{exc.message}"
    elif isinstance(exc, TemplateNotFound):
        message = f"找不到模板“{exc.name}”"
    elif isinstance(exc, UnicodeDecodeError):
        message = "模板文件不是 UTF-8 编码的文本"
    elif isinstance(exc, TemplateError):
        message = f"模板错误：{exc.message or exc}"
    else:
        message = f"模板渲染出错：{type(exc).__name__}: {exc}"
    return Problem(file, line, message)


# -- sample data for check() ---------------------------------------------------------


def _samples(templates: Templates) -> Iterator[Callable[[], Rendered]]:
    """Renders that exercise every branch of the shipped templates: one reminder,
    one late escalation, several notices, a provisional deadline, two deadline changes
    (exact, still provisional), an admin alert, and two stage reports."""
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2021, 3, 8, 1, 0, tzinfo=UTC)
    remind = Notice(
        item_id=1, title="示例隐患：走廊灭火器过期", kind="hazard", category="消防安全",
        level="一般", unit="总务处", location="教学楼一层", state_title="整改中",
        due=date(2021, 3, 10), overdue_at=datetime(2021, 3, 10, 16, 0, tzinfo=UTC),
        step_kind="remind", action="提醒", step_label="3日前", at=now, days_overdue=0,
        late=False, role="responsible", others=(),
    )
    escalate = Notice(
        item_id=2, title="示例任务：月度安全检查", kind="task", category="安全检查",
        level="重大", unit=None, location=None, state_title="待整改", due=None,
        overdue_at=now - timedelta(days=3), step_kind="escalate", action="通报",
        step_label="逾期3个工作日", at=now - timedelta(days=1), days_overdue=2, late=True,
        role="unit_head", others=("示例分管校领导", "安全办"),
    )

    def digest(*notices: Notice, links: dict[int, str] | None = None) -> Callable[[], Rendered]:
        return lambda: templates.digest(Digest("示例学校", "示例老师", "teacher@example.org", notices, now, tz), links)

    provisional = dataclasses.replace(remind, due=date(2027, 1, 8), provisional=True,
                                      provisional_note=provisional_note([2027]))
    yield from (digest(remind), digest(escalate), digest(remind, escalate), digest(provisional),
                *(digest(extension, escalate) for extension in _sample_extensions(remind)))
    yield digest(remind, escalate, links={1: "https://example.org/login/d.1", 2: "https://example.org/login/d.2"})
    yield from (digest(entry) for entry in _sample_entries(remind, escalate))

    def changed(still: bool) -> Callable[[], Rendered]:
        return lambda: templates.deadline_changed(DeadlineChange(
            "示例学校", "示例老师", "teacher@example.org", "responsible", 1, "示例隐患：走廊灭火器过期",
            "hazard", "消防安全", "一般", "总务处" if still else None, None, "整改中", date(2027, 1, 8),
            date(2027, 1, 11), datetime(2027, 1, 8, 16, 0, tzinfo=UTC), datetime(2027, 1, 11, 16, 0, tzinfo=UTC),
            still, ("2027年节假日安排已加入日历，期限重新计算，仍为暂定（2028年安排尚未公布）" if still
                   else "2027年节假日安排已加入日历，期限由暂定改为确定"), provisional_note([2028]) if still else "",
            now, tz))

    yield changed(False)
    yield changed(True)
    yield lambda: templates.admin_alert(AdminAlert(
        "示例学校", "admin@example.org", "规则修改未生效，继续按版本 000000000000 运行",
        ("rules/示例.yaml:3: 示例问题",), now, tz,
    ))
    yield lambda: templates.stage_report(_sample_stage_report(now), tz, "chart-rate@rectify")
    yield lambda: templates.stage_report(_sample_stage_report(now, empty=True), tz)


def _sample_entries(remind: Notice, escalate: Notice) -> tuple[Notice, ...]:
    """An entry listing several steps (an expired reminder, a merged repeating rung), and
    one for reminders delivered after the deadline with no escalation (已逾期)."""
    day = timedelta(days=1)
    expired = StepLine("remind", "提醒", "3日前", remind.at - 2 * day, False, expired=True)
    rung = StepLine("escalate", "通报", "每3个工作日", escalate.at, True, repeats=2, first_at=escalate.at - 3 * day)
    return (dataclasses.replace(escalate, steps=(expired, rung)),
            dataclasses.replace(remind, step_kind="overdue", action="已逾期", days_overdue=1, steps=(expired,)))


def _sample_extensions(remind: Notice) -> tuple[Notice, ...]:
    """An extension request as its approver reads it, and its answer as the requester does."""
    asked = dataclasses.replace(remind, step_kind="extension", action="延期申请",
                                step_label="示例责任人申请延期至2021年3月20日：材料未到货", role="safety_office")
    return asked, dataclasses.replace(asked, action="同意延期", step_label="示例审批人同意延期至2021年3月20日",
                                      role="requester")


def _sample_stage_report(now: datetime, empty: bool = False) -> StageReport:
    """A quarter with one unit, an overdue major hazard under 挂牌督办, an overdue task
    with no unit, deadline or escalation, and a note; or a quarter with nothing in it."""
    period = parse_period("2021Q1")
    if empty:
        return StageReport("示例学校", period, now, Count(), [], [], [], Count(), [])
    count = Count(found=4, closed=3, new=2, closed_in_period=1, overdue=1)
    row = OverdueRow(
        item_id=3, kind="hazard", title="示例隐患：围墙开裂", unit="总务处", level="重大",
        category="校舍安全", state_title="整改中", due=date(2021, 3, 1), days_overdue=20,
        escalation="挂牌督办", supervised=True,
    )
    unassigned = OverdueRow(
        item_id=4, kind="task", title="示例任务：消防演练", unit="", level="一般",
        category="安全检查", state_title="待整改", due=None, days_overdue=2, escalation="",
        supervised=False,
    )
    return StageReport(
        "示例学校", period, now, count, [("校舍安全", count)], [("重大", count)],
        [("总务处", count)], Count(found=1, closed=1, new=1, closed_in_period=1), [row, unassigned],
        notes=["示例说明"],
    )
