"""Commands on items: report, fire, amend, show, list."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.base import Context, cli, echo_json, handle_errors
from adapters.cli.itemview import show_item
from adapters.cli.render import (
    attachments_json,
    history_json,
    item_json,
    parse_sets,
    parse_time,
    show_attachments,
)
from adapters.evidence.accept import read_file, take
from adapters.present import plan_json
from engine.access import may_see
from engine.errors import NotFound
from engine.evidence import Attachment
from engine.ledgerview import change_title
from engine.ledgerview import history as ledger_history
from engine.service import NewItem

pass_ctx = click.make_pass_decorator(Context)

PHOTO_HELP = "佐证文件（照片：JPEG、PNG、WebP、HEIC，或 PDF），可重复；按文件内容检查类型和大小"
_PHOTO_PATH = click.Path(path_type=Path)  # checked by read_file, with Chinese messages


def _evidence(ctx: Context, photos: tuple[Path, ...], item_id: int | None = None) -> list[Attachment]:
    """The files named with --photo checked and kept in the site's evidence store (all or
    none), within the item's file limit."""
    if not photos:
        return []
    app = ctx.app
    config = app.config.evidence
    already = len(app.store.attachments(item_id)) if item_id is not None else 0
    return take(app.evidence, config, [read_file(p, config) for p in photos], already)


@cli.command()
@click.option("--title", required=True, help="隐患或任务标题")
@click.option("--category", default="", help="类别，如 消防、食品安全")
@click.option("--level", default="一般", type=click.Choice(["一般", "重大"]), show_default=True)
@click.option("--unit", help="责任单位（名称或别名）")
@click.option("--location", help="位置")
@click.option("--reporter", help="报告人（须在 org.yaml 中）")
@click.option("--responsible", help="责任人")
@click.option("--found-at", help="发现时间，ISO 格式（默认：现在）")
@click.option("--kind", default="hazard", type=click.Choice(["hazard", "task"]), show_default=True)
@click.option("--workflow", help="指定流程（默认：重大隐患用 major_hazard）")
@click.option("--deadline", help="整改时限，如 “7个工作日内”")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="其他字段，可重复")
@click.option("--note", help="备注")
@click.option("--photo", "photos", multiple=True, type=_PHOTO_PATH, metavar="FILE", help=PHOTO_HELP)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("-q", "--quiet", is_flag=True, help="只输出新事项的编号（便于在脚本中使用：ID=$(rectify report … -q)）")
@pass_ctx
@handle_errors
def report(ctx: Context, title: str, category: str, level: str, unit: str | None,
           location: str | None, reporter: str | None, responsible: str | None,
           found_at: str | None, kind: str, workflow: str | None, deadline: str | None,
           sets: tuple[str, ...], note: str | None, photos: tuple[Path, ...], as_json: bool,
           quiet: bool) -> None:
    """登记一条隐患（或整治任务），可附照片。"""
    extra = parse_sets(sets)
    app = ctx.app
    tz = app.config.timezone
    when = parse_time(found_at, tz, "--found-at") if found_at else None
    evidence = _evidence(ctx, photos)
    item = app.service.report(NewItem(
        title=title, category=category, level=level, unit=unit, location=location,
        reporter=reporter, responsible=responsible, kind=kind, workflow=workflow,
        found_at=when, deadline=deadline, fields=extra, note=note, evidence=evidence,
    ))
    data = item_json(item, app.site.workflows, tz)
    if as_json:
        echo_json(data)
    elif quiet:
        click.echo(str(item.id))
    else:
        click.echo(f"已登记事项 {item.id}：{item.title}（{data['state_title']}，流程“{_workflow_title(ctx, item.workflow)}”）"
                   + (f"；附佐证文件 {len(evidence)} 个" if evidence else ""))


