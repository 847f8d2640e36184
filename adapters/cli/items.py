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
from adapters.evidence.accept import check, read_file
from adapters.present import plan_json
from adapters.unassigned import tell_office
from engine.access import may_see
from engine.errors import NotFound, Refused
from engine.evidence import Accepted
from engine.ledgerview import change_title
from engine.ledgerview import history as ledger_history
from engine.service import NewItem

pass_ctx = click.make_pass_decorator(Context)

PHOTO_HELP = "佐证文件（照片：JPEG、PNG、WebP、HEIC，或 PDF），可重复；按文件内容检查类型和大小"
_PHOTO_PATH = click.Path(path_type=Path)  # checked by read_file, with Chinese messages


def _evidence(ctx: Context, photos: tuple[Path, ...]) -> list[Accepted]:
    """The files named with --photo read and checked (all or none), nothing kept: the
    service keeps them once the event is decided allowed, within the item's file limit."""
    if not photos:
        return []
    config = ctx.app.config.evidence
    return check(config, [read_file(p, config) for p in photos])


@cli.command()
@click.option("--title", required=True, help="隐患或任务标题")
@click.option("--category", default="", help="类别，如 消防、食品安全")
@click.option("--level", default="一般", type=click.Choice(["一般", "重大"]), show_default=True)
@click.option("--unit", help="责任单位（名称或别名）")
@click.option("--location", help="位置")
@click.option("--reporter", help="报告人（须在 org.yaml 中）")
@click.option("--responsible", help="责任人")
@click.option("--found-at", help="发现时间，如 2021-05-10、2021-05-10 09:30、2021/5/10、2021年5月10日（默认：上报时间）；不能晚于上报时间")
@click.option("--at", "at", help="上报时间（默认：现在），写法同 --found-at；补录纸质记录或模拟时用")
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
           found_at: str | None, at: str | None, kind: str, workflow: str | None, deadline: str | None,
           sets: tuple[str, ...], note: str | None, photos: tuple[Path, ...], as_json: bool,
           quiet: bool) -> None:
    """登记一条隐患（或整治任务），可附照片。不写 --unit 时由综治办交办（待分派），并邮件告知综治办。"""
    extra = parse_sets(sets)
    app = ctx.app
    tz = app.config.timezone
    found = parse_time(found_at, tz, "--found-at") if found_at else None
    reported = parse_time(at, tz, "--at") if at else None
    evidence = _evidence(ctx, photos)
    item = app.service.report(NewItem(
        title=title, category=category, level=level, unit=unit, location=location,
        reporter=reporter, responsible=responsible, kind=kind, workflow=workflow,
        found_at=found, deadline=deadline, fields=extra, note=note, evidence=evidence,
    ), reported)
    told = tell_office(app, item, reported or app.service.clock.now()) if item.unit is None else 0
    data = item_json(item, app.site.workflows, tz)
    if as_json:
        echo_json({**data, "office_told": told})
        return
    if quiet:
        click.echo(str(item.id))
        return
    click.echo(f"已登记事项 {item.id}：{item.title}（{data['state_title']}，流程“{_workflow_title(ctx, item.workflow)}”）"
               + (f"；附佐证文件 {len(evidence)} 个" if evidence else ""))
    if item.unit is None:
        office = app.site.org.safety_office
        click.echo(f"未指定责任单位：由{office}交办（待分派），交办前提醒和督办都发给{office}；"
                   + (f"已通知{office}（{told} 封邮件，守护进程下一轮发出）" if told else f"{office}在 org.yaml 中没有邮箱，未能通知"))


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
    stored = app.store.get(item_id)  # an unknown item is named before any file is read
    _not_an_event(item_id, event, app.site.workflows.get_or_fail(stored.workflow).events())
    evidence = _evidence(ctx, photos)
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
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="要修改的字段，可重复，如 --set location=实训楼二层 --set deadline=2021年6月底前")
@click.option("--note", help="理由（调整时限、等级、责任单位或责任人时必填）；不带 --set 时作为备注记入台账")
@click.option("--at", "at", help="发生时间（默认：现在）")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def amend(ctx: Context, item_id: int, actor: str, sets: tuple[str, ...], note: str | None,
          at: str | None, as_json: bool) -> None:
    """在流程事件之外修改事项（更正位置、调整整改时限等）或添加备注，按流程文件的 amend 权限，记入台账。

    \b
    更正字段：rectify amend 24 --actor 郭晓明 --set location=实训楼二层东侧 --note 位置写错
    只加备注：rectify amend 24 --actor 郭晓明 --note 已电话督促责任人
    （rectify edit 与 rectify amend 相同）"""
    app = ctx.app
    tz = app.config.timezone
    when = parse_time(at, tz, "--at") if at else None
    values = parse_sets(sets)
    if not values and not (note and note.strip()):
        raise click.UsageError("请用 --set 字段=值 指定要修改的字段，或用 --note 添加备注")
    if values:
        item = app.service.amend(item_id, actor, values, note, when)
        done = f"已修改：{'、'.join(change_title(name) for name in values)}"
    else:
        item = app.service.add_note(item_id, actor, note or "", when)
        done = "已添加备注"
    data = item_json(item, app.site.workflows, tz)
    if as_json:
        echo_json(data)
    else:
        click.echo(f"事项 {item.id} {done}（状态仍为{data['state_title']}，已记入台账）")


cli.add_command(amend, name="edit")

# Words people type for changing an item outside its workflow: `fire ID edit` points
# them to `rectify amend` instead of listing the workflow's events only.
AMEND_WORDS = frozenset({"edit", "amend", "modify", "update", "note", "comment", "修改", "更正", "编辑", "备注"})


def _not_an_event(item_id: int, event: str, events: list[str]) -> None:
    if event not in events and event.strip().lower() in AMEND_WORDS:
        raise Refused(item_id, event, "这不是流程事件；在流程事件之外修改字段或添加备注，请用 "
                      f"rectify amend {item_id} --actor 姓名 --set 字段=值 [--note 理由]，"
                      f"或只加备注：rectify amend {item_id} --actor 姓名 --note 备注内容")


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
