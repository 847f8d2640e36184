"""Spreadsheets in and out: import, export, stage-report."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.render import console, parse_time
from adapters.sheets import open_tables
from engine.errors import NotFound
from engine.importing import ACTIONS, Importer, ImportPlan, Table

pass_ctx = click.make_pass_decorator(Context)


@contextmanager
def progress(label: str, enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), transient=True, console=_stderr_console())
    with bar:
        yield bar


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _tracked(tables: list[Table], bar: Progress | None) -> list[Table]:
    if bar is None:
        return tables

    def rows(table: Table) -> Iterator[tuple[int, Sequence[Any]]]:
        task = bar.add_task(f"读取“{table.name}”", total=table.total)
        for pair in table.rows:
            bar.advance(task)
            yield pair

    return [Table(t.name, rows(t), t.total) for t in tables]


def _reference(app: Any, campaign: str | None, reference: str | None) -> datetime | None:
    tz = app.config.timezone
    if reference:
        return parse_time(reference, tz, "--reference")
    rules = app.engine.policies.current
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
@click.option("--max-rows", type=int, default=200_000, show_default=True, help="单次导入的行数上限")
@click.option("--note", help="记入每条台账记录的备注")
@pass_ctx
@handle_errors
def import_file(ctx: Context, file: Path, kind: str | None, dry_run: bool, as_json: bool, actor: str | None,
                campaign: str | None, reference: str | None, source: str | None, sheet: str | None,
                max_rows: int, note: str | None) -> None:
    """从 .xlsx 或 .csv 导入任务清单或隐患清单（全部成功才写入，重复导入不会重复创建）。"""
    app = ctx.app
    org = app.policy.org
    who = org.person(actor).name if actor else org.unit(org.safety_office).head
    rules = app.engine.policies.current
    ref = _reference(app, campaign, reference)
    scope = source or (campaign or (rules.campaign().name if rules.campaign() else None) if kind != "hazard" else None)
    importer = Importer(app.engine, org, rules)
    reader = importer.reader(str(file), kind=kind, reference=ref, source=scope or file.stem, max_rows=max_rows)
    with progress("导入", not as_json) as bar, open_tables(file) as tables:
        rows = reader.read(_tracked(tables, bar), sheet)
    plan = importer.plan(reader, rows, who, note)
    if not dry_run:
        importer.apply(plan)
    if as_json:
        echo_json({"file": str(file), "dry_run": dry_run, "summary": {a: plan.count(a) for a in ACTIONS},
                   "warnings": plan.warnings, "rows": [o.to_json() for o in plan.outcomes]})
        return
    _print_plan(plan, dry_run)


def _print_plan(plan: ImportPlan, dry_run: bool) -> None:
    for warning in plan.warnings:
        console.print(f"[yellow]注意：{warning}[/yellow]")
    shown = plan.outcomes if dry_run or len(plan.outcomes) <= 200 else [o for o in plan.outcomes if o.action != "unchanged"]
    if shown:
        table = RichTable(title="预检结果（未写入）" if dry_run else "导入结果")
        for title in ("工作表", "行", "结果", "编号", "标题", "责任单位", "完成时间", "说明"):
            table.add_column(title)
        for o in shown[:5000]:
            r = o.row
            detail = o.note or ("；".join(f"{k}：{v[0]} → {v[1]}" for k, v in o.changes.items()) if o.changes else "")
            table.add_row(r.sheet, str(r.row), ACTIONS[o.action], str(o.item_id or ""), r.title,
                          r.unit_reading, r.deadline_reading, detail)
        console.print(table)
        if len(shown) > 5000:
            console.print(f"……另有 {len(shown) - 5000} 行未列出（可用 --json 查看全部）")
    verb = "预检" if dry_run else "已导入"
    console.print(f"{verb} {plan.file}：{plan.summary()}")
    if dry_run:
        console.print("去掉 --dry-run 即正式导入（全部成功才写入）。")
