"""Spreadsheets in and out: import, export, stage-report."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable
from rich.text import Text

from adapters.cli.base import Context, cli, echo_json, existing_directory, handle_errors
from adapters.cli.render import console, instant, parse_time
from adapters.gcpause import gc_paused
from engine.access import require_office
from engine.deadline.dates import cn_date
from engine.errors import FileAccess, NotFound, RectifyError
from engine.importing import ACTIONS, MAX_ROWS, Importer, ImportPlan, Table
from engine.model import FIELDS
from engine.ports import Query
from engine.service import BadValue

if TYPE_CHECKING:
    from adapters.wiring import App

pass_ctx = click.make_pass_decorator(Context)


@contextmanager
def progress(enabled: bool = True) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), transient=True, console=Console(stderr=True))
    with bar:
        yield bar


def _tracked(tables: list[Table], bar: Progress | None) -> list[Table]:
    if bar is None:
        return tables

    def rows(table: Table) -> Iterator[tuple[int, Sequence[Any]]]:
        task = bar.add_task(f"读取并核对“{table.name}”", total=table.total)
        for pair in table.rows:
            bar.advance(task)
            yield pair

    return [Table(t.name, rows(t), t.total) for t in tables]


def _reference(app: App, campaign: str | None, reference: str | None) -> datetime | None:
    tz = app.config.timezone
    if reference:
        return parse_time(reference, tz, "--reference")
    rules = app.service.policies.current
    found = rules.campaign(campaign)
    if campaign and found is None:
        known = "、".join(c.name for c in rules.campaigns) or "（规则文件中没有专项行动）"
        raise NotFound("专项行动", campaign, f"已定义：{known}")
    if found is None or found.reference is None:
        return None
    return datetime.combine(found.reference, time(), tz)


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["task", "hazard"]), help="清单格式：task 任务清单，hazard 隐患清单（默认按表头判断）")
@click.option("--dry-run", is_flag=True, help="只检查并列出每一行的结果，不写入")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--actor", help="导入人（记入台账；默认：综治办负责人）")
@click.option("--campaign", help="任务清单所属的专项行动（完成时间按其参照日期理解）")
@click.option("--reference", help="完成时间的参照日期，如 2020-08-01（代替专项行动的参照日期）")
@click.option("--source", help="清单来源名称，与各行序号一起构成不重复的编号（默认：任务清单用专项行动名称，隐患清单用文件名）")
@click.option("--sheet", help="只导入这个工作表")
@click.option("--max-rows", type=int, default=MAX_ROWS, show_default=True, help="单次导入的行数上限")
@click.option("--note", help="记入每条台账记录的备注")
@pass_ctx
@handle_errors
def import_file(ctx: Context, file: Path, kind: str | None, dry_run: bool, as_json: bool, actor: str | None,
                campaign: str | None, reference: str | None, source: str | None, sheet: str | None,
                max_rows: int, note: str | None) -> None:
    """从 .xlsx 或 .csv 导入任务清单或隐患清单（全部成功才写入，重复导入不会重复创建）。"""
    app = ctx.app
    org = app.site.org
    who = require_office(org, actor, "导入清单") if actor else org.unit(org.safety_office).head
    rules = app.service.policies.current
    ref = _reference(app, campaign, reference)
    only = rules.campaign()
    sources = {"task": source or campaign or (only.name if only else file.stem), "hazard": source or file.stem}
    importer = Importer(app.service, org, rules)
    reader = importer.reader(str(file), kind=kind, reference=ref, sources=sources, max_rows=max_rows)
    from adapters.sheets import open_tables  # openpyxl: only for the commands that read sheets

    with gc_paused(), progress(not as_json) as bar, open_tables(file) as tables:
        plan = importer.plan(reader, reader.rows(_tracked(tables, bar), sheet), who, note)
    if not dry_run:
        with gc_paused():
            importer.apply(plan)
    if as_json:
        echo_json({"file": str(file), "dry_run": dry_run, "summary": {a: plan.count(a) for a in ACTIONS},
                   "warnings": plan.warnings, "rows": [o.to_json() for o in plan.outcomes]})
        return
    _print_plan(plan, dry_run)


# What the ledger records besides fields, by the words the 台账 uses.
_BASIS_TITLES = {"due": "截止日期", "overdue_at": "逾期时刻", "rule": "规则", "policy_version": "规则版本"}


def _field_title(name: str) -> str:
    spec = FIELDS.get(name)
    return spec.title if spec else _BASIS_TITLES.get(name, name)


def _print_plan(plan: ImportPlan, dry_run: bool) -> None:
    # What the sheet says is printed as Text, never read as rich markup ("[/x]" in a cell).
    for warning in plan.warnings:
        console.print(Text(f"注意：{warning}", style="yellow"))
    shown = plan.outcomes if dry_run or len(plan.outcomes) <= 200 else [o for o in plan.outcomes if o.action != "unchanged"]
    if shown:
        several = len({o.row.sheet for o in shown}) > 1
        table = RichTable(title="预检结果（未写入）" if dry_run else "导入结果")
        for title in (["工作表"] if several else []) + ["行", "编号", "结果", "标题", "责任单位", "完成时间", "说明"]:
            table.add_column(title, overflow="fold")
        for o in shown[:5000]:
            r = o.row
            detail = o.note if o.action != "new" else ""
            if o.changes:
                detail = "；".join(f"{_field_title(k)}：{v[0] or '（空）'} → {v[1] or '（空）'}"
                                  for k, v in o.changes.items())
            key = f"#{o.item_id}" if o.item_id and o.action != "new" else (r.label or "（无）")
            cells = [*([r.sheet] if several else []), str(r.row), key, ACTIONS[o.action], r.title,
                     r.unit_reading, r.deadline_reading, detail]
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)
        if len(shown) > 5000:
            console.print(f"……另有 {len(shown) - 5000} 行未列出（可用 --json 查看全部）")
    verb = "预检" if dry_run else "已导入"
    click.echo(f"{verb}：{plan.summary()}（{plan.file}）")
    if dry_run:
        click.echo("去掉 --dry-run 即正式导入（全部成功才写入）。")


@cli.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--state", multiple=True, help="按状态筛选，可重复")
@click.option("--unit", multiple=True, help="按责任单位筛选，可重复")
@click.option("--kind", multiple=True, type=click.Choice(["hazard", "task"]), help="按类型筛选，可重复")
@click.option("--at", "at", help="逾期天数和督办情况的计算时间（ISO，默认：现在）")
@pass_ctx
@handle_errors
def export_file(ctx: Context, file: Path, state: tuple[str, ...], unit: tuple[str, ...],
                kind: tuple[str, ...], at: str | None) -> None:
    """导出台账为 .xlsx（台账、历史记录、按单位汇总三张表）或 .csv（三个文件）。"""
    if file.suffix.lower() not in (".xlsx", ".csv"):
        raise BadValue("FILE", str(file), "导出文件的扩展名应为 .xlsx 或 .csv")
    existing_directory(file.absolute().parent, "导出到", file)
    app = ctx.app
    now = instant(at, app)
    org = app.site.org
    units = tuple(org.unit(u).name for u in unit)
    states = tuple(app.site.workflows.state_named(s) for s in state)
    found = app.store.query(Query(state=states, unit=units, kind=kind))
    # openpyxl is loaded by the commands that write sheets, not by every command.
    from adapters.export import ledger_export, write

    export = ledger_export(app, found, now)
    with progress() as bar:
        task = bar.add_task("导出台账", total=len(found)) if bar else None
        try:
            write(file, export, (lambda: bar.advance(task)) if bar and task is not None else None)
        except OSError as exc:
            raise FileAccess.from_os_error(exc, file, "导出到") from exc
    console.print(f"已导出 {len(found)} 项到 {file}")


@cli.command("stage-report")
@click.option("--period", required=True, help="报告期：2021Q1（季度）、2021H1（半年）、2021-03（月）或 2021（年）")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="输出目录：写入 .xlsx、邮件 .eml 和整改率图 .png")
@click.option("--send", is_flag=True, help="同时按规则文件 reports 的 send_to 发送（进入发件队列，每期只发一次）")
@click.option("--name", "report_name", help="规则文件中的报告名称（默认：第一个）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@pass_ctx
@handle_errors
def stage_report(ctx: Context, period: str, out_dir: Path, send: bool, report_name: str | None, as_json: bool) -> None:
    """生成阶段整治情况报告：按类别、等级、单位统计，整改率，逾期与挂牌督办事项。"""
    from adapters import stagereport
    from adapters.templates import Templates
    from engine.reports import parse_period

    app = ctx.app
    p = parse_period(period)
    now = app.service.clock.now()
    rules = app.service.policies.current
    spec = next((s for s in rules.reports if report_name in (None, s.name)), None)
    if report_name and spec is None:
        raise NotFound("阶段报告", report_name, "已定义：" + ("、".join(s.name for s in rules.reports) or "无"))
    if send and now < p.end_instant(app.config.timezone):
        raise RectifyError(f"{p.title}尚未结束，不能发送阶段报告（每期只发送一次，在本期结束后）；"
                           "不带 --send 可查看截至目前的情况")
    templates = Templates(app.config.templates_dir)
    report = stagereport.produce(app, p, now)
    files = _write_stage_report(app, templates, report, spec, p, now, out_dir)
    queued, unused = 0, False
    if send:
        if spec is None:
            raise NotFound("阶段报告", "（规则文件 reports）", "规则文件中没有定义阶段报告的接收对象")
        unused = not stagereport.in_use(app, p)
        queued = 0 if unused else stagereport.queue(app, templates, spec, p, now)
    if as_json:
        echo_json(_stage_report_json(report, p, files, queued))
        return
    _print_stage_report(report, p, files, app.config.timezone)
    if unused:
        console.print(f"{p.title}结束前站点尚未登记任何事项，不发送本期报告")
    elif send:
        console.print(f"已放入发件队列 {queued} 封" if queued else "本期报告此前已发送，未重复发送")


def _write_stage_report(app: Any, templates: Any, report: Any, spec: Any, p: Any, now: datetime,
                        out_dir: Path) -> list[Path]:
    """The workbook, the chart and the email as the daemon would send it, into `out_dir`."""
    from adapters import stagereport
    from adapters.mail import build_email
    from engine.mail import OutgoingMessage, Recipient
    from engine.reports import report_recipients

    rendered, chart, workbook = stagereport.render_email(templates, report, app.config.timezone)
    xlsx = out_dir / workbook.filename
    png = out_dir / (chart.filename or f"整改率-{p.key}.png")
    recipients = report_recipients(spec, app.site.org) if spec else []
    to = tuple(Recipient(name, email) for _r, name, email in recipients) or (Recipient("综治办", app.config.mail.sender),)
    message = OutgoingMessage(f"stage-report-{p.key}", rendered.subject, rendered.text, rendered.html, to,
                              attachments=(workbook,), inline_images=(chart,))
    eml = out_dir / f"阶段整治情况-{p.key}.eml"
    sender = app.config.mail.sender
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        xlsx.write_bytes(workbook.content)
        png.write_bytes(chart.content)
        eml.write_bytes(bytes(build_email(message, sender, sender.rpartition("@")[2],
                                          sender_name=app.organisation, now=now)))
    except OSError as exc:
        raise FileAccess.from_os_error(exc, out_dir, "把阶段报告写入") from exc
    return [xlsx, eml, png]


def _stage_report_json(report: Any, p: Any, files: list[Path], queued: int) -> dict[str, Any]:
    return {"period": p.key, "title": p.title, "files": [str(f) for f in files], "queued": queued,
            "partial": report.partial, "counted_to": report.counted_to.isoformat(),
            "total": _count_json(report.total), "tasks": _count_json(report.tasks),
            "by_unit": {name: _count_json(c) for name, c in report.by_unit},
            "by_category": {name: _count_json(c) for name, c in report.by_category},
            "by_level": {name: _count_json(c) for name, c in report.by_level},
            "overdue": [row.__dict__ for row in report.overdue],
            "supervised": [row.item_id for row in report.supervised]}


def _print_stage_report(report: Any, p: Any, files: list[Path], tz: Any) -> None:
    t = report.total
    so_far = f"（本期尚未结束，统计至{cn_date(report.counted_to)} {report.until.astimezone(tz):%H:%M}）" if report.until else ""
    console.print(f"{report.organisation}{p.title}{so_far}：累计发现隐患 {t.found} 项，已整改 {t.closed} 项，整改率 {t.rate_text}；"
                  f"本期新增 {t.new} 项、整改 {t.closed_in_period} 项；逾期未改 {t.overdue} 项；"
                  f"挂牌督办的重大隐患 {len(report.supervised)} 项。")
    table = RichTable(title="按单位")
    for title in ("责任单位", "累计发现", "累计整改", "逾期", "整改率"):
        table.add_column(title)
    for name, c in report.by_unit:
        table.add_row(name, str(c.found), str(c.closed), str(c.overdue), c.rate_text)
    console.print(table)
    console.print("已写入：" + "、".join(str(f) for f in files))


def _count_json(c: Any) -> dict[str, Any]:
    return {"found": c.found, "closed": c.closed, "open": c.open, "new": c.new,
            "closed_in_period": c.closed_in_period, "overdue": c.overdue, "rate": c.rate}