@cli.command()
@click.argument("item_id", type=int)
@click.argument("event")
@click.option("--actor", required=True, help="操作人（须在 org.yaml 中）")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="同时设置的字段，可重复")
@click.option("--note", help="备注")
@click.option("--at", "at", help="发生时间，ISO 格式（默认：现在）")
@click.option("--photo", "photos", multiple=True, type=_PHOTO_PATH, metavar="FILE", help=PHOTO_HELP)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def fire(ctx: Context, item_id: int, event: str, actor: str, sets: tuple[str, ...],
         note: str | None, at: str | None, photos: tuple[Path, ...], as_json: bool) -> None:
    """对事项执行流程事件，如 assign、start、verify、close；可附照片作为佐证。"""
    app = ctx.app
    tz = app.config.timezone
    values = parse_sets(sets)
    when = parse_time(at, tz, "--at") if at else None
    app.store.get(item_id)  # an unknown item is named before any file is read
    evidence = _evidence(ctx, photos, item_id)
    item = app.service.fire(item_id, event, actor, values, note, when, evidence)
    data = item_json(item, app.site.workflows, tz)
    if as_json:
        echo_json(data)
    else:
        click.echo(f"事项 {item.id} 已{_event_title(ctx, item.workflow, event)}，当前状态：{data['state_title']}"
                   + (f"；附佐证文件 {len(evidence)} 个" if evidence else ""))


@cli.command()
@click.argument("item_id", type=int)
@click.option("--actor", required=True, help="操作人（须在 org.yaml 中）")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", required=True,
              help="要修改的字段，可重复，如 --set deadline=2021年6月底前")
@click.option("--note", help="理由（调整时限、等级、责任单位或责任人时必填）")
@click.option("--at", "at", help="发生时间，ISO 格式（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def amend(ctx: Context, item_id: int, actor: str, sets: tuple[str, ...], note: str | None,
          at: str | None, as_json: bool) -> None:
    """在流程事件之外修改事项（更正位置、调整整改时限等），按流程文件的 amend 权限，记入台账。"""
    app = ctx.app
    tz = app.config.timezone
    when = parse_time(at, tz, "--at") if at else None
    item = app.service.amend(item_id, actor, parse_sets(sets), note, when)
    data = item_json(item, app.site.workflows, tz)
    if as_json:
        echo_json(data)
    else:
        changed = "、".join(change_title(name) for name in parse_sets(sets))
        click.echo(f"事项 {item.id} 已修改：{changed}（状态仍为{data['state_title']}）")


@cli.command()
@click.argument("item_id", type=int)
@click.option("--as", "viewer", metavar="NAME", help="以此人的权限查看：无权查看的事项按不存在处理")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def show(ctx: Context, item_id: int, viewer: str | None, as_json: bool) -> None:
    """显示事项的全部字段和历史记录。"""
    app = ctx.app
    tz = app.config.timezone
    item = app.store.get(item_id)
    if viewer and not may_see(app.site.org, viewer, item):
        raise NotFound("事项", item_id, f"或 {app.site.org.person(viewer).name} 无权查看")
    data = item_json(item, app.site.workflows, tz)
    entries = app.store.history(item_id)
    data.update(plan_json(app.plan_for(item), item, app, app.service.clock.now()))
    files = attachments_json(app.store.attachments(item_id), tz)
    requests = [e.to_json(tz) for e in app.service.extensions(item_id)]
    if as_json:
        echo_json({**data, "history": history_json(entries, tz), "attachments": files, "extensions": requests})
    else:
        show_item(data, ledger_history(entries, app.site.workflows, item.workflow, tz), requests,
                  _workflow_title(ctx, item.workflow), tz)
        show_attachments(files, tz)


def _event_title(ctx: Context, workflow: str, event: str) -> str:
    """“交办”, as the workflow calls the event typed (by its name or its title)."""
    wf = ctx.app.site.workflows.get(workflow)
    titles = [t.title for t in (wf.transitions if wf else ()) if event in (t.event, t.title)]
    return f"执行“{titles[0]}”" if titles else f"执行“{event}”"


def _workflow_title(ctx: Context, name: str) -> str:
    wf = ctx.app.site.workflows.get(name)
    return wf.title if wf is not None else name
